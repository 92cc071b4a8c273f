/**
 * `npm run bench:ladder`: the gateway's per-request cost attributed stage by stage. LADDER (a number) picks
 * how much of the request path runs; each level adds one stage to the previous one, so the CPU difference
 * between two levels is that stage's cost.
 */
import { Hono } from "hono";
import { configOf } from "../../src/config";
import type { Env } from "../../src/env";
import { upstreamHeaders } from "../../src/forward/headers";
import { sendToOrigin } from "../../src/forward/origin";
import { fromTerminator } from "../../src/http/trust-boundary";
import { TrustStore } from "../../src/pki/trust-store";
import { CertificateVerifier } from "../../src/pki/verifier";
import { describeCertificate } from "../../src/cert/model";
import { identityHeaders } from "../../src/forward/identity";
import { createApp } from "../../src/app";
import { PASS_THROUGH_BUNDLE } from "../../src/policy/bundle";

type BenchEnv = Omit<Env, "TRUST"> & { readonly BENCH_KV: string; readonly LADDER: string };

function memoryKv(json: string): KVNamespace {
  const data = new Map(Object.entries(JSON.parse(json) as Record<string, string>));
  return {
    async get(key: string, options?: { type?: string }) {
      const v = data.get(key);
      if (v === undefined) return null;
      return options?.type === "arrayBuffer" ? new TextEncoder().encode(v).buffer : v;
    },
  } as unknown as KVNamespace;
}

let env: Env | null = null;
let level = 0;
const verifier = new CertificateVerifier();
let store: TrustStore | null = null;

const FIXED_IDENTITY: Record<string, string> = {
  "Client-Cert": ":AAAA:", "X-Client-Cert-Subject": "CN=bench", "X-Client-Cert-Issuer": "CN=Bench Intermediate",
  "X-Client-Cert-Thumbprint": "00", "X-Client-Cert-SHA256": "00", "X-Client-Cert-Serial": "01",
  "X-Client-Cert-Not-After": "2030-01-01T00:00:00Z", "X-Client-Cert-Verified": "SUCCESS",
};

async function handle(request: Request): Promise<Response> {
  const config = configOf(env!);
  if (!config.ok) throw new Error("config");
  const cfg = config.value;
  const url = new URL(request.url);
  let identity: Record<string, string> = {};
  if (level >= 5 && level < 9) {
    const trusted = fromTerminator(request.headers, cfg);
    let found = null;
    for (const s of cfg.sources) {
      if (s.fromTerminator && !trusted) continue;
      const r = s.extract({ headers: request.headers, cf: undefined });
      if (r.kind === "found") found = r.certificate;
    }
    if (!found) throw new Error("no certificate");
    if (level >= 6) {
      store ??= new TrustStore(env!.TRUST, { refreshMs: cfg.trustRefreshMs, kvTimeoutMs: cfg.kvTimeoutMs });
      const m = await store.material(cfg.trustStore);
      if (!m.ok) throw new Error("store");
      const v = await verifier.verify(m.value, found.leaf, found.chain, new Date(), cfg.validation);
      if (!v.result.ok) throw new Error("invalid");
      if (level >= 7) {
        const model = await describeCertificate(v.leaf!);
        identity = identityHeaders(v.result.value, model, cfg.identityHeaderPrefix);
      } else identity = FIXED_IDENTITY;
    } else identity = FIXED_IDENTITY;
  } else if (level >= 4) identity = FIXED_IDENTITY;
  if (level === 9 || level === 10) identity = FIXED_IDENTITY;
  if (level < 2) {
    const target = new URL(cfg.origin.url!);
    target.pathname = url.pathname;
    target.search = url.search;
    return fetch(new Request(target.toString(), { method: request.method, headers: request.headers, body: request.body, redirect: "manual" }));
  }
  const headers = level >= 3
    ? upstreamHeaders(request.headers, cfg, identity, { clientIp: request.headers.get("cf-connecting-ip"), proto: "http", host: url.host, fromTerminator: true })
    : request.headers;
  if (level === 9) for (const k in FIXED_IDENTITY) (headers as Headers).delete(k);
  const target = new URL(cfg.origin.url!);
  target.pathname = url.pathname;
  target.search = url.search;
  const r = await sendToOrigin({ url: target, method: request.method, headers, body: request.body }, { timeoutMs: cfg.origin.timeoutMs, fetcher: (q) => fetch(q) });
  if (!r.ok) throw new Error("origin");
  return r.value;
}

const hono = new Hono();
hono.all("*", (c) => handle(c.req.raw));
let full: ReturnType<typeof createApp> | null = null;

export default {
  fetch(request: Request, benchEnv: BenchEnv, ctx: ExecutionContext): Response | Promise<Response> {
    env ??= { ...benchEnv, TRUST: memoryKv(benchEnv.BENCH_KV) } as Env;
    level = Number(benchEnv.LADDER);
    if (level >= 8 && level < 9) {
      full ??= createApp({ bundle: PASS_THROUGH_BUNDLE });
      return full.fetch(request, env, ctx);
    }
    if (level === 0) return handle(request);
    return hono.fetch(request, env, ctx);
  },
};
