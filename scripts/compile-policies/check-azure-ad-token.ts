/**
 * compile-policies/check-azure-ad-token — `<validate-azure-ad-token>` → a ValidateJwtStep with `azureAd` set
 * (src/policy/jwt-schema.ts), run by the validate-jwt machinery with the tenant's OpenID configuration.
 *
 * Contract: pure; reports every problem and returns no step when any was found. Attributes and elements follow the
 * APIM policy reference, "Validate Microsoft Entra token"
 * (https://learn.microsoft.com/azure/api-management/validate-azure-ad-token-policy): `tenant-id` (a tenant id, a
 * domain, or its URL form `https://contoso.onmicrosoft.com`), at most one of `header-name` / `query-parameter-name`
 * / `token-value` (none: the Authorization header, as the reference's own examples use it), `authentication-endpoint`
 * (sovereign clouds), `failed-validation-httpcode` (default 401), `failed-validation-error-message`,
 * `output-token-variable-name`; children `client-application-ids`, `backend-application-ids`, `audiences`,
 * `required-claims` (each `application-id` / `audience` / `claim`), `decryption-keys`.
 * Semantics on the validate-jwt machinery: keys and issuer from
 * `{endpoint}/{tenant}/v2.0/.well-known/openid-configuration`; both the v2 issuer and, on the public cloud, the v1
 * form `https://sts.windows.net/{tid}/` are accepted (Entra ID issues v1 or v2 tokens per the API's manifest); the
 * allowed audiences are `<audiences>` plus `<backend-application-ids>` (a v2 token's `aud` is the API's application
 * id); `azp` (v2) or `appid` (v1) must be a client-application-id. Compile errors: `decryption-keys` (encrypted
 * tokens, as validate-jwt), a tenant-id that is an expression or a multi-tenant alias (`common`, `organizations`,
 * `consumers`: no single issuer to check, and Entra's signing keys are shared across tenants, so the issuer is the
 * tenant boundary). A policy that names no client application, audience nor backend application accepts any token
 * of the tenant: a warning (APIM accepts it too).
 */
import type { JwtRequiredClaim, ValidateJwtStep } from "../../src/policy/jwt-schema";
import type { Template } from "../../src/policy/schema";
import { errorCount, HEADER_NAME, integerAttribute, literalText, type CheckContext, type CheckTools } from "./check-tools";
import { requiredClaim, valueList } from "./check-jwt";
import type { XmlElement } from "./read-xml";
import { toTemplate } from "./template";

const DEFAULT_ENDPOINT = "https://login.microsoftonline.com";
/** A tenant GUID or a DNS name (a verified domain such as contoso.onmicrosoft.com). */
const TENANT = /^(?:[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}|(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$/;
const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);

export function checkValidateAzureAdToken(t: CheckTools, ctx: CheckContext, el: XmlElement): ValidateJwtStep[] {
  const before = errorCount(t.diags);
  const a = t.attributes(ctx, el, ["tenant-id"], [
    "header-name", "query-parameter-name", "token-value", "authentication-endpoint", "failed-validation-httpcode",
    "failed-validation-error-message", "output-token-variable-name",
  ]);
  const tenantAttr = a.get("tenant-id");
  let tenant = t.literal(ctx, tenantAttr);
  if (tenant !== null) {
    // The reference allows the tenant's URL form (https://contoso.onmicrosoft.com): its host is the tenant.
    const fromUrl = /^https?:\/\//i.test(tenant) && URL.canParse(tenant) ? new URL(tenant).hostname : tenant.trim();
    if (MULTI_TENANT.has(fromUrl.toLowerCase())) {
      t.diags.error(ctx.file, tenantAttr!.valueStart, `tenant-id "${fromUrl}" names no single tenant: certgate checks the token's issuer against one tenant (Entra ID's signing keys are shared by every tenant); give the tenant id or domain`, Math.max(1, tenantAttr!.valueEnd - tenantAttr!.valueStart));
      tenant = null;
    } else if (!TENANT.test(fromUrl)) {
      t.badValue(ctx, tenantAttr!, "a tenant id (GUID), a domain such as contoso.onmicrosoft.com, or its https URL");
      tenant = null;
    } else tenant = fromUrl;
  }
  const endpointAttr = a.get("authentication-endpoint");
  let endpoint = DEFAULT_ENDPOINT;
  const endpointText = t.literal(ctx, endpointAttr);
  if (endpointText !== null) {
    const u = URL.canParse(endpointText.trim()) ? new URL(endpointText.trim()) : null;
    if (!u || u.protocol !== "https:" || (u.pathname !== "/" && u.pathname !== "") || u.search !== "") t.badValue(ctx, endpointAttr!, "an https origin such as https://login.microsoftonline.us");
    else endpoint = u.origin;
  }
  const sources = (["header-name", "query-parameter-name", "token-value"] as const).filter((n) => a.has(n));
  let source: ValidateJwtStep["source"] | null = { kind: "header", name: "Authorization" };
  if (sources.length > 1) {
    t.diags.error(ctx.file, el.start, `<validate-azure-ad-token> takes one of header-name, query-parameter-name, token-value (found ${sources.join(", ")})`, el.name.length + 1);
    source = null;
  } else if (sources[0] === "token-value") {
    const value: Template | null = toTemplate(ctx, a.get("token-value")!.value, false);
    source = value ? { kind: "value", value } : null;
  } else if (sources.length === 1) {
    const attr = a.get(sources[0]!)!;
    const name = t.literal(ctx, attr);
    if (name !== null && (sources[0] === "header-name" ? !HEADER_NAME.test(name) : name === "")) {
      t.badValue(ctx, attr, sources[0] === "header-name" ? "a header name" : "a query parameter name");
      source = null;
    } else source = name === null ? null : { kind: sources[0] === "header-name" ? "header" : "query", name };
  }
  const failedStatus = a.has("failed-validation-httpcode") ? integerAttribute(t, ctx, a.get("failed-validation-httpcode"), 200, 599) : 401;
  const failedMessage = t.literal(ctx, a.get("failed-validation-error-message"));
  const outputVariable = t.literal(ctx, a.get("output-token-variable-name"));
  if (outputVariable === "") t.badValue(ctx, a.get("output-token-variable-name")!, "a variable name (not empty)");

  const clientApplicationIds: string[] = [];
  const audiences: Template[] = [];
  const requiredClaims: JwtRequiredClaim[] = [];
  const seen = new Set<string>();
  for (const child of t.children(ctx, el, ["client-application-ids", "backend-application-ids", "audiences", "required-claims", "decryption-keys"])) {
    if (seen.has(child.name)) {
      t.diags.error(ctx.file, child.start, `<${child.name}> appears twice in <validate-azure-ad-token>`, child.name.length + 1);
      continue;
    }
    seen.add(child.name);
    t.noAttributes(ctx, child);
    switch (child.name) {
      case "client-application-ids":
      case "backend-application-ids":
        // APIM: no policy expressions here.
        for (const v of t.children(ctx, child, ["application-id"])) {
          t.noAttributes(ctx, v);
          const text = literalText(t, ctx, v)?.trim() ?? null;
          if (text === "") t.diags.error(ctx.file, v.start, "<application-id> is empty", 15);
          else if (text !== null) {
            if (child.name === "client-application-ids") clientApplicationIds.push(text);
            else audiences.push({ t: "text", v: text });
          }
        }
        break;
      case "audiences":
        audiences.push(...valueList(t, ctx, child, "audience"));
        break;
      case "required-claims":
        for (const c of t.children(ctx, child, ["claim"])) {
          const claim = requiredClaim(t, ctx, c);
          if (claim) requiredClaims.push(claim);
        }
        break;
      case "decryption-keys":
        t.diags.error(ctx.file, child.start, "<decryption-keys> is not supported by certgate yet (encrypted tokens)", child.name.length + 1);
        break;
    }
  }
  if (clientApplicationIds.length === 0 && audiences.length === 0 && errorCount(t.diags) === before) {
    t.diags.warning(ctx.file, el.start, "<validate-azure-ad-token> names no client-application-ids, backend-application-ids nor audiences: any token the tenant issues, to any application, passes", el.name.length + 1);
  }
  if (errorCount(t.diags) > before || source === null || tenant === null || failedStatus === null) return [];
  const publicCloud = endpoint === DEFAULT_ENDPOINT;
  return [{
    k: "validate-jwt", at: t.origin(ctx, el), source, failedStatus, failedMessage,
    // Entra ID access tokens always carry exp and are signed; APIM's element has no switches for either.
    requireExpirationTime: true, requireScheme: null, requireSignedTokens: true, clockSkewSeconds: 0, outputVariable,
    keys: [], openidConfig: `${endpoint}/${tenant}/v2.0/.well-known/openid-configuration`, audiences, issuers: [], requiredClaims,
    requireCertificateBinding: false,
    azureAd: { clientApplicationIds, v1IssuerHost: publicCloud ? "sts.windows.net" : null },
  }];
}
