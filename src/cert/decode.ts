/**
 * cert/decode — untrusted text or bytes → DER certificates.
 *
 * Contract: pure (no I/O, no clock, no Node-only API; runs the same in workerd and Node). Never throws:
 * every failure is a `CertError` in a `Result`. Nothing here trusts its input.
 *
 * Accepted forms, detected from the input itself:
 * - PEM (RFC 7468): `-----BEGIN CERTIFICATE-----` blocks, one or several. Tolerated: CRLF, no final newline,
 *   spaces instead of newlines or no line breaks at all (some terminators, e.g. Azure Application Gateway,
 *   flatten the PEM onto one line), and any text before, between or after the blocks (as `openssl x509 -text`
 *   prints). Any other label (`TRUSTED CERTIFICATE`, `PRIVATE KEY`, …) is an error, as is a marker inside a block.
 * - Bare base64 of DER (standard or URL-safe alphabet, padding optional, whitespace ignored).
 * - Raw DER bytes (a Uint8Array whose first byte is 0x30). Several concatenated certificates are a bundle,
 *   split by reading each outer SEQUENCE's definite length.
 * - RFC 9440 byte sequences: `:base64:` (RFC 8941 §3.3.5), or a list of them `:a:, :b:` (Client-Cert-Chain).
 * URL-decoding is not done here: the header sources do it before calling in.
 *
 * Caps are checked before the work they protect: input size first, then the number of blocks (counted without
 * decoding), then each certificate's size (estimated from its base64 length before decoding it).
 *
 * Only a structural DER check is made: one outer SEQUENCE with a minimal definite length that covers exactly
 * the certificate's bytes. Parsing the certificate is cert/model's job.
 */
import { certError, type CertError } from "../errors";
import { MAX_CERTIFICATE_BYTES, MAX_PRESENTED_BUNDLE_BYTES, MAX_PRESENTED_CHAIN } from "../limits";
import { err, ok, type Result } from "../result";

/** What a certificate source hands over: header text, or a body's bytes. */
export type CertificateInput = string | Uint8Array;

/** Caps for decodeCertificates / decodeCertificate; each defaults to the presented-chain figure in limits.ts. */
export interface DecodeLimits {
  /** Largest input: characters for a string (every accepted form is ASCII), bytes for a Uint8Array. */
  maxBytes?: number;
  /** Most certificates in the input. */
  maxCount?: number;
  /** Largest single certificate, DER bytes. */
  maxCertificateBytes?: number;
}

/** Caps for decodePemBlocks (no defaults: they depend on what the blocks hold). */
export interface PemLimits {
  maxBytes: number;
  maxCount: number;
  /** Largest single block, decoded bytes. */
  maxBlockBytes: number;
}

/** The header of one DER element, as read by readDerElement. */
export interface DerElement {
  /** 0 universal, 1 application, 2 context-specific, 3 private. */
  readonly tagClass: number;
  readonly constructed: boolean;
  readonly tagNumber: number;
  /** Offset of the identifier octet. */
  readonly start: number;
  /** Offset of the first content octet. */
  readonly contentStart: number;
  /** Offset just past the last content octet. */
  readonly end: number;
}

interface Caps {
  readonly maxBytes: number;
  readonly maxCount: number;
  readonly maxItemBytes: number;
  /** The PEM label accepted. */
  readonly label: string;
  /** What one item is called in details: "certificate", "PEM block". */
  readonly noun: string;
  /** decodeCertificate: more than one item is an error worded as such. */
  readonly single: boolean;
}

/** Longest PEM label we scan for; RFC 7468 labels in use are under 40 characters. */
const MAX_PEM_LABEL_CHARS = 64;

/**
 * Decodes one certificate or a bundle into DER certificates, in input order.
 * Errors: `certificate_missing` (empty input), `bundle_too_large`, `bundle_too_many_certificates`,
 * `certificate_too_large`, `certificate_malformed` (with a detail saying what is wrong).
 */
export function decodeCertificates(input: CertificateInput, limits: DecodeLimits = {}): Result<Uint8Array[], CertError> {
  return guarded(() =>
    decodeInput(input, {
      maxBytes: limits.maxBytes ?? MAX_PRESENTED_BUNDLE_BYTES,
      maxCount: limits.maxCount ?? MAX_PRESENTED_CHAIN,
      maxItemBytes: limits.maxCertificateBytes ?? MAX_CERTIFICATE_BYTES,
      label: "CERTIFICATE",
      noun: "certificate",
      single: false,
    }),
  );
}

/**
 * Decodes exactly one certificate. A bundle of several is `bundle_too_many_certificates`; `limits.maxCount`
 * is ignored. Other errors as decodeCertificates.
 */
export function decodeCertificate(input: CertificateInput, limits: DecodeLimits = {}): Result<Uint8Array, CertError> {
  const decoded = guarded(() =>
    decodeInput(input, {
      maxBytes: limits.maxBytes ?? MAX_PRESENTED_BUNDLE_BYTES,
      maxCount: 1,
      maxItemBytes: limits.maxCertificateBytes ?? MAX_CERTIFICATE_BYTES,
      label: "CERTIFICATE",
      noun: "certificate",
      single: true,
    }),
  );
  if (!decoded.ok) return decoded;
  const [only] = decoded.value;
  return only === undefined ? err(certError("certificate_missing", "No certificate was presented.")) : ok(only);
}

/**
 * Decodes the PEM blocks labelled `label` (e.g. "X509 CRL") with the same tolerance as decodeCertificates;
 * a block with another label is an error. Each block must hold one DER SEQUENCE. Errors use the same codes as
 * decodeCertificates (`certificate_*`, `bundle_*`): the caller maps them to its own (e.g. `crl_malformed`).
 */
export function decodePemBlocks(text: string, label: string, limits: PemLimits): Result<Uint8Array[], CertError> {
  return guarded(() => {
    const caps: Caps = {
      maxBytes: limits.maxBytes,
      maxCount: limits.maxCount,
      maxItemBytes: limits.maxBlockBytes,
      label,
      noun: "PEM block",
      single: false,
    };
    if (text.length > caps.maxBytes) return tooLargeInput(text.length, caps);
    const trimmed = trimWhitespace(text);
    if (trimmed === "") return err(certError("certificate_missing", `No ${label} PEM block was found.`));
    if (!trimmed.includes("-----")) return malformed(`no PEM BEGIN marker found (expected "${label}")`);
    return decodePem(trimmed, caps);
  });
}

/**
 * Decodes base64: standard or URL-safe alphabet (RFC 4648 §4, §5; not both in one input), padding optional,
 * ASCII whitespace ignored. Returns null for anything else, including padding inside the data and non-zero
 * trailing bits (RFC 4648 §3.5 lets decoders reject them; we do, so data characters are canonical).
 */
export function decodeBase64(text: string): Uint8Array | null {
  if (nativeFromBase64) {
    try {
      return nativeFromBase64(text, STRICT_STANDARD);
    } catch {
      // Not padded standard base64: the portable decoder decides (URL-safe, unpadded, or invalid).
    }
  }
  return decodeBase64Portable(text);
}

/**
 * The runtime's own base64 (TC39 `Uint8Array.fromBase64` / `toBase64`), where it exists: workerd has it,
 * Node 22 does not. Measured in workerd on a 546-character certificate: 0.8 µs against 8.6 µs for the
 * portable decoder — it runs on every request. In "strict" mode it accepts a subset of what the portable
 * decoder accepts (standard alphabet only; padding required; zero trailing bits; whitespace limited to
 * TAB, LF, FF, CR and SPACE) and decodes it to the same bytes; decode.test.ts checks the two agree.
 */
const nativeFromBase64 = (Uint8Array as unknown as { fromBase64?: (text: string, options: object) => Uint8Array }).fromBase64;
const nativeToBase64 = (Uint8Array.prototype as unknown as { toBase64?: (this: Uint8Array) => string }).toBase64;
const STRICT_STANDARD = { alphabet: "base64", lastChunkHandling: "strict" };

/** True when this runtime has native base64 (tests name which path they exercised). */
export const HAS_NATIVE_BASE64 = nativeFromBase64 !== undefined && nativeToBase64 !== undefined;

/** decodeBase64 without the native fast path (the reference the native path is checked against). */
export function decodeBase64Portable(text: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((text.length * 3) / 4) + 3);
  let acc = 0;
  let bits = 0;
  let chars = 0;
  let padding = 0;
  let alphabet = 0; // 0 undecided, 1 standard, 2 URL-safe
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isWhitespaceCode(c)) continue;
    if (c === 0x3d) {
      padding++;
      if (padding > 2) return null;
      continue;
    }
    if (padding > 0) return null;
    let v: number;
    if (c >= 0x41 && c <= 0x5a) v = c - 0x41;
    else if (c >= 0x61 && c <= 0x7a) v = c - 0x61 + 26;
    else if (c >= 0x30 && c <= 0x39) v = c - 0x30 + 52;
    else if (c === 0x2b || c === 0x2f) {
      if (alphabet === 2) return null;
      alphabet = 1;
      v = c === 0x2b ? 62 : 63;
    } else if (c === 0x2d || c === 0x5f) {
      if (alphabet === 1) return null;
      alphabet = 2;
      v = c === 0x2d ? 62 : 63;
    } else return null;
    acc = (acc << 6) | v;
    bits += 6;
    chars++;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  if (chars % 4 === 1) return null;
  if (padding > 0 && (chars + padding) % 4 !== 0) return null;
  if (acc !== 0) return null;
  return out.slice(0, o);
}

const BASE64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** Encodes bytes as standard base64 with padding (RFC 4648 §4), no line breaks. */
export function encodeBase64(bytes: Uint8Array): string {
  return nativeToBase64 ? nativeToBase64.call(bytes) : encodeBase64Portable(bytes);
}

/** encodeBase64 without the native fast path. */
export function encodeBase64Portable(bytes: Uint8Array): string {
  const parts: string[] = [];
  let line = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const b0 = bytes[i] ?? 0;
    const b1 = bytes[i + 1] ?? 0;
    const b2 = bytes[i + 2] ?? 0;
    const n = (b0 << 16) | (b1 << 8) | b2;
    line +=
      BASE64_ALPHABET.charAt(n >> 18) +
      BASE64_ALPHABET.charAt((n >> 12) & 63) +
      (i + 1 < bytes.length ? BASE64_ALPHABET.charAt((n >> 6) & 63) : "=") +
      (i + 2 < bytes.length ? BASE64_ALPHABET.charAt(n & 63) : "=");
    if (line.length >= 4096) {
      parts.push(line);
      line = "";
    }
  }
  parts.push(line);
  return parts.join("");
}

/**
 * Reads the identifier and length octets of the DER element at `offset` (X.690 §8.1.2, §8.1.3, §10.1).
 * Returns a description of what is wrong instead when the header is not DER: indefinite length, a length
 * not in its shortest form, a high tag number not in its shortest form, or content running past `limit`.
 */
export function readDerElement(bytes: Uint8Array, offset: number, limit: number = bytes.length): DerElement | string {
  if (offset >= limit) return "unexpected end of input";
  const first = bytes[offset] ?? 0;
  const tagClass = first >> 6;
  const constructed = (first & 0x20) !== 0;
  let tagNumber = first & 0x1f;
  let p = offset + 1;
  if (tagNumber === 0x1f) {
    // X.690 §8.1.2.4: high tag numbers in base 128; §8.1.2.4.2 (c) forbids a leading 0x80 octet.
    tagNumber = 0;
    for (let n = 0; ; n++) {
      if (p >= limit) return "truncated tag";
      const b = bytes[p++] ?? 0;
      if (n === 0 && b === 0x80) return "tag number not in its shortest form";
      if (n >= 4) return "tag number too large";
      tagNumber = tagNumber * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) break;
    }
    if (tagNumber < 0x1f) return "tag number not in its shortest form";
  }
  if (p >= limit) return "truncated length";
  const lengthOctet = bytes[p++] ?? 0;
  let length: number;
  if (lengthOctet < 0x80) {
    length = lengthOctet;
  } else if (lengthOctet === 0x80) {
    // X.690 §10.1: DER uses the definite form only.
    return "indefinite length (BER), not DER";
  } else {
    const count = lengthOctet & 0x7f;
    // Four octets already describe 4 GiB, far beyond any input we accept (0xFF is reserved, §8.1.3.5 (c)).
    if (count > 4) return "length field too long";
    if (p + count > limit) return "truncated length";
    if (bytes[p] === 0) return "length not in its shortest form";
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (bytes[p + i] ?? 0);
    p += count;
    // X.690 §10.1: lengths below 128 must use the short form.
    if (length < 0x80) return "length not in its shortest form";
  }
  if (length > limit - p) return "DER length exceeds input";
  if (tagClass === 0) {
    // X.690 §8.1.5 / §10.2: in DER, end-of-contents never appears, SEQUENCE and SET are constructed, and every
    // other universal type certificates use is primitive (strings included). EXTERNAL and EMBEDDED PDV (8, 11)
    // are constructed types of their own; no certificate field uses them, so they are rejected with the rest.
    if (tagNumber === 0) return "end-of-contents octets (BER), not DER";
    if (tagNumber === 5 && length !== 0) return "NULL with contents";
    if (tagNumber === 1 && length !== 1) return "BOOLEAN not of one octet";
    if (tagNumber === 3) {
      // X.690 §8.6.2, §11.2.1: an initial octet of 0–7 unused bits, none when empty, and those bits zero.
      const unused = length === 0 ? -1 : bytes[p] ?? 0;
      if (unused < 0 || unused > 7 || (length === 1 && unused !== 0)) return "invalid BIT STRING";
      if (unused > 0 && ((bytes[p + length - 1] ?? 0) & ((1 << unused) - 1)) !== 0) return "BIT STRING with unused bits set (not DER)";
    }
    if (constructed !== (tagNumber === 16 || tagNumber === 17)) {
      return constructed ? "constructed encoding of a primitive type (not DER)" : "primitive encoding of a SEQUENCE or SET";
    }
  }
  return { tagClass, constructed, tagNumber, start: offset, contentStart: p, end: p + length };
}

function guarded<T>(run: () => Result<T, CertError>): Result<T, CertError> {
  try {
    return run();
  } catch {
    // An exception here is a bug; the input is still rejected rather than let through.
    return malformed("input could not be decoded");
  }
}

function malformed<T>(what: string, context?: Record<string, number>): Result<T, CertError> {
  return err(certError("certificate_malformed", `Certificate input is malformed: ${what}.`, context));
}

function tooLargeInput<T>(size: number, caps: Caps): Result<T, CertError> {
  return err(
    certError("bundle_too_large", `The certificate input is larger than ${caps.maxBytes} bytes.`, {
      size,
      limit: caps.maxBytes,
    }),
  );
}

function tooMany<T>(caps: Caps): Result<T, CertError> {
  const detail = caps.single
    ? `Expected exactly one ${caps.noun}, found more.`
    : `The input holds more than ${caps.maxCount} ${caps.noun}s.`;
  return err(certError("bundle_too_many_certificates", detail, { limit: caps.maxCount }));
}

function tooLargeItem<T>(size: number, index: number, caps: Caps): Result<T, CertError> {
  return err(
    certError("certificate_too_large", `A ${caps.noun} is larger than ${caps.maxItemBytes} bytes.`, {
      size,
      limit: caps.maxItemBytes,
      index,
    }),
  );
}

function decodeInput(input: CertificateInput, caps: Caps): Result<Uint8Array[], CertError> {
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size > caps.maxBytes) return tooLargeInput(size, caps);
  let text: string;
  if (typeof input === "string") {
    text = input;
  } else {
    if (input.byteLength === 0) return err(certError("certificate_missing", "No certificate was presented."));
    if (input[0] === 0x30) return splitDer(input, caps);
    const ascii = asciiText(input);
    if (ascii === null) return malformed("binary input is neither DER (it does not start with a SEQUENCE) nor text");
    text = ascii;
  }
  const trimmed = trimWhitespace(text);
  if (trimmed === "") return err(certError("certificate_missing", "No certificate was presented."));
  if (trimmed.includes("-----")) return decodePem(trimmed, caps);
  if (trimmed.charCodeAt(0) === 0x3a) return decodeByteSequenceList(trimmed, caps);
  // A bare base64 blob may hold several concatenated DER certificates; each is size-checked by splitDer
  // before it is copied, and the blob itself is already bounded by maxBytes.
  const bytes = decodeBase64(trimmed);
  if (bytes === null) return malformed("not PEM, DER, RFC 9440 byte sequence or valid base64 (bad base64)");
  if (bytes.length === 0) return malformed("base64 decodes to nothing");
  return splitDer(bytes, caps);
}

/** Splits concatenated DER elements; each must be a SEQUENCE with a minimal definite length. */
function splitDer(bytes: Uint8Array, caps: Caps): Result<Uint8Array[], CertError> {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes[offset] !== 0x30) {
      return malformed(
        out.length === 0 ? "not a DER SEQUENCE" : `trailing bytes after ${caps.noun} ${out.length}`,
        { offset },
      );
    }
    const element = readDerElement(bytes, offset);
    if (typeof element === "string") return malformed(`${element} at byte ${offset}`, { offset });
    const size = element.end - offset;
    if (size > caps.maxItemBytes) return tooLargeItem(size, out.length, caps);
    if (out.length >= caps.maxCount) return tooMany(caps);
    out.push(bytes.slice(offset, element.end));
    offset = element.end;
  }
  return ok(out);
}

/** Checks that `bytes` is exactly one DER SEQUENCE (a PEM block or byte sequence holds one item). */
function singleDer(bytes: Uint8Array, index: number, caps: Caps): Result<Uint8Array, CertError> {
  if (bytes.length === 0) return malformed(`${caps.noun} ${index + 1} is empty`, { index });
  if (bytes[0] !== 0x30) return malformed(`${caps.noun} ${index + 1} is not a DER SEQUENCE`, { index });
  const element = readDerElement(bytes, 0);
  if (typeof element === "string") return malformed(`${element} in ${caps.noun} ${index + 1}`, { index });
  if (element.end !== bytes.length) {
    return malformed(`trailing bytes after the DER SEQUENCE in ${caps.noun} ${index + 1}`, { index });
  }
  return ok(bytes);
}

/** Decodes one base64 body (a PEM block or byte sequence) after checking its estimated size. */
function decodeBody(text: string, start: number, end: number, index: number, caps: Caps): Result<Uint8Array, CertError> {
  const estimate = estimatedBase64Bytes(text, start, end);
  if (estimate > caps.maxItemBytes) return tooLargeItem(estimate, index, caps);
  const bytes = decodeBase64(text.slice(start, end));
  if (bytes === null) return malformed(`bad base64 in ${caps.noun} ${index + 1}`, { index });
  return singleDer(bytes, index, caps);
}

/** Finds every PEM block without decoding (so the count cap holds before any work), then decodes each. */
function decodePem(text: string, caps: Caps): Result<Uint8Array[], CertError> {
  const bodies: Array<[number, number]> = [];
  let pos = 0;
  for (;;) {
    const begin = text.indexOf("-----BEGIN ", pos);
    const stray = text.indexOf("-----", pos);
    if (stray !== -1 && (begin === -1 || stray < begin)) {
      return malformed("PEM marker outside a block (END without BEGIN, or a malformed BEGIN line)", { offset: stray });
    }
    if (begin === -1) break;
    const labelStart = begin + "-----BEGIN ".length;
    const labelEnd = text.indexOf("-----", labelStart);
    if (labelEnd === -1 || labelEnd - labelStart > MAX_PEM_LABEL_CHARS) {
      return malformed("unterminated PEM BEGIN marker", { offset: begin });
    }
    if (text.slice(labelStart, labelEnd) !== caps.label) {
      return malformed(`unexpected PEM block label (only "${caps.label}" is accepted)`, { offset: begin });
    }
    const bodyStart = labelEnd + 5;
    const end = text.indexOf("-----END ", bodyStart);
    if (end === -1) return malformed("unterminated PEM block (no END marker)", { offset: begin });
    if (text.indexOf("-----", bodyStart) < end) {
      return malformed("nested or malformed PEM marker inside a block", { offset: bodyStart });
    }
    const endLabelStart = end + "-----END ".length;
    const endLabelEnd = text.indexOf("-----", endLabelStart);
    if (endLabelEnd === -1 || endLabelEnd - endLabelStart > MAX_PEM_LABEL_CHARS) {
      return malformed("unterminated PEM END marker", { offset: end });
    }
    if (text.slice(endLabelStart, endLabelEnd) !== caps.label) {
      return malformed("PEM END label does not match its BEGIN label", { offset: end });
    }
    if (bodies.length >= caps.maxCount) return tooMany(caps);
    bodies.push([bodyStart, end]);
    pos = endLabelEnd + 5;
  }
  const out: Uint8Array[] = [];
  for (const [index, [start, end]] of bodies.entries()) {
    const der = decodeBody(text, start, end, index, caps);
    if (!der.ok) return der;
    out.push(der.value);
  }
  return ok(out);
}

/**
 * RFC 9440 §2.1/§2.2: Client-Cert is an sf-binary, Client-Cert-Chain an sf-list of them. RFC 8941 §3.1 lists
 * are separated by "," with optional spaces or tabs around it; a trailing comma is an error (§4.2.1).
 */
function decodeByteSequenceList(text: string, caps: Caps): Result<Uint8Array[], CertError> {
  const items: Array<[number, number]> = [];
  let pos = 0;
  for (;;) {
    if (text.charCodeAt(pos) !== 0x3a) {
      return malformed("expected ':' opening an RFC 8941 byte sequence", { offset: pos });
    }
    const close = text.indexOf(":", pos + 1);
    if (close === -1) return malformed("unterminated RFC 8941 byte sequence", { offset: pos });
    if (items.length >= caps.maxCount) return tooMany(caps);
    items.push([pos + 1, close]);
    pos = skipListWhitespace(text, close + 1);
    if (pos >= text.length) break;
    const c = text.charCodeAt(pos);
    // RFC 9440 §2.2 defines no parameters; failing closed beats guessing what one would mean.
    if (c === 0x3b) return malformed("parameters on byte sequences are not supported", { offset: pos });
    if (c !== 0x2c) return malformed("expected ',' between RFC 8941 byte sequences", { offset: pos });
    pos = skipListWhitespace(text, pos + 1);
    if (pos >= text.length) return malformed("trailing ',' in RFC 8941 list", { offset: pos });
  }
  const out: Uint8Array[] = [];
  for (const [index, [start, end]] of items.entries()) {
    const der = decodeBody(text, start, end, index, caps);
    if (!der.ok) return der;
    out.push(der.value);
  }
  return ok(out);
}

function skipListWhitespace(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && (text.charCodeAt(p) === 0x20 || text.charCodeAt(p) === 0x09)) p++;
  return p;
}

/** Upper bound of the bytes a base64 range decodes to, counted without decoding. */
function estimatedBase64Bytes(text: string, start: number, end: number): number {
  let chars = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (!isWhitespaceCode(c) && c !== 0x3d) chars++;
  }
  return Math.floor((chars * 3) / 4);
}

function isWhitespaceCode(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function trimWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWhitespaceCode(text.charCodeAt(start))) start++;
  while (end > start && isWhitespaceCode(text.charCodeAt(end - 1))) end--;
  return text.slice(start, end);
}

/** Bytes that are plain ASCII text (an optional UTF-8 BOM aside) as a string; null for anything else. */
function asciiText(bytes: Uint8Array): string | null {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const parts: string[] = [];
  const chunk = 0x2000;
  for (let i = start; i < bytes.length; i += chunk) {
    const slice = bytes.subarray(i, Math.min(i + chunk, bytes.length));
    for (const b of slice) if (b >= 0x80) return null;
    parts.push(String.fromCharCode(...slice));
  }
  return parts.join("");
}
