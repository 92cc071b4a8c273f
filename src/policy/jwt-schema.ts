/**
 * The compiled form of `validate-jwt` (shared by scripts/compile-policies/check-jwt.ts and policy/jwt-step.ts).
 *
 * Contract: plain JSON, part of the PolicyBundle's Step union (schema.ts). Attributes follow the APIM policy
 * reference, "Validate JWT" (https://learn.microsoft.com/azure/api-management/validate-jwt-policy); certgate's
 * extension `require-certificate-binding` is RFC 8705 §3 (certificate-bound access tokens).
 */
import type { Origin, Template } from "./schema";

/** A signing key as written in `<issuer-signing-keys>`: a base64 symmetric key, or an RSA public key (n, e). */
export type JwtKey =
  | { readonly kind: "symmetric"; readonly base64: string; readonly id: string | null }
  | { readonly kind: "rsa"; readonly n: string; readonly e: string; readonly id: string | null };

/** `<claim name match separator><value/>…</claim>`: present, and (with values) all / any of them. */
export interface JwtRequiredClaim {
  readonly name: string;
  readonly match: "all" | "any";
  readonly separator: string | null;
  readonly values: readonly string[];
}

export interface ValidateJwtStep {
  readonly k: "validate-jwt";
  readonly at: Origin;
  /** Exactly one source (APIM): header-name, query-parameter-name or token-value. */
  readonly source:
    | { readonly kind: "header"; readonly name: string }
    | { readonly kind: "query"; readonly name: string }
    | { readonly kind: "value"; readonly value: Template };
  readonly failedStatus: number;
  /** null: the message of the failed check ("JWT not present.", …). */
  readonly failedMessage: string | null;
  readonly requireExpirationTime: boolean;
  /** e.g. "Bearer" (compared case-insensitively, header source only); null: the whole value is the token. */
  readonly requireScheme: string | null;
  readonly requireSignedTokens: boolean;
  readonly clockSkewSeconds: number;
  readonly outputVariable: string | null;
  readonly keys: readonly JwtKey[];
  /** `<openid-config url>`: keys (and the issuer) from OpenID discovery, fetched and cached (policy/openid.ts). */
  readonly openidConfig: string | null;
  /** Literal text or policy expressions (APIM allows both), evaluated per request; empty results are dropped. */
  readonly audiences: readonly Template[];
  readonly issuers: readonly Template[];
  readonly requiredClaims: readonly JwtRequiredClaim[];
  /** RFC 8705 §3.1: `cnf["x5t#S256"]` must equal the validated client certificate's SHA-256 thumbprint (base64url). */
  readonly requireCertificateBinding: boolean;
  /**
   * Compiled from `<validate-azure-ad-token>` (scripts/compile-policies/check-azure-ad-token.ts): LastError Source
   * is that element; the issuers are the tenant's (from its discovery document, v1 and v2 forms); the token's
   * client (`azp`, v2, or `appid`, v1) must be one of `clientApplicationIds` when it is not empty. Absent: validate-jwt.
   */
  readonly azureAd?: AzureAdChecks;
}

/** validate-azure-ad-token's own checks beyond validate-jwt's. */
export interface AzureAdChecks {
  readonly clientApplicationIds: readonly string[];
  /** The authority host's v1 issuer form, `https://sts.windows.net/{tenant}/` (null: only the v2 issuer). */
  readonly v1IssuerHost: string | null;
}
