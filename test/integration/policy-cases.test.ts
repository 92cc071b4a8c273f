/**
 * The policy cases (test/policies/<case>/cases.json, format in scripts/policy/cases.ts) through the whole
 * Worker inside workerd: the case's bundle (compiled in Node by test/global-setup.ts into
 * build/test-policies/), the test PKI's stores, registered certificates and the case's run-time named values
 * in the real local KV, the certificate in RFC 9440 `Client-Cert` from the authenticated terminator,
 * REQUIRE_CERTIFICATE=false (policies decide), a recording origin answering 200 with no headers and an
 * empty body, and a recording mtls_certificates binding for every authentication-certificate id. The same
 * cases run through `policy explain` in Node (scripts/policy/explain.node.test.ts): both must match the
 * expectation, so they agree.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { CASE_REGISTERED, CASE_STORES, type CasePki, type CertificateName } from "../../scripts/policy/case-pki";
import { CASE_VARS, checkDecision, expandFacts, type BuiltCase, type Observed, type PolicyCase } from "../../scripts/policy/cases";
import { createApp } from "../../src/app";
import { decodeCertificate, encodeBase64 } from "../../src/cert/decode";
import type { Env } from "../../src/env";
import { publish, SECRET, uniqueVersion, viaTerminator } from "../support/gateway";

type Built = BuiltCase | { readonly name: string; readonly errors: string };

declare global {
  interface ImportMeta {
    /** Vite's import.meta.glob (vitest bundles test files with Vite); typed here for the one form used. */
    glob(pattern: string, options: { eager: true; import: "default" }): Record<string, unknown>;
  }
}

const builtModules = import.meta.glob("../../build/test-policies/cases/*.json", { eager: true, import: "default" }) as Record<string, Built>;
const pkiModules = import.meta.glob("../../build/test-policies/pki.json", { eager: true, import: "default" }) as Record<string, CasePki>;
const pki = Object.values(pkiModules)[0];
const built = Object.values(builtModules).sort((a, b) => (a.name < b.name ? -1 : 1));

const pem = (name: string): string => {
  const p = pki?.pem[name as CertificateName];
  if (p === undefined) throw new Error(`no certificate "${name}" in the test PKI (scripts/policy/case-pki.ts)`);
  return p;
};
const asBuilt = (name: string) => ({ pem: pem(name) }) as BuiltCertificate;
const der = (name: string): Uint8Array => {
  const r = decodeCertificate(pem(name));
  if (!r.ok) throw new Error(`${name}: ${r.error.detail}`);
  return r.value;
};

beforeAll(async () => {
  if (!pki) return;
  const values: Record<string, string> = {};
  for (const b of built) {
    if (!("bundle" in b)) continue;
    for (const [k, v] of Object.entries(b.runtimeValues)) {
      if (k in values && values[k] !== v) throw new Error(`run-time named value ${k} differs between cases; give it one value or another name`);
      values[k] = v;
    }
  }
  await publish(env.TRUST, uniqueVersion("policy-cases"),
    Object.fromEntries(Object.entries(CASE_STORES).map(([name, s]) => [name, { anchors: s.anchors.map(asBuilt), intermediates: s.intermediates.map(asBuilt) }])),
    { registered: Object.fromEntries(Object.entries(CASE_REGISTERED).map(([id, n]) => [id, asBuilt(n)])), values });
});

interface Recorded {
  readonly binding: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | null;
}

/** A fetcher recording the request and answering 200, no headers, empty body (explain's synthetic origin). */
function recorder(binding: string, calls: Recorded[]): Fetcher {
  return {
    async fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
      const req = new Request(input, init);
      const text = req.body ? await req.text() : "";
      calls.push({ binding, url: req.url, headers: Object.fromEntries(req.headers), body: text === "" ? null : text });
      return new Response(null, { status: 200 });
    },
    connect(): never {
      throw new Error("not supported");
    },
  } as unknown as Fetcher;
}

/** certificate-id of every authentication-certificate step in a bundle. */
function mtlsIds(bundle: unknown): string[] {
  const ids = new Set<string>();
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      if (o.k === "authentication-certificate" && typeof o.certificateId === "string") ids.add(o.certificateId);
      Object.values(o).forEach(walk);
    }
  };
  walk(bundle);
  return [...ids];
}

async function runInWorker(b: BuiltCase, c: PolicyCase): Promise<Observed> {
  const facts = pki!.facts;
  const calls: Recorded[] = [];
  const bindings = Object.fromEntries(mtlsIds(b.bundle).map((id) => [id, recorder(id, calls)]));
  const e = {
    ...(env as unknown as Env),
    ...CASE_VARS,
    CERT_SOURCES: "cloudflare,rfc9440",
    TERMINATOR_SECRET: SECRET,
    TRUST_REFRESH_SECONDS: "0",
    ORIGIN: recorder("ORIGIN", calls),
    ...bindings,
    ...c.vars,
  } as Env;
  const headers = new Headers(viaTerminator({}));
  for (const [k, v] of Object.entries(c.request.headers ?? {})) headers.append(k, expandFacts(v, facts));
  if (c.request.cert) {
    headers.set("client-cert", `:${encodeBase64(der(c.request.cert))}:`);
    if (c.request.chain?.length) headers.set("client-cert-chain", c.request.chain.map((n) => `:${encodeBase64(der(n))}:`).join(", "));
  }
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  const res = await createApp({ bundle: b.bundle }).fetch(new Request(expandFacts(c.request.url, facts), {
    method: c.request.method ?? "GET",
    headers,
    body: c.request.body ?? null,
  }), e, ctx);
  const text = await res.text();
  const response = { status: res.status, headers: Object.fromEntries(res.headers), body: text === "" ? null : text };
  const traceHeader = res.headers.get("x-certgate-trace");
  const trace = traceHeader === null ? null : (JSON.parse(traceHeader) as Array<{ message: string }>);
  if (calls.length > 1) throw new Error(`the origin was called ${calls.length} times`);
  const call = calls[0];
  return call
    ? { effect: "forward", status: 0, headers: call.headers, body: call.body, origin: call.url, mtlsCertificate: call.binding === "ORIGIN" ? null : call.binding, response, trace }
    : { effect: "respond", status: response.status, headers: response.headers, body: response.body, origin: null, mtlsCertificate: null, response: null, trace };
}

describe("policy cases through the Worker (test/policies/<case>/cases.json)", () => {
  it("has the test PKI and cases (built by test/global-setup.ts)", () => {
    expect(pki).toBeDefined();
    expect(built.length).toBeGreaterThan(15);
  });

  for (const b of built) {
    describe(b.name, () => {
      if (!("bundle" in b)) {
        it("compiles", () => expect.fail(`test/policies/${b.name} does not build:\n${b.errors}`));
        return;
      }
      for (const c of b.cases) {
        it(c.name, async () => {
          const observed = await runInWorker(b, c);
          expect(checkDecision(observed, c.expect, pki!.facts), JSON.stringify(observed, null, 2)).toEqual([]);
        });
      }
    });
  }
});
