/**
 * openid-config keys over loopback (Node: a real HTTP server on 127.0.0.1): discovery → jwks_uri → keys, the cache
 * and its refresh, failures cached briefly, byte caps; then tokens verified against the fetched set (RS256, ES256)
 * with the discovery document's issuer.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { validateJwt, type JwtChecks } from "./jwt";
import { OPENID_CACHE_MS, OPENID_FAILURE_CACHE_MS, openIdKeySource } from "./openid";

let server: Server;
let base = "";
const hits: string[] = [];
let jwks: object = { keys: [] };
let rsa: CryptoKey, ec: CryptoKey;

beforeAll(async () => {
  const r = await generateKeyPair("RS256", { extractable: true });
  const e = await generateKeyPair("ES256", { extractable: true });
  rsa = r.privateKey;
  ec = e.privateKey;
  jwks = { keys: [{ ...(await exportJWK(r.publicKey)), kid: "rsa-1", use: "sig" }, { ...(await exportJWK(e.publicKey)), kid: "ec-1" }, { kty: "oct", k: "AAAA", use: "enc" }] };
  server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/.well-known/openid-configuration") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer: "https://idp.test/", jwks_uri: `${base}/keys` }));
    } else if (req.url === "/keys") {
      res.end(JSON.stringify(jwks));
    } else if (req.url === "/big") {
      res.end(JSON.stringify({ issuer: "x".repeat(70_000) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const checks: JwtChecks = {
  requireExpirationTime: true, requireSignedTokens: true, clockSkewSeconds: 0, keys: [], audiences: [], issuers: [], requiredClaims: [], requireCertificateBinding: false,
};
const NOW = new Date();
const exp = Math.floor(NOW.getTime() / 1000) + 600;

describe("openid-config keys", () => {
  it("fetches discovery then jwks_uri once, serves the cache, refreshes after an hour; drops encryption keys", async () => {
    let clock = 1_000_000;
    const source = openIdKeySource((url, init) => fetch(url, init), () => clock);
    hits.length = 0;
    const a = await source(`${base}/.well-known/openid-configuration`);
    expect(a.ok && a.value.issuer).toBe("https://idp.test/");
    expect(a.ok && a.value.jwks.keys.map((k) => k.kid)).toEqual(["rsa-1", "ec-1"]);
    await source(`${base}/.well-known/openid-configuration`);
    expect(hits).toEqual(["/.well-known/openid-configuration", "/keys"]);
    clock += OPENID_CACHE_MS + 1;
    await source(`${base}/.well-known/openid-configuration`);
    expect(hits).toHaveLength(4);
  });

  it("a failure is an Err, cached for 30 s; an oversized document is refused", async () => {
    let clock = 0;
    const source = openIdKeySource((url, init) => fetch(url, init), () => clock);
    hits.length = 0;
    expect(await source(`${base}/missing`)).toMatchObject({ ok: false });
    expect(await source(`${base}/missing`)).toMatchObject({ ok: false });
    expect(hits).toEqual(["/missing"]);
    clock += OPENID_FAILURE_CACHE_MS + 1;
    await source(`${base}/missing`);
    expect(hits).toHaveLength(2);
    const big = await source(`${base}/big`);
    expect(big.ok ? "" : big.error).toContain("65536");
    expect(await source("http://127.0.0.1:9/unreachable")).toMatchObject({ ok: false });
  });

  it("verifies RS256 and ES256 tokens against the fetched set; the discovery issuer is required when <issuers> is empty", async () => {
    const keys = await openIdKeySource((url, init) => fetch(url, init))(`${base}/.well-known/openid-configuration`);
    if (!keys.ok) throw new Error(keys.error);
    const rs = await new SignJWT({ iss: "https://idp.test/", exp }).setProtectedHeader({ alg: "RS256", kid: "rsa-1" }).sign(rsa);
    const es = await new SignJWT({ iss: "https://idp.test/", exp }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(ec);
    const other = await new SignJWT({ iss: "https://other.test/", exp }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(ec);
    expect((await validateJwt(rs, checks, NOW, null, keys.value)).ok).toBe(true);
    expect((await validateJwt(es, checks, NOW, null, keys.value)).ok).toBe(true);
    expect(await validateJwt(other, checks, NOW, null, keys.value)).toMatchObject({ ok: false, error: { reason: "TokenIssuerNotAllowed" } });
    const stranger = (await generateKeyPair("ES256")).privateKey;
    const forged = await new SignJWT({ iss: "https://idp.test/", exp }).setProtectedHeader({ alg: "ES256", kid: "ec-1" }).sign(stranger);
    expect(await validateJwt(forged, checks, NOW, null, keys.value)).toMatchObject({ ok: false, error: { reason: "TokenSignatureInvalid" } });
    // Without openid-config keys an ES256 token has no key at all.
    expect(await validateJwt(es, checks, NOW, null, null)).toMatchObject({ ok: false, error: { reason: "TokenSignatureInvalid" } });
  });
});
