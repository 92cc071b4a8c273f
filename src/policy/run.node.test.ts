/**
 * The runner outside the Worker, as the explain CLI uses it: in Node, on the demo's policies (scripts/dev/policies)
 * compiled by scripts/compile-policies, with in-memory trust material and a recording origin.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { compilePolicies } from "../../scripts/compile-policies/compile";
import { readPolicyFiles } from "../../scripts/compile-policies/main";
import { ca, leaf, material, NOW, root } from "../../test/support/chains";
import { describeCertificate } from "../cert/model";
import { parseCertificate } from "../cert/parse";
import type { Verification } from "../env";
import { DEFAULT_IDENTITY_FIELDS, identityHeaders } from "../forward/identity";
import type { TrustMaterial } from "../pki/trust-material";
import type { RegisteredCertificate } from "../pki/trust-store";
import { CertificateVerifier } from "../pki/verifier";
import { ok } from "../result";
import { prepareBundle, selectProgram, type PreparedBundle } from "./bundle";
import { runProgram } from "./run";

let prepared: PreparedBundle;
let dev: BuiltCertificate, registeredClient: BuiltCertificate, unregistered: BuiltCertificate, foreign: BuiltCertificate;
let trust: TrustMaterial;
let registered: Map<string, RegisteredCertificate>;
const verifier = new CertificateVerifier();

beforeAll(async () => {
  const compiled = compilePolicies(readPolicyFiles("scripts/dev/policies"));
  if (!("bundle" in compiled)) throw new Error(JSON.stringify(compiled.errors));
  const p = prepareBundle(JSON.parse(JSON.stringify(compiled.bundle)));
  if (!p.ok) throw new Error(p.error.join("\n"));
  prepared = p.value;
  const r = await root("Explain Root");
  dev = await ca("x", r, "p-256", {}, { subject: "CN=certgate Demo DEV Issuing CA, OU=DEV, O=certgate Demo, C=US" });
  const other = await ca("Other Issuing CA", r);
  registeredClient = await leaf("registered.client.demo", dev, "p-256", { subjectAltName: { names: [{ dns: "registered.client.demo" }] } });
  unregistered = await leaf("unregistered.client.demo", dev);
  foreign = await leaf("foreign.client.demo", other);
  trust = await material({ anchors: [r], intermediates: [dev, other], version: "explain" });
  const parsed = parseCertificate(registeredClient.der);
  if (!parsed.ok) throw new Error("bad certificate");
  registered = new Map([["valid-client", { id: "valid-client", cert: parsed.value, model: await describeCertificate(parsed.value) }]]);
});

async function explain(method: string, path: string, client: BuiltCertificate | null) {
  const url = new URL(`https://gw.demo${path}`);
  let verification: Verification = { status: "none" };
  if (client) {
    const presented = { source: "rfc9440", leaf: client.der, chain: [] };
    const v = await verifier.verify(trust, client.der, [], NOW);
    const model = v.leaf ? await describeCertificate(v.leaf) : null;
    verification = v.result.ok ? { status: "valid", path: v.result.value, model: model!, presented } : { status: "invalid", error: v.result.error, leaf: v.leaf, model, presented };
  }
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  const result = await runProgram(prepared, selectProgram(prepared, url, method), {
    method, url, headers: new Headers(), body: null, ipAddress: "127.0.0.1", requestId: "explain-1", timestamp: NOW, region: "", verification,
  }, {
    denyStatus: 403, trustStore: "default", validation: {}, defaultOrigin: new URL("https://origin.demo"), isOwnedHeader: (n) => n.startsWith("x-client-cert-"),
  }, {
    async validate(_store, options) {
      const v = await verifier.verify(trust, client!.der, [], NOW, options);
      return v.result.ok ? { kind: "valid", path: v.result.value } : { kind: "invalid", error: v.result.error };
    },
    registered: async () => ok(registered),
    namedValue: async () => ok(null),
    identityHeaders: (p, m) => identityHeaders(p, m, { prefix: "X-Client-Cert-", fields: new Set(DEFAULT_IDENTITY_FIELDS) }),
    async fetchOrigin(call) {
      calls.push({ url: call.url.toString(), headers: Object.fromEntries(call.headers) });
      return ok(new Response("from the origin"));
    },
    log() {},
  });
  return { result, calls };
}

describe("explaining the demo policies in Node", () => {
  it("GET /hello: global validation, the API's client details and trace, outbound headers", async () => {
    const { result, calls } = await explain("GET", "/hello", registeredClient);
    expect(result.kind).toBe("response");
    if (result.kind !== "response") return;
    expect(result.record.operation).toBe("demo/hello");
    expect(calls[0]!.headers["x-client-dns"]).toBe("registered.client.demo");
    expect(calls[0]!.headers["x-client-thumbprint"]).toMatch(/^[0-9A-F]{40}$/);
    expect(result.response.headers.get("x-served-by")).toBe("certgate-demo");
    expect(result.response.headers.get("x-operation")).toBe("hello");
    expect(result.record.traces.map((t) => t.message)).toEqual(["Hello for registered.client.demo"]);
    expect(result.record.steps.map((s) => `${s.section} ${s.path} ${s.note}`)).toContain("inbound validate-client-certificate[1] passed");
  });

  it("POST /orders: registered certificates only", async () => {
    const yes = await explain("POST", "/orders", registeredClient);
    expect(yes.calls[0]!.headers["x-registered-client"]).toBe("valid-client");
    const no = await explain("POST", "/orders", unregistered);
    expect(no.calls).toHaveLength(0);
    if (no.result.kind !== "response") throw new Error("expected a response");
    expect(no.result.response.status).toBe(403);
    expect(((await no.result.response.json()) as { code: string }).code).toBe("certificate_not_registered");
  });

  it("GET /public needs no certificate; another issuer fails the global identity check", async () => {
    const anonymous = await explain("GET", "/public", null);
    expect(anonymous.calls[0]!.headers["x-client"]).toBe("anonymous");
    const denied = await explain("GET", "/hello", foreign);
    expect(denied.result.kind).toBe("problem");
    if (denied.result.kind !== "problem") return;
    expect(denied.result.error.code).toBe("certificate_identity_mismatch");
    expect(denied.result.headers?.get("x-error-policy")).toBe("global");
  });
});
