/**
 * The Worker's bindings, and the typed state the request stages hand to each other (Hono variables).
 * Every variable is documented in docs/configuration.md.
 */
import type { Config } from "./config";
import type { PresentedCertificate } from "./cert/sources/source";
import type { CertificateModel } from "./cert/model";
import type { GatewayError } from "./errors";
import type { ValidatedPath } from "./pki/validate";

/** Bindings from wrangler.toml (vars, secrets, KV, services). All vars are strings. */
export interface Env {
  /** Trust material (docs/kv-schema.md). */
  readonly TRUST: KVNamespace;
  /** Optional service binding for the origin (tests, benchmarks, Workers-to-Workers). */
  readonly ORIGIN?: Fetcher;
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
  readonly IDENTITY_HEADER_PREFIX?: string;
  readonly TRUST_REFRESH_SECONDS?: string;
  readonly KV_TIMEOUT_MS?: string;
  readonly PROBLEM_TYPE_BASE?: string;
}

/** Outcome of certificate validation for this request. */
export type Verification =
  | { readonly status: "none" }
  | { readonly status: "valid"; readonly path: ValidatedPath; readonly model: CertificateModel; readonly presented: PresentedCertificate }
  | { readonly status: "invalid"; readonly error: GatewayError; readonly model: CertificateModel | null; readonly presented: PresentedCertificate };

/** Per-request state, set by the stages in app.ts in this order. */
export interface Variables {
  config: Config;
  /** The request came from an authenticated terminator (its header sources may be read). */
  terminator: boolean;
  presented: PresentedCertificate | null;
  verification: Verification;
}

export type AppEnv = { Bindings: Env; Variables: Variables };
