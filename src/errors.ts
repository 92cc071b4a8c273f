/**
 * The error union of certgate's pure core. No HTTP here: http/problem.ts maps each code to a status.
 *
 * Every failure is `{ code, detail, ...context }`. `code` is stable (clients, logs and tests match on it);
 * `detail` is a human sentence safe to show a client (no stack, no internal paths); context fields are
 * plain JSON values (dates as ISO strings) that say what was checked against what.
 */

/** Every stable error code the certificate engine can return. */
export const CERT_ERROR_CODES = [
  // decoding (cert/decode.ts)
  "certificate_malformed",
  "certificate_too_large",
  "bundle_too_large",
  "bundle_too_many_certificates",
  "certificate_missing",
  // path validation (pki/validate.ts)
  "certificate_expired",
  "certificate_not_yet_valid",
  "certificate_not_trusted",
  "certificate_revoked",
  "revocation_unknown",
  "signature_invalid",
  "basic_constraints_violated",
  "path_length_exceeded",
  "name_constraints_violated",
  "policy_violated",
  "key_usage_invalid",
  "eku_client_auth_missing",
  "unsupported_algorithm",
  "weak_key",
  "unknown_critical_extension",
  "path_too_long",
  "budget_exceeded",
  "self_signed_not_registered",
  // revocation material (pki/revocation.ts)
  "crl_malformed",
  "crl_too_large",
] as const;

export type CertErrorCode = (typeof CERT_ERROR_CODES)[number];

/** Codes of the gateway around the engine (sources, trust boundary, KV, origin). */
export const GATEWAY_ERROR_CODES = [
  // the request (http/, cert/sources/)
  "certificate_header_invalid",
  "certificate_header_untrusted",
  "certificate_ambiguous",
  "request_header_too_large",
  // the deployment (config.ts, pki/trust-store.ts)
  "configuration_invalid",
  "trust_store_unavailable",
  // policies (policy/bundle.ts, policy/run.ts)
  "policy_bundle_invalid",
  "policy_expression_failed",
  "policy_value_missing",
  "certificate_identity_mismatch",
  "mtls_certificate_unavailable",
  "policy_check_failed",
  "caller_ip_not_allowed",
  // validate-jwt (policy/jwt.ts), rate-limit-by-key / quota-by-key (policy/state/)
  "jwt_invalid",
  "rate_limit_exceeded",
  "quota_exceeded",
  "counter_store_unavailable",
  "jwt_keys_unavailable",
  // send-request, send-one-way-request, retry (policy/outbound.ts)
  "send_request_failed",
  "outbound_budget_exceeded",
  // authentication-managed-identity (policy/managed-identity.ts)
  "managed_identity_not_configured",
  "managed_identity_token_unavailable",
  // the origin (forward/origin.ts)
  "origin_unreachable",
  "origin_timeout",
  // a bug: never expected, always logged
  "internal_error",
] as const;

export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[number];

/** Every stable code certgate can put on the wire. */
export type ErrorCode = CertErrorCode | GatewayErrorCode;

/** A failure anywhere on the request path; `detail` is safe for the client, `internal` goes to logs only. */
export interface GatewayError {
  readonly code: ErrorCode;
  readonly detail: string;
  readonly context?: ErrorContext;
  /** Operator-only detail (KV keys, exception text): logged, never sent. */
  readonly internal?: string;
}

/** Builds a GatewayError. */
export function gatewayError(code: ErrorCode, detail: string, context?: ErrorContext, internal?: string): GatewayError {
  const e: { -readonly [K in keyof GatewayError]: GatewayError[K] } = { code, detail };
  if (context !== undefined) e.context = context;
  if (internal !== undefined) e.internal = internal;
  return e;
}

/** Context values attached to an error: JSON-safe scalars only. */
export type ErrorContext = Record<string, string | number | boolean | null | readonly string[]>;

/** A failure of the certificate engine. */
export interface CertError {
  readonly code: CertErrorCode;
  /** One sentence, safe for the client. */
  readonly detail: string;
  /** What was checked against what (notAfter, time used, subject, depth, …). */
  readonly context?: ErrorContext;
}

/** Builds a CertError; the only constructor, so every error has the same shape. */
export function certError(code: CertErrorCode, detail: string, context?: ErrorContext): CertError {
  return context === undefined ? { code, detail } : { code, detail, context };
}
