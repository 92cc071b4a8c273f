/**
 * validate-jwt through the whole Worker inside workerd (hand-written bundles, test/support/policies.ts): token
 * sources, APIM's 401 and failed-validation-httpcode / -error-message, on-error with LastError, the output variable,
 * and RFC 8705 certificate-bound tokens against the request's validated client certificate.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { SignJWT } from "jose";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../../test/support/gateway";
import { at, bundle, step, tpl } from "../../test/support/policies";
import { certificateThumbprintS256 } from "./jwt";
import type { ValidateJwtStep } from "./jwt-schema";

const SECRET = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYnl0ZXM=";
const key = Uint8Array.from(atob(SECRET), (c) => c.charCodeAt(0));
let r: BuiltCertificate, i: BuiltCertificate, alice: BuiltCertificate, bob: BuiltCertificate;

beforeAll(async () => {
  r = await root("JWT Root");
  i = await ca("JWT CA", r);
  alice = await leaf("Alice JWT", i, "p-256");
  bob = await leaf("Bob JWT", i, "p-256");
  await publish(env.TRUST, uniqueVersion("jwt"), { default: { anchors: [r], intermediates: [i] } });
});

function jwtStep(o: Partial<ValidateJwtStep> = {}): ValidateJwtStep {
  return {
    k: "validate-jwt", at: at(), source: { kind: "header", name: "Authorization" }, failedStatus: 401, failedMessage: null,
    requireExpirationTime: true, requireScheme: "Bearer", requireSignedTokens: true, clockSkewSeconds: 0, outputVariable: null,
    keys: [{ kind: "symmetric", base64: SECRET, id: null }], openidConfig: null, audiences: [tpl("api://certgate")], issuers: [tpl("https://issuer.test")],
    requiredClaims: [], requireCertificateBinding: false, ...o,
  };
}

const token = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: "https://issuer.test", aud: "api://certgate", exp: Math.floor(Date.now() / 1000) + 600, ...claims }).setProtectedHeader({ alg: "HS256" }).sign(key);

const request = (c: BuiltCertificate, extra: Record<string, string> = {}) => ({ headers: viaTerminator({ "client-cert": byteSequence(c), ...extra }) });

async function sha256Hex(c: BuiltCertificate): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", c.der));
  return [...d].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe("validate-jwt through the Worker", () => {
  it("no token → 401 problem+json jwt_invalid \"JWT not present.\"; a valid one reaches the origin with its Authorization", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep()] }));
    const res = await s.request("/", request(alice));
    expect(res.status).toBe(401);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toMatchObject({ status: 401, code: "jwt_invalid", detail: "JWT not present." });
    const t = await token();
    const ok = await s.request("/", request(alice, { authorization: `Bearer ${t}` }));
    expect(ok.status).toBe(200);
    expect(s.origin.calls).toHaveLength(1);
    expect(s.origin.calls[0]!.headers.authorization).toBe(`Bearer ${t}`);
  });

  it("failed-validation-httpcode and -error-message replace APIM's defaults; wrong audience and issuer are refused", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ failedStatus: 403, failedMessage: "Token rejected" })] }));
    for (const claims of [{ aud: "api://other" }, { iss: "https://evil.test" }, { exp: Math.floor(Date.now() / 1000) - 5 }]) {
      const res = await s.request("/", request(alice, { authorization: `Bearer ${await token(claims)}` }));
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ code: "jwt_invalid", detail: "Token rejected" });
    }
    expect(s.origin.calls).toHaveLength(0);
  });

  it("audiences and issuers may be policy expressions (APIM's own example: the request's host as the audience)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [jwtStep({ audiences: [tpl("@(\"api://\" + context.Request.OriginalUrl.Host)")], issuers: [tpl("@(context.Request.Headers.GetValueOrDefault(\"X-Unused\", \"\"))"), tpl("https://issuer.test")] })],
    }));
    const ok = await s.request("/", request(alice, { authorization: `Bearer ${await token({ aud: "api://gateway.test" })}` }));
    expect(ok.status).toBe(200);
    const wrong = await s.request("/", request(alice, { authorization: `Bearer ${await token({ aud: "api://certgate" })}` }));
    expect([wrong.status, ((await wrong.json()) as { code: string }).code]).toEqual([401, "jwt_invalid"]);
  });

  it("audiences / issuers that all evaluate to empty refuse every token (never 'any audience' or 'any issuer')", async () => {
    const fromHeader = (name: string) => tpl(`@(context.Request.Headers.GetValueOrDefault("${name}", ""))`);
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ audiences: [fromHeader("X-Aud")] })] }));
    const noAud = await s.request("/", request(alice, { authorization: `Bearer ${await token({ aud: "api://anything" })}` }));
    expect([noAud.status, ((await noAud.json()) as { detail?: string }).detail]).toEqual([401, "JWT audience is not allowed."]);
    const t = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ issuers: [fromHeader("X-Iss")] })] }));
    const noIss = await t.request("/", request(alice, { authorization: `Bearer ${await token({ iss: "https://evil.test" })}` }));
    expect([noIss.status, ((await noIss.json()) as { detail?: string }).detail]).toEqual([401, "JWT issuer is not allowed."]);
    expect(s.origin.calls.length + t.origin.calls.length).toBe(0);
  });

  it("on-error sees LastError Source validate-jwt and APIM's Reason", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [jwtStep()],
      onError: [step.returnResponse({ status: "401", body: tpl("@(context.LastError.Source + \"/\" + context.LastError.Reason)") })],
    }));
    const res = await s.request("/", request(alice, { authorization: "Basic abc" }));
    expect([res.status, await res.text()]).toEqual([401, "validate-jwt/TokenSchemeNotValid"]);
  });

  it("query-parameter-name and token-value sources; output-token-variable-name holds the token as a Jwt", async () => {
    const q = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ source: { kind: "query", name: "access_token" }, requireScheme: null })] }));
    expect((await q.request(`/?access_token=${await token()}`, request(alice))).status).toBe(200);
    expect((await q.request("/", request(alice))).status).toBe(401);
    const v = scenario({}, recordingOrigin(), bundle({
      inbound: [
        jwtStep({ source: { kind: "value", value: tpl("@(context.Request.Headers.GetValueOrDefault(\"X-Token\", \"\"))") }, requireScheme: null, outputVariable: "jwt" }),
        step.setHeader("X-Validated-Length", ["@(((Jwt)context.Variables[\"jwt\"]).ToString().Length.ToString())"]),
        step.setHeader("X-Validated-Issuer", ["@(((Jwt)context.Variables[\"jwt\"]).Issuer)"]),
      ],
    }));
    const t = await token();
    expect((await v.request("/", request(alice, { "x-token": t }))).status).toBe(200);
    expect(v.origin.calls[0]!.headers["x-validated-length"]).toBe(String(t.length));
    expect(v.origin.calls[0]!.headers["x-validated-issuer"]).toBe("https://issuer.test");
  });

  it("RFC 8705: a token bound to the client certificate passes; the same token from another certificate is refused", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ requireCertificateBinding: true })] }));
    const bound = await token({ cnf: { "x5t#S256": certificateThumbprintS256(await sha256Hex(alice)) } });
    expect((await s.request("/", request(alice, { authorization: `Bearer ${bound}` }))).status).toBe(200);
    const stolen = await s.request("/", request(bob, { authorization: `Bearer ${bound}` }));
    expect(stolen.status).toBe(401);
    expect(await stolen.json()).toMatchObject({ code: "jwt_invalid", context: { reason: "TokenCertificateBindingMismatch" } });
    const unbound = await s.request("/", request(alice, { authorization: `Bearer ${await token()}` }));
    expect(unbound.status).toBe(401);
    expect(s.origin.calls).toHaveLength(1);
  });
});

describe("validate-jwt openid-config through the Worker", () => {
  it("the identity provider unreachable: 503 jwt_keys_unavailable, the origin is not called (fail closed)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [jwtStep({ keys: [], openidConfig: "http://127.0.0.1:9/.well-known/openid-configuration" })] }));
    const res = await s.request("/", request(alice, { authorization: `Bearer ${await token()}` }));
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ code: "jwt_keys_unavailable" });
    expect(s.origin.calls).toHaveLength(0);
  });
});
