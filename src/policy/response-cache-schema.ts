/**
 * The compiled form of `cache-lookup` and `cache-store` (whole responses), shared by
 * scripts/compile-policies/check-response-cache.ts and the runner (policy/response-cache-step.ts). APIM policy
 * reference: "Get from cache" (https://learn.microsoft.com/azure/api-management/cache-lookup-policy) and "Store to
 * cache" (https://learn.microsoft.com/azure/api-management/cache-store-policy).
 *
 * Contract: plain JSON, part of the PolicyBundle's Step union (schema.ts). Keying (response-cache.ts
 * responseCacheKey): a response is cached per client — the validated certificate's SHA-256 is part of the key —
 * unless `shared` is true, which the compiler sets only for vary-by-developer="false", vary-by-developer-groups="false"
 * AND a literal downstream-caching-type="public" (the policy says the response is public). docs/per-client-limits.md.
 */
import type { Origin, Template } from "./schema";

/** Where a cache lives: the Workers Cache API (per data center) or the KV namespace POLICY_CACHE (global, eventually consistent). */
export type CacheStore = "internal" | "external";

export type ResponseCacheStep =
  | {
    readonly k: "cache-lookup";
    readonly at: Origin;
    /** Request header names whose values are part of the key (vary-by-header), lowercase, in order. */
    readonly varyByHeaders: readonly string[];
    /** Query parameter names whose values are part of the key (vary-by-query-parameter); empty: the whole query string. */
    readonly varyByQuery: readonly string[];
    /** The response is the same for every client: no client identity in the key (see the module header). */
    readonly shared: boolean;
    /** none | private | public, or an expression giving one (evaluated per request). */
    readonly downstreamCachingType: Template;
    /** must-revalidate in the downstream Cache-Control (default true), or an expression. */
    readonly mustRevalidate: Template;
    /** Requests carrying Authorization are looked up / stored only when this is true (default false), or an expression. */
    readonly allowPrivateResponseCaching: Template;
    readonly store: CacheStore;
  }
  | {
    readonly k: "cache-store";
    readonly at: Origin;
    /** Seconds (1 to MAX_CACHE_SECONDS), or an expression. */
    readonly duration: Template;
    /** Store any status (true) or only 200 OK (false, APIM's default), or an expression. */
    readonly cacheResponse: Template | null;
  };
