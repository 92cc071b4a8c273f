/**
 * validate-jwt's core (jwt.ts) inside workerd: tokens signed with jose, each check and its APIM reason.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import type { JwtKey } from "./jwt-schema";
import { certificateThumbprintS256, tokenFromHeader, validateJwt, type JwtChecks } from "./jwt";

const NOW = new Date("2026-06-01T12:00:00Z");
const T = NOW.getTime() / 1000;
const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnl0ZXM="; // base64 of 32+ bytes
const secretBytes = Uint8Array.from(atob(SECRET), (c) => c.charCodeAt(0));
let rsa: { privateKey: CryptoKey; key: JwtKey };
let otherRsa: { privateKey: CryptoKey; key: JwtKey };

async function rsaPair(id: string | null) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = await exportJWK(publicKey);
  return { privateKey, key: { kind: "rsa", n: jwk.n!, e: jwk.e!, id } as JwtKey };
}

beforeAll(async () => {
  rsa = await rsaPair(null);
  otherRsa = await rsaPair(null);
});

const checks = (o: Partial<JwtChecks> = {}): JwtChecks => ({
  requireExpirationTime: true, requireSignedTokens: true, clockSkewSeconds: 0,
  keys: [{ kind: "symmetric", base64: SECRET, id: null }], audiences: [], issuers: [], requiredClaims: [], requireCertificateBinding: false, ...o,
});

const hs = (p: JWTPayload, alg = "HS256") => new SignJWT(p).setProtectedHeader({ alg }).sign(secretBytes);
const reason = async (token: string, c: JwtChecks, sha: string | null = null) => {
  const r = await validateJwt(token, c, NOW, sha);
  return r.ok ? "ok" : r.error.reason;
};

describe("validate-jwt core", () => {
  it("accepts an HS256 token signed with the base64 key and returns its claims", async () => {
    const r = await validateJwt(await hs({ sub: "alice", exp: T + 60 }), checks(), NOW, null);
    expect(r.ok && r.value.sub).toBe("alice");
  });

  it("RS256 with n/e keys: the right key verifies, another key's signature is TokenSignatureInvalid", async () => {
    const token = await new SignJWT({ exp: T + 60 }).setProtectedHeader({ alg: "RS256" }).sign(rsa.privateKey);
    expect(await reason(token, checks({ keys: [otherRsa.key, rsa.key] }))).toBe("ok");
    expect(await reason(token, checks({ keys: [otherRsa.key] }))).toBe("TokenSignatureInvalid");
    // An HS256 key never verifies an RS256 token (no algorithm confusion).
    expect(await reason(token, checks())).toBe("TokenSignatureInvalid");
  });

  it("a tampered payload fails the signature", async () => {
    const [h, , s] = (await hs({ sub: "alice", exp: T + 60 })).split(".");
    const forged = `${h}.${btoa(JSON.stringify({ sub: "admin", exp: T + 60 })).replace(/=+$/, "")}.${s}`;
    expect(await reason(forged, checks())).toBe("TokenSignatureInvalid");
  });

  it("unsigned tokens: TokenNotSigned unless require-signed-tokens is false", async () => {
    const token = new UnsecuredJWT({ exp: T + 60 }).encode();
    expect(await reason(token, checks())).toBe("TokenNotSigned");
    expect(await reason(token, checks({ requireSignedTokens: false }))).toBe("ok");
  });

  it("garbage and over-long tokens are TokenNotValid", async () => {
    expect(await reason("abc", checks())).toBe("TokenNotValid");
    expect(await reason("a.b.c", checks())).toBe("TokenNotValid");
    expect(await reason(`${"a".repeat(20_000)}.b.c`, checks())).toBe("TokenNotValid");
  });

  it("exp: required by default, expired at exp, clock-skew extends it; nbf likewise", async () => {
    expect(await reason(await hs({}), checks())).toBe("TokenExpirationTimeMissing");
    expect(await reason(await hs({}), checks({ requireExpirationTime: false }))).toBe("ok");
    expect(await reason(await hs({ exp: T }), checks())).toBe("TokenExpired");
    expect(await reason(await hs({ exp: T - 10 }), checks({ clockSkewSeconds: 11 }))).toBe("ok");
    expect(await reason(await hs({ exp: T - 10 }), checks({ clockSkewSeconds: 10 }))).toBe("TokenExpired");
    expect(await reason(await hs({ exp: T + 60, nbf: T + 5 }), checks())).toBe("TokenNotYetValid");
    expect(await reason(await hs({ exp: T + 60, nbf: T + 5 }), checks({ clockSkewSeconds: 5 }))).toBe("ok");
  });

  it("issuers and audiences: any of them", async () => {
    const c = checks({ issuers: ["https://a", "https://b"], audiences: ["api://x", "api://y"] });
    expect(await reason(await hs({ exp: T + 60, iss: "https://b", aud: ["other", "api://y"] }), c)).toBe("ok");
    expect(await reason(await hs({ exp: T + 60, iss: "https://c", aud: "api://x" }), c)).toBe("TokenIssuerNotAllowed");
    expect(await reason(await hs({ exp: T + 60, iss: "https://a", aud: "api://z" }), c)).toBe("TokenAudienceNotAllowed");
    expect(await reason(await hs({ exp: T + 60, iss: "https://a" }), c)).toBe("TokenAudienceNotAllowed");
  });

  it("required claims: presence, match all / any, separator", async () => {
    const c = (match: "all" | "any", values: string[], separator: string | null = null) =>
      checks({ requiredClaims: [{ name: "scp", match, separator, values }] });
    const token = await hs({ exp: T + 60, scp: "read write", roles: ["a"] });
    expect(await reason(token, checks({ requiredClaims: [{ name: "tid", match: "all", separator: null, values: [] }] }))).toBe("TokenClaimNotFound");
    expect(await reason(token, c("all", ["read", "write"], " "))).toBe("ok");
    expect(await reason(token, c("all", ["read", "admin"], " "))).toBe("TokenClaimValueNotAllowed");
    expect(await reason(token, c("any", ["read", "admin"], " "))).toBe("ok");
    expect(await reason(token, c("any", ["read"]))).toBe("TokenClaimValueNotAllowed");
    expect(await reason(token, checks({ requiredClaims: [{ name: "roles", match: "any", separator: null, values: ["a"] }] }))).toBe("ok");
  });

  it("RFC 8705 certificate binding: cnf.x5t#S256 must equal the validated certificate's SHA-256 (base64url)", async () => {
    const sha = "a".repeat(64);
    const bound = await hs({ exp: T + 60, cnf: { "x5t#S256": certificateThumbprintS256(sha) } });
    const c = checks({ requireCertificateBinding: true });
    expect(await reason(bound, c, sha)).toBe("ok");
    expect(await reason(bound, c, "b".repeat(64))).toBe("TokenCertificateBindingMismatch");
    expect(await reason(bound, c, null)).toBe("TokenCertificateBindingMismatch");
    expect(await reason(await hs({ exp: T + 60 }), c, sha)).toBe("TokenCertificateBindingMismatch");
    // RFC 8705 §3.1 example encoding: 32 bytes → 43 base64url characters, no padding.
    expect(certificateThumbprintS256("00".repeat(32))).toBe("A".repeat(43));
  });

  it("token from a header: scheme required, or a bare token / Bearer token", () => {
    expect(tokenFromHeader(null, "Bearer")).toMatchObject({ ok: false, error: { reason: "TokenNotPresent", message: "JWT not present." } });
    expect(tokenFromHeader("Basic abc", "Bearer")).toMatchObject({ ok: false, error: { reason: "TokenSchemeNotValid" } });
    expect(tokenFromHeader("bearer abc", "Bearer")).toEqual({ ok: true, value: "abc" });
    expect(tokenFromHeader("Bearer abc", null)).toEqual({ ok: true, value: "abc" });
    expect(tokenFromHeader("abc", null)).toEqual({ ok: true, value: "abc" });
  });
});
