/**
 * authentication-managed-identity inside workerd: the runner with a scripted outbound fetch standing in for Entra
 * ID's token endpoint (nothing leaves the process). Proves the client-credentials request (URL, form body, the
 * v1-resource → v2-scope rule), the origin's Authorization header and the output variable, the per-isolate cache
 * and its expiry, APIM's ignore-error, LastError and on-error, the 503s for missing secrets and a foreign client-id,
 * the outbound budget, the capped answer, and the element inside send-request.
 */
import { describe, expect, it } from "vitest";
import { NOW } from "../../test/support/chains";
import { at, bundle, problem, response, step, tpl } from "../../test/support/policies";
import { MAX_OUTBOUND_CALLS } from "../limits";
import { err, ok } from "../result";
import { prepareBundle, selectProgram } from "./bundle";
import { AzureTokenCache, azureCredentialFrom, MAX_TOKEN_RESPONSE_BYTES, REFRESH_MARGIN_SECONDS, scopeOf, type ManagedIdentityService } from "./managed-identity";
import type { ManagedIdentityStep } from "./managed-identity-schema";
import type { SendOneWayRequestStep, SendRequestStep } from "./outbound-schema";
import { runProgram } from "./run";
import type { PolicyBundle, Step } from "./schema";

const SECRETS = { AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555", AZURE_CLIENT_ID: "app-client-id", AZURE_CLIENT_SECRET: "s3cr3t&=x" };
const TOKEN_URL = `https://login.microsoftonline.com/${SECRETS.AZURE_TENANT_ID}/oauth2/v2.0/token`;

type Answer = Response | "unreachable";
interface Sent { url: string; method: string; headers: Record<string, string>; body: string | null }

const mi = (resource: string, o: Partial<Omit<ManagedIdentityStep, "k" | "at" | "resource">> = {}): ManagedIdentityStep => ({
  k: "authentication-managed-identity", at: at(), resource: tpl(resource), clientId: o.clientId ?? null, ignoreError: o.ignoreError ?? false, outputVariable: o.outputVariable ?? null,
});
const tokenAnswer = (token: string, expiresIn: number | string = 3599) => Response.json({ token_type: "Bearer", expires_in: expiresIn, access_token: token });

function service(bindings: Record<string, unknown> = SECRETS, cache = new AzureTokenCache()): ManagedIdentityService {
  return { credential: () => azureCredentialFrom(bindings), cache };
}

/** Runs `b` once; outbound answers scripted in call order (the last repeats). */
async function run(b: PolicyBundle, o: { answers?: Answer[]; managedIdentity?: ManagedIdentityService | null } = {}) {
  const prepared = prepareBundle(b);
  if (!prepared.ok) throw new Error(prepared.error.join("\n"));
  const url = new URL("https://gw.test/orders");
  const sent: Sent[] = [];
  const originHeaders: Array<Record<string, string>> = [];
  const logs: Array<{ event: string; fields: Record<string, unknown> }> = [];
  const answers = o.answers ?? [tokenAnswer("tok-1")];
  const mis = o.managedIdentity === undefined ? service() : o.managedIdentity;
  const result = await runProgram(prepared.value, selectProgram(prepared.value, url, "GET"), {
    method: "GET", url, headers: new Headers({ authorization: "Basic client-supplied" }), body: null,
    ipAddress: "192.0.2.1", requestId: "req-mi", timestamp: NOW, region: "", verification: { status: "none" },
  }, {
    denyStatus: 403, trustStore: "default", validation: {}, defaultOrigin: new URL("https://origin.test"), isOwnedHeader: () => false,
  }, {
    validate: async () => ({ kind: "invalid", error: { code: "certificate_missing", detail: "none" } }),
    registered: async () => ok(new Map()),
    namedValue: async () => ok(null),
    identityHeaders: () => ({}),
    async fetchOrigin(call) {
      originHeaders.push(Object.fromEntries(call.headers));
      return ok(new Response("origin"));
    },
    log: (_level, event, fields) => logs.push({ event, fields }),
    async fetchOutbound(u, init) {
      sent.push({ url: u, method: String(init.method), headers: Object.fromEntries(new Headers(init.headers)), body: init.body == null ? null : String(init.body) });
      const a = answers[Math.min(sent.length - 1, answers.length - 1)]!;
      if (a === "unreachable") return err({ code: "origin_unreachable", detail: "down" });
      return ok(a.clone());
    },
    ...(mis ? { managedIdentity: mis } : {}),
  });
  return { result, sent, originHeaders, logs };
}

const lastErrorEcho: Step = step.returnResponse({ status: "418", body: tpl("@(context.LastError.Source + \"/\" + context.LastError.Reason)") });

describe("scopeOf and azureCredentialFrom", () => {
  it("derives the v2 scope from a v1 resource: /.default appended, a trailing slash kept (double slash), an existing /.default kept", () => {
    expect(scopeOf("https://storage.azure.com")).toBe("https://storage.azure.com/.default");
    expect(scopeOf("https://management.azure.com/")).toBe("https://management.azure.com//.default");
    expect(scopeOf("api://7d2a5c1e/.default")).toBe("api://7d2a5c1e/.default");
    expect(scopeOf("7d2a5c1e-0000-4000-8000-000000000001")).toBe("7d2a5c1e-0000-4000-8000-000000000001/.default");
  });

  it("reads EnvironmentCredential's names; names the missing ones; refuses a tenant that would change the URL path and a non-https authority", () => {
    expect(azureCredentialFrom(SECRETS)).toEqual({ ok: true, value: { tenantId: SECRETS.AZURE_TENANT_ID, clientId: "app-client-id", clientSecret: "s3cr3t&=x", authorityHost: "https://login.microsoftonline.com" } });
    expect(azureCredentialFrom({ ...SECRETS, AZURE_AUTHORITY_HOST: "login.microsoftonline.us" })).toMatchObject({ ok: true, value: { authorityHost: "https://login.microsoftonline.us" } });
    const missing = azureCredentialFrom({ AZURE_TENANT_ID: "t" });
    expect(missing.ok ? "" : missing.error).toContain("AZURE_CLIENT_ID, AZURE_CLIENT_SECRET");
    expect(azureCredentialFrom({ ...SECRETS, AZURE_TENANT_ID: "../evil" }).ok).toBe(false);
    expect(azureCredentialFrom({ ...SECRETS, AZURE_AUTHORITY_HOST: "http://login.test" }).ok).toBe(false);
    expect(azureCredentialFrom({ ...SECRETS, AZURE_AUTHORITY_HOST: "https://login.test/path" }).ok).toBe(false);
  });

  it("the cache keeps a token until REFRESH_MARGIN_SECONDS before expiry (half the life of a short one), then drops it", () => {
    const c = new AzureTokenCache();
    c.set("k", "t", 3600, 0);
    expect(c.get("k", (3600 - REFRESH_MARGIN_SECONDS) * 1000 - 1)).toBe("t");
    expect(c.get("k", (3600 - REFRESH_MARGIN_SECONDS) * 1000)).toBeNull();
    c.set("short", "s", 60, 0);
    expect(c.get("short", 29_999)).toBe("s");
    expect(c.get("short", 30_000)).toBeNull();
    c.set("none", "n", 0, 0);
    expect(c.get("none", 0)).toBeNull();
  });
});

describe("authentication-managed-identity", () => {
  it("requests a client-credentials token with scope resource/.default and sends it to the origin as Authorization: Bearer (replacing the client's)", async () => {
    const x = await run(bundle({ inbound: [mi("https://storage.azure.com/")] }));
    expect(response(x).status).toBe(200);
    expect(x.sent).toHaveLength(1);
    expect(x.sent[0]).toMatchObject({ url: TOKEN_URL, method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(Object.fromEntries(new URLSearchParams(x.sent[0]!.body!))).toEqual({
      grant_type: "client_credentials", client_id: "app-client-id", client_secret: "s3cr3t&=x", scope: "https://storage.azure.com//.default",
    });
    expect(x.originHeaders[0]!.authorization).toBe("Bearer tok-1");
    // The trace shows the call (scope and outcome), never the secret or the token.
    const traces = x.result.record.traces.filter((t) => t.source === "authentication-managed-identity");
    expect(traces.map((t) => t.metadata.outcome)).toEqual(["issued"]);
    expect(JSON.stringify(traces)).not.toMatch(/s3cr3t|tok-1/);
  });

  it("output-token-variable-name stores the token as a string and leaves Authorization alone", async () => {
    const x = await run(bundle({
      inbound: [mi("https://vault.azure.net", { outputVariable: "msi-access-token" }), step.setHeader("X-Token", ["@((string)context.Variables[\"msi-access-token\"])"])],
    }));
    expect(x.originHeaders[0]).toMatchObject({ "x-token": "tok-1", authorization: "Basic client-supplied" });
  });

  it("caches per resource: a second request reuses the token; another resource fetches its own; an expired one is fetched again", async () => {
    const cache = new AzureTokenCache();
    const b = bundle({ inbound: [mi("https://storage.azure.com")] });
    const first = await run(b, { managedIdentity: service(SECRETS, cache), answers: [tokenAnswer("tok-A")] });
    const second = await run(b, { managedIdentity: service(SECRETS, cache), answers: [tokenAnswer("tok-B")] });
    expect([first.sent.length, second.sent.length]).toEqual([1, 0]);
    expect(second.originHeaders[0]!.authorization).toBe("Bearer tok-A");
    const other = await run(bundle({ inbound: [mi("https://servicebus.azure.net")] }), { managedIdentity: service(SECRETS, cache), answers: [tokenAnswer("tok-C")] });
    expect([other.sent.length, other.originHeaders[0]!.authorization]).toEqual([1, "Bearer tok-C"]);
    // expires_in 0 (or one already inside the margin) is never kept: every request asks again.
    const fresh = new AzureTokenCache();
    const e1 = await run(b, { managedIdentity: service(SECRETS, fresh), answers: [tokenAnswer("tok-D", 0)] });
    const e2 = await run(b, { managedIdentity: service(SECRETS, fresh), answers: [tokenAnswer("tok-E", "0")] });
    expect([e1.sent.length, e2.sent.length, e2.originHeaders[0]!.authorization]).toEqual([1, 1, "Bearer tok-E"]);
  });

  it("a refused token: LastError Source/Reason for on-error; unhandled → 503 managed_identity_token_unavailable; the secret is not logged", async () => {
    const refused = Response.json({ error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }, { status: 401 });
    const handled = await run(bundle({ inbound: [mi("https://storage.azure.com")], onError: [lastErrorEcho] }), { answers: [refused] });
    expect([response(handled).status, await response(handled).text()]).toEqual([418, "authentication-managed-identity/token_request_failed"]);
    const x = await run(bundle({ inbound: [mi("https://storage.azure.com")] }), { answers: [refused] });
    expect([problem(x).error.code, x.originHeaders.length]).toEqual(["managed_identity_token_unavailable", 0]);
    const line = x.logs.find((l) => l.event === "managed_identity_token_failed")!;
    expect(String(line.fields.internal)).toContain("invalid_client: AADSTS7000215");
    expect(JSON.stringify(x.logs)).not.toContain("s3cr3t");
  });

  it("unreachable, an answer without access_token, and an answer over the byte cap all fail the same way", async () => {
    for (const a of ["unreachable" as const, Response.json({ token_type: "Bearer" }), new Response("x".repeat(MAX_TOKEN_RESPONSE_BYTES + 1))]) {
      const x = await run(bundle({ inbound: [mi("https://storage.azure.com")] }), { answers: [a] });
      expect(problem(x).error.code).toBe("managed_identity_token_unavailable");
    }
  });

  it("ignore-error=\"true\": no token, the pipeline goes on — the origin gets the request without the header, the variable stays unset", async () => {
    const x = await run(bundle({ inbound: [mi("https://storage.azure.com", { ignoreError: true })] }), { answers: ["unreachable"] });
    expect(response(x).status).toBe(200);
    expect(x.originHeaders[0]!.authorization).toBe("Basic client-supplied");
    const v = await run(bundle({
      inbound: [mi("https://storage.azure.com", { ignoreError: true, outputVariable: "t" }), step.setHeader("X-Has", ["@(context.Variables.ContainsKey(\"t\").ToString())"])],
    }), { answers: ["unreachable"] });
    expect(v.originHeaders[0]!["x-has"]).toBe("False");
  });

  it("secrets missing, or a client-id that is not AZURE_CLIENT_ID: 503 managed_identity_not_configured, answered directly (on-error does not run, no call made)", async () => {
    const none = await run(bundle({ inbound: [mi("https://storage.azure.com", { ignoreError: true })], onError: [lastErrorEcho] }), { managedIdentity: service({}) });
    expect([problem(none).error.code, none.sent.length]).toEqual(["managed_identity_not_configured", 0]);
    expect(problem(none).error.internal).toContain("AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET");
    const unbound = await run(bundle({ inbound: [mi("https://storage.azure.com")] }), { managedIdentity: null });
    expect(problem(unbound).error.code).toBe("managed_identity_not_configured");
    const foreign = await run(bundle({ inbound: [mi("https://storage.azure.com", { clientId: "other-identity" })] }));
    expect([problem(foreign).error.code, foreign.sent.length]).toEqual(["managed_identity_not_configured", 0]);
    expect(problem(foreign).error.internal).toContain("client-id=\"other-identity\"");
    const same = await run(bundle({ inbound: [mi("https://storage.azure.com", { clientId: "app-client-id" })] }));
    expect(response(same).status).toBe(200);
  });

  it("a token call is an outbound call: past MAX_OUTBOUND_CALLS it is refused (Reason outbound_budget_exceeded)", async () => {
    // Distinct resources, so none comes from the cache: call MAX_OUTBOUND_CALLS + 1 is over budget.
    const steps = Array.from({ length: MAX_OUTBOUND_CALLS + 1 }, (_, i) => mi(`https://r${i}.example`, { outputVariable: `t${i}` }));
    const x = await run(bundle({ inbound: steps, onError: [lastErrorEcho] }));
    expect(x.sent).toHaveLength(MAX_OUTBOUND_CALLS);
    expect(await response(x).text()).toBe("authentication-managed-identity/outbound_budget_exceeded");
  });
});

describe("authentication-managed-identity inside send-request", () => {
  const send = (ignoreError = false): SendRequestStep => ({
    k: "send-request", at: at(), responseVariable: tpl("blob"), ignoreError,
    request: {
      mode: tpl("new"), timeout: null, url: tpl("https://acct.blob.core.windows.net/c/b.json"), method: tpl("GET"), headers: [], body: null, certificateId: null,
      managedIdentity: { resource: tpl("https://storage.azure.com/"), clientId: null, ignoreError },
    },
  });

  it("authenticates that request (the token call first, then the request with Bearer); the origin request is untouched", async () => {
    const x = await run(bundle({ inbound: [send(), step.setHeader("X-Blob", ["@(((IResponse)context.Variables[\"blob\"]).StatusCode.ToString())"])] }), {
      answers: [tokenAnswer("tok-S"), new Response("{}", { status: 200 })],
    });
    expect(x.sent.map((s) => s.url)).toEqual([TOKEN_URL, "https://acct.blob.core.windows.net/c/b.json"]);
    expect(x.sent[1]!.headers.authorization).toBe("Bearer tok-S");
    expect(x.originHeaders[0]).toMatchObject({ "x-blob": "200", authorization: "Basic client-supplied" });
  });

  it("a token failure is the element's (LastError Source authentication-managed-identity); with its ignore-error the request goes without a token", async () => {
    const failed = await run(bundle({ inbound: [send()], onError: [lastErrorEcho] }), { answers: ["unreachable"] });
    expect(await response(failed).text()).toBe("authentication-managed-identity/token_request_failed");
    const ignored = await run(bundle({ inbound: [send(true)] }), { answers: ["unreachable", new Response("ok")] });
    expect(ignored.sent).toHaveLength(2);
    expect(ignored.sent[1]!.headers.authorization).toBeUndefined();
  });

  it("in send-one-way-request: sent with the token; without one (token refused, or secrets missing) not sent, and the answer is unchanged", async () => {
    const oneWay: SendOneWayRequestStep = {
      k: "send-one-way-request", at: at(),
      request: {
        mode: tpl("new"), timeout: null, url: tpl("https://bus.servicebus.windows.net/q/messages"), method: tpl("POST"), headers: [], body: tpl("{}"), certificateId: null,
        managedIdentity: { resource: tpl("https://servicebus.azure.net"), clientId: null, ignoreError: false },
      },
    };
    const sent = await run(bundle({ inbound: [oneWay] }), { answers: [tokenAnswer("tok-Q"), new Response(null, { status: 201 })] });
    expect(response(sent).status).toBe(200);
    expect(sent.sent.map((s) => [s.url, s.headers.authorization ?? null])).toEqual([[TOKEN_URL, null], ["https://bus.servicebus.windows.net/q/messages", "Bearer tok-Q"]]);
    const refused = await run(bundle({ inbound: [oneWay] }), { answers: ["unreachable"] });
    expect([response(refused).status, refused.sent.length]).toEqual([200, 1]);
    const unconfigured = await run(bundle({ inbound: [oneWay] }), { managedIdentity: service({}) });
    expect([response(unconfigured).status, unconfigured.sent.length]).toEqual([200, 0]);
    expect(unconfigured.logs.map((l) => l.event)).toContain("managed_identity_not_configured");
  });
});
