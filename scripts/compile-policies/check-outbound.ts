/**
 * compile-policies/check-outbound — `<send-request>`, `<send-one-way-request>` and `<retry>` → the steps of
 * src/policy/outbound-schema.ts, and return-response's `response-variable-name`.
 *
 * Contract: pure; reports every problem and returns no step when any was found. Attributes, children and defaults
 * follow the APIM policy reference:
 * - https://learn.microsoft.com/azure/api-management/send-request-policy (mode new|copy, default new;
 *   response-variable-name required; timeout seconds, default 60; ignore-error, literal, default false; children
 *   set-url, set-method, set-header, set-body, authentication-certificate, authentication-managed-identity, proxy)
 * - https://learn.microsoft.com/azure/api-management/send-one-way-request-policy (mode, timeout; the same children)
 * - https://learn.microsoft.com/azure/api-management/retry-policy (condition, count 1–50, interval required;
 *   max-interval, delta, first-fast-retry optional; any child policies)
 * - https://learn.microsoft.com/azure/api-management/return-response-policy (response-variable-name)
 * `authentication-managed-identity` authenticates the request with an Entra ID token (check-managed-identity.ts;
 * certgate's credential is an application's, from Worker secrets). What certgate cannot do on Cloudflare is a
 * compile error: `proxy` (Workers' fetch has no HTTP proxy), an `authentication-certificate` by `thumbprint` / `body` (a Worker
 * presents client certificates only through an `mtls_certificates` binding, named by `certificate-id`), a literal
 * timeout above MAX_OUTBOUND_TIMEOUT_SECONDS. certgate's one leniency: `<set-method>` may be left out with
 * mode="new" (GET), as APIM's gateway sends.
 */
import { MAX_OUTBOUND_TIMEOUT_SECONDS } from "../../src/limits";
import type { OutboundRequest, OutboundStep } from "../../src/policy/outbound-schema";
import type { SetHeader, Template } from "../../src/policy/schema";
import { errorCount, type CheckContext, type CheckTools } from "./check-tools";
import { isHttpUrl } from "./layout";
import type { XmlAttribute, XmlElement } from "./read-xml";
import { toTemplate } from "./template";
import { checkManagedIdentityAuth } from "./check-managed-identity";
import type { ManagedIdentityAuth } from "../../src/policy/managed-identity-schema";

/** RFC 9110 §9.1: a method is a token. */
const HTTP_METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** APIM's retry count range. */
const MAX_RETRY_COUNT = 50;

export function checkOutbound(t: CheckTools, ctx: CheckContext, el: XmlElement): OutboundStep[] {
  const before = errorCount(t.diags);
  const at = t.origin(ctx, el);
  if (el.name === "retry") {
    const step = retry(t, ctx, el);
    return step && errorCount(t.diags) === before ? [{ ...step, at }] : [];
  }
  const oneWay = el.name === "send-one-way-request";
  const a = oneWay
    ? t.attributes(ctx, el, [], ["mode", "timeout"])
    : t.attributes(ctx, el, ["response-variable-name"], ["mode", "timeout", "ignore-error"]);
  const request = outboundRequest(t, ctx, el, a);
  if (oneWay) return request && errorCount(t.diags) === before ? [{ k: "send-one-way-request", at, request }] : [];
  const ignoreError = t.bool(ctx, a.get("ignore-error"), false);
  const variableAttr = a.get("response-variable-name");
  const responseVariable = variableAttr ? toTemplate(ctx, variableAttr.value, false) : null;
  if (variableAttr && responseVariable?.t === "text" && responseVariable.v.trim() === "") t.badValue(ctx, variableAttr, "a variable name (not empty)");
  if (!request || !responseVariable || errorCount(t.diags) > before) return [];
  return [{ k: "send-request", at, request, responseVariable, ignoreError }];
}

/** return-response's optional `response-variable-name` (literal); reports anything else on the element. */
export function checkResponseVariable(t: CheckTools, ctx: CheckContext, el: XmlElement): string | null {
  const a = t.attributes(ctx, el, [], ["response-variable-name"]);
  const attr = a.get("response-variable-name");
  const name = t.literal(ctx, attr);
  if (attr && name === "") t.badValue(ctx, attr, "a variable name (not empty)");
  return name === "" ? null : name;
}

function template(ctx: CheckContext, a: XmlAttribute | undefined): Template | null {
  return a ? toTemplate(ctx, a.value, false) : null;
}

/** A literal whole number of seconds within [min, max] (an expression is checked at run time). */
function seconds(t: CheckTools, ctx: CheckContext, a: XmlAttribute | undefined, min: number, max: number, what: string, why = ""): Template | null {
  const tpl = template(ctx, a);
  if (a && tpl?.t === "text") {
    const v = tpl.v.trim();
    const n = /^[0-9]{1,10}$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max)) t.badValue(ctx, a, `${what} from ${min} to ${max}${why}, or an expression`);
  }
  return tpl;
}

function outboundRequest(t: CheckTools, ctx: CheckContext, el: XmlElement, a: Map<string, XmlAttribute>): OutboundRequest | null {
  const mode = template(ctx, a.get("mode")) ?? { t: "text", v: "new" };
  if (mode.t === "text" && mode.v.trim() !== "new" && mode.v.trim() !== "copy") t.badValue(ctx, a.get("mode")!, "new or copy");
  const timeoutAttr = a.get("timeout");
  // APIM documents no maximum; certgate caps one call's wait. A longer literal compiles with a warning and the call
  // times out at the cap (a failure, never an allow), as an expression's longer value does at run time.
  const timeout = seconds(t, ctx, timeoutAttr, 1, 86_400, "seconds");
  if (timeoutAttr && timeout?.t === "text" && Number(timeout.v.trim()) > MAX_OUTBOUND_TIMEOUT_SECONDS) {
    t.diags.warning(ctx.file, timeoutAttr.valueStart, `timeout ${timeout.v.trim()} is above certgate's cap on one call's wait: the call times out after ${MAX_OUTBOUND_TIMEOUT_SECONDS} s`, Math.max(1, timeoutAttr.valueEnd - timeoutAttr.valueStart));
  }
  let url: Template | null = null;
  let method: Template | null = null;
  let body: Template | null = null;
  let certificateId: string | null = null;
  let managedIdentity: ManagedIdentityAuth | null = null;
  const headers: SetHeader[] = [];
  const seen = new Set<string>();
  const allowed = ["set-url", "set-method", "set-header", "set-body", "authentication-certificate", "authentication-managed-identity", "proxy"];
  let ok = true;
  for (const c of t.children(ctx, el, allowed)) {
    if (c.name !== "set-header") {
      if (seen.has(c.name)) {
        t.diags.error(ctx.file, c.start, `<${c.name}> appears twice in <${el.name}>`, c.name.length + 1);
        ok = false;
        continue;
      }
      seen.add(c.name);
    }
    switch (c.name) {
      case "set-url": {
        t.noAttributes(ctx, c);
        url = t.text(ctx, c);
        if (url?.t === "text") {
          url = { t: "text", v: url.v.trim() };
          if (!isHttpUrl(url.v)) {
            t.diags.error(ctx.file, c.start, `<set-url> must hold an absolute http(s) URL, not "${url.v.length > 60 ? `${url.v.slice(0, 57)}…` : url.v}"`, 8);
            ok = false;
          }
        }
        if (url === null) ok = false;
        break;
      }
      case "set-method": {
        // APIM: no policy expressions here.
        t.noAttributes(ctx, c);
        const m = t.text(ctx, c);
        if (m === null) ok = false;
        else if (m.t !== "text") {
          t.diags.error(ctx.file, c.start, `<set-method> in <${el.name}> must be literal text (APIM allows no policy expressions here)`, 11);
          ok = false;
        } else if (!HTTP_METHOD.test(m.v.trim())) {
          t.diags.error(ctx.file, c.start, `<set-method> must hold an HTTP method (RFC 9110 token), not "${m.v.trim()}"`, 11);
          ok = false;
        } else method = { t: "text", v: m.v.trim().toUpperCase() };
        break;
      }
      case "set-header": {
        const h = t.setHeader(ctx, c);
        if (h) headers.push(h);
        else ok = false;
        break;
      }
      case "set-body":
        body = t.body(ctx, c);
        if (body === null) ok = false;
        break;
      case "authentication-certificate": {
        const ca = t.attributes(ctx, c, [], ["certificate-id", "thumbprint", "body", "password"]);
        t.noChildren(ctx, c);
        for (const name of ["thumbprint", "body", "password"]) {
          const x = ca.get(name);
          if (x) {
            t.diags.error(ctx.file, x.start, `authentication-certificate ${name} is not supported: a Worker presents a client certificate only through an mtls_certificates binding; name it with certificate-id="BINDING" ([[mtls_certificates]] binding = "BINDING" in wrangler.toml)`, name.length);
            ok = false;
          }
        }
        const id = t.literal(ctx, ca.get("certificate-id"));
        if (id === "" || (!ca.has("certificate-id") && ca.size === 0)) {
          t.diags.error(ctx.file, c.start, "<authentication-certificate> needs certificate-id: the name of the Worker's mtls_certificates binding", 27);
          ok = false;
        } else if (id !== null && !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(id)) {
          t.badValue(ctx, ca.get("certificate-id")!, "a Worker binding name (letters, digits, _)");
          ok = false;
        } else if (id !== null) certificateId = id;
        break;
      }
      case "authentication-managed-identity": {
        const auth = checkManagedIdentityAuth(t, ctx, c, true);
        if (auth === null) ok = false;
        else managedIdentity = { resource: auth.resource, clientId: auth.clientId, ignoreError: auth.ignoreError };
        break;
      }
      case "proxy":
        t.diags.error(ctx.file, c.start, "<proxy> is not available on Cloudflare Workers: a Worker's fetch cannot go through an HTTP proxy", c.name.length + 1);
        ok = false;
        break;
    }
  }
  const copy = mode.t === "text" && mode.v.trim() === "copy";
  if (url === null && !copy && ok && mode.t === "text") {
    t.diags.error(ctx.file, el.start, `<${el.name}> needs <set-url> (APIM: required unless mode="copy")`, el.name.length + 1);
    ok = false;
  }
  if (!ok) return null;
  return { mode: mode.t === "text" ? { t: "text", v: mode.v.trim() } : mode, timeout, url, method, headers, body, certificateId, ...(managedIdentity ? { managedIdentity } : {}) };
}

function retry(t: CheckTools, ctx: CheckContext, el: XmlElement): Omit<Extract<OutboundStep, { k: "retry" }>, "at"> | null {
  const a = t.attributes(ctx, el, ["condition", "count", "interval"], ["max-interval", "delta", "first-fast-retry"]);
  const conditionAttr = a.get("condition");
  const condition = template(ctx, conditionAttr);
  if (conditionAttr && condition && condition.t !== "code" && !(condition.t === "text" && /^(true|false)$/i.test(condition.v.trim()))) {
    t.badValue(ctx, conditionAttr, "a policy expression @( … ) or true / false");
  }
  const count = seconds(t, ctx, a.get("count"), 1, MAX_RETRY_COUNT, "a number of retries");
  const interval = seconds(t, ctx, a.get("interval"), 0, 3600, "seconds");
  const maxInterval = seconds(t, ctx, a.get("max-interval"), 0, 3600, "seconds");
  const delta = seconds(t, ctx, a.get("delta"), 0, 3600, "seconds");
  const fastAttr = a.get("first-fast-retry");
  const firstFastRetry = template(ctx, fastAttr);
  if (fastAttr && firstFastRetry?.t === "text" && !/^(true|false)$/i.test(firstFastRetry.v.trim())) t.badValue(ctx, fastAttr, "true or false, or an expression");
  const steps = t.policies(ctx, el);
  if (steps.length === 0 && !el.children.some((c) => c.kind === "element")) {
    t.diags.error(ctx.file, el.start, "<retry> needs at least one child policy to run", 6);
  }
  if (!condition || !count || !interval) return null;
  return { k: "retry", condition, count, interval, maxInterval, delta, firstFastRetry, steps, forwardsOrigin: hasForwardRequest(el) };
}

function hasForwardRequest(el: XmlElement): boolean {
  return el.children.some((c) => c.kind === "element" && (c.name === "forward-request" || hasForwardRequest(c)));
}
