/**
 * The validation entry point the gateway, the policy engine and the CLI share: DER in, a verdict out, with
 * a bounded result cache.
 *
 * Contract: no I/O, no clock (`now` is passed in); one instance per isolate. Results are cached under the
 * presented certificates (leaf, then chain: their exact bytes, or their SHA-256 above EXACT_KEY_MAX_BYTES) + the
 * trust material version + the options, in an LRU bounded
 * by entries (RESULT_CACHE_ENTRIES) and by its estimate of the bytes they hold (RESULT_CACHE_BYTES). A positive entry never outlives the earliest notAfter in its path nor the earliest nextUpdate of the
 * CRLs it used; a negative entry lives NEGATIVE_TTL_MS. An entry is used only for times at or after the time
 * it was computed for (a validation "in the past", as the CLI's --at allows, is never served from the cache).
 */
import { concatBytes, equalBytes } from "../bytes";
import { parseCertificate, type ParsedCertificate } from "../cert/parse";
import { certError, type CertError } from "../errors";
import { MAX_PRESENTED_CHAIN } from "../limits";
import { err, type Result } from "../result";
import { sha256Hex } from "./crypto";
import type { StoredCertificate, TrustMaterial } from "./trust-material";
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
  /** The trust material version and the options key: with `presented`, what the entry is for. */
  readonly scope: string;
  /** Copies of the presented DERs (leaf first), or the SHA-256 of their concatenation when larger (PresentedId). */
  readonly presented: PresentedId;
  readonly verdict: Verdict;
  /** For an invalid result: the leaf DER to parse again on a hit (the verdict's `leaf` is then null). */
  readonly leafDer: Uint8Array | null;
  readonly from: number;
  readonly until: number;
  readonly bytes: number;
}

export class CertificateVerifier {
  /**
   * Keyed by a seeded 32-bit hash of scope + presented bytes, each entry holding what it was for: a hit compares
   * them exactly, and a different presentation with the same hash replaces the entry (a miss, never a wrong hit).
   * Not by a string of the DER's base64, as before: V8 internalizes a string looked up in a Map, and for a
   * never-seen ~700-character key that cost ≈ 2% of a cold request's workerd CPU (perf: Runtime_InternalizeString
   * under Map.prototype.get).
   */
  private readonly cache = new Map<number, Entry>();
  /** Seeds the key hash (set on first use: Workers give no random values at module scope). */
  private seed = 0;
  /** Per trust material version: its certificates by bytesHash of their DER (storedCertificate). */
  private readonly storedByBytes = new WeakMap<TrustMaterial, Map<number, StoredCertificate[]>>();
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
    // A hit must be for the presented DERs exactly or collision-resistantly — a weak key would let a crafted
    // certificate hit another's verdict. Small inputs (every usual leaf + chain) are compared byte for byte
    // with the entry's copies (no digest, no async hop); larger ones by one SHA-256 over the DERs
    // (self-delimiting, so the concatenation is unambiguous). The Map key is only a hash that finds the
    // entry to compare (hashKey). Measured in workerd for a 1.2 KB leaf: digest 7–10 µs with its await.
    if (this.seed === 0) this.seed = crypto.getRandomValues(new Uint32Array(1))[0]! | 1;
    const scope = `${material.version}|${validationOptionsKey(options)}`;
    let digest: string | null = null;
    let presented: PresentedId;
    if (presentedBytes(leaf, chain) <= EXACT_KEY_MAX_BYTES) presented = { ders: [leaf, ...chain] };
    else {
      digest = await sha256Hex(chain.length === 0 ? leaf : concatBytes([leaf, ...chain]));
      presented = { digest };
    }
    const key = hashKey(this.seed, scope, presented);
    const t = now.getTime();
    const hit = this.cache.get(key);
    if (hit) {
      if (hit.scope === scope && samePresented(hit.presented, presented) && t >= hit.from && t < hit.until) {
        this.cache.delete(key);
        this.cache.set(key, hit);
        if (hit.leafDer === null) return { ...hit.verdict, cached: true };
        const leaf = parseCertificate(hit.leafDer);
        return { ...hit.verdict, leaf: leaf.ok ? leaf.value : null, cached: true };
      }
      // Expired, or another presentation with the same hash: this one takes its place.
      this.remove(key, hit);
    }
    const leafSha256 = chain.length === 0 && digest !== null ? digest : await sha256Hex(leaf);
    const verdict = await this.compute(material, leaf, leafSha256, chain, now, options);
    // The cache keeps its own copies: the caller's arrays may be views of a larger buffer it reuses.
    const kept: PresentedId = "ders" in presented ? { ders: presented.ders.map((d) => d.slice()) } : presented;
    this.store(key, scope, kept, verdict, t);
    return verdict;
  }

  private async compute(material: TrustMaterial, leafDer: Uint8Array, leafSha256: string, chain: readonly Uint8Array[],
    now: Date, options?: ValidationOptions): Promise<Verdict> {
    const known = material.bySha256.get(leafSha256);
    const leaf = known ? { ok: true as const, value: known.cert } : parseCertificate(leafDer);
    if (!leaf.ok) return { result: leaf, leaf: null, leafSha256, cached: false };
    const presented: ParsedCertificate[] = [];
    for (const [i, der] of chain.entries()) {
      const stored = this.storedCertificate(material, der);
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

  /**
   * The store's certificate with exactly these bytes, if any: presented intermediates are usually the store's
   * own, and finding them by bytes (a hash index built once per material) spares a SHA-256 per presented
   * certificate on every new chain (bench:verify: ≈ 9 µs of a 3-certificate cold validation).
   */
  private storedCertificate(material: TrustMaterial, der: Uint8Array): StoredCertificate | undefined {
    let index = this.storedByBytes.get(material);
    if (!index) {
      index = new Map();
      for (const stored of material.bySha256.values()) {
        const h = bytesHash(stored.cert.der);
        const bucket = index.get(h);
        if (bucket) bucket.push(stored);
        else index.set(h, [stored]);
      }
      this.storedByBytes.set(material, index);
    }
    return index.get(bytesHash(der))?.find((s) => sameDer(s.cert.der, der));
  }

  private store(key: number, scope: string, presented: PresentedId, verdict: Verdict, t: number): void {
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
      scope,
      presented,
      verdict: valid || !verdict.leaf ? verdict : { ...verdict, leaf: null },
      leafDer,
      from: t,
      until,
      bytes: entryBytes(scope, presented, verdict, leafDer),
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

  private remove(key: number, entry: Entry): void {
    if (this.cache.delete(key)) this.held -= entry.bytes;
  }
}

/**
 * Estimated bytes of one entry, calibrated with `npm run bench:memory`: the key (the scope string, one byte per
 * character, and the presented bytes' copies or digest), and for a valid result the parsed leaf at
 * PARSED_BYTES_PER_DER_BYTE per DER byte plus a fixed part (path references, strings); an invalid result holds the
 * DER copy and its error.
 */
function entryBytes(scope: string, presented: PresentedId, verdict: Verdict, leafDer: Uint8Array | null): number {
  const key = scope.length + ("ders" in presented ? presented.ders.reduce((n, d) => n + d.length + 64, 0) : presented.digest.length);
  if (leafDer) return key + leafDer.length + 1600;
  const der = verdict.leaf?.der.length ?? 0;
  return key + der * PARSED_BYTES_PER_DER_BYTE + 2048;
}

/** Heap per DER byte of a parsed leaf kept in a valid entry (measured: see entryBytes). */
const PARSED_BYTES_PER_DER_BYTE = 4;


/**
 * Presented DERs up to this many bytes in all are kept (copied) as their own key: 5,000 entries × at most 4 KiB
 * stay near 20 MB; larger presentations are keyed by their SHA-256.
 */
const EXACT_KEY_MAX_BYTES = 4096;

/** What a cache entry was computed for: the presented DERs themselves (leaf first), or the SHA-256 of them all. */
type PresentedId = { readonly ders: readonly Uint8Array[] } | { readonly digest: string };

function presentedBytes(leaf: Uint8Array, chain: readonly Uint8Array[]): number {
  let n = leaf.length;
  for (const c of chain) n += c.length;
  return n;
}

/**
 * workerd's native byte comparison (crypto.subtle.timingSafeEqual, a Workers extension; equal lengths only), else
 * the JS loop: a hit compares the whole presented chain, and natively that is several times faster.
 */
const nativeEqual = (crypto.subtle as unknown as { timingSafeEqual?: (a: ArrayBufferView, b: ArrayBufferView) => boolean }).timingSafeEqual?.bind(crypto.subtle);

function sameDer(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return nativeEqual ? nativeEqual(a, b) : equalBytes(a, b);
}

function samePresented(a: PresentedId, b: PresentedId): boolean {
  if ("digest" in a || "digest" in b) return "digest" in a && "digest" in b && a.digest === b.digest;
  if (a.ders.length !== b.ders.length) return false;
  for (let i = 0; i < a.ders.length; i++) if (!sameDer(a.ders[i]!, b.ders[i]!)) return false;
  return true;
}

/**
 * The cache's 32-bit key: FNV-1a over the scope's characters, then each DER's length and last bytes (hashDer; or
 * the digest's characters), from a per-isolate random seed. Collisions are harmless (entries compare what they
 * were for): a miss that replaces the entry, never another presentation's verdict.
 */
/**
 * How many bytes at the end of a DER the hashes read. A certificate ends with its signature — different for every
 * certificate an issuer signs — so its last bytes spread the entries as well as all its bytes would, at a fixed
 * cost: hashing whole DERs byte by byte in JS made a cache hit slower than the base64 string key it replaced
 * (bench:verify A/B in one workerd: cached 17 against 12 µs for a leaf + intermediate). Equal tails are only a
 * shared slot: entries are compared byte for byte, so the worst a crafted certificate can do is evict another
 * one's entry (which costs that client one validation).
 */
const HASHED_TAIL_BYTES = 48;

/** FNV-1a over the length and the last HASHED_TAIL_BYTES of a DER, from `h`. */
function hashDer(h: number, der: Uint8Array): number {
  h = Math.imul(h ^ der.length, 0x01000193);
  for (let i = Math.max(0, der.length - HASHED_TAIL_BYTES); i < der.length; i++) h = Math.imul(h ^ der[i]!, 0x01000193);
  return h;
}

/** The index of store certificates by their DER (buckets compare bytes exactly). */
function bytesHash(der: Uint8Array): number {
  return hashDer(0x811c9dc5, der) >>> 0;
}

function hashKey(seed: number, scope: string, presented: PresentedId): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < scope.length; i++) h = Math.imul(h ^ scope.charCodeAt(i), 0x01000193);
  if ("digest" in presented) {
    for (let i = 0; i < presented.digest.length; i++) h = Math.imul(h ^ presented.digest.charCodeAt(i), 0x01000193);
    return h >>> 0;
  }
  for (const d of presented.ders) h = hashDer(h, d);
  return h >>> 0;
}
