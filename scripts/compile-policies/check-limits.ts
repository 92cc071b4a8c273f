/**
 * compile-policies/check-limits — `<rate-limit-by-key>` and `<quota-by-key>` → a LimitStep (src/policy/state/schema.ts).
 *
 * Contract: pure; reports every problem and returns no step when any was found. Attributes follow the APIM policy
 * reference, "Limit call rate by key" (https://learn.microsoft.com/azure/api-management/rate-limit-by-key-policy) and
 * "Set usage quota by key" (https://learn.microsoft.com/azure/api-management/quota-by-key-policy), "Limit call rate
 * by subscription" (https://learn.microsoft.com/azure/api-management/rate-limit-policy) and "Set usage quota by
 * subscription" (https://learn.microsoft.com/azure/api-management/quota-policy).
 * - rate-limit-by-key's `calls` and `renewal-period` may be expressions (APIM allows them there only): evaluated per
 *   request, checked then (limit-step.ts). Elsewhere an expression is an error, as in APIM; ISO 8601 periods (P…)
 *   are an error (certgate counts seconds).
 * - `rate-limit` / `quota`: the counter key is the request's subscription (docs/per-client-limits.md: a registered
 *   certificate's id, else the certificate's SHA-256). Each `<api>` and `<operation>` child is one more step with its
 *   own counter that applies only to that API / operation (name or id; calls, renewal-period — and bandwidth for
 *   quota — default to the parent's where APIM leaves them optional).
 * certgate's additions: `failure-mode="deny|allow"` (the counter store is unreachable; default deny), and on
 * rate-limit-by-key / rate-limit `rate-limiting-binding="NAME"`: count in that Workers Rate Limiting binding
 * (https://developers.cloudflare.com/workers/runtime-apis/bindings/rate-limit/) — approximate, per Cloudflare
 * location, periods of 10 or 60 s only — for operators who accept approximate counts. It takes literal `calls` and
 * `renewal-period` (10 or 60) and none of what the binding cannot do (increment-condition, increment-count,
 * remaining-calls-*, `<api>` children); `npm run check` requires the binding with the same limit and period.
 */
import type { Code } from "../../src/policy/expr/ast";
import type { LimitStep, SubscriptionScope } from "../../src/policy/state/schema";
import type { XmlElement } from "./read-xml";
import { errorCount, HEADER_NAME, integerAttribute, type CheckContext, type CheckTools } from "./check-tools";
import { toTemplate } from "./template";

/** APIM: rate-limit-by-key renewal-period at most 300 s. */
export const MAX_RATE_PERIOD_SECONDS = 300;
/** APIM: quota renewal-period at least 300 s, or 0 (endless). Upper bound: 10 years, enough for any plan. */
const MIN_QUOTA_PERIOD_SECONDS = 300;
const MAX_QUOTA_PERIOD_SECONDS = 10 * 366 * 86_400;
/** Calls and kilobytes fit a Durable Object counter exactly (below 2^53) with room to add. */
export const MAX_COUNT = 1_000_000_000_000;
/** .NET DateTime.MinValue, APIM's default first-period-start (0001-01-01T00:00:00Z), in Unix milliseconds. */
const DOTNET_MIN_DATE_MS = -62_135_596_800_000;

export function checkLimit(t: CheckTools, ctx: CheckContext, el: XmlElement): LimitStep[] {
  if (el.name === "rate-limit" || el.name === "quota") return checkSubscriptionLimit(t, ctx, el);
  const before = errorCount(t.diags);
  const quota = el.name === "quota-by-key";
  const a = quota
    ? t.attributes(ctx, el, ["renewal-period", "counter-key"], ["calls", "bandwidth", "increment-condition", "increment-count", "first-period-start", "failure-mode"])
    : t.attributes(ctx, el, ["calls", "renewal-period", "counter-key"], [
      "increment-condition", "increment-count", "retry-after-header-name", "retry-after-variable-name",
      "remaining-calls-header-name", "remaining-calls-variable-name", "total-calls-header-name", "failure-mode", "rate-limiting-binding",
    ]);
  t.noChildren(ctx, el);
  // rate-limit-by-key: calls and renewal-period may be expressions (evaluated per request).
  const codeOf = (name: string): Code | null => {
    const attr = a.get(name);
    if (quota || !attr) return null;
    const tpl = toTemplate(ctx, attr.value, false);
    return tpl?.t === "code" ? tpl.code : null;
  };
  const callsCode = codeOf("calls");
  const periodCode = codeOf("renewal-period");
  const calls = callsCode ? MAX_COUNT : a.has("calls") ? integerAttribute(t, ctx, a.get("calls"), 1, MAX_COUNT) : null;
  const bandwidthKb = a.has("bandwidth") ? integerAttribute(t, ctx, a.get("bandwidth"), 1, MAX_COUNT) : null;
  if (quota && !a.has("calls") && !a.has("bandwidth")) t.diags.error(ctx.file, el.start, "<quota-by-key> needs calls, bandwidth or both", el.name.length + 1);
  let periodSeconds: number | null = periodCode ? MAX_RATE_PERIOD_SECONDS : null;
  const period = periodCode ? undefined : a.get("renewal-period");
  if (period) {
    const text = t.literal(ctx, period);
    if (text !== null && /^P/i.test(text.trim())) {
      t.badValue(ctx, period, "a number of seconds (ISO 8601 periods are not supported by certgate)");
    } else if (quota) {
      periodSeconds = integerAttribute(t, ctx, period, 0, MAX_QUOTA_PERIOD_SECONDS);
      if (periodSeconds !== null && periodSeconds > 0 && periodSeconds < MIN_QUOTA_PERIOD_SECONDS) {
        t.badValue(ctx, period, `0 (endless) or at least ${MIN_QUOTA_PERIOD_SECONDS} seconds (APIM's minimum)`);
        periodSeconds = null;
      }
    } else {
      periodSeconds = integerAttribute(t, ctx, period, 1, MAX_RATE_PERIOD_SECONDS);
    }
  }
  const counterKey = a.get("counter-key") ? toTemplate(ctx, a.get("counter-key")!.value, false) : null;
  let incrementCondition = null;
  const cond = a.get("increment-condition");
  if (cond) {
    const tpl = toTemplate(ctx, cond.value, false);
    if (tpl?.t === "code") incrementCondition = tpl.code;
    else if (tpl?.t === "text" && tpl.v.trim().toLowerCase() === "true") incrementCondition = null;
    else if (tpl) t.badValue(ctx, cond, "a policy expression @(…) or true");
  }
  let incrementCount = 1;
  let incrementCountCode = null;
  const count = a.get("increment-count");
  if (count) {
    const tpl = toTemplate(ctx, count.value, false);
    if (tpl?.t === "code") incrementCountCode = tpl.code;
    else if (tpl) incrementCount = integerAttribute(t, ctx, count, 0, MAX_COUNT) ?? 1;
  }
  let anchorMs = 0;
  const start = a.get("first-period-start");
  if (quota) {
    anchorMs = DOTNET_MIN_DATE_MS;
    const text = t.literal(ctx, start);
    if (text !== null && start) {
      const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text.trim()) ? Date.parse(text.trim()) : NaN;
      if (Number.isNaN(ms)) t.badValue(ctx, start, "a UTC date-time yyyy-MM-ddTHH:mm:ssZ");
      else anchorMs = ms;
    }
  }
  const header = (name: string) => headerOption(t, ctx, a, name);
  const variable = (name: string) => variableOption(t, ctx, a, name);
  const retryAfterHeader = header("retry-after-header-name") ?? "Retry-After";
  const remainingCallsHeader = header("remaining-calls-header-name");
  const totalCallsHeader = header("total-calls-header-name");
  const retryAfterVariable = variable("retry-after-variable-name");
  const remainingCallsVariable = variable("remaining-calls-variable-name");
  const failureMode = failureModeOption(t, ctx, a);
  const rateLimitingBinding = bindingOption(t, ctx, a, el, periodSeconds, ["increment-condition", "increment-count", "remaining-calls-header-name", "remaining-calls-variable-name"]);
  if (rateLimitingBinding && (callsCode || periodCode)) t.diags.error(ctx.file, a.get("rate-limiting-binding")!.valueStart, "rate-limiting-binding takes literal calls and renewal-period (the binding's limit and period are fixed in wrangler.toml)", rateLimitingBinding.length);
  if (errorCount(t.diags) > before || periodSeconds === null || counterKey === null) return [];
  return [{
    k: quota ? "quota-by-key" : "rate-limit-by-key", at: t.origin(ctx, el), calls, bandwidthKb, periodSeconds, anchorMs, counterKey,
    incrementCondition, incrementCount, incrementCountCode, retryAfterHeader, retryAfterVariable, remainingCallsHeader,
    remainingCallsVariable, totalCallsHeader, failureMode, ...(callsCode ? { callsCode } : {}), ...(periodCode ? { periodCode } : {}),
    ...(rateLimitingBinding ? { rateLimitingBinding } : {}),
  }];
}

/** Periods the Workers Rate Limiting binding counts (its `simple.period`). */
const BINDING_PERIODS = [10, 60];

/** certgate's rate-limiting-binding attribute: the binding name, or null (absent or reported). */
type Attributes = Map<string, import("./read-xml").XmlAttribute>;

/** A `*-header-name` attribute: a header name, or null (absent or reported). */
function headerOption(t: CheckTools, ctx: CheckContext, a: Attributes, name: string): string | null {
  const attr = a.get(name);
  const v = t.literal(ctx, attr);
  if (v !== null && attr && !HEADER_NAME.test(v)) {
    t.badValue(ctx, attr, "a header name");
    return null;
  }
  return v;
}

/** A `*-variable-name` attribute: a non-empty name, or null (absent or reported). */
function variableOption(t: CheckTools, ctx: CheckContext, a: Attributes, name: string): string | null {
  const attr = a.get(name);
  const v = t.literal(ctx, attr);
  if (v === "" && attr) t.badValue(ctx, attr, "a variable name (not empty)");
  return v === "" ? null : v;
}

/** certgate's `failure-mode="deny|allow"` (default deny). */
function failureModeOption(t: CheckTools, ctx: CheckContext, a: Attributes): "deny" | "allow" {
  const mode = a.get("failure-mode");
  if (!mode) return "deny";
  const v = t.literal(ctx, mode);
  if (v === "allow" || v === "deny") return v;
  if (v !== null) t.badValue(ctx, mode, "deny or allow");
  return "deny";
}

function bindingOption(t: CheckTools, ctx: CheckContext, a: Map<string, import("./read-xml").XmlAttribute>, el: XmlElement, periodSeconds: number | null, excluded: readonly string[]): string | null {
  const attr = a.get("rate-limiting-binding");
  if (!attr) return null;
  const name = t.literal(ctx, attr);
  if (name === null) return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name)) {
    t.badValue(ctx, attr, "a binding name (letters, digits, _)");
    return null;
  }
  if (periodSeconds !== null && !BINDING_PERIODS.includes(periodSeconds)) {
    t.diags.error(ctx.file, attr.valueStart, `rate-limiting-binding counts periods of 10 or 60 seconds only, not ${periodSeconds} (the Workers Rate Limiting binding's limit); drop it to count exactly in a Durable Object`, name.length);
  }
  for (const other of excluded) {
    if (a.has(other)) t.diags.error(ctx.file, a.get(other)!.start, `${other} cannot be used with rate-limiting-binding (the binding counts one per call and reports no remaining count)`, other.length);
  }
  if (el.children.some((c) => c.kind === "element")) t.diags.error(ctx.file, attr.valueStart, "rate-limiting-binding cannot be used with <api> / <operation> limits (one binding counts one limit)", name.length);
  return name;
}

/** `<rate-limit>` / `<quota>` with their `<api>` / `<operation>` children: one step per element that limits. */
function checkSubscriptionLimit(t: CheckTools, ctx: CheckContext, el: XmlElement): LimitStep[] {
  const before = errorCount(t.diags);
  const quota = el.name === "quota";
  const a = quota
    ? t.attributes(ctx, el, ["renewal-period"], ["calls", "bandwidth", "failure-mode"])
    : t.attributes(ctx, el, ["calls", "renewal-period"], [
      "retry-after-header-name", "retry-after-variable-name", "remaining-calls-header-name", "remaining-calls-variable-name",
      "total-calls-header-name", "failure-mode", "rate-limiting-binding",
    ]);
  const limits = (attrs: Map<string, import("./read-xml").XmlAttribute>, inherited: { calls: number | null; bandwidthKb: number | null; periodSeconds: number | null } | null, where: XmlElement) => {
    const calls = attrs.has("calls") ? integerAttribute(t, ctx, attrs.get("calls"), 1, MAX_COUNT) : inherited ? inherited.calls : null;
    const bandwidthKb = attrs.has("bandwidth") ? integerAttribute(t, ctx, attrs.get("bandwidth"), 1, MAX_COUNT) : inherited ? inherited.bandwidthKb : null;
    let periodSeconds = inherited?.periodSeconds ?? null;
    const period = attrs.get("renewal-period");
    if (period) {
      const text = t.literal(ctx, period);
      if (text !== null && /^P/i.test(text.trim())) t.badValue(ctx, period, "a number of seconds (ISO 8601 periods are not supported by certgate)");
      else if (quota) {
        periodSeconds = integerAttribute(t, ctx, period, 0, MAX_QUOTA_PERIOD_SECONDS);
        if (periodSeconds !== null && periodSeconds > 0 && periodSeconds < MIN_QUOTA_PERIOD_SECONDS) {
          t.badValue(ctx, period, `0 (endless) or at least ${MIN_QUOTA_PERIOD_SECONDS} seconds (APIM's minimum)`);
          periodSeconds = null;
        }
      } else periodSeconds = integerAttribute(t, ctx, period, 1, MAX_RATE_PERIOD_SECONDS);
    }
    if (quota && calls === null && bandwidthKb === null) t.diags.error(ctx.file, where.start, `<${where.name}> needs calls, bandwidth or both`, where.name.length + 1);
    return { calls, bandwidthKb, periodSeconds };
  };
  const top = limits(a, null, el);
  const header = (name: string) => headerOption(t, ctx, a, name);
  const variable = (name: string) => variableOption(t, ctx, a, name);
  const failureMode = failureModeOption(t, ctx, a);
  const rateLimitingBinding = quota ? null : bindingOption(t, ctx, a, el, top.periodSeconds, ["remaining-calls-header-name", "remaining-calls-variable-name"]);
  const shared = {
    ...(rateLimitingBinding ? { rateLimitingBinding } : {}),
    k: quota ? "quota-by-key" as const : "rate-limit-by-key" as const, anchorMs: quota ? DOTNET_MIN_DATE_MS : 0,
    counterKey: { t: "text" as const, v: "" }, incrementCondition: null, incrementCount: 1, incrementCountCode: null,
    retryAfterHeader: header("retry-after-header-name") ?? "Retry-After", retryAfterVariable: variable("retry-after-variable-name"),
    remainingCallsHeader: header("remaining-calls-header-name"), remainingCallsVariable: variable("remaining-calls-variable-name"),
    totalCallsHeader: header("total-calls-header-name"), failureMode,
  };
  const childAttributes = quota ? ["name", "id", "calls", "bandwidth", "renewal-period"] : ["name", "id", "calls", "renewal-period"];
  const named = (child: XmlElement, attrs: Map<string, import("./read-xml").XmlAttribute>) => {
    const id = t.literal(ctx, attrs.get("id"));
    const name = t.literal(ctx, attrs.get("name"));
    if (id === null && name === null) t.diags.error(ctx.file, child.start, `<${child.name}> needs name or id`, child.name.length + 1);
    return { id, name };
  };
  const steps: Array<{ at: XmlElement; l: ReturnType<typeof limits>; scope: SubscriptionScope }> = [];
  const element = quota ? "quota" as const : "rate-limit" as const;
  steps.push({ at: el, l: top, scope: { element, api: null, operation: null } });
  for (const api of t.children(ctx, el, ["api"])) {
    const aa = t.attributes(ctx, api, [], childAttributes);
    const apiRef = named(api, aa);
    const apiLimits = limits(aa, top, api);
    // An <api> without its own calls/bandwidth only groups operations (no counter of its own).
    if (aa.has("calls") || aa.has("bandwidth")) steps.push({ at: api, l: apiLimits, scope: { element, api: apiRef, operation: null } });
    for (const op of t.children(ctx, api, ["operation"])) {
      const oa = t.attributes(ctx, op, [], childAttributes);
      t.noChildren(ctx, op);
      steps.push({ at: op, l: limits(oa, apiLimits, op), scope: { element, api: apiRef, operation: named(op, oa) } });
    }
  }
  if (errorCount(t.diags) > before) return [];
  return steps.flatMap(({ at, l, scope }) => l.periodSeconds === null ? [] : [{
    ...shared, at: t.origin(ctx, at), calls: l.calls, bandwidthKb: quota ? l.bandwidthKb : null, periodSeconds: l.periodSeconds, subscription: scope,
  }]);
}
