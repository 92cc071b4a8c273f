/**
 * The value cache of cache-lookup-value / cache-store-value / cache-remove-value on the Workers Cache API
 * (https://developers.cloudflare.com/workers/runtime-apis/cache/): per data center, eventually consistent across
 * data centers (a value stored in one colo is not seen in another), entries may be evicted before they expire —
 * APIM's internal cache makes the same promises per region.
 *
 * Contract: the only caller of the Cache API for values. Never throws: a cache failure is a miss (lookup) or a
 * logged no-op (store, remove) — a cache is an optimization, never a reason to fail a request. Values are strings,
 * numbers, booleans (what a policy variable holds that certgate can serialize); bounded in size.
 */
import { sha256Hex } from "../pki/crypto";
import type { Value } from "./expr/host";

/** One cached value's JSON text: values are entitlements, tokens, small documents. */
export const MAX_CACHED_VALUE_CHARS = 256 * 1024;
/** Keys longer than this are cached under their SHA-256. */
export const MAX_CACHE_KEY_CHARS = 1024;
/** APIM's duration is seconds; the Cache API honours max-age up to a year. */
export const MAX_CACHE_SECONDS = 365 * 86_400;

/** A plain cached value, or null on a miss. */
export type CachedValue = string | number | boolean;

export interface ValueCache {
  get(key: string): Promise<CachedValue | null>;
  put(key: string, value: CachedValue, seconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** True for a policy value the cache can hold. */
export function isCacheable(v: Value): v is CachedValue {
  return typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isFinite(v));
}

/** The synthetic URL a key is stored under (the Cache API keys on URLs; this host is never fetched). */
async function cacheUrl(key: string): Promise<string> {
  if (key.length <= MAX_CACHE_KEY_CHARS) return `https://certgate-value-cache.invalid/v/${encodeURIComponent(key)}`;
  return `https://certgate-value-cache.invalid/h/${await sha256Hex(new TextEncoder().encode(key))}`;
}

/** The cache over a Workers `Cache` (caches.default); `log` receives failures. */
export function workersValueCache(cache: Cache, log: (event: string, fields: Record<string, unknown>) => void): ValueCache {
  return {
    async get(key) {
      try {
        const res = await cache.match(await cacheUrl(key));
        if (!res) return null;
        const v: unknown = JSON.parse(await res.text());
        return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : null;
      } catch (e) {
        log("value_cache_failed", { op: "get", internal: String(e) });
        return null;
      }
    },
    async put(key, value, seconds) {
      const text = JSON.stringify(value);
      if (text.length > MAX_CACHED_VALUE_CHARS || !(seconds > 0)) return;
      try {
        await cache.put(await cacheUrl(key), new Response(text, {
          headers: { "content-type": "application/json", "cache-control": `max-age=${Math.min(Math.floor(seconds), MAX_CACHE_SECONDS)}` },
        }));
      } catch (e) {
        log("value_cache_failed", { op: "put", internal: String(e) });
      }
    },
    async delete(key) {
      try {
        await cache.delete(await cacheUrl(key));
      } catch (e) {
        log("value_cache_failed", { op: "delete", internal: String(e) });
      }
    },
  };
}
