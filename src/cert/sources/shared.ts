/**
 * cert/sources/shared — what several source modules need: reading one header under its cap, a strict
 * percent-decoder, and the result constructors. Format knowledge stays in each source's own file.
 *
 * Contract: pure, never throws. Caps are checked before any decoding (MAX_PRESENTED_BUNDLE_BYTES on the raw
 * header value; MAX_PRESENTED_CHAIN on certificates, enforced by cert/decode before it decodes anything).
 */
import { decodeCertificates } from "../decode";
import { MAX_PRESENTED_BUNDLE_BYTES, MAX_PRESENTED_CHAIN } from "../../limits";
import {
  CERTIFICATE_HEADER_INVALID,
  fromCertError,
  sourceError,
  type CertificateSource,
  type PresentedCertificate,
  type SourceOptions,
  type SourceError,
  type SourceResult,
} from "./source";

export const NONE: SourceResult = { kind: "none" };

export function found(
  source: string,
  leaf: Uint8Array,
  chain: readonly Uint8Array[],
  platform?: PresentedCertificate["platform"],
): SourceResult {
  const certificate: PresentedCertificate =
    platform === undefined ? { source, leaf, chain } : { source, leaf, chain, platform };
  return { kind: "found", certificate };
}

export function failed(error: SourceError): SourceResult {
  return { kind: "error", error };
}

/** A failure while decoding one source's value: the error, or the decoded value. */
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: SourceError };

export const decoded = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const rejected = <T>(error: SourceError): Decoded<T> => ({ ok: false, error });

export function malformed(source: string, header: string, what: string): SourceError {
  return sourceError("certificate_malformed", `The client certificate in ${header} is malformed: ${what}.`, {
    source,
    header,
  });
}

export function headerInvalid(source: string, header: string, what: string): SourceError {
  return sourceError(CERTIFICATE_HEADER_INVALID, `The ${header} header is invalid: ${what}.`, { source, header });
}

/** What reading one header gave: nothing (absent or blank), its value, or a cap error. */
export type HeaderRead =
  | { readonly kind: "absent" }
  | { readonly kind: "value"; readonly value: string }
  | { readonly kind: "error"; readonly error: SourceError };

/**
 * Reads a header (Headers joins repeated lines with ", "). Absent or blank is `absent`: terminators such as
 * HAProxy send an empty header when no certificate was presented. Longer than MAX_PRESENTED_BUNDLE_BYTES is
 * `bundle_too_large`, before anything looks inside.
 */
export function readHeader(headers: Headers, name: string, source: string): HeaderRead {
  const value = headers.get(name);
  if (value === null) return { kind: "absent" };
  if (value.length > MAX_PRESENTED_BUNDLE_BYTES) {
    return {
      kind: "error",
      error: sourceError("bundle_too_large", `The ${name} header is larger than ${MAX_PRESENTED_BUNDLE_BYTES} bytes.`, {
        source,
        header: name,
        size: value.length,
        max: MAX_PRESENTED_BUNDLE_BYTES,
      }),
    };
  }
  const trimmed = value.trim();
  return trimmed === "" ? { kind: "absent" } : { kind: "value", value: trimmed };
}

/**
 * Strict percent-decoding (RFC 3986 §2.1) of text that must decode to ASCII: every `%` starts a `%XX` escape
 * with two hex digits; `+` is a literal `+` (form encoding's space-for-plus is never used by terminators that
 * URL-encode PEM, and a literal `+` is a base64 character: ALB leaves `+`, `=` and `/` unescaped). Raw
 * characters must be printable ASCII or tab; decoded ones printable ASCII, tab, CR or LF. Returns what is
 * wrong instead of the text.
 */
export function percentDecode(text: string): { readonly text: string } | { readonly problem: string } {
  let out = "";
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x25) {
      const hi = hexValue(text.charCodeAt(i + 1));
      const lo = hexValue(text.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return { problem: `invalid percent-escape at character ${i}` };
      const byte = hi * 16 + lo;
      if (!(isPrintable(byte) || byte === 0x09 || byte === 0x0a || byte === 0x0d)) {
        return { problem: `percent-escape at character ${i} decodes to a byte that is not PEM text` };
      }
      out += text.slice(runStart, i) + String.fromCharCode(byte);
      i += 2;
      runStart = i + 1;
    } else if (!(isPrintable(c) || c === 0x09)) {
      return { problem: `character ${i} is not printable ASCII` };
    }
  }
  return { text: out + text.slice(runStart) };
}

/**
 * Decodes PEM text (one or several CERTIFICATE blocks, leaf first) into DER, at most `maxCount` certificates.
 * The text must hold PEM: a header source that carries PEM never legitimately carries bare base64 or DER.
 */
export function decodePemText(text: string, source: string, header: string, maxCount = MAX_PRESENTED_CHAIN): Decoded<Uint8Array[]> {
  if (!text.includes("-----BEGIN")) return rejected(malformed(source, header, "no PEM BEGIN marker"));
  const certs = decodeCertificates(text, { maxCount });
  if (!certs.ok) return rejected(fromCertError(certs.error, { source, header }));
  if (certs.value.length === 0) return rejected(malformed(source, header, "no certificate in the PEM text"));
  return decoded(certs.value);
}

/** Percent-decodes (strictly, when the value holds a `%`) and decodes PEM; see percentDecode and decodePemText. */
export function decodeUrlEncodedPem(value: string, source: string, header: string, maxCount = MAX_PRESENTED_CHAIN): Decoded<Uint8Array[]> {
  const text = percentDecode(value);
  if ("problem" in text) return rejected(malformed(source, header, text.problem));
  return decodePemText(text.text, source, header, maxCount);
}

/** The first certificate is the leaf, the rest the chain in the order sent. */
export function leafFirst(source: string, certs: readonly Uint8Array[]): SourceResult {
  const [leaf, ...chain] = certs;
  // decodePemText and the sources' own decoders never return an empty list; this keeps the type honest.
  if (leaf === undefined) return failed(sourceError("certificate_missing", "No certificate was presented.", { source }));
  return found(source, leaf, chain);
}

/**
 * A source reading one header that carries the leaf-first certificates and must occur once (Headers joins
 * a repeated line with ", ", and none of these formats has a comma of its own): absent → none; present →
 * `decode(value, header)`. The header name is `options.header` or `defaultHeader`, lower-cased.
 */
export function singleHeaderSource(name: string, defaultHeader: string, options: SourceOptions,
  decode: (value: string, header: string) => Decoded<Uint8Array[]>): CertificateSource {
  const header = (options.header ?? defaultHeader).toLowerCase();
  return {
    name,
    headers: [header],
    fromTerminator: true,
    extract: ({ headers }) =>
      guarded(name, () => {
        const read = readHeader(headers, header, name);
        if (read.kind === "absent") return NONE;
        if (read.kind === "error") return failed(read.error);
        if (read.value.includes(",")) return failed(headerInvalid(name, header, "it occurs more than once"));
        const certs = decode(read.value, header);
        return certs.ok ? leafFirst(name, certs.value) : failed(certs.error);
      }),
  };
}

/**
 * Runs a source's extraction; an exception (a bug, or a hostile `cf` object with throwing getters) becomes a
 * certificate_malformed error, so the request is denied rather than let through or crashed.
 */
export function guarded(source: string, run: () => SourceResult): SourceResult {
  try {
    return run();
  } catch {
    return failed(sourceError("certificate_malformed", "The client certificate could not be read.", { source }));
  }
}

/** RFC 9110 §5.1, §5.6.2: a field name is a token. */
export function isHeaderName(name: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name);
}

function isPrintable(c: number): boolean {
  return c >= 0x20 && c <= 0x7e;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1; // also NaN past the end of the string
}
