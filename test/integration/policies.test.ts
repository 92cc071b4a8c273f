/**
 * Compiled policies through the whole Worker inside workerd: real local KV (stores, registered certificates,
 * named values), a recording origin, bundles written by hand (test/support/policies.ts).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { SCHEMA_VERSION } from "../../src/policy/schema";
import { ca, DAY, leaf, root } from "../support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../support/gateway";
import { bundle, operation, parts, step } from "../support/policies";

let r: BuiltCertificate, i: BuiltCertificate, valid: BuiltCertificate, other: BuiltCertificate, expired: BuiltCertificate;
const now = Date.now();
const TRACE_SECRET = "trace-secret-for-tests-0123456789";

beforeAll(async () => {
  r = await root("Policy Root");
  i = await ca("Policy Issuing CA", r);
  valid = await leaf("Registered Client", i, "p-256", { subjectAltName: { names: [{ dns: "registered.client.test" }] } });
  other = await leaf("Unregistered Client", i, "p-256");
  expired = await leaf("Expired Client", i, "p-256", {}, { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) });
  await publish(env.TRUST, uniqueVersion("policies"), { default: { anchors: [r], intermediates: [i] } }, {
    registered: { "registered-client": valid },
    values: { "api-key": "kv-api-key" },
  });
});

async function problem(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { status: number; code: string; detail: string; context?: Record<string, unknown> };
}

const withCert = (c: BuiltCertificate, extra: Record<string, string> = {}) => ({ headers: viaTerminator({ "client-cert": byteSequence(c), ...extra }) });

describe("the policy bundle", () => {
  it("refuses a bundle of another schema version: every request is 503 policy_bundle_invalid", async () => {
    const s = scenario({}, recordingOrigin(), { ...bundle(), schema: SCHEMA_VERSION + 1 });
    const res = await s.request("/anything", withCert(valid));
    expect(res.status).toBe(503);
    const p = await problem(res);
    expect(p.code).toBe("policy_bundle_invalid");
    expect(JSON.stringify(p)).not.toContain("schema");
    expect(s.origin.calls).toHaveLength(0);
    const malformed = await scenario({}, recordingOrigin(), { schema: SCHEMA_VERSION, routes: [], operations: {} }).request("/");
    expect((await problem(malformed)).code).toBe("policy_bundle_invalid");
  });

  it("keeps REQUIRE_CERTIFICATE as a floor: no valid certificate, no policy runs", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [step.returnResponse({ status: "200" })] }));
    expect((await problem(await s.request("/"))).code).toBe("certificate_missing");
    expect((await problem(await s.request("/", withCert(expired)))).code).toBe("certificate_expired");
    expect((await s.request("/", withCert(valid))).status).toBe(200);
  });
});

describe("a certificate required only for some operations (REQUIRE_CERTIFICATE=false)", () => {
  const b = () => bundle({}, [
    operation("accounts", "get", "GET", "/{id}", { inbound: [step.validate({ failedStatus: 401 })] }),
  ]);

  it("lets anonymous requests reach public operations, without identity", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" }, recordingOrigin(), b());
    expect((await s.request("/public/page")).status).toBe(200);
    const res = await s.request("/public/page", withCert(expired));
    expect(res.status).toBe(200);
    expect(s.origin.calls[1]!.headers["x-client-cert-subject"]).toBeUndefined();
  });

  it("denies the protected operation without a valid certificate, with its failed-validation-httpcode", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" }, recordingOrigin(), b());
    const missing = await s.request("/accounts/7");
    expect(missing.status).toBe(401);
    expect((await problem(missing)).code).toBe("certificate_missing");
    const bad = await s.request("/accounts/7", withCert(expired));
    expect(bad.status).toBe(401);
    expect((await problem(bad)).code).toBe("certificate_expired");
    const ok = await s.request("/accounts/7", withCert(valid));
    expect(ok.status).toBe(200);
    expect(s.origin.calls).toHaveLength(1);
    expect(s.origin.calls[0]!.url).toBe("https://origin.test/7");
    expect(s.origin.calls[0]!.headers["x-client-cert-subject"]).toBe("CN=Registered Client");
  });
});

describe("expressions against the request", () => {
  it("matches registered certificates (KV `registered`) with Any(…)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [step.choose([[
        "@(context.Deployment.Certificates.Any(c => c.Value.Thumbprint == context.Request.Certificate.Thumbprint))",
        [step.setHeader("X-Registered-As", ["@(context.Deployment.Certificates.First(c => c.Value.Thumbprint == context.Request.Certificate.Thumbprint).Key)"])],
      ]], [step.returnResponse({ status: "403", body: parts("not registered") })])],
    }));
    const yes = await s.request("/", withCert(valid));
    expect(yes.status).toBe(200);
    expect(s.origin.calls[0]!.headers["x-registered-as"]).toBe("registered-client");
    const no = await s.request("/", withCert(other));
    expect([no.status, await no.text()]).toEqual([403, "not registered"]);
  });

  it("fails closed (503) when KV `registered` is corrupt, and reads it only for programs that need it", async () => {
    const corrupt = {
      get: ((key: string, options: unknown) => (key.endsWith("/registered") ? Promise.resolve("{not json") : env.TRUST.get(key, options as never))) as KVNamespace["get"],
    } as KVNamespace;
    const needs = scenario({ TRUST: corrupt }, recordingOrigin(), bundle({ inbound: [step.setVariable("n", "@(context.Deployment.Certificates.Count)")] }));
    const res = await needs.request("/", withCert(valid));
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("trust_store_unavailable");
    const other = scenario({ TRUST: corrupt }, recordingOrigin(), bundle({ inbound: [step.setVariable("n", "@(1)")] }));
    expect((await other.request("/", withCert(valid))).status).toBe(200);
  });

  it("forwards certificate details with ?. and ??", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" }, recordingOrigin(), bundle({
      inbound: [
        step.setHeader("X-Caller-Thumbprint", ["@(context.Request.Certificate?.Thumbprint ?? \"anonymous\")"]),
        step.setHeader("X-Caller-Dns", ["@(context.Request.Certificate?.GetNameInfo(X509NameType.DnsName, false) ?? \"\")"]),
      ],
    }));
    await s.request("/", withCert(valid));
    await s.request("/");
    expect(s.origin.calls[0]!.headers["x-caller-thumbprint"]).toMatch(/^[0-9A-F]{40}$/);
    expect(s.origin.calls[0]!.headers["x-caller-thumbprint"]).toBe(s.origin.calls[0]!.headers["x-client-cert-thumbprint"]);
    expect(s.origin.calls[0]!.headers["x-caller-dns"]).toBe("registered.client.test");
    expect(s.origin.calls[1]!.headers["x-caller-thumbprint"]).toBe("anonymous");
  });

  it("shows policies the headers the origin will receive: never the terminator's or the trace secret", async () => {
    const s = scenario({ TRACE_SECRET }, recordingOrigin(), bundle({
      inbound: [
        step.setHeader("X-Seen-Terminator", ["@(context.Request.Headers.GetValueOrDefault(\"X-Certgate-Terminator-Secret\", \"hidden\"))"]),
        step.setHeader("X-Seen-Trace", ["@(context.Request.Headers.GetValueOrDefault(\"X-Certgate-Trace-Secret\", \"hidden\"))"]),
        step.setHeader("X-Seen-Cert", ["@(context.Request.Headers.ContainsKey(\"Client-Cert\").ToString())"]),
      ],
    }));
    await s.request("/", withCert(valid, { "x-certgate-trace-secret": TRACE_SECRET }));
    const h = s.origin.calls[0]!.headers;
    expect([h["x-seen-terminator"], h["x-seen-trace"], h["x-seen-cert"]]).toEqual(["hidden", "hidden", "False"]);
    expect(h["client-cert"]).toBe(byteSequence(valid));
  });

  it("answers a problem+json body built with JObject from on-error", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [step.validate({ identities: [{ commonName: "Registered Client" }] })],
      onError: [
        step.setStatus("403", "Forbidden"),
        step.setHeader("Content-Type", ["application/problem+json"]),
        step.setBody(`@(new JObject(
          new JProperty("type", "urn:example:denied"),
          new JProperty("title", "Forbidden"),
          new JProperty("status", 403),
          new JProperty("detail", context.LastError.Reason)).ToString())`),
      ],
    }));
    const res = await s.request("/", withCert(other));
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await res.json()).toEqual({ type: "urn:example:denied", title: "Forbidden", status: 403, detail: "certificate_identity_mismatch" });
    expect(s.origin.calls).toHaveLength(0);
  });

  it("a runtime null dereference runs on-error, then answers 500 policy_expression_failed without the position", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" }, recordingOrigin(), bundle({
      inbound: [step.setHeader("X-Subject", ["@(context.Request.Certificate.Subject)"])],
      onError: [step.setHeader("X-Failed-Reason", ["@(context.LastError.Reason)"])],
    }));
    const res = await s.request("/");
    expect(res.status).toBe(500);
    expect(res.headers.get("x-failed-reason")).toBe("NullReferenceException");
    const p = await problem(res);
    expect(p.code).toBe("policy_expression_failed");
    expect(JSON.stringify(p)).not.toMatch(/test\.xml|Subject/);
    expect(s.origin.calls).toHaveLength(0);
  });

  it("stops a runaway expression at the step limit (500, Reason step_limit)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [step.setVariable("n", "@(\"aaaaaaaaaa\".Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Replace(\"a\", \"aaaaaaaaaa\").Count(c => c == 'a'))")],
      onError: [step.returnResponse({ status: "500", body: parts({ code: "@(context.LastError.Reason)" }) })],
    }));
    const res = await s.request("/", withCert(valid));
    expect([res.status, await res.text()]).toEqual([500, "step_limit"]);
  });

  it("resolves runtime named values from KV `values` and from Worker secrets, never certgate's own", async () => {
    const b = bundle({
      inbound: [
        step.setHeader("X-Api-Key", [parts({ value: "api-key" })]),
        step.setHeader("X-Partner-Token", [parts("Bearer ", { value: "PARTNER_TOKEN" })]),
      ],
    }, [], ["api-key", "PARTNER_TOKEN", "TERMINATOR_SECRET"]);
    const s = scenario({ PARTNER_TOKEN: "from-a-secret" }, recordingOrigin(), b);
    expect((await s.request("/", withCert(valid))).status).toBe(200);
    expect(s.origin.calls[0]!.headers["x-api-key"]).toBe("kv-api-key");
    expect(s.origin.calls[0]!.headers["x-partner-token"]).toBe("Bearer from-a-secret");
    const leak = scenario({}, recordingOrigin(), bundle({ inbound: [step.setHeader("X-Leak", [parts({ value: "TERMINATOR_SECRET" })])] }, [], ["TERMINATOR_SECRET"]));
    const res = await leak.request("/", withCert(valid));
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("policy_value_missing");
  });
});

describe("the origin", () => {
  it("goes through the mtls_certificates binding named by authentication-certificate", async () => {
    const mtls = recordingOrigin();
    const b = bundle({ backend: [step.authenticationCertificate("BACKEND_CERT")] });
    const s = scenario({ BACKEND_CERT: mtls.fetcher }, recordingOrigin(), b);
    const res = await s.request("/orders?x=1", withCert(valid));
    expect(res.status).toBe(200);
    expect(s.origin.calls).toHaveLength(0);
    expect(mtls.calls).toHaveLength(1);
    expect(mtls.calls[0]!.url).toBe("https://origin.test/orders?x=1");
    expect(mtls.calls[0]!.headers["x-client-cert-verified"]).toBe("SUCCESS");
  });

  it("answers 503 mtls_certificate_unavailable when the binding does not exist (local dev)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ backend: [step.authenticationCertificate("BACKEND_CERT")] }));
    const res = await s.request("/", withCert(valid));
    expect(res.status).toBe(503);
    const p = await problem(res);
    expect(p.code).toBe("mtls_certificate_unavailable");
    expect(p.context).toEqual({ certificateId: "BACKEND_CERT" });
    // certgate's own bindings are never an mTLS certificate.
    const own = await scenario({}, recordingOrigin(), bundle({ backend: [step.authenticationCertificate("ORIGIN")] })).request("/", withCert(valid));
    expect((await problem(own)).code).toBe("mtls_certificate_unavailable");
  });
});

describe("tracing", () => {
  const traced = () => bundle({
    inbound: [step.trace("certgate-test", "inbound ünïcode", { path: "@(context.Request.Url.Path)" })],
    outbound: [step.trace("certgate-test", "outbound", {}, "verbose")],
  });

  it("returns the trace in X-Certgate-Trace only to a caller with TRACE_SECRET", async () => {
    const s = scenario({ TRACE_SECRET }, recordingOrigin((req) => new Response("ok", { headers: { "x-certgate-trace": "forged" } })), traced());
    const withSecret = await s.request("/traced", withCert(valid, { "x-certgate-trace-secret": TRACE_SECRET }));
    expect(withSecret.status).toBe(200);
    const header = withSecret.headers.get("x-certgate-trace")!;
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    const lines = JSON.parse(header) as Array<Record<string, unknown>>;
    expect(lines).toEqual([
      expect.objectContaining({ source: "certgate-test", severity: "information", message: "inbound ünïcode", metadata: { path: "/traced" }, section: "inbound" }),
      expect.objectContaining({ message: "outbound", severity: "verbose", section: "outbound" }),
    ]);
    const without = await s.request("/traced", withCert(valid));
    expect(without.headers.get("x-certgate-trace")).toBeNull();
    const wrong = await s.request("/traced", withCert(valid, { "x-certgate-trace-secret": "not-the-secret-not-the-secret" }));
    expect(wrong.headers.get("x-certgate-trace")).toBeNull();
  });

  it("never forwards the trace secret, and returns the trace with a denial too", async () => {
    const s = scenario({ TRACE_SECRET }, recordingOrigin(), bundle({
      inbound: [step.trace("t", "before the check"), step.validate({ identities: [{ commonName: "Nobody" }] })],
    }));
    await scenario({ TRACE_SECRET }).request("/", withCert(valid, { "x-certgate-trace-secret": TRACE_SECRET }));
    const denied = await s.request("/", withCert(valid, { "x-certgate-trace-secret": TRACE_SECRET }));
    expect(denied.status).toBe(403);
    expect(JSON.parse(denied.headers.get("x-certgate-trace")!)).toEqual([expect.objectContaining({ message: "before the check" })]);
    const passthrough = scenario({ TRACE_SECRET });
    await passthrough.request("/", withCert(valid, { "x-certgate-trace-secret": TRACE_SECRET }));
    expect(passthrough.origin.calls[0]!.headers["x-certgate-trace-secret"]).toBeUndefined();
  });

  it("a short TRACE_SECRET is a configuration error", async () => {
    const res = await scenario({ TRACE_SECRET: "short" }).request("/");
    expect((await problem(res)).code).toBe("configuration_invalid");
  });
});
