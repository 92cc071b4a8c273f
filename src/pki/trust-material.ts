/**
 * Trust material prepared for validation: anchors, store intermediates, CRLs and registered self-signed
 * certificates, parsed once and indexed by subject name.
 *
 * Contract: pure (inputs are DER bytes; no KV, no clock). Preparation is the expensive, leaf-independent
 * work — parsing, hashing and (lazily, on first use) importing public keys — done once per store version and
 * shared by every validation against that version (STYLE: compile once, evaluate per request). A bundle that
 * does not parse fails preparation as a whole: a half-loaded store would silently trust less or more.
 */
import { toHex } from "../bytes";
import { parseCertificate, parseCrl, type ParsedCertificate, type ParsedCrl } from "../cert/parse";
import { certError, type CertError } from "../errors";
import { MAX_STORE_CERTIFICATES } from "../limits";
import { err, ok, type Result } from "../result";
import { sha256Hex } from "./crypto";

/** A certificate with its SHA-256 (lowercase hex), computed once. */
export interface StoredCertificate {
  readonly cert: ParsedCertificate;
  readonly sha256: string;
}

export interface TrustMaterial {
  /** Opaque version label (KV version, file hash…); part of every cache key. */
  readonly version: string;
  readonly anchors: ReadonlyMap<string, readonly StoredCertificate[]>;
  readonly intermediates: ReadonlyMap<string, readonly StoredCertificate[]>;
  /** Every store certificate by SHA-256, so a presented certificate that is already known is not re-parsed. */
  readonly bySha256: ReadonlyMap<string, StoredCertificate>;
  /** The store's parsed certificates themselves (their signature checks are remembered, pki/crypto.ts). */
  readonly certificates: ReadonlySet<ParsedCertificate>;
  /** CRLs by issuer name key. */
  readonly crls: ReadonlyMap<string, readonly ParsedCrl[]>;
  /** SHA-256 of self-signed certificates registered to be accepted as leaves. */
  readonly registeredSelfSigned: ReadonlySet<string>;
  readonly anchorCount: number;
  readonly intermediateCount: number;
  readonly crlCount: number;
}

export interface TrustMaterialInput {
  readonly version: string;
  readonly anchors: readonly Uint8Array[];
  readonly intermediates?: readonly Uint8Array[];
  readonly crls?: readonly Uint8Array[];
  /** Self-signed certificates that may be presented as leaves (pinned, RFC 6125-style). */
  readonly registeredSelfSigned?: readonly Uint8Array[];
}

/** Parses and indexes trust material. Errors name the item that failed (`anchors[3]`). */
export async function prepareTrustMaterial(input: TrustMaterialInput): Promise<Result<TrustMaterial, CertError>> {
  const total = input.anchors.length + (input.intermediates?.length ?? 0);
  if (total > MAX_STORE_CERTIFICATES) {
    return err(certError("bundle_too_many_certificates", "The trust store holds more certificates than allowed.",
      { count: total, limit: MAX_STORE_CERTIFICATES }));
  }
  const bySha256 = new Map<string, StoredCertificate>();
  const load = async (list: readonly Uint8Array[] | undefined, what: string) => {
    const index = new Map<string, StoredCertificate[]>();
    for (const [i, der] of (list ?? []).entries()) {
      const parsed = parseCertificate(der);
      if (!parsed.ok) return err({ ...parsed.error, context: { ...parsed.error.context, item: `${what}[${i}]` } });
      const sha256 = await sha256Hex(der);
      if (bySha256.has(sha256)) continue; // the same certificate twice (or as anchor and intermediate): first wins
      const stored = { cert: parsed.value, sha256 };
      bySha256.set(sha256, stored);
      const bucket = index.get(parsed.value.subjectKey);
      if (bucket) bucket.push(stored);
      else index.set(parsed.value.subjectKey, [stored]);
    }
    return ok(index);
  };
  const anchors = await load(input.anchors, "anchors");
  if (!anchors.ok) return anchors;
  const intermediates = await load(input.intermediates, "intermediates");
  if (!intermediates.ok) return intermediates;
  const crls = new Map<string, ParsedCrl[]>();
  for (const [i, der] of (input.crls ?? []).entries()) {
    const parsed = parseCrl(der);
    if (!parsed.ok) return err({ ...parsed.error, context: { ...parsed.error.context, item: `crls[${i}]` } });
    const bucket = crls.get(parsed.value.issuerKey);
    if (bucket) bucket.push(parsed.value);
    else crls.set(parsed.value.issuerKey, [parsed.value]);
  }
  const registered = new Set<string>();
  for (const der of input.registeredSelfSigned ?? []) registered.add(await sha256Hex(der));
  return ok({
    version: input.version,
    anchors: anchors.value,
    intermediates: intermediates.value,
    bySha256,
    certificates: new Set([...bySha256.values()].map((s) => s.cert)),
    crls,
    registeredSelfSigned: registered,
    anchorCount: [...anchors.value.values()].reduce((n, l) => n + l.length, 0),
    intermediateCount: [...intermediates.value.values()].reduce((n, l) => n + l.length, 0),
    crlCount: input.crls?.length ?? 0,
  });
}

/** Key-identifier fingerprint used to tell same-name CAs apart (uppercase hex), or null. */
export function keyId(bytes: Uint8Array | undefined | null): string | null {
  return bytes ? toHex(bytes) : null;
}
