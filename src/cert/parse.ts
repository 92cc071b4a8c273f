/**
 * DER → the parsed facts of a certificate or CRL that validation and the model need.
 *
 * Contract: pure (no I/O, no clock), never throws — malformed input is `certificate_malformed` /
 * `crl_malformed`. This file and pki/crypto.ts are the only places that touch pkijs/asn1js objects;
 * everything downstream sees the plain structures defined here, so the library can be replaced and its
 * quirks stay here (pkijs reports a bad extension value through `parsingError` instead of throwing, and
 * decodes IssuingDistributionPoint.onlySomeReasons from the wrong byte — we decode that one ourselves).
 *
 * Parsing is lazy where it pays: the TBS and signature are sliced once; extension values are decoded
 * here because every validation needs them, but nothing renders names (see cert/model.ts for that).
 */
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import { certError, type CertError } from "../errors";
import { MAX_CERTIFICATE_BYTES, MAX_CRL_BYTES } from "../limits";
import { err, ok, type Result } from "../result";
import { nameKey } from "./dn";

/** OIDs certgate processes. */
export const OID = {
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  issuerAltName: "2.5.29.18",
  nameConstraints: "2.5.29.30",
  certificatePolicies: "2.5.29.32",
  anyPolicy: "2.5.29.32.0",
  policyMappings: "2.5.29.33",
  policyConstraints: "2.5.29.36",
  inhibitAnyPolicy: "2.5.29.54",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  crlDistributionPoints: "2.5.29.31",
  freshestCrl: "2.5.29.46",
  authorityInfoAccess: "1.3.6.1.5.5.7.1.1",
  subjectInfoAccess: "1.3.6.1.5.5.7.1.11",
  sctList: "1.3.6.1.4.1.11129.2.4.2",
  crlNumber: "2.5.29.20",
  deltaCrlIndicator: "2.5.29.27",
  issuingDistributionPoint: "2.5.29.28",
  crlReason: "2.5.29.21",
  invalidityDate: "2.5.29.24",
  certificateIssuer: "2.5.29.29",
  ekuClientAuth: "1.3.6.1.5.5.7.3.2",
  ekuAny: "2.5.29.37.0",
  emailAddress: "1.2.840.113549.1.9.1",
} as const;

/**
 * Certificate extensions certgate understands, so a critical one is not "unknown" (RFC 5280 §4.2: a
 * critical extension that is not recognized must cause rejection). AIA, SIA, CRL DP and freshestCRL are
 * informational for path validation; accepting them as recognized matches OpenSSL's supported list.
 */
const RECOGNIZED_CERT_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.basicConstraints, OID.keyUsage, OID.extKeyUsage, OID.subjectAltName, OID.issuerAltName,
  OID.nameConstraints, OID.certificatePolicies, OID.policyMappings, OID.policyConstraints,
  OID.inhibitAnyPolicy, OID.subjectKeyIdentifier, OID.authorityKeyIdentifier, OID.crlDistributionPoints,
  OID.freshestCrl, OID.authorityInfoAccess, OID.subjectInfoAccess, OID.sctList,
]);

/** CRL extensions certgate processes (RFC 5280 §5.2); any other critical one makes the CRL unusable. */
const RECOGNIZED_CRL_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.authorityKeyIdentifier, OID.issuerAltName, OID.crlNumber, OID.deltaCrlIndicator,
  OID.issuingDistributionPoint, OID.freshestCrl, OID.authorityInfoAccess,
]);

/** CRL entry extensions certgate processes (RFC 5280 §5.3). */
const RECOGNIZED_CRL_ENTRY_EXTENSIONS: ReadonlySet<string> = new Set([
  OID.crlReason, OID.invalidityDate, OID.certificateIssuer,
]);

/** A GeneralName (RFC 5280 §4.2.1.6) in plain data. */
export type GeneralName =
  | { readonly type: "dns"; readonly value: string }
  | { readonly type: "email"; readonly value: string }
  | { readonly type: "uri"; readonly value: string }
  | { readonly type: "ip"; readonly bytes: Uint8Array }
  | { readonly type: "dirName"; readonly key: string; readonly name: pkijs.RelativeDistinguishedNames }
  | { readonly type: "other"; readonly tag: number };

/** KeyUsage bits, numbered as in RFC 5280 §4.2.1.3. */
export const KEY_USAGE_BITS = [
  "digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement",
  "keyCertSign", "cRLSign", "encipherOnly", "decipherOnly",
] as const;
export type KeyUsageName = (typeof KEY_USAGE_BITS)[number];

/** Revocation reasons, by their CRLReason code (RFC 5280 §5.3.1); code 7 is unused. */
export const REVOCATION_REASONS = [
  "unspecified", "keyCompromise", "cACompromise", "affiliationChanged", "superseded",
  "cessationOfOperation", "certificateHold", "", "removeFromCRL", "privilegeWithdrawn", "aACompromise",
] as const;

/** A distribution point (RFC 5280 §4.2.1.13) as plain data. */
export interface DistributionPoint {
  /** fullName general names, or null when absent or given as nameRelativeToCRLIssuer. */
  readonly fullName: readonly GeneralName[] | null;
  /** True when the point is named relative to the CRL issuer (rare; matched conservatively). */
  readonly relativeName: boolean;
  /** ReasonFlags bit mask (bit n = reason code n), or null for all reasons. */
  readonly reasons: number | null;
  readonly crlIssuer: readonly GeneralName[] | null;
}

export interface PublicKeyInfo {
  /** "RSA" | "EC" | "Ed25519" | "Ed448" | other OID. */
  readonly algorithm: string;
  /** RSA modulus bits, EC field bits, 256 for Ed25519; 0 when unknown. */
  readonly bits: number;
  /** Named curve OID for EC keys. */
  readonly curve: string | null;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
}

export interface SignatureInfo {
  /** Signature algorithm OID (outer signatureAlgorithm). */
  readonly algorithm: string;
  /** DER of the algorithm parameters (RSASSA-PSS), or null. */
  readonly params: Uint8Array | null;
  /** The signature BIT STRING contents. */
  readonly value: Uint8Array;
  /** The signed bytes. */
  readonly signed: Uint8Array;
}

/** Decoded certificate extensions; `undefined` = absent. */
export interface CertificateExtensions {
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen: number | null; readonly critical: boolean };
  /** Bit mask over KEY_USAGE_BITS (bit i = KEY_USAGE_BITS[i]). */
  readonly keyUsage?: number;
  readonly extKeyUsage?: readonly string[];
  readonly subjectAltName?: readonly GeneralName[];
  readonly nameConstraints?: {
    readonly permitted: readonly GeneralName[] | null;
    readonly excluded: readonly GeneralName[] | null;
  };
  readonly certificatePolicies?: readonly string[];
  readonly policyMappings?: ReadonlyArray<readonly [issuerDomain: string, subjectDomain: string]>;
  readonly policyConstraints?: { readonly requireExplicitPolicy: number | null; readonly inhibitPolicyMapping: number | null };
  readonly inhibitAnyPolicy?: number;
  readonly subjectKeyIdentifier?: Uint8Array;
  readonly authorityKeyIdentifier?: Uint8Array;
  readonly crlDistributionPoints?: readonly DistributionPoint[];
  readonly freshestCrl?: readonly DistributionPoint[];
  /** OIDs of critical extensions certgate does not process. */
  readonly unknownCritical: readonly string[];
}

/** A certificate as parsed from untrusted bytes: nothing here is verified. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly version: number;
  /** Uppercase hex of the serial's DER content octets, leading 00 kept (.NET SerialNumber). */
  readonly serialNumber: string;
  readonly subject: pkijs.RelativeDistinguishedNames;
  readonly issuer: pkijs.RelativeDistinguishedNames;
  /** Canonical comparison keys of subject and issuer (cert/dn.ts nameKey). */
  readonly subjectKey: string;
  readonly issuerKey: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: PublicKeyInfo;
  readonly signature: SignatureInfo;
  readonly extensions: CertificateExtensions;
  /** Subject and issuer names are equal (RFC 5280 §6.1: self-issued). */
  readonly selfIssued: boolean;
  /** Subject emailAddress attribute values (name constraints on rfc822Name apply to them, RFC 5280 §4.2.1.10). */
  readonly subjectEmails: readonly string[];
}

/** A revoked-certificate entry of a CRL. */
export interface CrlEntry {
  readonly serialNumber: string;
  readonly revocationDate: Date;
  /** CRLReason code, or null when absent. */
  readonly reason: number | null;
  /** certificateIssuer extension (indirect CRLs), as name keys; null when absent. */
  readonly certificateIssuer: readonly string[] | null;
  readonly unknownCritical: readonly string[];
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  readonly issuer: pkijs.RelativeDistinguishedNames;
  readonly issuerKey: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly signature: SignatureInfo;
  readonly crlNumber: bigint | null;
  /** BaseCRLNumber when this is a delta CRL (RFC 5280 §5.2.4). */
  readonly deltaBase: bigint | null;
  readonly authorityKeyIdentifier: Uint8Array | null;
  readonly issuingDistributionPoint: {
    readonly fullName: readonly GeneralName[] | null;
    readonly relativeName: boolean;
    readonly onlyContainsUserCerts: boolean;
    readonly onlyContainsCACerts: boolean;
    readonly onlyContainsAttributeCerts: boolean;
    /** ReasonFlags mask, null = all reasons. */
    readonly onlySomeReasons: number | null;
    readonly indirectCrl: boolean;
  } | null;
  readonly entries: readonly CrlEntry[];
  readonly unknownCritical: readonly string[];
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0").toUpperCase());

/** Uppercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX[b];
  return s;
}

class Malformed extends Error {}

/** Parses a certificate. Never throws. */
export function parseCertificate(der: Uint8Array): Result<ParsedCertificate, CertError> {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    return err(certError("certificate_too_large", "the certificate is larger than allowed",
      { size: der.length, limit: MAX_CERTIFICATE_BYTES }));
  }
  try {
    return ok(parseCertificateUnchecked(der));
  } catch (e) {
    const why = e instanceof Malformed ? e.message : "it is not a valid X.509 certificate";
    return err(certError("certificate_malformed", `The certificate could not be parsed: ${why}.`));
  }
}

function parseCertificateUnchecked(der: Uint8Array): ParsedCertificate {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new Malformed("invalid DER");
  if (asn1.offset !== der.length) throw new Malformed("trailing bytes after the certificate");
  const cert = new pkijs.Certificate({ schema: asn1.result });
  // RFC 5280 §4.1.1.2: the outer signatureAlgorithm must equal the TBS signature field.
  if (!sameAlgorithm(cert.signatureAlgorithm, cert.signature)) {
    throw new Malformed("the signature algorithm differs between the certificate and its TBS");
  }
  if (cert.version > 2) throw new Malformed(`unknown version ${cert.version + 1}`);
  const extensions = readCertificateExtensions(cert);
  if (cert.version !== 2 && cert.extensions?.length) throw new Malformed("extensions in a certificate older than v3");
  const subjectKey = nameKey(cert.subject);
  const issuerKey = nameKey(cert.issuer);
  const notBefore = cert.notBefore.value;
  const notAfter = cert.notAfter.value;
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw new Malformed("invalid validity dates");
  return {
    der,
    version: cert.version + 1,
    serialNumber: toHex(cert.serialNumber.valueBlock.valueHexView),
    subject: cert.subject,
    issuer: cert.issuer,
    subjectKey,
    issuerKey,
    notBefore,
    notAfter,
    publicKey: readPublicKey(cert.subjectPublicKeyInfo),
    signature: {
      algorithm: cert.signatureAlgorithm.algorithmId,
      params: algorithmParams(cert.signatureAlgorithm),
      value: new Uint8Array(cert.signatureValue.valueBlock.valueHexView),
      signed: new Uint8Array(cert.tbsView),
    },
    extensions,
    selfIssued: subjectKey === issuerKey,
    subjectEmails: cert.subject.typesAndValues
      .filter((tv) => tv.type === OID.emailAddress)
      .map((tv) => String(tv.value.valueBlock.value ?? "")),
  };
}

function sameAlgorithm(a: pkijs.AlgorithmIdentifier, b: pkijs.AlgorithmIdentifier): boolean {
  if (a.algorithmId !== b.algorithmId) return false;
  const pa = algorithmParams(a);
  const pb = algorithmParams(b);
  if (pa === null || pb === null) return pa === pb;
  return equalBytes(pa, pb);
}

function algorithmParams(alg: pkijs.AlgorithmIdentifier): Uint8Array | null {
  const p = alg.algorithmParams as asn1js.AsnType | undefined;
  if (p === undefined || p === null) return null;
  if (p instanceof asn1js.Null) return null;
  return new Uint8Array(p.toBER(false));
}

/** Constant-shape byte equality (not constant-time; nothing secret is compared here). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const EC_CURVE_BITS: Record<string, number> = {
  "1.2.840.10045.3.1.7": 256, // P-256
  "1.3.132.0.34": 384, // P-384
  "1.3.132.0.35": 521, // P-521
};

function readPublicKey(spki: pkijs.PublicKeyInfo): PublicKeyInfo {
  const der = new Uint8Array(spki.toSchema().toBER(false));
  const oid = spki.algorithm.algorithmId;
  const keyBytes = spki.subjectPublicKey.valueBlock.valueHexView;
  switch (oid) {
    case "1.2.840.113549.1.1.1": // rsaEncryption
    case "1.2.840.113549.1.1.10": // id-RSASSA-PSS
      return { algorithm: "RSA", bits: rsaModulusBits(keyBytes), curve: null, spki: der };
    case "1.2.840.10045.2.1": { // id-ecPublicKey
      const params = spki.algorithm.algorithmParams;
      const curve = params instanceof asn1js.ObjectIdentifier ? params.valueBlock.toString() : null;
      return { algorithm: "EC", bits: (curve && EC_CURVE_BITS[curve]) || 0, curve, spki: der };
    }
    case "1.3.101.112":
      return { algorithm: "Ed25519", bits: 256, curve: null, spki: der };
    case "1.3.101.113":
      return { algorithm: "Ed448", bits: 456, curve: null, spki: der };
    default:
      return { algorithm: oid, bits: 0, curve: null, spki: der };
  }
}

function rsaModulusBits(keyBytes: Uint8Array): number {
  const asn1 = asn1js.fromBER(keyBytes);
  if (asn1.offset === -1 || !(asn1.result instanceof asn1js.Sequence)) throw new Malformed("invalid RSA public key");
  const modulus = asn1.result.valueBlock.value[0];
  if (!(modulus instanceof asn1js.Integer)) throw new Malformed("invalid RSA public key");
  const m = modulus.valueBlock.valueHexView;
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  if (i === m.length) return 0;
  return (m.length - i - 1) * 8 + (32 - Math.clz32(m[i]!));
}

/** Reads extension values, rejecting duplicates (RFC 5280 §4.2) and malformed values. */
function readCertificateExtensions(cert: pkijs.Certificate): CertificateExtensions {
  const out: { -readonly [K in keyof CertificateExtensions]: CertificateExtensions[K] } = { unknownCritical: [] };
  const seen = new Set<string>();
  const unknownCritical: string[] = [];
  for (const ext of cert.extensions ?? []) {
    const id = ext.extnID;
    if (seen.has(id)) throw new Malformed(`duplicate extension ${id}`);
    seen.add(id);
    if (!RECOGNIZED_CERT_EXTENSIONS.has(id)) {
      if (ext.critical) unknownCritical.push(id);
      continue;
    }
    const v = extensionValue(ext);
    switch (id) {
      case OID.basicConstraints: {
        const bc = v as pkijs.BasicConstraints;
        const pl = bc.pathLenConstraint;
        const pathLen = pl === undefined ? null : typeof pl === "number" ? pl : pl.valueBlock.valueDec;
        if (pathLen !== null && (pathLen < 0 || !Number.isSafeInteger(pathLen))) throw new Malformed("invalid pathLenConstraint");
        out.basicConstraints = { ca: bc.cA === true, pathLen, critical: ext.critical };
        break;
      }
      case OID.keyUsage:
        out.keyUsage = bitStringMask(asType(v, asn1js.BitString, "keyUsage"));
        break;
      case OID.extKeyUsage:
        out.extKeyUsage = [...(v as pkijs.ExtKeyUsage).keyPurposes];
        break;
      case OID.subjectAltName:
        out.subjectAltName = (v as pkijs.AltName).altNames.map(readGeneralName);
        break;
      case OID.issuerAltName:
        break;
      case OID.nameConstraints: {
        const nc = v as pkijs.NameConstraints;
        // RFC 5280 §4.2.1.10: minimum must be zero and maximum absent; anything else is unsupported.
        const subtrees = (list: pkijs.GeneralSubtree[] | undefined) => {
          if (!list) return null;
          return list.map((st) => {
            const min = st.minimum instanceof asn1js.Integer ? st.minimum.valueBlock.valueDec : st.minimum;
            if ((min !== undefined && min !== 0) || st.maximum !== undefined) {
              throw new Malformed("name constraints with minimum/maximum are not supported");
            }
            return readGeneralName(st.base);
          });
        };
        out.nameConstraints = { permitted: subtrees(nc.permittedSubtrees), excluded: subtrees(nc.excludedSubtrees) };
        break;
      }
      case OID.certificatePolicies: {
        const ids = (v as pkijs.CertificatePolicies).certificatePolicies.map((p) => p.policyIdentifier);
        if (new Set(ids).size !== ids.length) throw new Malformed("duplicate policy in certificatePolicies");
        out.certificatePolicies = ids;
        break;
      }
      case OID.policyMappings:
        out.policyMappings = (v as pkijs.PolicyMappings).mappings.map((m) => [m.issuerDomainPolicy, m.subjectDomainPolicy] as const);
        break;
      case OID.policyConstraints: {
        const pc = v as pkijs.PolicyConstraints;
        out.policyConstraints = {
          requireExplicitPolicy: pc.requireExplicitPolicy ?? null,
          inhibitPolicyMapping: pc.inhibitPolicyMapping ?? null,
        };
        break;
      }
      case OID.inhibitAnyPolicy:
        out.inhibitAnyPolicy = asType(v, asn1js.Integer, "inhibitAnyPolicy").valueBlock.valueDec;
        break;
      case OID.subjectKeyIdentifier:
        out.subjectKeyIdentifier = new Uint8Array(asType(v, asn1js.OctetString, "subjectKeyIdentifier").valueBlock.valueHexView);
        break;
      case OID.authorityKeyIdentifier: {
        const kid = (v as pkijs.AuthorityKeyIdentifier).keyIdentifier;
        if (kid) out.authorityKeyIdentifier = new Uint8Array(kid.valueBlock.valueHexView);
        break;
      }
      case OID.crlDistributionPoints:
        out.crlDistributionPoints = (v as pkijs.CRLDistributionPoints).distributionPoints.map(readDistributionPoint);
        break;
      case OID.freshestCrl:
        out.freshestCrl = (v as pkijs.CRLDistributionPoints).distributionPoints.map(readDistributionPoint);
        break;
      default:
        break; // recognized, informational (AIA, SIA, SCTs)
    }
  }
  out.unknownCritical = unknownCritical;
  return out;
}

/** The decoded value of an extension, or Malformed when pkijs could not decode it. */
function extensionValue(ext: pkijs.Extension): unknown {
  const v = ext.parsedValue as unknown;
  if (v === undefined || v === null) throw new Malformed(`unreadable value of extension ${ext.extnID}`);
  if (typeof v === "object" && "parsingError" in v && (v as { parsingError?: string }).parsingError) {
    throw new Malformed(`malformed value of extension ${ext.extnID}`);
  }
  return v;
}

function asType<T>(v: unknown, type: abstract new (...args: never[]) => T, what: string): T {
  if (!(v instanceof type)) throw new Malformed(`malformed ${what}`);
  return v;
}

/** Named-bit BIT STRING → mask with bit n = named bit n (X.680 §22: bit 0 is the MSB of the first byte). */
function bitStringMask(bits: asn1js.BitString): number {
  return namedBits(bits.valueBlock.valueHexView);
}

function namedBits(bytes: Uint8Array): number {
  let mask = 0;
  for (let n = 0; n < Math.min(bytes.length * 8, 31); n++) {
    if ((bytes[n >> 3]! >> (7 - (n & 7))) & 1) mask |= 1 << n;
  }
  return mask;
}

function readGeneralName(gn: pkijs.GeneralName): GeneralName {
  switch (gn.type) {
    case 1:
      return { type: "email", value: String(gn.value) };
    case 2:
      return { type: "dns", value: String(gn.value) };
    case 4:
      return { type: "dirName", key: nameKey(gn.value as pkijs.RelativeDistinguishedNames), name: gn.value as pkijs.RelativeDistinguishedNames };
    case 6:
      return { type: "uri", value: String(gn.value) };
    case 7: {
      const os = gn.value as asn1js.OctetString;
      return { type: "ip", bytes: new Uint8Array(os.valueBlock.valueHexView) };
    }
    default:
      return { type: "other", tag: gn.type };
  }
}

function readDistributionPoint(dp: pkijs.DistributionPoint): DistributionPoint {
  let fullName: GeneralName[] | null = null;
  let relativeName = false;
  if (Array.isArray(dp.distributionPoint)) fullName = dp.distributionPoint.map(readGeneralName);
  else if (dp.distributionPoint) relativeName = true;
  return {
    fullName,
    relativeName,
    // pkijs builds `reasons` from the implicit [1] contents, unused-bits octet included.
    reasons: dp.reasons ? namedBits(dp.reasons.valueBlock.valueHexView.subarray(1)) : null,
    crlIssuer: dp.cRLIssuer ? dp.cRLIssuer.map(readGeneralName) : null,
  };
}

/** Parses a CRL. Never throws. */
export function parseCrl(der: Uint8Array): Result<ParsedCrl, CertError> {
  if (der.length > MAX_CRL_BYTES) {
    return err(certError("crl_too_large", "the CRL is larger than allowed", { size: der.length, limit: MAX_CRL_BYTES }));
  }
  try {
    return ok(parseCrlUnchecked(der));
  } catch (e) {
    const why = e instanceof Malformed ? e.message : "it is not a valid X.509 CRL";
    return err(certError("crl_malformed", `The CRL could not be parsed: ${why}.`));
  }
}

function parseCrlUnchecked(der: Uint8Array): ParsedCrl {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new Malformed("invalid DER");
  if (asn1.offset !== der.length) throw new Malformed("trailing bytes after the CRL");
  const crl = new pkijs.CertificateRevocationList({ schema: asn1.result });
  if (!sameAlgorithm(crl.signatureAlgorithm, crl.signature)) {
    throw new Malformed("the signature algorithm differs between the CRL and its TBS");
  }
  let crlNumber: bigint | null = null;
  let deltaBase: bigint | null = null;
  let aki: Uint8Array | null = null;
  let idp: ParsedCrl["issuingDistributionPoint"] = null;
  const unknownCritical: string[] = [];
  const seen = new Set<string>();
  for (const ext of crl.crlExtensions?.extensions ?? []) {
    if (seen.has(ext.extnID)) throw new Malformed(`duplicate CRL extension ${ext.extnID}`);
    seen.add(ext.extnID);
    if (!RECOGNIZED_CRL_EXTENSIONS.has(ext.extnID)) {
      if (ext.critical) unknownCritical.push(ext.extnID);
      continue;
    }
    switch (ext.extnID) {
      case OID.crlNumber:
        crlNumber = integerValue(extensionValue(ext), "cRLNumber");
        break;
      case OID.deltaCrlIndicator:
        deltaBase = integerValue(extensionValue(ext), "deltaCRLIndicator");
        break;
      case OID.authorityKeyIdentifier: {
        const kid = (extensionValue(ext) as pkijs.AuthorityKeyIdentifier).keyIdentifier;
        if (kid) aki = new Uint8Array(kid.valueBlock.valueHexView);
        break;
      }
      case OID.issuingDistributionPoint:
        idp = readIssuingDistributionPoint(ext.extnValue.valueBlock.valueHexView);
        break;
      default:
        break;
    }
  }
  const entries: CrlEntry[] = [];
  for (const rc of crl.revokedCertificates ?? []) entries.push(readCrlEntry(rc));
  const nextUpdate = crl.nextUpdate ? crl.nextUpdate.value : null;
  return {
    der,
    issuer: crl.issuer,
    issuerKey: nameKey(crl.issuer),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate,
    signature: {
      algorithm: crl.signatureAlgorithm.algorithmId,
      params: algorithmParams(crl.signatureAlgorithm),
      value: new Uint8Array(crl.signatureValue.valueBlock.valueHexView),
      signed: new Uint8Array(crl.tbsView),
    },
    crlNumber,
    deltaBase,
    authorityKeyIdentifier: aki,
    issuingDistributionPoint: idp,
    entries,
    unknownCritical,
  };
}

function integerValue(v: unknown, what: string): bigint {
  const i = asType(v, asn1js.Integer, what);
  return BigInt("0x" + (toHex(i.valueBlock.valueHexView) || "0"));
}

function readCrlEntry(rc: pkijs.RevokedCertificate): CrlEntry {
  let reason: number | null = null;
  let certificateIssuer: string[] | null = null;
  const unknownCritical: string[] = [];
  for (const ext of rc.crlEntryExtensions?.extensions ?? []) {
    if (!RECOGNIZED_CRL_ENTRY_EXTENSIONS.has(ext.extnID)) {
      if (ext.critical) unknownCritical.push(ext.extnID);
      continue;
    }
    if (ext.extnID === OID.crlReason) {
      const v = extensionValue(ext);
      if (!(v instanceof asn1js.Enumerated)) throw new Malformed("malformed reasonCode");
      reason = v.valueBlock.valueDec;
    } else if (ext.extnID === OID.certificateIssuer) {
      const names = (extensionValue(ext) as pkijs.GeneralNames).names.map(readGeneralName);
      certificateIssuer = names.flatMap((n) => (n.type === "dirName" ? [n.key] : []));
    }
  }
  return {
    serialNumber: toHex(rc.userCertificate.valueBlock.valueHexView),
    revocationDate: rc.revocationDate.value,
    reason,
    certificateIssuer,
    unknownCritical,
  };
}

/**
 * IssuingDistributionPoint (RFC 5280 §5.2.5), decoded here because pkijs takes onlySomeReasons from the
 * unused-bits octet of the BIT STRING instead of the bits.
 */
function readIssuingDistributionPoint(value: Uint8Array): NonNullable<ParsedCrl["issuingDistributionPoint"]> {
  const asn1 = asn1js.fromBER(value);
  if (asn1.offset === -1 || !(asn1.result instanceof asn1js.Sequence)) throw new Malformed("malformed issuingDistributionPoint");
  const out = {
    fullName: null as GeneralName[] | null,
    relativeName: false,
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    onlyContainsAttributeCerts: false,
    onlySomeReasons: null as number | null,
    indirectCrl: false,
  };
  for (const item of asn1.result.valueBlock.value) {
    const tag = item.idBlock.tagNumber;
    if (item.idBlock.tagClass !== 3) throw new Malformed("malformed issuingDistributionPoint");
    const bool = () => {
      const bytes = (item as asn1js.Primitive).valueBlock.valueHexView;
      return bytes.length === 1 && bytes[0] !== 0;
    };
    switch (tag) {
      case 0: {
        // DistributionPointName: [0] fullName GeneralNames | [1] nameRelativeToCRLIssuer
        const dpn = (item as asn1js.Constructed).valueBlock.value[0];
        if (!dpn) throw new Malformed("malformed issuingDistributionPoint");
        if (dpn.idBlock.tagNumber === 0) {
          out.fullName = (dpn as asn1js.Constructed).valueBlock.value.map((n) => readGeneralName(new pkijs.GeneralName({ schema: n })));
        } else {
          out.relativeName = true;
        }
        break;
      }
      case 1: out.onlyContainsUserCerts = bool(); break;
      case 2: out.onlyContainsCACerts = bool(); break;
      case 3: {
        const bytes = (item as asn1js.Primitive).valueBlock.valueHexView;
        out.onlySomeReasons = namedBits(bytes.subarray(1));
        break;
      }
      case 4: out.indirectCrl = bool(); break;
      case 5: out.onlyContainsAttributeCerts = bool(); break;
      default: throw new Malformed("malformed issuingDistributionPoint");
    }
  }
  return out;
}
