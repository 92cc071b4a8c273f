/**
 * cache-lookup and cache-store in the runner: the key, the rules for what is looked up and stored, and the
 * downstream Cache-Control. APIM: "Get from cache" (https://learn.microsoft.com/azure/api-management/cache-lookup-policy),
 * "Store to cache" (https://learn.microsoft.com/azure/api-management/cache-store-policy).
 *
 * Contract: no I/O of its own (the ResponseCache does it), no clock. Rules:
 * - Only GET requests are looked up and stored (APIM caches responses to GET only).
 * - A request carrying Authorization is looked up / stored only with allow-private-response-caching true (APIM).
 * - Per client (every step not `shared`): the key holds the validated certificate's SHA-256; a request without a
 *   validated certificate is neither looked up nor stored — one client's response is never served to another.
 * - cache-store stores the final response (after outbound) when a cache-lookup of this request missed: status 200
 *   only unless cache-response is true (APIM), never with Set-Cookie (certgate: a per-client header), body at most
 *   MAX_CACHED_RESPONSE_BYTES (larger: sent, not stored).
 * - A hit answers at once: the rest of inbound, the backend and outbound do not run (the stored response is the
 *   final one of the request that stored it, outbound edits included).
 * - downstream-caching-type private / public: Cache-Control `private|public, max-age=<duration>` (+ must-revalidate)
 *   on a stored or served-from-cache response; none: the response's own Cache-Control is left as it is.
 */
import type { ResponseCacheStep } from "./response-cache-schema";
import { fromStored, MAX_CACHED_RESPONSE_BYTES, responseCacheKey, toStored, type ResponseCache } from "./response-cache";
import { MAX_CACHE_SECONDS } from "./value-cache";
import type { Template } from "./schema";
import { readCapped } from "../bytes";

type Lookup = Extract<ResponseCacheStep, { k: "cache-lookup" }>;
type Store = Extract<ResponseCacheStep, { k: "cache-store" }>;

export interface ResponseCacheHost {
  text(t: Template): Promise<string>;
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  /** The operation key (`api/operation`, `*`). */
  readonly operation: string;
  /** SHA-256 of the validated client certificate, or null. */
  readonly client: string | null;
  /** The cache of each store (null: not bound). */
  cache(store: Lookup["store"]): ResponseCache | null;
}

/** What a lookup that missed leaves for cache-store. */
export interface PendingStore {
  readonly key: string;
  readonly cache: ResponseCache;
  readonly downstream: "none" | "private" | "public";
  readonly mustRevalidate: boolean;
}

export type LookupOutcome =
  | { readonly kind: "hit"; readonly response: Response; readonly note: string }
  | { readonly kind: "miss"; readonly pending: PendingStore; readonly note: string }
  | { readonly kind: "skipped"; readonly note: string };

const truthy = (s: string) => s.trim().toLowerCase() === "true";

/** Runs cache-lookup. An invalid downstream-caching-type from an expression counts as none. */
export async function lookupResponse(step: Lookup, host: ResponseCacheHost): Promise<LookupOutcome> {
  if (host.method !== "GET") return { kind: "skipped", note: `skipped: ${host.method} (only GET is cached)` };
  if (host.headers.has("authorization") && !truthy(await host.text(step.allowPrivateResponseCaching))) {
    return { kind: "skipped", note: "skipped: Authorization without allow-private-response-caching" };
  }
  if (!step.shared && host.client === null) return { kind: "skipped", note: "skipped: per-client cache and no validated certificate" };
  const cache = host.cache(step.store);
  if (cache === null) return { kind: "skipped", note: `skipped: no ${step.store === "external" ? "POLICY_CACHE binding" : "cache"}` };
  const d = (await host.text(step.downstreamCachingType)).trim();
  const downstream = d === "private" || d === "public" ? d : "none";
  const mustRevalidate = truthy(await host.text(step.mustRevalidate));
  const key = responseCacheKey({
    method: host.method, operation: host.operation, url: host.url, headers: host.headers,
    varyByHeaders: step.varyByHeaders, varyByQuery: step.varyByQuery, client: step.shared ? null : host.client,
  });
  const who = step.shared ? "shared" : "this client";
  const stored = await cache.get(key);
  const pending = { key, cache, downstream, mustRevalidate } as const;
  if (stored === null) return { kind: "miss", pending, note: `miss (${who}, ${step.store})` };
  return { kind: "hit", response: withDownstream(fromStored(stored), pending, null), note: `hit (${who}, ${step.store})` };
}

/** cache-store's attributes, evaluated in outbound; null with a note when they are invalid. */
export async function storeSettings(step: Store, host: Pick<ResponseCacheHost, "text">): Promise<{ seconds: number; anyStatus: boolean } | string> {
  const text = (await host.text(step.duration)).trim();
  const seconds = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= MAX_CACHE_SECONDS)) return `duration ${JSON.stringify(text)} is not 1 to ${MAX_CACHE_SECONDS} seconds`;
  return { seconds, anyStatus: step.cacheResponse !== null && truthy(await host.text(step.cacheResponse)) };
}

/** After outbound: stores `response` when the rules allow; returns the response to send and what happened. */
export async function storeResponse(response: Response, pending: PendingStore, settings: { seconds: number; anyStatus: boolean }): Promise<{ response: Response; note: string }> {
  if (response.status !== 200 && !settings.anyStatus) return { response, note: `not stored: status ${response.status}` };
  if (response.headers.has("set-cookie")) return { response, note: "not stored: Set-Cookie" };
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > MAX_CACHED_RESPONSE_BYTES) return { response, note: "not stored: body too large" };
  let bytes: Uint8Array = new Uint8Array(0);
  let out = response;
  if (response.body) {
    // Read a copy: the client still gets the whole body when it is over the cap.
    const [mine, theirs] = response.body.tee();
    out = new Response(theirs, response);
    const read = await readCapped(mine, MAX_CACHED_RESPONSE_BYTES);
    if (read === null) return { response: out, note: "not stored: body too large" };
    bytes = read;
  }
  // The downstream Cache-Control is stored with the entry, so a hit sends the same one.
  out = withDownstream(out, pending, settings.seconds);
  const stored = toStored(out, bytes);
  if (stored === null) return { response: out, note: "not stored: body too large" };
  await pending.cache.put(pending.key, stored, settings.seconds);
  return { response: out, note: `stored for ${settings.seconds} s` };
}

/** The downstream Cache-Control (max-age: the duration when storing, else left to the stored header's value). */
function withDownstream(response: Response, p: PendingStore, seconds: number | null): Response {
  if (p.downstream === "none") return response;
  const r = new Response(response.body, response);
  const maxAge = seconds ?? Number(/max-age=(\d+)/.exec(r.headers.get("cache-control") ?? "")?.[1] ?? "0");
  r.headers.set("cache-control", `${p.downstream}, max-age=${maxAge}${p.mustRevalidate ? ", must-revalidate" : ""}`);
  return r;
}
