/**
 * The scheduled handler inside workerd: real local KV seeded with test/support/gateway.ts publish(), fixed
 * times, outbound fetch injected (CRL distribution points and the alert webhook are mocked).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { crl, DAY, NOW, root, cert } from "../../test/support/chains";
import { publish, uniqueVersion, type StoreSeed } from "../../test/support/gateway";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import type { Env } from "../env";
import { TrustStore } from "../pki/trust-store";
import { checkExpiry, parseWarnDays } from "./expiry";
import { MAX_CRL_FETCHES } from "./crl-refresh";
import { runScheduled } from "./run";
import { readSnapshot } from "./snapshot";
import worker from "../index";

const kv = (env as unknown as Env).TRUST;
const WEBHOOK = "https://alerts.test/hook";

type Handler = (req: Request, init: RequestInit | undefined) => Response | Promise<Response>;
/** A recording fetch: exact-URL routes, 404 otherwise. */
function mockFetch(routes: Record<string, Handler> = {}) {
  const calls: Array<{ url: string; method: string; headers: Record<string, string>; body: string }> = [];
  const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = req.method === "POST" ? await req.clone().text() : "";
    calls.push({ url: req.url, method: req.method, headers: Object.fromEntries(req.headers), body });
    const h = routes[req.url];
    return h ? h(req, init) : new Response("not found", { status: 404 });
  }) as typeof fetch;
  return { f, calls, posts: () => calls.filter((c) => c.url === WEBHOOK).map((c) => JSON.parse(c.body) as Record<string, any>) };
}
/** Never answers; rejects when aborted. */
const hang: Handler = (_req, init) => new Promise((_, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted"))));
const der = (bytes: Uint8Array) => new Response(bytes, { headers: { "content-type": "application/pkix-crl" } });

async function activeVersion(): Promise<string> {
  return (JSON.parse((await kv.get("active", "text"))!) as { version: string }).version;
}

/** Publishes `stores`, marking the named ones `refreshCrls: true`. */
async function seed(stores: Record<string, StoreSeed>, optIn: string[], extra: Parameters<typeof publish>[3] = {}): Promise<string> {
  const version = uniqueVersion("sched");
  await publish(kv, version, stores, extra);
  for (const name of optIn) {
    const key = `v/${version}/store/${name}`;
    await kv.put(key, JSON.stringify({ ...JSON.parse((await kv.get(key, "text"))!), refreshCrls: true }));
  }
  return version;
}

function expiring(name: string, days: number): Promise<BuiltCertificate> {
  return cert({ subject: `CN=${name}`, notAfter: new Date(NOW.getTime() + days * DAY), extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } } });
}

describe("the Worker's scheduled handler", () => {
  it("runs the job under ctx.waitUntil with the cron's scheduled time", async () => {
    await seed({ cron: { anchors: [await expiring("Cron 3", 3)] } }, []);
    const waited: Promise<unknown>[] = [];
    const ctx = { waitUntil: (p: Promise<unknown>) => waited.push(p), passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
    await worker.scheduled({ scheduledTime: NOW.getTime(), cron: "0 * * * *", noRetry() {} } as ScheduledController, env as unknown as Env, ctx);
    expect(waited).toHaveLength(1);
    const report = (await waited[0]) as Awaited<ReturnType<typeof runScheduled>>;
    expect(report.findings).toMatchObject([{ subject: "CN=Cron 3", daysLeft: 3, threshold: 7 }]);
  });
});

describe("expiry watch", () => {
  it("parses EXPIRY_WARN_DAYS", () => {
    expect(parseWarnDays(undefined)).toEqual([30, 7, 1]);
    expect(parseWarnDays("1, 14,7")).toEqual([14, 7, 1]);
    expect(parseWarnDays("7,x")).toBeNull();
    expect(parseWarnDays("0")).toBeNull();
  });

  it("hits the 30/7/1 thresholds at 30/8/7/2/1 days, not at 31, and flags expired items, CRLs and registered certificates", async () => {
    const days = [31, 30, 8, 7, 2, 1, -1];
    const anchors = await Promise.all(days.map((d) => expiring(`Expiry ${d}`, d)));
    const r = await root("Expiry CRL Root");
    const staleSoon = await crl({ issuer: r, nextUpdate: new Date(NOW.getTime() + 2 * DAY) });
    const reg = await expiring("Registered 5", 5);
    await seed({ exp: { anchors: [...anchors, r], crls: [staleSoon.der] } }, [], { registered: { client: reg } });
    const snapshot = await readSnapshot(kv);

    const findings = checkExpiry(snapshot, NOW, [30, 7, 1]);
    const by = (subject: string) => findings.find((f) => f.subject === subject);
    expect(by("CN=Expiry 31")).toBeUndefined();
    expect(by("CN=Expiry 30")).toMatchObject({ store: "exp", kind: "anchor", daysLeft: 30, threshold: 30, expired: false });
    expect(by("CN=Expiry 8")).toMatchObject({ daysLeft: 8, threshold: 30 });
    expect(by("CN=Expiry 7")).toMatchObject({ daysLeft: 7, threshold: 7 });
    expect(by("CN=Expiry 2")).toMatchObject({ daysLeft: 2, threshold: 7 });
    expect(by("CN=Expiry 1")).toMatchObject({ daysLeft: 1, threshold: 1 });
    expect(by("CN=Expiry -1")).toMatchObject({ daysLeft: -1, threshold: 0, expired: true });
    expect(by("CN=Expiry 30")!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(findings.find((f) => f.kind === "crl")).toMatchObject({ store: "exp", subject: "CN=Expiry CRL Root", daysLeft: 2, threshold: 7, nextUpdate: new Date(NOW.getTime() + 2 * DAY).toISOString() });
    expect(findings.find((f) => f.kind === "registered")).toMatchObject({ store: null, id: "client", daysLeft: 5, threshold: 7 });
    expect(findings.filter((f) => f.subject === "CN=Expiry CRL Root" && f.kind === "anchor")).toEqual([]);

    // Configured thresholds: only 10 → 8, 7, 2, 1 and 5 (registered), 2 (CRL) hit; 30 does not.
    const ten = checkExpiry(snapshot, NOW, [10]).map((f) => f.daysLeft).sort((a, b) => a - b);
    expect(ten).toEqual([-1, 1, 2, 2, 5, 7, 8]);
  });

  it("POSTs all findings once per run to the webhook with the bearer token, and logs nothing to a missing webhook", async () => {
    await seed({ hook: { anchors: [await expiring("Hook 7", 7), await expiring("Hook 1", 1)] } }, []);
    const m = mockFetch({ [WEBHOOK]: () => new Response(null, { status: 204 }) });
    const e = { ...(env as unknown as Env), ALERT_WEBHOOK_URL: WEBHOOK, ALERT_WEBHOOK_TOKEN: "tok", EXPIRY_WARN_DAYS: "30,7,1" };
    const report = await runScheduled(e, { now: NOW, fetch: m.f });
    expect(report.webhookDelivered).toBe(true);
    const hooks = m.calls.filter((c) => c.url === WEBHOOK);
    expect(hooks).toHaveLength(1);
    expect(hooks[0]!.method).toBe("POST");
    expect(hooks[0]!.headers.authorization).toBe("Bearer tok");
    expect(hooks[0]!.headers["content-type"]).toBe("application/json");
    const body = m.posts()[0]!;
    expect(body).toMatchObject({ source: "certgate", at: NOW.toISOString(), version: await activeVersion(), failures: [] });
    expect(body.expiry.map((f: { subject: string; threshold: number }) => [f.subject, f.threshold])).toEqual([["CN=Hook 7", 7], ["CN=Hook 1", 1]]);

    const none = mockFetch();
    const quiet = await runScheduled(env as unknown as Env, { now: NOW, fetch: none.f });
    expect(quiet.findings).toHaveLength(2);
    expect(quiet.webhookDelivered).toBeNull();
    expect(none.calls).toHaveLength(0);
  });

  it("a webhook that hangs is cut off at its timeout, and one that fails is logged, never thrown", async () => {
    await seed({ hook: { anchors: [await expiring("Hook slow", 3)] } }, []);
    const e = { ...(env as unknown as Env), ALERT_WEBHOOK_URL: WEBHOOK };
    const slow = mockFetch({ [WEBHOOK]: hang });
    const t0 = Date.now();
    const r1 = await runScheduled(e, { now: NOW, fetch: slow.f, webhookTimeoutMs: 50 });
    expect(r1.webhookDelivered).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(slow.calls[0]!.headers.authorization).toBeUndefined();
    const broken = mockFetch({ [WEBHOOK]: () => new Response("no", { status: 500 }) });
    expect((await runScheduled(e, { now: NOW, fetch: broken.f })).webhookDelivered).toBe(false);
    const throwing = mockFetch({ [WEBHOOK]: () => { throw new TypeError("network down"); } });
    expect((await runScheduled(e, { now: NOW, fetch: throwing.f })).webhookDelivered).toBe(false);
  });
});

describe("CRL refresh", () => {
  const URL = "http://crl.test/root.crl";
  const withDp = (name: string, urls = [URL]) => root(name, "p-256", { crlDistributionPoints: { points: [{ uris: urls }] } });
  const e = { ...(env as unknown as Env), ALERT_WEBHOOK_URL: WEBHOOK };

  /** A store whose root publishes at URL, holding a CRL (number 5) that expires in a day. */
  async function staleStore(optIn = true) {
    const r = await withDp("Refresh Root");
    const stored = await crl({ issuer: r, crlNumber: 5, thisUpdate: new Date(NOW.getTime() - 6 * DAY), nextUpdate: new Date(NOW.getTime() + DAY) });
    const version = await seed({ refresh: { anchors: [r], crls: [stored.der] }, other: { anchors: [await root("Other Root")] } }, optIn ? ["refresh"] : [], { values: { a: "b" } });
    return { r, stored, version };
  }

  it("replaces a stale CRL with a newer valid one in a new complete version, and the TrustStore reads it", async () => {
    const { r, version } = await staleStore();
    const fresh = await crl({ issuer: r, crlNumber: 6, entries: [{ serialNumber: "0A", revocationDate: new Date(NOW.getTime() - DAY) }] });
    const m = mockFetch({ [URL]: () => der(fresh.der), [WEBHOOK]: () => new Response(null, { status: 204 }) });
    const report = await runScheduled(e, { now: NOW, fetch: m.f });
    expect(report.failures).toEqual([]);
    expect(report.refresh!.replacements).toMatchObject([{ store: "refresh", url: URL, index: 0, crlNumber: "6" }]);
    const next = await activeVersion();
    expect(next).not.toBe(version);
    expect(next).toBe(report.refresh!.version);
    expect(next).toMatch(/^20260601T120000Z-crl-[0-9a-f]{12}$/);

    // Every key copied, only the CRL changed; the opt-in flag survives.
    const oldKeys = (await kv.list({ prefix: `v/${version}/` })).keys.map((k) => k.name.slice(`v/${version}/`.length)).sort();
    const newKeys = (await kv.list({ prefix: `v/${next}/` })).keys.map((k) => k.name.slice(`v/${next}/`.length)).sort();
    expect(newKeys).toEqual(oldKeys);
    expect(JSON.parse((await kv.get(`v/${next}/store/refresh`, "text"))!)).toMatchObject({ refreshCrls: true, crls: 1 });
    expect(await kv.get(`v/${next}/values`, "text")).toBe(await kv.get(`v/${version}/values`, "text"));
    expect(new Uint8Array((await kv.get(`v/${next}/crl/refresh/0`, "arrayBuffer"))!)).toEqual(fresh.der);

    const store = new TrustStore(kv, { refreshMs: 0, kvTimeoutMs: 2_000 });
    const material = await store.material("refresh");
    expect(material.ok).toBe(true);
    if (!material.ok) return;
    const crls = [...material.value.crls.values()].flat();
    expect(crls.map((c) => c.crlNumber)).toEqual([6n]);
    expect(crls[0]!.entries.map((x) => x.serialNumber)).toEqual(["0A"]);

    // The next run finds the same CRL at the URL: nothing to do, no new version.
    const again = await runScheduled(e, { now: NOW, fetch: m.f });
    expect(again.refresh!.version).toBeNull();
    expect(again.failures).toEqual([]);
    expect(await activeVersion()).toBe(next);
  });

  const refusals: Array<[string, string, (r: BuiltCertificate) => Promise<Handler>, Record<string, unknown>?]> = [
    ["a bad signature", "signature_invalid", async (r) => {
      const impostor = await root("Impostor");
      const c = await crl({ issuer: impostor, issuerNameOverride: r.subjectDer, crlNumber: 9 });
      return () => der(c.der);
    }],
    ["a wrong issuer", "wrong_issuer", async () => {
      const c = await crl({ issuer: await root("Someone Else"), crlNumber: 9 });
      return () => der(c.der);
    }],
    ["an older number", "not_newer", async (r) => {
      const c = await crl({ issuer: r, crlNumber: 4 });
      return () => der(c.der);
    }],
    ["an expired CRL", "expired", async (r) => {
      const c = await crl({ issuer: r, crlNumber: 9, thisUpdate: new Date(NOW.getTime() - 3 * DAY), nextUpdate: new Date(NOW.getTime() - DAY) });
      return () => der(c.der);
    }],
    ["an oversized streamed body (8 MiB + 1, no Content-Length)", "too_large", async () => () => {
      let sent = 0;
      const chunk = new Uint8Array(1024 * 1024);
      return new Response(new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= 8) {
            c.enqueue(new Uint8Array(1));
            c.close();
          } else {
            c.enqueue(chunk);
          }
          sent++;
        },
      }));
    }],
    ["HTTP 500", "http_status", async () => () => new Response("oops", { status: 500 })],
    ["a timeout", "timeout", async () => hang, { fetchTimeoutMs: 50 }],
    ["garbage", "malformed", async () => () => new Response("not a crl")],
  ];
  for (const [what, reason, make, opts] of refusals) {
    it(`refuses ${what}: old CRL kept, alert raised`, async () => {
      const { r, stored, version } = await staleStore();
      const m = mockFetch({ [URL]: await make(r), [WEBHOOK]: () => new Response(null, { status: 204 }) });
      const report = await runScheduled(e, { now: NOW, fetch: m.f, ...opts });
      expect(report.refresh!.version).toBeNull();
      expect(report.failures).toMatchObject([{ event: "crl_refresh_failed", store: "refresh", url: URL, reason }]);
      expect(await activeVersion()).toBe(version);
      expect(new Uint8Array((await kv.get(`v/${version}/crl/refresh/0`, "arrayBuffer"))!)).toEqual(stored.der);
      const posted = m.posts();
      expect(posted).toHaveLength(1);
      expect(posted[0]!.failures).toMatchObject([{ reason, url: URL }]);
    });
  }

  it(`fetches at most ${MAX_CRL_FETCHES} CRLs per run and alerts about the rest`, async () => {
    const urls = Array.from({ length: 20 }, (_, i) => `http://crl.test/${i}.crl`);
    const r = await withDp("Many DPs", urls);
    await seed({ many: { anchors: [r] } }, ["many"]);
    const m = mockFetch();
    const report = await runScheduled(env as unknown as Env, { now: NOW, fetch: m.f });
    expect(m.calls.filter((c) => c.url.startsWith("http://crl.test/"))).toHaveLength(MAX_CRL_FETCHES);
    expect(report.refresh!.fetches).toBe(MAX_CRL_FETCHES);
    expect(report.failures.filter((f) => "reason" in f && f.reason === "budget_exceeded")).toHaveLength(20 - MAX_CRL_FETCHES);
    expect(report.failures.filter((f) => "reason" in f && f.reason === "http_status")).toHaveLength(MAX_CRL_FETCHES);
  });

  it("adds a CRL to an opted-in store that has none for that issuer", async () => {
    const r = await withDp("Fresh Root");
    const version = await seed({ add: { anchors: [r] } }, ["add"]);
    const fresh = await crl({ issuer: r, crlNumber: 1 });
    const report = await runScheduled(env as unknown as Env, { now: NOW, fetch: mockFetch({ [URL]: () => der(fresh.der) }).f });
    const next = await activeVersion();
    expect(next).not.toBe(version);
    expect(report.refresh!.replacements).toMatchObject([{ store: "add", index: null, issuer: "CN=Fresh Root" }]);
    expect(JSON.parse((await kv.get(`v/${next}/store/add`, "text"))!)).toMatchObject({ crls: 1, refreshCrls: true });
  });

  it("leaves a store without opt-in untouched", async () => {
    const { version } = await staleStore(false);
    const m = mockFetch({ [URL]: () => { throw new Error("must not be fetched"); } });
    const report = await runScheduled(env as unknown as Env, { now: NOW, fetch: m.f });
    expect(m.calls).toHaveLength(0);
    expect(report.refresh).toMatchObject({ fetches: 0, version: null, alerts: [] });
    expect(await activeVersion()).toBe(version);
  });
});
