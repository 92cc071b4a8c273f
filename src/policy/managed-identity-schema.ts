/**
 * The compiled form of `<authentication-managed-identity>` (shared by
 * scripts/compile-policies/check-managed-identity.ts and the runner, policy/managed-identity.ts). APIM policy
 * reference, "Authenticate with managed identity":
 * https://learn.microsoft.com/azure/api-management/authentication-managed-identity-policy
 * (resource: required, expressions allowed; client-id: optional, no expressions; output-token-variable-name:
 * optional, no expressions; ignore-error: boolean, default false).
 *
 * Contract: data only. certgate has no Azure managed identity: the token comes from an Entra ID application
 * credential in Worker secrets (managed-identity.ts); docs/policies.md says so prominently.
 */
import type { Origin, Template } from "./schema";

/** The attributes, as a step (top level) and as a child of send-request / send-one-way-request. */
export interface ManagedIdentityAuth {
  /** The target resource (v1 style: an App ID URI or application id); the v2 scope is `${resource}/.default`. */
  readonly resource: Template;
  /** A user-assigned identity's client id: must equal the configured AZURE_CLIENT_ID (checked at run time). */
  readonly clientId: string | null;
  readonly ignoreError: boolean;
}

export interface ManagedIdentityStep extends ManagedIdentityAuth {
  readonly k: "authentication-managed-identity";
  readonly at: Origin;
  /** null: the token goes to the origin request's Authorization header as `Bearer <token>`. */
  readonly outputVariable: string | null;
}
