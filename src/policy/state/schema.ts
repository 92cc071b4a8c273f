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
  /** Kilobytes per period (quota-by-key only). */
  readonly bandwidthKb: number | null;
  readonly periodSeconds: number;
  readonly counterKey: Template;
  /** null: every call counts (APIM: the condition is evaluated after the response for the rate limit; see limit-step.ts). */
  readonly incrementCondition: Code | null;
  /** Template: a literal number or an expression (rate-limit-by-key); 1 by default. */
  readonly incrementCount: Template | null;
  readonly retryAfterHeader: string | null;
  readonly retryAfterVariable: string | null;
  readonly remainingCallsHeader: string | null;
  readonly remainingCallsVariable: string | null;
  readonly totalCallsHeader: string | null;
  readonly failureMode: "deny" | "allow";
}
