/**
 * The compiled form of `rate-limit-by-key` and `quota-by-key` (shared by scripts/compile-policies/check-state.ts
 * and policy/state/limit-step.ts).
 *
 * Contract: plain JSON, part of the PolicyBundle's Step union (schema.ts). Attributes follow the APIM policy
 * reference: "Limit call rate by key" (https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy)
 * and "Set usage quota by key" (https://learn.microsoft.com/azure/api-management/quota-by-key-policy).
 * `failure-mode` is certgate's: what to do when the counter store cannot be reached (default deny).
 * `rate-limit` and `quota` ("Limit call rate by subscription", https://learn.microsoft.com/azure/api-management/rate-limit-policy;
 * "Set usage quota by subscription", https://learn.microsoft.com/azure/api-management/quota-policy) compile to the same
 * step with `subscription` set: the counter key is the request's subscription (limit-step.ts subscriptionOf), and an
 * `<api>` / `<operation>` child is one more step that applies only to that API / operation.
 */
import type { Code } from "../expr/ast";
import type { Origin, Template } from "../schema";

export interface LimitStep {
  readonly k: "rate-limit-by-key" | "quota-by-key";
  readonly at: Origin;
  /** Calls per period (null: quota by bandwidth only). */
  readonly calls: number | null;
  /** Kilobytes per period (quota-by-key only; null: no bandwidth limit). */
  readonly bandwidthKb: number | null;
  /** Window length; 0 = endless (quota-by-key renewal-period="0"). */
  readonly periodSeconds: number;
  /** Where windows start (quota-by-key first-period-start, default 0001-01-01T00:00:00Z; rate limit: the Unix epoch). */
  readonly anchorMs: number;
  readonly counterKey: Template;
  /** Set: evaluated after outbound, and the call is counted then (APIM defers the increment likewise). */
  readonly incrementCondition: Code | null;
  /** A literal increment-count (default 1). */
  readonly incrementCount: number;
  /** An increment-count expression: evaluated after outbound (deferred like increment-condition). */
  readonly incrementCountCode: Code | null;
  readonly retryAfterHeader: string;
  readonly retryAfterVariable: string | null;
  readonly remainingCallsHeader: string | null;
  readonly remainingCallsVariable: string | null;
  readonly totalCallsHeader: string | null;
  /** certgate: the counter store unreachable → deny (503, default) or allow; logged either way. */
  readonly failureMode: "deny" | "allow";
  /** rate-limit-by-key: a `calls` expression, evaluated per request (replaces `calls`; a positive whole number). */
  readonly callsCode?: Code | null;
  /** rate-limit-by-key: a `renewal-period` expression, evaluated per request (replaces `periodSeconds`; 1 to 300). */
  readonly periodCode?: Code | null;
  /**
   * certgate's `rate-limiting-binding`: count in this Workers Rate Limiting binding (approximate, per location,
   * periods 10 or 60 s only) instead of a Durable Object; its `[[ratelimits]]` simple limit / period must equal
   * `calls` / `periodSeconds` (npm run check).
   */
  readonly rateLimitingBinding?: string | null;
  /** rate-limit / quota (per subscription): set; `counterKey` is unused. */
  readonly subscription?: SubscriptionScope | null;
}

/** Which counter of a subscription a rate-limit / quota step uses, and where it applies. */
export interface SubscriptionScope {
  /** `rate-limit` or `quota`: the element it was written as (explain, logs). */
  readonly element: "rate-limit" | "quota";
  /** `<api>` child: applies only when the request's API has this id or name (null: every API). */
  readonly api: { readonly id: string | null; readonly name: string | null } | null;
  /** `<operation>` child of that `<api>`: applies only to this operation (id or name). */
  readonly operation: { readonly id: string | null; readonly name: string | null } | null;
}
