/**
 * The validation entry point the gateway, the policy engine and the CLI share: DER in, a verdict out, with
 * a bounded result cache.
 *
 * Contract: no I/O, no clock (`now` is passed in); one instance per isolate. Results are cached under
 * SHA-256 of the presented certificates (leaf, then chain) + the trust material version + the options, in an LRU bounded
 * by entries (RESULT_CACHE_ENTRIES) and by its estimate of the bytes they hold (RESULT_CACHE_BYTES). A positive entry never outlives the earliest notAfter in its path nor the earliest nextUpdate of the
 * CRLs it used; a negative entry lives NEGATIVE_TTL_MS. An entry is used only for times at or after the time
 * it was computed for (a validation "in the past", as the CLI's --at allows, is never served from the cache).
 */
import { encodeBase64, HAS_NATIVE_BASE64 } from "../cert/decode";
import { parseCertificate, type ParsedCertificate } from "../cert/parse";
import { certError, type CertError } from "../errors";
import { MAX_PRESENTED_CHAIN } from "../limits";
import { err, type Result } from "../result";
import { sha256Hex } from "./crypto";
import type { TrustMaterial } from "./trust-material";
import { validatePath, validationOptionsKey, type ValidatedPath, type ValidationOptions } from "./validate";

/** Most entries in the result cache (each also counts against RESULT_CACHE_BYTES). */
export const RESULT_CACHE_ENTRIES = 5000;
/**
 * Most bytes the result cache may hold, by its own estimate (entryBytes): a quarter of a Workers isolate's
 * 128 MB, leaving the rest to trust material, policies and requests in flight. Measured with
 * `npm run bench:memory` (Node 22, --expose-gc): the estimate is calibrated to stay above what is retained.
 */
export const RESULT_CACHE_BYTES = 32 * 1024 * 1024;
/** How long a negative result is reused: long enough to absorb a retry storm, short enough that a fixed store or CRL takes effect quickly. */
export const NEGATIVE_TTL_MS = 10_000;

export interface Verdict {
  readonly result: Result<ValidatedPath, CertError>;
  /** The parsed leaf, when it parsed (policies and logs need its facts even when validation failed). */
  readonly leaf: ParsedCertificate | null;
  readonly leafSha256: string;
  readonly cached: boolean;
}

/**
 * A cached result. A valid one keeps its verdict (the path, the parsed leaf). An invalid one keeps only what a hit
 * needs to answer: the error and the leaf's DER, parsed again on a hit (no signature work) — parsed leaves with
 * thousands of names are what an attacker with self-made certificates would otherwise fill the cache with.
 */
interface Entry {
  readonly verdict: Verdict;
  /** For an invalid result: the leaf DER to parse again on a hit (the verdict's `leaf` is then null). */
  readonly leafDer: Uint8Array | null;
  readonly from: number;
  readonly until: number;
  readonly bytes: number;
}

export class CertificateVerifier {
  private readonly cache = new Map<string, Entry>();
  private held = 0;

  constructor(private readonly capacity = RESULT_CACHE_ENTRIES, private readonly byteCapacity = RESULT_CACHE_BYTES) {}

  /** Number of cached results (for tests and stats). */
  get size(): number {
    return this.cache.size;
  }

  /** The cache's estimate of the bytes it holds (entryBytes summed). */
  get bytes(): number {
    return this.held;
  }

  clear(): void {
    this.cache.clear();
    this.held = 0;
  }

  /**
   * Validates `leaf` with the untrusted `chain` (leaf excluded) against `material` at `now`.
   * Presented certificates already in the store are not parsed again.
   */
  async verify(material: TrustMaterial, leaf: Uint8Array, chain: readonly Uint8Array[], now: Date, options?: ValidationOptions): Promise<Verdict> {
    if (chain.length > MAX_PRESENTED_CHAIN) {
      return {
        result: err(certError("bundle_too_many_certificates", "The presented chain has more certificates than allowed.",
          { count: chain.length, limit: MAX_PRESENTED_CHAIN })),
        leaf: null, leafSha256: await sha256Hex(leaf), cached: false,
      };
    }
    // The key must identify the presented DERs exactly or collision-resistantly — a weak key would let a
    // crafted certificate hit another's verdict. Small inputs (every usual leaf + chain) are keyed by their
    // exact bytes as native base64 (no digest, no async hop); larger ones by one SHA-256 over the DERs
    // (self-delimiting, so the concatenation is unambiguous). Measured in workerd for a 1.2 KB leaf:
    // native base64 under 1 µs; digest 7–10 µs with its await; a byte-exact string built in JS 27–83 µs.
    const exact = exactKey(leaf, chain);
    const digest = exact === null ? await sha256Hex(chain.length === 0 ? leaf : concat(leaf, chain)) : null;
    const key = `${material.version}|${validationOptionsKey(options)}|${exact ?? `h:${digest}`}`;
    const t = now.getTime();
    const hit = this.cache.get(key);
    if (hit) {
      if (t >= hit.from && t < hit.until) {
        this.cache.delete(key);
        this.cache.set(key, hit);
        if (hit.leafDer === null) return { ...hit.verdict, cached: true };
        const leaf = parseCertificate(hit.leafDer);
        return { ...hit.verdict, leaf: leaf.ok ? leaf.value : null, cached: true };
      }
      this.remove(key, hit);
    }
    const leafSha256 = chain.length === 0 && digest !== null ? digest : await sha256Hex(leaf);
    const chainHashes: string[] = [];
    for (const der of chain) chainHashes.push(await sha256Hex(der));
    const verdict = await this.compute(material, leaf, leafSha256, chain, chainHashes, now, options);
    this.store(key, verdict, t);
    return verdict;
  }

  private async compute(material: TrustMaterial, leafDer: Uint8Array, leafSha256: string, chain: readonly Uint8Array[],
    chainHashes: readonly string[], now: Date, options?: ValidationOptions): Promise<Verdict> {
    const known = material.bySha256.get(leafSha256);
    const leaf = known ? { ok: true as const, value: known.cert } : parseCertificate(leafDer);
    if (!leaf.ok) return { result: leaf, leaf: null, leafSha256, cached: false };
    const presented: ParsedCertificate[] = [];
    for (const [i, der] of chain.entries()) {
      const stored = material.bySha256.get(chainHashes[i]!);
      if (stored) {
        presented.push(stored.cert);
        continue;
      }
      const parsed = parseCertificate(der);
      if (!parsed.ok) {
        return { result: err({ ...parsed.error, context: { ...parsed.error.context, chainIndex: i + 1 } }), leaf: leaf.value, leafSha256, cached: false };
      }
      presented.push(parsed.value);
    }
    const result = await validatePath({ leaf: leaf.value, presented, material, now, options });
    return { result, leaf: leaf.value, leafSha256, cached: false };
  }

  private store(key: string, verdict: Verdict, t: number): void {
    let until: number;
    if (verdict.result.ok) {
      until = verdict.result.value.notAfter.getTime() + 1;
      const crl = verdict.result.value.crlNextUpdate;
      if (crl) until = Math.min(until, crl.getTime() + 1);
    } else {
      until = t + NEGATIVE_TTL_MS;
      const nb = verdict.result.error.code === "certificate_not_yet_valid" ? verdict.result.error.context?.notBefore : undefined;
      if (typeof nb === "string") until = Math.min(until, Date.parse(nb));
    }
    if (until <= t) return;
    const valid = verdict.result.ok;
    const leafDer = !valid && verdict.leaf ? verdict.leaf.der.slice() : null;
    const entry: Entry = {
      verdict: valid || !verdict.leaf ? verdict : { ...verdict, leaf: null },
      leafDer,
      from: t,
      until,
      bytes: entryBytes(key, verdict, leafDer),
    };
    if (entry.bytes > this.byteCapacity) return;
    this.cache.set(key, entry);
    this.held += entry.bytes;
    while (this.cache.size > this.capacity || this.held > this.byteCapacity) {
      const oldest = this.cache.entries().next().value;
      if (oldest === undefined) break;
      this.remove(oldest[0], oldest[1]);
    }
  }

  private remove(key: string, entry: Entry): void {
    if (this.cache.delete(key)) this.held -= entry.bytes;
  }
}

/**
 * Estimated bytes of one entry, calibrated with `npm run bench:memory`: the key (one byte per character), and for a
 * valid result the parsed leaf at PARSED_BYTES_PER_DER_BYTE per DER byte plus a fixed part (path references,
 * strings); an invalid result holds the DER copy and its error.
 */
function entryBytes(key: string, verdict: Verdict, leafDer: Uint8Array | null): number {
  if (leafDer) return key.length + leafDer.length + 1600;
  const der = verdict.leaf?.der.length ?? 0;
  return key.length + der * PARSED_BYTES_PER_DER_BYTE + 2048;
}

/** Heap per DER byte of a parsed leaf kept in a valid entry (measured: see entryBytes). */
const PARSED_BYTES_PER_DER_BYTE = 4;

function concat(first: Uint8Array, rest: readonly Uint8Array[]): Uint8Array {
  let n = first.length;
  for (const r of rest) n += r.length;
  const out = new Uint8Array(n);
  out.set(first, 0);
  let at = first.length;
  for (const r of rest) {
    out.set(r, at);
    at += r.length;
  }
  return out;
}

/**
 * Presented DERs up to this many bytes in all are keyed by their exact base64: 5,000 entries × at most
 * 5.5 KB of key stay near 27 MB; larger presentations are keyed by a digest.
 */
const EXACT_KEY_MAX_BYTES = 4096;

/** The exact key of small presented DERs ("b:" + base64 of each, comma-joined), or null (too large, or no native base64). */
function exactKey(leaf: Uint8Array, chain: readonly Uint8Array[]): string | null {
  if (!HAS_NATIVE_BASE64) return null;
  let n = leaf.length;
  for (const c of chain) n += c.length;
  if (n > EXACT_KEY_MAX_BYTES) return null;
  let key = `b:${encodeBase64(leaf)}`;
  for (const c of chain) key += `,${encodeBase64(c)}`;
  return key;
}

