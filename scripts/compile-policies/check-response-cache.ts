/**
 * compile-policies/check-response-cache — `<cache-lookup>` and `<cache-store>` (whole responses) → a
 * ResponseCacheStep (src/policy/response-cache-schema.ts).
 *
 * Contract: pure; reports every problem and returns no step when any was found. Attributes and children follow the
 * APIM policy reference, "Get from cache" (https://learn.microsoft.com/azure/api-management/cache-lookup-policy) and
 * "Store to cache" (https://learn.microsoft.com/azure/api-management/cache-store-policy):
 * - cache-lookup: vary-by-developer and vary-by-developer-groups (required, literal true/false),
 *   downstream-caching-type (none | private | public, expressions allowed), must-revalidate, allow-private-response-caching
 *   (expressions allowed), caching-type (internal | prefer-external → the Workers Cache API; external → KV
 *   POLICY_CACHE), children vary-by-header / vary-by-query-parameter (literal names; a `;`-separated list is split).
 * - cache-store: duration (required; seconds, expressions allowed), cache-response (expressions allowed).
 * certgate's isolation rule (docs/per-client-limits.md): responses are keyed by the client certificate unless the
 * policy says they are public — vary-by-developer="false", vary-by-developer-groups="false" and a literal
 * downstream-caching-type="public". vary-by-developer="false" without that is a warning: certgate still keys by the
 * client (it fails closed rather than share one client's response with another).
 */
import type { CacheStore, ResponseCacheStep } from "../../src/policy/response-cache-schema";
import type { Template } from "../../src/policy/schema";
import { MAX_CACHE_SECONDS } from "../../src/policy/value-cache";
import type { XmlElement } from "./read-xml";
import type { Diagnostics, SourceFile } from "./source";
import { errorCount, HEADER_NAME, literalText, type CheckContext, type CheckTools } from "./check-tools";
import { toTemplate } from "./template";

/** At most this many vary-by children (each adds to every key). */
const MAX_VARY = 16;

export function checkResponseCache(t: CheckTools, ctx: CheckContext, el: XmlElement): ResponseCacheStep[] {
  const before = errorCount(t.diags);
  const at = t.origin(ctx, el);
  const tpl = (a: ReturnType<typeof t.attributes>, name: string, fallback: string): Template =>
    (a.get(name) ? toTemplate(ctx, a.get(name)!.value, false) : null) ?? { t: "text", v: fallback };
  if (el.name === "cache-store") {
    const a = t.attributes(ctx, el, ["duration"], ["cache-response"]);
    t.noChildren(ctx, el);
    const duration = tpl(a, "duration", "");
    if (duration.t === "text") {
      const s = /^[0-9]{1,10}$/.test(duration.v.trim()) ? Number(duration.v.trim()) : NaN;
      if (!(s >= 1 && s <= MAX_CACHE_SECONDS)) t.badValue(ctx, a.get("duration")!, `seconds from 1 to ${MAX_CACHE_SECONDS}, or an expression`);
    }
    const cacheResponse = a.get("cache-response") ? tpl(a, "cache-response", "false") : null;
    if (cacheResponse?.t === "text" && !/^(true|false)$/i.test(cacheResponse.v.trim())) t.badValue(ctx, a.get("cache-response")!, "true or false, or an expression");
    if (errorCount(t.diags) > before) return [];
    return [{ k: "cache-store", at, duration, cacheResponse }];
  }
  const a = t.attributes(ctx, el, ["vary-by-developer", "vary-by-developer-groups"], [
    "caching-type", "downstream-caching-type", "must-revalidate", "allow-private-response-caching",
  ]);
  const byDeveloper = t.bool(ctx, a.get("vary-by-developer"), true);
  const byGroups = t.bool(ctx, a.get("vary-by-developer-groups"), true);
  const downstream = tpl(a, "downstream-caching-type", "none");
  if (downstream.t === "text" && !["none", "private", "public"].includes(downstream.v.trim())) t.badValue(ctx, a.get("downstream-caching-type")!, "none, private or public");
  const mustRevalidate = tpl(a, "must-revalidate", "true");
  const allowPrivate = tpl(a, "allow-private-response-caching", "false");
  for (const [name, v] of [["must-revalidate", mustRevalidate], ["allow-private-response-caching", allowPrivate]] as const) {
    if (v.t === "text" && !/^(true|false)$/i.test(v.v.trim())) t.badValue(ctx, a.get(name)!, "true or false, or an expression");
  }
  let store: CacheStore = "internal";
  const type = a.get("caching-type");
  if (type) {
    const v = t.literal(ctx, type);
    if (v === "external") store = "external";
    else if (v !== null && v !== "internal" && v !== "prefer-external") t.badValue(ctx, type, "internal, prefer-external or external");
  }
  const shared = !byDeveloper && !byGroups && downstream.t === "text" && downstream.v.trim() === "public";
  if (!byDeveloper && !shared) {
    t.diags.warning(ctx.file, a.get("vary-by-developer")!.valueStart,
      "vary-by-developer=\"false\": certgate still caches per client certificate; to share responses between clients, the policy must also say they are public (vary-by-developer-groups=\"false\" downstream-caching-type=\"public\")", 5);
  }
  const varyByHeaders: string[] = [];
  const varyByQuery: string[] = [];
  for (const child of t.children(ctx, el, ["vary-by-header", "vary-by-query-parameter"])) {
    t.noAttributes(ctx, child);
    const text = literalText(t, ctx, child);
    if (text === null) continue;
    const names = text.split(";").map((s) => s.trim()).filter((s) => s !== "");
    if (names.length === 0) t.diags.error(ctx.file, child.start, `<${child.name}> needs a name`, child.name.length + 1);
    for (const name of names) {
      if (child.name === "vary-by-header") {
        if (!HEADER_NAME.test(name)) t.diags.error(ctx.file, child.start, `<vary-by-header> must be a header name, not ${JSON.stringify(name)}`, child.name.length + 1);
        else varyByHeaders.push(name.toLowerCase());
      } else varyByQuery.push(name);
    }
  }
  if (varyByHeaders.length + varyByQuery.length > MAX_VARY) t.diags.error(ctx.file, el.start, `<cache-lookup> varies by at most ${MAX_VARY} headers and query parameters`, el.name.length + 1);
  if (errorCount(t.diags) > before) return [];
  return [{ k: "cache-lookup", at, varyByHeaders, varyByQuery, shared, downstreamCachingType: downstream, mustRevalidate, allowPrivateResponseCaching: allowPrivate, store }];
}

/** Policies that decide whether a client may have an answer: a cache hit before them answers without running them. */
const GUARDS = new Set([
  "validate-client-certificate", "validate-jwt", "validate-azure-ad-token", "check-header", "ip-filter",
  "rate-limit", "rate-limit-by-key", "quota", "quota-by-key",
]);

/**
 * A warning for each guard (validate-jwt, check-header, a rate limit …) that comes after a `<cache-lookup>` in the same
 * document's `<inbound>`, in document order (branches of `<choose>` included): a hit answers at once and skips it
 * (APIM's semantics too, so not an error), which is rarely what the policy's author meant.
 */
export function warnGuardsAfterLookup(file: SourceFile, diags: Diagnostics, inbound: XmlElement): void {
  let lookup: XmlElement | null = null;
  const walk = (el: XmlElement): void => {
    for (const child of el.children) {
      if (child.kind !== "element") continue;
      if (child.name === "cache-lookup" && lookup === null) lookup = child;
      else if (lookup !== null && GUARDS.has(child.name)) {
        const at = file.position((lookup as XmlElement).start);
        diags.warning(file, child.start, `<${child.name}> comes after <cache-lookup> (${at.line}:${at.col}): a cache hit answers at once and skips it; put it before <cache-lookup>`, child.name.length + 1);
      }
      walk(child);
    }
  };
  walk(inbound);
}
