/**
 * rate-limit / quota per subscription and rate-limit-by-key's calls / renewal-period expressions, through the whole
 * Worker with the real local Durable Objects (binding COUNTERS) and the registered certificates in KV: a
 * subscription is a registered certificate (else the validated certificate itself), `<api>` / `<operation>` limits
 * apply only to their operation, and an expression giving a bad limit is a policy error, never an allow.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../../scripts/pki/builder";
import { ca, leaf, root } from "../../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../../../test/support/gateway";
import { at, bundle, code, operation, tpl } from "../../../test/support/policies";
import { runLimit, type LimitHost } from "./limit-step";
import type { CounterCall } from "./counters";
import type { LimitStep, SubscriptionScope } from "./schema";

let r: BuiltCertificate, i: BuiltCertificate;
let run = 0;
const unique = () => `s${Date.now()}-${run++}`;
/** A fresh client per test: Durable Objects keep their counts across the tests of a file. */
const client = () => leaf(`Client ${unique()}`, i, "p-256");

beforeAll(async () => {
  r = await root("Subscription Root");
  i = await ca("Subscription CA", r);
  await publish(env.TRUST, uniqueVersion("subs"), { default: { anchors: [r], intermediates: [i] } });
});

const withCert = (c: BuiltCertificate) => ({ headers: viaTerminator({ "client-cert": byteSequence(c) }) });

function subscriptionLimit(o: Partial<LimitStep> & { subscription: SubscriptionScope }): LimitStep {
  return {
    k: "rate-limit-by-key", at: at(), calls: 2, bandwidthKb: null, periodSeconds: 60, anchorMs: 0, counterKey: tpl(""),
    incrementCondition: null, incrementCount: 1, incrementCountCode: null, retryAfterHeader: "Retry-After", retryAfterVariable: null,
    remainingCallsHeader: null, remainingCallsVariable: null, totalCallsHeader: null, failureMode: "deny", ...o,
  };
}
const everywhere: SubscriptionScope = { element: "rate-limit", api: null, operation: null };

describe("rate-limit per subscription (a registered certificate)", () => {
  it("each client certificate is its own subscription: the third call of 2 is 429, another client is not limited", async () => {
    const [alice, bob] = [await client(), await client()];
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [subscriptionLimit({ subscription: everywhere })] }));
    const statuses = [];
    for (let n = 0; n < 3; n++) statuses.push((await s.request("/", withCert(alice))).status);
    expect(statuses).toEqual([200, 200, 429]);
    const res = await s.request("/", withCert(alice));
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { code: string }).code).toBe("rate_limit_exceeded");
    expect((await s.request("/", withCert(bob))).status).toBe(200);
  });

  it("quota per subscription answers 403 quota_exceeded; <api>/<operation> limits apply only to their operation", async () => {
    const alice = await client();
    const api = unique();
    const quota: SubscriptionScope = { element: "quota", api: null, operation: null };
    const onlyGet: SubscriptionScope = { element: "rate-limit", api: { id: api, name: null }, operation: { id: null, name: "get" } };
    const s = scenario({}, recordingOrigin(), bundle({}, [
      operation(api, "get", "GET", "/get", { inbound: [subscriptionLimit({ subscription: onlyGet, calls: 1 })] }),
      operation(api, "list", "GET", "/list", { inbound: [subscriptionLimit({ subscription: onlyGet, calls: 1 })] }),
      operation(api, "buy", "POST", "/buy", { inbound: [subscriptionLimit({ k: "quota-by-key", subscription: quota, calls: 1, periodSeconds: 3600, anchorMs: -62_135_596_800_000 })] }),
    ]));
    expect((await s.request(`/${api}/get`, withCert(alice))).status).toBe(200);
    expect((await s.request(`/${api}/get`, withCert(alice))).status).toBe(429);
    // The <operation name="get"> limit is not this operation's: /list is not limited by it.
    for (let n = 0; n < 3; n++) expect((await s.request(`/${api}/list`, withCert(alice))).status).toBe(200);
    expect((await s.request(`/${api}/buy`, { ...withCert(alice), method: "POST" })).status).toBe(200);
    const over = await s.request(`/${api}/buy`, { ...withCert(alice), method: "POST" });
    expect(over.status).toBe(403);
    expect(((await over.json()) as { code: string }).code).toBe("quota_exceeded");
  });
});

describe("the subscription key and where a limit applies (runLimit with a recording counter)", () => {
  function host(subscription: string | null, op: LimitHost["operation"], evaluate: LimitHost["evaluate"] = () => null) {
    const names: string[] = [];
    const counter: CounterCall = async (name, req) => {
      names.push(name);
      return { ok: true, value: { allowed: true, callsUsed: 1, kilobytesUsed: 0, remainingCalls: req.calls === null ? null : req.calls - 1, retryAfterSeconds: null } };
    };
    const h: LimitHost = {
      text: async () => "unused", evaluate, condition: () => true, setVariable: () => {}, counter,
      subscription: async () => subscription, operation: op, invalid: (message) => new Error(`invalid: ${message}`),
      nowMs: 1_000_000, requestId: "r", log: () => {},
    };
    return { h, names };
  }
  const op = { apiId: "cars", apiName: "Cars", id: "get-car", name: "Get car" };

  it("keys by subscription, element, API and operation; matches <api>/<operation> by id or name", async () => {
    const a = host("registered:alice", op);
    await runLimit(subscriptionLimit({ subscription: everywhere }), a.h);
    await runLimit(subscriptionLimit({ subscription: { element: "rate-limit", api: { id: null, name: "Cars" }, operation: { id: "get-car", name: null } } }), a.h);
    const skipped = await runLimit(subscriptionLimit({ subscription: { element: "rate-limit", api: { id: "trucks", name: null }, operation: null } }), a.h);
    expect(skipped).toMatchObject({ kind: "allowed", note: "not this operation" });
    expect(a.names).toEqual(["rate-limit|60|rate-limit|*|*|registered:alice", "rate-limit|60|rate-limit|name=Cars|get-car|registered:alice"]);
  });

  it("a rate-limit-by-key counter-key (maybe the client's) never names a subscription's counter", async () => {
    const a = host("registered:alice", op);
    await runLimit(subscriptionLimit({ subscription: everywhere }), a.h);
    // A by-key step whose counter-key reads a request header the client set to the subscription's key text.
    const forged = { ...a.h, text: async () => "rate-limit|*|*|registered:alice" };
    await runLimit({ ...subscriptionLimit({ subscription: everywhere }), subscription: null, counterKey: tpl("from-a-header") }, forged);
    expect(a.names).toHaveLength(2);
    expect(a.names[1]).not.toBe(a.names[0]);
  });

  it("registered certificates unreadable: the counter store's failure mode (deny by default)", async () => {
    const a = host(null, op);
    expect(await runLimit(subscriptionLimit({ subscription: everywhere }), a.h)).toMatchObject({ kind: "denied", error: { code: "counter_store_unavailable" } });
    expect(a.names).toEqual([]);
  });

  it("rate-limit-by-key calls / renewal-period expressions: evaluated per request; a bad value is a policy error", async () => {
    const values: Record<string, unknown> = { calls: 5, period: "30" };
    const evaluate: LimitHost["evaluate"] = (c) => values[(c as unknown as { tag: string }).tag] as never;
    const step = (calls: string, period: string) => ({
      ...subscriptionLimit({ subscription: null as unknown as SubscriptionScope }), subscription: null, counterKey: tpl("k"),
      callsCode: { tag: calls } as never, periodCode: { tag: period } as never,
    });
    const a = host(null, op, evaluate);
    await runLimit(step("calls", "period"), a.h);
    expect(a.names).toEqual(["rate-limit-by-key|30|unused"]);
    for (const bad of [0, -1, 2.5, "ten", null, 301]) {
      values.bad = bad;
      await expect(runLimit(step("calls", "bad"), a.h)).rejects.toThrow(/invalid: rate-limit-by-key renewal-period evaluated to/);
    }
    values.bad = 0;
    await expect(runLimit(step("bad", "period"), a.h)).rejects.toThrow(/calls evaluated to 0: expected a whole number from 1/);
  });

  it("through the Worker: calls from an expression limits; a non-positive result answers 500 policy_expression_failed", async () => {
    const alice = await client();
    const limit = (callsSource: string) => subscriptionLimit({
      subscription: null as unknown as SubscriptionScope, counterKey: tpl(`@("${unique()}" + context.Request.Certificate.Thumbprint)`), callsCode: code(callsSource),
    });
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [{ ...limit(`@(context.Request.Headers.GetValueOrDefault("X-Tier", "") == "gold" ? 3 : 1)`), subscription: null }] }));
    const gold = { headers: { ...withCert(alice).headers, "x-tier": "gold" } };
    expect([(await s.request("/", gold)).status, (await s.request("/", gold)).status, (await s.request("/", withCert(alice))).status]).toEqual([200, 200, 429]);
    const bad = scenario({}, recordingOrigin(), bundle({ inbound: [{ ...limit("@(0)"), subscription: null }] }));
    const res = await bad.request("/", withCert(alice));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("policy_expression_failed");
    expect(bad.origin.calls).toHaveLength(0);
  });
});

describe("rate-limiting-binding: the Workers Rate Limiting binding (miniflare's local implementation of [[ratelimits]] SHORT_LIMITS)", () => {
  it("the binding answers: within its limit 200, then 429 with Retry-After = the period; another client is counted apart", async () => {
    const [alice, bob] = [await client(), await client()];
    // SHORT_LIMITS as vitest.config.ts binds it: 5 per 10 s.
    const step = subscriptionLimit({ subscription: everywhere, calls: 5, periodSeconds: 10, rateLimitingBinding: "SHORT_LIMITS", totalCallsHeader: "X-Limit" });
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [step] }));
    const responses: Response[] = [];
    for (let n = 0; n < 7; n++) responses.push(await s.request("/", withCert(alice)));
    const statuses = responses.map((r) => r.status);
    // Locally the binding admits its limit per window. A 10 s window boundary falling inside these few
    // milliseconds could admit one more, so the 6th or the 7th call is refused, not necessarily both.
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    const refused = responses.slice(5).find((r) => r.status === 429);
    expect(refused, statuses.join(",")).toBeDefined();
    expect(refused!.headers.get("retry-after")).toBe("10");
    expect(refused!.headers.get("x-limit")).toBe("5");
    expect(((await refused!.json()) as { code: string }).code).toBe("rate_limit_exceeded");
    expect((await s.request("/", withCert(bob))).status).toBe(200);
  });

  it("a binding that is not there: the failure mode (deny: 503 counter_store_unavailable)", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [subscriptionLimit({ subscription: everywhere, calls: 5, periodSeconds: 10, rateLimitingBinding: "NOT_BOUND" })] }));
    const res = await s.request("/", withCert(await client()));
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("counter_store_unavailable");
  });
});
