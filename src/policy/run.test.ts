/**
 * The policy runner on its own, as the explain CLI drives it: in-memory trust material, a recording origin,
 * services as plain functions. Each step and attribute; the Worker around it is test/integration/policies.test.ts.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, cert, crl, DAY, leaf, material, NOW, root } from "../../test/support/chains";
import { bundle, header, operation, parts, problem, response, step, tpl } from "../../test/support/policies";
import type { Identity } from "./schema";
import { describeCertificate } from "../cert/model";
import type { Verification } from "../env";
import { DEFAULT_IDENTITY_FIELDS, identityHeaders } from "../forward/identity";

const IDENTITY_SPEC = { prefix: "X-Client-Cert-", fields: new Set(DEFAULT_IDENTITY_FIELDS) };
import { parseCertificate } from "../cert/parse";
import type { TrustMaterial } from "../pki/trust-material";
import type { RegisteredCertificate } from "../pki/trust-store";
import { CertificateVerifier } from "../pki/verifier";
import type { ValidationOptions } from "../pki/validate";
import { err, ok } from "../result";
import { prepareBundle, selectProgram } from "./bundle";
import { EXPRESSION_STEP_BUDGET, MAX_TRACE_LINES, runProgram, type RunSettings, type ValidationOutcome } from "./run";
import type { PolicyBundle, Program, Step } from "./schema";

let r: BuiltCertificate, i: BuiltCertificate, valid: BuiltCertificate, expired: BuiltCertificate, early: BuiltCertificate;
let revoked: BuiltCertificate, otherRoot: BuiltCertificate, partnerCa: BuiltCertificate, partner: BuiltCertificate, selfSigned: BuiltCertificate;
let stores: Record<string, TrustMaterial>;
let registered: Map<string, RegisteredCertificate>;

beforeAll(async () => {
  r = await root("Run Root");
  i = await ca("Run Issuing CA", r);
  valid = await leaf("Valid Client", i, "p-256", { subjectAltName: { names: [{ dns: "client.example.com" }] } },
    { subject: "CN=Valid Client, O=Contoso\\, Inc., C=US", serialNumber: "00 8A 1B" });
  expired = await leaf("Expired Client", i, "p-256", {}, { notBefore: new Date(NOW.getTime() - 30 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
  early = await leaf("Early Client", i, "p-256", {}, { notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 30 * DAY) });
  revoked = await leaf("Revoked Client", i);
  otherRoot = await root("Partner Root");
  partnerCa = await ca("Partner CA", otherRoot);
  partner = await leaf("Partner Client", partnerCa, "p-256");
  selfSigned = await cert({ subject: "CN=Self Signed Client", extensions: { keyUsage: { usages: ["digitalSignature"] }, extKeyUsage: { oids: ["clientAuth"] } } });
  const revocations = await crl({ issuer: i, entries: [{ serialNumber: revoked.serialNumber, revocationDate: new Date(NOW.getTime() - DAY) }] });
  stores = {
    default: await material({ anchors: [r], intermediates: [i], crls: [revocations.der], version: "run-default" }),
    partners: await material({ anchors: [otherRoot], intermediates: [partnerCa], version: "run-partners" }),
  };
  const reg = async (id: string, c: BuiltCertificate): Promise<[string, RegisteredCertificate]> => {
    const p = parseCertificate(c.der);
    if (!p.ok) throw new Error("bad");
    return [id, { id, cert: p.value, model: await describeCertificate(p.value) }];
  };
  registered = new Map([await reg("issuing-ca", i), await reg("valid-client", valid)]);
});

async function modelOf(c: BuiltCertificate) {
  const p = parseCertificate(c.der);
  if (!p.ok) throw new Error("test certificate does not parse");
  return describeCertificate(p.value);
}

const verifier = new CertificateVerifier();
const DEPLOYMENT: ValidationOptions = { revocation: "soft", requireClientAuthEku: true, allowSha1: false, minRsaBits: 2048, allowPartialChain: false };

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  certificateId: string | null;
  timeoutMs?: number;
  followRedirects?: boolean;
}

interface Options {
  path?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  cert?: BuiltCertificate;
  chain?: BuiltCertificate[];
  origin?: (call: Call) => Response | "unreachable" | "no-binding";
  values?: Record<string, string>;
  settings?: Partial<RunSettings>;
  /** The client's address (context.Request.IpAddress); default 192.0.2.1. */
  ip?: string;
}

/** Runs `b` for one request; returns the outcome, the origin calls, the log lines and the validations asked for. */
async function run(b: PolicyBundle, o: Options = {}) {
  const prepared = prepareBundle(b);
  if (!prepared.ok) throw new Error(prepared.error.join("\n"));
  const url = new URL(`https://gw.test${o.path ?? "/"}`);
  const method = o.method ?? (o.body !== undefined ? "POST" : "GET");
  const calls: Call[] = [];
  const logs: Array<{ level: string; event: string; fields: Record<string, unknown> }> = [];
  const validations: Array<{ store: string; options: ValidationOptions }> = [];
  let verification: Verification = { status: "none" };
  if (o.cert) {
    const presented = { source: "rfc9440", leaf: o.cert.der, chain: (o.chain ?? [i]).map((c) => c.der) };
    const v = await verifier.verify(stores.default!, presented.leaf, presented.chain, NOW, DEPLOYMENT);
    const model = v.leaf ? await describeCertificate(v.leaf) : null;
    verification = v.result.ok
      ? { status: "valid", path: v.result.value, model: model!, presented }
      : { status: "invalid", error: v.result.error, leaf: v.leaf, model, presented };
  }
  const settings: RunSettings = {
    denyStatus: 403,
    trustStore: "default",
    validation: DEPLOYMENT,
    defaultOrigin: new URL("https://origin.test/base"),
    isOwnedHeader: (name) => name === "client-cert" || name.startsWith("x-client-cert-") || name === "x-certgate-terminator-secret",
    ...o.settings,
  };
  const result = await runProgram(prepared.value, selectProgram(prepared.value, url, method), {
    method,
    url,
    headers: new Headers(o.headers ?? {}),
    body: o.body === undefined ? null : new Response(o.body).body,
    ipAddress: o.ip ?? "192.0.2.1",
    requestId: "req-test",
    timestamp: NOW,
    region: "",
    verification,
  }, settings, {
    async validate(store, options): Promise<ValidationOutcome> {
      validations.push({ store, options });
      const m = stores[store];
      if (!m) return { kind: "unavailable", error: { code: "trust_store_unavailable", detail: "no store" } };
      if (!o.cert) return { kind: "invalid", error: { code: "certificate_missing", detail: "none" } };
      const v = await verifier.verify(m, o.cert.der, (o.chain ?? [i]).map((c) => c.der), NOW, options);
      return v.result.ok ? { kind: "valid", path: v.result.value } : { kind: "invalid", error: v.result.error };
    },
    async registered() {
      return ok(registered);
    },
    async namedValue(name) {
      return ok(o.values?.[name] ?? null);
    },
    identityHeaders: (path, model) => identityHeaders(path, model, IDENTITY_SPEC),
    async fetchOrigin(call, certificateId) {
      const body = call.body === null ? null : typeof call.body === "string" ? call.body : await new Response(call.body).text();
      const c: Call = { url: call.url.toString(), method: call.method, headers: Object.fromEntries(call.headers), body, certificateId, timeoutMs: call.timeoutMs, followRedirects: call.followRedirects };
      calls.push(c);
      const answer = o.origin?.(c) ?? Response.json({ ok: true }, { headers: { "x-origin": "yes" } });
      if (answer === "unreachable") return err({ code: "origin_unreachable", detail: "The origin could not be reached." });
      if (answer === "no-binding") return err({ code: "mtls_certificate_unavailable", detail: "no binding" });
      return ok(answer);
    },
    log(level, event, fields) {
      logs.push({ level, event, fields });
    },
  });
  return { result, calls, logs, validations };
}


const one = (p: Partial<Program>) => bundle(p);

describe("the pipeline", () => {
  it("with no steps forwards to the origin with the verified identity", async () => {
    const x = await run(bundle(), { path: "/cars?x=1", cert: valid });
    expect(response(x).status).toBe(200);
    expect(x.calls).toHaveLength(1);
    expect(x.calls[0]!.url).toBe("https://origin.test/base/cars?x=1");
    expect(x.calls[0]!.headers["x-client-cert-subject"]).toBe("CN=Valid Client,O=Contoso\\, Inc.,C=US");
    expect(x.calls[0]!.certificateId).toBeNull();
    expect(x.result.record.operation).toBe("*");
  });

  it("return-response without children answers 200 with an empty body; nothing else runs", async () => {
    const x = await run(one({
      inbound: [step.returnResponse(), step.setHeader("x-never", ["1"])],
      outbound: [step.setHeader("x-outbound", ["1"])],
    }));
    const res = response(x);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("");
    expect(res.headers.get("x-outbound")).toBeNull();
    expect(x.calls).toHaveLength(0);
    expect(x.result.record.steps.map((s) => s.step)).toEqual(["return-response"]);
  });

  it("return-response with status, reason, headers and body; an earlier set-status is its default", async () => {
    const x = await run(one({
      inbound: [step.returnResponse({ status: "418", reason: "Teapot", headers: [header("Content-Type", ["text/plain"]), header("X-A", ["1", "2"])], body: tpl("short and stout") })],
    }));
    const res = response(x);
    expect([res.status, res.statusText, res.headers.get("x-a"), await res.text()]).toEqual([418, "Teapot", "1,2", "short and stout"]);
    const y = await run(one({ inbound: [step.setStatus("202", "Accepted"), step.returnResponse()] }));
    expect(response(y).status).toBe(202);
  });

  it("set-header on the request: override, skip, append, delete; values joined with ','", async () => {
    const x = await run(one({
      inbound: [
        step.setHeader("X-Override", ["a", "b"]),
        step.setHeader("X-Keep", ["new"], "skip"),
        step.setHeader("X-Fresh", ["new"], "skip"),
        step.setHeader("X-List", ["c"], "append"),
        step.setHeader("X-Gone", [], "delete"),
        step.setHeader("X-Empty", []),
      ],
    }), { headers: { "x-override": "old", "x-keep": "old", "x-list": "a", "x-gone": "1" } });
    const h = x.calls[0]!.headers;
    expect(h["x-override"]).toBe("a,b");
    expect(h["x-keep"]).toBe("old");
    expect(h["x-fresh"]).toBe("new");
    expect(h["x-list"]).toBe("a, c");
    expect(h["x-gone"]).toBeUndefined();
    expect(h["x-empty"]).toBe("");
  });

  it("lets the operator's policy override the identity headers, after the gateway set them, and says so; other owned headers stay out of reach", async () => {
    const settings = { isIdentityHeader: (n: string) => n === "client-cert" || n === "client-cert-chain" || n.startsWith("x-client-cert-") };
    const steps = one({
      inbound: [
        step.setHeader("X-Client-Cert-Subject", ["@(context.Request.Certificate?.Subject ?? \"CN=anonymous\")"]),
        step.setHeader("Client-Cert", [], "delete"),
        step.setHeader("X-Client-Cert-Verified", ["NONE"], "skip"),
        step.setHeader("X-Certgate-Terminator-Secret", ["guess"]),
      ],
    });
    const x = await run(steps, { cert: valid, settings });
    const h = x.calls[0]!.headers;
    expect([h["x-client-cert-subject"], h["client-cert"], h["x-client-cert-verified"], h["x-certgate-terminator-secret"]])
      .toEqual(['CN=Valid Client, O="Contoso, Inc.", C=US', undefined, "SUCCESS", undefined]);
    expect(x.result.record.traces.map((t) => t.message)).toEqual([
      "set-header X-Client-Cert-Subject (override) overrides the gateway's identity header",
      "set-header Client-Cert (delete) overrides the gateway's identity header",
      "set-header X-Client-Cert-Verified (skip) overrides the gateway's identity header",
    ]);
    expect(x.logs.filter((l) => l.event === "policy_identity_header_override")).toHaveLength(3);
    expect(x.logs.filter((l) => l.event === "policy_header_reserved")).toHaveLength(1);
    // Without a certificate there is no identity: the policy's values are what the origin gets.
    const anonymous = await run(steps, { settings });
    expect([anonymous.calls[0]!.headers["x-client-cert-subject"], anonymous.calls[0]!.headers["x-client-cert-verified"]]).toEqual(["CN=anonymous", "NONE"]);
  });

  it("never lets a policy set or delete a header the gateway owns upstream (a runner without isIdentityHeader)", async () => {
    const x = await run(one({
      inbound: [
        step.setHeader("X-Client-Cert-Verified", ["SUCCESS"]),
        step.setHeader("Client-Cert", [":AAAA:"]),
        step.setHeader("X-Client-Cert-Subject", [], "delete"),
      ],
    }), { cert: valid });
    const h = x.calls[0]!.headers;
    expect(h["client-cert"]).toBe(`:${btoa(String.fromCharCode(...valid.der))}:`);
    expect(h["x-client-cert-subject"]).toBe("CN=Valid Client,O=Contoso\\, Inc.,C=US");
    expect(x.result.record.steps[0]!.note).toMatch(/skipped, the gateway owns this header/);
    expect(x.logs.filter((l) => l.event === "policy_header_reserved")).toHaveLength(3);
    const anonymous = await run(one({ inbound: [step.setHeader("X-Client-Cert-Verified", ["SUCCESS"])] }));
    expect(anonymous.calls[0]!.headers["x-client-cert-verified"]).toBeUndefined();
  });

  it("outbound edits the origin's response: status, headers, body", async () => {
    const x = await run(one({
      outbound: [step.setStatus("299", "Edited"), step.setHeader("X-Origin", [], "delete"), step.setHeader("X-Added", ["yes"]), step.setBody("replaced")],
    }));
    const res = response(x);
    expect([res.status, res.statusText, res.headers.get("x-origin"), res.headers.get("x-added"), await res.text()]).toEqual([299, "Edited", null, "yes", "replaced"]);
  });

  it("set-body in inbound replaces the request body sent upstream", async () => {
    const x = await run(one({ inbound: [step.setBody("new body")] }), { body: "old body" });
    expect(x.calls[0]!.body).toBe("new body");
    const y = await run(bundle(), { body: "streamed" });
    expect(y.calls[0]!.body).toBe("streamed");
  });

  it("context.Request.Body: read with preserveContent the origin gets the same body; read without it, none", async () => {
    const tenant = step.setHeader("X-Tenant", ['@(context.Request.Body.As<JObject>(preserveContent: true)["tenant"].ToString())']);
    const kept = await run(one({ inbound: [tenant] }), { body: '{"tenant": "t-1"}', headers: { "content-length": "17" } });
    expect([kept.calls[0]!.headers["x-tenant"], kept.calls[0]!.body, kept.calls[0]!.headers["content-length"]]).toEqual(["t-1", '{"tenant": "t-1"}', "17"]);
    const taken = await run(one({ inbound: [step.setVariable("b", "@(context.Request.Body.As<string>())")] }), { body: "gone", headers: { "content-length": "4" } });
    expect([taken.calls[0]!.body, taken.calls[0]!.headers["content-length"]]).toEqual([null, undefined]);
    // APIM: a consumed body is given back with set-body.
    const echoed = await run(one({ inbound: [step.setBody('@(context.Request.Body.As<string>().ToUpper())')] }), { body: "again" });
    expect(echoed.calls[0]!.body).toBe("AGAIN");
    const none = await run(one({ inbound: [step.setHeader("X-Has-Body", ["@((context.Request.Body != null).ToString())"])] }));
    expect(none.calls[0]!.headers["x-has-body"]).toBe("False");
  });

  it("a body over MAX_BODY_BYTES is still forwarded whole; reading it runs on-error (LimitExceeded)", async () => {
    const big = "x".repeat(1024 * 1024 + 10);
    const untouched = await run(one({ inbound: [step.setHeader("X-Seen", ["@(context.Request.Method)"])], outbound: [step.setHeader("X-Len", ["@(context.Response.Body.As<string>(preserveContent: true).Length.ToString())"])] }), { body: big });
    expect(untouched.calls[0]!.body!.length).toBe(big.length);
    const read = await run(one({ inbound: [step.setVariable("b", "@(context.Request.Body.As<string>(preserveContent: true))")] }), { body: big });
    expect(problem(read).error.code).toBe("policy_expression_failed");
    expect(read.result.record.lastError?.reason).toBe("LimitExceeded");
  });

  it("context.Response.Body in outbound: preserved, the client gets the origin's body; consumed, set-body gives one", async () => {
    const origin = () => new Response('{"items": [1, 2, 3]}', { headers: { "content-type": "application/json", "content-length": "20" } });
    const count = step.setHeader("X-Count", ['@(context.Response.Body.As<JObject>(preserveContent: true)["items"].Count().ToString())']);
    const kept = response(await run(one({ outbound: [count] }), { origin }));
    expect([kept.headers.get("x-count"), await kept.text()]).toEqual(["3", '{"items": [1, 2, 3]}']);
    const rewrap = step.setBody('@(new JObject(new JProperty("data", context.Response.Body.As<JObject>())).ToString(Newtonsoft.Json.Formatting.None))');
    const rewrapped = response(await run(one({ outbound: [rewrap] }), { origin }));
    expect([await rewrapped.text(), rewrapped.headers.get("content-length")]).toEqual(['{"data":{"items":[1,2,3]}}', null]);
  });

  it("set-backend-service changes the origin; an API's path is removed before joining", async () => {
    const cars = operation("cars", "get", "GET", "/{id}", { origin: "https://cars.internal/v2" });
    const x = await run(bundle({}, [cars]), { path: "/cars/7?full=1" });
    expect(x.calls[0]!.url).toBe("https://cars.internal/v2/7?full=1");
    const moved = operation("cars", "get", "GET", "/{id}", { backend: [step.setBackend("https://elsewhere.internal/api")] });
    const y = await run(bundle({}, [moved]), { path: "/CARS/7/" });
    expect(y.calls[0]!.url).toBe("https://elsewhere.internal/api/7/");
    const bad = await run(one({ inbound: [step.setBackend("not a url")] }));
    expect(problem(bad).error.code).toBe("policy_expression_failed");
    expect(bad.result.record.lastError).toMatchObject({ source: "set-backend-service", reason: "invalid_url" });
  });

  it("context.Request.Url is the backend URL without the credentials a backend URL may carry", async () => {
    const x = await run(one({
      inbound: [step.setBackend("https://svc:s3cret@cars.internal/v2"), step.setHeader("X-Url", ["@(context.Request.Url.ToString())"])],
    }), { path: "/7" });
    expect(x.calls[0]!.headers["x-url"]).toBe("https://cars.internal/v2/7");
    const api = operation("cars", "get", "GET", "/{id}", { origin: "https://svc:s3cret@cars.internal/v2", inbound: [step.setHeader("X-Service", ["@(context.Api.ServiceUrl.ToString())"])] });
    const y = await run(bundle({}, [api]), { path: "/cars/7" });
    expect(y.calls[0]!.headers["x-service"]).toBe("https://cars.internal/v2");
  });

  it("authentication-certificate sends the origin request through that mTLS binding", async () => {
    const x = await run(one({ backend: [step.authenticationCertificate("backend-cert")] }));
    expect(x.calls[0]!.certificateId).toBe("backend-cert");
    const missing = await run(one({ backend: [step.authenticationCertificate("nope")], onError: [step.returnResponse({ status: "200" })] }), { origin: () => "no-binding" });
    // A missing binding is the deployment's failure: answered directly, on-error does not run.
    expect(problem(missing).error.code).toBe("mtls_certificate_unavailable");
  });

  it("an unreachable origin runs on-error with LastError from forward-request", async () => {
    const x = await run(one({ onError: [step.returnResponse({ status: "503", body: tpl("try later") })] }), { origin: () => "unreachable" });
    expect(response(x).status).toBe(503);
    expect(x.result.record.lastError).toMatchObject({ source: "forward-request", reason: "origin_unreachable" });
    const y = await run(bundle(), { origin: () => "unreachable" });
    expect(problem(y).error.code).toBe("origin_unreachable");
  });

  it("trace lines are collected and logged, at most MAX_TRACE_LINES", async () => {
    const x = await run(one({ inbound: [step.trace("audit", "hello", { who: "me" })], outbound: [step.trace("audit", "bye", {}, "verbose")] }));
    expect(x.result.record.traces).toEqual([
      { source: "audit", severity: "information", message: "hello", metadata: { who: "me" }, section: "inbound", at: expect.stringMatching(/^test\.xml:\d+:5$/) },
      expect.objectContaining({ message: "bye", section: "outbound", severity: "verbose" }),
    ]);
    expect(x.logs.filter((l) => l.event === "policy_trace")).toHaveLength(2);
    const many = await run(one({ inbound: Array.from({ length: MAX_TRACE_LINES + 5 }, () => step.trace("loop", "again")) }));
    expect(many.result.record.traces).toHaveLength(MAX_TRACE_LINES);
    // In on-error too (APIM's error-handling page allows trace there).
    const failed = await run(one({ onError: [step.trace("errors", "origin down")] }), { origin: () => "unreachable" });
    expect(failed.result.record.traces).toEqual([expect.objectContaining({ message: "origin down", section: "on-error" })]);
  });

  it("resolves runtime named values; a missing one runs on-error, then 503 policy_value_missing", async () => {
    const b = bundle({ inbound: [step.setHeader("Authorization", [parts("Bearer ", { value: "token" })])] }, [], ["token"]);
    const x = await run(b, { values: { token: "s3cret" } });
    expect(x.calls[0]!.headers.authorization).toBe("Bearer s3cret");
    const missing = await run(b, {});
    expect(problem(missing).error.code).toBe("policy_value_missing");
    expect(missing.result.record.lastError).toMatchObject({ source: "named-value", reason: "named_value_missing" });
    // A name the compiler did not list is never looked up.
    const unlisted = await run(bundle({ inbound: [step.setHeader("X", [parts({ value: "TERMINATOR_SECRET" })])] }), { values: { TERMINATOR_SECRET: "leak" } });
    expect(problem(unlisted).error.code).toBe("policy_value_missing");
  });
});

describe("on-error", () => {
  const failing = step.validate();

  it("gets LastError; without a response of its own the error is answered as problem+json", async () => {
    const x = await run(one({ inbound: [failing], onError: [step.setHeader("X-Error", ["seen"])] }));
    const p = problem(x);
    expect(p.error.code).toBe("certificate_missing");
    expect(p.status).toBe(403);
    expect(p.headers?.get("x-error")).toBe("seen");
    expect(x.result.record.lastError).toEqual({
      source: "validate-client-certificate", reason: "certificate_missing", message: "A client certificate is required.",
      scope: "operation", section: "inbound", path: "validate-client-certificate[1]", policyId: "operation:test",
    });
  });

  it("answers with on-error's response when it sets a status or body, or returns one", async () => {
    const x = await run(one({ inbound: [failing], onError: [step.setStatus("401", "Unauthorized"), step.setBody("who are you?")] }));
    const res = response(x);
    expect([res.status, await res.text()]).toEqual([401, "who are you?"]);
    const y = await run(one({ inbound: [failing], onError: [step.setBody("body only")] }));
    expect(response(y).status).toBe(403);
    const z = await run(one({ inbound: [failing], onError: [step.returnResponse({ status: "400" }), step.setBody("never")] }));
    expect([response(z).status, await response(z).text()]).toEqual([400, ""]);
  });

  it("a failure inside on-error is answered directly", async () => {
    const x = await run(one({ inbound: [failing], onError: [step.setBackend("::bad::")] }));
    expect(problem(x).error.code).toBe("policy_expression_failed");
  });

  it("records the path of a step inside choose", async () => {
    const x = await run(one({ inbound: [step.choose([["@(true)", [step.trace("t", "x"), failing]]])] }));
    expect(x.result.record.lastError?.path).toBe("choose[1]/when[1]/validate-client-certificate[1]");
  });
});

describe("validate-client-certificate", () => {
  it("passes a valid certificate, reusing the request's validation when the options are the deployment's", async () => {
    const x = await run(one({ inbound: [step.validate()] }), { cert: valid });
    expect(response(x).status).toBe(200);
    expect(x.validations).toHaveLength(0);
    expect(x.result.record.steps[0]).toMatchObject({ step: "validate-client-certificate", note: "passed", section: "inbound" });
  });

  it("checks each attribute with APIM's meaning", async () => {
    const cases: Array<[BuiltCertificate, Parameters<typeof step.validate>[0], string | null]> = [
      [expired, {}, "certificate_expired"],
      [expired, { validateNotAfter: false }, null],
      [early, {}, "certificate_not_yet_valid"],
      [early, { validateNotBefore: false }, null],
      [partner, {}, "certificate_not_trusted"],
      [partner, { validateTrust: false }, null],
      [selfSigned, { validateTrust: false }, null],
      [selfSigned, {}, "self_signed_not_registered"],
      [expired, { validateTrust: false }, "certificate_expired"],
      [revoked, {}, "certificate_revoked"],
      [revoked, { validateRevocation: false }, null],
      [revoked, { validateTrust: false }, "certificate_revoked"],
      [revoked, { validateTrust: false, validateRevocation: false }, null],
      [partner, { trustStore: "partners" }, null],
      [valid, { trustStore: "partners" }, "certificate_not_trusted"],
    ];
    for (const [c, opts, expected] of cases) {
      const x = await run(one({ inbound: [step.validate(opts)] }), { cert: c, chain: c === partner || c === selfSigned ? [] : [i] });
      const got = x.result.kind === "response" ? null : x.result.error.code;
      expect(got, `${c.subject} ${JSON.stringify(opts)}`).toBe(expected);
    }
  });

  it("fails with failed-validation-httpcode and failed-validation-error-message; ignore-error continues", async () => {
    const x = await run(one({ inbound: [step.validate({ failedStatus: 401, failedMessage: "Present your badge." })] }), { cert: expired });
    const p = problem(x);
    expect([p.status, p.error.code, p.error.detail]).toEqual([401, "certificate_expired", "Present your badge."]);
    expect(p.error.context?.notAfter).toBeDefined();
    const y = await run(one({ inbound: [step.validate({ ignoreError: true })] }), { cert: expired });
    expect(response(y).status).toBe(200);
    expect(y.result.record.steps[0]!.note).toBe("failed, ignored: certificate_expired");
    // An invalid certificate sends no identity upstream.
    expect(y.calls[0]!.headers["x-client-cert-subject"]).toBeUndefined();
  });

  it("a trust store that cannot be read fails the request directly (503), not through on-error", async () => {
    const x = await run(one({ inbound: [step.validate({ trustStore: "missing" })], onError: [step.returnResponse({ status: "200" })] }), { cert: valid });
    expect(problem(x).error.code).toBe("trust_store_unavailable");
    expect(x.result.record.lastError).toBeNull();
  });

  it("a step that validates against its own store sends that identity upstream", async () => {
    const x = await run(one({ inbound: [step.validate({ trustStore: "partners" })] }), { cert: partner, chain: [] });
    expect(x.calls[0]!.headers["x-client-cert-subject"]).toBe("CN=Partner Client");
  });

  it("identities: claims ANDed, identities ORed, names in any rendering", async () => {
    const model = await modelOf(valid);
    const issuerModel = await modelOf(i);
    const cases: Array<[string, NonNullable<Parameters<typeof step.validate>[0]>["identities"], boolean]> = [
      ["thumbprint", [{ thumbprint: model.thumbprint.toLowerCase() }], true],
      ["thumbprint with colons", [{ thumbprint: model.thumbprint.match(/../g)!.join(":") }], true],
      ["serial without leading zero", [{ serialNumber: "8a1b" }], true],
      ["serial", [{ serialNumber: "008A1B" }], true],
      ["wrong serial", [{ serialNumber: "8A1C" }], false],
      ["common name", [{ commonName: "Valid Client" }], true],
      ["common name is exact", [{ commonName: "valid client" }], false],
      ["subject .NET", [{ subject: 'CN=Valid Client, O="Contoso, Inc.", C=US' }], true],
      ["subject RFC 4514", [{ subject: "CN=Valid Client,O=Contoso\\, Inc.,C=US" }], true],
      ["subject OpenSSL", [{ subject: "/C=US/O=Contoso, Inc./CN=Valid Client" }], true],
      ["subject case and spaces", [{ subject: "cn=valid  client , o=\"CONTOSO, INC.\", c=us" }], true],
      ["other subject", [{ subject: "CN=Valid Client, O=Fabrikam, C=US" }], false],
      ["dns name", [{ dnsName: "CLIENT.example.com" }], true],
      ["issuer subject", [{ issuerSubject: "CN=Run Issuing CA" }], true],
      ["issuer thumbprint", [{ issuerThumbprint: issuerModel.thumbprint }], true],
      ["issuer certificate id", [{ issuerCertificateId: "issuing-ca" }], true],
      ["wrong issuer certificate id", [{ issuerCertificateId: "valid-client" }], false],
      ["unknown issuer certificate id", [{ issuerCertificateId: "nope" }], false],
      ["AND: one claim wrong", [{ thumbprint: model.thumbprint, commonName: "Someone Else" }], false],
      ["AND: all right", [{ thumbprint: model.thumbprint, issuerSubject: "CN=Run Issuing CA", dnsName: "client.example.com" }], true],
      ["OR: second identity", [{ commonName: "Someone Else" }, { subject: "/C=US/O=Contoso, Inc./CN=Valid Client" }], true],
      ["OR: none", [{ commonName: "A" }, { commonName: "B" }], false],
    ];
    for (const [name, identities, pass] of cases) {
      const x = await run(one({ inbound: [step.validate({ identities })] }), { cert: valid });
      expect(x.result.kind === "response" ? "pass" : x.result.error.code, name).toBe(pass ? "pass" : "certificate_identity_mismatch");
    }
  });
});

describe("expressions", () => {
  it("set-variable keeps the value's type; later expressions read it", async () => {
    const x = await run(one({
      inbound: [
        step.setVariable("n", "@(40 + 2)"),
        step.setVariable("s", "text"),
        step.setHeader("X-N", ["@(((int)context.Variables[\"n\"] + 1).ToString())"]),
        step.setHeader("X-S", ["@(context.Variables.GetValueOrDefault<string>(\"s\", \"none\"))"]),
      ],
    }));
    expect(x.calls[0]!.headers["x-n"]).toBe("43");
    expect(x.calls[0]!.headers["x-s"]).toBe("text");
  });

  it("context.Timestamp and DateTime.UtcNow are the request's injected time", async () => {
    const x = await run(one({ inbound: [step.setHeader("X-Time", ["@(context.Timestamp.Year + \"/\" + (DateTime.UtcNow == context.Timestamp))"])] }));
    expect(x.calls[0]!.headers["x-time"]).toBe(`${NOW.getUTCFullYear()}/True`);
  });

  it("a header value with CR/LF or an invalid status is a runtime error, not a split header", async () => {
    const x = await run(one({ inbound: [step.setHeader("X-Inject", ["@(\"a\\r\\nX-Evil: 1\")"])] }));
    expect(problem(x).error.code).toBe("policy_expression_failed");
    expect(x.result.record.lastError).toMatchObject({ source: "set-header", reason: "invalid_header" });
    const y = await run(one({ inbound: [step.returnResponse({ status: "@((99).ToString())" })] }));
    expect(y.result.record.lastError).toMatchObject({ source: "return-response", reason: "invalid_status" });
  });

  it("choose takes the first true when, else otherwise", async () => {
    const b = one({
      inbound: [step.choose([
        ["@(context.Request.Method == \"POST\")", [step.returnResponse({ status: "201" })]],
        ["@(context.Request.Headers.ContainsKey(\"X-Go\"))", [step.returnResponse({ status: "202" })]],
      ], [step.returnResponse({ status: "203" })])],
    });
    expect(response(await run(b, { method: "POST", headers: { "x-go": "1" } })).status).toBe(201);
    expect(response(await run(b, { headers: { "x-go": "1" } })).status).toBe(202);
    const other = await run(b);
    expect(response(other).status).toBe(203);
    expect(other.result.record.steps[0]!.note).toBe("otherwise");
  });

  it("forwards certificate details with ?. and ??", async () => {
    const b = one({
      inbound: [
        step.setHeader("X-Thumb", ["@(context.Request.Certificate?.Thumbprint ?? \"none\")"]),
        step.setHeader("X-Name", ["@(context.Request.Certificate?.GetNameInfo(X509NameType.DnsName, false) ?? \"\")"]),
      ],
    });
    const x = await run(b, { cert: valid });
    expect(x.calls[0]!.headers["x-thumb"]).toMatch(/^[0-9A-F]{40}$/);
    expect(x.calls[0]!.headers["x-name"]).toBe("client.example.com");
    const anonymous = await run(b);
    expect(anonymous.calls[0]!.headers["x-thumb"]).toBe("none");
  });

  it("Verify() and VerifyNoRevocation() are computed before evaluation", async () => {
    const b = one({
      inbound: [step.setHeader("X-Verify", ["@(context.Request.Certificate.Verify().ToString())", "@(context.Request.Certificate.VerifyNoRevocation().ToString())"])],
      needs: ["verify", "verifyNoRevocation"],
    });
    expect((await run(b, { cert: valid })).calls[0]!.headers["x-verify"]).toBe("True,True");
    expect((await run(b, { cert: revoked })).calls[0]!.headers["x-verify"]).toBe("False,True");
    expect((await run(b, { cert: partner, chain: [] })).calls[0]!.headers["x-verify"]).toBe("False,False");
  });

  it("matches registered certificates with Any(…)", async () => {
    const b = one({
      inbound: [step.choose([[
        "@(context.Deployment.Certificates.Any(c => c.Value.Thumbprint == context.Request.Certificate?.Thumbprint))",
        [step.setHeader("X-Registered", ["yes"])],
      ]], [step.returnResponse({ status: "403" })])],
    });
    expect((await run(b, { cert: valid })).calls[0]!.headers["x-registered"]).toBe("yes");
    expect(response(await run(b, { cert: revoked })).status).toBe(403);
  });

  it("a runtime error runs on-error with LastError; unhandled it is 500 policy_expression_failed, position in the log only", async () => {
    const b = one({ inbound: [step.setHeader("X-Subject", ["@(context.Request.Certificate.Subject)"])] });
    const x = await run(b);
    const p = problem(x);
    expect(p.error.code).toBe("policy_expression_failed");
    expect(p.error.context).toEqual({ requestId: "req-test" });
    expect(JSON.stringify(p.error)).not.toContain("test.xml");
    expect(x.result.record.lastError).toMatchObject({ source: "expression", reason: "NullReferenceException", section: "inbound", path: "set-header[1]" });
    const line = x.logs.find((l) => l.event === "policy_expression_failed")!;
    expect(line.fields.at).toMatch(/^test\.xml:\d+:\d+$/);
    const handled = await run(one({
      inbound: b.operations["*"]!.inbound,
      onError: [step.returnResponse({ status: "400", body: tpl("@(context.LastError.Source + \": \" + context.LastError.Reason)") })],
    }));
    expect([response(handled).status, await response(handled).text()]).toEqual([400, "expression: NullReferenceException"]);
  });

  it("builds a problem+json body with JObject in on-error", async () => {
    const x = await run(one({
      inbound: [step.validate()],
      onError: [
        step.setHeader("Content-Type", ["application/problem+json"]),
        step.setBody("@(new JObject(new JProperty(\"title\", \"Denied\"), new JProperty(\"reason\", context.LastError.Reason)).ToString())"),
      ],
    }));
    const res = response(x);
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({ title: "Denied", reason: "certificate_missing" });
  });

  it("shares one step budget across the expressions of a request", async () => {
    // About 51,000 steps each: one fits in the budget, two do not.
    const medium = "@(\"aaaaaaaaaa\".Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Count(c => c == 'a'))";
    const once = await run(one({ inbound: [step.setVariable("a", medium)] }));
    expect(response(once).status).toBe(200);
    expect(once.result.record.expressionSteps).toBeGreaterThan(EXPRESSION_STEP_BUDGET / 2);
    const twice = await run(one({ inbound: [step.setVariable("a", medium)], outbound: [step.setVariable("b", medium)] }));
    expect(problem(twice).error.code).toBe("policy_expression_failed");
    expect(twice.result.record.lastError).toMatchObject({ reason: "step_limit", section: "outbound", path: "set-variable[1]" });
  });

  it("running out is Reason step_limit, and on-error still has a budget to answer", async () => {
    const heavy = "@(\"aaaaaaaaaa\".Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Count(c => c == 'a'))";
    const x = await run(one({ inbound: [step.setVariable("x", heavy)] }));
    expect(problem(x).error.code).toBe("policy_expression_failed");
    expect(x.result.record.lastError?.reason).toBe("step_limit");
    expect(x.result.record.expressionSteps).toBeGreaterThanOrEqual(EXPRESSION_STEP_BUDGET);
    const handled = await run(one({ inbound: [step.setVariable("x", heavy)], onError: [step.returnResponse({ status: "503", body: tpl("@(context.LastError.Reason)") })] }));
    expect([response(handled).status, await response(handled).text()]).toEqual([503, "step_limit"]);
  });
});

describe("request-shaping policies", () => {
  it("set-query-parameter edits the origin's query as set-header edits headers; each value its own pair", async () => {
    const x = await run(one({
      inbound: [
        step.setQueryParameter("a", ["1", "2"]),
        step.setQueryParameter("keep", ["new"], "skip"),
        step.setQueryParameter("add", ["z"], "append"),
        step.setQueryParameter("drop", [], "delete"),
        step.setQueryParameter("client", ["@(context.Request.Headers.GetValueOrDefault(\"X-Client\", \"none\"))"]),
      ],
    }), { path: "/r?keep=old&drop=1&a=0", headers: { "x-client": "c 1" } });
    expect(x.calls[0]!.url).toBe("https://origin.test/base/r?keep=old&a=1&a=2&add=z&client=c+1");
  });

  it("set-method changes the origin request's method; a GET sends no body", async () => {
    const x = await run(one({ inbound: [step.setMethod("PATCH")] }), { body: "b" });
    expect([x.calls[0]!.method, x.calls[0]!.body]).toEqual(["PATCH", "b"]);
    const y = await run(one({ inbound: [step.setMethod("GET")] }), { body: "dropped", headers: { "content-length": "7" } });
    expect([y.calls[0]!.method, y.calls[0]!.body, y.calls[0]!.headers["content-length"]]).toEqual(["GET", null, undefined]);
    const bad = await run(one({ inbound: [step.setMethod("@(\"BAD METHOD\")")] }));
    expect(problem(bad).error.code).toBe("policy_expression_failed");
  });

  it("check-header: missing or not allowed runs on-error with APIM's reasons, then answers failed-check-httpcode", async () => {
    const check = step.checkHeader("X-Api-Key", "401", "Present your key.", "true", ["abc", "def"]);
    const ok = await run(one({ inbound: [check] }), { headers: { "x-api-key": "DEF" } });
    expect(ok.calls).toHaveLength(1);
    const missing = await run(one({ inbound: [check] }));
    expect([problem(missing).status, problem(missing).error.code, problem(missing).error.detail]).toEqual([401, "policy_check_failed", "Present your key."]);
    expect(missing.result.record.lastError).toMatchObject({ source: "check-header", reason: "HeaderNotFound", message: "Header X-Api-Key was not found in the request. Access denied." });
    const wrong = await run(one({ inbound: [step.checkHeader("X-Api-Key", "403", "no", "false", ["abc"])] }), { headers: { "x-api-key": "ABC" } });
    expect(wrong.result.record.lastError).toMatchObject({ reason: "HeaderValueNotAllowed", message: "Header X-Api-Key value of ABC is not allowed. Access denied." });
    expect(wrong.calls).toHaveLength(0);
    // on-error sees it and may answer instead
    const handled = await run(one({ inbound: [check], onError: [step.returnResponse({ status: "418", body: tpl("@(context.LastError.Reason)") })] }));
    expect([response(handled).status, await response(handled).text()]).toEqual([418, "HeaderNotFound"]);
  });

  it("ip-filter allows or forbids addresses and ranges (IPv4, IPv6, IPv4-mapped); an unreadable address is refused", async () => {
    const allow = step.ipFilter("allow", ["198.51.100.7", "2001:db8::1"], [{ from: "192.0.2.0", to: "192.0.2.255" }]);
    const forbid = step.ipFilter("forbid", [], [{ from: "192.0.2.0", to: "192.0.2.127" }]);
    const at = async (s: Step, ip: string) => {
      const prepared = await run(one({ inbound: [s] }), { settings: {}, ip });
      return prepared.result.kind === "problem" ? `${prepared.result.status} ${prepared.result.record.lastError?.reason}` : "forwarded";
    };
    expect(await at(allow, "192.0.2.1")).toBe("forwarded");
    expect(await at(allow, "::ffff:192.0.2.200")).toBe("forwarded");
    expect(await at(allow, "2001:0db8:0:0:0:0:0:1")).toBe("forwarded");
    expect(await at(allow, "203.0.113.9")).toBe("403 CallerIpNotAllowed");
    expect(await at(forbid, "192.0.2.100")).toBe("403 CallerIpNotAllowed");
    expect(await at(forbid, "192.0.2.200")).toBe("forwarded");
    expect(await at(forbid, "")).toBe("403 CallerIpNotAllowed");
  });

  it("rewrite-uri: template parameters filled and encoded, unmatched query parameters copied unless told not to", async () => {
    const cars = operation("cars", "get", "GET", "/{id}", { inbound: [step.rewriteUri("/v2/vehicles/{id}?view=full")] });
    const x = await run(bundle({}, [cars]), { path: "/cars/a%20b?view=short&color=red" });
    expect(x.calls[0]!.url).toBe("https://origin.test/base/v2/vehicles/a%20b?view=full&color=red");
    const noCopy = operation("cars", "get", "GET", "/{id}", { inbound: [step.rewriteUri("/v2/{id}", false)] });
    const y = await run(bundle({}, [noCopy]), { path: "/cars/7?color=red" });
    expect(y.calls[0]!.url).toBe("https://origin.test/base/v2/7");
    const unknown = operation("cars", "get", "GET", "/{id}", { inbound: [step.rewriteUri("/v2/{nope}")] });
    expect(problem(await run(bundle({}, [unknown]), { path: "/cars/7" })).error.code).toBe("policy_expression_failed");
    // Without a leading "/": appended to the base URL all the same; empty: the base URL itself.
    const relative = operation("cars", "get", "GET", "/{id}", { inbound: [step.rewriteUri("sap/odata/Items('{id}')", false)] });
    expect((await run(bundle({}, [relative]), { path: "/cars/7?x=1" })).calls[0]!.url).toBe("https://origin.test/base/sap/odata/Items('7')");
    const empty = operation("cars", "get", "GET", "/{id}", { inbound: [step.rewriteUri("", false)] });
    expect((await run(bundle({}, [empty]), { path: "/cars/7?x=1" })).calls[0]!.url).toBe("https://origin.test/base");
  });

  it("mock-response answers with the status and content type and no body, in inbound and outbound", async () => {
    const x = await run(one({ inbound: [step.mockResponse(202, "application/json")] }));
    expect([response(x).status, response(x).headers.get("content-type"), await response(x).text(), x.calls.length]).toEqual([202, "application/json", "", 0]);
    const y = await run(one({ outbound: [step.mockResponse(200)] }));
    expect([response(y).status, await response(y).text(), y.calls.length]).toEqual([200, "", 1]);
  });
});

describe("cors", () => {
  const policy = step.cors({ origins: ["https://app.example"], methods: ["GET", "PUT"], headers: ["Content-Type", "X-Trace"], expose: ["X-Request-Id"], maxAge: 600, allowCredentials: true });
  const preflight = (origin: string, method: string, requestHeaders?: string) => ({
    method: "OPTIONS", headers: { origin, "access-control-request-method": method, ...(requestHeaders ? { "access-control-request-headers": requestHeaders } : {}) },
  });
  const corsHeaders = (r: Response) => Object.fromEntries([...r.headers].filter(([k]) => k.startsWith("access-control-") || k === "vary"));

  it("answers a matching preflight at the edge with the Access-Control-Allow-* headers", async () => {
    const x = await run(one({ inbound: [policy] }), preflight("https://app.example", "PUT", "content-type, x-trace"));
    expect(x.calls).toHaveLength(0);
    expect(response(x).status).toBe(200);
    expect(corsHeaders(response(x))).toEqual({
      "access-control-allow-origin": "https://app.example", "access-control-allow-credentials": "true", "access-control-allow-methods": "GET,PUT",
      "access-control-allow-headers": "content-type,x-trace", "access-control-max-age": "600", vary: "Origin",
    });
  });

  it("a preflight for another origin, method or header ends with an empty 200 and no CORS headers", async () => {
    for (const p of [preflight("https://evil.example", "PUT"), preflight("https://app.example", "DELETE"), preflight("https://app.example", "PUT", "x-other")]) {
      const x = await run(one({ inbound: [policy] }), p);
      expect([response(x).status, corsHeaders(response(x)), x.calls.length]).toEqual([200, {}, 0]);
    }
  });

  it("an allowed cross-origin request goes on; its response carries Allow-Origin, Credentials and Expose-Headers", async () => {
    const x = await run(one({ inbound: [policy] }), { headers: { origin: "https://app.example" } });
    expect(x.calls).toHaveLength(1);
    expect(corsHeaders(response(x))).toMatchObject({ "access-control-allow-origin": "https://app.example", "access-control-allow-credentials": "true", "access-control-expose-headers": "X-Request-Id" });
    expect(response(x).headers.get("x-origin")).toBe("yes");
  });

  it("terminate-unmatched-request: a GET from another origin ends with an empty 200; false lets it through without CORS headers", async () => {
    const x = await run(one({ inbound: [policy] }), { headers: { origin: "https://evil.example" } });
    expect([response(x).status, x.calls.length, await response(x).text()]).toEqual([200, 0, ""]);
    const lenient = step.cors({ origins: ["https://app.example"], terminateUnmatched: false });
    const y = await run(one({ inbound: [lenient] }), { headers: { origin: "https://evil.example" } });
    expect([y.calls.length, corsHeaders(response(y))]).toEqual([1, {}]);
    // a preflight it did not match still does not reach the origin
    const z = await run(one({ inbound: [lenient] }), preflight("https://evil.example", "GET"));
    expect([response(z).status, z.calls.length]).toEqual([200, 0]);
  });

  it("a wildcard origin without credentials answers *; a request without Origin is not touched", async () => {
    const any = step.cors({ origins: ["*"], methods: ["*"], headers: ["*"] });
    const x = await run(one({ inbound: [any] }), preflight("https://a.example", "PATCH", "x-anything"));
    expect(corsHeaders(response(x))).toMatchObject({ "access-control-allow-origin": "*", "access-control-allow-methods": "PATCH", "access-control-allow-headers": "x-anything" });
    const plain = await run(one({ inbound: [any] }));
    expect(corsHeaders(response(plain))).toEqual({});
  });
});

describe("find-and-replace", () => {
  it("edits the request body in inbound, after a set-body too, and the origin's body in outbound", async () => {
    const x = await run(one({ inbound: [step.findAndReplace("internal.example", "api.example")] }), { body: "see internal.example and internal.example/x" });
    expect(x.calls[0]!.body).toBe("see api.example and api.example/x");
    const y = await run(one({ inbound: [step.setBody("a-b-c"), step.findAndReplace("-", "+")] }), { body: "ignored" });
    expect(y.calls[0]!.body).toBe("a+b+c");
    const z = await run(one({ outbound: [step.findAndReplace("true", "\"yes\"")] }));
    expect(await response(z).text()).toBe('{"ok":"yes"}');
  });

  it("a result over MAX_BODY_BYTES is a runtime error, found before it is built", async () => {
    const x = await run(one({ inbound: [step.findAndReplace("a", "x".repeat(100))] }), { body: "a".repeat(20_000) });
    expect(x.result.record.lastError).toMatchObject({ source: "find-and-replace", reason: "LimitExceeded" });
  });
});

describe("forward-request", () => {
  it("timeout and follow-redirects reach the origin call; without the step the deployment's settings apply", async () => {
    const forward: Step = { k: "forward-request", at: { file: "t.xml", line: 1, col: 1, scope: "global", policyId: "global" }, timeoutMs: 20_000, followRedirects: true };
    const x = await run(one({ backend: [forward] }));
    expect([x.calls[0]!.timeoutMs, x.calls[0]!.followRedirects]).toEqual([20_000, true]);
    const y = await run(one({}));
    expect([y.calls[0]!.timeoutMs, y.calls[0]!.followRedirects]).toEqual([undefined, undefined]);
  });
});

describe("SAN and SPIFFE identities (certgate extensions)", () => {
  let svid: BuiltCertificate, twoUris: BuiltCertificate;
  beforeAll(async () => {
    svid = await leaf("Web Workload", i, "p-256", { subjectAltName: { names: [{ uri: "spiffe://example.org/ns/prod/web" }, { email: "Ops@Example.org" }, { ip: "2001:db8::7" }] } });
    twoUris = await leaf("Two URIs", i, "p-256", { subjectAltName: { names: [{ uri: "spiffe://example.org/ns/prod/web" }, { uri: "https://example.org/" }] } });
  });
  const check = (identity: Identity) => one({ inbound: [step.validate({ validateRevocation: false, identities: [identity] })] });
  const outcome = async (identity: Identity, c: BuiltCertificate) => {
    const x = await run(check(identity), { cert: c });
    return x.result.kind === "problem" ? x.result.error.code : "passed";
  };

  it("uri, email (domain case-insensitive) and ip-address match any SAN of their kind", async () => {
    expect(await outcome({ uri: "spiffe://example.org/ns/prod/web" }, svid)).toBe("passed");
    expect(await outcome({ email: "Ops@example.ORG" }, svid)).toBe("passed");
    expect(await outcome({ email: "ops@example.org" }, svid)).toBe("certificate_identity_mismatch");
    expect(await outcome({ ipAddress: "2001:0db8:0:0:0:0:0:7" }, svid)).toBe("passed");
    expect(await outcome({ ipAddress: "192.0.2.7" }, svid)).toBe("certificate_identity_mismatch");
  });

  it("spiffe-id: exact or by path prefix, and only for a certificate with exactly one URI SAN", async () => {
    expect(await outcome({ spiffeId: "spiffe://example.org/ns/prod/web" }, svid)).toBe("passed");
    expect(await outcome({ spiffeId: "spiffe://example.org/ns/prod/*" }, svid)).toBe("passed");
    expect(await outcome({ spiffeId: "spiffe://example.org/ns/dev/*" }, svid)).toBe("certificate_identity_mismatch");
    expect(await outcome({ spiffeId: "spiffe://example.org/ns/prod/web" }, twoUris)).toBe("certificate_identity_mismatch");
    expect(await outcome({ uri: "spiffe://example.org/ns/prod/web" }, twoUris)).toBe("passed");
  });
});

describe("set-body template=liquid", () => {
  const at = { file: "t.xml", line: 1, col: 1, scope: "global", policyId: "global" } as const;
  const liquid = (template: string, parseDate = true): Step => ({ k: "set-body-liquid", at, template, parseDate });

  it("outbound renders over the origin's JSON response, its status and headers", async () => {
    const x = await run(one({ outbound: [liquid('{{ context.Response.StatusCode }} {{ context.Response.Headers["X-Origin"] }} {{ body.items | Map: "id" | Join: "," }} {{ body.when }}')] }), {
      origin: () => Response.json({ items: [{ id: 1 }, { id: 2 }], when: "/Date(1198908717056)/" }, { status: 201, headers: { "x-origin": "east" } }),
    });
    expect(await response(x).text()).toBe("201 east 1,2 12/29/2007 6:11:57 AM");
  });

  it("inbound reads a body an earlier set-body wrote, with the Content-Type a set-header gave", async () => {
    const x = await run(one({
      inbound: [
        step.setBody('{"name": "ann"}'),
        { k: "set-header", at, name: tpl("Content-Type"), existsAction: "override", values: [tpl("application/json")] },
        liquid("Hello {{ body.name | Capitalize }} via {{ context.Request.Method }} {{ context.Request.Url.Path }} from {{ context.Request.OriginalUrl.Path }}"),
      ],
    }), { path: "/greet", body: "ignored", headers: { "content-type": "text/plain" } });
    // Url is the backend URL (the origin's /base path first), OriginalUrl the client's.
    expect(x.calls[0]!.body).toBe("Hello Ann via POST /base/greet from /greet");
  });

  it("a text body is not bound; an XML one is a runtime error; over budget runs on-error with LastError", async () => {
    const plain = await run(one({ inbound: [liquid("[{{ body }}]")] }), { body: "x", headers: { "content-type": "text/plain" } });
    expect(plain.calls[0]!.body).toBe("[]");
    const xml = await run(one({ inbound: [liquid("{{ body.a }}")] }), { body: "<a>1</a>", headers: { "content-type": "application/xml" } });
    expect(xml.result.record.lastError).toMatchObject({ source: "set-body", reason: "XmlNotSupported" });
    const loop = await run(one({ inbound: [liquid("{% for i in (1..5) %}{% for j in (1..5000) %}{% endfor %}{% endfor %}")] }), { body: "x" });
    expect(loop.result.record.lastError).toMatchObject({ source: "set-body", reason: "LimitExceeded", section: "inbound" });
    expect(loop.calls).toHaveLength(0);
    expect(problem(loop).error.code).toBe("policy_expression_failed");
  });
});
