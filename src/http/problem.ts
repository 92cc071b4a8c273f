/**
 * The one place an error code becomes an HTTP status and an RFC 9457 `application/problem+json` body.
 *
 * Contract: pure. The switch is exhaustive over every code (adding a code without a status does not
 * compile). The body carries `type`, `title`, `status`, `detail`, `instance` (the request path), the stable
 * `code` and the error's context (what was checked against what); never `internal`, never a stack.
 */
import type { ErrorCode, GatewayError } from "../errors";

export interface ProblemOptions {
  /** Status for a rejected or missing certificate (default 403). */
  readonly denyStatus: number;
  /** Prefix of the problem `type` URI; the code is appended. */
  readonly typeBase: string;
}

export const DEFAULT_PROBLEM_OPTIONS: ProblemOptions = { denyStatus: 403, typeBase: "urn:certgate:problem:" };

/** HTTP status for a code. */
export function statusOf(code: ErrorCode, denyStatus: number): number {
  switch (code) {
    // The certificate is rejected or missing: the deployment's deny status.
    case "certificate_missing":
    case "certificate_expired":
    case "certificate_not_yet_valid":
    case "certificate_not_trusted":
    case "certificate_revoked":
    case "revocation_unknown":
    case "signature_invalid":
    case "basic_constraints_violated":
    case "path_length_exceeded":
    case "name_constraints_violated":
    case "policy_violated":
    case "key_usage_invalid":
    case "eku_client_auth_missing":
    case "unsupported_algorithm":
    case "weak_key":
    case "unknown_critical_extension":
    case "path_too_long":
    case "budget_exceeded":
    case "self_signed_not_registered":
    case "certificate_identity_mismatch":
      return denyStatus;
    // A policy's own check refused the request (check-header carries its status; ip-filter is APIM's 403).
    case "policy_check_failed":
    case "caller_ip_not_allowed":
    case "quota_exceeded":
      return 403;
    // validate-jwt's APIM default (failed-validation-httpcode overrides it).
    case "jwt_invalid":
      return 401;
    case "rate_limit_exceeded":
      return 429;
    // The request itself is ill-formed.
    case "certificate_malformed":
    case "certificate_too_large":
    case "bundle_too_many_certificates":
    case "certificate_header_invalid":
    case "certificate_header_untrusted":
    case "certificate_ambiguous":
      return 400;
    case "bundle_too_large":
    case "request_header_too_large":
      return 431;
    // The deployment cannot decide: fail closed.
    case "crl_malformed":
    case "crl_too_large":
    case "configuration_invalid":
    case "trust_store_unavailable":
    case "policy_bundle_invalid":
    case "policy_value_missing":
    case "mtls_certificate_unavailable":
    case "counter_store_unavailable":
    case "jwt_keys_unavailable":
    case "managed_identity_not_configured":
    case "managed_identity_token_unavailable":
      return 503;
    case "origin_unreachable":
    case "send_request_failed":
      return 502;
    case "origin_timeout":
      return 504;
    case "internal_error":
    case "policy_expression_failed":
    case "outbound_budget_exceeded":
      return 500;
  }
}

const TITLES: Partial<Record<number, string>> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** A short human title per code family. */
function titleOf(code: ErrorCode, status: number): string {
  if (code === "policy_bundle_invalid" || code === "policy_value_missing" || code === "policy_expression_failed") return "The gateway policy could not be applied";
  if (code === "mtls_certificate_unavailable") return "The origin's client certificate is unavailable";
  // The two 503s an operator meets most, told apart without detail: a setting to fix, or KV to look at.
  if (code === "configuration_invalid") return "The gateway is misconfigured";
  if (code === "trust_store_unavailable") return "The trust store is unavailable";
  if (code === "jwt_invalid") return "Access token rejected";
  if (code === "rate_limit_exceeded") return "Rate limit exceeded";
  if (code === "quota_exceeded") return "Quota exceeded";
  if (code === "counter_store_unavailable") return "The rate limit store is unavailable";
  if (code === "jwt_keys_unavailable") return "The token signing keys are unavailable";
  if (code === "managed_identity_not_configured") return "The gateway's Azure credential is not configured";
  if (code === "managed_identity_token_unavailable") return "An access token for the backend is unavailable";
  if (code === "send_request_failed") return "A call made by the gateway's policy failed";
  if (code === "outbound_budget_exceeded") return "The gateway policy could not be applied";
  if (status === 503) return "Certificate validation is unavailable";
  if (code === "origin_unreachable" || code === "origin_timeout") return "The origin did not answer";
  if (status === 400 || status === 431) return "Invalid client certificate information";
  if (status >= 500) return TITLES[status] ?? "Error";
  return code === "certificate_missing" ? "Client certificate required" : "Client certificate rejected";
}

/** The RFC 9457 body of an error; `status` overrides the code's (a policy's `failed-validation-httpcode`). */
export function problemBody(error: GatewayError, instance: string, options: ProblemOptions = DEFAULT_PROBLEM_OPTIONS, status = statusOf(error.code, options.denyStatus)): Record<string, unknown> {
  const body: Record<string, unknown> = {
    type: `${options.typeBase}${error.code}`,
    title: titleOf(error.code, status),
    status,
    detail: error.detail,
    instance,
    code: error.code,
  };
  if (error.context && Object.keys(error.context).length > 0) body.context = error.context;
  return body;
}

/** The problem+json response of an error (`status`, when given, overrides the code's). */
export function problemResponse(error: GatewayError, instance: string, options: ProblemOptions = DEFAULT_PROBLEM_OPTIONS, headers?: HeadersInit, status?: number): Response {
  const body = problemBody(error, instance, options, status);
  const h = new Headers(headers);
  h.set("content-type", "application/problem+json");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { status: body.status as number, headers: h });
}
