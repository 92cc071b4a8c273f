/**
 * certgate test PKI builder — X.509 certificates and CRLs for tests, demos and benchmarks.
 *
 * CONTRACT
 * - TEST / DEMO MATERIAL ONLY. Keys are generated extractable, cached in module-level pools and
 *   exported as unencrypted PKCS#8 on request. Never use anything produced here as a production
 *   key, certificate or CRL, and never load production keys into it.
 * - Deliberately permissive: it writes exactly what the spec asks for, including invalid,
 *   non-minimal and non-conformant encodings (odd serials, v1 certs with extensions, wrong
 *   signature OIDs, mismatched names, raw subjects, …). It is a generator for an RFC 5280
 *   conformance suite, not a validator.
 * - Runs unchanged in Node >= 22 and in workerd (Cloudflare Workers): it uses only
 *   `globalThis.crypto` (WebCrypto), TextEncoder/TextDecoder, btoa/atob and pkijs. No Node-only
 *   APIs (no node:crypto, Buffer, fs). Nothing global happens at module load; the pkijs crypto
 *   engine is installed lazily by `useWebCrypto()`.
 * - DER is assembled byte-by-byte by the small encoder below (tbs, extensions, names), because
 *   pkijs normalises or refuses exactly the things a conformance suite needs to get wrong.
 *   Signing is done here with crypto.subtle.sign over the TBS bytes (ECDSA r||s is converted to
 *   the DER Ecdsa-Sig-Value). pkijs/asn1js are what the tests use to parse and verify the output.
 * - Extensions are written in a fixed order: basicConstraints, keyUsage, extKeyUsage,
 *   subjectAltName, subjectKeyIdentifier, authorityKeyIdentifier, nameConstraints,
 *   certificatePolicies, policyMappings, policyConstraints, inhibitAnyPolicy,
 *   cRLDistributionPoints, then `custom` in the given order.
 */
import * as pkijs from "pkijs";
import { concatBytes } from "../../src/bytes";

// ───────────────────────────────────────────────────────────────────────────────────────────────
// pkijs engine

let engineInstalled = false;

/** globalThis.crypto (typed explicitly: workers-types declares `crypto` as a const, not on globalThis). */
function webCrypto(): Crypto {
  const c = (globalThis as unknown as { crypto?: Crypto }).crypto;
  if (!c?.subtle) throw new Error("webCrypto().subtle (WebCrypto) is not available in this runtime");
  return c;
}

/** Installs globalThis.crypto as pkijs's engine (once). Called lazily by the builder functions. */
export function useWebCrypto(): void {
  if (engineInstalled) return;
  // The cast bridges workers-types' SubtleCrypto (which adds timingSafeEqual) and pkijs's ICryptoEngine.
  const engine = new pkijs.CryptoEngine({ name: "webcrypto", crypto: webCrypto() }) as unknown as pkijs.ICryptoEngine;
  pkijs.setEngine("webcrypto", engine);
  engineInstalled = true;
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Public types

export type KeyAlgorithm = "rsa-1024" | "rsa-2048" | "rsa-3072" | "rsa-4096" | "p-256" | "p-384" | "ed25519";
export interface KeyPair {
  algorithm: KeyAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  /** DER SubjectPublicKeyInfo */
  spki: Uint8Array;
}

export type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";
export type KeyUsageName =
  | "digitalSignature"
  | "nonRepudiation"
  | "keyEncipherment"
  | "dataEncipherment"
  | "keyAgreement"
  | "keyCertSign"
  | "cRLSign"
  | "encipherOnly"
  | "decipherOnly";
export type RevocationReasonName =
  | "unspecified"
  | "keyCompromise"
  | "cACompromise"
  | "affiliationChanged"
  | "superseded"
  | "cessationOfOperation"
  | "certificateHold"
  | "removeFromCRL"
  | "privilegeWithdrawn"
  | "aACompromise";

/**
 * A GeneralName (RFC 5280 §4.2.1.6).
 * - ip: "10.0.0.1", "::1", or CIDR "10.0.0.0/8" / "2001:db8::/32" (address + mask, 8 or 32 bytes,
 *   as name constraints need; the address bits are written as given, not masked).
 * - dirName: DN text, same syntax as CertificateSpec.subject.
 * Additions: registeredId ([8] OID), otherName ([0], value = DER of the inner value, e.g. a
 * UTF8String UPN for 1.3.6.1.4.1.311.20.2.3), raw (exact DER of the whole GeneralName).
 */
export type GeneralNameSpec =
  | { dns: string }
  | { email: string }
  | { uri: string }
  | { ip: string }
  | { dirName: string }
  | { registeredId: string }
  | { otherName: { oid: string; value: Uint8Array } }
  | { raw: Uint8Array };

export interface CustomExtension {
  oid: string;
  critical: boolean;
  /** DER of the extnValue contents (what goes inside the OCTET STRING) */
  value: Uint8Array;
}

export interface DistributionPointSpec {
  uris?: string[];
  dirName?: string;
  reasons?: RevocationReasonName[];
  crlIssuer?: GeneralNameSpec[];
}

export interface CertificateSpec {
  /**
   * DN text, most-specific first (RFC 4514 / .NET order), encoded reversed (first RDN in DER is
   * the last one written). "CN=Leaf, O=Contoso\\, Inc., C=US". Escapes: `\,` `\+` `\"` `\\` etc.
   * and `\XX` hex bytes (UTF-8); quoted values "a, b"; `+` joins multi-valued RDNs; `1.2.3.4=#0C0161`
   * writes a raw BER value. Types: CN O OU C L ST/S E DC SERIALNUMBER STREET UID T GN SN, dotted OIDs
   * (optionally "OID.1.2.3"). C, SERIALNUMBER: PrintableString; E, DC: IA5String; rest UTF8String.
   */
  subject: string;
  /** Override the string type of ALL attribute values (including C, E, DC), except `#hex` ones. */
  subjectEncoding?: "utf8" | "printable" | "teletex" | "bmp";
  /** Exact DER of the subject Name; overrides `subject` (which is then only a label). */
  subjectRaw?: Uint8Array;
  /** Signer; absent = self-signed with `key`. */
  issuer?: BuiltCertificate;
  /** Write this issuer Name (DN text, or exact DER) instead of the issuer's subject bytes. */
  issuerNameOverride?: string | Uint8Array;
  /** The subject's key. */
  key: KeyPair;
  /** Hex (":"/space separators and "0x" allowed); written as given, so "00 01" or "80" are possible. Default: random positive 16 bytes. */
  serialNumber?: string;
  /** UTCTime for 1950 <= year < 2050, GeneralizedTime otherwise (RFC 5280 §4.1.2.5), unless validityEncoding says otherwise. */
  notBefore: Date;
  notAfter: Date;
  /** Addition: force the Time type of both validity dates ("utc" for year >= 2050 writes a wrapped 2-digit year). Default "auto". */
  validityEncoding?: "auto" | "utc" | "generalized";
  /**
   * 1 = no version field and no extensions field; defaults (SKI/AKI) are not added. Extensions
   * given explicitly in `extensions` are still written (a deliberately broken v1-with-extensions).
   * Default 3.
   */
  version?: 1 | 3;
  /** Default SHA-256 (ignored for Ed25519). */
  signatureHash?: HashName;
  /** Write this OID in both signature AlgorithmIdentifiers (NULL params if under 1.2.840.113549.1.1, else none) and sign with signatureHash anyway. */
  signatureAlgorithmOid?: string;
  /** Addition: write this OID in the outer Certificate.signatureAlgorithm only (mismatch with tbs.signature, RFC 5280 §4.1.1.2). */
  outerSignatureAlgorithmOid?: string;
  /** RSASSA-PSS (RSA keys only): OID 1.2.840.113549.1.1.10, params hash/MGF1(hash)/saltLength = hash length. */
  rsaPss?: boolean;
  extensions?: CertificateExtensionsSpec;
}

export interface CertificateExtensionsSpec {
  /** Default critical: true. Absent unless given. */
  basicConstraints?: { ca: boolean; pathLen?: number; critical?: boolean } | false;
  /** Default critical: true. */
  keyUsage?: { usages: KeyUsageName[]; critical?: boolean };
  /** OIDs or names serverAuth, clientAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, anyExtendedKeyUsage. Default non-critical. */
  extKeyUsage?: { oids: string[]; critical?: boolean };
  /** Default critical: true if the subject is an empty Name, else false. */
  subjectAltName?: { names: GeneralNameSpec[]; critical?: boolean };
  /** Default critical: true. */
  nameConstraints?: { permitted?: GeneralNameSpec[]; excluded?: GeneralNameSpec[]; critical?: boolean };
  /** OIDs; "anyPolicy" = 2.5.29.32.0. Default non-critical. */
  certificatePolicies?: { policies: string[]; critical?: boolean };
  /** Default critical: true. */
  policyMappings?: { mappings: Array<[issuerDomainPolicy: string, subjectDomainPolicy: string]>; critical?: boolean };
  /** Default critical: true. */
  policyConstraints?: { requireExplicitPolicy?: number; inhibitPolicyMapping?: number; critical?: boolean };
  /** Default critical: true. */
  inhibitAnyPolicy?: { skipCerts: number; critical?: boolean };
  /** Default non-critical. */
  crlDistributionPoints?: { points: DistributionPointSpec[]; critical?: boolean };
  /** Default (v3): SHA-1 of the subjectPublicKey BIT STRING contents (RFC 5280 §4.2.1.2 method 1). */
  subjectKeyIdentifier?: false | Uint8Array;
  /** Default: keyIdentifier = the issuer's SKI (omitted on self-signed unless given, or when the issuer has no SKI). */
  authorityKeyIdentifier?: false | Uint8Array;
  custom?: CustomExtension[];
}

export interface BuiltCertificate {
  der: Uint8Array;
  pem: string;
  key: KeyPair;
  /** The DN text of spec.subject (only a label when subjectRaw was given) */
  subject: string;
  /** Addition: the exact DER of the subject Name as written (children copy it as their issuer Name). */
  subjectDer: Uint8Array;
  /** Uppercase hex of the INTEGER contents as encoded */
  serialNumber: string;
  /** The SKI written into the certificate, or null if none */
  ski: Uint8Array | null;
  spec: CertificateSpec;
}

export interface CrlEntrySpec {
  serialNumber: string;
  revocationDate: Date;
  reason?: RevocationReasonName;
  /** Always GeneralizedTime (RFC 5280 §5.3.2) */
  invalidityDate?: Date;
  /** Indirect CRLs; written critical (RFC 5280 §5.3.3) */
  certificateIssuer?: GeneralNameSpec[];
  custom?: CustomExtension[];
}

export interface CrlSpec {
  /** Whose key signs and whose subject bytes are the CRL issuer Name. */
  issuer: BuiltCertificate;
  issuerNameOverride?: string | Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  entries?: CrlEntrySpec[];
  /** 1 writes a v1 CRL (no version field); give it no extensions (crlNumber: false, authorityKeyIdentifier: false). */
  version?: 1;
  /** Default 1; false omits the cRLNumber extension (non-conformant). */
  crlNumber?: number | bigint | false;
  /** baseCRLNumber → delta CRL (critical, RFC 5280 §5.2.4). */
  deltaCrlIndicator?: number | bigint;
  /** Always critical. */
  issuingDistributionPoint?: {
    uris?: string[];
    /** Addition: a directoryName distribution point name. */
    dirName?: string;
    onlyContainsUserCerts?: boolean;
    onlyContainsCACerts?: boolean;
    onlySomeReasons?: RevocationReasonName[];
    indirectCRL?: boolean;
    onlyContainsAttributeCerts?: boolean;
  };
  /** URIs (freshestCRL, non-critical). */
  freshestCrl?: string[];
  /** Default: the issuer's SKI (omitted if the issuer has none). */
  authorityKeyIdentifier?: false | Uint8Array;
  signatureHash?: HashName;
  /** Addition: as CertificateSpec.signatureAlgorithmOid. */
  signatureAlgorithmOid?: string;
  /** Addition: as CertificateSpec.rsaPss. */
  rsaPss?: boolean;
  custom?: CustomExtension[];
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Minimal DER writer (exported as `der` for building custom extension values in tests)

const EMPTY = new Uint8Array(0);
const utf8Encoder = new TextEncoder();

function encodeLength(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** TLV with a single-byte tag (all tags used in X.509 are < 31). */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = concatBytes(content);
  return concatBytes([Uint8Array.of(tag), encodeLength(body.length), body]);
}

function oidContent(oid: string): Uint8Array {
  if (!/^\d+(\.\d+)+$/.test(oid)) throw new Error(`invalid OID: ${JSON.stringify(oid)}`);
  const arcs = oid.split(".").map((a) => BigInt(a));
  const [a0 = 0n, a1 = 0n, ...rest] = arcs;
  if (a0 > 2n || (a0 < 2n && a1 > 39n)) throw new Error(`invalid OID: ${oid}`);
  const out: number[] = [];
  for (const arc of [a0 * 40n + a1, ...rest]) {
    const chunk: number[] = [Number(arc & 0x7fn)];
    for (let v = arc >> 7n; v > 0n; v >>= 7n) chunk.unshift(Number(v & 0x7fn) | 0x80);
    out.push(...chunk);
  }
  return Uint8Array.from(out);
}

/** Minimal two's-complement content octets of an integer. */
function intContent(value: number | bigint): Uint8Array {
  let v = BigInt(value);
  const bytes: number[] = [];
  if (v >= 0n) {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v > 0n);
    if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  } else {
    do {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    } while (v < -1n || ((bytes[0] ?? 0) & 0x80) === 0);
  }
  return Uint8Array.from(bytes);
}

function pad2(n: number): string {
  return String(n).padStart(2, "0");
}

function utcTimeText(d: Date): string {
  return (
    pad2(d.getUTCFullYear() % 100) +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds()) +
    "Z"
  );
}

function generalizedTimeText(d: Date): string {
  return String(d.getUTCFullYear()).padStart(4, "0") + utcTimeText(d).slice(2);
}

function latin1Bytes(s: string, what: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp > 0xff) throw new Error(`${what}: character U+${cp.toString(16).toUpperCase()} does not fit in one byte`);
    out.push(cp);
  }
  return Uint8Array.from(out);
}

function bmpBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    out[2 * i] = u >> 8;
    out[2 * i + 1] = u & 0xff;
  }
  return out;
}

/** Named BIT STRING contents (unused-bits octet + bytes) with trailing zero bits removed (X.690 §11.2.2). */
function namedBitsContent(bits: readonly number[]): Uint8Array {
  if (bits.length === 0) return Uint8Array.of(0);
  const max = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  return concatBytes([Uint8Array.of(7 - (max & 7)), bytes]);
}

export const der = {
  concat: concatBytes,
  tlv,
  sequence: (...c: Uint8Array[]) => tlv(0x30, ...c),
  set: (...c: Uint8Array[]) => tlv(0x31, ...c),
  /** [n] IMPLICIT primitive */
  contextPrimitive: (n: number, content: Uint8Array) => tlv(0x80 | n, content),
  /** [n] constructed (EXPLICIT tagging, or IMPLICIT of a constructed type) */
  contextConstructed: (n: number, ...c: Uint8Array[]) => tlv(0xa0 | n, ...c),
  boolean: (b: boolean) => tlv(0x01, Uint8Array.of(b ? 0xff : 0x00)),
  integer: (v: number | bigint) => tlv(0x02, intContent(v)),
  /** INTEGER with exactly these content octets (no normalisation) */
  integerRaw: (content: Uint8Array) => tlv(0x02, content),
  bitString: (bytes: Uint8Array, unusedBits = 0) => tlv(0x03, Uint8Array.of(unusedBits), bytes),
  octetString: (bytes: Uint8Array) => tlv(0x04, bytes),
  null: () => Uint8Array.of(0x05, 0x00),
  oid: (oid: string) => tlv(0x06, oidContent(oid)),
  enumerated: (v: number) => tlv(0x0a, intContent(v)),
  utf8String: (s: string) => tlv(0x0c, utf8Encoder.encode(s)),
  printableString: (s: string) => tlv(0x13, latin1Bytes(s, "PrintableString")),
  teletexString: (s: string) => tlv(0x14, latin1Bytes(s, "TeletexString")),
  ia5String: (s: string) => tlv(0x16, utf8Encoder.encode(s)),
  bmpString: (s: string) => tlv(0x1e, bmpBytes(s)),
  utcTime: (d: Date) => tlv(0x17, utf8Encoder.encode(utcTimeText(d))),
  generalizedTime: (d: Date) => tlv(0x18, utf8Encoder.encode(generalizedTimeText(d))),
  /** RFC 5280 Time: UTCTime for 1950..2049, GeneralizedTime otherwise */
  time: (d: Date, encoding: "auto" | "utc" | "generalized" = "auto") => {
    if (Number.isNaN(d.getTime())) throw new Error("invalid Date");
    const y = d.getUTCFullYear();
    const utc = encoding === "utc" || (encoding === "auto" && y >= 1950 && y < 2050);
    return utc ? der.utcTime(d) : der.generalizedTime(d);
  },
} as const;

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Minimal DER reader (for offsets, SPKI parsing)

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  length: number;
  end: number;
}

function byteAt(buf: Uint8Array, i: number): number {
  const b = buf[i];
  if (b === undefined) throw new Error(`DER truncated at offset ${i}`);
  return b;
}

function readTlv(buf: Uint8Array, offset: number): Tlv {
  const tag = byteAt(buf, offset);
  if ((tag & 0x1f) === 0x1f) throw new Error(`multi-byte tag at offset ${offset} not supported`);
  const first = byteAt(buf, offset + 1);
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new Error(`unsupported length form at offset ${offset + 1}`);
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + byteAt(buf, offset + 2 + i);
    contentStart = offset + 2 + n;
  }
  const end = contentStart + length;
  if (end > buf.length) throw new Error(`DER element at offset ${offset} overruns the buffer`);
  return { tag, start: offset, contentStart, length, end };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = parent.contentStart; p < parent.end; ) {
    const t = readTlv(buf, p);
    out.push(t);
    p = t.end;
  }
  return out;
}

/** Returns the subjectPublicKey BIT STRING contents (without the unused-bits octet). */
function spkiPublicKeyBits(spki: Uint8Array): Uint8Array {
  const outer = readTlv(spki, 0);
  const [, bits] = children(spki, outer);
  if (!bits || bits.tag !== 0x03) throw new Error("malformed SubjectPublicKeyInfo");
  return spki.slice(bits.contentStart + 1, bits.end);
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Names

const DN_TYPES: Record<string, { oid: string; tag: number }> = {
  CN: { oid: "2.5.4.3", tag: 0x0c },
  SN: { oid: "2.5.4.4", tag: 0x0c },
  SERIALNUMBER: { oid: "2.5.4.5", tag: 0x13 },
  C: { oid: "2.5.4.6", tag: 0x13 },
  L: { oid: "2.5.4.7", tag: 0x0c },
  ST: { oid: "2.5.4.8", tag: 0x0c },
  S: { oid: "2.5.4.8", tag: 0x0c },
  STREET: { oid: "2.5.4.9", tag: 0x0c },
  O: { oid: "2.5.4.10", tag: 0x0c },
  OU: { oid: "2.5.4.11", tag: 0x0c },
  T: { oid: "2.5.4.12", tag: 0x0c },
  TITLE: { oid: "2.5.4.12", tag: 0x0c },
  GN: { oid: "2.5.4.42", tag: 0x0c },
  G: { oid: "2.5.4.42", tag: 0x0c },
  E: { oid: "1.2.840.113549.1.9.1", tag: 0x16 },
  EMAIL: { oid: "1.2.840.113549.1.9.1", tag: 0x16 },
  EMAILADDRESS: { oid: "1.2.840.113549.1.9.1", tag: 0x16 },
  DC: { oid: "0.9.2342.19200300.100.1.25", tag: 0x16 },
  UID: { oid: "0.9.2342.19200300.100.1.1", tag: 0x0c },
};

const ENCODING_TAG = { utf8: 0x0c, printable: 0x13, teletex: 0x14, bmp: 0x1e } as const;

interface ParsedAttribute {
  oid: string;
  defaultTag: number;
  /** value as UTF-8 bytes (escapes resolved), or raw BER when `raw` */
  value: Uint8Array;
  raw: boolean;
}

function hexToBytes(hex: string, what: string): Uint8Array {
  let h = hex.replace(/[\s:]/g, "");
  if (/^0x/i.test(h)) h = h.slice(2);
  if (!/^[0-9a-fA-F]*$/.test(h)) throw new Error(`${what}: not hex: ${JSON.stringify(hex)}`);
  if (h.length % 2) h = "0" + h;
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function bytesToHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s.toUpperCase();
}

/** Parses RFC 4514-style DN text into RDNs in the order written (most specific first). */
function parseDn(text: string): ParsedAttribute[][] {
  const rdns: ParsedAttribute[][] = [];
  if (text.trim() === "") return rdns;
  let i = 0;
  let current: ParsedAttribute[] = [];
  const n = text.length;
  const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";

  while (i <= n) {
    // attribute type
    while (isSpace(text[i])) i++;
    const eq = text.indexOf("=", i);
    if (eq < 0) throw new Error(`DN ${JSON.stringify(text)}: missing '=' after position ${i}`);
    let type = text.slice(i, eq).trim();
    i = eq + 1;
    while (isSpace(text[i])) i++;
    if (/^oid\./i.test(type)) type = type.slice(4);
    let oid: string;
    let defaultTag = 0x0c;
    const known = DN_TYPES[type.toUpperCase()];
    if (known) {
      oid = known.oid;
      defaultTag = known.tag;
    } else if (/^\d+(\.\d+)+$/.test(type)) {
      oid = type;
    } else {
      throw new Error(`DN ${JSON.stringify(text)}: unknown attribute type ${JSON.stringify(type)}`);
    }

    // attribute value
    const bytes: number[] = [];
    let raw = false;
    let keepLength = 0; // length of `bytes` up to the last non-trimmable byte
    if (text[i] === "#") {
      let j = i + 1;
      while (j < n && /[0-9a-fA-F]/.test(text[j] ?? "")) j++;
      bytes.push(...hexToBytes(text.slice(i + 1, j), `DN value for ${type}`));
      raw = true;
      keepLength = bytes.length;
      i = j;
      while (isSpace(text[i])) i++;
    } else if (text[i] === '"') {
      i++;
      for (;;) {
        const c = text[i];
        if (c === undefined) throw new Error(`DN ${JSON.stringify(text)}: unterminated quoted value`);
        if (c === '"') {
          i++;
          break;
        }
        if (c === "\\") {
          i = readEscape(text, i, bytes);
          continue;
        }
        const cp = text.codePointAt(i) ?? 0;
        const s = String.fromCodePoint(cp);
        bytes.push(...utf8Encoder.encode(s));
        i += s.length;
      }
      keepLength = bytes.length;
      while (isSpace(text[i])) i++;
    } else {
      for (;;) {
        const c = text[i];
        if (c === undefined || c === "," || c === "+" || c === ";") break;
        if (c === "\\") {
          i = readEscape(text, i, bytes);
          keepLength = bytes.length;
          continue;
        }
        const cp = text.codePointAt(i) ?? 0;
        const s = String.fromCodePoint(cp);
        bytes.push(...utf8Encoder.encode(s));
        if (!isSpace(c)) keepLength = bytes.length;
        i += s.length;
      }
    }
    current.push({ oid, defaultTag, value: Uint8Array.from(bytes.slice(0, keepLength)), raw });

    const sep = text[i];
    if (sep === undefined) {
      rdns.push(current);
      break;
    }
    if (sep === "+") {
      i++;
      continue;
    }
    if (sep === "," || sep === ";") {
      rdns.push(current);
      current = [];
      i++;
      continue;
    }
    throw new Error(`DN ${JSON.stringify(text)}: unexpected ${JSON.stringify(sep)} at position ${i}`);
  }
  return rdns;
}

function readEscape(text: string, i: number, bytes: number[]): number {
  const a = text[i + 1];
  const b = text[i + 2];
  if (a === undefined) throw new Error(`DN ${JSON.stringify(text)}: dangling backslash`);
  if (b !== undefined && /^[0-9a-fA-F]{2}$/.test(a + b)) {
    bytes.push(parseInt(a + b, 16));
    return i + 3;
  }
  const cp = text.codePointAt(i + 1) ?? 0;
  const s = String.fromCodePoint(cp);
  bytes.push(...utf8Encoder.encode(s));
  return i + 1 + s.length;
}

const utf8Decoder = new TextDecoder("utf-8");

function encodeAttributeValue(attr: ParsedAttribute, encoding?: CertificateSpec["subjectEncoding"]): Uint8Array {
  if (attr.raw) return attr.value;
  const tag = encoding ? ENCODING_TAG[encoding] : attr.defaultTag;
  switch (tag) {
    case 0x0c: // UTF8String
    case 0x16: // IA5String: bytes as given (non-ASCII makes it deliberately invalid)
      return tlv(tag, attr.value);
    case 0x1e:
      return tlv(tag, bmpBytes(utf8Decoder.decode(attr.value)));
    default: // PrintableString, TeletexString: one byte per character (latin-1)
      return tlv(tag, latin1Bytes(utf8Decoder.decode(attr.value), "DN value"));
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** DER of a Name from DN text (RDNs written most-specific first, encoded in reverse). */
export function encodeName(text: string, encoding?: CertificateSpec["subjectEncoding"]): Uint8Array {
  const rdns = parseDn(text).reverse();
  return der.sequence(
    ...rdns.map((rdn) => {
      // DER SET OF: elements sorted by their encodings
      const atvs = rdn.map((a) => der.sequence(der.oid(a.oid), encodeAttributeValue(a, encoding))).sort(compareBytes);
      return der.set(...atvs);
    }),
  );
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// GeneralName

function parseIPv4(s: string): number[] | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return null;
    const v = Number(p);
    if (v > 255) return null;
    out.push(v);
  }
  return out;
}

function parseIPv6(s: string): number[] | null {
  let tail: number[] = [];
  let str = s;
  const lastColon = str.lastIndexOf(":");
  if (str.slice(lastColon + 1).includes(".")) {
    const v4 = parseIPv4(str.slice(lastColon + 1));
    if (!v4) return null;
    tail = v4;
    str = str.slice(0, lastColon + 1) + "0:0"; // placeholder groups, replaced below
  }
  const halves = str.split("::");
  if (halves.length > 2) return null;
  const toGroups = (h: string | undefined) => (h ? h.split(":") : []);
  const head = toGroups(halves[0]);
  const rest = toGroups(halves[1]);
  let groups: string[];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...Array<string>(missing).fill("0"), ...rest];
  } else {
    groups = head;
  }
  if (groups.length !== 8) return null;
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const v = parseInt(g, 16);
    out.push(v >> 8, v & 0xff);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

/** "10.0.0.1" → 4 bytes, "::1" → 16 bytes, "10.0.0.0/8" → 8 bytes (address + mask), "2001:db8::/32" → 32 bytes. */
export function encodeIpAddress(text: string): Uint8Array {
  const [addrText = "", prefixText, extra] = text.trim().split("/");
  if (extra !== undefined) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
  const addr = addrText.includes(":") ? parseIPv6(addrText) : parseIPv4(addrText);
  if (!addr) throw new Error(`invalid IP address ${JSON.stringify(text)}`);
  if (prefixText === undefined) return Uint8Array.from(addr);
  if (!/^\d+$/.test(prefixText) || Number(prefixText) > addr.length * 8) throw new Error(`invalid prefix in ${JSON.stringify(text)}`);
  const prefix = Number(prefixText);
  const mask = addr.map((_, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return (0xff00 >> bits) & 0xff;
  });
  return Uint8Array.from([...addr, ...mask]);
}

export function encodeGeneralName(name: GeneralNameSpec): Uint8Array {
  if ("dns" in name) return der.contextPrimitive(2, utf8Encoder.encode(name.dns));
  if ("email" in name) return der.contextPrimitive(1, utf8Encoder.encode(name.email));
  if ("uri" in name) return der.contextPrimitive(6, utf8Encoder.encode(name.uri));
  if ("ip" in name) return der.contextPrimitive(7, encodeIpAddress(name.ip));
  if ("dirName" in name) return der.contextConstructed(4, encodeName(name.dirName));
  if ("registeredId" in name) return der.contextPrimitive(8, oidContent(name.registeredId));
  if ("otherName" in name) return der.contextConstructed(0, der.oid(name.otherName.oid), der.contextConstructed(0, name.otherName.value));
  if ("raw" in name) return name.raw;
  throw new Error(`unknown GeneralName spec ${JSON.stringify(name)}`);
}

const encodeGeneralNames = (names: readonly GeneralNameSpec[]) => der.sequence(...names.map(encodeGeneralName));

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Keys

const RSA_BITS: Partial<Record<KeyAlgorithm, number>> = { "rsa-1024": 1024, "rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096 };

function isRsa(a: KeyAlgorithm): boolean {
  return a.startsWith("rsa-");
}

export async function generateKeyPair(algorithm: KeyAlgorithm): Promise<KeyPair> {
  const subtle = webCrypto().subtle;
  let params: SubtleCryptoGenerateKeyAlgorithm;
  const bits = RSA_BITS[algorithm];
  if (bits) {
    params = { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: Uint8Array.of(1, 0, 1), hash: "SHA-256" };
  } else if (algorithm === "p-256" || algorithm === "p-384") {
    params = { name: "ECDSA", namedCurve: algorithm === "p-256" ? "P-256" : "P-384" };
  } else if (algorithm === "ed25519") {
    params = { name: "Ed25519" };
  } else {
    throw new Error(`unknown key algorithm ${String(algorithm)}`);
  }
  const pair = (await subtle.generateKey(params, true, ["sign", "verify"])) as CryptoKeyPair;
  const spki = new Uint8Array((await subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
  return { algorithm, privateKey: pair.privateKey, publicKey: pair.publicKey, spki };
}

const keyPool = new Map<string, Promise<KeyPair>>();

/** Cached keys by (algorithm, slot) so a suite needing 200 certs does not pay 200 RSA key generations. */
export function pooledKeyPair(algorithm: KeyAlgorithm, slot: number): Promise<KeyPair> {
  const k = `${algorithm}#${slot}`;
  let p = keyPool.get(k);
  if (!p) {
    p = generateKeyPair(algorithm);
    keyPool.set(k, p);
    p.catch(() => keyPool.delete(k));
  }
  return p;
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Signatures

const RSA_PKCS1_OID: Record<HashName, string> = {
  "SHA-1": "1.2.840.113549.1.1.5",
  "SHA-256": "1.2.840.113549.1.1.11",
  "SHA-384": "1.2.840.113549.1.1.12",
  "SHA-512": "1.2.840.113549.1.1.13",
};
const ECDSA_OID: Record<HashName, string> = {
  "SHA-1": "1.2.840.10045.4.1",
  "SHA-256": "1.2.840.10045.4.3.2",
  "SHA-384": "1.2.840.10045.4.3.3",
  "SHA-512": "1.2.840.10045.4.3.4",
};
const HASH_OID: Record<HashName, string> = {
  "SHA-1": "1.3.14.3.2.26",
  "SHA-256": "2.16.840.1.101.3.4.2.1",
  "SHA-384": "2.16.840.1.101.3.4.2.2",
  "SHA-512": "2.16.840.1.101.3.4.2.3",
};
const HASH_LEN: Record<HashName, number> = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64 };
const ED25519_OID = "1.3.101.112";
const RSA_PSS_OID = "1.2.840.113549.1.1.10";
const MGF1_OID = "1.2.840.113549.1.1.8";

interface SignatureOptions {
  hash?: HashName;
  oid?: string;
  rsaPss?: boolean;
}

function signatureAlgorithmIdentifier(key: KeyPair, opts: SignatureOptions): Uint8Array {
  const hash = opts.hash ?? "SHA-256";
  if (opts.oid) {
    return opts.oid.startsWith("1.2.840.113549.1.1.") ? der.sequence(der.oid(opts.oid), der.null()) : der.sequence(der.oid(opts.oid));
  }
  if (opts.rsaPss) {
    if (!isRsa(key.algorithm)) throw new Error(`rsaPss needs an RSA key, got ${key.algorithm}`);
    const hashAlg = der.sequence(der.oid(HASH_OID[hash]), der.null());
    // RFC 4055 §3.1: fields equal to their DEFAULT (SHA-1, MGF1-SHA1, 20, trailer 1) are omitted.
    const params =
      hash === "SHA-1"
        ? der.sequence()
        : der.sequence(
            der.contextConstructed(0, hashAlg),
            der.contextConstructed(1, der.sequence(der.oid(MGF1_OID), hashAlg)),
            der.contextConstructed(2, der.integer(HASH_LEN[hash])),
          );
    return der.sequence(der.oid(RSA_PSS_OID), params);
  }
  if (isRsa(key.algorithm)) return der.sequence(der.oid(RSA_PKCS1_OID[hash]), der.null());
  if (key.algorithm === "ed25519") return der.sequence(der.oid(ED25519_OID));
  return der.sequence(der.oid(ECDSA_OID[hash]));
}

/** RSA keys are bound to one hash/scheme in WebCrypto: re-import the private key per (scheme, hash). */
const rsaSigningKeys = new WeakMap<CryptoKey, Map<string, Promise<CryptoKey>>>();

function rsaSigningKey(key: KeyPair, scheme: "RSASSA-PKCS1-v1_5" | "RSA-PSS", hash: HashName): Promise<CryptoKey> {
  const alg = key.privateKey.algorithm as { name: string; hash?: { name: string } };
  if (alg.name === scheme && alg.hash?.name === hash) return Promise.resolve(key.privateKey);
  let byAlg = rsaSigningKeys.get(key.privateKey);
  if (!byAlg) {
    byAlg = new Map();
    rsaSigningKeys.set(key.privateKey, byAlg);
  }
  const k = `${scheme}/${hash}`;
  let p = byAlg.get(k);
  if (!p) {
    const subtle = webCrypto().subtle;
    p = (subtle.exportKey("pkcs8", key.privateKey) as Promise<ArrayBuffer>).then((pkcs8) =>
      subtle.importKey("pkcs8", pkcs8, { name: scheme, hash }, false, ["sign"]),
    );
    byAlg.set(k, p);
  }
  return p;
}

/** WebCrypto ECDSA signature (r || s, fixed width) → DER Ecdsa-Sig-Value SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2) throw new Error("ECDSA signature must be r||s of even length");
  const half = raw.length / 2;
  const int = (bytes: Uint8Array) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const v = bytes.subarray(i);
    return der.integerRaw((v[0] ?? 0) & 0x80 ? concatBytes([Uint8Array.of(0), v]) : v);
  };
  return der.sequence(int(raw.subarray(0, half)), int(raw.subarray(half)));
}

async function signBytes(key: KeyPair, data: Uint8Array, opts: SignatureOptions): Promise<Uint8Array> {
  const subtle = webCrypto().subtle;
  const hash = opts.hash ?? "SHA-256";
  if (isRsa(key.algorithm)) {
    if (opts.rsaPss) {
      const k = await rsaSigningKey(key, "RSA-PSS", hash);
      return new Uint8Array(await subtle.sign({ name: "RSA-PSS", saltLength: HASH_LEN[hash] }, k, data));
    }
    const k = await rsaSigningKey(key, "RSASSA-PKCS1-v1_5", hash);
    return new Uint8Array(await subtle.sign({ name: "RSASSA-PKCS1-v1_5" }, k, data));
  }
  if (opts.rsaPss) throw new Error(`rsaPss needs an RSA key, got ${key.algorithm}`);
  if (key.algorithm === "ed25519") {
    return new Uint8Array(await subtle.sign({ name: key.privateKey.algorithm.name }, key.privateKey, data));
  }
  const raw = new Uint8Array(await subtle.sign({ name: "ECDSA", hash }, key.privateKey, data));
  return ecdsaRawToDer(raw);
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Extensions

const KEY_USAGE_BIT: Record<KeyUsageName, number> = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
  encipherOnly: 7,
  decipherOnly: 8,
};

const EKU_OID: Record<string, string> = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
  codeSigning: "1.3.6.1.5.5.7.3.3",
  emailProtection: "1.3.6.1.5.5.7.3.4",
  timeStamping: "1.3.6.1.5.5.7.3.8",
  OCSPSigning: "1.3.6.1.5.5.7.3.9",
  anyExtendedKeyUsage: "2.5.29.37.0",
};

const REASON_CODE: Record<RevocationReasonName, number> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** ReasonFlags bit numbers (RFC 5280 §4.2.1.13); bit 0 is "unused", written for "unspecified". */
const REASON_FLAG_BIT: Partial<Record<RevocationReasonName, number>> = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 7,
  aACompromise: 8,
};

export const OIDS = {
  anyPolicy: "2.5.29.32.0",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  cRLNumber: "2.5.29.20",
  reasonCode: "2.5.29.21",
  invalidityDate: "2.5.29.24",
  deltaCRLIndicator: "2.5.29.27",
  issuingDistributionPoint: "2.5.29.28",
  certificateIssuer: "2.5.29.29",
  nameConstraints: "2.5.29.30",
  cRLDistributionPoints: "2.5.29.31",
  certificatePolicies: "2.5.29.32",
  policyMappings: "2.5.29.33",
  authorityKeyIdentifier: "2.5.29.35",
  policyConstraints: "2.5.29.36",
  extKeyUsage: "2.5.29.37",
  freshestCRL: "2.5.29.46",
  inhibitAnyPolicy: "2.5.29.54",
  ...EKU_OID,
} as const;

const policyOid = (p: string) => (p === "anyPolicy" ? OIDS.anyPolicy : p);

function reasonFlags(reasons: readonly RevocationReasonName[]): Uint8Array {
  return namedBitsContent(
    reasons.map((r) => {
      const bit = REASON_FLAG_BIT[r];
      if (bit === undefined) throw new Error(`reason ${r} has no ReasonFlags bit`);
      return bit;
    }),
  );
}

function extension(oid: string, critical: boolean, value: Uint8Array): Uint8Array {
  return der.sequence(der.oid(oid), critical ? der.boolean(true) : EMPTY, der.octetString(value));
}

function distributionPointName(uris: readonly string[] | undefined, dirName: string | undefined): Uint8Array {
  const names: GeneralNameSpec[] = [...(uris ?? []).map((uri) => ({ uri })), ...(dirName !== undefined ? [{ dirName }] : [])];
  if (names.length === 0) return EMPTY;
  // [0] EXPLICIT DistributionPointName { [0] IMPLICIT GeneralNames fullName }
  return der.contextConstructed(0, der.contextConstructed(0, ...names.map(encodeGeneralName)));
}

function crlDistributionPointsValue(points: readonly DistributionPointSpec[]): Uint8Array {
  return der.sequence(
    ...points.map((p) =>
      der.sequence(
        distributionPointName(p.uris, p.dirName),
        p.reasons ? der.contextPrimitive(1, reasonFlags(p.reasons)) : EMPTY,
        p.crlIssuer ? der.contextConstructed(2, ...p.crlIssuer.map(encodeGeneralName)) : EMPTY,
      ),
    ),
  );
}

const authorityKeyIdValue = (keyId: Uint8Array) => der.sequence(der.contextPrimitive(0, keyId));

async function sha1(data: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await webCrypto().subtle.digest("SHA-1", data));
}

/** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING contents. */
export function computeKeyIdentifier(key: KeyPair): Promise<Uint8Array> {
  return sha1(spkiPublicKeyBits(key.spki));
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// Certificates

function serialBytes(serial: string | undefined): Uint8Array {
  if (serial !== undefined) return hexToBytes(serial, "serialNumber");
  const b = webCrypto().getRandomValues(new Uint8Array(16));
  b[0] = ((b[0] ?? 0) & 0x3f) | 0x40; // positive, exactly 16 bytes, minimal encoding
  return b;
}

function issuerNameDer(override: string | Uint8Array | undefined, fallback: Uint8Array): Uint8Array {
  if (override === undefined) return fallback;
  return typeof override === "string" ? encodeName(override) : override;
}

export async function issueCertificate(spec: CertificateSpec): Promise<BuiltCertificate> {
  useWebCrypto();
  const version = spec.version ?? 3;
  const ext = spec.extensions ?? {};
  const subjectDer = spec.subjectRaw ?? encodeName(spec.subject, spec.subjectEncoding);
  const signerKey = spec.issuer ? spec.issuer.key : spec.key;
  const issuerName = issuerNameDer(spec.issuerNameOverride, spec.issuer ? spec.issuer.subjectDer : subjectDer);
  const serial = serialBytes(spec.serialNumber);
  const sigOpts: SignatureOptions = { hash: spec.signatureHash, oid: spec.signatureAlgorithmOid, rsaPss: spec.rsaPss };
  const tbsSigAlg = signatureAlgorithmIdentifier(signerKey, sigOpts);
  const outerSigAlg = spec.outerSignatureAlgorithmOid
    ? signatureAlgorithmIdentifier(signerKey, { ...sigOpts, oid: spec.outerSignatureAlgorithmOid })
    : tbsSigAlg;

  // Extensions
  const exts: Uint8Array[] = [];
  const v3 = version === 3;
  const bc = ext.basicConstraints;
  if (bc) {
    exts.push(
      extension(
        OIDS.basicConstraints,
        bc.critical ?? true,
        der.sequence(bc.ca ? der.boolean(true) : EMPTY, bc.pathLen !== undefined ? der.integer(bc.pathLen) : EMPTY),
      ),
    );
  }
  if (ext.keyUsage) {
    const bits = ext.keyUsage.usages.map((u) => {
      const b = KEY_USAGE_BIT[u];
      if (b === undefined) throw new Error(`unknown key usage ${String(u)}`);
      return b;
    });
    exts.push(extension(OIDS.keyUsage, ext.keyUsage.critical ?? true, tlv(0x03, namedBitsContent(bits))));
  }
  if (ext.extKeyUsage) {
    exts.push(
      extension(OIDS.extKeyUsage, ext.extKeyUsage.critical ?? false, der.sequence(...ext.extKeyUsage.oids.map((o) => der.oid(EKU_OID[o] ?? o)))),
    );
  }
  if (ext.subjectAltName) {
    const emptySubject = subjectDer.length === 2 && subjectDer[0] === 0x30 && subjectDer[1] === 0;
    exts.push(extension(OIDS.subjectAltName, ext.subjectAltName.critical ?? emptySubject, encodeGeneralNames(ext.subjectAltName.names)));
  }
  let ski: Uint8Array | null = null;
  if (ext.subjectKeyIdentifier instanceof Uint8Array) ski = ext.subjectKeyIdentifier;
  else if (ext.subjectKeyIdentifier === undefined && v3) ski = await computeKeyIdentifier(spec.key);
  if (ski) exts.push(extension(OIDS.subjectKeyIdentifier, false, der.octetString(ski)));
  let aki: Uint8Array | null = null;
  if (ext.authorityKeyIdentifier instanceof Uint8Array) aki = ext.authorityKeyIdentifier;
  else if (ext.authorityKeyIdentifier === undefined && v3 && spec.issuer?.ski) aki = spec.issuer.ski;
  if (aki) exts.push(extension(OIDS.authorityKeyIdentifier, false, authorityKeyIdValue(aki)));
  if (ext.nameConstraints) {
    const subtrees = (names: GeneralNameSpec[]) => names.map((n) => der.sequence(encodeGeneralName(n)));
    const nc = ext.nameConstraints;
    exts.push(
      extension(
        OIDS.nameConstraints,
        nc.critical ?? true,
        der.sequence(
          nc.permitted ? der.contextConstructed(0, ...subtrees(nc.permitted)) : EMPTY,
          nc.excluded ? der.contextConstructed(1, ...subtrees(nc.excluded)) : EMPTY,
        ),
      ),
    );
  }
  if (ext.certificatePolicies) {
    exts.push(
      extension(
        OIDS.certificatePolicies,
        ext.certificatePolicies.critical ?? false,
        der.sequence(...ext.certificatePolicies.policies.map((p) => der.sequence(der.oid(policyOid(p))))),
      ),
    );
  }
  if (ext.policyMappings) {
    exts.push(
      extension(
        OIDS.policyMappings,
        ext.policyMappings.critical ?? true,
        der.sequence(...ext.policyMappings.mappings.map(([i, s]) => der.sequence(der.oid(policyOid(i)), der.oid(policyOid(s))))),
      ),
    );
  }
  if (ext.policyConstraints) {
    const pc = ext.policyConstraints;
    exts.push(
      extension(
        OIDS.policyConstraints,
        pc.critical ?? true,
        der.sequence(
          pc.requireExplicitPolicy !== undefined ? der.contextPrimitive(0, intContent(pc.requireExplicitPolicy)) : EMPTY,
          pc.inhibitPolicyMapping !== undefined ? der.contextPrimitive(1, intContent(pc.inhibitPolicyMapping)) : EMPTY,
        ),
      ),
    );
  }
  if (ext.inhibitAnyPolicy) {
    exts.push(extension(OIDS.inhibitAnyPolicy, ext.inhibitAnyPolicy.critical ?? true, der.integer(ext.inhibitAnyPolicy.skipCerts)));
  }
  if (ext.crlDistributionPoints) {
    exts.push(
      extension(
        OIDS.cRLDistributionPoints,
        ext.crlDistributionPoints.critical ?? false,
        crlDistributionPointsValue(ext.crlDistributionPoints.points),
      ),
    );
  }
  for (const c of ext.custom ?? []) exts.push(extension(c.oid, c.critical, c.value));

  const tbs = der.sequence(
    v3 ? der.contextConstructed(0, der.integer(2)) : EMPTY,
    der.integerRaw(serial),
    tbsSigAlg,
    issuerName,
    der.sequence(der.time(spec.notBefore, spec.validityEncoding), der.time(spec.notAfter, spec.validityEncoding)),
    subjectDer,
    spec.key.spki,
    exts.length ? der.contextConstructed(3, der.sequence(...exts)) : EMPTY,
  );
  const signature = await signBytes(signerKey, tbs, sigOpts);
  const certDer = der.sequence(tbs, outerSigAlg, der.bitString(signature));
  return {
    der: certDer,
    pem: toPem(certDer, "CERTIFICATE"),
    key: spec.key,
    subject: spec.subject,
    subjectDer,
    serialNumber: bytesToHex(serial),
    ski,
    spec,
  };
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// CRLs

export async function issueCrl(spec: CrlSpec): Promise<{ der: Uint8Array; pem: string }> {
  useWebCrypto();
  const signerKey = spec.issuer.key;
  const sigOpts: SignatureOptions = { hash: spec.signatureHash, oid: spec.signatureAlgorithmOid, rsaPss: spec.rsaPss };
  const sigAlg = signatureAlgorithmIdentifier(signerKey, sigOpts);

  const entries = (spec.entries ?? []).map((e) => {
    const entryExts: Uint8Array[] = [];
    if (e.reason !== undefined) entryExts.push(extension(OIDS.reasonCode, false, der.enumerated(REASON_CODE[e.reason])));
    if (e.invalidityDate) entryExts.push(extension(OIDS.invalidityDate, false, der.generalizedTime(e.invalidityDate)));
    if (e.certificateIssuer) entryExts.push(extension(OIDS.certificateIssuer, true, encodeGeneralNames(e.certificateIssuer)));
    for (const c of e.custom ?? []) entryExts.push(extension(c.oid, c.critical, c.value));
    return der.sequence(
      der.integerRaw(hexToBytes(e.serialNumber, "CRL entry serialNumber")),
      der.time(e.revocationDate),
      entryExts.length ? der.sequence(...entryExts) : EMPTY,
    );
  });

  const exts: Uint8Array[] = [];
  let aki: Uint8Array | null = null;
  if (spec.authorityKeyIdentifier instanceof Uint8Array) aki = spec.authorityKeyIdentifier;
  else if (spec.authorityKeyIdentifier === undefined) aki = spec.issuer.ski;
  if (aki) exts.push(extension(OIDS.authorityKeyIdentifier, false, authorityKeyIdValue(aki)));
  const crlNumber = spec.crlNumber ?? 1;
  if (crlNumber !== false) exts.push(extension(OIDS.cRLNumber, false, der.integer(crlNumber)));
  if (spec.deltaCrlIndicator !== undefined) exts.push(extension(OIDS.deltaCRLIndicator, true, der.integer(spec.deltaCrlIndicator)));
  const idp = spec.issuingDistributionPoint;
  if (idp) {
    const flag = (n: number, b: boolean | undefined) => (b ? der.contextPrimitive(n, Uint8Array.of(0xff)) : EMPTY);
    exts.push(
      extension(
        OIDS.issuingDistributionPoint,
        true,
        der.sequence(
          distributionPointName(idp.uris, idp.dirName),
          flag(1, idp.onlyContainsUserCerts),
          flag(2, idp.onlyContainsCACerts),
          idp.onlySomeReasons ? der.contextPrimitive(3, reasonFlags(idp.onlySomeReasons)) : EMPTY,
          flag(4, idp.indirectCRL),
          flag(5, idp.onlyContainsAttributeCerts),
        ),
      ),
    );
  }
  if (spec.freshestCrl) exts.push(extension(OIDS.freshestCRL, false, crlDistributionPointsValue([{ uris: spec.freshestCrl }])));
  for (const c of spec.custom ?? []) exts.push(extension(c.oid, c.critical, c.value));

  const tbs = der.sequence(
    spec.version === 1 ? EMPTY : der.integer(1), // v2 (a v1 CRL has no version field, RFC 5280 §5.1.2.1)
    sigAlg,
    issuerNameDer(spec.issuerNameOverride, spec.issuer.subjectDer),
    der.time(spec.thisUpdate),
    spec.nextUpdate ? der.time(spec.nextUpdate) : EMPTY,
    entries.length ? der.sequence(...entries) : EMPTY, // RFC 5280 §5.1.2.6: absent when empty
    exts.length ? der.contextConstructed(0, der.sequence(...exts)) : EMPTY,
  );
  const signature = await signBytes(signerKey, tbs, sigOpts);
  const crlDer = der.sequence(tbs, sigAlg, der.bitString(signature));
  return { der: crlDer, pem: toPem(crlDer, "X509 CRL") };
}

// ───────────────────────────────────────────────────────────────────────────────────────────────
// PEM, tampering helpers

function toBase64(bytes: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** PEM with 64-character lines and a trailing newline. */
export function toPem(derBytes: Uint8Array, label: "CERTIFICATE" | "X509 CRL" | "PRIVATE KEY"): string {
  const b64 = toBase64(derBytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN ${label}-----\n${lines.join("\n")}${lines.length ? "\n" : ""}-----END ${label}-----\n`;
}

/** DER from the first PEM block (any label). */
export function fromPem(pem: string): Uint8Array {
  const m = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!m) throw new Error("no PEM block found");
  const bin = atob((m[1] ?? "").replace(/\s+/g, ""));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** PKCS#8 PEM of the private key (test keys are generated extractable). */
export async function exportPrivateKeyPem(key: KeyPair): Promise<string> {
  const pkcs8 = (await webCrypto().subtle.exportKey("pkcs8", key.privateKey)) as ArrayBuffer;
  return toPem(new Uint8Array(pkcs8), "PRIVATE KEY");
}

/** Returns a copy of `der` with the byte at `index` XOR-ed with `mask` (to forge signatures / tamper contents). */
export function flipByte(derBytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= derBytes.length) throw new RangeError(`index ${index} outside 0..${derBytes.length - 1}`);
  const out = derBytes.slice();
  out[index] = (out[index] ?? 0) ^ (mask & 0xff);
  return out;
}

/**
 * Index of the last byte of the signature value of a Certificate or CertificateList (SEQUENCE
 * { tbs, algorithm, BIT STRING }); tampering there breaks only the signature.
 */
export function signatureByteIndex(derBytes: Uint8Array): number {
  const outer = readTlv(derBytes, 0);
  const [tbs, alg, sig] = children(derBytes, outer);
  if (!tbs || !alg || !sig || sig.tag !== 0x03 || sig.length < 2) throw new Error("not a signed SEQUENCE { tbs, algorithm, BIT STRING }");
  return sig.end - 1;
}

/**
 * Index of a byte inside the TBS subject Name of a certificate: the last content byte of the last
 * attribute value (e.g. the "f" of CN=Leaf). Tampering there keeps the DER well-formed but changes
 * the signed contents.
 */
export function tbsSubjectByteIndex(derBytes: Uint8Array): number {
  const outer = readTlv(derBytes, 0);
  const tbs = readTlv(derBytes, outer.contentStart);
  const fields = children(derBytes, tbs);
  const start = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = fields[start + 4]; // serial, signature, issuer, validity, subject
  if (!subject || subject.tag !== 0x30) throw new Error("could not locate the TBS subject");
  const lastLeaf = (t: Tlv): number | null => {
    if (t.tag & 0x20) {
      const kids = children(derBytes, t);
      for (let i = kids.length - 1; i >= 0; i--) {
        const kid = kids[i];
        const r = kid ? lastLeaf(kid) : null;
        if (r !== null) return r;
      }
      return null;
    }
    return t.length > 0 ? t.end - 1 : null;
  };
  const idx = lastLeaf(subject);
  if (idx === null) throw new Error("the subject Name has no attribute value bytes to tamper with");
  return idx;
}
