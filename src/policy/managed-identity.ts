/**
 * `<authentication-managed-identity>` on Workers: an Entra ID access token for `resource`, from the OAuth 2.0
 * client-credentials grant (RFC 6749 §4.4) with an application credential held in Worker secrets — a Worker has no
 * Azure managed identity. The secrets are those of the Azure SDKs' EnvironmentCredential
 * (https://learn.microsoft.com/dotnet/api/azure.identity.environmentcredential): AZURE_TENANT_ID, AZURE_CLIENT_ID,
 * AZURE_CLIENT_SECRET, and optionally AZURE_AUTHORITY_HOST (default login.microsoftonline.com).
 *
 * APIM reference: https://learn.microsoft.com/azure/api-management/authentication-managed-identity-policy —
 * the token goes to `Authorization: Bearer <token>` on the origin request, or (output-token-variable-name) into a
 * variable as a string; APIM caches it until it expires; ignore-error="true" continues without a token.
 *
 * Contract: no I/O of its own (the host's outbound fetch, with its budget and URL rules, makes the one call), no clock
 * but the host's. Semantics:
 * - The v2 endpoint `{authority}/{tenant}/oauth2/v2.0/token` takes a scope, not a v1 resource: the scope is
 *   `resource + "/.default"`; a resource that ends with "/" keeps it (`https://management.azure.com/` →
 *   `https://management.azure.com//.default`, the Microsoft identity platform's rule for v1.0 resources, whose
 *   App ID URI is the part before "/.default"); a resource already ending in "/.default" is used as is.
 * - Cached per isolate per (authority, tenant, client, scope) until REFRESH_MARGIN_SECONDS before `expires_in`
 *   (half the lifetime for short-lived tokens); at most MAX_CACHED_TOKENS entries. Concurrent misses each fetch
 *   (workerd does not let one request await I/O another request started).
 * - A miss counts as one outbound call (MAX_OUTBOUND_CALLS), waits at most TOKEN_TIMEOUT_MS and reads at most
 *   MAX_TOKEN_RESPONSE_BYTES; the URL rules of outbound.ts apply to the authority host.
 * - client-id (a user-assigned identity in APIM) must equal AZURE_CLIENT_ID: checked at run time, since the
 *   compiler does not see secrets; a mismatch is a configuration problem, like missing secrets.
 * - Secrets missing, malformed or client-id mismatched: 503 `managed_identity_not_configured`, answered directly
 *   (on-error does not run; ignore-error does not hide a deployment fault). A token that cannot be had (no answer,
 *   timeout, an error answer, no access_token): with ignore-error the pipeline continues without it (no header, the
 *   variable unset); else LastError (Source "authentication-managed-identity", Reason `token_request_failed` or
 *   `outbound_budget_exceeded`) and on-error; unhandled → 503 `managed_identity_token_unavailable`.
 */
import { readCapped } from "../bytes";
import { gatewayError, type GatewayError } from "../errors";
import { MAX_OUTBOUND_CALLS } from "../limits";
import type { Result } from "../result";
import type { ManagedIdentityAuth } from "./managed-identity-schema";
import { forbiddenHost, type OutboundFetch } from "./outbound";
import type { Template } from "./schema";

/** Entra ID answers the token endpoint in well under a second; 10 s bounds a stalled call. */
export const TOKEN_TIMEOUT_MS = 10_000;
/** A token response is ~2–4 KiB (the JWT plus a few fields); 64 KiB is far above it. */
export const MAX_TOKEN_RESPONSE_BYTES = 64 * 1024;
/** Refresh this long before expiry (Azure SDKs refresh 5 minutes early, MSAL's default too). */
export const REFRESH_MARGIN_SECONDS = 300;
/** Distinct (tenant, client, scope) tokens kept per isolate: policies name a handful of resources. */
export const MAX_CACHED_TOKENS = 64;
export const DEFAULT_AUTHORITY_HOST = "https://login.microsoftonline.com";
/** The Worker secrets, in EnvironmentCredential's names. */
export const AZURE_SECRET_NAMES = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"] as const;

export interface AzureCredential {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** https origin of the authority, no trailing slash. */
  readonly authorityHost: string;
}

/** The credential from Worker bindings, or why there is none (the names missing or malformed). */
export function azureCredentialFrom(bindings: Record<string, unknown>): Result<AzureCredential, string> {
  const missing = AZURE_SECRET_NAMES.filter((n) => typeof bindings[n] !== "string" || (bindings[n] as string).trim() === "");
  if (missing.length > 0) return { ok: false, error: `the Worker secrets ${missing.join(", ")} are not set (wrangler secret put ${missing[0]})` };
  const tenantId = (bindings.AZURE_TENANT_ID as string).trim();
  // A tenant is a GUID or a verified domain name; anything else would change the token URL's path.
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/.test(tenantId)) return { ok: false, error: "AZURE_TENANT_ID is not a tenant id or domain name" };
  const hostText = typeof bindings.AZURE_AUTHORITY_HOST === "string" && bindings.AZURE_AUTHORITY_HOST.trim() !== "" ? bindings.AZURE_AUTHORITY_HOST.trim() : DEFAULT_AUTHORITY_HOST;
  let authority: URL;
  try {
    authority = new URL(/^[a-z]+:\/\//i.test(hostText) ? hostText : `https://${hostText}`);
  } catch {
    return { ok: false, error: "AZURE_AUTHORITY_HOST is not a host name or https URL" };
  }
  if (authority.protocol !== "https:" || authority.pathname.replace(/\/+$/, "") !== "" || authority.search !== "") {
    return { ok: false, error: "AZURE_AUTHORITY_HOST must be an https origin such as https://login.microsoftonline.com" };
  }
  return { ok: true, value: { tenantId, clientId: (bindings.AZURE_CLIENT_ID as string).trim(), clientSecret: bindings.AZURE_CLIENT_SECRET as string, authorityHost: authority.origin } };
}

/** The v2 scope of a v1 resource (see the header). */
export function scopeOf(resource: string): string {
  return resource.endsWith("/.default") ? resource : `${resource}/.default`;
}

/** Tokens per isolate. */
export class AzureTokenCache {
  private readonly entries = new Map<string, { readonly token: string; readonly refreshAt: number }>();

  get(key: string, now: number): string | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (now >= e.refreshAt) {
      this.entries.delete(key);
      return null;
    }
    return e.token;
  }

  /** Keeps `token` until shortly before `expiresInSeconds`; a token about to expire is not kept. */
  set(key: string, token: string, expiresInSeconds: number, now: number): void {
    const margin = Math.min(REFRESH_MARGIN_SECONDS, expiresInSeconds / 2);
    if (!(expiresInSeconds - margin > 0)) return;
    if (!this.entries.has(key) && this.entries.size >= MAX_CACHED_TOKENS) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { token, refreshAt: now + (expiresInSeconds - margin) * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The runner's managed-identity service. */
export interface ManagedIdentityService {
  /** The application credential from Worker secrets, or why there is none. */
  credential(): Result<AzureCredential, string>;
  readonly cache: AzureTokenCache;
  /** explain's stub (`--managed-identity-token`): every token is this; no call, no credential needed. */
  readonly stubToken?: string;
}

/** What the step needs from the runner. */
export interface ManagedIdentityHost {
  text(t: Template): Promise<string>;
  note(text: string): void;
  /** A trace line (the request's policy trace), one per token call. */
  trace(message: string, metadata: Record<string, string>): void;
  log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>): void;
  /** A failure that sets LastError and runs on-error. */
  fail(source: string, reason: string, message: string, answer: GatewayError, status: number | null): unknown;
  /** A failure answered directly. */
  answer(error: GatewayError): unknown;
  readonly requestId: string;
  readonly position: string;
  readonly ownHost: string;
  readonly allowPrivate: boolean;
  readonly budget: { calls: number };
  readonly fetch: OutboundFetch | undefined;
  readonly service: ManagedIdentityService | undefined;
  now(): number;
}

const SOURCE = "authentication-managed-identity";

/** The token for `auth`, or null (ignore-error and none could be had); throws what the host builds otherwise. */
export async function managedIdentityToken(auth: ManagedIdentityAuth, host: ManagedIdentityHost): Promise<string | null> {
  const resource = (await host.text(auth.resource)).trim();
  if (resource === "") {
    throw host.fail(SOURCE, "invalid_resource", "resource is empty",
      gatewayError("policy_expression_failed", "A policy asked for a token without a resource.", { requestId: host.requestId }), 500);
  }
  const service = host.service;
  if (service?.stubToken !== undefined) {
    host.note(`${resource}: STUB token (explain)`);
    return service.stubToken;
  }
  const cred = service ? service.credential() : { ok: false as const, error: "no managed-identity service here" };
  if (!cred.ok || (auth.clientId !== null && auth.clientId !== cred.value.clientId)) {
    const internal = !cred.ok ? cred.error : `client-id="${auth.clientId}" is not the configured AZURE_CLIENT_ID (certgate holds one application credential; a user-assigned identity's client id must be that application's)`;
    host.log("error", "managed_identity_not_configured", { requestId: host.requestId, at: host.position, internal });
    host.note("not configured");
    throw host.answer(gatewayError("managed_identity_not_configured", "The gateway's Azure credential is not configured.", { requestId: host.requestId }, internal));
  }
  const c = cred.value;
  const scope = scopeOf(resource);
  const key = `${c.authorityHost}|${c.tenantId}|${c.clientId}|${scope}`;
  const cached = service!.cache.get(key, host.now());
  if (cached !== null) {
    host.note(`${scope}: cached token`);
    return cached;
  }
  const started = host.now();
  const got = await requestToken(c, scope, host);
  // The trace names the token endpoint's host and the scope, never the secret or the token.
  host.trace(`token for ${scope}: ${got.ok ? "issued" : got.error.reason} in ${host.now() - started} ms`, { scope, outcome: got.ok ? "issued" : got.error.reason, ms: String(host.now() - started) });
  if (got.ok) {
    service!.cache.set(key, got.value.token, got.value.expiresIn, host.now());
    host.note(`${scope}: token (expires in ${got.value.expiresIn} s)`);
    return got.value.token;
  }
  host.log("warn", "managed_identity_token_failed", { requestId: host.requestId, at: host.position, reason: got.error.reason, scope, internal: got.error.message });
  if (auth.ignoreError) {
    host.note(`${got.error.reason}, ignored: no token`);
    return null;
  }
  host.note(got.error.reason);
  throw host.fail(SOURCE, got.error.reason, got.error.message,
    gatewayError("managed_identity_token_unavailable", "The gateway could not obtain an access token for a backend.", { requestId: host.requestId, reason: got.error.reason }), null);
}

type TokenFailure = { readonly reason: "token_request_failed" | "outbound_budget_exceeded"; readonly message: string };

const TIMED_OUT = Symbol("timed out");

async function requestToken(c: AzureCredential, scope: string, host: ManagedIdentityHost): Promise<Result<{ token: string; expiresIn: number }, TokenFailure>> {
  const url = new URL(`${c.authorityHost}/${encodeURIComponent(c.tenantId)}/oauth2/v2.0/token`);
  const forbidden = forbiddenHost(url, host.ownHost, host.allowPrivate);
  if (forbidden !== null) return { ok: false, error: { reason: "token_request_failed", message: `${url.host}: ${forbidden}` } };
  if (host.budget.calls >= MAX_OUTBOUND_CALLS) return { ok: false, error: { reason: "outbound_budget_exceeded", message: `more than ${MAX_OUTBOUND_CALLS} outbound calls in one request` } };
  host.budget.calls++;
  if (!host.fetch) return { ok: false, error: { reason: "token_request_failed", message: "outbound calls are not available here" } };
  // RFC 6749 §4.4.2 with the client secret in the body (§2.3.1), as Entra ID's v2 endpoint documents.
  const body = new URLSearchParams({ grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret, scope }).toString();
  const init: RequestInit = {
    method: "POST", redirect: "manual", body,
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), TOKEN_TIMEOUT_MS);
    });
    const r = await Promise.race([host.fetch(url.href, init, null, null), timeout]);
    if (r === TIMED_OUT) return { ok: false, error: { reason: "token_request_failed", message: `no answer from ${url.host} within ${TOKEN_TIMEOUT_MS / 1000} s` } };
    if (!r.ok) return { ok: false, error: { reason: "token_request_failed", message: `${url.host}: ${r.error.internal ?? r.error.detail}` } };
    const res = r.value;
    const bytes = res.body ? await Promise.race([readCapped(res.body, MAX_TOKEN_RESPONSE_BYTES), timeout]) : new Uint8Array();
    if (bytes === TIMED_OUT) return { ok: false, error: { reason: "token_request_failed", message: `the answer of ${url.host} did not finish within ${TOKEN_TIMEOUT_MS / 1000} s` } };
    if (bytes === null) return { ok: false, error: { reason: "token_request_failed", message: `the answer of ${url.host} is over ${MAX_TOKEN_RESPONSE_BYTES} bytes` } };
    let json: Record<string, unknown> = {};
    try {
      const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
      if (v !== null && typeof v === "object" && !Array.isArray(v)) json = v as Record<string, unknown>;
    } catch {
      // Not JSON: reported below by status or by the missing access_token.
    }
    if (!res.ok) {
      // RFC 6749 §5.2: `error`; Entra ID adds `error_codes` (AADSTS…) to its description. No secret is in either.
      const what = typeof json.error === "string" ? `${json.error}${typeof json.error_description === "string" ? `: ${json.error_description.split("\n")[0]!.slice(0, 200)}` : ""}` : "no OAuth error";
      return { ok: false, error: { reason: "token_request_failed", message: `${url.host} answered ${res.status} (${what})` } };
    }
    const token = json.access_token;
    // v1 endpoints sent expires_in as a string; accept both.
    const expiresIn = typeof json.expires_in === "number" ? json.expires_in : typeof json.expires_in === "string" && /^[0-9]{1,9}$/.test(json.expires_in) ? Number(json.expires_in) : 0;
    if (typeof token !== "string" || token === "" || /[\s,]/.test(token)) return { ok: false, error: { reason: "token_request_failed", message: `${url.host} answered ${res.status} without a usable access_token` } };
    return { ok: true, value: { token, expiresIn } };
  } finally {
    clearTimeout(timer);
  }
}
