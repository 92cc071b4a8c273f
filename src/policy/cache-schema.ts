/**
 * The compiled form of `cache-lookup-value`, `cache-store-value` and `cache-remove-value` (shared by
 * scripts/compile-policies/check-cache.ts and the runner). APIM policy reference: "Get value from cache"
 * (https://learn.microsoft.com/azure/api-management/cache-lookup-value-policy), "Store value in cache"
 * (…/cache-store-value-policy), "Remove value from cache" (…/cache-remove-value-policy). certgate's cache is the
 * Workers Cache API (per data center, as APIM's internal cache is per region): policy/value-cache.ts.
 */
import type { Origin, Template } from "./schema";

/** caching-type="external": the KV namespace POLICY_CACHE (policy/kv-cache.ts); absent: the Workers Cache API. */
interface Where {
  readonly store?: "external";
}

export type CacheValueStep =
  | ({ readonly k: "cache-lookup-value"; readonly at: Origin; readonly key: Template; readonly variable: string; readonly defaultValue: Template | null } & Where)
  | ({ readonly k: "cache-store-value"; readonly at: Origin; readonly key: Template; readonly value: Template; readonly durationSeconds: Template } & Where)
  | ({ readonly k: "cache-remove-value"; readonly at: Origin; readonly key: Template } & Where);
