/**
 * The compiled form of `send-request`, `send-one-way-request` and `retry` (shared by
 * scripts/compile-policies/check-outbound.ts and the runner, policy/outbound.ts). APIM policy reference:
 * - Send request: https://learn.microsoft.com/azure/api-management/send-request-policy
 * - Send one way request: https://learn.microsoft.com/azure/api-management/send-one-way-request-policy
 * - Retry: https://learn.microsoft.com/azure/api-management/retry-policy
 * - Return response (`response-variable-name`): https://learn.microsoft.com/azure/api-management/return-response-policy
 *
 * Contract: data only. Attributes that APIM lets be expressions are Templates (`mode`, `timeout`,
 * `response-variable-name`, every retry number); `ignore-error` is literal (APIM: no expressions).
 */
import type { ManagedIdentityAuth } from "./managed-identity-schema";
import type { Origin, SetHeader, Step, Template } from "./schema";

/** What send-request and send-one-way-request send. */
export interface OutboundRequest {
  /** `new` or `copy` (a Template: APIM allows an expression). */
  readonly mode: Template;
  /** Seconds; null: APIM's default, 60 (capped by MAX_OUTBOUND_TIMEOUT_SECONDS). */
  readonly timeout: Template | null;
  /** `<set-url>`; null only with mode=copy (the current request's URL). */
  readonly url: Template | null;
  /** `<set-method>`; null: GET for new (APIM's default), the current request's for copy. */
  readonly method: Template | null;
  readonly headers: readonly SetHeader[];
  readonly body: Template | null;
  /** `<authentication-certificate certificate-id>`: the Worker's `mtls_certificates` binding of that name. */
  readonly certificateId: string | null;
  /** `<authentication-managed-identity>`: `Authorization: Bearer <token>` on this request (policy/managed-identity.ts); absent: none. */
  readonly managedIdentity?: ManagedIdentityAuth;
}

export interface SendRequestStep {
  readonly k: "send-request";
  readonly at: Origin;
  readonly request: OutboundRequest;
  readonly responseVariable: Template;
  readonly ignoreError: boolean;
}

export interface SendOneWayRequestStep {
  readonly k: "send-one-way-request";
  readonly at: Origin;
  readonly request: OutboundRequest;
}

export interface RetryStep {
  readonly k: "retry";
  readonly at: Origin;
  /** "Boolean expression or literal": `@(…)`, or the text true / false. */
  readonly condition: Template;
  readonly count: Template;
  readonly interval: Template;
  readonly maxInterval: Template | null;
  readonly delta: Template | null;
  readonly firstFastRetry: Template | null;
  readonly steps: readonly Step[];
  /**
   * A `<forward-request>` is among the children: each attempt calls the origin there and then (the condition sees
   * context.Response), instead of once after the backend section.
   */
  readonly forwardsOrigin: boolean;
}

export type OutboundStep = SendRequestStep | SendOneWayRequestStep | RetryStep;
