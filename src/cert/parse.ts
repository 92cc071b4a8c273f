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
import { equalBytes, latin1, toHex } from "../bytes";
import { certError, type CertError } from "../errors";
import { MAX_CERTIFICATE_BYTES, MAX_CRL_BYTES } from "../limits";
import { err, ok, type Result } from "../result";
import { type DerElement } from "./decode";
import { checkMinimalInteger, decodeBoolean, decodeOid, decodeSmallInteger, decodeTime, DerError, DerReader, encodeDerLength, TAG } from "./der";
import { nameKey, rdnKeys } from "./dn";

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
  ekuServerAuth: "1.3.6.1.5.5.7.3.1",
  ekuAny: "2.5.29.37.0",
  emailAddress: "1.2.840.113549.1.9.1",
  commonName: "2.5.4.3",
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
  /** `name` is the DER of the Name; `key` its cert/dn.ts nameKey. */
  | { readonly type: "dirName"; readonly key: string; readonly name: Uint8Array }
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
  /**
   * nameRelativeToCRLIssuer as the DER of its RelativeDistinguishedName (a SET), or null: the point's full name is
   * the CRL issuer's name with this RDN appended (RFC 5280 §4.2.1.13).
   */
  readonly relativeName: Uint8Array | null;
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
  /** Which fields the authorityKeyIdentifier has, when the extension is present (RFC 5280 §4.2.1.1). */
  readonly authorityKeyIdentifierFields?: { readonly keyIdentifier: boolean; readonly issuer: boolean; readonly serial: boolean };
  readonly crlDistributionPoints?: readonly DistributionPoint[];
  readonly freshestCrl?: readonly DistributionPoint[];
  /** OIDs of critical extensions certgate does not process. */
  readonly unknownCritical: readonly string[];
  /** OIDs of every extension marked critical (the profile checks in pki/profile.ts read it). */
  readonly critical: readonly string[];
}

/** A certificate as parsed from untrusted bytes: nothing here is verified. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  readonly version: number;
  /** Uppercase hex of the serial's DER content octets, leading 00 kept (.NET SerialNumber). */
  readonly serialNumber: string;
  /** DER of the subject Name (cert/dn.ts reads it). */
  readonly subject: Uint8Array;
  /** DER of the issuer Name. */
  readonly issuer: Uint8Array;
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
  /** The subject is an empty Name (identity only in the SAN, RFC 5280 §4.1.2.6). */
  readonly subjectEmpty: boolean;
  /** Subject emailAddress attribute values (name constraints on rfc822Name apply to them, RFC 5280 §4.2.1.10). */
  readonly subjectEmails: readonly string[];
  /** Subject commonName values (as Latin-1 text; name constraints check a host-like CN when there is no DNS SAN). */
  readonly subjectCommonNames: readonly string[];
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
  /** DER of the issuer Name, as it is in the CRL. */
  readonly issuer: Uint8Array;
  readonly issuerKey: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly signature: SignatureInfo;
  readonly crlNumber: bigint | null;
  /** BaseCRLNumber when this is a delta CRL (RFC 5280 §5.2.4). */
  readonly deltaBase: bigint | null;
  /** 1 for a v1 CRL (no extensions at all, RFC 5280 §5.1.2.1), 2 otherwise. */
  readonly version: 1 | 2;
  readonly authorityKeyIdentifier: Uint8Array | null;
  readonly issuingDistributionPoint: {
    readonly fullName: readonly GeneralName[] | null;
    readonly relativeName: Uint8Array | null;
    readonly onlyContainsUserCerts: boolean;
    readonly onlyContainsCACerts: boolean;
    readonly onlyContainsAttributeCerts: boolean;
    /** ReasonFlags mask, null = all reasons. */
    readonly onlySomeReasons: number | null;
    readonly indirectCrl: boolean;
  } | null;
  readonly entries: readonly CrlEntry[];
  readonly unknownCritical: readonly string[];
  /** OIDs of every CRL extension marked critical. */
  readonly critical: readonly string[];
}

/** Parses a certificate. Never throws. */
export function parseCertificate(der: Uint8Array): Result<ParsedCertificate, CertError> {
  if (der.length > MAX_CERTIFICATE_BYTES) {
    return err(certError("certificate_too_large", "The certificate is larger than allowed.",
      { size: der.length, limit: MAX_CERTIFICATE_BYTES }));
  }
  try {
    return ok(parseCertificateUnchecked(der));
  } catch (e) {
    const why = e instanceof DerError ? e.message : "it is not a valid X.509 certificate";
    return err(certError("certificate_malformed", `The certificate could not be parsed: ${why}.`));
  }
}

/** RFC 5280 §4.1 read field by field from the DER (see cert/der.ts for why not asn1js). */
function parseCertificateUnchecked(der: Uint8Array): ParsedCertificate {
  const top = new DerReader(der);
  const certEl = top.expect(TAG.SEQUENCE, "Certificate");
  top.finish("Certificate");
  const cert = DerReader.of(der, certEl);
  const tbsEl = cert.expect(TAG.SEQUENCE, "TBSCertificate");
  const outerAlg = cert.expect(TAG.SEQUENCE, "signatureAlgorithm");
  const sigEl = cert.expect(TAG.BIT_STRING, "signatureValue");
  cert.finish("Certificate");
  const tbs = DerReader.of(der, tbsEl);
  let version = 1;
  const versionEl = tbs.optionalContext(0, "explicit");
  if (versionEl) {
    const v = DerReader.of(der, versionEl);
    version = decodeSmallInteger(v.content(v.expect(TAG.INTEGER, "version"))) + 1;
    v.finish("version");
    // X.690 DER: a DEFAULT value is not encoded (v1 written explicitly is not DER).
    if (version === 1 || version > 3) throw new DerError(`invalid version ${version}`);
  }
  const serialEl = tbs.expect(TAG.INTEGER, "serialNumber");
  const innerAlg = tbs.expect(TAG.SEQUENCE, "signature");
  // RFC 5280 §4.1.1.2: signatureAlgorithm must equal the TBS signature field.
  if (!equalBytes(der.subarray(innerAlg.start, innerAlg.end), der.subarray(outerAlg.start, outerAlg.end))) {
    throw new DerError("the signature algorithm differs between the certificate and its TBS");
  }
  const issuerEl = tbs.expect(TAG.SEQUENCE, "issuer");
  const validity = DerReader.of(der, tbs.expect(TAG.SEQUENCE, "validity"));
  const notBefore = decodeTime(der, validity.next());
  const notAfter = decodeTime(der, validity.next());
  validity.finish("validity");
  const subjectEl = tbs.expect(TAG.SEQUENCE, "subject");
  const spkiEl = tbs.expect(TAG.SEQUENCE, "subjectPublicKeyInfo");
  const issuerUid = tbs.optionalContext(1, "primitive"); // issuerUniqueID
  const subjectUid = tbs.optionalContext(2, "primitive"); // subjectUniqueID
  const extsEl = tbs.optionalContext(3, "explicit");
  tbs.finish("TBSCertificate");
  if (extsEl && version !== 3) throw new DerError("extensions in a certificate older than v3");
  // RFC 5280 §4.1.2.8: unique identifiers only in v2 and v3; their content is a BIT STRING.
  for (const uid of [issuerUid, subjectUid]) {
    if (!uid) continue;
    if (version < 2) throw new DerError("a unique identifier in a v1 certificate");
    if (uid.end === uid.contentStart || der[uid.contentStart]! > 7) throw new DerError("invalid unique identifier");
  }
  const extensions = readCertificateExtensions(der, extsEl);

  const serial = der.subarray(serialEl.contentStart, serialEl.end);
  checkMinimalInteger(serial, "serialNumber");
  const subject = der.subarray(subjectEl.start, subjectEl.end);
  const issuer = der.subarray(issuerEl.start, issuerEl.end);
  const subjectKey = nameKey(subject);
  const issuerKey = nameKey(issuer);
  // cert/dn.ts keys a Name it cannot read strictly as "!…"; such a certificate cannot be chained or
  // matched reliably, so it is malformed (RFC 5280 §4.1.2.4, §4.1.2.6).
  if (subjectKey.startsWith("!") || issuerKey.startsWith("!")) throw new DerError("the subject or issuer is not a valid DER Name");
  const alg = readAlgorithm(der, outerAlg);
  const attributes = readNameAttributes(der, subjectEl);
  const sigBits = der.subarray(sigEl.contentStart, sigEl.end);
  if (sigBits.length < 1 || sigBits[0] !== 0) throw new DerError("signatureValue has unused bits");
  return {
    der,
    version,
    serialNumber: toHex(serial),
    subject,
    issuer,
    subjectKey,
    issuerKey,
    notBefore,
    notAfter,
    publicKey: readPublicKey(der, spkiEl),
    signature: { algorithm: alg.oid, params: alg.params, value: sigBits.subarray(1), signed: der.subarray(tbsEl.start, tbsEl.end) },
    extensions,
    selfIssued: subjectKey === issuerKey,
    subjectEmpty: subjectEl.contentStart === subjectEl.end,
    subjectEmails: attributes.emails,
    subjectCommonNames: attributes.commonNames,
  };
}

/** AlgorithmIdentifier: OID and the DER of its parameters (null when absent or NULL). */
function readAlgorithm(bytes: Uint8Array, el: DerElement): { oid: string; params: Uint8Array | null; paramsEl: DerElement | null } {
  const r = DerReader.of(bytes, el);
  const oid = decodeOid(r.content(r.expect(TAG.OID, "algorithm")));
  const p = r.done ? null : r.next();
  r.finish("AlgorithmIdentifier");
  if (!p || (p.tagClass === 0 && p.tagNumber === TAG.NULL)) return { oid, params: null, paramsEl: p };
  return { oid, params: bytes.slice(p.start, p.end), paramsEl: p };
}

/** The emailAddress and commonName values of a Name (name constraints read both, RFC 5280 §4.2.1.10). */
function readNameAttributes(bytes: Uint8Array, nameEl: DerElement): { emails: string[]; commonNames: string[] } {
  const emails: string[] = [];
  const commonNames: string[] = [];
  const rdns = DerReader.of(bytes, nameEl);
  while (!rdns.done) {
    const set = DerReader.of(bytes, rdns.expect(TAG.SET, "RelativeDistinguishedName"));
    while (!set.done) {
      const atv = DerReader.of(bytes, set.expect(TAG.SEQUENCE, "AttributeTypeAndValue"));
      const type = decodeOid(atv.content(atv.expect(TAG.OID, "attribute type")));
      const value = atv.next();
      if (type === OID.emailAddress) emails.push(latin1(atv.content(value)));
      else if (type === OID.commonName) commonNames.push(latin1(atv.content(value)));
    }
  }
  return { emails, commonNames };
}


const EC_CURVE_BITS: Record<string, number> = {
  "1.2.840.10045.3.1.7": 256, // P-256
  "1.3.132.0.34": 384, // P-384
  "1.3.132.0.35": 521, // P-521
};

/**
 * SubjectPublicKeyInfo, with the key itself read as far as its algorithm defines it (RFC 3279 §2.3.1, RFC 4055
 * §1.2, RFC 5480 §2, RFC 8410 §4): a key OpenSSL could not decode is a malformed certificate here too.
 */
function readPublicKey(bytes: Uint8Array, spkiEl: DerElement): PublicKeyInfo {
  const r = DerReader.of(bytes, spkiEl);
  const algEl = r.expect(TAG.SEQUENCE, "SubjectPublicKeyInfo.algorithm");
  const keyEl = r.expect(TAG.BIT_STRING, "subjectPublicKey");
  r.finish("SubjectPublicKeyInfo");
  const alg = readAlgorithm(bytes, algEl);
  const spki = bytes.subarray(spkiEl.start, spkiEl.end);
  const keyBits = bytes.subarray(keyEl.contentStart, keyEl.end);
  if (keyBits.length < 1 || keyBits[0] !== 0) throw new DerError("subjectPublicKey has unused bits");
  const key = keyBits.subarray(1);
  const params = alg.paramsEl;
  switch (alg.oid) {
    case "1.2.840.113549.1.1.1": // rsaEncryption: parameters NULL (RFC 3279 §2.3.1)
      if (!params || params.tagClass !== 0 || params.tagNumber !== TAG.NULL) throw new DerError("rsaEncryption key without NULL parameters");
      return { algorithm: "RSA", bits: rsaModulusBits(key), curve: null, spki };
    case "1.2.840.113549.1.1.10": // id-RSASSA-PSS: parameters absent or RSASSA-PSS-params (RFC 4055 §1.2)
      if (params && (params.tagClass !== 0 || params.tagNumber !== TAG.SEQUENCE)) throw new DerError("invalid RSASSA-PSS key parameters");
      return { algorithm: "RSA", bits: rsaModulusBits(key), curve: null, spki };
    case "1.2.840.10045.2.1": { // id-ecPublicKey: namedCurve only (RFC 5480 §2.1.1)
      if (!params || params.tagClass !== 0 || params.tagNumber !== TAG.OID) throw new DerError("EC key without a named curve");
      const curve = decodeOid(bytes.subarray(params.contentStart, params.end));
      const size = EC_CURVE_BITS[curve];
      if (size === undefined) return { algorithm: "EC", bits: 0, curve, spki };
      // RFC 5480 §2.2: an uncompressed point (04 ‖ X ‖ Y) or a compressed one (02/03 ‖ X).
      const field = Math.ceil(size / 8);
      const uncompressed = key[0] === 4 && key.length === 1 + 2 * field;
      const compressed = (key[0] === 2 || key[0] === 3) && key.length === 1 + field;
      if (!uncompressed && !compressed) throw new DerError("EC public key is not a point of its curve's size");
      return { algorithm: "EC", bits: size, curve, spki };
    }
    case "1.3.101.112": // Ed25519: no parameters, 32-octet key (RFC 8410 §3, §4)
      if (params || key.length !== 32) throw new DerError("invalid Ed25519 public key");
      return { algorithm: "Ed25519", bits: 256, curve: null, spki };
    case "1.3.101.113":
      if (params || key.length !== 57) throw new DerError("invalid Ed448 public key");
      return { algorithm: "Ed448", bits: 456, curve: null, spki };
    default:
      return { algorithm: alg.oid, bits: 0, curve: null, spki };
  }
}

/** RSAPublicKey (RFC 8017 §A.1.1): two positive INTEGERs in minimal form → modulus size in bits. */
function rsaModulusBits(key: Uint8Array): number {
  const top = new DerReader(key);
  const seq = DerReader.of(key, top.expect(TAG.SEQUENCE, "RSAPublicKey"));
  top.finish("RSAPublicKey");
  const m = seq.content(seq.expect(TAG.INTEGER, "modulus"));
  const e = seq.content(seq.expect(TAG.INTEGER, "publicExponent"));
  seq.finish("RSAPublicKey");
  for (const [v, what] of [[m, "modulus"], [e, "publicExponent"]] as const) {
    checkMinimalInteger(v, what);
    if (v[0]! & 0x80 || v.every((b) => b === 0)) throw new DerError(`RSA ${what} is not positive`);
  }
  let i = 0;
  while (i < m.length && m[i] === 0) i++;
  return (m.length - i - 1) * 8 + (32 - Math.clz32(m[i]!));
}

/** Reads extension values, rejecting duplicates (RFC 5280 §4.2) and malformed values. */
function readCertificateExtensions(bytes: Uint8Array, extsEl: DerElement | null): CertificateExtensions {
  const out: { -readonly [K in keyof CertificateExtensions]: CertificateExtensions[K] } = { unknownCritical: [], critical: [] };
  if (!extsEl) return out;
  const outer = DerReader.of(bytes, extsEl);
  const list = DerReader.of(bytes, outer.expect(TAG.SEQUENCE, "Extensions"));
  outer.finish("Extensions");
  if (list.done) throw new DerError("empty extensions");
  const seen = new Set<string>();
  const unknownCritical: string[] = [];
  const criticalOids: string[] = [];
  while (!list.done) {
    const ext = DerReader.of(bytes, list.expect(TAG.SEQUENCE, "Extension"));
    const id = decodeOid(ext.content(ext.expect(TAG.OID, "extnID")));
    let critical = false;
    let valueEl = ext.next();
    if (valueEl.tagClass === 0 && valueEl.tagNumber === TAG.BOOLEAN) {
      critical = decodeBoolean(ext.content(valueEl));
      // DER: DEFAULT FALSE is not encoded.
      if (!critical) throw new DerError("critical FALSE encoded explicitly");
      valueEl = ext.next();
    }
    if (valueEl.tagClass !== 0 || valueEl.tagNumber !== TAG.OCTET_STRING) throw new DerError("extnValue is not an OCTET STRING");
    ext.finish("Extension");
    if (seen.has(id)) throw new DerError(`duplicate extension ${id}`);
    seen.add(id);
    if (critical) criticalOids.push(id);
    if (!RECOGNIZED_CERT_EXTENSIONS.has(id)) {
      if (critical) unknownCritical.push(id);
      continue;
    }
    const value = ext.content(valueEl);
    const v = new DerReader(value);
    switch (id) {
      case OID.basicConstraints: {
        const bc = DerReader.of(value, v.expect(TAG.SEQUENCE, "basicConstraints"));
        let ca = false;
        let pathLen: number | null = null;
        let el = bc.peek();
        if (el && el.tagClass === 0 && el.tagNumber === TAG.BOOLEAN) {
          ca = decodeBoolean(bc.content(bc.next()));
          el = bc.peek();
        }
        if (el) pathLen = decodeSmallInteger(bc.content(bc.expect(TAG.INTEGER, "pathLenConstraint")));
        bc.finish("basicConstraints");
        out.basicConstraints = { ca, pathLen, critical };
        break;
      }
      case OID.keyUsage:
        out.keyUsage = namedBitsOf(v.content(v.expect(TAG.BIT_STRING, "keyUsage")));
        break;
      case OID.extKeyUsage: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "extKeyUsage"));
        const oids: string[] = [];
        while (!seq.done) oids.push(decodeOid(seq.content(seq.expect(TAG.OID, "KeyPurposeId"))));
        if (oids.length === 0) throw new DerError("empty extKeyUsage");
        out.extKeyUsage = oids;
        break;
      }
      case OID.subjectAltName:
        out.subjectAltName = readGeneralNames(value, v.expect(TAG.SEQUENCE, "subjectAltName"));
        break;
      case OID.issuerAltName:
        v.expect(TAG.SEQUENCE, "issuerAltName");
        break;
      case OID.nameConstraints: {
        const nc = DerReader.of(value, v.expect(TAG.SEQUENCE, "nameConstraints"));
        const permittedEl = nc.optionalContext(0, "constructed");
        const excludedEl = nc.optionalContext(1, "constructed");
        nc.finish("nameConstraints");
        // RFC 5280 §4.2.1.10: at least one of the subtrees MUST be present; GeneralSubtrees is SIZE (1..MAX).
        if (!permittedEl && !excludedEl) throw new DerError("nameConstraints with neither permitted nor excluded subtrees");
        // RFC 5280 §4.2.1.10: minimum must be zero and maximum absent; anything else is unsupported.
        const subtrees = (el: DerElement | null): GeneralName[] | null => {
          if (!el) return null;
          const r = DerReader.of(value, el);
          const names: GeneralName[] = [];
          while (!r.done) {
            const st = DerReader.of(value, r.expect(TAG.SEQUENCE, "GeneralSubtree"));
            names.push(readGeneralName(value, st.next()));
            const min = st.optionalContext(0, "primitive");
            if (min && decodeSmallInteger(value.subarray(min.contentStart, min.end)) !== 0) {
              throw new DerError("name constraints with a minimum are not supported");
            }
            if (st.optionalContext(1, "primitive")) throw new DerError("name constraints with a maximum are not supported");
            st.finish("GeneralSubtree");
          }
          if (names.length === 0) throw new DerError("empty GeneralSubtrees in nameConstraints");
          return names;
        };
        out.nameConstraints = { permitted: subtrees(permittedEl), excluded: subtrees(excludedEl) };
        break;
      }
      case OID.certificatePolicies: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "certificatePolicies"));
        const ids: string[] = [];
        while (!seq.done) {
          const pi = DerReader.of(value, seq.expect(TAG.SEQUENCE, "PolicyInformation"));
          ids.push(decodeOid(pi.content(pi.expect(TAG.OID, "policyIdentifier"))));
          if (!pi.done) pi.expect(TAG.SEQUENCE, "policyQualifiers");
          pi.finish("PolicyInformation");
        }
        if (ids.length === 0) throw new DerError("empty certificatePolicies");
        if (new Set(ids).size !== ids.length) throw new DerError("duplicate policy in certificatePolicies");
        out.certificatePolicies = ids;
        break;
      }
      case OID.policyMappings: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "policyMappings"));
        const mappings: Array<readonly [string, string]> = [];
        while (!seq.done) {
          const m = DerReader.of(value, seq.expect(TAG.SEQUENCE, "PolicyMapping"));
          const from = decodeOid(m.content(m.expect(TAG.OID, "issuerDomainPolicy")));
          const to = decodeOid(m.content(m.expect(TAG.OID, "subjectDomainPolicy")));
          m.finish("PolicyMapping");
          mappings.push([from, to] as const);
        }
        out.policyMappings = mappings;
        break;
      }
      case OID.policyConstraints: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "policyConstraints"));
        const req = seq.optionalContext(0, "primitive");
        const inh = seq.optionalContext(1, "primitive");
        seq.finish("policyConstraints");
        // RFC 5280 §4.2.1.11: conforming CAs must not issue an empty policyConstraints.
        if (!req && !inh) throw new DerError("empty policyConstraints");
        out.policyConstraints = {
          requireExplicitPolicy: req ? decodeSmallInteger(value.subarray(req.contentStart, req.end)) : null,
          inhibitPolicyMapping: inh ? decodeSmallInteger(value.subarray(inh.contentStart, inh.end)) : null,
        };
        break;
      }
      case OID.inhibitAnyPolicy:
        out.inhibitAnyPolicy = decodeSmallInteger(v.content(v.expect(TAG.INTEGER, "inhibitAnyPolicy")));
        break;
      case OID.subjectKeyIdentifier:
        out.subjectKeyIdentifier = v.content(v.expect(TAG.OCTET_STRING, "subjectKeyIdentifier"));
        break;
      case OID.authorityKeyIdentifier: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "authorityKeyIdentifier"));
        const kid = seq.optionalContext(0, "primitive");
        const certIssuer = seq.optionalContext(1, "constructed");
        const certSerial = seq.optionalContext(2, "primitive");
        seq.finish("authorityKeyIdentifier");
        if (certIssuer) readImplicitGeneralNames(value, certIssuer);
        if (certSerial) checkMinimalInteger(value.subarray(certSerial.contentStart, certSerial.end), "authorityCertSerialNumber");
        if (kid) out.authorityKeyIdentifier = value.subarray(kid.contentStart, kid.end);
        out.authorityKeyIdentifierFields = { keyIdentifier: kid !== null, issuer: certIssuer !== null, serial: certSerial !== null };
        break;
      }
      case OID.crlDistributionPoints:
        out.crlDistributionPoints = readDistributionPoints(value, v.expect(TAG.SEQUENCE, "cRLDistributionPoints"));
        break;
      case OID.freshestCrl:
        out.freshestCrl = readDistributionPoints(value, v.expect(TAG.SEQUENCE, "freshestCRL"));
        break;
      default:
        v.next(); // recognized, informational (AIA, SIA, SCTs): any single element
        break;
    }
    v.finish(`extension ${id}`);
  }
  out.unknownCritical = unknownCritical;
  out.critical = criticalOids;
  return out;
}

/** BIT STRING content (unused-bits octet first) → mask with bit n = named bit n (X.680 §22: bit 0 is the MSB). */
function namedBitsOf(content: Uint8Array): number {
  if (content.length < 1 || content[0]! > 7) throw new DerError("invalid BIT STRING");
  return namedBits(content.subarray(1));
}

function namedBits(bytes: Uint8Array): number {
  let mask = 0;
  for (let n = 0; n < Math.min(bytes.length * 8, 31); n++) {
    if ((bytes[n >> 3]! >> (7 - (n & 7))) & 1) mask |= 1 << n;
  }
  return mask;
}

function readGeneralNames(bytes: Uint8Array, seqEl: DerElement): GeneralName[] {
  const r = DerReader.of(bytes, seqEl);
  const names: GeneralName[] = [];
  while (!r.done) names.push(readGeneralName(bytes, r.next()));
  if (names.length === 0) throw new DerError("empty GeneralNames");
  return names;
}

/**
 * GeneralName (RFC 5280 §4.2.1.6): IMPLICIT tags, so the form is the underlying type's — primitive for the
 * IA5String, OCTET STRING and OID choices, constructed for otherName, x400Address, directoryName (EXPLICIT,
 * a CHOICE) and ediPartyName. rfc822Name, dNSName and URI are IA5String: ASCII only (X.680 §41.4).
 */
function readGeneralName(bytes: Uint8Array, el: DerElement): GeneralName {
  if (el.tagClass !== 2 || el.tagNumber > 8) throw new DerError("invalid GeneralName");
  if (el.constructed !== GENERAL_NAME_CONSTRUCTED[el.tagNumber]) throw new DerError(`GeneralName [${el.tagNumber}]: wrong constructed bit`);
  const content = bytes.subarray(el.contentStart, el.end);
  switch (el.tagNumber) {
    case 1:
      return { type: "email", value: ia5(content, "rfc822Name") };
    case 2:
      return { type: "dns", value: ia5(content, "dNSName") };
    case 4: {
      const r = DerReader.of(bytes, el);
      const nameEl = r.expect(TAG.SEQUENCE, "directoryName");
      r.finish("directoryName");
      const name = bytes.subarray(nameEl.start, nameEl.end);
      const key = nameKey(name);
      if (key.startsWith("!")) throw new DerError("a directoryName is not a valid DER Name");
      return { type: "dirName", key, name };
    }
    case 6:
      return { type: "uri", value: ia5(content, "uniformResourceIdentifier") };
    case 7:
      if (content.length !== 4 && content.length !== 16 && content.length !== 8 && content.length !== 32) {
        throw new DerError("invalid iPAddress");
      }
      return { type: "ip", bytes: content };
    case 8:
      decodeOid(content);
      return { type: "other", tag: el.tagNumber };
    case 0: {
      // otherName ::= SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY } (IMPLICIT [0])
      const r = DerReader.of(bytes, el);
      decodeOid(r.content(r.expect(TAG.OID, "otherName type-id")));
      const value = r.optionalContext(0, "explicit");
      if (!value) throw new DerError("otherName without a value");
      const inner = DerReader.of(bytes, value);
      inner.next();
      inner.finish("otherName value");
      r.finish("otherName");
      return { type: "other", tag: 0 };
    }
    case 5: {
      // EDIPartyName ::= SEQUENCE { nameAssigner [0] DirectoryString OPTIONAL, partyName [1] DirectoryString }
      const r = DerReader.of(bytes, el);
      r.optionalContext(0, "explicit");
      if (!r.optionalContext(1, "explicit")) throw new DerError("ediPartyName without a partyName");
      r.finish("ediPartyName");
      return { type: "other", tag: 5 };
    }
    default:
      return { type: "other", tag: el.tagNumber };
  }
}

/** Whether each GeneralName choice [0]..[8] is constructed (see readGeneralName). */
const GENERAL_NAME_CONSTRUCTED = [true, false, false, true, true, true, false, false, false] as const;

/** IA5String content → text; bytes outside ASCII are not IA5 (OpenSSL reads them as Latin-1, .NET as UTF-8). */
function ia5(content: Uint8Array, what: string): string {
  for (const b of content) if (b >= 0x80) throw new DerError(`${what} is not ASCII (IA5String)`);
  return latin1(content);
}

/** CRLDistributionPoints / FreshestCRL (RFC 5280 §4.2.1.13). */
function readDistributionPoints(bytes: Uint8Array, seqEl: DerElement): DistributionPoint[] {
  const r = DerReader.of(bytes, seqEl);
  const out: DistributionPoint[] = [];
  while (!r.done) {
    const dp = DerReader.of(bytes, r.expect(TAG.SEQUENCE, "DistributionPoint"));
    const nameEl = dp.optionalContext(0, "explicit");
    const reasonsEl = dp.optionalContext(1, "primitive");
    const issuerEl = dp.optionalContext(2, "constructed");
    dp.finish("DistributionPoint");
    const name = nameEl ? readDistributionPointName(bytes, nameEl) : { fullName: null, relativeName: null };
    out.push({
      ...name,
      reasons: reasonsEl ? namedBitsOf(bytes.subarray(reasonsEl.contentStart, reasonsEl.end)) : null,
      crlIssuer: issuerEl ? readImplicitGeneralNames(bytes, issuerEl) : null,
    });
  }
  return out;
}

/** DistributionPointName ::= CHOICE { fullName [0] GeneralNames, nameRelativeToCRLIssuer [1] RDN }. */
function readDistributionPointName(bytes: Uint8Array, el: DerElement): { fullName: GeneralName[] | null; relativeName: Uint8Array | null } {
  const r = DerReader.of(bytes, el);
  const choice = r.next();
  r.finish("DistributionPointName");
  if (choice.tagClass === 2 && choice.constructed && choice.tagNumber === 0) return { fullName: readImplicitGeneralNames(bytes, choice), relativeName: null };
  if (choice.tagClass === 2 && choice.constructed && choice.tagNumber === 1) {
    // [1] IMPLICIT RelativeDistinguishedName: the tag replaces the SET's; keep it as the SET it stands for.
    const rdn = Uint8Array.from([0x31, ...encodeDerLength(choice.end - choice.contentStart), ...bytes.subarray(choice.contentStart, choice.end)]);
    if (rdnKeys(Uint8Array.from([0x30, ...encodeDerLength(rdn.length), ...rdn])) === null) throw new DerError("invalid nameRelativeToCRLIssuer");
    return { fullName: null, relativeName: rdn };
  }
  throw new DerError("invalid DistributionPointName");
}

/** GeneralNames under an IMPLICIT context tag (the tag replaces the SEQUENCE). */
function readImplicitGeneralNames(bytes: Uint8Array, el: DerElement): GeneralName[] {
  const r = DerReader.of(bytes, el);
  const names: GeneralName[] = [];
  while (!r.done) names.push(readGeneralName(bytes, r.next()));
  if (names.length === 0) throw new DerError("empty GeneralNames");
  return names;
}

/** Parses a CRL. Never throws. */
export function parseCrl(der: Uint8Array): Result<ParsedCrl, CertError> {
  if (der.length > MAX_CRL_BYTES) {
    return err(certError("crl_too_large", "The CRL is larger than allowed.", { size: der.length, limit: MAX_CRL_BYTES }));
  }
  try {
    return ok(parseCrlUnchecked(der));
  } catch (e) {
    const why = e instanceof DerError ? e.message : "it is not a valid X.509 CRL";
    return err(certError("crl_malformed", `The CRL could not be parsed: ${why}.`));
  }
}

/**
 * CRLs are parsed with pkijs (once per trust-store version, so its cost does not matter); extension values
 * are read with the DER reader, because pkijs decodes IssuingDistributionPoint.onlySomeReasons from the
 * unused-bits octet instead of the bits.
 */
function parseCrlUnchecked(der: Uint8Array): ParsedCrl {
  const asn1 = asn1js.fromBER(der);
  if (asn1.offset === -1) throw new DerError("invalid DER");
  if (asn1.offset !== der.length) throw new DerError("trailing bytes after the CRL");
  const crl = new pkijs.CertificateRevocationList({ schema: asn1.result });
  const algBytes = (a: pkijs.AlgorithmIdentifier) => new Uint8Array(a.toSchema().toBER(false));
  if (!equalBytes(algBytes(crl.signatureAlgorithm), algBytes(crl.signature))) {
    throw new DerError("the signature algorithm differs between the CRL and its TBS");
  }
  let crlNumber: bigint | null = null;
  let deltaBase: bigint | null = null;
  let aki: Uint8Array | null = null;
  let idp: ParsedCrl["issuingDistributionPoint"] = null;
  const unknownCritical: string[] = [];
  const critical: string[] = [];
  const seen = new Set<string>();
  for (const ext of crl.crlExtensions?.extensions ?? []) {
    if (seen.has(ext.extnID)) throw new DerError(`duplicate CRL extension ${ext.extnID}`);
    seen.add(ext.extnID);
    if (ext.critical) critical.push(ext.extnID);
    if (!RECOGNIZED_CRL_EXTENSIONS.has(ext.extnID)) {
      if (ext.critical) unknownCritical.push(ext.extnID);
      continue;
    }
    const value = new Uint8Array(ext.extnValue.valueBlock.valueHexView);
    const v = new DerReader(value);
    switch (ext.extnID) {
      case OID.crlNumber:
        crlNumber = bigIntegerOf(v.content(v.expect(TAG.INTEGER, "cRLNumber")));
        break;
      case OID.deltaCrlIndicator:
        deltaBase = bigIntegerOf(v.content(v.expect(TAG.INTEGER, "deltaCRLIndicator")));
        break;
      case OID.authorityKeyIdentifier: {
        const seq = DerReader.of(value, v.expect(TAG.SEQUENCE, "authorityKeyIdentifier"));
        const kid = seq.optionalContext(0, "primitive");
        if (kid) aki = value.slice(kid.contentStart, kid.end);
        break;
      }
      case OID.issuingDistributionPoint:
        idp = readIssuingDistributionPoint(value, v.expect(TAG.SEQUENCE, "issuingDistributionPoint"));
        break;
      default:
        v.next();
        break;
    }
    v.finish(`CRL extension ${ext.extnID}`);
  }
  const entries: CrlEntry[] = [];
  for (const rc of crl.revokedCertificates ?? []) entries.push(readCrlEntry(rc));
  const nextUpdate = crl.nextUpdate ? crl.nextUpdate.value : null;
  const sig = new Uint8Array(crl.signatureValue.valueBlock.valueHexView);
  // The issuer's bytes as they are in the CRL (pkijs keeps them), not a re-encoding: cert/dn.ts reads DER only.
  const issuer = new Uint8Array(crl.issuer.valueBeforeDecode);
  return {
    der,
    issuer,
    issuerKey: nameKey(issuer),
    thisUpdate: crl.thisUpdate.value,
    nextUpdate,
    signature: {
      algorithm: crl.signatureAlgorithm.algorithmId,
      params: signatureParams(crl.signatureAlgorithm),
      value: sig,
      signed: new Uint8Array(crl.tbsView),
    },
    crlNumber,
    deltaBase,
    version: crl.version === 1 ? 2 : 1,
    authorityKeyIdentifier: aki,
    issuingDistributionPoint: idp,
    entries,
    unknownCritical,
    critical,
  };
}

function signatureParams(alg: pkijs.AlgorithmIdentifier): Uint8Array | null {
  const p = alg.algorithmParams as asn1js.AsnType | undefined;
  if (p === undefined || p === null || p instanceof asn1js.Null) return null;
  return new Uint8Array(p.toBER(false));
}

function bigIntegerOf(content: Uint8Array): bigint {
  if (content.length === 0 || content[0]! & 0x80) throw new DerError("invalid CRL number");
  return BigInt("0x" + toHex(content));
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
    const value = new Uint8Array(ext.extnValue.valueBlock.valueHexView);
    const v = new DerReader(value);
    if (ext.extnID === OID.crlReason) {
      reason = decodeSmallInteger(v.content(v.expect(TAG.ENUMERATED, "reasonCode")));
    } else if (ext.extnID === OID.certificateIssuer) {
      const names = readGeneralNames(value, v.expect(TAG.SEQUENCE, "certificateIssuer"));
      certificateIssuer = names.flatMap((n) => (n.type === "dirName" ? [n.key] : []));
    } else {
      v.next();
    }
    v.finish(`CRL entry extension ${ext.extnID}`);
  }
  // A padded serial would never match the certificate's (compared as DER content): it must be minimal (X.690 §8.3.2).
  const serial = new Uint8Array(rc.userCertificate.valueBlock.valueHexView);
  checkMinimalInteger(serial, "CRL entry serialNumber");
  return {
    serialNumber: toHex(serial),
    revocationDate: rc.revocationDate.value,
    reason,
    certificateIssuer,
    unknownCritical,
  };
}

/** IssuingDistributionPoint (RFC 5280 §5.2.5). */
function readIssuingDistributionPoint(bytes: Uint8Array, seqEl: DerElement): NonNullable<ParsedCrl["issuingDistributionPoint"]> {
  const r = DerReader.of(bytes, seqEl);
  const out = {
    fullName: null as GeneralName[] | null,
    relativeName: null as Uint8Array | null,
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    onlyContainsAttributeCerts: false,
    onlySomeReasons: null as number | null,
    indirectCrl: false,
  };
  const bool = (el: DerElement | null) => (el ? decodeBoolean(bytes.subarray(el.contentStart, el.end)) : false);
  const dpn = r.optionalContext(0, "explicit");
  if (dpn) Object.assign(out, readDistributionPointName(bytes, dpn));
  out.onlyContainsUserCerts = bool(r.optionalContext(1, "primitive"));
  out.onlyContainsCACerts = bool(r.optionalContext(2, "primitive"));
  const reasons = r.optionalContext(3, "primitive");
  if (reasons) out.onlySomeReasons = namedBitsOf(bytes.subarray(reasons.contentStart, reasons.end));
  out.indirectCrl = bool(r.optionalContext(4, "primitive"));
  out.onlyContainsAttributeCerts = bool(r.optionalContext(5, "primitive"));
  r.finish("issuingDistributionPoint");
  return out;
}
