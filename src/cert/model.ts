/**
 * The certificate model: the facts policies, logs, forwarded headers and the CLI see.
 *
 * Contract: pure (WebCrypto digests only), computed once per parsed certificate (WeakMap cache; the verifier
 * and the trust store keep one parsed object per DER, so this is once per DER). Formats:
 * - `thumbprint`: SHA-1 of the DER, uppercase hex (Azure API Management / .NET `Thumbprint`);
 * - `sha256`: SHA-256 of the DER, lowercase hex (Cloudflare `certFingerprintSHA256`, Envoy `Hash`);
 * - `serialNumber`: uppercase big-endian hex of the DER INTEGER, leading 00 kept (.NET `SerialNumber`,
 *   Cloudflare `certSerial`);
 * - names in the three renderings of cert/dn.ts; SKI/AKI uppercase hex; dates ISO 8601 UTC;
 * - IP SANs as dotted IPv4 or RFC 5952 IPv6.
 */
import { signatureAlgorithmName, sha1HexUpper, sha256Hex } from "../pki/crypto";
import { commonName, renderName, type NameRenderings } from "./dn";
import { toHex } from "../bytes";
import { KEY_USAGE_BITS, type ParsedCertificate } from "./parse";

export interface CertificateModel {
  readonly version: number;
  readonly thumbprint: string;
  readonly sha256: string;
  readonly serialNumber: string;
  readonly subject: NameRenderings;
  readonly issuer: NameRenderings;
  readonly commonName: string | null;
  readonly subjectAltNames: {
    readonly dns: readonly string[];
    readonly uri: readonly string[];
    readonly email: readonly string[];
    readonly ip: readonly string[];
  };
  readonly subjectKeyIdentifier: string | null;
  readonly authorityKeyIdentifier: string | null;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly publicKey: { readonly algorithm: string; readonly bits: number; readonly curve: string | null };
  readonly signatureAlgorithm: string;
  readonly keyUsage: readonly string[] | null;
  readonly extendedKeyUsage: readonly string[] | null;
  readonly basicConstraints: { readonly ca: boolean; readonly pathLen: number | null } | null;
  readonly selfIssued: boolean;
}

const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

const CURVE_NAMES: Record<string, string> = {
  "1.2.840.10045.3.1.7": "P-256",
  "1.3.132.0.34": "P-384",
  "1.3.132.0.35": "P-521",
};

const models = new WeakMap<ParsedCertificate, Promise<CertificateModel>>();

/**
 * The model of a parsed certificate (cached per parsed object). `sha256`: the DER's SHA-256 when the caller
 * already has it (the verifier computed the leaf's), saving a digest.
 */
export function describeCertificate(cert: ParsedCertificate, sha256?: string): Promise<CertificateModel> {
  let m = models.get(cert);
  if (!m) {
    m = buildModel(cert, sha256);
    models.set(cert, m);
  }
  return m;
}

async function buildModel(cert: ParsedCertificate, knownSha256: string | undefined): Promise<CertificateModel> {
  const [thumbprint, sha256] = await Promise.all([sha1HexUpper(cert.der), knownSha256 ?? sha256Hex(cert.der)]);
  const san = { dns: [] as string[], uri: [] as string[], email: [] as string[], ip: [] as string[] };
  for (const n of cert.extensions.subjectAltName ?? []) {
    if (n.type === "dns") san.dns.push(n.value);
    else if (n.type === "uri") san.uri.push(n.value);
    else if (n.type === "email") san.email.push(n.value);
    else if (n.type === "ip") san.ip.push(formatIp(n.bytes));
  }
  const ku = cert.extensions.keyUsage;
  const bc = cert.extensions.basicConstraints;
  return {
    version: cert.version,
    thumbprint,
    sha256,
    serialNumber: cert.serialNumber,
    subject: renderName(cert.subject),
    issuer: renderName(cert.issuer),
    commonName: commonName(cert.subject),
    subjectAltNames: san,
    subjectKeyIdentifier: cert.extensions.subjectKeyIdentifier ? toHex(cert.extensions.subjectKeyIdentifier) : null,
    authorityKeyIdentifier: cert.extensions.authorityKeyIdentifier ? toHex(cert.extensions.authorityKeyIdentifier) : null,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
    publicKey: {
      algorithm: cert.publicKey.algorithm,
      bits: cert.publicKey.bits,
      curve: cert.publicKey.curve ? CURVE_NAMES[cert.publicKey.curve] ?? cert.publicKey.curve : null,
    },
    signatureAlgorithm: signatureAlgorithmName(cert.signature.algorithm),
    keyUsage: ku === undefined ? null : KEY_USAGE_BITS.filter((_, i) => (ku & (1 << i)) !== 0),
    extendedKeyUsage: cert.extensions.extKeyUsage ? cert.extensions.extKeyUsage.map((o) => EKU_NAMES[o] ?? o) : null,
    basicConstraints: bc ? { ca: bc.ca, pathLen: bc.pathLen } : null,
    selfIssued: cert.selfIssued,
  };
}

/** Dotted IPv4, or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return [...b].join(".");
  if (b.length !== 16) return toHex(b);
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLen).join(":")}`;
}
