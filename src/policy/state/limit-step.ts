/**
 * rate-limit-by-key and quota-by-key in the runner: key → counter call → admit, or deny with Retry-After.
 *
 * Contract: no I/O of its own; the runner passes a `LimitHost` (expression evaluation, the counter call, the log,
 * the request's time). Semantics (APIM policy reference, "Limit call rate by key" and "Set usage quota by key"):
 * - Without increment-condition and with a literal increment-count, the call is counted and admitted in one atomic
 *   counter operation in inbound ("take"): exact under concurrency.
 * - With increment-condition or an increment-count expression, APIM defers evaluation and the increment to the end
 *   of outbound: inbound only checks that something is left ("check"); the runner calls `after` once the response
 *   is known, which evaluates them and counts ("add"). Concurrent calls may then overshoot, as in APIM. A request
 *   answered by return-response or on-error is not counted then.
 * - quota-by-key bandwidth: the request's and response's Content-Length (kilobytes, rounded up) counted after the
 *   response; a body without Content-Length counts 0 (documented).
 * - Over the limit: rate-limit-by-key → 429 `rate_limit_exceeded`, quota-by-key → 403 `quota_exceeded`, with the
 *   Retry-After header (or retry-after-header-name) and retry-after-variable-name. Answered directly: on-error
 *   does not run.
 * - Counter store unreachable: failure-mode deny (default) → 503 `counter_store_unavailable`; allow → admitted;
 *   logged as `counter_store_unavailable` either way.
 * - rate-limit-by-key `calls` / `renewal-period` expressions are evaluated per request; a value that is not a whole
 *   number in range (calls ≥ 1, period 1–300 s) is a policy error (`host.invalid`: 500 `policy_expression_failed`,
 *   on-error runs) — never a silent allow. Each distinct period counts in its own window.
 * - rate-limiting-binding (certgate, opt-in): one `limit({ key })` call on that Workers Rate Limiting binding
 *   (approximate, per location); refused → 429 with Retry-After = the period (the binding says no more); the binding
 *   missing or throwing → the step's failure-mode, as an unreachable counter store.
 * - rate-limit / quota (per subscription): the key is `host.subscription()` (the registered certificate's id, else
 *   the validated certificate's SHA-256; docs/per-client-limits.md); an `<api>` / `<operation>` step is skipped
 *   (note "not this operation") when the request's API / operation is another one.
 */
import { gatewayError, type GatewayError } from "../../errors";
import { sha256Hex } from "../../pki/crypto";
import type { Code } from "../expr/ast";
import type { Value } from "../expr/host";
import type { Template } from "../schema";
import type { CounterAnswer, CounterRequest } from "./window";
import { counterName, MAX_COUNTER_KEY_CHARS, type CounterCall } from "./counters";
import type { LimitStep, SubscriptionScope } from "./schema";

export interface LimitHost {
  text(t: Template): Promise<string>;
  /** Evaluates code (a runtime error becomes the runner's failure). */
  evaluate(code: Code): Value;
  condition(value: Value, code: Code): boolean;
  setVariable(name: string, value: Value): void;
  readonly counter: CounterCall | undefined;
  /** rate-limit / quota: the request's subscription (a counter key), or null when it cannot be known now (store unreachable). */
  subscription(): Promise<string | null>;
  /** The request's API and operation (null: no route matched). */
  readonly operation: { readonly apiId: string; readonly apiName: string; readonly id: string | null; readonly name: string | null } | null;
  /** The Workers Rate Limiting binding of that name (null: not bound); `calls` is the step's limit (explain's stub reads it). */
  rateLimiter?(binding: string, calls: number): RateLimiter | null;
  /** What to throw for an invalid calls / renewal-period value (a policy error). */
  invalid(message: string): unknown;
  readonly nowMs: number;
  readonly requestId: string;
  log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>): void;
}

/** The Workers Rate Limiting binding's interface (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/). */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

export type LimitOutcome =
  | {
    readonly kind: "allowed";
    readonly note: string;
    /** Response headers to add (remaining-calls / total-calls). */
    readonly headers: ReadonlyArray<readonly [string, string]>;
    /** The deferred increment, run after outbound with the final response (null: counted already). */
    readonly after: ((response: Response, requestBytes: number | null) => Promise<void>) | null;
  }
  | { readonly kind: "denied"; readonly note: string; readonly error: GatewayError; readonly headers: Headers };

/** Runs the inbound part of a limit step. */
export async function runLimit(given: LimitStep, host: LimitHost): Promise<LimitOutcome> {
  const sub = given.subscription ?? null;
  if (sub && !appliesTo(sub, host.operation)) return { kind: "allowed", note: "not this operation", headers: [], after: null };
  const step = withEvaluatedLimits(given, host);
  let written: string;
  if (sub) {
    const subscription = await host.subscription();
    if (subscription === null) return unavailable(step, host, "the registered certificates (the subscriptions) could not be read");
    written = subscriptionKey(sub, subscription);
  } else written = await host.text(step.counterKey);
  // A long key (perhaps client-supplied) is counted under its SHA-256: never refused, which failure-mode allow would let through.
  const key = written.length > MAX_COUNTER_KEY_CHARS ? `sha256:${await sha256Hex(new TextEncoder().encode(written))}` : written;
  const name = counterName(sub ? (step.k === "quota-by-key" ? "quota" : "rate-limit") : step.k, step.periodSeconds, key);
  if (step.rateLimitingBinding) return approximate(step, host, step.rateLimitingBinding, name, key);
  const deferred = step.incrementCondition !== null || step.incrementCountCode !== null || step.bandwidthKb !== null;
  const base = {
    nowMs: host.nowMs, periodMs: step.periodSeconds * 1000, anchorMs: step.anchorMs,
    calls: step.calls, kilobytes: step.bandwidthKb,
  };
  const request: CounterRequest = deferred
    ? { ...base, mode: "check", addCalls: 0, addKilobytes: 0 }
    : { ...base, mode: "take", addCalls: step.incrementCount, addKilobytes: 0 };
  if (!host.counter) return unavailable(step, host, "no counter service");
  const r = await host.counter(name, request);
  if (!r.ok) return unavailable(step, host, r.error.internal ?? r.error.detail);
  const answer = r.value;
  if (!answer.allowed) return denied(step, host, answer, key);
  if (step.remainingCallsVariable !== null && answer.remainingCalls !== null) host.setVariable(step.remainingCallsVariable, answer.remainingCalls);
  const headers: Array<readonly [string, string]> = [];
  if (step.remainingCallsHeader !== null && answer.remainingCalls !== null) headers.push([step.remainingCallsHeader, String(answer.remainingCalls)]);
  if (step.totalCallsHeader !== null && step.calls !== null) headers.push([step.totalCallsHeader, String(step.calls)]);
  const note = `${key}: ${answer.callsUsed}${step.calls !== null ? `/${step.calls}` : ""} calls${deferred ? " (counted after the response)" : ""}`;
  if (!deferred) return { kind: "allowed", note, headers, after: null };
  return {
    kind: "allowed", note, headers,
    after: async (response, requestBytes) => {
      if (step.incrementCondition !== null && !host.condition(host.evaluate(step.incrementCondition), step.incrementCondition)) return;
      let count = step.incrementCount;
      if (step.incrementCountCode !== null) {
        const v = host.evaluate(step.incrementCountCode);
        count = typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : 0;
        if (count === 0 && v !== 0) host.log("warn", "policy_increment_count_invalid", { requestId: host.requestId, at: `${step.at.file}:${step.at.line}:${step.at.col}` });
      }
      const length = Number(response.headers.get("content-length") ?? "0");
      const bytes = (Number.isFinite(length) && length > 0 ? length : 0) + (requestBytes ?? 0);
      const kb = step.bandwidthKb === null ? 0 : Math.ceil(bytes / 1024);
      if (count === 0 && kb === 0) return;
      const added = await host.counter!(name, { ...base, nowMs: host.nowMs, mode: "add", addCalls: count, addKilobytes: kb });
      if (!added.ok) host.log("error", "counter_store_unavailable", { requestId: host.requestId, step: step.k, phase: "increment", internal: added.error.internal });
    },
  };
}

/** rate-limiting-binding: one call to the binding; approximate (docs/per-client-limits.md). */
async function approximate(step: LimitStep, host: LimitHost, binding: string, name: string, key: string): Promise<LimitOutcome> {
  const limiter = host.rateLimiter?.(binding, step.calls ?? 0) ?? null;
  if (limiter === null) return unavailable(step, host, `no Workers Rate Limiting binding ${binding} ([[ratelimits]] in wrangler.toml)`);
  let success: boolean;
  try {
    success = (await limiter.limit({ key: name })).success === true;
  } catch (e) {
    return unavailable(step, host, `rate limiting binding ${binding}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const headers: Array<readonly [string, string]> = step.totalCallsHeader !== null && step.calls !== null ? [[step.totalCallsHeader, String(step.calls)]] : [];
  if (success) return { kind: "allowed", note: `${key}: admitted by ${binding} (approximate)`, headers, after: null };
  // The binding tells neither the count nor when its window renews: the whole period is the safe Retry-After.
  return denied(step, host, { allowed: false, callsUsed: step.calls ?? 0, kilobytesUsed: 0, remainingCalls: 0, retryAfterSeconds: step.periodSeconds }, key);
}

/** The most a `calls` expression may give (check-limits.ts MAX_COUNT) and the longest rate-limit-by-key period. */
const MAX_CALLS = 1_000_000_000_000;
const MAX_RATE_PERIOD_SECONDS = 300;

/** The step with its calls / renewal-period expressions evaluated; throws host.invalid for a bad value. */
function withEvaluatedLimits(step: LimitStep, host: LimitHost): LimitStep {
  if (!step.callsCode && !step.periodCode) return step;
  const whole = (code: Code, what: string, min: number, max: number): number => {
    const raw = host.evaluate(code);
    // An attribute's value is text in APIM: "10" counts as 10.
    const v = typeof raw === "string" && /^\s*[0-9]{1,13}\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) return v;
    const shown = typeof v === "string" ? JSON.stringify(v) : v === null ? "null" : String(v);
    throw host.invalid(`${step.k} ${what} evaluated to ${shown}: expected a whole number from ${min} to ${max}`);
  };
  return {
    ...step,
    calls: step.callsCode ? whole(step.callsCode, "calls", 1, MAX_CALLS) : step.calls,
    periodSeconds: step.periodCode ? whole(step.periodCode, "renewal-period", 1, MAX_RATE_PERIOD_SECONDS) : step.periodSeconds,
  };
}

/** APIM matches `<api>` / `<operation>` by name or id. */
function appliesTo(s: SubscriptionScope, op: LimitHost["operation"]): boolean {
  const match = (ref: { readonly id: string | null; readonly name: string | null }, id: string | null, name: string | null) =>
    (ref.id !== null && ref.id === id) || (ref.name !== null && ref.name === name);
  if (s.api && !(op && match(s.api, op.apiId, op.apiName))) return false;
  if (s.operation && !(op && match(s.operation, op.id, op.name))) return false;
  return true;
}

/** One counter per subscription and per element / API / operation (APIM keeps the api and operation limits apart). */
function subscriptionKey(s: SubscriptionScope, subscription: string): string {
  const ref = (r: { readonly id: string | null; readonly name: string | null } | null) => (r === null ? "*" : r.id ?? `name=${r.name}`);
  return `${s.element}|${ref(s.api)}|${ref(s.operation)}|${subscription}`;
}


function denied(step: LimitStep, host: LimitHost, answer: CounterAnswer, key: string): LimitOutcome {
  const headers = new Headers();
  const retry = answer.retryAfterSeconds;
  if (retry !== null) {
    headers.set(step.retryAfterHeader, String(retry));
    if (step.retryAfterVariable !== null) host.setVariable(step.retryAfterVariable, retry);
  }
  if (step.remainingCallsHeader !== null) headers.set(step.remainingCallsHeader, "0");
  if (step.totalCallsHeader !== null && step.calls !== null) headers.set(step.totalCallsHeader, String(step.calls));
  const quota = step.k === "quota-by-key";
  const detail = quota
    ? `Out of ${step.calls !== null && answer.callsUsed >= step.calls ? "call volume" : "bandwidth"} quota.${retry !== null ? ` Quota will be replenished in ${retry} seconds.` : ""}`
    : `Rate limit is exceeded.${retry !== null ? ` Try again in ${retry} seconds.` : ""}`;
  host.log("info", quota ? "quota_exceeded" : "rate_limit_exceeded", { requestId: host.requestId, key, used: answer.callsUsed, calls: step.calls });
  return {
    kind: "denied",
    note: `${key}: over the limit, retry after ${retry ?? "never"} s`,
    error: gatewayError(quota ? "quota_exceeded" : "rate_limit_exceeded", detail, retry !== null ? { retryAfter: retry } : undefined),
    headers,
  };
}

function unavailable(step: LimitStep, host: LimitHost, internal: string): LimitOutcome {
  const at = `${step.at.file}:${step.at.line}:${step.at.col}`;
  host.log("error", "counter_store_unavailable", { requestId: host.requestId, step: step.k, at, failureMode: step.failureMode, internal });
  if (step.failureMode === "allow") return { kind: "allowed", note: "counter store unavailable: allowed (failure-mode allow)", headers: [], after: null };
  return {
    kind: "denied",
    note: "counter store unavailable: denied",
    error: gatewayError("counter_store_unavailable", "The rate limit store is unavailable.", undefined, internal),
    headers: new Headers(),
  };
}
