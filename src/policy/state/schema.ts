/**
 * The compiled form of `rate-limit-by-key` and `quota-by-key` (shared by scripts/compile-policies/check-state.ts
 * and policy/state/limit-step.ts).
 *
 * Contract: plain JSON, part of the PolicyBundle's Step union (schema.ts). Attributes follow the APIM policy
 * reference: "Limit call rate by key" (https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy)
 * and "Set usage quota by key" (https://learn.microsoft.com/azure/api-management/quota-by-key-policy).
 * `failure-mode` is certgate's: what to do when the counter store cannot be reached (default deny).
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
}
