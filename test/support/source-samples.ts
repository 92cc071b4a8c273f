/**
 * Test material for the source tests only (never imported by the Worker): a small PKI generated at test time,
 * the renderings each terminator applies, and the soundness check the property tests share.
 * Runs inside workerd. Encoders here are written independently of the code under test (btoa, explicit
 * escape tables), so a shared bug cannot hide.
 */
import fc from "fast-check";
import { expect } from "vitest";
import { ca, leaf, root } from "./chains";
import { decodeCertificate } from "../../src/cert/decode";
import { CERT_ERROR_CODES } from "../../src/errors";
import { CERTIFICATE_HEADER_INVALID, type SourceResult } from "../../src/cert/sources/source";

/** A client chain as a TLS client sends it: leaf, issuing CA, root. PEM and DER of each. */
export interface TestChain {
  readonly leaf: { der: Uint8Array; pem: string };
  readonly ca: { der: Uint8Array; pem: string };
  readonly root: { der: Uint8Array; pem: string };
}

export async function makeChain(name: string): Promise<TestChain> {
  const r = await root(`${name} Root`);
  const c = await ca(`${name} Issuing CA`, r);
  const l = await leaf(`${name} Client`, c, "p-256", { subjectAltName: { names: [{ dns: "client.example.com" }] } });
  return { leaf: l, ca: c, root: r };
}

/** Standard base64 with padding, via the platform. */
export function base64(der: Uint8Array): string {
  let s = "";
  for (const b of der) s += String.fromCharCode(b);
  return btoa(s);
}

/** Percent-encodes every character outside `keep` as %XX (uppercase hex). */
function escapeExcept(text: string, keep: RegExp): string {
  let out = "";
  for (const ch of text) out += keep.test(ch) ? ch : `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`;
  return out;
}

/** nginx $ssl_client_escaped_cert: ngx_escape_uri(NGX_ESCAPE_URI_COMPONENT) keeps only RFC 3986 unreserved. */
export const nginxEscape = (pem: string) => escapeExcept(pem, /[A-Za-z0-9\-._~]/);

/** Envoy XFCC Cert/Chain: "\n" %0A, " " %20, "+" %2B, "/" %2F, "=" %3D, nothing else. */
export const envoyEscape = (pem: string) =>
  pem.replaceAll("\n", "%0A").replaceAll(" ", "%20").replaceAll("+", "%2B").replaceAll("/", "%2F").replaceAll("=", "%3D");

/** ALB: URL-encoded PEM "with +=/ as safe characters" (Python quote(pem, safe="+=/")). */
export const albEscape = (pem: string) => escapeExcept(pem, /[A-Za-z0-9\-._~+=/]/);

/** Go's url.QueryEscape for the characters base64 and "," use (Traefik v2's escaped pem). */
export const goQueryEscape = (text: string) => escapeExcept(text, /[A-Za-z0-9\-._~]/);

/** Headers from pairs; `append` keeps repeats, as two header lines would arrive. */
export function headersOf(...pairs: Array<[string, string]>): Headers {
  const h = new Headers();
  for (const [k, v] of pairs) h.append(k, v);
  return h;
}

/** The error code of a result, or its kind. */
export function outcome(r: SourceResult): string {
  return r.kind === "error" ? r.error.code : r.kind;
}

/** The found certificate, or a failed expectation. */
export function foundOf(r: SourceResult) {
  if (r.kind !== "found") throw new Error(`expected found, got ${r.kind === "error" ? `${r.error.code}: ${r.error.detail}` : r.kind}`);
  return r.certificate;
}

const KNOWN_CODES = new Set<string>([...CERT_ERROR_CODES, CERTIFICATE_HEADER_INVALID]);

/**
 * The property every source must hold for any input: it returned (never threw), the result is well-formed,
 * errors carry a known code, and `found` holds only bytes that are DER certificates (cert/decode accepts
 * each one alone).
 */
export function expectSound(r: SourceResult): void {
  expect(["none", "found", "error"]).toContain(r.kind);
  if (r.kind === "error") {
    expect(KNOWN_CODES.has(r.error.code)).toBe(true);
    expect(typeof r.error.detail).toBe("string");
  }
  if (r.kind === "found") {
    for (const der of [r.certificate.leaf, ...r.certificate.chain]) {
      const again = decodeCertificate(der);
      expect(again.ok).toBe(true);
      if (again.ok) expect(again.value).toEqual(der);
    }
  }
}

const VALUE_ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=%:,;\"\\- \t_~.";

/** One character a header value may hold (printable ASCII or tab), biased towards the formats' syntax. */
export const headerChar: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...VALUE_ALPHABET),
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
);

/** Arbitrary header values built from format fragments and characters. */
export const headerValue: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      { weight: 4, arbitrary: headerChar },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----", "-----BEGIN%20CERTIFICATE-----", "%0A", "%2B",
          "%3D", "%2C", "%", "MII", "MIIB", "MAA=", ":", ":MII", ", ", "Cert=\"", "Chain=\"", "\";", "By=", "Hash=",
        ),
      },
    ),
    { maxLength: 120 },
  )
  .map((parts) => parts.join(""));

/** A valid value with a few random edits (insert, delete, replace) or a truncation: near-misses. */
export function mutationsOf(valid: string): fc.Arbitrary<string> {
  const edit = fc.record({ at: fc.nat(), op: fc.constantFrom("insert", "delete", "replace"), ch: headerChar });
  const edited = fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    let s = valid;
    for (const { at, op, ch } of edits) {
      const i = s.length === 0 ? 0 : at % s.length;
      s = op === "insert" ? s.slice(0, i) + ch + s.slice(i) : op === "delete" ? s.slice(0, i) + s.slice(i + 1) : s.slice(0, i) + ch + s.slice(i + 1);
    }
    return s;
  });
  const truncated = fc.nat({ max: Math.max(0, valid.length - 1) }).map((n) => valid.slice(0, n));
  return fc.oneof(edited, truncated);
}

/** Runs for property tests: enough to find structure bugs, small enough for the < 10 s budget. */
export const RUNS = { numRuns: 300 } as const;
