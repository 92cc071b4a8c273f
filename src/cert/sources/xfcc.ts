/**
 * cert/sources/xfcc — Envoy's `x-forwarded-client-cert` (XFCC) header (also Istio, Contour, Emissary, and
 * other Envoy-based gateways).
 *
 * Contract: pure, never throws; `fromTerminator: true`. The header is capped, then parsed whole: any syntax
 * error anywhere (unbalanced quotes, a pair without `=`, an empty element or pair) is
 * certificate_header_invalid, so a header certgate cannot read unambiguously is never half-used.
 *
 * Format, as documented and implemented (envoyproxy.io "HTTP header manipulation" § x-forwarded-client-cert;
 * envoy source/common/http/conn_manager_utility.cc and the TLS connection info's
 * urlEncodedPemEncodedPeerCertificate[Chain]; checked 2026):
 * - Elements are separated by ","; each element holds the certificate information added by one proxy, and a
 *   proxy appends its element at the END. The FIRST element is therefore the one added by the first proxy,
 *   which saw the original client. (Deployment requirement: that edge proxy must sanitize incoming XFCC —
 *   Envoy's SANITIZE_SET — or a client could put its own element first.)
 * - Within an element, ";"-separated `Key=Value` pairs; keys case-insensitive; a value holding ",", ";" or "="
 *   is double-quoted, with `"` inside written `\"`. Envoy always quotes Cert, Chain and Subject, and leaves
 *   By, Hash, URI and DNS unquoted (URI and DNS may be empty, and DNS may repeat).
 * - `Cert`: the client certificate as PEM with "\n" %0A, " " %20, "+" %2B, "/" %2F, "=" %3D.
 * - `Chain`: the whole peer chain the same way, INCLUDING the leaf, leaf first (SSL_get_peer_full_cert_chain).
 * - `By`, `Hash`, `Subject`, `URI`, `DNS` are not used for the decision (certgate computes its own).
 *
 * Decision for a first element with neither Cert nor Chain: certificate_header_invalid, not `none`. Envoy adds
 * an element only when the client presented a certificate (Hash is always there), so such an element says "a
 * certificate was presented" while withholding it: the proxy is configured without
 * `set_current_client_cert_details.cert`/`chain` (Istio's default). Treating it as `none` would silently turn
 * every authenticated client into an anonymous one; an error makes the misconfiguration visible at once.
 * When both Cert and Chain are present, Cert must equal the first certificate of Chain.
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { MAX_PRESENTED_CHAIN } from "../../limits";
import { equalBytes } from "../../bytes";
import { NONE, decodeUrlEncodedPem, failed, found, guarded, headerInvalid, leafFirst, readHeader } from "./shared";
import type { CertificateSource, SourceInput, SourceOptions, SourceResult } from "./source";

const NAME = "xfcc";
const HEADER = SOURCE_HEADERS.xfcc;

/** One `Key=Value` pair; the key lower-cased, the value with its quotes and `\"` escapes removed. */
interface XfccPair {
  readonly key: string;
  readonly value: string;
}

/** The source reading Envoy's x-forwarded-client-cert. Takes no options: the header name is fixed by Envoy. */
export function createXfccSource(_options: SourceOptions = {}): CertificateSource {
  return { name: NAME, headers: [HEADER], fromTerminator: true, extract: (input) => guarded(NAME, () => extractXfcc(input)) };
}

function extractXfcc({ headers }: SourceInput): SourceResult {
  const read = readHeader(headers, HEADER, NAME);
  if (read.kind === "absent") return NONE;
  if (read.kind === "error") return failed(read.error);
  const parsed = parseXfcc(read.value);
  if ("problem" in parsed) return failed(headerInvalid(NAME, HEADER, parsed.problem));
  const [first = []] = parsed.elements;

  let cert: string | undefined;
  let chain: string | undefined;
  for (const { key, value } of first) {
    if (key === "cert" || key === "chain") {
      if ((key === "cert" ? cert : chain) !== undefined) {
        return failed(headerInvalid(NAME, HEADER, `the first element has more than one ${key === "cert" ? "Cert" : "Chain"}`));
      }
      if (key === "cert") cert = value;
      else chain = value;
    }
  }
  const withheld = headerInvalid(NAME, HEADER, "the first element carries no Cert or Chain (the proxy must forward the certificate)");
  if (cert === undefined && chain === undefined) return failed(withheld);

  // Chain holds the leaf first, so it may hold MAX_PRESENTED_CHAIN certificates; Cert exactly one.
  const chainCerts = chain === undefined ? undefined : decodeUrlEncodedPem(chain, NAME, HEADER, MAX_PRESENTED_CHAIN);
  if (chainCerts !== undefined && !chainCerts.ok) return failed(chainCerts.error);
  const leafCerts = cert === undefined ? undefined : decodeUrlEncodedPem(cert, NAME, HEADER, 1);
  if (leafCerts !== undefined && !leafCerts.ok) return failed(leafCerts.error);

  if (leafCerts === undefined || chainCerts === undefined) {
    const only = leafCerts ?? chainCerts;
    return only === undefined ? failed(withheld) : leafFirst(NAME, only.value);
  }
  const [leaf] = leafCerts.value;
  const [chainLeaf, ...intermediates] = chainCerts.value;
  if (leaf === undefined || chainLeaf === undefined || !equalBytes(chainLeaf, leaf)) {
    return failed(headerInvalid(NAME, HEADER, "Cert is not the first certificate of Chain"));
  }
  return found(NAME, leaf, intermediates);
}

/**
 * Parses a whole XFCC value into elements of pairs. Returns what is wrong for anything but well-formed
 * input. Optional whitespace is allowed around the "," between elements only (Envoy writes none, other
 * producers and a repeated header joined by `Headers` write ", ").
 */
export function parseXfcc(text: string): { readonly elements: XfccPair[][] } | { readonly problem: string } {
  const elements: XfccPair[][] = [];
  let pos = skipSpaces(text, 0);
  for (;;) {
    const pairs: XfccPair[] = [];
    for (;;) {
      const eq = scanKey(text, pos);
      if (typeof eq === "string") return { problem: eq };
      const key = text.slice(pos, eq).toLowerCase();
      pos = eq + 1;
      let value: string;
      if (text.charCodeAt(pos) === 0x22) {
        const quoted = scanQuoted(text, pos);
        if (typeof quoted === "string") return { problem: quoted };
        value = quoted.value;
        pos = skipSpaces(text, quoted.end);
        if (pos < text.length && text[pos] !== ";" && text[pos] !== ",") {
          return { problem: `unexpected character after a quoted value at character ${pos}` };
        }
      } else {
        let end = pos;
        while (end < text.length && text[end] !== ";" && text[end] !== ",") {
          if (text[end] === '"') return { problem: `a double quote inside an unquoted value at character ${end}` };
          end++;
        }
        value = text.slice(pos, end).trimEnd();
        pos = end;
      }
      pairs.push({ key, value });
      if (text[pos] !== ";") break;
      pos++;
    }
    elements.push(pairs);
    if (pos >= text.length) return { elements };
    // text[pos] is "," here: scanKey and the value scanners stop only at ";", "," or the end.
    pos = skipSpaces(text, pos + 1);
    if (pos >= text.length) return { problem: "a trailing comma" };
  }
}

/** Finds the "=" ending the key that starts at `pos`; the key must be a non-empty run of token characters. */
function scanKey(text: string, pos: number): number | string {
  let p = pos;
  while (p < text.length && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text.charAt(p))) p++;
  if (p === pos) return `an empty or ill-formed key at character ${pos}`;
  if (text[p] !== "=") return `a key without "=" at character ${pos}`;
  return p;
}

/** Reads the quoted string opening at `pos`: `\"` and `\\` are unescaped; any other `\x` is kept as is. */
function scanQuoted(text: string, pos: number): { value: string; end: number } | string {
  let value = "";
  for (let p = pos + 1; p < text.length; p++) {
    const c = text[p];
    if (c === '"') return { value, end: p + 1 };
    if (c === "\\") {
      const next = text[p + 1];
      if (next === undefined) break;
      value += next === '"' || next === "\\" ? next : c + next;
      p++;
    } else {
      value += c;
    }
  }
  return `unbalanced double quotes (opened at character ${pos})`;
}

function skipSpaces(text: string, pos: number): number {
  let p = pos;
  while (p < text.length && (text[p] === " " || text[p] === "\t")) p++;
  return p;
}
