/**
 * compile-policies/check-managed-identity — `<authentication-managed-identity>` → a ManagedIdentityStep
 * (src/policy/managed-identity-schema.ts), alone or as a child of send-request / send-one-way-request.
 *
 * Contract: pure; reports every problem and returns null when any was found. Attributes follow the APIM policy
 * reference (https://learn.microsoft.com/azure/api-management/authentication-managed-identity-policy): `resource`
 * required, policy expressions allowed; `client-id`, `output-token-variable-name` literal; `ignore-error` boolean,
 * default false. certgate's token comes from an Entra ID application credential in Worker secrets
 * (src/policy/managed-identity.ts), not a managed identity: `client-id` cannot be checked here (the compiler sees
 * no secrets) and is compared with AZURE_CLIENT_ID at run time. Inside send-request the output variable has no
 * meaning (APIM's examples use the policy there only to authenticate that request): a compile error.
 */
import type { ManagedIdentityAuth, ManagedIdentityStep } from "../../src/policy/managed-identity-schema";
import type { XmlElement } from "./read-xml";
import { errorCount, type CheckContext, type CheckTools } from "./check-tools";
import { toTemplate } from "./template";

/** Entra ID client ids are GUIDs; APIM passes the value through, so anything GUID-shaped or a plain token is accepted. */
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The attributes shared by the step and the send-request child; null when any was wrong. */
export function checkManagedIdentityAuth(t: CheckTools, ctx: CheckContext, el: XmlElement, inRequest: boolean): (ManagedIdentityAuth & { outputVariable: string | null }) | null {
  const before = errorCount(t.diags);
  const a = t.attributes(ctx, el, ["resource"], inRequest ? ["client-id", "ignore-error"] : ["client-id", "output-token-variable-name", "ignore-error"]);
  t.noChildren(ctx, el);
  const resourceAttr = a.get("resource");
  const resource = resourceAttr ? toTemplate(ctx, resourceAttr.value, false) : null;
  if (resourceAttr && resource?.t === "text" && resource.v.trim() === "") t.badValue(ctx, resourceAttr, "the target resource (an App ID URI such as https://storage.azure.com/, or an application id)");
  const clientId = t.literal(ctx, a.get("client-id"));
  if (clientId !== null && !CLIENT_ID.test(clientId)) t.badValue(ctx, a.get("client-id")!, "a client id (the Entra ID application's, AZURE_CLIENT_ID)");
  const outputVariable = t.literal(ctx, a.get("output-token-variable-name"));
  if (outputVariable === "") t.badValue(ctx, a.get("output-token-variable-name")!, "a variable name (not empty)");
  const ignoreError = t.bool(ctx, a.get("ignore-error"), false);
  if (!resource || errorCount(t.diags) > before) return null;
  return { resource: resource.t === "text" ? { t: "text", v: resource.v.trim() } : resource, clientId, ignoreError, outputVariable };
}

export function checkManagedIdentity(t: CheckTools, ctx: CheckContext, el: XmlElement): ManagedIdentityStep[] {
  const auth = checkManagedIdentityAuth(t, ctx, el, false);
  if (!auth) return [];
  return [{ k: "authentication-managed-identity", at: t.origin(ctx, el), resource: auth.resource, clientId: auth.clientId, ignoreError: auth.ignoreError, outputVariable: auth.outputVariable }];
}
