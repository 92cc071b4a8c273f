/**
 * policy/shaping — the decisions of the request-shaping policies, as APIM's policy reference describes them:
 * cors, ip-filter, check-header, set-query-parameter, rewrite-uri, find-and-replace. run.ts evaluates the
 * policies' templates and carries out what these functions decide (answers, failures, the origin call).
 *
 * Contract: pure — plain values in, a decision out; no I/O, no clock, never throws for any input.
 */
import type { Step } from "./schema";
import { inRange, parseIp } from "./ip";

type Cors = Extract<Step, { k: "cors" }>;

/** What a cors step does with a request (learn.microsoft.com/azure/api-management/cors-policy). */
export type CorsDecision =
  /** A matching preflight: answer 200 with these headers. */
  | { readonly kind: "answer"; readonly headers: Headers; readonly note: string }
  /** An unmatched request cors terminates: an empty 200. */
  | { readonly kind: "empty"; readonly note: string }
  /** An unmatched preflight left to a later cors (terminate-unmatched-request="false"). */
  | { readonly kind: "declined"; readonly note: string }
  /** A matching cross-origin request: it goes on, and its response gets these headers. */
  | { readonly kind: "allowed"; readonly headers: Headers; readonly note: string }
  /** Not cross-origin, or unmatched and let through without CORS headers. */
  | { readonly kind: "pass"; readonly note: string };

/**
 * A preflight (OPTIONS with Origin and Access-Control-Request-Method) whose origin, method and requested headers
 * are allowed is answered with the Access-Control-Allow-* headers; an allowed cross-origin request goes on with
 * Access-Control-Allow-Origin (and -Credentials, -Expose-Headers) on its response. Unmatched: with
 * terminate-unmatched-request (default true) a preflight, GET or HEAD ends with an empty 200; without, the request
 * goes on with no CORS headers, and a preflight is left to a later cors.
 */
export function decideCors(step: Cors, method: string, request: Headers): CorsDecision {
  const origin = request.get("origin");
  if (origin === null) return { kind: "pass", note: "not cross-origin" };
  const folded = origin.toLowerCase();
  const originOk = step.origins.some((o) => o === "*" || o.toLowerCase() === folded);
  const allowOrigin = step.origins.includes("*") && !step.allowCredentials ? "*" : origin;
  const requestedMethod = request.get("access-control-request-method");
  const methods = step.methods ?? ["GET", "POST"];
  if (method === "OPTIONS" && requestedMethod !== null) {
    const requested = (request.get("access-control-request-headers") ?? "").split(",").map((h) => h.trim()).filter((h) => h !== "");
    const methodOk = methods.includes("*") || methods.some((m) => m.toUpperCase() === requestedMethod.toUpperCase());
    const allowed = new Set(step.headers.map((h) => h.toLowerCase()));
    const headersOk = allowed.has("*") || requested.every((h) => allowed.has(h.toLowerCase()));
    if (originOk && methodOk && headersOk) {
      const out = new Headers({ "access-control-allow-origin": allowOrigin });
      if (step.allowCredentials) out.set("access-control-allow-credentials", "true");
      out.set("access-control-allow-methods", methods.includes("*") ? requestedMethod : methods.join(","));
      if (requested.length > 0) out.set("access-control-allow-headers", requested.join(","));
      if (step.maxAge !== null) out.set("access-control-max-age", String(step.maxAge));
      if (allowOrigin !== "*") out.set("vary", "Origin");
      return { kind: "answer", headers: out, note: "preflight answered" };
    }
    return step.terminateUnmatched
      ? { kind: "empty", note: "preflight not allowed: empty 200" }
      : { kind: "declined", note: "preflight not allowed: left to a later cors" };
  }
  if (!originOk) {
    return step.terminateUnmatched && (method === "GET" || method === "HEAD")
      ? { kind: "empty", note: "origin not allowed: empty 200" }
      : { kind: "pass", note: "origin not allowed: no CORS headers" };
  }
  const out = new Headers({ "access-control-allow-origin": allowOrigin });
  if (step.allowCredentials) out.set("access-control-allow-credentials", "true");
  if (step.expose.length > 0) out.set("access-control-expose-headers", step.expose.join(","));
  if (allowOrigin !== "*") out.set("vary", "Origin");
  return { kind: "allowed", headers: out, note: "origin allowed" };
}

/** ip-filter: whether the client at `address` may pass; an address that cannot be read never does (fail closed). */
export function ipFilterAllows(step: Extract<Step, { k: "ip-filter" }>, address: string): boolean {
  const ip = parseIp(address);
  if (ip === null) return false;
  const listed = step.addresses.some((a) => {
    const x = parseIp(a);
    return x !== null && x.family === ip.family && x.value === ip.value;
  }) || step.ranges.some((r) => {
    const from = parseIp(r.from);
    const to = parseIp(r.to);
    return from !== null && to !== null && inRange(ip, from, to);
  });
  return step.action === "allow" ? listed : !listed;
}

/** check-header's verdict: null when the header passes, else APIM's Reason and message. */
export function checkHeaderFailure(name: string, actual: string | null, allowed: readonly string[], ignoreCase: boolean): { reason: string; message: string } | null {
  if (actual === null) return { reason: "HeaderNotFound", message: `Header ${name} was not found in the request. Access denied.` };
  if (allowed.length === 0) return null;
  const fold = (x: string) => (ignoreCase ? x.toLowerCase() : x);
  if (allowed.some((v) => fold(v) === fold(actual))) return null;
  return { reason: "HeaderValueNotAllowed", message: `Header ${name} value of ${actual} is not allowed. Access denied.` };
}

/** set-query-parameter's exists-action on `query` (each value its own `name=value`). `written`: values were given. */
export function editQuery(query: URLSearchParams, action: "override" | "skip" | "append" | "delete", name: string, values: readonly string[], written: boolean): void {
  switch (action) {
    case "delete":
      query.delete(name);
      return;
    case "skip":
      if (!query.has(name)) for (const v of values) query.append(name, v);
      return;
    case "append":
      for (const v of values) query.append(name, v);
      return;
    case "override":
      if (values.length > 0 || !written) {
        query.delete(name);
        for (const v of values.length > 0 ? values : [""]) query.append(name, v);
      }
  }
}

/**
 * rewrite-uri's target: the path APIM appends to the backend's base URL — "the given URI template appended to the
 * Web service URL" (APIM's reference, https://learn.microsoft.com/azure/api-management/rewrite-uri-policy, shows
 * only templates starting with "/"; it does not say what a template without one means. APIM's portal writes an
 * operation's "Rewrite URL template" as this policy, and it is appended, so a relative template is read the same
 * as with "/"). `{name}` filled with the operation's template parameter (percent-encoded as one segment);
 * the template's query, plus the current query's parameters it does not name when `copy` (copy-unmatched-params).
 */
export function rewriteTarget(template: string, params: ReadonlyMap<string, string>, current: URLSearchParams, copy: boolean):
  { readonly path: string; readonly query: URLSearchParams } | { readonly error: string } {
  let missing: string | null = null;
  const filled = template.replace(/\{([^{}]+)\}/g, (_, name: string) => {
    const v = params.get(name);
    if (v === undefined) {
      missing ??= name;
      return "";
    }
    return encodeURIComponent(v);
  });
  if (missing !== null) return { error: `template parameter {${missing}} is not in the operation's URL template` };
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(filled)) return { error: `template ${JSON.stringify(template)} is an absolute URL, not a path under the backend's base URL` };
  const q = filled.indexOf("?");
  const query = new URLSearchParams(q >= 0 ? filled.slice(q + 1) : "");
  if (copy) {
    const named = new Set(query.keys());
    for (const [k, v] of current) if (!named.has(k)) query.append(k, v);
  }
  // APIM appends the template to the backend's base URL, with or without a leading "/" ("sap/x" is "/sap/x"); an
  // empty path is the base URL itself (template="" or "?a=1").
  const path = q >= 0 ? filled.slice(0, q) : filled;
  return { path: path === "" || path.startsWith("/") ? path : `/${path}`, query };
}

/**
 * find-and-replace on text: every ordinal occurrence (C#'s String.Replace), or null when the result would be longer
 * than `max` — measured before the result is built, so many matches in a short body cannot build a huge string.
 */
export function replaceAll(text: string, from: string, to: string, max: number): { readonly text: string; readonly count: number } | null {
  const parts = text.split(from);
  if (text.length + (parts.length - 1) * (to.length - from.length) > max) return null;
  return { text: parts.join(to), count: parts.length - 1 };
}
