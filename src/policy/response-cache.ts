/**
 * The whole-response cache of cache-lookup / cache-store, and the KV ("external") store shared with cache-*-value.
 * APIM: "Get from cache" (https://learn.microsoft.com/azure/api-management/cache-lookup-policy), "Store to cache"
 * (https://learn.microsoft.com/azure/api-management/cache-store-policy). Stores: the Workers Cache API
 * (https://developers.cloudflare.com/workers/runtime-apis/cache/; per data center) for internal / prefer-external,
 * the KV namespace POLICY_CACHE (https://developers.cloudflare.com/kv/api/write-key-value-pairs/; global, a write is
 * seen elsewhere within about 60 s, expirationTtl at least 60 s) for external.
 *
 * Contract: `responseCacheKey` is pure. The stores never throw: a failure is a miss or a logged no-op (a cache is an
 * optimization, never a reason to fail a request). Entries are JSON text with their own expiry, checked on read, so
 * KV's 60 s minimum TTL never serves an entry past the policy's duration. Bounded: MAX_CACHED_RESPONSE_BYTES.
 *
 * The key (isolation rule, docs/per-client-limits.md): method, operation, host, path, the varied query parameters (all of
 * them when none is named), the varied request headers, and — unless the step is `shared` — the client: the
 * validated certificate's SHA-256. A request without a validated certificate is never looked up nor stored for a
 * per-client step. The key text is hashed (SHA-256) into the store's key.
 */
import { decodeBase64, encodeBase64 } from "../cert/decode";
import { policyCacheKey, type POLICY_CACHE_PREFIXES } from "../kv-schema";
import { sha256Hex } from "../pki/crypto";
import type { CachedValue, ValueCache } from "./value-cache";
import { MAX_CACHE_SECONDS, MAX_CACHED_VALUE_CHARS } from "./value-cache";

/** A cached response's body: the responses worth caching in a gateway are documents, not downloads. */
export const MAX_CACHED_RESPONSE_BYTES = 1024 * 1024;
/** Workers KV: expirationTtl must be at least 60 seconds. */
export const KV_MIN_TTL_SECONDS = 60;

/** Text entries with an expiry: the one interface both stores implement. */
export interface TextStore {
  get(key: string): Promise<string | null>;
  put(key: string, text: string, seconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

type Log = (event: string, fields: Record<string, unknown>) => void;

const textSha256Hex = (text: string) => sha256Hex(new TextEncoder().encode(text));

/** Entries wrap their text with an absolute expiry (ms), so no store serves one past its duration. */
interface Envelope {
  readonly exp: number;
  readonly text: string;
}

function unwrap(raw: string | null, nowMs: number): string | null {
  if (raw === null) return null;
  try {
    const e = JSON.parse(raw) as Partial<Envelope>;
    return typeof e.exp === "number" && typeof e.text === "string" && e.exp > nowMs ? e.text : null;
  } catch {
    return null;
  }
}

/** The Workers Cache API as a TextStore (keys under a synthetic host that is never fetched). */
export function cacheApiStore(cache: Cache, namespace: string, log: Log, now: () => number = Date.now): TextStore {
  const url = async (key: string) => `https://certgate-${namespace}.invalid/${await textSha256Hex(key)}`;
  return {
    async get(key) {
      try {
        const res = await cache.match(await url(key));
        return unwrap(res ? await res.text() : null, now());
      } catch (e) {
        log("policy_cache_failed", { store: "cache-api", op: "get", internal: String(e) });
        return null;
      }
    },
    async put(key, text, seconds) {
      try {
        const body = JSON.stringify({ exp: now() + seconds * 1000, text } satisfies Envelope);
        await cache.put(await url(key), new Response(body, { headers: { "content-type": "application/json", "cache-control": `max-age=${Math.ceil(seconds)}` } }));
      } catch (e) {
        log("policy_cache_failed", { store: "cache-api", op: "put", internal: String(e) });
      }
    },
    async delete(key) {
      try {
        await cache.delete(await url(key));
      } catch (e) {
        log("policy_cache_failed", { store: "cache-api", op: "delete", internal: String(e) });
      }
    },
  };
}

/** KV (binding POLICY_CACHE) as a TextStore: keys from src/kv-schema.ts policyCacheKey (docs/kv-schema.md, "POLICY_CACHE"). */
export function kvStore(kv: KVNamespace, kind: keyof typeof POLICY_CACHE_PREFIXES, log: Log, now: () => number = Date.now): TextStore {
  const name = async (key: string) => policyCacheKey(kind, await textSha256Hex(key));
  return {
    async get(key) {
      try {
        return unwrap(await kv.get(await name(key)), now());
      } catch (e) {
        log("policy_cache_failed", { store: "kv", op: "get", internal: String(e) });
        return null;
      }
    },
    async put(key, text, seconds) {
      try {
        const body = JSON.stringify({ exp: now() + seconds * 1000, text } satisfies Envelope);
        await kv.put(await name(key), body, { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, Math.ceil(seconds)) });
      } catch (e) {
        log("policy_cache_failed", { store: "kv", op: "put", internal: String(e) });
      }
    },
    async delete(key) {
      try {
        await kv.delete(await name(key));
      } catch (e) {
        log("policy_cache_failed", { store: "kv", op: "delete", internal: String(e) });
      }
    },
  };
}

/** cache-*-value over a TextStore (caching-type="external": KV). Same value rules as value-cache.ts. */
export function textValueCache(store: TextStore): ValueCache {
  return {
    async get(key) {
      const text = await store.get(key);
      if (text === null) return null;
      try {
        const v: unknown = JSON.parse(text);
        return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : null;
      } catch {
        return null;
      }
    },
    async put(key, value: CachedValue, seconds) {
      const text = JSON.stringify(value);
      if (text.length > MAX_CACHED_VALUE_CHARS || !(seconds > 0)) return;
      await store.put(key, text, Math.min(Math.floor(seconds), MAX_CACHE_SECONDS));
    },
    delete: (key) => store.delete(key),
  };
}

/** What identifies a cached response (see the module header). */
export interface ResponseKeyInput {
  readonly method: string;
  readonly operation: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly varyByHeaders: readonly string[];
  readonly varyByQuery: readonly string[];
  /** The client's certificate SHA-256, or null for a shared (public) step. */
  readonly client: string | null;
}

/** The key text of a response (JSON of its parts: no separator a header value could forge). */
export function responseCacheKey(i: ResponseKeyInput): string {
  const query = i.varyByQuery.length === 0
    ? [...i.url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    : i.varyByQuery.map((q) => [q, i.url.searchParams.getAll(q)]);
  const headers = i.varyByHeaders.map((h) => [h, i.headers.get(h)]);
  return JSON.stringify(["v1", i.method, i.operation, i.url.host, i.url.pathname, query, headers, i.client ?? "*shared*"]);
}

/** A stored response. */
export interface StoredResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body, base64. */
  readonly body: string;
}

export interface ResponseCache {
  get(key: string): Promise<StoredResponse | null>;
  put(key: string, response: StoredResponse, seconds: number): Promise<void>;
}

/** Responses over a TextStore. */
export function textResponseCache(store: TextStore): ResponseCache {
  return {
    async get(key) {
      const text = await store.get(key);
      if (text === null) return null;
      try {
        const r = JSON.parse(text) as StoredResponse;
        return Number.isInteger(r.status) && typeof r.body === "string" && Array.isArray(r.headers) ? r : null;
      } catch {
        return null;
      }
    },
    put: (key, response, seconds) => store.put(key, JSON.stringify(response), Math.min(Math.floor(seconds), MAX_CACHE_SECONDS)),
  };
}

/** Response headers never stored: per-connection (RFC 9110 §7.6.1) and per-client ones. */
const UNSTORED_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "upgrade", "proxy-connection", "te", "trailer", "set-cookie", "age", "date"]);

/** The response as an entry (null: a body over MAX_CACHED_RESPONSE_BYTES), read from `bytes`. */
export function toStored(response: Response, bytes: Uint8Array): StoredResponse | null {
  if (bytes.byteLength > MAX_CACHED_RESPONSE_BYTES) return null;
  const headers: Array<readonly [string, string]> = [];
  response.headers.forEach((v, k) => {
    if (!UNSTORED_HEADERS.has(k)) headers.push([k, v]);
  });
  return { status: response.status, statusText: response.statusText, headers, body: encodeBase64(bytes) };
}

/** An entry as a Response to send. */
export function fromStored(s: StoredResponse): Response {
  const body = s.status === 204 || s.status === 304 ? null : decodeBase64(s.body);
  return new Response(body, { status: s.status, statusText: s.statusText, headers: s.headers as Array<[string, string]> });
}
