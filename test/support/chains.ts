/**
 * Chain-building shortcuts for the conformance suite, on top of scripts/pki/builder.ts.
 * Test material only. Runs in workerd and Node.
 */
import * as pkijs from "pkijs";
import {
  issueCertificate, issueCrl, pooledKeyPair, useWebCrypto,
  type BuiltCertificate, type CertificateSpec, type CrlSpec, type KeyAlgorithm,
} from "../../scripts/pki/builder";
import { parseCertificate, type ParsedCertificate } from "../../src/cert/parse";
import { prepareTrustMaterial, type TrustMaterial } from "../../src/pki/trust-material";
import { validatePath, type ValidationOptions } from "../../src/pki/validate";

export const NOW = new Date("2026-06-01T12:00:00Z");
export const DAY = 86_400_000;
export const PAST = new Date(NOW.getTime() - 365 * DAY);
export const FUTURE = new Date(NOW.getTime() + 365 * DAY);

let slot = 0;
/** A distinct pooled key (keys are reused across test files of one run, never within one chain). */
export function freshKey(alg: KeyAlgorithm = "p-256") {
  return pooledKeyPair(alg, slot++);
}

/** A certificate spec whose key and validity may be left to the defaults. */
export type Spec = Omit<CertificateSpec, "key" | "notBefore" | "notAfter"> & { key?: CertificateSpec["key"]; notBefore?: Date; notAfter?: Date };

/** Issues a certificate with defaults: fresh key, valid PAST..FUTURE. */
export async function cert(spec: Spec, alg: KeyAlgorithm = "p-256"): Promise<BuiltCertificate> {
  return issueCertificate({
    notBefore: PAST,
    notAfter: FUTURE,
    ...spec,
    key: spec.key ?? (await freshKey(alg)),
  } as CertificateSpec);
}

export function root(name: string, alg: KeyAlgorithm = "p-256", ext: CertificateSpec["extensions"] = {}): Promise<BuiltCertificate> {
  return cert({ subject: `CN=${name}`, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] }, ...ext } }, alg);
}

export function ca(name: string, issuer: BuiltCertificate, alg: KeyAlgorithm = "p-256", ext: CertificateSpec["extensions"] = {}, more: Partial<Omit<Spec, "issuer">> = {}): Promise<BuiltCertificate> {
  return cert({ subject: `CN=${name}`, issuer, ...more, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] }, ...ext } }, alg);
}

export function leaf(name: string, issuer: BuiltCertificate, alg: KeyAlgorithm = "p-256", ext: CertificateSpec["extensions"] = {}, more: Partial<Omit<Spec, "issuer">> = {}): Promise<BuiltCertificate> {
  return cert({ subject: `CN=${name}`, issuer, ...more, extensions: { keyUsage: { usages: ["digitalSignature"] }, extKeyUsage: { oids: ["clientAuth"] }, ...ext } }, alg);
}

export function crl(spec: Omit<CrlSpec, "thisUpdate"> & { thisUpdate?: Date }) {
  return issueCrl({ thisUpdate: new Date(NOW.getTime() - DAY), nextUpdate: new Date(NOW.getTime() + 7 * DAY), ...spec });
}

export function parsed(c: BuiltCertificate | Uint8Array): ParsedCertificate {
  const r = parseCertificate(c instanceof Uint8Array ? c : c.der);
  if (!r.ok) throw new Error(`test certificate does not parse: ${r.error.detail}`);
  return r.value;
}

export async function material(opts: { anchors: BuiltCertificate[]; intermediates?: BuiltCertificate[]; crls?: Uint8Array[]; registered?: BuiltCertificate[]; version?: string }): Promise<TrustMaterial> {
  const r = await prepareTrustMaterial({
    version: opts.version ?? "test",
    anchors: opts.anchors.map((c) => c.der),
    intermediates: (opts.intermediates ?? []).map((c) => c.der),
    crls: opts.crls ?? [],
    registeredSelfSigned: (opts.registered ?? []).map((c) => c.der),
  });
  if (!r.ok) throw new Error(`test material does not load: ${r.error.detail}`);
  return r.value;
}

/** Validates and returns the error code, or "ok". */
export async function verdict(
  leafCert: BuiltCertificate | Uint8Array,
  presented: Array<BuiltCertificate | Uint8Array>,
  m: TrustMaterial,
  options: ValidationOptions = {},
  now: Date = NOW,
): Promise<string> {
  const r = await validatePath({ leaf: parsed(leafCert), presented: presented.map(parsed), material: m, now, options });
  return r.ok ? "ok" : r.error.code;
}

/**
 * Plain pkijs, used as users of the library use it: CertificateChainValidationEngine with the trusted roots,
 * the untrusted certificates in `certs` and the CRLs. `certs` order is the caller's: pkijs treats the LAST one
 * as the end entity. Returns true when pkijs accepts.
 */
export async function plainPkijsAccepts(opts: { trusted: Uint8Array[]; certs: Uint8Array[]; crls?: Uint8Array[]; now?: Date }): Promise<boolean> {
  useWebCrypto();
  const engine = new pkijs.CertificateChainValidationEngine({
    trustedCerts: opts.trusted.map((d) => pkijs.Certificate.fromBER(d)),
    certs: opts.certs.map((d) => pkijs.Certificate.fromBER(d)),
    crls: (opts.crls ?? []).map((d) => pkijs.CertificateRevocationList.fromBER(d)),
    checkDate: opts.now ?? NOW,
  });
  try {
    const r = await engine.verify();
    return r.result === true;
  } catch {
    return false;
  }
}
