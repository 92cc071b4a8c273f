/**
 * cache-lookup / cache-store inside workerd on the real local Cache API (caches.default) and KV (binding
 * POLICY_CACHE as vitest.config.ts binds it), through the whole Worker: per-client isolation (client A's response is never
 * served to client B, and is served again to A), the shared (public) case, APIM's store rules (GET, 200 only unless
 * cache-response, Authorization), vary-by-query-parameter, downstream Cache-Control, and caching-type="external".
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator, type OriginCall } from "../../test/support/gateway";
import { at, bundle, tpl } from "../../test/support/policies";
import type { CacheValueStep } from "./cache-schema";
import type { ResponseCacheStep } from "./response-cache-schema";
import type { LimitStep } from "./state/schema";
import { responseCacheKey } from "./response-cache";

let r: BuiltCertificate, i: BuiltCertificate, alice: BuiltCertificate, bob: BuiltCertificate;
let n = 0;
const unique = () => `rc-${Date.now()}-${n++}`;

beforeAll(async () => {
  r = await root("Response Cache Root");
  i = await ca("Response Cache CA", r);
  alice = await leaf("RC Alice", i, "p-256");
  bob = await leaf("RC Bob", i, "p-256");
  await publish(env.TRUST, uniqueVersion("rcache"), { default: { anchors: [r], intermediates: [i] } });
});

const as = (c: BuiltCertificate, extra: Record<string, string> = {}) => ({ headers: viaTerminator({ "client-cert": byteSequence(c), ...extra }) });

function lookup(o: Partial<Extract<ResponseCacheStep, { k: "cache-lookup" }>> = {}): ResponseCacheStep {
  return {
    k: "cache-lookup", at: at(), varyByHeaders: [], varyByQuery: [], shared: false, downstreamCachingType: tpl("none"),
    mustRevalidate: tpl("true"), allowPrivateResponseCaching: tpl("false"), store: "internal", ...o,
  };
}
const store = (duration = "60", cacheResponse: string | null = null): ResponseCacheStep =>
  ({ k: "cache-store", at: at(), duration: tpl(duration), cacheResponse: cacheResponse === null ? null : tpl(cacheResponse) });

/** An origin answering with a fresh body each call ("call N for <client-cert subject>"), so a cached body is recognisable. */
function countingOrigin(status = 200) {
  const calls: string[] = [];
  const { fetcher } = recordingOrigin((req) => {
    calls.push(req.url);
    return new Response(`call ${calls.length} for ${req.headers.get("x-client-cert-subject") ?? req.headers.get("x-client-cert-sha256") ?? "?"}`, { status, headers: { "content-type": "text/plain" } });
  });
  // The scenario reads only `calls.length` here: the URLs stand in for the recorded calls.
  return { calls: calls as unknown as OriginCall[], fetcher };
}

describe("cache-lookup / cache-store: one client's response is never served to another", () => {
  for (const storeKind of ["internal", "external"] as const) {
    it(`${storeKind}: A's response is served again to A, never to B; B gets its own`, async () => {
      const path = `/${unique()}`;
      const s = scenario({}, countingOrigin(), bundle({ inbound: [lookup({ store: storeKind })], outbound: [store()] }));
      const a1 = await (await s.request(path, as(alice))).text();
      const b1 = await (await s.request(path, as(bob))).text();
      const a2 = await (await s.request(path, as(alice))).text();
      const b2 = await (await s.request(path, as(bob))).text();
      expect(a1).toMatch(/^call 1 /);
      expect(b1).toMatch(/^call 2 /);
      expect([a2, b2]).toEqual([a1, b1]);
      expect(s.origin.calls).toHaveLength(2);
      if (storeKind === "external") {
        const keys = (await env.POLICY_CACHE.list({ prefix: "response/" })).keys;
        expect(keys.length).toBeGreaterThanOrEqual(2);
      }
    });
  }

  it("shared (the policy says the response is public): B gets A's stored response", async () => {
    const path = `/${unique()}`;
    const s = scenario({}, countingOrigin(), bundle({ inbound: [lookup({ shared: true, downstreamCachingType: tpl("public") })], outbound: [store("30")] }));
    const a = await s.request(path, as(alice));
    const aText = await a.text();
    const b = await s.request(path, as(bob));
    expect(await b.text()).toBe(aText);
    expect(s.origin.calls).toHaveLength(1);
    expect(a.headers.get("cache-control")).toBe("public, max-age=30, must-revalidate");
    expect(b.headers.get("cache-control")).toBe("public, max-age=30, must-revalidate");
  });

  it("the key holds the client unless shared, and the varied query parameters only", () => {
    const base = { method: "GET", operation: "*", headers: new Headers({ accept: "a" }), varyByHeaders: ["accept"], varyByQuery: ["v"] };
    const k = (url: string, client: string | null) => responseCacheKey({ ...base, url: new URL(url), client });
    expect(k("https://g/p?v=1&x=1", "aa")).toBe(k("https://g/p?x=2&v=1", "aa"));
    expect(k("https://g/p?v=1", "aa")).not.toBe(k("https://g/p?v=2", "aa"));
    expect(k("https://g/p?v=1", "aa")).not.toBe(k("https://g/p?v=1", "bb"));
    expect(k("https://g/p?v=1", null)).not.toBe(k("https://g/p?v=1", "aa"));
  });
});

describe("the key cannot be forged by the request", () => {
  it("repeated query values and one value holding the separator are different keys (?v=a&v=b is not ?v=a,b)", () => {
    const base = { method: "GET", operation: "*", headers: new Headers(), varyByHeaders: [], varyByQuery: ["v"], client: null };
    const k = (url: string) => responseCacheKey({ ...base, url: new URL(url) });
    expect(k("https://g/p?v=a&v=b")).not.toBe(k("https://g/p?v=a,b"));
    expect(k("https://g/p?v=a&v=b")).not.toBe(k("https://g/p?v=b&v=a"));
    expect(k("https://g/p")).not.toBe(k("https://g/p?v="));
  });

  it("the host is part of the key (a policy may pick its backend by the request's host)", () => {
    const base = { method: "GET", operation: "*", headers: new Headers(), varyByHeaders: [], varyByQuery: [], client: null };
    expect(responseCacheKey({ ...base, url: new URL("https://a.example/p") })).not.toBe(responseCacheKey({ ...base, url: new URL("https://b.example/p") }));
  });
});

describe("what a shared entry holds", () => {
  it("not the storing client's rate-limit headers (remaining-calls-header of its own subscription)", async () => {
    const limit: LimitStep = {
      k: "rate-limit-by-key", at: at(), calls: 100, bandwidthKb: null, periodSeconds: 60, anchorMs: 0, counterKey: tpl(""),
      incrementCondition: null, incrementCount: 1, incrementCountCode: null, retryAfterHeader: "Retry-After", retryAfterVariable: null,
      remainingCallsHeader: "X-Remaining", remainingCallsVariable: null, totalCallsHeader: null, failureMode: "deny",
      subscription: { element: "rate-limit", api: null, operation: null },
    };
    const path = `/${unique()}`;
    const s = scenario({}, countingOrigin(), bundle({ inbound: [limit, lookup({ shared: true, downstreamCachingType: tpl("public") })], outbound: [store("30")] }));
    for (let n = 0; n < 2; n++) await (await s.request(`${path}-other`, as(alice))).text();
    const a = await s.request(path, as(alice));
    expect(a.headers.get("x-remaining")).toBe("97");
    const b = await s.request(path, as(bob));
    expect(await b.text()).toBe(await a.text());
    // Bob's hit never carries Alice's count (a hit answers before the limit headers are added: none at all).
    expect(b.headers.get("x-remaining")).not.toBe("97");
  });
});

describe("what is looked up and stored (APIM's rules)", () => {
  it("only 200 is stored unless cache-response is true", async () => {
    const path = `/${unique()}`;
    const s = scenario({}, countingOrigin(500), bundle({ inbound: [lookup()], outbound: [store()] }));
    await s.request(path, as(alice));
    await s.request(path, as(alice));
    expect(s.origin.calls).toHaveLength(2);
    const any = scenario({}, countingOrigin(500), bundle({ inbound: [lookup()], outbound: [store("60", "true")] }));
    const path2 = `/${unique()}`;
    const first = await (await any.request(path2, as(alice))).text();
    const again = await any.request(path2, as(alice));
    expect([again.status, await again.text()]).toEqual([500, first]);
    expect(any.origin.calls).toHaveLength(1);
  });

  it("a request with Authorization is not cached unless allow-private-response-caching; vary-by-query-parameter keys", async () => {
    const path = `/${unique()}`;
    const s = scenario({}, countingOrigin(), bundle({ inbound: [lookup({ varyByQuery: ["v"] })], outbound: [store()] }));
    await s.request(path, as(alice, { authorization: "Bearer x" }));
    await s.request(path, as(alice, { authorization: "Bearer x" }));
    expect(s.origin.calls).toHaveLength(2);
    await s.request(`${path}?v=1&noise=1`, as(alice));
    const hit = await s.request(`${path}?v=1&noise=2`, as(alice));
    expect(s.origin.calls).toHaveLength(3);
    expect(await hit.text()).toMatch(/^call 3 /);
    await s.request(`${path}?v=2`, as(alice));
    expect(s.origin.calls).toHaveLength(4);
    const priv = scenario({}, countingOrigin(), bundle({ inbound: [lookup({ allowPrivateResponseCaching: tpl("true"), downstreamCachingType: tpl("private"), mustRevalidate: tpl("false") })], outbound: [store("45")] }));
    const p = `/${unique()}`;
    await priv.request(p, as(alice, { authorization: "Bearer x" }));
    const cached = await priv.request(p, as(alice, { authorization: "Bearer x" }));
    expect(priv.origin.calls).toHaveLength(1);
    expect(cached.headers.get("cache-control")).toBe("private, max-age=45");
  });

  it("caching-type=\"external\" without the POLICY_CACHE binding: every request goes to the origin (never an error)", async () => {
    const path = `/${unique()}`;
    const s = scenario({ POLICY_CACHE: undefined }, countingOrigin(), bundle({ inbound: [lookup({ store: "external" })], outbound: [store()] }));
    expect((await s.request(path, as(alice))).status).toBe(200);
    expect((await s.request(path, as(alice))).status).toBe(200);
    expect(s.origin.calls).toHaveLength(2);
  });

  it("cache-*-value with caching-type=\"external\" keeps its value in KV POLICY_CACHE", async () => {
    const key = unique();
    const lookupValue: CacheValueStep = { k: "cache-lookup-value", at: at(), key: tpl(key), variable: "v", defaultValue: tpl("none"), store: "external" };
    const storeValue: CacheValueStep = { k: "cache-store-value", at: at(), key: tpl(key), value: tpl("kept"), durationSeconds: tpl("5"), store: "external" };
    const before = (await env.POLICY_CACHE.list({ prefix: "value/" })).keys.length;
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [lookupValue, storeValue] }));
    expect((await s.request("/", as(alice))).status).toBe(200);
    expect((await env.POLICY_CACHE.list({ prefix: "value/" })).keys.length).toBe(before + 1);
  });
});
