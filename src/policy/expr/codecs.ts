/**
 * policy/expr/codecs — the byte and text codecs of .NET that policy expressions use: byte[], base64, UTF-8 and
 * ASCII encodings, GUIDs, URI and URL escaping, HTML encoding. Each follows the .NET (Core) behaviour its
 * documentation gives:
 *
 * - Convert.ToBase64String / FromBase64String — learn.microsoft.com/dotnet/api/system.convert.frombase64string:
 *   FormatException when the length without white space is not a multiple of 4, a non-base-64 character, more
 *   than two padding characters, or a non-white-space character among them; ' ', '\t', '\r', '\n' are ignored
 *   anywhere (learn.microsoft.com/dotnet/core/compatibility/core-libraries/8.0/decodefromutf8-whitespace).
 * - Encoding.UTF8 / ASCII GetBytes / GetString — learn.microsoft.com/dotnet/api/system.text.encoding: UTF-8
 *   replaces an invalid sequence (and a lone surrogate) with U+FFFD, as TextEncoder/TextDecoder do (both follow
 *   Unicode's "maximal subpart" practice); ASCII replaces anything above 0x7F with '?'.
 * - Guid — learn.microsoft.com/dotnet/api/system.guid.tostring: lowercase hex, formats N, D (default), B, P, X;
 *   ToByteArray — learn.microsoft.com/dotnet/api/system.guid.tobytearray: the first three fields little-endian.
 *   Guid.Parse accepts the N, D, B, P and X forms, case-insensitive, white space around trimmed.
 * - Uri.EscapeDataString — learn.microsoft.com/dotnet/api/system.uri.escapedatastring: everything but RFC 3986's
 *   unreserved characters (A–Z a–z 0–9 - . _ ~) as %XX of its UTF-8 bytes, uppercase hex. UnescapeDataString
 *   decodes %XX sequences that form valid UTF-8 and leaves any other `%` text as it is.
 * - WebUtility.UrlEncode / UrlDecode / HtmlEncode — learn.microsoft.com/dotnet/api/system.net.webutility: space
 *   as '+', A–Z a–z 0–9 and - _ . ! * ( ) kept, the rest %XX uppercase; HtmlEncode escapes < > & " ' and
 *   encodes U+00A0–U+00FF and characters outside the BMP as &#N;.
 *
 * Contract: pure functions of plain values; size and step charges are the caller's (statics.ts, members.ts),
 * failures are `Failure` values the caller raises. A byte[] is an interpreter array of integers 0–255 marked in
 * `byteArrays`, so indexing, Length and LINQ work on it as on any array, and its type name is System.Byte[].
 */
import type { Value } from "./host";
import { ownArray } from "./linq";
import { byteArrays } from "./values";

export type Failure = { readonly reason: string; readonly message: string };

/** A byte[] value from bytes. */
export function byteArray(bytes: Uint8Array): Value[] {
  const out = ownArray(Array.from(bytes));
  byteArrays.add(out);
  return out;
}

/** The bytes of a byte[] (or of any array of integers 0–255, as C# would convert an int[] literal); null if not one. */
export function bytesOf(v: Value): Uint8Array | null {
  if (!Array.isArray(v)) return null;
  const items = v as readonly Value[];
  const out = new Uint8Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const b = items[i];
    if (typeof b !== "number" || !Number.isInteger(b) || b < 0 || b > 255) return null;
    out[i] = b;
  }
  return out;
}

// ── base64 ─────────────────────────────────────────────────────────────────────────────────────────────────

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

export function toBase64(bytes: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + B64[(n >> 6) & 63]! + B64[n & 63]!;
  }
  if (i < bytes.length) {
    const two = i + 1 < bytes.length;
    const n = (bytes[i]! << 16) | (two ? bytes[i + 1]! << 8 : 0);
    out += B64[n >> 18]! + B64[(n >> 12) & 63]! + (two ? B64[(n >> 6) & 63]! : "=") + "=";
  }
  return out;
}

const BASE64_FORMAT: Failure = {
  reason: "FormatException",
  message: "The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters.",
};

export function fromBase64(s: string): Uint8Array | Failure {
  const digits: number[] = [];
  let padding = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) continue;
    if (c === 0x3d) {
      padding++;
      continue;
    }
    const d = c < 128 ? B64_INDEX[c]! : -1;
    if (d < 0 || padding > 0) return BASE64_FORMAT;
    digits.push(d);
  }
  if ((digits.length + padding) % 4 !== 0) {
    return { reason: "FormatException", message: "The input is not a valid Base-64 string as it is not a multiple of 4 in length." };
  }
  if (padding > 2 || (padding > 0 && (digits.length + padding) % 4 !== 0)) return BASE64_FORMAT;
  const out = new Uint8Array(Math.floor((digits.length * 6) / 8));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const d of digits) {
    acc = (acc << 6) | d;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

// ── text encodings ─────────────────────────────────────────────────────────────────────────────────────────

const UTF8_ENCODER = new TextEncoder();
const UTF8_DECODER = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/** The encodings of System.Text.Encoding's static properties. */
export type EncodingName = "UTF8" | "ASCII";

export function encode(encoding: EncodingName, s: string): Uint8Array {
  if (encoding === "UTF8") return UTF8_ENCODER.encode(s);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c < 0x80 ? c : 0x3f;
  }
  return out;
}

export function decode(encoding: EncodingName, bytes: Uint8Array): string {
  if (encoding === "UTF8") return UTF8_DECODER.decode(bytes);
  let out = "";
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : "?";
  return out;
}

// ── GUIDs ──────────────────────────────────────────────────────────────────────────────────────────────────

const HEX32 = /^[0-9a-f]{32}$/;

/** 32 lowercase hex digits in RFC 4122 byte order (the order of the "D" text form). */
export type GuidHex = string;

export function newGuidHex(): GuidHex {
  return crypto.randomUUID().replace(/-/g, "");
}

export function formatGuid(hex: GuidHex, format: string): string | Failure {
  const d = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  switch (format) {
    case "":
    case "D":
    case "d":
      return d;
    case "N":
    case "n":
      return hex;
    case "B":
    case "b":
      return `{${d}}`;
    case "P":
    case "p":
      return `(${d})`;
    case "X":
    case "x": {
      const rest = [];
      for (let i = 16; i < 32; i += 2) rest.push(`0x${hex.slice(i, i + 2)}`);
      return `{0x${hex.slice(0, 8)},0x${hex.slice(8, 12)},0x${hex.slice(12, 16)},{${rest.join(",")}}}`;
    }
    default:
      return { reason: "FormatException", message: 'Format string can be only "D", "d", "N", "n", "P", "p", "B", "b", "X" or "x".' };
  }
}

const GUID_FORMS: readonly RegExp[] = [
  /^([0-9a-f]{32})$/,
  /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/,
  /^\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}$/,
  /^\(([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\)$/,
];
const GUID_X = /^\{0x([0-9a-f]{1,8}),0x([0-9a-f]{1,4}),0x([0-9a-f]{1,4}),\{((?:0x[0-9a-f]{1,2},){7}0x[0-9a-f]{1,2})\}\}$/;

/** Guid.Parse: null when the text is none of the five forms. */
export function parseGuidHex(input: string): GuidHex | null {
  const s = input.trim().toLowerCase();
  for (const form of GUID_FORMS) {
    const m = form.exec(s);
    if (m) return m.slice(1).join("");
  }
  const x = GUID_X.exec(s.replace(/\s+/g, ""));
  if (!x) return null;
  const bytes = x[4]!.split(",").map((b) => b.slice(2).padStart(2, "0"));
  return x[1]!.padStart(8, "0") + x[2]!.padStart(4, "0") + x[3]!.padStart(4, "0") + bytes.join("");
}

export function isGuidHex(s: string): boolean {
  return HEX32.test(s);
}

/** Guid.ToByteArray: Data1 (4 bytes), Data2 and Data3 (2 each) little-endian, then the last 8 as written. */
export function guidBytes(hex: GuidHex): Uint8Array {
  const b = new Uint8Array(16);
  for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return new Uint8Array([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!, ...b.subarray(8)]);
}

// ── URI, URL and HTML ──────────────────────────────────────────────────────────────────────────────────────

const HEX = "0123456789ABCDEF";
const percent = (b: number) => `%${HEX[b >> 4]}${HEX[b & 15]}`;

/** Percent-encodes the UTF-8 bytes of every character `keep` rejects. */
function escapeBytes(s: string, keep: (c: number) => boolean, space: string | null): string {
  let out = "";
  for (const b of UTF8_ENCODER.encode(s)) {
    if (space !== null && b === 0x20) out += space;
    else if (keep(b)) out += String.fromCharCode(b);
    else out += percent(b);
  }
  return out;
}

const isAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
/** RFC 3986 §2.3 unreserved. */
const isUnreserved = (c: number) => isAlnum(c) || c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
/** WebUtility's URL-safe characters: alphanumerics and - _ . ! * ( ). */
const isUrlSafe = (c: number) => isAlnum(c) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x21 || c === 0x2a || c === 0x28 || c === 0x29;

export function escapeDataString(s: string): string {
  return escapeBytes(s, isUnreserved, null);
}

export function urlEncode(s: string): string {
  return escapeBytes(s, isUrlSafe, "+");
}

const hexValue = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);

/** Length of the UTF-8 sequence starting with `b` (0: not a valid lead byte). */
function utf8Length(b: number): number {
  return b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
}

/**
 * Decodes runs of %XX; a run's bytes that are not valid UTF-8 stay as their `%XX` text (Uri.UnescapeDataString),
 * or become U+FFFD (`replace`: WebUtility.UrlDecode, which also reads '+' as a space).
 */
function unescape(s: string, plus: boolean, replace: boolean): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (plus && c === 0x2b) {
      out += " ";
      i++;
      continue;
    }
    if (c !== 0x25) {
      out += s[i];
      i++;
      continue;
    }
    // A run of %XX escapes: their bytes, and where each one starts in s.
    const bytes: number[] = [];
    const starts: number[] = [];
    let j = i;
    while (j + 2 < s.length && s.charCodeAt(j) === 0x25) {
      const hi = hexValue(s.charCodeAt(j + 1));
      const lo = hexValue(s.charCodeAt(j + 2));
      if (hi < 0 || lo < 0) break;
      bytes.push(hi * 16 + lo);
      starts.push(j);
      j += 3;
    }
    if (bytes.length === 0) {
      out += "%";
      i++;
      continue;
    }
    let k = 0;
    while (k < bytes.length) {
      const n = utf8Length(bytes[k]!);
      const seq = bytes.slice(k, k + n);
      const valid = n > 0 && seq.length === n && seq.slice(1).every((b) => (b & 0xc0) === 0x80) && UTF8_DECODER.decode(new Uint8Array(seq)).indexOf("\uFFFD") < 0;
      if (valid) {
        out += UTF8_DECODER.decode(new Uint8Array(seq));
        k += n;
      } else {
        out += replace ? "\uFFFD" : s.slice(starts[k]!, starts[k]! + 3);
        k += 1;
      }
    }
    i = j;
  }
  return out;
}

export function unescapeDataString(s: string): string {
  return s.includes("%") ? unescape(s, false, false) : s;
}

export function urlDecode(s: string): string {
  return unescape(s, true, true);
}

export function htmlEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x3c:
        out += "&lt;";
        continue;
      case 0x3e:
        out += "&gt;";
        continue;
      case 0x22:
        out += "&quot;";
        continue;
      case 0x26:
        out += "&amp;";
        continue;
      case 0x27:
        out += "&#39;";
        continue;
    }
    if (c >= 0xa0 && c < 0x100) out += `&#${c};`;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += `&#${s.codePointAt(i)};`;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out += "&#65533;";
    else out += s[i];
  }
  return out;
}
