/**
 * send-request, send-one-way-request and retry as the runner runs them (steps in outbound-schema.ts), kept out of
 * run.ts: the runner hands each step an `OutboundHost` and throws what the host builds.
 *
 * APIM reference: https://learn.microsoft.com/azure/api-management/send-request-policy,
 * https://learn.microsoft.com/azure/api-management/send-one-way-request-policy,
 * https://learn.microsoft.com/azure/api-management/retry-policy,
 * https://learn.microsoft.com/azure/api-management/return-response-policy.
 *
 * Contract: no I/O of its own (the host's `fetch` does it, through an `mtls_certificates` binding when the step names
 * one), no clock but the host's (`now`, `sleep`). Semantics:
 * - send-request: mode new (an empty request: GET unless set-method) or copy (the current request's URL, method,
 *   headers — certgate's own and certificate headers already stripped — and body; in outbound, copy sends no body,
 *   as APIM says); set-header edits those headers; timeout in seconds (default 60; a longer one waits
 *   MAX_OUTBOUND_TIMEOUT_SECONDS). The response is stored in the variable as an IResponse (StatusCode, StatusReason,
 *   Headers, Body.As<T>()); any status is a response, not an error (APIM). Redirects are not followed.
 * - Failures (a URL that is not http(s) or that certgate refuses, no connection, the timeout): with ignore-error the
 *   variable is null; without, LastError (Source "send-request", Reason `invalid_url` / `url_forbidden` /
 *   `unreachable` / `timeout`) and on-error; unhandled → 502 `send_request_failed`. APIM documents no Reason values
 *   for send-request: these are certgate's.
 * - Budgets (src/limits.ts), never ignored: MAX_OUTBOUND_CALLS per request, the timeout over the headers and the body read, a body above
 *   MAX_OUTBOUND_RESPONSE_BYTES → LastError (Reason
 *   `outbound_budget_exceeded`), on-error, unhandled → 500 `outbound_budget_exceeded`. The body is read only when
 *   the program reads a `Body` or returns a response variable; otherwise it is cancelled unread.
 * - URLs refused (fail closed, `url_forbidden`): the gateway's own host (a policy calling its own gateway would
 *   recurse, and Cloudflare routes a Worker's request to its own zone past the Worker anyway); `localhost` and
 *   `*.localhost`; literal IP addresses that are loopback, private (RFC 1918, RFC 4193), link-local, CGNAT
 *   (RFC 6598), unspecified, or such an IPv4 address IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96) or 6to4
 *   (2002::/16); the own host also with a trailing dot. Host names are not resolved here: a name that resolves to a private
 *   address is the platform's to refuse (Workers cannot reach private networks without a tunnel binding).
 *   `settings.allowPrivateOutbound` lifts the address rule (tests and explain only); the own-host rule stays.
 * - `<authentication-managed-identity>` inside either: the token (managed-identity.ts, one more outbound call on a
 *   cache miss) goes to the request's Authorization header after its set-headers; its failures are its own
 *   (LastError Source "authentication-managed-identity"), ignore-error sends the request without it.
 * - send-one-way-request: the same request, sent in the background (the host's waitUntil); its outcome is logged and
 *   never changes the answer — a refused URL or an exhausted budget is logged and the call skipped.
 * - retry: runs its children, then (forward-request among them) calls the origin, then evaluates the condition; while
 *   it is true and retries remain (count, 1–50), waits and runs them again. Waits (APIM): interval alone — fixed;
 *   with delta — linear, interval + (n − 1)·delta; with delta and max-interval — exponential, interval +
 *   (2^(n−1) − 1)·random(0.8·delta, 1.2·delta), at most max-interval (10 s, 20 s, 40 s, 80 s, 100 s … for
 *   10/10/100); first-fast-retry — the first retry at once. The total wait is capped (MAX_RETRY_TOTAL_WAIT_SECONDS):
 *   past it retry stops and the last attempt stands. A failure inside an attempt ends the retry (on-error runs).
 */
import { readCapped } from "../bytes";
import { gatewayError, type GatewayError } from "../errors";
import { MAX_OUTBOUND_CALLS, MAX_OUTBOUND_RESPONSE_BYTES, MAX_OUTBOUND_TIMEOUT_SECONDS, MAX_RETRY_TOTAL_WAIT_SECONDS } from "../limits";
import type { Result } from "../result";
import { responseHost, type ResponseState } from "./context";
import type { Code } from "./expr/ast";
import type { HostObject, Value } from "./expr/host";
import { parseIp } from "./ip";
import type { ManagedIdentityAuth } from "./managed-identity-schema";
import type { OutboundRequest, OutboundStep, RetryStep, SendOneWayRequestStep, SendRequestStep } from "./outbound-schema";
import type { SetHeader, Step, Template } from "./schema";

/** APIM's default send-request timeout, seconds. */
export const DEFAULT_OUTBOUND_TIMEOUT_SECONDS = 60;

/**
 * Sends one outbound request (through the mTLS binding `certificateId` when not null). `variable`: send-request's
 * response variable (null for send-one-way-request), which explain's stub answers by. Errors: `origin_unreachable`
 * (no connection), anything else (`mtls_certificate_unavailable`) is answered directly.
 */
export type OutboundFetch = (url: string, init: RequestInit, certificateId: string | null, variable: string | null) => Promise<Result<Response, GatewayError>>;

/** What an outbound step needs from the runner. */
export interface OutboundHost {
  text(t: Template): Promise<string>;
  evaluate(code: Code): Value;
  condition(value: Value, code: Code): boolean;
  setVariable(name: string, value: Value): void;
  applyHeader(h: SetHeader, headers: Headers): Promise<void>;
  /** The current request, for mode="copy": URL, method, the headers the origin gets, the body text (null: none or not asked for). */
  copySource(withBody: boolean): Promise<{ url: string; method: string; headers: Headers; body: string | null }>;
  note(text: string): void;
  /** A trace line (the request's policy trace). */
  trace(message: string, metadata: Record<string, string>): void;
  log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>): void;
  /** What to throw for a failure that sets LastError and runs on-error. */
  fail(source: string, reason: string, message: string, answer: GatewayError, status: number | null): unknown;
  /** What to throw for a failure answered directly (on-error does not run). */
  answer(error: GatewayError): unknown;
  /** Runs retry's children (their records under `prefix`). */
  runSteps(steps: readonly Step[], prefix: string): Promise<void>;
  /** Calls the origin now (forward-request inside retry); context.Response is its response afterwards. */
  forwardOrigin(): Promise<void>;
  readonly path: string;
  readonly requestId: string;
  readonly section: string;
  /** The gateway's own host (the request's), never called. */
  readonly ownHost: string;
  /** Read outbound bodies (the program reads `Body` or returns a response variable). */
  readonly readsBody: boolean;
  /** Literal private addresses allowed (tests, explain). */
  readonly allowPrivate: boolean;
  /** Outbound calls made so far by this request (shared by every step). */
  readonly budget: { calls: number };
  readonly fetch: OutboundFetch | undefined;
  /** `<authentication-managed-identity>` inside the request: its token (null: ignore-error and none), or throws (managed-identity.ts). */
  managedIdentityToken(auth: ManagedIdentityAuth): Promise<string | null>;
  readonly waitUntil: ((p: Promise<unknown>) => void) | undefined;
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

/** send-request's response variable: an IResponse whose body bytes return-response can send. */
export class OutboundResponse implements HostObject {
  readonly typeName = "IResponse";
  private readonly view: HostObject;

  constructor(readonly state: ResponseState, readonly bytes: Uint8Array | null) {
    this.view = responseHost(state);
  }

  get(name: string): Value | undefined {
    return this.view.get(name);
  }

  call(name: string, args: readonly Value[], typeArgs?: readonly string[]): Value | undefined {
    return this.view.call?.(name, args, typeArgs);
  }

  toString(): string {
    return this.typeName;
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: false, ignoreBOM: false });

/** Runs one outbound step; throws what the host builds for a failure. */
export async function runOutboundStep(step: OutboundStep, host: OutboundHost): Promise<void> {
  switch (step.k) {
    case "send-request":
      return sendRequest(step, host);
    case "send-one-way-request":
      return sendOneWay(step, host);
    case "retry":
      return retry(step, host);
  }
}

/** A request ready to send, or why it cannot be. */
type Prepared =
  | { readonly ok: true; readonly url: URL; readonly init: RequestInit; readonly timeoutMs: number; readonly certificateId: string | null }
  | { readonly ok: false; readonly reason: "invalid_url" | "url_forbidden" | "token_unavailable"; readonly message: string };

function budgetFailure(host: OutboundHost, source: string, message: string): unknown {
  host.log("warn", "outbound_budget_exceeded", { requestId: host.requestId, at: host.path, message });
  host.note(`budget: ${message}`);
  return host.fail(source, "outbound_budget_exceeded", message,
    gatewayError("outbound_budget_exceeded", "A policy exceeded the gateway's budget for outbound calls.", { requestId: host.requestId }), null);
}

function expressionFailure(host: OutboundHost, source: string, reason: string, message: string): unknown {
  return host.fail(source, reason, message, gatewayError("policy_expression_failed", "A policy built an invalid outbound request.", { requestId: host.requestId }), 500);
}

async function prepare(source: string, r: OutboundRequest, host: OutboundHost, oneWay = false): Promise<Prepared> {
  const mode = (await host.text(r.mode)).trim();
  if (mode !== "new" && mode !== "copy") throw expressionFailure(host, source, "invalid_mode", `mode ${JSON.stringify(mode)} is not new or copy`);
  let seconds = DEFAULT_OUTBOUND_TIMEOUT_SECONDS;
  if (r.timeout !== null) {
    const text = (await host.text(r.timeout)).trim();
    seconds = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
    if (!(seconds >= 1)) throw expressionFailure(host, source, "invalid_timeout", `timeout ${JSON.stringify(text)} is not a whole number of seconds`);
    // Above the cap the call waits the cap (the compiler warns about a literal): a shorter wait fails sooner, never allows.
    if (seconds > MAX_OUTBOUND_TIMEOUT_SECONDS) seconds = MAX_OUTBOUND_TIMEOUT_SECONDS;
  }
  // APIM: in outbound, copy does not initialize the body (the client's body went to the origin already).
  const copy = mode === "copy" ? await host.copySource(r.body === null && host.section !== "outbound") : null;
  const urlText = r.url !== null ? (await host.text(r.url)).trim() : copy?.url ?? "";
  const method = r.method !== null ? (await host.text(r.method)).trim() : copy?.method ?? "GET";
  const headers = copy ? new Headers(copy.headers) : new Headers();
  for (const h of r.headers) await host.applyHeader(h, headers);
  // APIM: the managed identity's token authenticates this request (Authorization: Bearer), after its set-headers.
  if (r.managedIdentity) {
    let token: string | null;
    try {
      token = await host.managedIdentityToken(r.managedIdentity);
    } catch (e) {
      // send-one-way-request never changes the answer: without its token it is not sent (the failure is logged).
      if (!oneWay) throw e;
      return { ok: false, reason: "token_unavailable", message: "authentication-managed-identity got no token" };
    }
    if (token !== null) headers.set("authorization", `Bearer ${token}`);
  }
  const body = r.body !== null ? await host.text(r.body) : copy ? copy.body : null;
  let url: URL | null = null;
  try {
    url = new URL(urlText);
  } catch {
    url = null;
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return { ok: false, reason: "invalid_url", message: `${JSON.stringify(urlText.slice(0, 100))} is not an absolute http(s) URL` };
  const forbidden = forbiddenHost(url, host.ownHost, host.allowPrivate);
  if (forbidden !== null) return { ok: false, reason: "url_forbidden", message: `${url.host}: ${forbidden}` };
  // The body sent is text (set-body's, or the copied request's), or none: fetch frames it. A copied Content-Length
  // (the client's, or one a set-header wrote) would describe another body — or none, in outbound's copy.
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  const init: RequestInit = { method, headers, body: method === "GET" || method === "HEAD" ? null : body, redirect: "manual" };
  return { ok: true, url, init, timeoutMs: seconds * 1000, certificateId: r.certificateId };
}

/** Why certgate refuses to call `url`'s host, or null. */
export function forbiddenHost(url: URL, ownHost: string, allowPrivate: boolean): string | null {
  // A trailing dot names the same host (an absolute DNS name): compared without it.
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  if (host === ownHost.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "")) return "the gateway's own host";
  if (allowPrivate) return null;
  if (host === "localhost" || host.endsWith(".localhost")) return "a loopback name";
  const literal = host.startsWith("[") ? host.slice(1, -1) : host;
  const ip = parseIp(literal);
  if (ip === null) return null;
  return privateAddress(ip) ? "a loopback, private, link-local or unspecified address" : null;
}

function privateAddress(ip: NonNullable<ReturnType<typeof parseIp>>): boolean {
  const v = ip.value;
  if (ip.family === 4) {
    const a = Number(v >> 24n);
    const b = Number((v >> 16n) & 0xffn);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const top16 = Number(v >> 112n);
  // An IPv4 address carried inside IPv6: IPv4-compatible ::a.b.c.d (RFC 4291 §2.5.5.1, deprecated), NAT64's
  // 64:ff9b::/96 (RFC 6052) and 6to4's 2002::/16 (RFC 3056) — refused when the IPv4 address is.
  const embedded = (x: bigint) => privateAddress({ family: 4, value: x & 0xffffffffn });
  if (v >> 32n === 0n || v >> 32n === 0x64ff9b0000000000000000n) return embedded(v);
  if (top16 === 0x2002) return embedded(v >> 80n);
  return v === 0n || v === 1n || (top16 & 0xfe00) === 0xfc00 || (top16 & 0xffc0) === 0xfe80 || (v >> 32n) === 0xffffn || top16 >= 0xff00;
}

/** The URL for the trace and the log: no credentials, no query (it may carry secrets). */
function shown(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? "?…" : ""}`;
}

type Sent = { readonly ok: true; readonly response: Response; readonly ms: number } | { readonly ok: false; readonly reason: "unreachable" | "timeout"; readonly message: string; readonly ms: number };

async function send(p: Extract<Prepared, { ok: true }>, host: OutboundHost, variable: string | null): Promise<Sent> {
  const started = host.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), p.timeoutMs);
  });
  try {
    if (!host.fetch) return { ok: false, reason: "unreachable", message: "outbound calls are not available here", ms: 0 };
    const r = await Promise.race([host.fetch(p.url.href, p.init, p.certificateId, variable), timeout]);
    if (r === TIMED_OUT) return { ok: false, reason: "timeout", message: `no answer from ${p.url.host} within ${p.timeoutMs / 1000} s`, ms: host.now() - started };
    if (!r.ok) {
      // A missing mtls_certificates binding is the deployment's fault: answered directly, 503 (fail closed).
      if (r.error.code !== "origin_unreachable") throw host.answer(r.error);
      return { ok: false, reason: "unreachable", message: `${p.url.host} could not be reached`, ms: host.now() - started };
    }
    return { ok: true, response: r.value, ms: host.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

const TIMED_OUT = Symbol("timed out");

function countCall(source: string, host: OutboundHost): void {
  if (host.budget.calls >= MAX_OUTBOUND_CALLS) throw budgetFailure(host, source, `more than ${MAX_OUTBOUND_CALLS} outbound calls in one request`);
  host.budget.calls++;
}

async function sendRequest(step: SendRequestStep, host: OutboundHost): Promise<void> {
  const variable = (await host.text(step.responseVariable)).trim();
  if (variable === "") throw expressionFailure(host, "send-request", "invalid_variable", "response-variable-name is empty");
  const p = await prepare("send-request", step.request, host);
  if (!p.ok) return sendFailed(step, host, variable, { method: "", url: "", reason: p.reason, message: p.message, ms: 0 });
  countCall("send-request", host);
  const sent = await send(p, host, variable);
  const method = String(p.init.method);
  const url = shown(p.url);
  if (!sent.ok) return sendFailed(step, host, variable, { method, url, reason: sent.reason, message: sent.message, ms: sent.ms });
  const response = sent.response;
  let bytes: Uint8Array | null = null;
  if (host.readsBody && response.body) {
    // The timeout covers the body as well: a callee that sends its headers and then trickles never holds the request.
    const body = response.body;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const left = Math.max(0, p.timeoutMs - sent.ms);
    const read = await Promise.race([
      readCapped(body, MAX_OUTBOUND_RESPONSE_BYTES),
      new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), left))),
    ]).finally(() => clearTimeout(timer));
    if (read === TIMED_OUT) {
      await body.cancel().catch(() => {});
      return sendFailed(step, host, variable, { method, url, reason: "timeout", message: `the body from ${p.url.host} did not finish within ${p.timeoutMs / 1000} s`, ms: sent.ms + left });
    }
    bytes = read;
    if (bytes === null) throw budgetFailure(host, "send-request", `the response of ${url} is larger than ${MAX_OUTBOUND_RESPONSE_BYTES} bytes`);
  } else {
    // Nothing reads it: never buffered.
    await response.body?.cancel().catch(() => {});
  }
  const state: ResponseState = { status: response.status, reason: response.statusText, headers: new Headers(response.headers) };
  if (host.readsBody) state.body = { text: bytes ? UTF8.decode(bytes) : "", consumed: false };
  host.setVariable(variable, new OutboundResponse(state, bytes ?? new Uint8Array()));
  host.trace(`${method} ${url} → ${response.status} in ${sent.ms} ms`, { method, url, status: String(response.status), ms: String(sent.ms), variable });
  host.note(`${method} ${url} → ${response.status} (${variable})`);
}

/** A send-request that got no response: null with ignore-error, else LastError and on-error. */
function sendFailed(step: SendRequestStep, host: OutboundHost, variable: string, f: { method: string; url: string; reason: string; message: string; ms: number }): void {
  host.trace(`${f.method} ${f.url} failed: ${f.reason}`.trim(), { method: f.method, url: f.url, reason: f.reason, ms: String(f.ms), variable });
  host.log("warn", "send_request_failed", { requestId: host.requestId, at: host.path, reason: f.reason, url: f.url, internal: f.message });
  if (step.ignoreError) {
    host.setVariable(variable, null);
    host.note(`${f.reason}, ignored: ${variable} is null`);
    return;
  }
  host.note(f.reason);
  throw host.fail("send-request", f.reason, f.message,
    gatewayError("send_request_failed", "A call the gateway's policy makes failed.", { requestId: host.requestId, reason: f.reason }), null);
}

async function sendOneWay(step: SendOneWayRequestStep, host: OutboundHost): Promise<void> {
  const p = await prepare("send-one-way-request", step.request, host, true);
  if (!p.ok) {
    host.log("warn", "send_one_way_request_failed", { requestId: host.requestId, at: host.path, reason: p.reason, internal: p.message });
    host.note(`${p.reason}: not sent`);
    return;
  }
  if (host.budget.calls >= MAX_OUTBOUND_CALLS) {
    host.log("warn", "outbound_budget_exceeded", { requestId: host.requestId, at: host.path, message: `more than ${MAX_OUTBOUND_CALLS} outbound calls: send-one-way-request skipped` });
    host.note("budget exhausted: not sent");
    return;
  }
  host.budget.calls++;
  const method = String(p.init.method);
  const url = shown(p.url);
  const background = send(p, host, null).then(
    async (sent) => {
      if (sent.ok) await sent.response.body?.cancel().catch(() => {});
      else host.log("warn", "send_one_way_request_failed", { requestId: host.requestId, at: host.path, reason: sent.reason, url, internal: sent.message });
    },
    (e: unknown) => host.log("warn", "send_one_way_request_failed", { requestId: host.requestId, at: host.path, url, internal: e instanceof Error ? e.message : String(e) }),
  );
  if (host.waitUntil) host.waitUntil(background);
  host.trace(`${method} ${url} sent (one way)`, { method, url });
  host.note(`${method} ${url} (not awaited)`);
}

/** A retry attribute as whole seconds (≥ 0), or a policy error. */
async function number(host: OutboundHost, t: Template | null, what: string, min: number, max: number): Promise<number | null> {
  if (t === null) return null;
  const text = (await host.text(t)).trim();
  const n = /^[0-9]{1,10}(\.[0-9]+)?$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw expressionFailure(host, "retry", "invalid_value", `${what} ${JSON.stringify(text)} is not a number from ${min} to ${max}`);
  return n;
}

async function isTrue(host: OutboundHost, t: Template): Promise<boolean> {
  if (t.t === "code") return host.condition(host.evaluate(t.code), t.code);
  return (await host.text(t)).trim().toLowerCase() === "true";
}

/**
 * The wait before retry `n` (1-based), milliseconds, as APIM's reference defines it (see the header); `random` in [0, 1).
 */
export function retryWaitMs(n: number, o: { interval: number; delta: number | null; maxInterval: number | null; firstFastRetry: boolean }, random: number): number {
  if (o.firstFastRetry && n === 1) return 0;
  let seconds: number;
  if (o.delta === null) seconds = o.interval;
  else if (o.maxInterval === null) seconds = o.interval + (n - 1) * o.delta;
  else seconds = o.interval + (2 ** (n - 1) - 1) * o.delta * (0.8 + 0.4 * random);
  if (o.maxInterval !== null) seconds = Math.min(seconds, o.maxInterval);
  return Math.round(seconds * 1000);
}

async function retry(step: RetryStep, host: OutboundHost): Promise<void> {
  const count = (await number(host, step.count, "count", 1, 50))!;
  if (!Number.isInteger(count)) throw expressionFailure(host, "retry", "invalid_value", `count ${count} is not a whole number`);
  const interval = (await number(host, step.interval, "interval", 0, 3600))!;
  const delta = await number(host, step.delta, "delta", 0, 3600);
  const maxInterval = await number(host, step.maxInterval, "max-interval", 0, 3600);
  const firstFastRetry = step.firstFastRetry !== null && (await isTrue(host, step.firstFastRetry));
  let waited = 0;
  for (let attempt = 0; ; attempt++) {
    await host.runSteps(step.steps, `${host.path}/`);
    if (step.forwardsOrigin) await host.forwardOrigin();
    if (!(await isTrue(host, step.condition))) {
      host.note(`${attempt + 1} attempt(s): condition false`);
      return;
    }
    if (attempt >= count) {
      host.note(`${attempt + 1} attempt(s): count ${count} exhausted`);
      return;
    }
    const wait = retryWaitMs(attempt + 1, { interval, delta, maxInterval, firstFastRetry }, host.random());
    if (waited + wait > MAX_RETRY_TOTAL_WAIT_SECONDS * 1000) {
      host.log("warn", "retry_wait_exhausted", { requestId: host.requestId, at: host.path, attempts: attempt + 1, waitedMs: waited });
      host.note(`${attempt + 1} attempt(s): the next wait (${wait} ms) passes the ${MAX_RETRY_TOTAL_WAIT_SECONDS} s total; stopped`);
      return;
    }
    waited += wait;
    host.trace(`retry ${attempt + 1} of ${count} after ${wait} ms`, { attempt: String(attempt + 1), waitMs: String(wait) });
    if (wait > 0) await host.sleep(wait);
  }
}
