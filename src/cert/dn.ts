/**
 * cert/dn — distinguished names: three renderings, a canonical comparison key, and a parser for DN text.
 *
 * Contract: pure (no I/O, no clock, no Node-only API; same result in workerd and Node). Never throws, whatever
 * the name holds. A name is given as its DER: the whole `Name ::= SEQUENCE OF RelativeDistinguishedName` TLV,
 * as cert/parse.ts slices it out of a certificate or CRL. Bytes that are not exactly a Name in DER (RFC 5280
 * §4.1.2.4; see parseNameDer) are never guessed at: such a name is equal only to the very same bytes, renders
 * as three empty strings, has no common name and no RDN keys.
 *
 * ## Renderings (renderName)
 * - `dotnet`: what .NET's `X509Certificate2.Subject` / `X500DistinguishedName.Name` prints (and Azure API
 *   Management policies compare against): most specific RDN first, ", " between RDNs, " + " inside a multi-valued
 *   RDN (its values in DER order), labels CN OU O L S C E STREET T G I SN SERIALNUMBER DC, Description,
 *   dnQualifier, Phone, POBox, PostalCode, X21Address, TPMManufacturer/TPMModel/TPMVersion, `OID.<dotted>` for
 *   the rest. A value is put in double quotes (an inner `"` doubled) when it is empty, starts or ends with a space,
 *   tab, LF, VT, FF or CR, or contains any of `, + = " LF < > # ;`. Non-string values print as `#` + hex of their
 *   DER (Windows CertNameToStr; .NET on Linux prints an empty name instead).
 *   Sources: dotnet/runtime X500NameEncoder.cs (s_needsQuotingChars, NeedsQuoting, IsQuotableWhitespace),
 *   X500NameEncoder.ManagedDecode.cs (order, separators), X500DistinguishedName.cs (`Name` =
 *   `Decode(Reversed)`), OidLookup.cs (labels), tests X500DistinguishedNameTests.cs; Microsoft Learn
 *   CertNameToStrW (quoting rule, `OID.` prefix, hex for blobs).
 * - `rfc4514`: RFC 4514 §2 string, as `openssl x509 -nameopt RFC2253,-esc_msb` prints it:
 *   most specific RDN first, "," and "+", values of a multi-valued RDN also reversed (OpenSSL's order), labels
 *   CN L ST O OU C STREET DC UID (RFC 4514 §3) and OpenSSL's short names for the other types we know
 *   (emailAddress, serialNumber, title, GN, SN, initials, postalCode, businessCategory, jurisdictionC…), escaping
 *   per §2.4 (`"` `+` `,` `;` `<` `>` `\`, a leading `#` or space, a trailing space) plus control characters as
 *   `\XX` (NUL is `\00`). Non-ASCII is left as UTF-8; plain XN_FLAG_RFC2253, as most OpenSSL-based servers print
 *   DNs, writes it as `\C3\A9` instead (parseDistinguishedName reads both).
 *   Types without a label print as dotted OID = `#` + hex of the BER value (§2.4).
 * - `openssl`: the legacy slash form of X509_NAME_oneline (`openssl x509 -subject -nameopt compat`, nginx
 *   `$ssl_client_s_dn_legacy`), in DER order: `/C=US/O=Contoso, Inc./CN=Valid Client`, `+` before the further
 *   values of a multi-valued RDN, OpenSSL short names (dotted OID for others). It prints the value's raw bytes:
 *   `/` and `+` as `\/` `\+`, bytes outside 0x20–0x7E as `\xHH` (so UTF-8 and BMPString show as byte escapes).
 *   Checked against OpenSSL 3.0 (crypto/x509/x509_obj.c).
 *
 * Value decoding: UTF8String; PrintableString, IA5String, VisibleString, NumericString as ASCII; TeletexString as
 * UTF-8 when its bytes are valid UTF-8, else Latin-1 (the .NET rule; OpenSSL always uses Latin-1, which differs
 * only for T61 values holding multi-byte UTF-8); BMPString as UTF-16BE; UniversalString as UTF-32BE. Invalid
 * content never throws: renderings show U+FFFD (or Latin-1 for non-ASCII bytes in the ASCII types, as OpenSSL).
 *
 * ## Comparison (nameKey, parseDistinguishedName, dnEquals): what is normalized
 * Two names are equal when they have the same number of RDNs, in the same order, and each pair of RDNs holds the
 * same attributes, a multi-valued RDN being compared as a set (RFC 5280 §7.1). Attribute types are compared by
 * OID; their names are case-insensitive and these aliases are the same type: CN/commonName; SN/surname (2.5.4.4,
 * as in .NET, OpenSSL and RFC 4519 — BouncyCastle's "SN = serialNumber" is not followed);
 * SERIALNUMBER/serialNumber (2.5.4.5); C/countryName; L/localityName; S/ST/stateOrProvinceName;
 * STREET/street/streetAddress; O/organizationName; OU/organizationalUnitName; T/title; G/GN/givenName; I/initials;
 * E/EMAIL/emailAddress (1.2.840.113549.1.9.1; `mail`, 0.9.2342.19200300.100.1.3, is a different type);
 * DC/domainComponent; UID/userid; PostalCode, POBox/postOfficeBox, Phone/telephoneNumber, Description,
 * X21Address/x121Address and the other OpenSSL short names; `OID.2.5.4.3`, `oid.2.5.4.3` and `2.5.4.3` are all
 * CN. Every string value (any of the string types above, and every value written as text) is prepared per
 * RFC 4518 for caseIgnoreMatch, whatever its attribute type (so C, DC and emailAddress too): §2.2 mapping (soft
 * hyphen, zero-width and other control or format characters removed; tab, LF, VT, FF, CR, NEL and every Unicode
 * space separator become a space), case folding (Unicode full upper-then-lower mapping, approximating RFC 3454
 * B.2), NFKC (§2.3), and insignificant-space handling (§2.6.1: leading and trailing spaces dropped, inner runs
 * of spaces collapsed to one). Values holding characters §2.4 prohibits (private use, surrogates,
 * non-characters, U+FFFD) are compared exactly, code point for code point. Values not valid in their string type
 * (invalid UTF-8, odd-length BMPString, non-ASCII bytes in PrintableString…) are compared by their raw bytes, and
 * can equal only the same bytes written as RFC 4514 hex escapes (`\FF`), never readable text. Non-string values (INTEGER,
 * SEQUENCE…) are compared by their whole DER; a `#hex` value in text is decoded, and compared as a string when
 * it encodes one. Text syntax is removed first: .NET quoting (`"…"`, `""` for a quote), RFC 4514 escapes (`\,`
 * and `\2C`), slash-form escapes (`\/`, `\+`, `\xHH`), and spaces around separators. Not normalized: RDN order,
 * the number of RDNs, unassigned code points (not checked, so results do not depend on the Unicode version) and
 * bidi rules (RFC 4518 §2.5).
 *
 * Text forms read by parseDistinguishedName: a string starting with `/` is the slash form, in DER order; anything
 * else is RFC 4514 or .NET (most specific RDN first), RDNs separated by `,` or `;`, values joined by `+`, spaces
 * allowed around separators. Text that writes every `=` as ` = ` is refused: that is OpenSSL 3's default one-line
 * format (`C = US, O = Contoso, CN = x`), in DER order, which would otherwise be read reversed and never match.
 * Known limits: the slash form has no escape for `\` itself and OpenSSL before 3.0 escaped nothing, so a `/` or
 * `+` is taken as a separator only when an attribute type and `=` follow it; its `\xHH` escapes are read as UTF-8
 * (as Latin-1 when they are not valid UTF-8, which is how OpenSSL shows a TeletexString), so BMPString and
 * UniversalString values do not round-trip through it. In the RFC 4514 and .NET forms, `\` followed by two hex
 * digits is always an escaped byte, even in .NET output (`DOMAIN\ab`).
 */
import { certError, type CertError } from "../errors";
import { MAX_DN_TEXT_CHARS } from "../limits";
import { err, ok, type Result } from "../result";
import { latin1, toHexLower } from "../bytes";
import { readDerElement, type DerElement } from "./decode";
import { readOid } from "./der";

/** One name in the three renderings policies can compare against. */
export interface NameRenderings {
  /** .NET `X509Certificate2.Subject` form: `CN=Valid Client, O="Contoso, Inc.", C=US`. */
  readonly dotnet: string;
  /** RFC 4514 form: `CN=Valid Client,O=Contoso\, Inc.,C=US`. */
  readonly rfc4514: string;
  /** OpenSSL slash form: `/C=US/O=Contoso, Inc./CN=Valid Client`. */
  readonly openssl: string;
}

const OID_COMMON_NAME = "2.5.4.3";

/** nameKey of something that is not bytes at all (or no bytes); dnEquals treats it as equal to nothing. */
const UNREADABLE_KEY = "!";

/** One attribute value as it sits in the DER: its header and its bytes. */
interface AttributeValue {
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Content octets. */
  readonly content: Uint8Array;
  /** The whole encoding (identifier, length, content). */
  readonly encoded: Uint8Array;
}

interface Attribute {
  readonly oid: string;
  readonly value: AttributeValue;
}

/** RDNs in DER order, each a list of attributes in DER order. */
type NameStructure = readonly (readonly Attribute[])[];

interface AttributeTypeInfo {
  readonly oid: string;
  /** .NET label (OidLookup.cs); absent → `OID.<dotted>`. */
  readonly dotnet?: string;
  /** OpenSSL short name (OBJ_nid2sn); absent → dotted OID. */
  readonly openssl?: string;
  /** RFC 4514 §3 label when it differs from OpenSSL's. */
  readonly rfc4514?: string;
  /** Further names accepted when parsing (case-insensitive). */
  readonly aliases?: readonly string[];
}

/**
 * Attribute types with names. .NET labels: dotnet/runtime OidLookup.cs (the X.500 entries of
 * s_oidToFriendlyName, which mirror Windows' CryptFindOIDInfo). OpenSSL names: `openssl x509 -nameopt compat`
 * output of OpenSSL 3.0 for each OID. RFC 4514 §3 names CN L ST O OU C STREET DC UID.
 */
const ATTRIBUTE_TYPES: readonly AttributeTypeInfo[] = [
  { oid: "2.5.4.3", dotnet: "CN", openssl: "CN", aliases: ["commonName"] },
  { oid: "2.5.4.4", dotnet: "SN", openssl: "SN", aliases: ["surname"] },
  { oid: "2.5.4.5", dotnet: "SERIALNUMBER", openssl: "serialNumber" },
  { oid: "2.5.4.6", dotnet: "C", openssl: "C", aliases: ["countryName"] },
  { oid: "2.5.4.7", dotnet: "L", openssl: "L", aliases: ["localityName"] },
  { oid: "2.5.4.8", dotnet: "S", openssl: "ST", aliases: ["stateOrProvinceName"] },
  { oid: "2.5.4.9", dotnet: "STREET", openssl: "street", rfc4514: "STREET", aliases: ["streetAddress"] },
  { oid: "2.5.4.10", dotnet: "O", openssl: "O", aliases: ["organizationName"] },
  { oid: "2.5.4.11", dotnet: "OU", openssl: "OU", aliases: ["organizationalUnitName"] },
  { oid: "2.5.4.12", dotnet: "T", openssl: "title" },
  { oid: "2.5.4.13", dotnet: "Description", openssl: "description" },
  { oid: "2.5.4.15", openssl: "businessCategory" },
  { oid: "2.5.4.16", openssl: "postalAddress" },
  { oid: "2.5.4.17", dotnet: "PostalCode", openssl: "postalCode" },
  { oid: "2.5.4.18", dotnet: "POBox", openssl: "postOfficeBox" },
  { oid: "2.5.4.19", openssl: "physicalDeliveryOfficeName" },
  { oid: "2.5.4.20", dotnet: "Phone", openssl: "telephoneNumber" },
  { oid: "2.5.4.24", dotnet: "X21Address", openssl: "x121Address" },
  { oid: "2.5.4.41", openssl: "name" },
  { oid: "2.5.4.42", dotnet: "G", openssl: "GN", aliases: ["givenName"] },
  { oid: "2.5.4.43", dotnet: "I", openssl: "initials" },
  { oid: "2.5.4.44", openssl: "generationQualifier" },
  { oid: "2.5.4.45", openssl: "x500UniqueIdentifier" },
  { oid: "2.5.4.46", dotnet: "dnQualifier", openssl: "dnQualifier" },
  { oid: "2.5.4.51", openssl: "houseIdentifier" },
  { oid: "2.5.4.65", openssl: "pseudonym" },
  { oid: "2.5.4.72", openssl: "role" },
  { oid: "2.5.4.97", openssl: "organizationIdentifier" },
  { oid: "1.2.840.113549.1.9.1", dotnet: "E", openssl: "emailAddress", aliases: ["EMAIL"] },
  { oid: "1.2.840.113549.1.9.2", openssl: "unstructuredName" },
  { oid: "1.2.840.113549.1.9.8", openssl: "unstructuredAddress" },
  { oid: "0.9.2342.19200300.100.1.1", openssl: "UID", aliases: ["userid"] },
  { oid: "0.9.2342.19200300.100.1.3", openssl: "mail", aliases: ["rfc822Mailbox"] },
  { oid: "0.9.2342.19200300.100.1.25", dotnet: "DC", openssl: "DC", aliases: ["domainComponent"] },
  { oid: "1.3.6.1.4.1.311.60.2.1.1", openssl: "jurisdictionL", aliases: ["jurisdictionLocalityName"] },
  { oid: "1.3.6.1.4.1.311.60.2.1.2", openssl: "jurisdictionST", aliases: ["jurisdictionStateOrProvinceName"] },
  { oid: "1.3.6.1.4.1.311.60.2.1.3", openssl: "jurisdictionC", aliases: ["jurisdictionCountryName"] },
  { oid: "2.23.133.2.1", dotnet: "TPMManufacturer" },
  { oid: "2.23.133.2.2", dotnet: "TPMModel" },
  { oid: "2.23.133.2.3", dotnet: "TPMVersion" },
];

const TYPE_BY_OID = new Map(ATTRIBUTE_TYPES.map((t) => [t.oid, t]));

/** Lower-cased type name → OID, from every label and alias above. */
const OID_BY_NAME: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>();
  for (const t of ATTRIBUTE_TYPES) {
    for (const n of [t.dotnet, t.openssl, t.rfc4514, ...(t.aliases ?? [])]) {
      if (n === undefined) continue;
      const key = n.toLowerCase();
      const existing = map.get(key);
      // Each name must mean one type; a clash would be a table bug, caught by the tests.
      if (existing !== undefined && existing !== t.oid) throw new Error(`attribute name ${n} is ambiguous`);
      map.set(key, t.oid);
    }
  }
  return map;
})();

const UTF8_FATAL = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const UTF8_LENIENT = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Renders a name (its DER) in the three forms policies can compare against (see the module header for each
 * form's rules and sources). An empty name, and bytes that are not a Name in DER, render as empty strings.
 *
 * Each form is rendered on first read (enumerable getters: spreading or JSON.stringify reads them all): the
 * request path reads only the RFC 4514 form (log line, identity headers); the .NET and OpenSSL forms are for
 * policies and the CLI (perf, cold gateway request: renderName ≈ 1.2% of workerd's CPU when all three were built).
 */
export function renderName(name: Uint8Array): NameRenderings {
  let rdns: RenderStructure | null | undefined;
  const render = (form: (rdns: RenderStructure) => string): string => {
    try {
      if (rdns === undefined) {
        const structure = parseNameDer(name);
        rdns = structure === null ? null : structure.map((rdn) => rdn.map((a) => ({ ...a, decoded: decodeString(a.value) })));
      }
      return rdns === null ? "" : form(rdns);
    } catch {
      // Unreachable by design; a rendering is never worth a thrown request.
      rdns = null;
      return "";
    }
  };
  let dotnet: string | undefined;
  let rfc4514: string | undefined;
  let openssl: string | undefined;
  return {
    get dotnet() {
      return (dotnet ??= render(renderDotnet));
    },
    get rfc4514() {
      return (rfc4514 ??= render(renderRfc4514));
    },
    get openssl() {
      return (openssl ??= render(renderOpenssl));
    },
  };
}

/**
 * The canonical comparison key of a name given as its DER (RFC 5280 §7.1 with RFC 4518 preparation; see the
 * module header for exactly what is normalized). Equal keys mean the same DN: use it for issuer/subject
 * chaining and equality. Bytes that are not a Name in DER get a key (`!` + hex) equal only to the key of the
 * very same bytes, and never to a key parseDistinguishedName returns.
 */
export function nameKey(name: Uint8Array): string {
  try {
    const rdns = parseNameDer(name);
    // A string value whose bytes are not valid for its type (invalid UTF-8, an odd-length BMPString, non-ASCII
    // in a PrintableString/IA5String) is a different name to every reader: such a Name is unreadable.
    const key = rdns === null ? null : structureKey(rdns);
    if (key !== null) return key;
    return name.length === 0 ? UNREADABLE_KEY : `!${toHexLower(name)}`;
  } catch {
    return UNREADABLE_KEY;
  }
}

/**
 * The comparison key of each RDN of a name given as its DER, in DER order (for directoryName name constraints,
 * RFC 5280 §4.2.1.10: a constraint matches when its RDN keys are a prefix of the subject's). Same normalization
 * as nameKey. Null when the bytes are not a Name in DER: such a name has no RDNs to compare, only its bytes.
 */
export function rdnKeys(name: Uint8Array): string[] | null {
  try {
    const rdns = parseNameDer(name);
    if (rdns === null) return null;
    const keys: string[] = [];
    for (const rdn of rdns) {
      const k = strictRdnKey(rdn);
      if (k === null) return null;
      keys.push(k);
    }
    return keys;
  } catch {
    return null;
  }
}

/**
 * Parses a DN written in any of the three renderings (and the usual variants: `;` separators, spaces around
 * separators, `OID.` prefixes, type aliases, RFC 1779 quotes) into the canonical key nameKey returns for the same
 * name. Errors (`certificate_malformed`, with the position) for anything that is not a DN: no `=`, an unknown
 * attribute type, an unterminated quote, bad hex, an empty RDN, a dangling backslash, text longer than
 * MAX_DN_TEXT_CHARS, or OpenSSL's default one-line format (` = ` around every `=`; the error says what to use).
 */
export function parseDistinguishedName(text: string): Result<string, CertError> {
  try {
    if (text.length > MAX_DN_TEXT_CHARS) {
      return err(
        certError("certificate_malformed", "Distinguished name text is too long.", {
          length: text.length,
          limit: MAX_DN_TEXT_CHARS,
        }),
      );
    }
    const leading = skipSpaces(text, 0);
    const trimmed = trimSpaces(text);
    const parsed = trimmed.startsWith("/") ? parseSlashForm(trimmed) : parseCommaForm(trimmed);
    if (!Array.isArray(parsed)) {
      const position = parsed.position + leading;
      const advice = parsed.advice === undefined ? "" : ` ${parsed.advice}`;
      return err(
        certError("certificate_malformed", `Invalid distinguished name: ${parsed.reason} at position ${position}.${advice}`, {
          position,
        }),
      );
    }
    return ok(`[${parsed.map((rdn) => JSON.stringify([...rdn].sort())).join(",")}]`);
  } catch {
    return err(certError("certificate_malformed", "Invalid distinguished name."));
  }
}

/**
 * True when both sides name the same DN, whatever their renderings: DN text (any form parseDistinguishedName
 * reads) or a Name's DER, in any combination. A string that does not parse is equal to nothing; DER that is not
 * a Name is equal only to the same bytes.
 */
export function dnEquals(a: string | Uint8Array, b: string | Uint8Array): boolean {
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka !== null && kb !== null && ka !== UNREADABLE_KEY && ka === kb;
}

/**
 * The value of the most specific CN (the last one in DER order) of a name given as its DER, or null when there
 * is none, that CN is not a string type, or the bytes are not a Name in DER. Invalid characters show as U+FFFD.
 */
export function commonName(name: Uint8Array): string | null {
  try {
    let last: Attribute | undefined;
    for (const rdn of parseNameDer(name) ?? []) for (const a of rdn) if (a.oid === OID_COMMON_NAME) last = a;
    if (last === undefined) return null;
    const decoded = decodeString(last.value);
    return decoded === null ? null : decoded.text;
  } catch {
    return null;
  }
}

/**
 * Comparison keys are remembered: a policy compares the same configured DN text and the same certificates'
 * names on every request (measured in workerd: 20 µs per comparison without, under 1 µs with). Text keys in
 * a bounded map (emptied when full: expressions can compare arbitrary strings), DER keys per byte array.
 */
const TEXT_KEYS_MAX = 1024;
const textKeys = new Map<string, string | null>();
const derKeys = new WeakMap<Uint8Array, string>();

function keyOf(x: string | Uint8Array): string | null {
  if (typeof x !== "string") {
    if (!(x instanceof Uint8Array)) return nameKey(x); // hostile callers: nameKey answers for anything
    let k = derKeys.get(x);
    if (k === undefined) {
      k = nameKey(x);
      derKeys.set(x, k);
    }
    return k;
  }
  let k = textKeys.get(x);
  if (k === undefined) {
    const parsed = parseDistinguishedName(x);
    k = parsed.ok ? parsed.value : null;
    if (textKeys.size >= TEXT_KEYS_MAX) textKeys.clear();
    textKeys.set(x, k);
  }
  return k;
}

// ---------------------------------------------------------------------------------------------------------
// Reading the DER

/**
 * RFC 5280 §4.1.2.4: Name ::= SEQUENCE OF RelativeDistinguishedName; RDN ::= SET SIZE (1..MAX) OF
 * AttributeTypeAndValue; AttributeTypeAndValue ::= SEQUENCE { type OBJECT IDENTIFIER, value ANY }.
 * Returns null unless the bytes are exactly that, in DER.
 */
function parseNameDer(raw: Uint8Array): NameStructure | null {
  const outer = readDerElement(raw, 0);
  if (typeof outer === "string" || !isUniversal(outer, true, 16) || outer.end !== raw.length) return null;
  const rdns: Attribute[][] = [];
  let p = outer.contentStart;
  while (p < outer.end) {
    const set = readDerElement(raw, p, outer.end);
    if (typeof set === "string" || !isUniversal(set, true, 17) || set.contentStart === set.end) return null;
    const rdn: Attribute[] = [];
    let q = set.contentStart;
    while (q < set.end) {
      const seq = readDerElement(raw, q, set.end);
      if (typeof seq === "string" || !isUniversal(seq, true, 16)) return null;
      const type = readDerElement(raw, seq.contentStart, seq.end);
      if (typeof type === "string" || !isUniversal(type, false, 6)) return null;
      const oid = readOid(raw.subarray(type.contentStart, type.end));
      if (oid === null) return null;
      const value = readDerElement(raw, type.end, seq.end);
      if (typeof value === "string" || value.end !== seq.end) return null;
      // Attribute values are universal types (X.520 strings, or a SEQUENCE/SET for a few); DER strings are
      // primitive (X.690 §10.2). OpenSSL refuses a Name with anything else, and so do we.
      if (value.tagClass !== 0 || !NAME_VALUE_TAGS.has(value.tagNumber) || value.constructed !== (value.tagNumber === 16)) return null;
      rdn.push({ oid, value: attributeValue(raw, value) });
      q = seq.end;
    }
    rdns.push(rdn);
    p = set.end;
  }
  return rdns;
}

/**
 * Universal types an attribute value may have: the X.520 string types (UTF8, Numeric, Printable, Teletex, IA5,
 * Visible, Universal, BMP), BIT STRING (x500UniqueIdentifier) and SEQUENCE — OpenSSL's B_ASN1_PRINTABLE set.
 */
const NAME_VALUE_TAGS: ReadonlySet<number> = new Set([3, 12, 16, 18, 19, 20, 22, 26, 28, 30]);

function isUniversal(e: DerElement, constructed: boolean, tagNumber: number): boolean {
  return e.tagClass === 0 && e.constructed === constructed && e.tagNumber === tagNumber;
}

function attributeValue(raw: Uint8Array, e: DerElement): AttributeValue {
  return {
    tagClass: e.tagClass,
    constructed: e.constructed,
    tagNumber: e.tagNumber,
    content: raw.subarray(e.contentStart, e.end),
    encoded: raw.subarray(e.start, e.end),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Values

interface DecodedString {
  readonly text: string;
  /** False when the bytes are not valid for the string type (the text then holds substitutes). */
  readonly valid: boolean;
}

/** Decodes a DirectoryString-like value; null when the value is not one of the string types. */
function decodeString(v: AttributeValue): DecodedString | null {
  if (v.tagClass !== 0 || v.constructed) return null;
  switch (v.tagNumber) {
    case 12: // UTF8String
      try {
        return { text: UTF8_FATAL.decode(v.content), valid: true };
      } catch {
        return { text: UTF8_LENIENT.decode(v.content), valid: false };
      }
    case 18: // NumericString
    case 19: // PrintableString
    case 22: // IA5String
    case 26: // VisibleString
      // Charset violations inside ASCII (a '*' or '@' in a PrintableString) are common in issued certificates
      // and harmless; only bytes outside ASCII make the value invalid. They display as Latin-1, as OpenSSL.
      return v.content.every((b) => b < 0x80)
        ? { text: UTF8_LENIENT.decode(v.content), valid: true }
        : { text: latin1(v.content), valid: false };
    case 20: // TeletexString
      // dotnet/runtime X500DistinguishedNameTests T61Cases: valid UTF-8 is read as UTF-8, anything else as
      // ISO 8859-1; many CAs put UTF-8 in T61String.
      try {
        return { text: UTF8_FATAL.decode(v.content), valid: true };
      } catch {
        return { text: latin1(v.content), valid: true };
      }
    case 30: // BMPString
      return decodeUtf16be(v.content);
    case 28: // UniversalString
      return decodeUtf32be(v.content);
    default:
      return null;
  }
}


function decodeUtf16be(bytes: Uint8Array): DecodedString {
  let valid = bytes.length % 2 === 0;
  const units: number[] = [];
  for (let i = 0; i + 1 < bytes.length; i += 2) units.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let text = "";
  for (let i = 0; i < units.length; i++) {
    const u = units[i] ?? 0;
    const next = units[i + 1] ?? 0;
    if (u >= 0xd800 && u <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      text += String.fromCharCode(u, next);
      i++;
    } else if (u >= 0xd800 && u <= 0xdfff) {
      text += "\ufffd";
      valid = false;
    } else {
      text += String.fromCharCode(u);
    }
  }
  if (bytes.length % 2 !== 0) text += "\ufffd";
  return { text, valid };
}

function decodeUtf32be(bytes: Uint8Array): DecodedString {
  let valid = bytes.length % 4 === 0;
  let text = "";
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    const cp = ((bytes[i] ?? 0) * 0x1000000) + (((bytes[i + 1] ?? 0) << 16) | ((bytes[i + 2] ?? 0) << 8) | (bytes[i + 3] ?? 0));
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      text += "\ufffd";
      valid = false;
    } else {
      text += String.fromCodePoint(cp);
    }
  }
  if (bytes.length % 4 !== 0) text += "\ufffd";
  return { text, valid };
}

// ---------------------------------------------------------------------------------------------------------
// Comparison key

/** The key of a Name read from DER, or null when a value is invalid for its string type (see nameKey). */
function structureKey(rdns: NameStructure): string | null {
  const parts: string[] = [];
  for (const rdn of rdns) {
    const k = strictRdnKey(rdn);
    if (k === null) return null;
    parts.push(k);
  }
  return `[${parts.join(",")}]`;
}

/**
 * A multi-valued RDN is a set (RFC 5280 §7.1): its attribute keys sorted. Null when a value's bytes are not
 * valid for its string type.
 */
function strictRdnKey(rdn: readonly Attribute[]): string | null {
  const keys: string[] = [];
  for (const a of rdn) {
    const k = valueKey(a.value);
    if (k.startsWith("r:")) return null;
    keys.push(`${a.oid}=${k}`);
  }
  return JSON.stringify(keys.sort());
}


/**
 * `s:` prepared string; `b:` exact UTF-8 of a string RFC 4518 §2.4 prohibits; `r:` raw content of a value
 * invalid for its string type; `x:` whole DER of a non-string value.
 */
function valueKey(v: AttributeValue): string {
  const decoded = decodeString(v);
  if (decoded === null) return `x:${toHexLower(v.encoded)}`;
  if (!decoded.valid) return `r:${toHexLower(v.content)}`;
  return textKey(decoded.text);
}

function textKey(text: string): string {
  const prepared = prepareCaseIgnore(text);
  if (prepared !== null) return `s:${prepared}`;
  // Exact comparison: code points as written (lone surrogates kept apart, which UTF-8 encoding would merge).
  const units: number[] = [];
  for (const ch of text) pushUtf8(units, ch.codePointAt(0) ?? 0);
  return `b:${toHexLower(Uint8Array.from(units))}`;
}

/** RFC 4518 §2.2: code points mapped to nothing (format and control characters, soft hyphens, ZWSP). */
const MAP_TO_NOTHING =
  /[\u0000-\u0008\u000E-\u001F\u007F-\u0084\u0086-\u009F\u00AD\u034F\u06DD\u070F\u1806\u180B-\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2063\u206A-\u206F\uFE00-\uFE0F\uFEFF\uFFF9-\uFFFC\u{1D173}-\u{1D17A}\u{E0001}\u{E0020}-\u{E007F}]/gu;
/** RFC 4518 §2.2: code points mapped to SPACE. */
const MAP_TO_SPACE = /[\t\n\u000B\f\r\u0085\p{Zs}\p{Zl}\p{Zp}]/gu;
/** RFC 4518 §2.4 (RFC 3454 C.3, C.5, U+FFFD); non-characters (C.4) are checked by code point. */
const PROHIBITED = /[\p{Co}\p{Cs}\uFFFD\uFDD0-\uFDEF]/u;

/** Printable ASCII: RFC 4518 mapping and NFKC leave it unchanged, and case folding is toLowerCase. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** RFC 4518 preparation for caseIgnoreMatch; null when the string holds a prohibited code point. */
function prepareCaseIgnore(text: string): string | null {
  if (PRINTABLE_ASCII.test(text)) return collapseSpaces(text.toLowerCase());
  const mapped = text.replace(MAP_TO_NOTHING, "").replace(MAP_TO_SPACE, " ");
  if (PROHIBITED.test(mapped)) return null;
  for (const ch of mapped) {
    const cp = ch.codePointAt(0) ?? 0;
    if ((cp & 0xfffe) === 0xfffe) return null;
  }
  // RFC 3454 B.2 is case folding closed under NFKC: fold, normalize, and fold what NFKC produced (ℌ → H → h).
  const folded = mapped.normalize("NFKC").toUpperCase().toLowerCase().normalize("NFKC");
  return collapseSpaces(folded);
}

/** RFC 4518 §2.6.1, as equality sees it: no leading or trailing spaces, inner runs of spaces as one. */
function collapseSpaces(text: string): string {
  let out = "";
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20) {
      pendingSpace = out.length > 0;
      continue;
    }
    if (pendingSpace) out += " ";
    pendingSpace = false;
    out += text.charAt(i);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Renderings

/** An attribute with its value decoded once, shared by the three renderings. */
interface RenderedAttribute extends Attribute {
  readonly decoded: DecodedString | null;
}

type RenderStructure = readonly (readonly RenderedAttribute[])[];

function dotnetLabel(oid: string): string {
  return TYPE_BY_OID.get(oid)?.dotnet ?? `OID.${oid}`;
}

function opensslLabel(oid: string): string {
  return TYPE_BY_OID.get(oid)?.openssl ?? oid;
}

function rfc4514Label(oid: string): string | undefined {
  const t = TYPE_BY_OID.get(oid);
  return t?.rfc4514 ?? t?.openssl;
}

function renderDotnet(rdns: RenderStructure): string {
  return [...rdns]
    .reverse()
    .map((rdn) => rdn.map((a) => `${dotnetLabel(a.oid)}=${dotnetValue(a)}`).join(" + "))
    .join(", ");
}

/** dotnet/runtime X500NameEncoder.NeedsQuoting: `,+="\n<>#;`, or quotable whitespace at either end, or empty. */
const DOTNET_QUOTE_CHARS = /[,+="\n<>#;]/;

function isDotnetQuotableWhitespace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function dotnetValue(a: RenderedAttribute): string {
  const decoded = a.decoded;
  if (decoded === null) return `#${toHexLower(a.value.encoded).toUpperCase()}`;
  const text = decoded.text;
  const quote =
    text.length === 0 ||
    isDotnetQuotableWhitespace(text.charCodeAt(0)) ||
    isDotnetQuotableWhitespace(text.charCodeAt(text.length - 1)) ||
    DOTNET_QUOTE_CHARS.test(text);
  return quote ? `"${text.replaceAll('"', '""')}"` : text;
}

function renderRfc4514(rdns: RenderStructure): string {
  return [...rdns]
    .reverse()
    .map((rdn) => [...rdn].reverse().map(rfc4514Attribute).join("+"))
    .join(",");
}

function rfc4514Attribute(a: RenderedAttribute): string {
  const label = rfc4514Label(a.oid);
  const decoded = a.decoded;
  // RFC 4514 §2.4: a type in dotted form takes its value as '#' + hex of the BER, as does a non-string value.
  if (label === undefined || decoded === null) return `${label ?? a.oid}=#${toHexLower(a.value.encoded).toUpperCase()}`;
  return `${label}=${escapeRfc4514(decoded.text)}`;
}

/** RFC 4514 §2.4, plus control characters as `\XX` (allowed there, and what OpenSSL's ESC_CTRL does). */
function escapeRfc4514(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    const c = text.charCodeAt(i);
    if ((i === 0 && (ch === " " || ch === "#")) || (i === text.length - 1 && ch === " ")) out += `\\${ch}`;
    else if ('"+,;<>\\'.includes(ch)) out += `\\${ch}`;
    else if (c < 0x20 || c === 0x7f) out += `\\${hex2(c)}`;
    else out += ch;
  }
  return out;
}

function renderOpenssl(rdns: RenderStructure): string {
  let out = "";
  for (const rdn of rdns) {
    rdn.forEach((a, i) => {
      const bytes = a.decoded === null ? a.value.encoded : a.value.content;
      out += `${i === 0 ? "/" : "+"}${opensslLabel(a.oid)}=${escapeOneline(bytes)}`;
    });
  }
  return out;
}

/** OpenSSL X509_NAME_oneline: bytes outside 0x20–0x7E as `\xHH`, and `/` `+` behind a backslash. */
function escapeOneline(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    if (b < 0x20 || b > 0x7e) out += `\\x${hex2(b)}`;
    else if (b === 0x2f || b === 0x2b) out += `\\${String.fromCharCode(b)}`;
    else out += String.fromCharCode(b);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing DN text

interface ParseError {
  readonly reason: string;
  readonly position: number;
  /** What to do instead, appended to the message. */
  readonly advice?: string;
}

/** RDNs in DER order, each a list of `oid=valueKey`. */
type ParsedName = string[][];

const KEYWORD = /[A-Za-z][A-Za-z0-9-]{0,63}/y;
const DOTTED_OID = /(?:[Oo][Ii][Dd]\.)?([0-9]+(?:\.[0-9]+)+)/y;

interface ParsedType {
  readonly oid: string;
  readonly end: number;
}

/** An attribute type at `pos`: a known name (case-insensitive) or a dotted OID, with or without `OID.`. */
function readType(text: string, pos: number): ParsedType | ParseError {
  DOTTED_OID.lastIndex = pos;
  const dotted = DOTTED_OID.exec(text);
  if (dotted !== null && !isKeywordChar(text.charCodeAt(DOTTED_OID.lastIndex))) {
    const oid = dotted[1] ?? "";
    if (!isValidDottedOid(oid)) return { reason: "invalid object identifier", position: pos };
    return { oid, end: DOTTED_OID.lastIndex };
  }
  KEYWORD.lastIndex = pos;
  const word = KEYWORD.exec(text);
  if (word === null) return { reason: "expected an attribute type", position: pos };
  const oid = OID_BY_NAME.get(word[0].toLowerCase());
  if (oid === undefined || isKeywordChar(text.charCodeAt(KEYWORD.lastIndex))) {
    return { reason: "unknown attribute type", position: pos };
  }
  return { oid, end: KEYWORD.lastIndex };
}

function isKeywordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e;
}

/** X.660: first arc 0–2, second arc below 40 under 0 and 1; RFC 4512 §1.4 numericoid: no leading zeros. */
function isValidDottedOid(oid: string): boolean {
  const arcs = oid.split(".");
  if (arcs.some((a) => a.length > 1 && a.startsWith("0"))) return false;
  const [first, second] = arcs;
  if (first !== "0" && first !== "1" && first !== "2") return false;
  return first === "2" || (second !== undefined && second.length <= 2 && Number(second) < 40);
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function skipSpaces(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && isSpace(text.charCodeAt(p))) p++;
  return p;
}

function trimSpaces(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isSpace(text.charCodeAt(start))) start++;
  while (end > start && isSpace(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/** RFC 4514 §2.4 special characters, and the other ASCII a DN writer may escape. */
const ESCAPABLE = ' "#+,;<=>\\/';

/** `=` signs seen by readCommaForm: how many, how many written ` = `, and where the first one is. */
interface EqualsSigns {
  all: number;
  spaced: number;
  first: number;
}

const OPENSSL_ONELINE_ADVICE =
  "The text looks like OpenSSL's default one-line format (' = ' around each '='), which lists the RDNs in the " +
  "opposite order and is not accepted: print the name with `openssl x509 -noout -subject -nameopt RFC2253`, " +
  "or write it most specific first as .NET does (`CN=name, O=Example, C=US`).";

/**
 * The RFC 4514 / .NET form: most specific RDN first. Returns RDNs in DER order. Refuses text that writes every
 * `=` as ` = `: that is OpenSSL 3's default one-line format (`openssl x509 -subject` without `-nameopt`:
 * XN_FLAG_ONELINE, whose XN_FLAG_SPC_EQ puts spaces around `=`; `C = US, O = Contoso, CN = x`), which lists RDNs
 * in DER order, the reverse of this form. Read as RFC 4514 it would name another DN and silently never match.
 * A syntax error in such text (OpenSSL's `\"` inside quotes, say) gets the same advice.
 */
function parseCommaForm(text: string): ParsedName | ParseError {
  const equals: EqualsSigns = { all: 0, spaced: 0, first: 0 };
  const parsed = readCommaForm(text, equals);
  if (equals.all === 0 || equals.spaced !== equals.all) return parsed;
  if (!Array.isArray(parsed)) return { ...parsed, advice: OPENSSL_ONELINE_ADVICE };
  return { reason: "every '=' is written ' = '", position: equals.first, advice: OPENSSL_ONELINE_ADVICE };
}

function readCommaForm(text: string, equals: EqualsSigns): ParsedName | ParseError {
  const rdns: ParsedName = [];
  if (text.length === 0) return rdns;
  let pos = 0;
  for (;;) {
    const rdn: string[] = [];
    for (;;) {
      pos = skipSpaces(text, pos);
      const type = readType(text, pos);
      if ("reason" in type) return type;
      pos = skipSpaces(text, type.end);
      if (text.charCodeAt(pos) !== 0x3d) return { reason: "expected '=' after the attribute type", position: pos };
      if (equals.all++ === 0) equals.first = pos;
      if (text.charCodeAt(pos - 1) === 0x20 && text.charCodeAt(pos + 1) === 0x20) equals.spaced++;
      pos = skipSpaces(text, pos + 1);
      const value = readCommaFormValue(text, pos);
      if ("reason" in value) return value;
      rdn.push(`${type.oid}=${value.key}`);
      pos = value.end;
      if (text.charCodeAt(pos) !== 0x2b) break;
      pos++;
    }
    rdns.push(rdn);
    if (pos >= text.length) break;
    const c = text.charCodeAt(pos);
    if (c !== 0x2c && c !== 0x3b) return { reason: "expected ',' or ';' between RDNs", position: pos };
    pos = skipSpaces(text, pos + 1);
    if (pos >= text.length) return { reason: "empty RDN after a separator", position: pos };
  }
  return rdns.reverse();
}

interface ParsedValue {
  readonly key: string;
  /** Position of the separator that ended the value, or the end of the text. */
  readonly end: number;
}

function readCommaFormValue(text: string, start: number): ParsedValue | ParseError {
  const first = text.charCodeAt(start);
  if (first === 0x22) return readQuotedValue(text, start);
  if (first === 0x23) return readHexValue(text, start);
  // RFC 4514 §3 string: escapes are `\` + special character or `\` + two hex digits (a UTF-8 byte). A backslash
  // before anything else is kept as is, because .NET never escapes (it prints DOMAIN\user verbatim).
  const bytes: number[] = [];
  let significant = 0;
  let pos = start;
  while (pos < text.length) {
    const c = text.charCodeAt(pos);
    if (c === 0x2c || c === 0x3b || c === 0x2b) break;
    if (c === 0x5c) {
      if (pos + 1 >= text.length) return { reason: "dangling backslash", position: pos };
      const n1 = text.charCodeAt(pos + 1);
      const n2 = text.charCodeAt(pos + 2);
      if (isHexDigit(n1) && isHexDigit(n2)) {
        bytes.push(Number.parseInt(text.slice(pos + 1, pos + 3), 16));
        pos += 3;
      } else if (ESCAPABLE.includes(text.charAt(pos + 1))) {
        bytes.push(n1);
        pos += 2;
      } else {
        bytes.push(0x5c);
        pos += 1;
      }
      significant = bytes.length;
      continue;
    }
    const cp = text.codePointAt(pos) ?? c;
    pushUtf8(bytes, cp);
    pos += cp > 0xffff ? 2 : 1;
    if (!isSpace(c)) significant = bytes.length;
  }
  return { key: bytesKey(bytes.slice(0, significant)), end: pos };
}

/** RFC 1779 / .NET quoted value: everything literal up to the closing quote; `""` is one quote. */
function readQuotedValue(text: string, start: number): ParsedValue | ParseError {
  let value = "";
  let pos = start + 1;
  for (;;) {
    const close = text.indexOf('"', pos);
    if (close === -1) return { reason: "unterminated quoted value", position: start };
    value += text.slice(pos, close);
    if (text.charCodeAt(close + 1) === 0x22) {
      value += '"';
      pos = close + 2;
      continue;
    }
    pos = close + 1;
    break;
  }
  return endOfValue(text, pos, textKey(value));
}

/** RFC 4514 §2.4 `#` + hex of a BER value; it must be exactly one element. */
function readHexValue(text: string, start: number): ParsedValue | ParseError {
  let pos = start + 1;
  while (pos < text.length && isHexDigit(text.charCodeAt(pos))) pos++;
  const digits = text.slice(start + 1, pos);
  if (digits.length === 0 || digits.length % 2 !== 0) return { reason: "invalid #hex value", position: start };
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16);
  const element = readDerElement(bytes, 0);
  if (typeof element === "string" || element.end !== bytes.length) {
    return { reason: "#hex value is not one BER element", position: start };
  }
  return endOfValue(text, pos, valueKey(attributeValue(bytes, element)));
}

/** After a quoted or hex value only spaces may come before the next separator. */
function endOfValue(text: string, pos: number, key: string): ParsedValue | ParseError {
  const end = skipSpaces(text, pos);
  const c = text.charCodeAt(end);
  if (end < text.length && c !== 0x2c && c !== 0x3b && c !== 0x2b) {
    return { reason: "unexpected character after the value", position: end };
  }
  return { key, end };
}

/** The OpenSSL slash form (X509_NAME_oneline): DER order, `/` between RDNs, `+` inside one. */
function parseSlashForm(text: string): ParsedName | ParseError {
  const rdns: ParsedName = [];
  let pos = 0;
  while (pos < text.length) {
    const separator = text.charCodeAt(pos);
    const type = readType(text, pos + 1);
    if ("reason" in type) return type;
    if (text.charCodeAt(type.end) !== 0x3d) return { reason: "expected '=' after the attribute type", position: type.end };
    const bytes: number[] = [];
    let p = type.end + 1;
    while (p < text.length) {
      const c = text.charCodeAt(p);
      if (c === 0x5c) {
        const n = text.charCodeAt(p + 1);
        if (n === 0x78 && isHexDigit(text.charCodeAt(p + 2)) && isHexDigit(text.charCodeAt(p + 3))) {
          bytes.push(Number.parseInt(text.slice(p + 2, p + 4), 16));
          p += 4;
        } else if (n === 0x2f || n === 0x2b) {
          bytes.push(n);
          p += 2;
        } else {
          bytes.push(0x5c);
          p += 1;
        }
        continue;
      }
      // OpenSSL ≥ 3.0 escapes '/' and '+' in values; older versions did not, so an unescaped one separates
      // only when an attribute type and '=' follow it.
      if ((c === 0x2f || c === 0x2b) && startsAttribute(text, p + 1)) break;
      const cp = text.codePointAt(p) ?? c;
      pushUtf8(bytes, cp);
      p += cp > 0xffff ? 2 : 1;
    }
    const entry = `${type.oid}=${bytesKey(bytes, true)}`;
    const current = rdns[rdns.length - 1];
    if (separator === 0x2b && current !== undefined) current.push(entry);
    else rdns.push([entry]);
    pos = p;
  }
  return rdns;
}

function startsAttribute(text: string, pos: number): boolean {
  const type = readType(text, pos);
  return !("reason" in type) && text.charCodeAt(type.end) === 0x3d;
}

/**
 * The key of a value given as bytes (literal UTF-8 and escapes): a string when valid UTF-8; otherwise raw bytes,
 * or Latin-1 text for the slash form, whose `\xHH` bytes come from TeletexString values OpenSSL reads as Latin-1.
 */
function bytesKey(bytes: number[], latin1Fallback = false): string {
  const array = Uint8Array.from(bytes);
  try {
    return textKey(UTF8_FATAL.decode(array));
  } catch {
    return latin1Fallback ? textKey(latin1(array)) : `r:${toHexLower(array)}`;
  }
}

function pushUtf8(out: number[], cp: number): void {
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}


function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, "0");
}
