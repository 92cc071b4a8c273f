/**
 * The steps of issue 14 — validate-jwt, rate-limit-by-key / quota-by-key, cache-*-value — as the runner runs them,
 * kept out of run.ts: the runner hands each step a `StepHost` (its expression evaluation, variables, record, log,
 * the request's facts and the optional services) and throws what the host builds.
 *
 * Contract: no I/O of its own (the services do it), no clock (the request's timestamp). Semantics:
 * - validate-jwt (jwt.ts): a failure sets LastError (Source "validate-jwt", Reason APIM's) and runs on-error; the
 *   answer is `jwt_invalid` with failed-validation-httpcode (default 401). openid-config keys unavailable → 503
 *   `jwt_keys_unavailable`, answered directly (fail closed).
 * - rate-limit-by-key / quota-by-key, and rate-limit / quota compiled to them (state/limit-step.ts): a refusal is
 *   answered directly with its headers; the response headers and deferred increments are registered with the host,
 *   which applies them after outbound. An invalid computed calls / renewal-period is a policy error (500
 *   `policy_expression_failed`, LastError Source the step, Reason `invalid_value`).
 * - cache-*-value (value-cache.ts; caching-type="external": KV POLICY_CACHE, response-cache.ts): a cache failure is
 *   a miss; a value the cache cannot hold or a bad duration is a runtime error (`policy_expression_failed`, LastError
 *   Source the step).
 * - validate-jwt's output-token-variable-name holds the token as a Jwt (expr/jwt-value.ts).
 * - validate-azure-ad-token runs as a validate-jwt step with `azureAd` set: LastError Source is its own name, the
 *   issuers are the tenant's v2 and v1 forms, and azp / appid must be a client-application-id.
 */
import { gatewayError, type GatewayError } from "../errors";
import type { CacheValueStep } from "./cache-schema";
import type { Code } from "./expr/ast";
import type { Value } from "./expr/host";
import { parseJwtValue } from "./expr/jwt-value";
import { jwtFailure, tokenOf, validateJwt } from "./jwt";
import type { ValidateJwtStep } from "./jwt-schema";
import type { OpenIdKeys, OpenIdKeySource } from "./openid";
import type { Template } from "./schema";
import type { CounterCall } from "./state/counters";
import { runLimit, type LimitOutcome, type RateLimiter } from "./state/limit-step";
import type { LimitStep } from "./state/schema";
import { isCacheable, MAX_CACHE_SECONDS, type ValueCache } from "./value-cache";

export type ExtensionStep = ValidateJwtStep | LimitStep | CacheValueStep;

/** What an extension step needs from the runner. */
export interface StepHost {
  text(t: Template): Promise<string>;
  value(t: Template): Promise<Value>;
  evaluate(code: Code): Value;
  condition(value: Value, code: Code): boolean;
  setVariable(name: string, value: Value): void;
  /** Records what the step did (the explain record). */
  note(text: string): void;
  log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>): void;
  /** What to throw for a failure that sets LastError and runs on-error; `answer` (with `status`) when on-error returns nothing. */
  fail(source: string, reason: string, message: string, answer: GatewayError, status: number | null): unknown;
  /** What to throw for a failure answered directly (on-error does not run), with response headers. */
  answer(error: GatewayError, headers: Headers | null): unknown;
  /** Response headers and a deferred increment of an admitted limit step (applied after outbound). */
  admitted(headers: ReadonlyArray<readonly [string, string]>, after: Extract<LimitOutcome, { kind: "allowed" }>["after"]): void;
  readonly requestId: string;
  readonly timestamp: Date;
  readonly headers: Headers;
  readonly url: URL;
  /** SHA-256 (lowercase hex) of the request's validated client certificate, or null. */
  readonly certificateSha256: string | null;
  /** "file:line:col" of the step. */
  readonly position: string;
  readonly services: {
    readonly counter?: CounterCall; readonly openIdKeys?: OpenIdKeySource; readonly valueCache?: ValueCache; readonly externalValueCache?: ValueCache;
    /** rate-limiting-binding: the Workers Rate Limiting binding of that name, or null (`calls`: the step's limit, for stubs). */
    readonly rateLimiter?: (binding: string, calls: number) => RateLimiter | null;
  };
  /**
   * rate-limit / quota: the request's subscription — `registered:<id>` for a registered certificate (KV `registered`),
   * `certificate:<sha256>` for any other validated certificate, `anonymous` without one; null: registered unreadable.
   */
  subscription(): Promise<string | null>;
  /** The request's API and operation (null: no route matched). */
  readonly operation: { readonly apiId: string; readonly apiName: string; readonly id: string | null; readonly name: string | null } | null;
}

/** Runs one extension step; throws what the host builds for a failure. */
export async function runExtensionStep(step: ExtensionStep, host: StepHost): Promise<void> {
  switch (step.k) {
    case "validate-jwt":
      return validateJwtStep(step, host);
    case "rate-limit-by-key":
    case "quota-by-key":
      return limitStep(step, host);
    case "cache-lookup-value":
    case "cache-store-value":
    case "cache-remove-value":
      return cacheValueStep(step, host);
  }
}

async function validateJwtStep(step: ValidateJwtStep, host: StepHost): Promise<void> {
  const value = step.source.kind === "value" ? await host.text(step.source.value) : null;
  const token = tokenOf(step.source, step.requireScheme, host.headers, host.url, value);
  let openid: OpenIdKeys | null = null;
  if (token.ok && step.openidConfig !== null) {
    // The identity provider unreachable is the gateway's problem, not the client's: 503, answered directly (fail closed).
    const keys = host.services.openIdKeys ? await host.services.openIdKeys(step.openidConfig) : { ok: false as const, error: "no openid-config key source" };
    if (!keys.ok) {
      host.log("error", "jwt_keys_unavailable", { requestId: host.requestId, url: step.openidConfig, internal: keys.error });
      host.note("openid-config keys unavailable");
      throw host.answer(gatewayError("jwt_keys_unavailable", "The token signing keys are unavailable.", undefined, keys.error), null);
    }
    openid = keys.value;
  }
  const issuers = step.azureAd ? azureAdIssuers(openid, step.azureAd.v1IssuerHost) : await texts(step.issuers, host);
  const checks = { ...step, audiences: await texts(step.audiences, host), issuers, ...(step.azureAd ? { clientApplicationIds: step.azureAd.clientApplicationIds } : {}) };
  const checked = token.ok ? await validateJwt(token.value, checks, host.timestamp, host.certificateSha256, openid) : token;
  // Fail closed: <audiences> / <issuers> whose values all evaluated to empty allow none, not any (an empty list means
  // "not checked" to validateJwt; with openid-config an empty issuers list would fall back to the discovery issuer).
  const r = !checked.ok ? checked
    : step.audiences.length > 0 && checks.audiences.length === 0 ? jwtFailure("TokenAudienceNotAllowed", "every audience evaluated to an empty string")
    : !step.azureAd && step.issuers.length > 0 && issuers.length === 0 ? jwtFailure("TokenIssuerNotAllowed", "every issuer evaluated to an empty string")
    : checked;
  if (r.ok) {
    // APIM: the variable holds the validated token as a Jwt (expr/jwt-value.ts); it parsed, so it is not null.
    if (step.outputVariable !== null && token.ok) host.setVariable(step.outputVariable, parseJwtValue(token.value) ?? token.value);
    host.note("valid");
    return;
  }
  host.note(r.error.reason);
  host.log("info", "policy_jwt_rejected", { requestId: host.requestId, reason: r.error.reason, at: host.position, internal: r.error.internal });
  const message = step.failedMessage ?? r.error.message;
  throw host.fail(step.azureAd ? "validate-azure-ad-token" : "validate-jwt", r.error.reason, message,
    gatewayError("jwt_invalid", message, { requestId: host.requestId, reason: r.error.reason }), step.failedStatus);
}

/**
 * validate-azure-ad-token's issuers: the tenant discovery document's (v2.0, `https://login.microsoftonline.com/{tid}/v2.0`)
 * and the v1.0 form of the same tenant (`https://{v1IssuerHost}/{tid}/`), as Entra ID issues both kinds of access
 * token (https://learn.microsoft.com/entra/identity-platform/access-tokens). No discovery issuer → none allowed.
 */
function azureAdIssuers(openid: OpenIdKeys | null, v1IssuerHost: string | null): string[] {
  const v2 = openid?.issuer ?? null;
  if (v2 === null) return ["(the tenant's discovery document named no issuer)"];
  const tid = /^https:\/\/[^/]+\/([0-9A-Fa-f-]{36})\/v2\.0\/?$/.exec(v2)?.[1];
  return tid && v1IssuerHost ? [v2, `https://${v1IssuerHost}/${tid}/`] : [v2];
}

/** validate-jwt's audiences / issuers: each evaluated and trimmed; an empty one names nothing (dropped). */
async function texts(templates: readonly Template[], host: StepHost): Promise<string[]> {
  const out: string[] = [];
  for (const t of templates) {
    const v = (await host.text(t)).trim();
    if (v !== "") out.push(v);
  }
  return out;
}

async function limitStep(step: LimitStep, host: StepHost): Promise<void> {
  const outcome = await runLimit(step, {
    text: (t) => host.text(t),
    evaluate: (code) => host.evaluate(code),
    condition: (value, code) => host.condition(value, code),
    setVariable: (name, value) => host.setVariable(name, value),
    counter: host.services.counter,
    subscription: () => host.subscription(),
    rateLimiter: (binding, calls) => host.services.rateLimiter?.(binding, calls) ?? null,
    operation: host.operation,
    invalid: (message) => {
      host.log("error", "policy_limit_invalid", { requestId: host.requestId, at: host.position, message });
      return host.fail(step.k, "invalid_value", message,
        gatewayError("policy_expression_failed", "A policy computed an invalid limit.", { requestId: host.requestId }), 500);
    },
    nowMs: host.timestamp.getTime(),
    requestId: host.requestId,
    log: (level, event, fields) => host.log(level, event, fields),
  });
  host.note(outcome.note);
  if (outcome.kind === "denied") throw host.answer(outcome.error, outcome.headers);
  host.admitted(outcome.headers, outcome.after);
}

async function cacheValueStep(step: CacheValueStep, host: StepHost): Promise<void> {
  const key = await host.text(step.key);
  // caching-type="external": KV POLICY_CACHE; not bound → every lookup misses (logged; npm run check refuses it).
  const external = step.store === "external";
  const cache = external ? host.services.externalValueCache : host.services.valueCache;
  if (!cache && external) host.log("error", "policy_cache_unbound", { requestId: host.requestId, at: host.position });
  const stub = cache ? (external ? " (external)" : "") : external ? " (no POLICY_CACHE binding)" : " (no cache)";
  switch (step.k) {
    case "cache-lookup-value": {
      const hit = cache ? await cache.get(key) : null;
      // APIM: on a miss the variable gets default-value, or is not set at all.
      const value = hit !== null ? hit : step.defaultValue !== null ? await host.value(step.defaultValue) : undefined;
      if (value !== undefined) host.setVariable(step.variable, value);
      host.note(`${key}: ${hit !== null ? "hit" : "miss"}${stub}`);
      return;
    }
    case "cache-store-value": {
      const value = await host.value(step.value);
      const durationText = (await host.text(step.durationSeconds)).trim();
      const seconds = /^[0-9]{1,10}$/.test(durationText) ? Number(durationText) : NaN;
      if (!(seconds >= 1 && seconds <= MAX_CACHE_SECONDS) || !isCacheable(value)) {
        const why = !isCacheable(value) ? "the value is not a string, number or boolean" : `duration ${JSON.stringify(durationText)} is not 1 to ${MAX_CACHE_SECONDS} seconds`;
        throw host.fail("cache-store-value", "invalid_value", why,
          gatewayError("policy_expression_failed", "A policy stored an invalid cache value.", { requestId: host.requestId }), 500);
      }
      if (cache) await cache.put(key, value, seconds);
      host.note(`${key}: stored for ${seconds} s${stub}`);
      return;
    }
    case "cache-remove-value":
      if (cache) await cache.delete(key);
      host.note(`${key}: removed${stub}`);
      return;
  }
}
