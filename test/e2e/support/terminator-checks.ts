/**
 * Test support for the end-to-end suites: what both terminator suites send and what they assert. Node only.
 *
 * Contract:
 * - `readDeployConfig` takes the configuration block a deploy guide marks as tested (docs/deploy/*.md) and
 *   applies the suite's substitutions (ports, file paths, secret, upstream), each of which must match
 *   exactly as often as stated — a guide edited out from under its test fails loudly instead of drifting.
 * - `sendThroughTerminator` speaks HTTPS to the terminator with Node's client, a fresh connection per request
 *   (no session resumption carrying another test's certificate), optionally presenting a demo client's
 *   certificate chain and key; `sendToGateway` speaks plain HTTP to certgate directly. Both bound every request.
 * - `expectProblem` / `expectVerifiedIdentity` assert certgate's documented answers (docs/configuration.md).
 * - `spoofedCertificateHeaders` forges every certificate header of every format certgate knows
 *   (ALL_CERTIFICATE_HEADERS), carrying another client's real certificate, plus forged identity and
 *   forwarding headers: what a client without that client's key would try.
 */
import { X509Certificate, createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { expect } from "vitest";
import type { OriginEcho } from "../../../scripts/dev/demo-origin";
import { PROJECT_ROOT } from "../../../scripts/kv/seed-local";
import { ALL_CERTIFICATE_HEADERS } from "../../../src/cert/sources/registry";
import { ALL_VENDOR_CERTIFICATE_HEADERS, FORWARDING_HEADERS, underscored } from "../../support/spoofed-headers";
import type { DemoClient, GatewayStack } from "./gateway-stack";

/** One request, answer included, never waits longer (a 10 MiB upload through two proxies takes < 1 s here). */
const REQUEST_TIMEOUT_MS = 20_000;
export const SECRET_HEADER = "x-certgate-terminator-secret";

// ---------------------------------------------------------------------------------------------------------
// The tested configuration, from the deploy guide

export interface Substitution {
  readonly from: string;
  readonly to: string;
  /** How often `from` occurs in the block. */
  readonly times: number;
}

/**
 * The fenced block of `language` that follows the `<!-- e2e: ... -->` marker in `docFile` (relative to the
 * project root), with the substitutions applied.
 */
export function readDeployConfig(docFile: string, language: string, substitutions: readonly Substitution[]): string {
  const text = readFileSync(join(PROJECT_ROOT, docFile), "utf8");
  const marker = text.indexOf("<!-- e2e:");
  if (marker < 0) throw new Error(`${docFile} has no "<!-- e2e: ... -->" marker before its tested configuration block`);
  const fence = "```" + language + "\n";
  const start = text.indexOf(fence, marker);
  const end = start < 0 ? -1 : text.indexOf("\n```", start + fence.length);
  if (start < 0 || end < 0) throw new Error(`${docFile}: no \`\`\`${language} block after the e2e marker`);
  let block = text.slice(start + fence.length, end + 1);
  for (const s of substitutions) {
    const count = block.split(s.from).length - 1;
    if (count !== s.times) {
      throw new Error(`${docFile}: the tested block has ${count} × ${JSON.stringify(s.from)}, the suite expects ${s.times}; update the suite with the guide`);
    }
    block = block.split(s.from).join(s.to);
  }
  return block;
}

/** Names (lower-case) of the headers a configuration line pattern sets or deletes, e.g. nginx proxy_set_header. */
export function headerNamesIn(config: string, pattern: RegExp): Set<string> {
  const names = new Set<string>();
  for (const line of config.split("\n")) {
    const m = pattern.exec(line.replace(/#.*/, ""));
    if (m?.[1]) names.add(m[1].toLowerCase());
  }
  return names;
}

/** Every header certgate could read a certificate from, or trusts from the terminator, that `handled` misses. */
export function unhandledTrustedHeaders(handled: ReadonlySet<string>): string[] {
  const trusted = [...ALL_CERTIFICATE_HEADERS(), SECRET_HEADER, "x-forwarded-for", "forwarded"];
  return trusted.filter((h) => !handled.has(h));
}

// ---------------------------------------------------------------------------------------------------------
// Requests

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or null. */
  readonly json: Record<string, unknown> | null;
}

export interface TerminatorRequest {
  /**
   * The demo client whose certificate chain (leaf + issuing CA, so a terminator also meets an untrusted
   * intermediate) and key the TLS client presents; none: no certificate.
   */
  readonly client?: DemoClient;
  readonly method?: "GET" | "POST";
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer | string;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** HTTPS to the terminator on 127.0.0.1:`port`, trusting only the throwaway TLS CA; a fresh connection. */
export function sendThroughTerminator(port: number, caPem: string, r: TerminatorRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      method: r.method ?? "GET",
      path: r.path,
      headers: r.body === undefined ? r.headers : { ...r.headers, "content-length": String(Buffer.byteLength(r.body)) },
      ca: caPem,
      ...(r.client ? { cert: r.client.chainPem, key: r.client.keyPem } : {}),
      agent: false,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseJson(text) });
      });
      res.on("error", reject);
    });
    req.on("error", (e) => reject(new Error(`${r.method ?? "GET"} https://127.0.0.1:${port}${r.path} failed: ${e.message}`)));
    req.end(r.body);
  });
}

/** Plain HTTP straight to certgate, bypassing the terminator. */
export async function sendToGateway(gatewayUrl: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(gatewayUrl + path, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  return { status: res.status, headers: Object.fromEntries(res.headers), text, json: parseJson(text) };
}

// ---------------------------------------------------------------------------------------------------------
// Assertions

/** Shown with every failed expectation: the whole answer, which says what certgate (or the proxy) decided. */
export function describeAnswer(a: Answer): string {
  if (a.headers["x-demo-origin"] === "echo" && a.json) {
    // Forwarded: what matters is who certgate said the client was, and what else the origin got.
    const echo = a.json as unknown as OriginEcho;
    return `status ${a.status}: forwarded to the origin as ${JSON.stringify(echo.headers["x-client-cert-subject"] ?? null)}, ` +
      `${echo.method} ${echo.url}, ${echo.body.bytes} body bytes, headers: ${Object.keys(echo.headers).join(", ")}`;
  }
  return `status ${a.status}, content-type ${String(a.headers["content-type"])}: ${a.text.slice(0, 600)}`;
}

/** certgate's documented denial: RFC 9457 problem+json with the status and the stable code. */
export function expectProblem(a: Answer, expected: { status: number; code: string; path: string }): void {
  const why = describeAnswer(a);
  expect(a.status, why).toBe(expected.status);
  expect(String(a.headers["content-type"]), why).toMatch(/^application\/problem\+json/);
  expect(a.json, why).toMatchObject({
    type: `urn:certgate:problem:${expected.code}`,
    status: expected.status,
    code: expected.code,
    instance: expected.path.replace(/\?.*/, ""),
  });
  expect(a.headers["x-demo-origin"], `${why}\n(the origin answered: the request was forwarded)`).toBeUndefined();
}

/** The echo of a request certgate forwarded. */
export function originEcho(a: Answer): OriginEcho {
  const why = describeAnswer(a);
  expect(a.status, why).toBe(200);
  expect(a.headers["x-demo-origin"], `${why}\n(not answered by the demo origin)`).toBe("echo");
  return a.json as unknown as OriginEcho;
}

/** The certificate facts certgate forwards, computed independently with Node's X509Certificate. */
export function certificateFacts(pem: string) {
  const x = new X509Certificate(pem);
  return {
    der: x.raw,
    base64: x.raw.toString("base64"),
    sha256: x.fingerprint256.replace(/:/g, "").toLowerCase(),
    thumbprint: x.fingerprint.replace(/:/g, "").toUpperCase(),
    serial: x.serialNumber.toUpperCase(),
    validTo: new Date(x.validTo),
  };
}

/** The origin saw `client`'s verified identity, set by certgate, and not the terminator secret. */
export function expectVerifiedIdentity(echo: OriginEcho, client: DemoClient, stack: GatewayStack): void {
  const h = echo.headers;
  const facts = certificateFacts(client.certPem);
  const dev = certificateFacts(readFileSync(join(stack.pkiDir, stack.manifest.cas.dev.cert), "utf8"));
  const why = JSON.stringify(h, null, 2);
  expect(h["client-cert"], why).toBe(`:${facts.base64}:`);
  expect(h["client-cert-chain"], why).toBe(`:${dev.base64}:`);
  // RFC 4514 as certgate renders it: the demo's "CN=…, OU=…" text without the blanks after commas.
  expect(h["x-client-cert-subject"], why).toBe(client.subject.replace(/, /g, ","));
  expect(h["x-client-cert-issuer"], why).toBe(stack.manifest.cas.dev.subject.replace(/, /g, ","));
  expect(h["x-client-cert-sha256"], why).toBe(facts.sha256);
  expect(h["x-client-cert-thumbprint"], why).toBe(facts.thumbprint);
  // certgate keeps a leading 00 (a positive serial with its high bit set); Node's rendering may drop it.
  expect(h["x-client-cert-serial"]?.replace(/^(00)+/, ""), why).toBe(facts.serial.replace(/^(00)+/, ""));
  expect(h["x-client-cert-not-after"], `Not-After is not in the default IDENTITY_HEADERS: ${why}`).toBeUndefined();
  expect(h["x-client-cert-verified"], why).toBe("SUCCESS");
  expect(h[SECRET_HEADER], `the terminator secret reached the origin: ${why}`).toBeUndefined();
}

// ---------------------------------------------------------------------------------------------------------
// Forgeries

/** The forged client address and identity values (marked so the origin's echo can be searched for them). */
export const FORGED = { address: "203.0.113.66", subject: "CN=Forged Administrator,O=certgate Demo,C=US" } as const;

/** nginx's $ssl_client_escaped_cert escaping (every byte outside unreserved URI characters as %XX). */
function escapePem(pem: string): string {
  return encodeURIComponent(pem).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Every certificate header certgate knows, carrying `victim`'s real certificate in that header's own format
 * (secondary headers carry forged facts), plus forged identity, secret and forwarding headers. Throws when
 * certgate knows a header this table has no sample for — add one, and strip it in the deploy guides.
 */
export function spoofedCertificateHeaders(victim: DemoClient): Record<string, string> {
  const { base64, sha256 } = certificateFacts(victim.certPem);
  const pem = victim.certPem;
  const alb = escapePem(pem).replace(/%2B/g, "+").replace(/%3D/g, "=").replace(/%2F/g, "/");
  const samples: Record<string, string> = {
    "client-cert": `:${base64}:`,
    "client-cert-chain": `:${base64}:`,
    "x-forwarded-client-cert": `By=spiffe://forged;Hash=${sha256};Cert="${escapePem(pem)}";Subject="${FORGED.subject}"`,
    "x-client-cert": escapePem(pem),
    "x-arr-clientcert": base64,
    "x-amzn-mtls-clientcert": alb,
    "x-amzn-mtls-clientcert-leaf": alb,
    "x-amzn-mtls-clientcert-issuer": FORGED.subject,
    "x-amzn-mtls-clientcert-serial-number": "01",
    "x-amzn-mtls-clientcert-subject": FORGED.subject,
    "x-amzn-mtls-clientcert-validity": "NotBefore=2020-01-01T00:00:00Z;NotAfter=2099-01-01T00:00:00Z",
    "x-forwarded-tls-client-cert": base64,
    "x-forwarded-tls-client-cert-info": `Subject%3D%22${encodeURIComponent(FORGED.subject)}%22`,
    "x-forwarded-tls-client-cert-infos": `Subject%3D%22${encodeURIComponent(FORGED.subject)}%22`,
  };
  const missing = ALL_CERTIFICATE_HEADERS().filter((h) => !(h in samples));
  if (missing.length > 0) throw new Error(`no forged sample for certificate header(s) ${missing.join(", ")}: add them here and to docs/deploy/*`);
  return {
    ...samples,
    "x-client-cert-subject": FORGED.subject,
    "x-client-cert-sha256": sha256,
    "x-client-cert-verified": "SUCCESS",
    [SECRET_HEADER]: "forged-secret-forged-secret-forged",
    "x-forwarded-for": FORGED.address,
    forwarded: `for=${FORGED.address};proto=https`,
  };
}

/**
 * Every client-certificate header family certgate strips (each vendor's documented names, in their `-` and `_`
 * spellings) and the client address headers X-Real-IP / True-Client-IP, each carrying a short forged value,
 * in requests of at most 60 headers each (HAProxy refuses a request with more than tune.http.maxhdr = 101
 * header lines with its own 400). The configured source's own header is left out: the terminator sets it,
 * and a client's copy is the other test's.
 */
export function spoofedHeaderFamilies(sourceHeader: string): Array<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of ALL_VENDOR_CERTIFICATE_HEADERS) {
    if (name.toLowerCase() !== sourceHeader.toLowerCase()) out[name] = "forged-f";
    out[underscored(name)] = "forged-u";
  }
  for (const name of FORWARDING_HEADERS.filter((n) => /real-ip|true-client/i.test(n))) {
    out[name] = FORGED.address;
    out[underscored(name)] = FORGED.address;
  }
  const entries = Object.entries(out);
  const requests: Array<Record<string, string>> = [];
  for (let i = 0; i < entries.length; i += 60) requests.push(Object.fromEntries(entries.slice(i, i + 60)));
  return requests;
}

/** The origin's echoed headers that carry a forged family value (or the forged address). */
export function forgedFamilyValues(headers: Record<string, unknown>): string[] {
  return Object.entries(headers).filter(([, v]) => /forged-[fu]|203\.0\.113\.66/.test(String(v))).map(([k, v]) => `${k}: ${String(v)}`);
}

/** The forged values as the origin could see them, to search its echo for. */
export function forgedNeedles(victim: DemoClient): string[] {
  const { base64, sha256 } = certificateFacts(victim.certPem);
  // The PEM body's first line URL-encoded (url-pem, xfcc, aws-alb forms); its plain form is a prefix of base64.
  const firstPemLine = escapePem(victim.certPem.split("\n")[1]!).slice(0, 48);
  return [base64, sha256, firstPemLine, FORGED.subject, "Forged Administrator", FORGED.address, "forged"];
}

/** SHA-256 hex of bytes. */
export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}
