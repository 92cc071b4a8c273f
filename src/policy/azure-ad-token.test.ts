/**
 * validate-azure-ad-token inside workerd, compiled from policy XML (the compiler's real output, not a hand-written
 * step) and run by the runner with a scripted OpenID key source standing in for the tenant's discovery document
 * and JWK Set. Proves: the tenant's discovery URL, v2 and v1 issuers of that tenant and no other, client
 * application ids against azp / appid, backend application ids and audiences against aud, required claims,
 * APIM's 401 and failed-validation-* overrides, LastError Source, the default Authorization header, and 503 when
 * the tenant's keys are unavailable.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, type JWK } from "jose";
import { NOW } from "../../test/support/chains";
import { compileSingleDocument } from "../../scripts/compile-policies/compile";
import { err, ok } from "../result";
import { prepareBundle, selectProgram } from "./bundle";
import type { OpenIdKeys } from "./openid";
import { runProgram, type RunResult } from "./run";
import type { PolicyBundle } from "./schema";

const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TID = "f8cdef31-a31e-4b4a-93e4-5f571e91255a";
const CLIENT = "11111111-aaaa-4bbb-8ccc-000000000001";
const BACKEND = "22222222-aaaa-4bbb-8ccc-000000000002";
let privateKey: CryptoKey;
let jwk: JWK;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  privateKey = pair.privateKey as CryptoKey;
  jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", use: "sig", alg: "RS256" };
});

const exp = () => Math.floor(NOW.getTime() / 1000) + 600;
const v2 = (claims: Record<string, unknown> = {}) => sign({ iss: `https://login.microsoftonline.com/${TID}/v2.0`, aud: BACKEND, azp: CLIENT, exp: exp(), ver: "2.0", ...claims });
const v1 = (claims: Record<string, unknown> = {}) => sign({ iss: `https://sts.windows.net/${TID}/`, aud: BACKEND, appid: CLIENT, exp: exp(), ver: "1.0", ...claims });
const sign = (claims: Record<string, unknown>) => new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid: "k1" }).sign(privateKey);

function compile(xml: string, onError = ""): PolicyBundle {
  const r = compileSingleDocument(`<policies><inbound>${xml}</inbound><backend><forward-request /></backend><outbound /><on-error>${onError}</on-error></policies>`, "policy.xml");
  if ("errors" in r) throw new Error(r.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("\n"));
  return r.bundle;
}

async function run(b: PolicyBundle, headers: Record<string, string>, keys: "ok" | "down" = "ok", path = "/orders") {
  const prepared = prepareBundle(JSON.parse(JSON.stringify(b)));
  if (!prepared.ok) throw new Error(prepared.error.join("\n"));
  const url = new URL(`https://gw.test${path}`);
  const asked: string[] = [];
  const origin: Array<Record<string, string>> = [];
  const result: RunResult = await runProgram(prepared.value, selectProgram(prepared.value, url, "GET"), {
    method: "GET", url, headers: new Headers(headers), body: null, ipAddress: "192.0.2.1", requestId: "req-aad", timestamp: NOW, region: "", verification: { status: "none" },
  }, { denyStatus: 403, trustStore: "default", validation: {}, defaultOrigin: new URL("https://origin.test"), isOwnedHeader: () => false }, {
    validate: async () => ({ kind: "invalid", error: { code: "certificate_missing", detail: "none" } }),
    registered: async () => ok(new Map()),
    namedValue: async () => ok(null),
    identityHeaders: () => ({}),
    async fetchOrigin(call) {
      origin.push(Object.fromEntries(call.headers));
      return ok(new Response("origin"));
    },
    log: () => {},
    openIdKeys: async (u) => {
      asked.push(u);
      const doc: OpenIdKeys = { issuer: `https://login.microsoftonline.com/${TID}/v2.0`, jwks: { keys: [jwk] } };
      return keys === "ok" ? ok(doc) : err("tenant unreachable");
    },
  });
  return { result, asked, origin };
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

const POLICY = `<validate-azure-ad-token tenant-id="${TID}">
  <client-application-ids><application-id>${CLIENT}</application-id></client-application-ids>
  <backend-application-ids><application-id>${BACKEND}</application-id></backend-application-ids>
</validate-azure-ad-token>`;

describe("validate-azure-ad-token", () => {
  it("compiles to validate-jwt on the tenant's discovery document; a v2 and a v1 token of the tenant reach the origin", async () => {
    const b = compile(POLICY);
    for (const t of [await v2(), await v1()]) {
      const x = await run(b, bearer(t));
      expect(x.result.kind).toBe("response");
      expect(x.origin).toHaveLength(1);
      expect(x.asked).toEqual([`https://login.microsoftonline.com/${TID}/v2.0/.well-known/openid-configuration`]);
    }
  });

  it("refuses another tenant's token (issuer), another client (azp / appid), another audience; 401 with APIM's messages", async () => {
    const b = compile(POLICY);
    const cases: Array<[string, string]> = [
      [await v2({ iss: `https://login.microsoftonline.com/${OTHER_TID}/v2.0` }), "TokenIssuerNotAllowed"],
      [await v1({ iss: `https://sts.windows.net/${OTHER_TID}/` }), "TokenIssuerNotAllowed"],
      [await v2({ azp: "99999999-aaaa-4bbb-8ccc-000000000009" }), "TokenClientApplicationNotAllowed"],
      [await v2({ azp: undefined }), "TokenClientApplicationNotAllowed"],
      [await v1({ aud: "api://someone-else" }), "TokenAudienceNotAllowed"],
      [await v2({ exp: Math.floor(NOW.getTime() / 1000) - 5 }), "TokenExpired"],
    ];
    for (const [t, reason] of cases) {
      const x = await run(b, bearer(t));
      expect(x.result.kind).toBe("problem");
      if (x.result.kind !== "problem") continue;
      expect([x.result.status, x.result.error.code, x.result.error.context?.reason]).toEqual([401, "jwt_invalid", reason]);
      expect(x.origin).toHaveLength(0);
    }
    const none = await run(b, {});
    expect(none.result.kind === "problem" && none.result.error.detail).toBe("JWT not present.");
  });

  it("audiences and required-claims; failed-validation-httpcode / -error-message; LastError Source is the element", async () => {
    const b = compile(`<validate-azure-ad-token tenant-id="https://contoso.onmicrosoft.com" header-name="X-Token" failed-validation-httpcode="403" failed-validation-error-message="Denied">
      <audiences><audience>api://orders</audience></audiences>
      <required-claims><claim name="roles" match="any"><value>Orders.Read</value></claim></required-claims>
    </validate-azure-ad-token>`);
    const ok1 = await run(b, { "x-token": await v2({ aud: "api://orders", roles: ["Orders.Read"] }) });
    expect(ok1.result.kind).toBe("response");
    expect(ok1.asked[0]).toBe("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration");
    const noRole = await run(b, { "x-token": await v2({ aud: "api://orders", roles: ["Orders.Write"] }) });
    expect(noRole.result.kind === "problem" && [noRole.result.status, noRole.result.error.detail]).toEqual([403, "Denied"]);
    const echo = compile(POLICY, `<return-response><set-status code="418" /><set-body>@(context.LastError.Source + "/" + context.LastError.Reason)</set-body></return-response>`);
    const x = await run(echo, bearer(await v2({ azp: "someone" })));
    expect(x.result.kind === "response" && [x.result.response.status, await x.result.response.text()]).toEqual([418, "validate-azure-ad-token/TokenClientApplicationNotAllowed"]);
  });

  it("the tenant's keys unavailable: 503 jwt_keys_unavailable, the origin is not called", async () => {
    const x = await run(compile(POLICY), bearer(await v2()), "down");
    // No status override: the code's, 503 (http/problem.ts).
    expect(x.result.kind === "problem" && [x.result.error.code, x.result.status]).toEqual(["jwt_keys_unavailable", null]);
    expect(x.origin).toHaveLength(0);
  });
});
