/**
 * compile-policies/check-cache — `<cache-lookup-value>`, `<cache-store-value>`, `<cache-remove-value>` → a
 * CacheValueStep (src/policy/cache-schema.ts).
 *
 * Contract: pure; reports every problem and returns no step when any was found. Attributes follow the APIM policy
 * reference ("Get value from cache", "Store value in cache", "Remove value from cache"). `caching-type`: `internal`
 * and `prefer-external` (the default) run on the Workers Cache API (per data center); `external` runs on the KV
 * namespace bound as POLICY_CACHE (global, eventually consistent; `npm run check` requires the binding). certgate
 * uses KV only where a policy asks for it explicitly: prefer-external does not switch to KV when it is bound,
 * since KV's consistency differs (docs/per-client-limits.md, "Caches").
 */
import type { CacheValueStep } from "../../src/policy/cache-schema";
import { MAX_CACHE_SECONDS } from "../../src/policy/value-cache";
import type { XmlElement } from "./read-xml";
import { errorCount, type CheckContext, type CheckTools } from "./check-tools";
import { toTemplate } from "./template";

export function checkCacheValue(t: CheckTools, ctx: CheckContext, el: XmlElement): CacheValueStep[] {
  const before = errorCount(t.diags);
  const kind = el.name as CacheValueStep["k"];
  const a = kind === "cache-lookup-value"
    ? t.attributes(ctx, el, ["key", "variable-name"], ["default-value", "caching-type"])
    : kind === "cache-store-value"
      ? t.attributes(ctx, el, ["key", "value", "duration"], ["caching-type"])
      : t.attributes(ctx, el, ["key"], ["caching-type"]);
  t.noChildren(ctx, el);
  const type = a.get("caching-type");
  if (type) {
    const v = t.literal(ctx, type);
    if (v !== null && v !== "internal" && v !== "prefer-external" && v !== "external") t.badValue(ctx, type, "internal, prefer-external or external");
  }
  const tpl = (name: string) => (a.get(name) ? toTemplate(ctx, a.get(name)!.value, false) : null);
  const key = tpl("key");
  if (key?.t === "text" && key.v === "") t.badValue(ctx, a.get("key")!, "a cache key (not empty)");
  const at = t.origin(ctx, el);
  // Only an explicit external is KV (the field is absent otherwise, so bundles without it are unchanged).
  const external = t.literal(ctx, type) === "external" ? { store: "external" as const } : {};
  if (kind === "cache-lookup-value") {
    const variable = t.literal(ctx, a.get("variable-name"));
    if (variable === "") t.badValue(ctx, a.get("variable-name")!, "a variable name (not empty)");
    const defaultValue = tpl("default-value");
    if (errorCount(t.diags) > before || !key || !variable) return [];
    return [{ k: kind, at, key, variable, defaultValue, ...external }];
  }
  if (kind === "cache-store-value") {
    const value = tpl("value");
    const duration = tpl("duration");
    // A literal duration is checked now; an expression at run time (the same range).
    if (duration?.t === "text") {
      const seconds = /^[0-9]{1,10}$/.test(duration.v.trim()) ? Number(duration.v.trim()) : NaN;
      if (!(seconds >= 1 && seconds <= MAX_CACHE_SECONDS)) t.badValue(ctx, a.get("duration")!, `seconds from 1 to ${MAX_CACHE_SECONDS}, or an expression`);
    }
    if (errorCount(t.diags) > before || !key || !value || !duration) return [];
    return [{ k: kind, at, key, value, durationSeconds: duration, ...external }];
  }
  if (errorCount(t.diags) > before || !key) return [];
  return [{ k: kind, at, key, ...external }];
}
