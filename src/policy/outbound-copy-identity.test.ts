/**
 * send-request mode="copy" after the origin call (outbound, on-error) copies the request headers; the runner adds the
 * verified identity's headers (Client-Cert, X-Client-Cert-*) to the origin request only. Review finding: they were
 * added to the request's own Headers, so a later copy sent them to the callee.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, material, NOW, root } from "../../test/support/chains";
import { bundle, tpl } from "../../test/support/policies";
import { at } from "../../test/support/policies";
import { describeCertificate } from "../cert/model";
import type { Verification } from "../env";
import { DEFAULT_IDENTITY_FIELDS, identityHeaders } from "../forward/identity";
import type { TrustMaterial } from "../pki/trust-material";
import { CertificateVerifier } from "../pki/verifier";
import type { ValidationOptions } from "../pki/validate";
import { ok } from "../result";
import { prepareBundle, selectProgram } from "./bundle";
import type { SendRequestStep } from "./outbound-schema";
import { runProgram } from "./run";

const DEPLOYMENT: ValidationOptions = { revocation: "soft", requireClientAuthEku: true, allowSha1: false, minRsaBits: 2048, allowPartialChain: false };
let i: BuiltCertificate, client: BuiltCertificate, store: TrustMaterial;

beforeAll(async () => {
  const r = await root("Copy Root");
  i = await ca("Copy CA", r);
  client = await leaf("Copy Client", i, "p-256");
  store = await material({ anchors: [r], intermediates: [i], version: "copy" });
});

const copyTo = (url: string): SendRequestStep => ({
  k: "send-request", at: at(), responseVariable: tpl("copied"), ignoreError: false,
  request: { mode: tpl("copy"), timeout: null, url: tpl(url), method: null, headers: [], body: null, certificateId: null },
});

describe("send-request mode=copy after the origin call", () => {
  it("does not send the identity headers the gateway added for the origin", async () => {
    const prepared = prepareBundle(bundle({ outbound: [copyTo("https://mirror.example.test/audit")] }));
    if (!prepared.ok) throw new Error(prepared.error.join("\n"));
    const verifier = new CertificateVerifier();
    const presented = { source: "rfc9440", leaf: client.der, chain: [i.der] };
    const v = await verifier.verify(store, presented.leaf, presented.chain, NOW, DEPLOYMENT);
    if (!v.result.ok || !v.leaf) throw new Error("test certificate does not validate");
    const verification: Verification = { status: "valid", path: v.result.value, model: await describeCertificate(v.leaf), presented } as Verification;
    const url = new URL("https://gw.test/orders");
    const originHeaders: Array<Record<string, string>> = [];
    const sent: Array<Record<string, string>> = [];
    const result = await runProgram(prepared.value, selectProgram(prepared.value, url, "GET"), {
      method: "GET", url, headers: new Headers({ "x-client": "c1", "content-length": "5" }), body: null,
      ipAddress: "192.0.2.1", requestId: "req-copy", timestamp: NOW, region: "", verification,
    }, {
      denyStatus: 403, trustStore: "default", validation: DEPLOYMENT, defaultOrigin: new URL("https://origin.test"),
      isOwnedHeader: (name) => name === "client-cert" || name.startsWith("x-client-cert-"),
    }, {
      validate: async () => ({ kind: "invalid", error: { code: "certificate_missing", detail: "none" } }),
      registered: async () => ok(new Map()),
      namedValue: async () => ok(null),
      identityHeaders: (p, m) => identityHeaders(p, m, { prefix: "X-Client-Cert-", fields: new Set(DEFAULT_IDENTITY_FIELDS) }),
      async fetchOrigin(call) {
        originHeaders.push(Object.fromEntries(call.headers));
        return ok(new Response("origin"));
      },
      log: () => {},
      async fetchOutbound(_u, init) {
        sent.push(Object.fromEntries(new Headers(init.headers)));
        return ok(new Response("ok"));
      },
    });
    expect(result.kind).toBe("response");
    // The origin got the identity (the test proves the headers exist at all) ...
    expect(originHeaders[0]?.["x-client-cert-subject"]).toContain("Copy Client");
    // ... the copy's callee did not.
    expect(sent).toHaveLength(1);
    expect(sent[0]!["x-client"]).toBe("c1");
    expect(Object.keys(sent[0]!).filter((k) => k === "client-cert" || k.startsWith("x-client-cert-"))).toEqual([]);
    // Nor the client's Content-Length: the copy after the origin call carries no body (fetch frames what it sends).
    expect(sent[0]!["content-length"]).toBeUndefined();
  });
});
