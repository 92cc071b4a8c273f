/**
 * The Worker's bindings, and the typed state the request stages hand to each other (Hono variables).
 * Every variable is documented in docs/configuration.md.
 */
import type { Config } from "./config";
import type { PresentedCertificate } from "./cert/sources/source";
import type { CertificateModel } from "./cert/model";
import type { ParsedCertificate } from "./cert/parse";
import type { GatewayError } from "./errors";
import type { ValidatedPath } from "./pki/validate";
import type { RequestRecord } from "./log";

/** Bindings from wrangler.toml (vars, secrets, KV, services). All vars are strings. */
export interface Env {
  /** Trust material (docs/kv-schema.md). */
  readonly TRUST: KVNamespace;
  /** Optional service binding for the origin (tests, benchmarks, Workers-to-Workers). */
  readonly ORIGIN?: Fetcher;
  /** Counters of rate-limit-by-key / quota-by-key (policy/state/counter.ts); absent: those policies fail per failure-mode. */
  readonly COUNTERS?: DurableObjectNamespace<import("./policy/state/counter").CounterObject>;
  /** caching-type="external" of cache-lookup / cache-*-value (policy/response-cache.ts): a global cache in KV; absent: those steps miss. */
  readonly POLICY_CACHE?: KVNamespace;
  readonly ORIGIN_URL?: string;
  readonly ORIGIN_TIMEOUT_MS?: string;
  readonly CERT_SOURCES?: string;
  /** JSON object: source name → header name, e.g. {"url-pem": "X-SSL-Client-Cert"}. */
  readonly CERT_SOURCE_HEADERS?: string | Record<string, string>;
  readonly TERMINATOR_SECRET?: string;
  readonly TERMINATOR_SECRET_HEADER?: string;
  readonly TERMINATOR_ADDRESSES?: string;
  readonly REJECT_UNTRUSTED_CERT_HEADERS?: string;
  readonly REQUIRE_CERTIFICATE?: string;
  readonly TRUST_STORE?: string;
  readonly DENY_STATUS?: string;
  readonly REVOCATION?: string;
  readonly REQUIRE_CLIENT_AUTH_EKU?: string;
  readonly ALLOW_SHA1?: string;
  readonly MIN_RSA_BITS?: string;
  readonly ALLOW_PARTIAL_CHAIN?: string;
  /** strict (default) | compatible: the RFC 5280 profile enforced (docs/validation.md, "Profile"). */
  readonly CERT_PROFILE?: string;
  readonly IDENTITY_HEADER_PREFIX?: string;
  readonly TRUST_REFRESH_SECONDS?: string;
  readonly KV_TIMEOUT_MS?: string;
  readonly PROBLEM_TYPE_BASE?: string;
  /** Secret: a request carrying it in `X-Certgate-Trace-Secret` gets the policy trace in `X-Certgate-Trace`. */
  readonly TRACE_SECRET?: string;
  /** Comma-separated identity headers to send (forward/identity.ts IDENTITY_FIELDS), or `none`. */
  readonly IDENTITY_HEADERS?: string;
  /** `all` (default), `denied` or `off`: which requests get their `request` log line. */
  readonly LOG_REQUESTS?: string;
  /** `true`: responses carry a Server-Timing header (default `false`). */
  readonly SERVER_TIMING?: string;
  /** More header names or `*` patterns never forwarded from the client (http/header-names.ts); adds to the defaults. */
  readonly STRIP_HEADERS?: string;
  /** Scheduled expiry watch thresholds in days, e.g. "30,7,1" (src/scheduled/expiry.ts). */
  readonly EXPIRY_WARN_DAYS?: string;
  /** Secret: URL the scheduled run POSTs its findings to (src/scheduled/alerts.ts). */
  readonly ALERT_WEBHOOK_URL?: string;
  /** Secret: sent as `Authorization: Bearer <token>` to ALERT_WEBHOOK_URL. */
  readonly ALERT_WEBHOOK_TOKEN?: string;
  /**
   * Secrets: the Entra ID application credential of authentication-managed-identity (policy/managed-identity.ts),
   * in the Azure SDKs' EnvironmentCredential names; AZURE_AUTHORITY_HOST (a var) defaults to login.microsoftonline.com.
   */
  readonly AZURE_TENANT_ID?: string;
  readonly AZURE_CLIENT_ID?: string;
  readonly AZURE_CLIENT_SECRET?: string;
  readonly AZURE_AUTHORITY_HOST?: string;
}

/**
 * Every binding name certgate itself reads. A policy can never reach these by name: a runtime named value
 * `{{TERMINATOR_SECRET}}` or `authentication-certificate certificate-id="TRUST"` does not resolve to them.
 * (Other bindings — `mtls_certificates` and Worker secrets holding named values — are looked up by name.)
 */
const GATEWAY_BINDING_NAMES = [
  "TRUST", "ORIGIN", "ORIGIN_URL", "ORIGIN_TIMEOUT_MS", "CERT_SOURCES", "CERT_SOURCE_HEADERS", "TERMINATOR_SECRET",
  "TERMINATOR_SECRET_HEADER", "TERMINATOR_ADDRESSES", "REJECT_UNTRUSTED_CERT_HEADERS", "REQUIRE_CERTIFICATE", "TRUST_STORE",
  "DENY_STATUS", "REVOCATION", "REQUIRE_CLIENT_AUTH_EKU", "ALLOW_SHA1", "MIN_RSA_BITS", "ALLOW_PARTIAL_CHAIN", "CERT_PROFILE",
  "IDENTITY_HEADER_PREFIX", "TRUST_REFRESH_SECONDS", "KV_TIMEOUT_MS", "PROBLEM_TYPE_BASE", "TRACE_SECRET", "IDENTITY_HEADERS", "LOG_REQUESTS", "SERVER_TIMING",
  "STRIP_HEADERS", "EXPIRY_WARN_DAYS", "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_TOKEN", "COUNTERS", "POLICY_CACHE",
  "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_AUTHORITY_HOST",
] as const satisfies readonly (keyof Env)[];
// Compile-time check that the list names every binding of Env (adding one without listing it does not compile).
type Unlisted = Exclude<keyof Env, (typeof GATEWAY_BINDING_NAMES)[number]>;
const everyBindingListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyBindingListed;
export const GATEWAY_BINDINGS: ReadonlySet<string> = new Set(GATEWAY_BINDING_NAMES);

/** Outcome of certificate validation for this request. */
export type Verification =
  | { readonly status: "none" }
  | { readonly status: "valid"; readonly path: ValidatedPath; readonly model: CertificateModel; readonly presented: PresentedCertificate }
  /** `leaf` and `model` are null when the leaf did not parse. */
  | { readonly status: "invalid"; readonly error: GatewayError; readonly leaf: ParsedCertificate | null; readonly model: CertificateModel | null; readonly presented: PresentedCertificate };

/** Per-request state, set by the stages in app.ts in this order. */
export interface Variables {
  config: Config;
  /** The request's time: the one clock read every check of this request uses. */
  now: Date;
  /** The request came from an authenticated terminator (its header sources may be read). */
  terminator: boolean;
  presented: PresentedCertificate | null;
  verification: Verification;
  /** What the request's log line and Server-Timing report, filled in by the stages. */
  record: RequestRecord;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
