/**
 * rate-limit-by-key and quota-by-key inside workerd with the real local Durable Objects (binding COUNTERS from
 * wrangler.toml): the pure window arithmetic, the counter object under concurrency, and the whole Worker (429 / 403
 * with Retry-After and problem+json, headers, deferred increments, failure-mode).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { BuiltCertificate } from "../../../scripts/pki/builder";
import { ca, leaf, root } from "../../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../../../test/support/gateway";
import { at, bundle, code, tpl } from "../../../test/support/policies";
import { applyHit, windowStartOf, type CounterRequest } from "./window";
import { counterCall } from "./counters";
import type { LimitStep } from "./schema";

let r: BuiltCertificate, i: BuiltCertificate, alice: BuiltCertificate, bob: BuiltCertificate;
let run = 0;
/** A counter-key prefix unique to each use (Durable Objects keep their counts across tests of a file). */
const unique = () => `t${Date.now()}-${run++}`;

beforeAll(async () => {
  r = await root("Limits Root");
  i = await ca("Limits CA", r);
  alice = await leaf("Alice", i, "p-256");
  bob = await leaf("Bob", i, "p-256");
  await publish(env.TRUST, uniqueVersion("limits"), { default: { anchors: [r], intermediates: [i] } });
});

const withCert = (c: BuiltCertificate) => ({ headers: viaTerminator({ "client-cert": byteSequence(c) }) });

function limit(o: Partial<LimitStep> & { key: string }): LimitStep {
  return {
    k: "rate-limit-by-key", at: at(), calls: 3, bandwidthKb: null, periodSeconds: 60, anchorMs: 0,
    counterKey: tpl(`@("${o.key}:" + context.Request.Certificate.Thumbprint)`), incrementCondition: null, incrementCount: 1,
    incrementCountCode: null, retryAfterHeader: "Retry-After", retryAfterVariable: null, remainingCallsHeader: null,
    remainingCallsVariable: null, totalCallsHeader: null, failureMode: "deny", ...o,
  };
}

const take = (o: Partial<CounterRequest> = {}): CounterRequest => ({
  mode: "take", nowMs: 1_000_000, periodMs: 60_000, anchorMs: 0, calls: 2, kilobytes: null, addCalls: 1, addKilobytes: 0, ...o,
});

describe("counter windows (pure)", () => {
  it("aligns windows to the anchor, endless for period 0", () => {
    expect(windowStartOf(125_000, 60_000, 0)).toBe(120_000);
    expect(windowStartOf(125_000, 60_000, 10_000)).toBe(70_000);
    expect(windowStartOf(125_000, 0, -5)).toBe(-5);
  });

  it("take admits up to calls, refuses without counting, renews in the next window; Retry-After counts down", () => {
    let s = { windowStart: Number.NaN, calls: 0, kilobytes: 0 };
    const answers = [];
    for (let n = 0; n < 3; n++) {
      const x = applyHit(s, take({ nowMs: 1_000_000 + n * 1000 }));
      s = x.state;
      answers.push(x.answer);
    }
    expect(answers.map((a) => [a.allowed, a.callsUsed, a.remainingCalls])).toEqual([[true, 1, 1], [true, 2, 0], [false, 2, 0]]);
    // 1,000,000 ms is in the window [960,000, 1,020,000): 18 s left at 1,002,000.
    expect(answers[2]!.retryAfterSeconds).toBe(18);
    expect(applyHit(s, take({ nowMs: 1_020_000 })).answer).toMatchObject({ allowed: true, callsUsed: 1 });
  });

  it("an increment larger than what is left is refused; check does not count; add always counts", () => {
    const s = applyHit({ windowStart: Number.NaN, calls: 0, kilobytes: 0 }, take({ calls: 5, addCalls: 4 })).state;
    expect(applyHit(s, take({ calls: 5, addCalls: 2 })).answer).toMatchObject({ allowed: false, callsUsed: 4 });
    expect(applyHit(s, take({ calls: 5, mode: "check" }))).toMatchObject({ state: s, answer: { allowed: true } });
    const full = applyHit(s, take({ calls: 5, mode: "add", addCalls: 3 })).state;
    expect(full.calls).toBe(7);
    expect(applyHit(full, take({ calls: 5, mode: "check" })).answer.allowed).toBe(false);
    expect(applyHit(s, take({ calls: null, kilobytes: 10, mode: "add", addCalls: 1, addKilobytes: 10 })).answer).toMatchObject({ allowed: true, kilobytesUsed: 10 });
  });
});

describe("the counter Durable Object", () => {
  it("admits exactly `calls` of 60 concurrent takes, and the count stays exact", async () => {
    const call = counterCall(env.COUNTERS);
    const name = `concurrency-${unique()}`;
    const nowMs = Date.now();
    const answers = await Promise.all(Array.from({ length: 60 }, () => call(name, take({ nowMs, calls: 25 }))));
    const allowed = answers.filter((a) => a.ok && a.value.allowed).length;
    const refused = answers.filter((a) => a.ok && !a.value.allowed).length;
    expect([allowed, refused]).toEqual([25, 35]);
    const after = await call(name, take({ nowMs, calls: 25, mode: "check" }));
    expect(after).toMatchObject({ ok: true, value: { allowed: false, callsUsed: 25 } });
  });

  it("refuses a malformed request with counter_store_unavailable (no exception escapes)", async () => {
    const r = await counterCall(env.COUNTERS)(`bad-${unique()}`, take({ addCalls: -1 }));
    expect(r).toMatchObject({ ok: false, error: { code: "counter_store_unavailable" } });
    expect(await counterCall(undefined)("x", take())).toMatchObject({ ok: false, error: { code: "counter_store_unavailable" } });
  });
});

describe("rate-limit-by-key through the Worker", () => {
  it("answers the 4th call of 3 with 429 problem+json and Retry-After; another client has its own counter", async () => {
    const key = unique();
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [limit({ key, remainingCallsHeader: "X-Remaining", totalCallsHeader: "X-Total" })] }));
    const statuses: number[] = [];
    const remaining: Array<string | null> = [];
    for (let n = 0; n < 4; n++) {
      const res = await s.request("/", withCert(alice));
      statuses.push(res.status);
      remaining.push(res.headers.get("x-remaining"));
      if (n === 3) {
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        const retry = Number(res.headers.get("retry-after"));
        expect(retry).toBeGreaterThanOrEqual(1);
        expect(retry).toBeLessThanOrEqual(60);
        expect(res.headers.get("x-total")).toBe("3");
        const body = (await res.json()) as { status: number; code: string };
        expect([body.status, body.code]).toEqual([429, "rate_limit_exceeded"]);
      } else {
        expect(res.headers.get("x-total")).toBe("3");
      }
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    expect(remaining).toEqual(["2", "1", "0", "0"]);
    expect(s.origin.calls).toHaveLength(3);
    expect((await s.request("/", withCert(bob))).status).toBe(200);
  });

  it("holds under concurrency: 40 concurrent requests against calls=15 → exactly 15 reach the origin", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [limit({ key: unique(), calls: 15 })] }));
    const results = await Promise.all(Array.from({ length: 40 }, () => s.request("/", withCert(alice))));
    const counts = { ok: results.filter((x) => x.status === 200).length, limited: results.filter((x) => x.status === 429).length };
    expect(counts).toEqual({ ok: 15, limited: 25 });
    expect(s.origin.calls).toHaveLength(15);
  });

  it("increment-condition is evaluated after the response: failed origin calls are not counted", async () => {
    let status = 500;
    const s = scenario({}, recordingOrigin(() => new Response("x", { status })), bundle({
      inbound: [limit({ key: unique(), calls: 2, incrementCondition: code("@(context.Response.StatusCode == 200)") })],
    }));
    for (let n = 0; n < 4; n++) expect((await s.request("/", withCert(alice))).status).toBe(500);
    status = 200;
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    expect((await s.request("/", withCert(alice))).status).toBe(429);
  });

  it("increment-count: a call costing 2 of 3 leaves room for none of the same size", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [limit({ key: unique(), calls: 3, incrementCount: 2 })] }));
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    expect((await s.request("/", withCert(alice))).status).toBe(429);
  });

  it("counter store unavailable: failure-mode deny → 503, allow → forwarded; both logged", async () => {
    const logged = vi.spyOn(console, "error");
    const deny = scenario({ COUNTERS: undefined }, recordingOrigin(), bundle({ inbound: [limit({ key: unique() })] }));
    const res = await deny.request("/", withCert(alice));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("counter_store_unavailable");
    const allow = scenario({ COUNTERS: undefined }, recordingOrigin(), bundle({ inbound: [limit({ key: unique(), failureMode: "allow" })] }));
    expect((await allow.request("/", withCert(alice))).status).toBe(200);
    expect(allow.origin.calls).toHaveLength(1);
    const events = logged.mock.calls.map((c) => String(c[0])).filter((l) => l.includes('"counter_store_unavailable"'));
    expect(events.map((l) => (JSON.parse(l) as { failureMode: string }).failureMode)).toEqual(["deny", "allow"]);
    logged.mockRestore();
  });
});

describe("quota-by-key through the Worker", () => {
  it("answers 403 quota_exceeded with Retry-After over the call quota", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [limit({ key: unique(), k: "quota-by-key", calls: 2, periodSeconds: 3600, anchorMs: -62_135_596_800_000 })],
    }));
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    const res = await s.request("/", withCert(alice));
    expect(res.status).toBe(403);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(3600);
    expect(((await res.json()) as { code: string }).code).toBe("quota_exceeded");
  });

  it("bandwidth: the response's kilobytes are counted after it; over the quota the next call is refused", async () => {
    const s = scenario({}, recordingOrigin(() => new Response("x".repeat(3000), { headers: { "content-length": "3000" } })), bundle({
      inbound: [limit({ key: unique(), k: "quota-by-key", calls: null, bandwidthKb: 5, periodSeconds: 3600 })],
    }));
    expect((await s.request("/", withCert(alice))).status).toBe(200); // 3 KB
    expect((await s.request("/", withCert(alice))).status).toBe(200); // 6 KB: over after this one
    expect((await s.request("/", withCert(alice))).status).toBe(403);
  });
});

describe("counter keys", () => {
  it("a key over 512 characters is counted under its SHA-256, never let through", async () => {
    const long = `${unique()}-${"k".repeat(600)}`;
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [limit({ key: "", calls: 1, failureMode: "allow", counterKey: tpl(long) })] }));
    expect((await s.request("/", withCert(alice))).status).toBe(200);
    expect((await s.request("/", withCert(bob))).status).toBe(429);
  });
});
