/**
 * JWT validation for `validate-jwt`: the one file that calls `jose` (https://github.com/panva/jose, WebCrypto,
 * runs in workerd).
 *
 * Contract: no I/O, no clock: `now` comes in. Takes the token text and the step's checks; returns the claims or a
 * tagged failure whose `reason` is APIM's LastError.Reason for validate-jwt and whose `message` is APIM's default
 * failed-validation-error-message (APIM policy reference, "Validate JWT", "Error handling"). Internal detail (jose's
 * exception text) stays in `internal`, for logs.
 *
 * Checks, in APIM's order: present → well-formed → signature (one of the keys; an unsigned `alg: none` token only
 * when require-signed-tokens is false) → exp present (require-expiration-time) → exp / nbf with clock-skew →
 * issuer (any of) → audience (any of) → required claims → certificate binding (RFC 8705 §3.1).
 */
import { base64url, compactVerify, createLocalJWKSet, decodeProtectedHeader, decodeJwt, errors, importJWK, type JWTPayload } from "jose";
import type { OpenIdKeys } from "./openid";
import type { Result } from "../result";
import type { JwtKey, JwtRequiredClaim, ValidateJwtStep } from "./jwt-schema";

/** A compact JWS is three base64url parts; 16 KiB is far above real access tokens (a few hundred bytes to ~4 KiB). */
export const MAX_TOKEN_CHARS = 16 * 1024;
/** Signature checks per token: each key is at most one WebCrypto verify. The compiler caps the keys at this too. */
export const MAX_SIGNING_KEYS = 16;

export type JwtFailureReason =
  | "TokenNotPresent"
  | "TokenSchemeNotValid"
  | "TokenNotValid"
  | "TokenSignatureInvalid"
  | "TokenNotSigned"
  | "TokenExpirationTimeMissing"
  | "TokenExpired"
  | "TokenNotYetValid"
  | "TokenIssuerNotAllowed"
  | "TokenAudienceNotAllowed"
  | "TokenClaimNotFound"
  | "TokenClaimValueNotAllowed"
  | "TokenCertificateBindingMismatch"
  /** validate-azure-ad-token: the token's azp / appid is not among client-application-ids (certgate's Reason name). */
  | "TokenClientApplicationNotAllowed";

export interface JwtFailure {
  readonly reason: JwtFailureReason;
  /** APIM's default message for the reason (client-safe). */
  readonly message: string;
  readonly internal?: string;
}

const MESSAGES: Readonly<Record<JwtFailureReason, string>> = {
  TokenNotPresent: "JWT not present.",
  TokenSchemeNotValid: "JWT scheme not valid.",
  TokenNotValid: "JWT not valid.",
  TokenSignatureInvalid: "JWT signature validation failed.",
  TokenNotSigned: "JWT is not signed.",
  TokenExpirationTimeMissing: "JWT expiration time is missing.",
  TokenExpired: "JWT expired.",
  TokenNotYetValid: "JWT not yet valid.",
  TokenIssuerNotAllowed: "JWT issuer is not allowed.",
  TokenAudienceNotAllowed: "JWT audience is not allowed.",
  TokenClaimNotFound: "JWT claim not found.",
  TokenClaimValueNotAllowed: "JWT claim value is not allowed.",
  TokenCertificateBindingMismatch: "JWT is not bound to the client certificate.",
  TokenClientApplicationNotAllowed: "JWT client application is not allowed.",
};

const fail = (reason: JwtFailureReason, internal?: string): Result<never, JwtFailure> =>
  ({ ok: false, error: internal === undefined ? { reason, message: MESSAGES[reason] } : { reason, message: MESSAGES[reason], internal } });

/** A validate-jwt failure with APIM's message for `reason` (extension-steps.ts). */
export const jwtFailure = fail;

/** The checks of a validate-jwt step, its audiences and issuers evaluated (extension-steps.ts). */
export type JwtChecks = Pick<ValidateJwtStep,
  "requireExpirationTime" | "requireSignedTokens" | "clockSkewSeconds" | "keys" | "requiredClaims" | "requireCertificateBinding"> & {
  readonly audiences: readonly string[];
  readonly issuers: readonly string[];
  /** validate-azure-ad-token's client-application-ids: `azp` (v2) or `appid` (v1) must be one (empty: not checked). */
  readonly clientApplicationIds?: readonly string[];
};

/** The token from an Authorization-style header value: `scheme` (case-insensitive) then the token, or the whole value. */
export function tokenFromHeader(value: string | null, scheme: string | null): Result<string, JwtFailure> {
  if (value === null || value.trim() === "") return fail("TokenNotPresent");
  const v = value.trim();
  if (scheme === null) {
    // APIM strips a leading "Bearer " when no scheme is required.
    const m = /^bearer\s+(\S+)$/i.exec(v);
    return { ok: true, value: m ? m[1]! : v };
  }
  const space = v.indexOf(" ");
  if (space < 0 || v.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return fail("TokenSchemeNotValid");
  const token = v.slice(space + 1).trim();
  return token === "" ? fail("TokenNotPresent") : { ok: true, value: token };
}

/** Imported keys per compiled key and algorithm (the bundle is immutable per isolate, so its key objects are stable). */
const imported = new WeakMap<JwtKey, Map<string, Promise<CryptoKey | Uint8Array | null>>>();

/** The key as `alg` needs it; null when the key cannot serve `alg` (an RSA key for HS256, a malformed key). */
function keyFor(k: JwtKey, alg: string): Promise<CryptoKey | Uint8Array | null> {
  if (HMAC_ALGORITHMS.has(alg) !== (k.kind === "symmetric")) return Promise.resolve(null);
  let byAlg = imported.get(k);
  if (!byAlg) imported.set(k, (byAlg = new Map()));
  let p = byAlg.get(alg);
  if (!p) {
    p = (async () => {
      try {
        if (k.kind === "symmetric") return base64Bytes(k.base64);
        return (await importJWK({ kty: "RSA", n: k.n, e: k.e }, alg)) as CryptoKey;
      } catch {
        return null;
      }
    })();
    byAlg.set(alg, p);
  }
  return p;
}

function base64Bytes(text: string): Uint8Array {
  const bin = atob(text.trim());
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const RSA_ALGORITHMS = new Set(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"]);
const HMAC_ALGORITHMS = new Set(["HS256", "HS384", "HS512"]);
/** EC keys come only from an openid-config JWK Set (APIM's <key> has no EC form). */
const EC_ALGORITHMS = new Set(["ES256", "ES384"]);

/**
 * Validates `token` at `now`. `certificateSha256Hex`: the validated client certificate's SHA-256 (lowercase hex), or
 * null when the request has no validated certificate (a certificate-bound check then fails: fail closed).
 */
export async function validateJwt(token: string, checks: JwtChecks, now: Date, certificateSha256Hex: string | null, openid: OpenIdKeys | null = null): Promise<Result<JWTPayload, JwtFailure>> {
  if (token.length > MAX_TOKEN_CHARS) return fail("TokenNotValid", `token of ${token.length} characters`);
  if (token.split(".").length !== 3) return fail("TokenNotValid", "not a compact JWS (JWE decryption is not supported)");
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (e) {
    return fail("TokenNotValid", String(e));
  }
  const alg = typeof header.alg === "string" ? header.alg : "";
  let payload: JWTPayload;
  if (alg === "none") {
    if (checks.requireSignedTokens) return fail("TokenNotSigned");
    try {
      // RFC 7519 §6.1: an unsecured JWT has an empty signature part. Claims are checked below, against `now`.
      if (!token.endsWith(".")) return fail("TokenNotValid", "alg none with a signature");
      payload = decodeJwt(token);
    } catch (e) {
      return fail("TokenNotValid", String(e));
    }
  } else {
    const fromSet = openid !== null && (RSA_ALGORITHMS.has(alg) || EC_ALGORITHMS.has(alg));
    if (!RSA_ALGORITHMS.has(alg) && !HMAC_ALGORITHMS.has(alg) && !fromSet) return fail("TokenSignatureInvalid", `algorithm ${alg} is not accepted`);
    let verified = await verifyWithKeys(token, alg, typeof header.kid === "string" ? header.kid : null, checks.keys);
    if (!verified.ok && verified.error.reason === "TokenSignatureInvalid" && fromSet) verified = await verifyWithSet(token, alg, openid.jwks);
    if (!verified.ok) return verified;
    payload = verified.value;
  }
  // APIM: with openid-config and no <issuers>, the discovery document's issuer is the one allowed.
  const effective = checks.issuers.length === 0 && openid?.issuer ? { ...checks, issuers: [openid.issuer] } : checks;
  return checkClaims(payload, effective, now, certificateSha256Hex);
}

async function verifyWithKeys(token: string, alg: string, kid: string | null, keys: readonly JwtKey[]): Promise<Result<JWTPayload, JwtFailure>> {
  let last = "no issuer-signing-keys key matches the token's algorithm";
  let tried = 0;
  for (const k of keys) {
    if (tried >= MAX_SIGNING_KEYS) break;
    if (kid !== null && k.id !== null && k.id !== kid) continue;
    const key = await keyFor(k, alg);
    if (key === null) continue;
    tried++;
    try {
      // Only the signature here (jose's compactVerify); time and claims are checked by checkClaims with APIM's semantics.
      const r = await compactVerify(token, key, { algorithms: [alg] });
      return parsePayload(r.payload);
    } catch (e) {
      if (e instanceof errors.JWSSignatureVerificationFailed) last = "signature does not verify";
      else if (e instanceof errors.JOSEError) return fail("TokenNotValid", `${e.code}: ${e.message}`);
      else return fail("TokenNotValid", String(e));
    }
  }
  return fail("TokenSignatureInvalid", last);
}

/** A token against a JWK Set (jose's createLocalJWKSet picks the key by kid / kty / alg). */
async function verifyWithSet(token: string, alg: string, jwks: OpenIdKeys["jwks"]): Promise<Result<JWTPayload, JwtFailure>> {
  try {
    const r = await compactVerify(token, createLocalJWKSet(jwks), { algorithms: [alg] });
    return parsePayload(r.payload);
  } catch (e) {
    if (e instanceof errors.JWSSignatureVerificationFailed || e instanceof errors.JWKSNoMatchingKey || e instanceof errors.JWKSMultipleMatchingKeys) {
      return fail("TokenSignatureInvalid", e.code);
    }
    if (e instanceof errors.JOSEError) return fail("TokenNotValid", `${e.code}: ${e.message}`);
    return fail("TokenNotValid", String(e));
  }
}

function parsePayload(bytes: Uint8Array): Result<JWTPayload, JwtFailure> {
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    return fail("TokenNotValid", "the payload is not JSON");
  }
  if (payload === null || typeof payload !== "object" || Array.isArray(payload)) return fail("TokenNotValid", "the payload is not a JSON object");
  return { ok: true, value: payload as JWTPayload };
}

function checkClaims(p: JWTPayload, checks: JwtChecks, now: Date, certificateSha256Hex: string | null): Result<JWTPayload, JwtFailure> {
  const t = Math.floor(now.getTime() / 1000);
  const skew = checks.clockSkewSeconds;
  if (p.exp === undefined) {
    if (checks.requireExpirationTime) return fail("TokenExpirationTimeMissing");
  } else if (typeof p.exp !== "number" || !Number.isFinite(p.exp)) {
    return fail("TokenNotValid", "exp is not a number");
  } else if (t >= p.exp + skew) {
    return fail("TokenExpired", `exp ${p.exp}, now ${t}, skew ${skew}`);
  }
  if (p.nbf !== undefined) {
    if (typeof p.nbf !== "number" || !Number.isFinite(p.nbf)) return fail("TokenNotValid", "nbf is not a number");
    if (t + skew < p.nbf) return fail("TokenNotYetValid", `nbf ${p.nbf}, now ${t}, skew ${skew}`);
  }
  if (checks.issuers.length > 0 && (typeof p.iss !== "string" || !checks.issuers.includes(p.iss))) return fail("TokenIssuerNotAllowed");
  if (checks.audiences.length > 0) {
    const aud = typeof p.aud === "string" ? [p.aud] : Array.isArray(p.aud) ? p.aud : [];
    if (!aud.some((a) => checks.audiences.includes(a))) return fail("TokenAudienceNotAllowed");
  }
  if (checks.clientApplicationIds && checks.clientApplicationIds.length > 0) {
    // Entra ID access tokens name their client in azp (v2.0) or appid (v1.0).
    const client = typeof p.azp === "string" ? p.azp : typeof p.appid === "string" ? p.appid : null;
    if (client === null || !checks.clientApplicationIds.includes(client)) return fail("TokenClientApplicationNotAllowed", `azp/appid ${JSON.stringify(client)}`);
  }
  for (const claim of checks.requiredClaims) {
    const r = checkClaim(p, claim);
    if (!r.ok) return r;
  }
  if (checks.requireCertificateBinding) {
    const cnf = p.cnf;
    const bound = cnf !== null && typeof cnf === "object" && !Array.isArray(cnf) ? (cnf as Record<string, unknown>)["x5t#S256"] : undefined;
    if (typeof bound !== "string") return fail("TokenCertificateBindingMismatch", "the token has no cnf.x5t#S256");
    if (certificateSha256Hex === null) return fail("TokenCertificateBindingMismatch", "the request has no validated client certificate");
    if (bound !== certificateThumbprintS256(certificateSha256Hex)) return fail("TokenCertificateBindingMismatch", "cnf.x5t#S256 differs from the client certificate's");
  }
  return { ok: true, value: p };
}

function checkClaim(p: JWTPayload, claim: JwtRequiredClaim): Result<true, JwtFailure> {
  const raw = p[claim.name];
  if (raw === undefined || raw === null) return fail("TokenClaimNotFound", claim.name);
  if (claim.values.length === 0) return { ok: true, value: true };
  const values = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => {
    const s = typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : null;
    if (s === null) return [];
    return claim.separator === null ? [s] : s.split(claim.separator);
  });
  const ok = claim.match === "all" ? claim.values.every((v) => values.includes(v)) : claim.values.some((v) => values.includes(v));
  return ok ? { ok: true, value: true } : fail("TokenClaimValueNotAllowed", claim.name);
}

/** RFC 8705 §3.1: base64url (no padding) of the DER's SHA-256, here from its lowercase hex. */
export function certificateThumbprintS256(sha256Hex: string): string {
  const bytes = new Uint8Array(sha256Hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(sha256Hex.slice(2 * i, 2 * i + 2), 16);
  return base64url.encode(bytes);
}

/** The token of a validate-jwt step from its source: header (with require-scheme), query parameter, or token-value's text. */
export function tokenOf(source: ValidateJwtStep["source"], scheme: string | null, headers: Headers, url: URL, value: string | null): Result<string, JwtFailure> {
  switch (source.kind) {
    case "header":
      return tokenFromHeader(headers.get(source.name), scheme);
    case "query": {
      const v = url.searchParams.get(source.name);
      return v === null || v === "" ? fail("TokenNotPresent") : { ok: true, value: v };
    }
    case "value":
      return value === null || value.trim() === "" ? fail("TokenNotPresent") : { ok: true, value: value.trim() };
  }
}
