/**
 * cache-lookup-value / cache-store-value / cache-remove-value inside workerd on the real Cache API (caches.default):
 * through the whole Worker across requests, default-value, removal, invalid values; and the adapter's failure rule
 * (a broken cache is a miss, never an error).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../../test/support/gateway";
import { at, bundle, step, tpl } from "../../test/support/policies";
import type { CacheValueStep } from "./cache-schema";
import { workersValueCache } from "./value-cache";

let r: BuiltCertificate, i: BuiltCertificate, alice: BuiltCertificate;
let n = 0;
const unique = () => `cache-test-${Date.now()}-${n++}`;

beforeAll(async () => {
  r = await root("Cache Root");
  i = await ca("Cache CA", r);
  alice = await leaf("Cache Alice", i, "p-256");
  await publish(env.TRUST, uniqueVersion("cache"), { default: { anchors: [r], intermediates: [i] } });
});

const req = (extra: Record<string, string> = {}) => ({ headers: viaTerminator({ "client-cert": byteSequence(alice), ...extra }) });
const lookup = (key: string, variable: string, defaultValue: string | null = null): CacheValueStep =>
  ({ k: "cache-lookup-value", at: at(), key: tpl(key), variable, defaultValue: defaultValue === null ? null : tpl(defaultValue) });
const store = (key: string, value: string, duration = "60"): CacheValueStep => ({ k: "cache-store-value", at: at(), key: tpl(key), value: tpl(value), durationSeconds: tpl(duration) });
const remove = (key: string): CacheValueStep => ({ k: "cache-remove-value", at: at(), key: tpl(key) });

describe("value cache through the Worker", () => {
  it("stores in one request, finds it in the next; misses take default-value; remove empties it", async () => {
    const key = unique();
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [
        lookup(key, "cached", "none"),
        step.setHeader("X-Cached", ["@((string)context.Variables[\"cached\"])"]),
        step.choose([["@(context.Request.Headers.GetValueOrDefault(\"X-Op\", \"\") == \"store\")", [store(key, "@(\"entitled:\" + context.Request.Certificate.Thumbprint)")]],
          ["@(context.Request.Headers.GetValueOrDefault(\"X-Op\", \"\") == \"remove\")", [remove(key)]]]),
      ],
    }));
    await s.request("/", req());
    expect(s.origin.calls[0]!.headers["x-cached"]).toBe("none");
    await s.request("/", req({ "x-op": "store" }));
    await s.request("/", req());
    expect(s.origin.calls[2]!.headers["x-cached"]).toMatch(/^entitled:[0-9A-F]{40}$/);
    await s.request("/", req({ "x-op": "remove" }));
    await s.request("/", req());
    expect(s.origin.calls[4]!.headers["x-cached"]).toBe("none");
  });

  it("without default-value a miss leaves the variable unset", async () => {
    const s = scenario({}, recordingOrigin(), bundle({
      inbound: [lookup(unique(), "v"), step.setHeader("X-Has", ["@(context.Variables.ContainsKey(\"v\").ToString())"])],
    }));
    await s.request("/", req());
    expect(s.origin.calls[0]!.headers["x-has"]).toBe("False");
  });

  it("an invalid duration is a runtime error: 500 policy_expression_failed, nothing stored", async () => {
    const key = unique();
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [store(key, "x", "@(\"0\")")] }));
    const res = await s.request("/", req());
    expect(res.status).toBe(500);
    expect(((await res.json()) as { code: string }).code).toBe("policy_expression_failed");
    expect(await workersValueCache(caches.default, () => {}).get(key)).toBeNull();
  });
});

describe("the Cache API adapter", () => {
  it("round-trips strings, numbers and booleans, and long keys (hashed)", async () => {
    const c = workersValueCache(caches.default, () => {});
    const long = `${unique()}${"k".repeat(2000)}`;
    await c.put(long, "v", 60);
    await c.put(`${long}-n`, 42, 60);
    await c.put(`${long}-b`, false, 60);
    expect([await c.get(long), await c.get(`${long}-n`), await c.get(`${long}-b`), await c.get(`${long}-none`)]).toEqual(["v", 42, false, null]);
  });

  it("a failing cache is a miss and a logged no-op, never an exception", async () => {
    const broken = { match: () => Promise.reject(new Error("down")), put: () => Promise.reject(new Error("down")), delete: () => Promise.reject(new Error("down")) } as unknown as Cache;
    const events: string[] = [];
    const c = workersValueCache(broken, (event, fields) => events.push(`${event}:${String(fields.op)}`));
    expect(await c.get("k")).toBeNull();
    await c.put("k", "v", 60);
    await c.delete("k");
    expect(events).toEqual(["value_cache_failed:get", "value_cache_failed:put", "value_cache_failed:delete"]);
  });
});
