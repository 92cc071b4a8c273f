/**
 * compile-policies/check-jwt — `<validate-jwt>` → a ValidateJwtStep (src/policy/jwt-schema.ts).
 *
 * Contract: pure; reports every problem and returns null when any was found. Attributes and elements follow the APIM
 * policy reference, "Validate JWT" (https://learn.microsoft.com/azure/api-management/validate-jwt-policy). What
 * certgate does not run is a compile error naming it: `decryption-keys`, `key certificate-id` (no certificate store
 * for keys yet), openid-config's `validate-connectivity`. certgate's extension: `require-certificate-binding` (RFC 8705 §3).
 */
import type { JwtKey, JwtRequiredClaim, ValidateJwtStep } from "../../src/policy/jwt-schema";
import { MAX_SIGNING_KEYS } from "../../src/policy/jwt";
import type { Template } from "../../src/policy/schema";
import type { XmlElement } from "./read-xml";
import { errorCount, HEADER_NAME, integerAttribute, literalText, type CheckContext, type CheckTools } from "./check-tools";
import { toTemplate } from "./template";

/** APIM's clock-skew is a TimeSpan in seconds; a day is far above any sane skew and keeps the arithmetic exact. */
const MAX_CLOCK_SKEW_SECONDS = 86_400;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function checkValidateJwt(t: CheckTools, ctx: CheckContext, el: XmlElement): ValidateJwtStep[] {
  const before = errorCount(t.diags);
  const a = t.attributes(ctx, el, [], [
    "header-name", "query-parameter-name", "token-value", "failed-validation-httpcode", "failed-validation-error-message",
    "require-expiration-time", "require-scheme", "require-signed-tokens", "clock-skew", "output-token-variable-name",
    "require-certificate-binding",
  ]);
  const sources = (["header-name", "query-parameter-name", "token-value"] as const).filter((n) => a.has(n));
  let source: ValidateJwtStep["source"] | null = null;
  if (sources.length !== 1) {
    t.diags.error(ctx.file, el.start, `<validate-jwt> needs exactly one of header-name, query-parameter-name, token-value${sources.length > 1 ? ` (found ${sources.join(", ")})` : ""}`, el.name.length + 1);
  } else if (sources[0] === "token-value") {
    const value: Template | null = toTemplate(ctx, a.get("token-value")!.value, false);
    if (value) source = { kind: "value", value };
  } else {
    const attr = a.get(sources[0]!)!;
    const name = t.literal(ctx, attr);
    if (name !== null && (sources[0] === "header-name" ? !HEADER_NAME.test(name) : name === "")) t.badValue(ctx, attr, sources[0] === "header-name" ? "a header name" : "a query parameter name");
    else if (name !== null) source = { kind: sources[0] === "header-name" ? "header" : "query", name };
  }
  const failedStatus = a.has("failed-validation-httpcode") ? integerAttribute(t, ctx, a.get("failed-validation-httpcode"), 200, 599) : 401;
  const failedMessage = t.literal(ctx, a.get("failed-validation-error-message"));
  const requireScheme = t.literal(ctx, a.get("require-scheme"));
  if (requireScheme !== null && !HEADER_NAME.test(requireScheme)) t.badValue(ctx, a.get("require-scheme")!, "an authentication scheme such as Bearer");
  if (requireScheme !== null && source?.kind !== "header") t.diags.error(ctx.file, a.get("require-scheme")!.start, "require-scheme applies to header-name only", 14);
  const clockSkew = a.has("clock-skew") ? integerAttribute(t, ctx, a.get("clock-skew"), 0, MAX_CLOCK_SKEW_SECONDS) : 0;
  const outputVariable = t.literal(ctx, a.get("output-token-variable-name"));
  if (outputVariable === "") t.badValue(ctx, a.get("output-token-variable-name")!, "a variable name (not empty)");
  const requireSignedTokens = t.bool(ctx, a.get("require-signed-tokens"), true);
  const requireCertificateBinding = t.bool(ctx, a.get("require-certificate-binding"), false);

  const keys: JwtKey[] = [];
  const audiences: Template[] = [];
  const issuers: Template[] = [];
  const requiredClaims: JwtRequiredClaim[] = [];
  const seen = new Set<string>();
  let openidConfig: string | null = null;
  for (const child of t.children(ctx, el, ["openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims"])) {
    if (seen.has(child.name)) {
      t.diags.error(ctx.file, child.start, `<${child.name}> appears twice in <validate-jwt>`, child.name.length + 1);
      continue;
    }
    seen.add(child.name);
    switch (child.name) {
      case "openid-config": {
        const u = t.attributes(ctx, child, ["url"], []);
        t.noChildren(ctx, child);
        const url = t.literal(ctx, u.get("url"));
        if (url !== null && u.get("url")) {
          if (openIdUrlOk(url)) openidConfig = url;
          else t.badValue(ctx, u.get("url")!, "an https URL (http only for localhost / 127.0.0.1)");
        }
        break;
      }
      case "decryption-keys":
        t.diags.error(ctx.file, child.start, "<decryption-keys> is not supported by certgate yet (encrypted tokens)", child.name.length + 1);
        break;
      case "issuer-signing-keys":
        t.noAttributes(ctx, child);
        for (const k of t.children(ctx, child, ["key"])) {
          const key = signingKey(t, ctx, k);
          if (key) keys.push(key);
        }
        if (keys.length > MAX_SIGNING_KEYS) t.diags.error(ctx.file, child.start, `too many keys: ${keys.length}; at most ${MAX_SIGNING_KEYS}`, child.name.length + 1);
        break;
      case "audiences":
      case "issuers": {
        t.noAttributes(ctx, child);
        (child.name === "audiences" ? audiences : issuers).push(...valueList(t, ctx, child, child.name === "audiences" ? "audience" : "issuer"));
        break;
      }
      case "required-claims":
        t.noAttributes(ctx, child);
        for (const c of t.children(ctx, child, ["claim"])) {
          const claim = requiredClaim(t, ctx, c);
          if (claim) requiredClaims.push(claim);
        }
        break;
    }
  }
  if (requireSignedTokens && keys.length === 0 && !seen.has("openid-config")) {
    t.diags.error(ctx.file, el.start, "<validate-jwt> needs <issuer-signing-keys> to verify signed tokens (or require-signed-tokens=\"false\")", el.name.length + 1);
  }
  if (errorCount(t.diags) > before || source === null || failedStatus === null || clockSkew === null) return [];
  return [{
    k: "validate-jwt", at: t.origin(ctx, el), source, failedStatus, failedMessage, requireExpirationTime: t.bool(ctx, a.get("require-expiration-time"), true),
    requireScheme, requireSignedTokens, clockSkewSeconds: clockSkew, outputVariable, keys, openidConfig, audiences, issuers, requiredClaims, requireCertificateBinding,
  }];
}

function openIdUrlOk(text: string): boolean {
  try {
    const u = new URL(text);
    return u.protocol === "https:" || (u.protocol === "http:" && (u.hostname === "localhost" || u.hostname === "127.0.0.1"));
  } catch {
    return false;
  }
}

/** `<key id="kid">base64</key>` or `<key id="kid" n="…" e="…"/>`. */
function signingKey(t: CheckTools, ctx: CheckContext, el: XmlElement): JwtKey | null {
  const a = t.attributes(ctx, el, [], ["id", "certificate-id", "n", "e"]);
  const id = t.literal(ctx, a.get("id"));
  if (a.has("certificate-id")) {
    t.diags.error(ctx.file, a.get("certificate-id")!.start, "key certificate-id is not supported by certgate yet; give the RSA key as n and e", 14);
    return null;
  }
  if (a.has("n") || a.has("e")) {
    t.noChildren(ctx, el);
    const n = t.literal(ctx, a.get("n"));
    const e = t.literal(ctx, a.get("e"));
    if (!a.has("n") || !a.has("e")) {
      t.diags.error(ctx.file, el.start, "an RSA <key> needs both n and e", 4);
      return null;
    }
    if (n !== null && !BASE64URL.test(n)) t.badValue(ctx, a.get("n")!, "the modulus in base64url");
    if (e !== null && !BASE64URL.test(e)) t.badValue(ctx, a.get("e")!, "the exponent in base64url");
    return n !== null && e !== null && BASE64URL.test(n) && BASE64URL.test(e) ? { kind: "rsa", n, e, id } : null;
  }
  const text = literalText(t, ctx, el);
  if (text === null) return null;
  const b64 = text.trim();
  if (!BASE64.test(b64) || b64.length % 4 !== 0) {
    t.diags.error(ctx.file, el.start, "<key> must hold a base64 symmetric key (or n and e attributes)", 4);
    return null;
  }
  // RFC 7518 §3.2: an HMAC key must be at least as long as the hash (HS256: 32 bytes).
  if ((b64.length / 4) * 3 - (b64.endsWith("==") ? 2 : b64.endsWith("=") ? 1 : 0) < 32) {
    t.diags.error(ctx.file, el.start, "<key> is shorter than 32 bytes (RFC 7518 §3.2 requires at least the hash size)", 4);
    return null;
  }
  return { kind: "symmetric", base64: b64, id };
}

/**
 * The `<inner>` children of `<audiences>` / `<issuers>`: literal text (trimmed; empty is an error) or policy
 * expressions, which APIM allows (its own example: `<audience>@(context.Request.OriginalUrl.Host)</audience>`).
 */
export function valueList(t: CheckTools, ctx: CheckContext, list: XmlElement, inner: string): Template[] {
  const out: Template[] = [];
  for (const v of t.children(ctx, list, [inner])) {
    t.noAttributes(ctx, v);
    const tpl = t.text(ctx, v);
    if (tpl === null) continue;
    if (tpl.t === "text" && tpl.v.trim() === "") t.diags.error(ctx.file, v.start, `<${inner}> is empty`, inner.length + 1);
    else out.push(tpl.t === "text" ? { t: "text", v: tpl.v.trim() } : tpl);
  }
  return out;
}

/** `<claim name="…" match="all|any" separator="…"><value>…</value></claim>`. */
export function requiredClaim(t: CheckTools, ctx: CheckContext, el: XmlElement): JwtRequiredClaim | null {
  const a = t.attributes(ctx, el, ["name"], ["match", "separator"]);
  const name = t.literal(ctx, a.get("name"));
  if (name === "") t.badValue(ctx, a.get("name")!, "a claim name (not empty)");
  const matchText = t.literal(ctx, a.get("match"));
  if (matchText !== null && matchText !== "all" && matchText !== "any") t.badValue(ctx, a.get("match")!, "all or any");
  const separator = t.literal(ctx, a.get("separator"));
  if (separator === "") t.badValue(ctx, a.get("separator")!, "a separator (not empty)");
  const values: string[] = [];
  for (const v of t.children(ctx, el, ["value"])) {
    t.noAttributes(ctx, v);
    const text = literalText(t, ctx, v);
    if (text !== null) values.push(text.trim());
  }
  if (!name || (matchText !== null && matchText !== "all" && matchText !== "any") || separator === "") return null;
  return { name, match: matchText === "any" ? "any" : "all", separator, values };
}
