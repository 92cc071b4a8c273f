/**
 * compile-policies/check — one policy document (located XML) → its sections as schema Steps.
 *
 * Contract: pure; reports every problem to `diags` and keeps going (a bad element is left out, its siblings
 * are still checked). Each document is checked once, whatever number of operations it applies to, so an
 * error in global.xml is reported once; `<base/>` stays a marker that lower.ts replaces with the parent
 * scope's section. Fragments are inlined here, checked against the section they are included in (memoized
 * per fragment and section), with cycles reported at the `<include-fragment>` that closes them.
 *
 * Validation follows APIM: elements and attributes certgate supports (catalog.ts), APIM's defaults, APIM's
 * section rules, required attributes, enumerations; every `@( … )` / `@{ … }` is compiled (code.ts).
 */
import type { Code } from "../../src/policy/expr/ast";
import type { Identity, Origin, SetHeader, Step, Template } from "../../src/policy/schema";
import { allowedIn, CHILD_ELEMENT_PARENTS, MAX_IDENTITIES, POLICY_SECTIONS, SECTIONS, UNSUPPORTED_APIM_POLICIES, type Section } from "./catalog";
import { parseIp } from "../../src/policy/ip";
import { parseSpiffeClaim } from "../../src/policy/spiffe";
import { isHttpUrl } from "./layout";
import { textOffset, type XmlAttribute, type XmlDocument, type XmlElement, type XmlText } from "./read-xml";
import type { Diagnostics } from "./source";
import { toLiteral, toTemplate, type ValueContext } from "./template";
import type { NamedValues } from "./values";
import type { CheckTools } from "./check-tools";
import { checkValidateJwt } from "./check-jwt";
import { checkLimit } from "./check-limits";
import { checkCacheValue } from "./check-cache";
import { checkValidateAzureAdToken } from "./check-azure-ad-token";
import { checkManagedIdentity } from "./check-managed-identity";
import { checkOutbound, checkResponseVariable } from "./check-outbound";
import { checkResponseCache, warnGuardsAfterLookup } from "./check-response-cache";
import { checkLiquidBody } from "./check-liquid";

/** A section entry: a step, or the place where the parent scope's section runs. */
export type Item = Step | { readonly k: "base"; readonly at: Origin };

/** Sections present in the document (an absent section is not in the map). */
export type CheckedDocument = ReadonlyMap<Section, readonly Item[]>;

export interface PolicyDocument {
  readonly doc: XmlDocument;
  readonly scope: "global" | "api" | "operation";
  readonly policyId: string;
  /** `<base/>`: allowed (api, operation, a single document) or an error (global: there is no parent). */
  readonly base: "allowed" | "error";
}

interface Ctx extends ValueContext {
  readonly scope: Origin["scope"];
  readonly policyId: string;
  /** null: a fragment checked on its own (not included anywhere): any section's elements are accepted. */
  readonly section: Section | null;
  readonly base: "allowed" | "error" | "fragment";
}

const IDENTITY_CLAIMS: Readonly<Record<string, keyof Identity>> = {
  thumbprint: "thumbprint",
  "serial-number": "serialNumber",
  "common-name": "commonName",
  subject: "subject",
  "dns-name": "dnsName",
  "issuer-subject": "issuerSubject",
  "issuer-thumbprint": "issuerThumbprint",
  "issuer-certificate-id": "issuerCertificateId",
  // certgate extensions (docs/policies.md): SAN and SPIFFE identities
  uri: "uri",
  email: "email",
  "ip-address": "ipAddress",
  "spiffe-id": "spiffeId",
};

const EXISTS_ACTIONS = ["override", "skip", "append", "delete"] as const;
const SEVERITIES = ["verbose", "information", "error"] as const;
/** RFC 9110 §5.1 field-name token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** docs/kv-schema.md: store names. */
const STORE_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const THUMBPRINT = /^[0-9A-Fa-f]{40}$/;
/** RFC 9110 §9.1: a method is a token. */
const HTTP_METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const quoteList = (names: readonly string[]) => names.join(", ");

/** How general an attribute type is: the country and domain components first, the common name last. */
const DN_RANK: Readonly<Record<string, number>> = { C: 0, DC: 0, ST: 1, S: 1, L: 1, O: 2, OU: 3, CN: 4, E: 4, EMAILADDRESS: 4, UID: 4, SERIALNUMBER: 4 };

/**
 * The DN in .NET's order when `dn` is written the other way round (`C=US, O=Contoso, CN=x` → `CN=x, O=Contoso, C=US`):
 * its types go from general to specific. Null when it is in the usual order or the order cannot be told.
 */
export function reversedDn(dn: string): string | null {
  const rdns: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === "\\" && i + 1 < dn.length) {
      current += c + dn[++i];
      continue;
    }
    if (c === '"') quoted = !quoted;
    if ((c === "," || c === ";") && !quoted) {
      rdns.push(current.trim());
      current = "";
    } else current += c;
  }
  rdns.push(current.trim());
  const ranks = rdns.map((r) => DN_RANK[r.slice(0, Math.max(0, r.indexOf("="))).trim().toUpperCase().replace(/^OID\./, "")]);
  const known = ranks.filter((r): r is number => r !== undefined);
  if (known.length < 2 || known[0]! >= known[known.length - 1]!) return null;
  for (let i = 1; i < known.length; i++) if (known[i]! < known[i - 1]!) return null;
  return [...rdns].reverse().join(", ");
}

export class Checker {
  private readonly memo = new Map<string, readonly Step[]>();
  private readonly including: string[] = [];
  /** Fragment ids included anywhere. */
  readonly usedFragments = new Set<string>();

  constructor(
    private readonly values: NamedValues,
    private readonly diags: Diagnostics,
    /** Fragment id → its document (null when it could not be read: its errors are already reported). */
    private readonly fragments: ReadonlyMap<string, XmlDocument | null>,
  ) {}

  /** Checks a `<policies>` document; null when its root is not `<policies>`. */
  checkDocument(p: PolicyDocument): CheckedDocument | null {
    const ctx: Ctx = { doc: p.doc, file: p.doc.file, values: this.values, diags: this.diags, scope: p.scope, policyId: p.policyId, section: null, base: p.base };
    const root = p.doc.root;
    if (root.name !== "policies") {
      this.diags.error(ctx.file, root.start, `the root element must be <policies>, not <${root.name}>`, root.name.length + 1);
      return null;
    }
    this.noAttributes(ctx, root);
    const sections = new Map<Section, readonly Item[]>();
    for (const child of root.children) {
      if (child.kind === "text") {
        this.noText(ctx, root, child);
        continue;
      }
      const section = SECTIONS.find((s) => s === child.name);
      if (section) {
        if (sections.has(section)) {
          this.diags.error(ctx.file, child.start, `<${section}> appears twice; a document has one of each section`, section.length + 1);
          continue;
        }
        this.noAttributes(ctx, child);
        sections.set(section, this.policies({ ...ctx, section }, child, true));
        if (section === "inbound") warnGuardsAfterLookup(ctx.file, this.diags, child);
      } else if (POLICY_SECTIONS[child.name] || UNSUPPORTED_APIM_POLICIES.has(child.name)) {
        this.diags.warning(ctx.file, child.start, `<${child.name}> is outside any section (${quoteList(SECTIONS)}) and is ignored`, child.name.length + 1);
      } else {
        this.diags.error(ctx.file, child.start, `unknown element <${child.name}> in <policies>; allowed: ${quoteList(SECTIONS)}`, child.name.length + 1);
      }
    }
    return sections;
  }

  /** Checks a fragment no document includes, so its errors are still reported (any section's elements). */
  checkUnusedFragment(id: string): void {
    this.fragmentSteps(id, null);
  }

  // ---- containers -------------------------------------------------------------------------------------

  /** The policies inside a section, `<when>`, `<otherwise>` or fragment. */
  private policies(ctx: Ctx, container: XmlElement, topLevel: boolean): Item[] {
    const items: Item[] = [];
    let base: XmlElement | null = null;
    for (const child of container.children) {
      if (child.kind === "text") {
        this.noText(ctx, container, child);
        continue;
      }
      if (child.name === "base" && topLevel && ctx.section !== null) {
        this.noAttributes(ctx, child);
        this.noChildren(ctx, child);
        if (ctx.base === "fragment") {
          this.diags.error(ctx.file, child.start, "a fragment cannot use <base/>", 5);
        } else if (ctx.base === "error") {
          this.diags.error(ctx.file, child.start, "<base/> in the global scope: there is no parent scope to run", 5);
        } else if (base) {
          const first = ctx.file.position(base.start);
          this.diags.error(ctx.file, child.start, `<base/> appears twice in <${ctx.section}> (first at ${first.line}:${first.col}); the parent scope's section runs at most once`, 5);
        } else {
          base = child;
          items.push({ k: "base", at: this.origin(ctx, child) });
        }
        continue;
      }
      items.push(...this.policy(ctx, child, topLevel));
    }
    return items;
  }

  private policy(ctx: Ctx, el: XmlElement, topLevel: boolean): Step[] {
    const sections = POLICY_SECTIONS[el.name];
    const where = ctx.section === null ? "a fragment" : `<${ctx.section}>`;
    const allowed = () => quoteList(allowedIn(ctx.section, topLevel && ctx.base !== "fragment"));
    const nameLength = el.name.length + 1;
    if (!sections && CHILD_ELEMENT_PARENTS[el.name]) {
      this.diags.error(ctx.file, el.start, `<${el.name}> belongs in ${CHILD_ELEMENT_PARENTS[el.name]}, not in ${where}`, nameLength);
      return [];
    }
    if (!sections) {
      const what = UNSUPPORTED_APIM_POLICIES.has(el.name) ? `<${el.name}> is an APIM policy certgate does not support` : `unknown element <${el.name}>`;
      this.diags.error(ctx.file, el.start, `${what}; allowed in ${where}: ${allowed()}`, nameLength);
      return [];
    }
    if (el.name === "base") {
      const why = ctx.base === "fragment" ? "a fragment cannot use <base/>" : "<base/> must be a direct child of a section";
      this.diags.error(ctx.file, el.start, why, nameLength);
      return [];
    }
    if (ctx.section !== null && !sections.includes(ctx.section)) {
      this.diags.error(ctx.file, el.start, `<${el.name}> is not allowed in ${where}; APIM allows it in: ${quoteList(sections)}`, nameLength);
      return [];
    }
    switch (el.name) {
      case "validate-client-certificate":
        return this.validateClientCertificate(ctx, el);
      case "choose":
        return this.choose(ctx, el);
      case "return-response":
        return this.returnResponse(ctx, el);
      case "set-status":
        return this.setStatus(ctx, el);
      case "set-header": {
        const h = this.setHeader(ctx, el);
        return h ? [{ k: "set-header", ...h }] : [];
      }
      case "set-body": {
        if (el.attributes.length > 0) return checkLiquidBody(this.tools, ctx, el, false);
        const body = this.body(ctx, el);
        return body ? [{ k: "set-body", at: this.origin(ctx, el), body }] : [];
      }
      case "set-variable":
        return this.setVariable(ctx, el);
      case "trace":
        return this.trace(ctx, el);
      case "include-fragment":
        return this.includeFragment(ctx, el);
      case "set-backend-service":
        return this.setBackendService(ctx, el);
      case "authentication-certificate":
        return this.authenticationCertificate(ctx, el);
      case "authentication-basic": {
        // https://learn.microsoft.com/azure/api-management/authentication-basic-policy: username and password,
        // both required; policy expressions allowed.
        const a = this.attributes(ctx, el, ["username", "password"], []);
        this.noChildren(ctx, el);
        const username = a.get("username") ? toTemplate(ctx, a.get("username")!.value, false) : null;
        const password = a.get("password") ? toTemplate(ctx, a.get("password")!.value, false) : null;
        return username && password ? [{ k: "authentication-basic", at: this.origin(ctx, el), username, password }] : [];
      }
      case "set-query-parameter": {
        const q = this.setHeader(ctx, el, false);
        return q ? [{ k: "set-query-parameter", ...q }] : [];
      }
      case "set-method":
        return this.setMethod(ctx, el);
      case "check-header":
        return this.checkHeader(ctx, el);
      case "ip-filter":
        return this.ipFilter(ctx, el);
      case "rewrite-uri":
        return this.rewriteUri(ctx, el);
      case "mock-response":
        return this.mockResponse(ctx, el);
      case "cors":
        return this.cors(ctx, el);
      case "find-and-replace": {
        const a = this.attributes(ctx, el, ["from", "to"], []);
        this.noChildren(ctx, el);
        const from = a.get("from") ? toTemplate(ctx, a.get("from")!.value, false) : null;
        const to = a.get("to") ? toTemplate(ctx, a.get("to")!.value, false) : null;
        if (from?.t === "text" && from.v === "") {
          this.badValue(ctx, a.get("from")!, "the text to find (not empty)");
          return [];
        }
        return from && to ? [{ k: "find-and-replace", at: this.origin(ctx, el), from, to }] : [];
      }
      case "forward-request":
        return this.forwardRequest(ctx, el);
      case "validate-jwt":
        return checkValidateJwt(this.tools, ctx, el);
      case "rate-limit-by-key":
      case "quota-by-key":
      case "rate-limit":
      case "quota":
        return checkLimit(this.tools, ctx, el);
      case "cache-lookup-value":
      case "cache-store-value":
      case "cache-remove-value":
        return checkCacheValue(this.tools, ctx, el);
      case "send-request":
      case "send-one-way-request":
      case "retry":
        return checkOutbound(this.tools, ctx, el);
      case "cache-lookup":
      case "cache-store":
        return checkResponseCache(this.tools, ctx, el);
      case "authentication-managed-identity":
        return checkManagedIdentity(this.tools, ctx, el);
      case "validate-azure-ad-token":
        return checkValidateAzureAdToken(this.tools, ctx, el);
      default:
        throw new Error(`catalog lists <${el.name}> but check.ts has no rule for it`);
    }
  }

  // ---- elements ---------------------------------------------------------------------------------------

  private validateClientCertificate(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, [], [
      "validate-revocation", "validate-trust", "validate-not-before", "validate-not-after", "ignore-error",
      "trust-store", "failed-validation-httpcode", "failed-validation-error-message",
    ]);
    const identities: Identity[] = [];
    let seen: XmlElement | null = null;
    for (const child of this.children(ctx, el, ["identities"])) {
      if (seen) {
        this.diags.error(ctx.file, child.start, "<identities> appears twice; list every <identity> in one", 11);
        continue;
      }
      seen = child;
      this.noAttributes(ctx, child);
      const list = this.children(ctx, child, ["identity"]);
      list.forEach((id, i) => {
        if (i === MAX_IDENTITIES) {
          this.diags.error(ctx.file, id.start, `too many <identity> elements: ${list.length}; at most ${MAX_IDENTITIES} are allowed`, 9);
        }
        const identity = this.identity(ctx, id);
        if (identity && i < MAX_IDENTITIES) identities.push(identity);
      });
    }
    const trustStore = this.literal(ctx, a.get("trust-store"));
    if (trustStore !== null && !STORE_NAME.test(trustStore)) {
      this.badValue(ctx, a.get("trust-store")!, "a trust store name: 1–64 of A–Z a–z 0–9 . _ -");
    }
    let failedStatus: number | null = null;
    const code = this.literal(ctx, a.get("failed-validation-httpcode"));
    if (code !== null) {
      failedStatus = /^[0-9]{3}$/.test(code) ? Number(code) : NaN;
      if (!(failedStatus >= 400 && failedStatus <= 599)) {
        this.badValue(ctx, a.get("failed-validation-httpcode")!, "an HTTP status from 400 to 599");
        failedStatus = null;
      }
    }
    return [{
      k: "validate-client-certificate",
      at: this.origin(ctx, el),
      validateRevocation: this.bool(ctx, a.get("validate-revocation"), true),
      validateTrust: this.bool(ctx, a.get("validate-trust"), true),
      validateNotBefore: this.bool(ctx, a.get("validate-not-before"), true),
      validateNotAfter: this.bool(ctx, a.get("validate-not-after"), true),
      ignoreError: this.bool(ctx, a.get("ignore-error"), false),
      trustStore: trustStore !== null && STORE_NAME.test(trustStore) ? trustStore : null,
      failedStatus,
      failedMessage: this.literal(ctx, a.get("failed-validation-error-message")),
      identities,
    }];
  }

  private identity(ctx: Ctx, el: XmlElement): Identity | null {
    const a = this.attributes(ctx, el, [], Object.keys(IDENTITY_CLAIMS));
    this.noChildren(ctx, el);
    const identity: Record<string, string> = {};
    for (const [name, attr] of a) {
      const v = this.literal(ctx, attr);
      if (v === null) continue;
      if ((name === "thumbprint" || name === "issuer-thumbprint") && !THUMBPRINT.test(v)) {
        this.badValue(ctx, attr, "a SHA-1 thumbprint: 40 hexadecimal digits");
        continue;
      }
      if (name === "ip-address" && parseIp(v) === null) {
        this.badValue(ctx, attr, "an IPv4 or IPv6 address");
        continue;
      }
      if (name === "email" && !/^[^@\s]+@[^@\s]+$/.test(v)) {
        this.badValue(ctx, attr, "an email address (local@domain)");
        continue;
      }
      if (name === "uri" && !/^[A-Za-z][A-Za-z0-9+.-]*:\S+$/.test(v)) {
        this.badValue(ctx, attr, "an absolute URI");
        continue;
      }
      if (name === "spiffe-id" && parseSpiffeClaim(v) === null) {
        this.badValue(ctx, attr, "a SPIFFE ID (spiffe://trust-domain/path, lowercase trust domain), optionally ending in /* for a path prefix");
        continue;
      }
      if (name === "subject" || name === "issuer-subject") {
        const usual = reversedDn(v);
        if (usual !== null) {
          this.diags.warning(ctx.file, attr.valueStart, `${name} is written most general first ("${v}"); names compare in the order .NET renders them, most specific first, so this matches no certificate named in the usual order: write "${usual}"`, Math.max(1, attr.valueEnd - attr.valueStart));
        }
      }
      identity[IDENTITY_CLAIMS[name]!] = v;
    }
    const byId = a.get("issuer-certificate-id");
    const otherIssuer = a.get("issuer-subject") ?? a.get("issuer-thumbprint");
    if (byId && otherIssuer) {
      this.diags.error(ctx.file, byId.start, `issuer-certificate-id cannot be combined with ${otherIssuer.name} (APIM: mutually exclusive)`, byId.name.length);
    }
    if (a.size === 0) {
      this.diags.warning(ctx.file, el.start, "<identity> has no claims: it matches every certificate", 9);
    }
    return identity as Identity;
  }

  private choose(ctx: Ctx, el: XmlElement): Step[] {
    this.noAttributes(ctx, el);
    const whens: { condition: Code; steps: Step[] }[] = [];
    let otherwise: Step[] | null = null;
    let otherwiseEl: XmlElement | null = null;
    let alwaysTrue: XmlElement | null = null;
    let ok = true;
    for (const child of this.children(ctx, el, ["when", "otherwise"])) {
      if (alwaysTrue) {
        const at = ctx.file.position(alwaysTrue.start);
        this.diags.warning(ctx.file, child.start, `this <${child.name}> can never run: the <when> at ${at.line}:${at.col} has condition @(true)`, child.name.length + 1);
      }
      if (otherwiseEl) {
        this.diags.error(ctx.file, child.start, `<${child.name}> after <otherwise>: <otherwise> comes last, once`, child.name.length + 1);
        ok = false;
        continue;
      }
      if (child.name === "otherwise") {
        otherwiseEl = child;
        this.noAttributes(ctx, child);
        otherwise = this.policies(ctx, child, false) as Step[];
        continue;
      }
      const a = this.attributes(ctx, child, ["condition"], []);
      const steps = this.policies(ctx, child, false) as Step[];
      const attr = a.get("condition");
      if (!attr) {
        ok = false;
        continue;
      }
      const t = toTemplate(ctx, attr.value, true);
      if (t === null) {
        ok = false;
        continue;
      }
      if (t.t !== "code") {
        this.diags.error(ctx.file, attr.valueStart, "condition must be a policy expression @( … ) or @{ … }", Math.max(1, attr.valueEnd - attr.valueStart));
        ok = false;
        continue;
      }
      const node = t.code.node;
      if (t.code.kind === "expr" && node.t === "lit" && node.v === true && !alwaysTrue) alwaysTrue = child;
      whens.push({ condition: t.code, steps });
    }
    if (whens.length === 0 && ok) {
      this.diags.error(ctx.file, el.start, "<choose> needs at least one <when condition=\"@( … )\">", 7);
    }
    return ok && whens.length > 0 ? [{ k: "choose", at: this.origin(ctx, el), whens, otherwise }] : [];
  }

  private returnResponse(ctx: Ctx, el: XmlElement): Step[] {
    const responseVariable = checkResponseVariable(this.tools, ctx, el);
    let status: { code: Template; reason: Template | null } | null = null;
    const headers: SetHeader[] = [];
    let body: Template | null = null;
    const once = new Set<string>();
    for (const child of this.children(ctx, el, ["set-status", "set-header", "set-body"])) {
      if (child.name !== "set-header") {
        if (once.has(child.name)) {
          this.diags.error(ctx.file, child.start, `<${child.name}> appears twice in <return-response>`, child.name.length + 1);
          continue;
        }
        once.add(child.name);
      }
      if (child.name === "set-status") {
        const s = this.setStatus(ctx, child)[0];
        if (s?.k === "set-status") status = { code: s.code, reason: s.reason };
      } else if (child.name === "set-header") {
        const h = this.setHeader(ctx, child);
        if (h) headers.push(h);
      } else if (child.attributes.length > 0) {
        checkLiquidBody(this.tools, ctx, child, true);
      } else {
        body = this.body(ctx, child);
      }
    }
    return [{ k: "return-response", at: this.origin(ctx, el), status, headers, body, ...(responseVariable !== null ? { responseVariable } : {}) }];
  }

  private setStatus(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["code"], ["reason"]);
    this.noChildren(ctx, el);
    const codeAttr = a.get("code");
    if (!codeAttr) return [];
    const code = toTemplate(ctx, codeAttr.value, false);
    // 200–599: a Worker cannot answer with an informational (1xx) status.
    if (code?.t === "text" && !(/^[0-9]{3}$/.test(code.v) && Number(code.v) >= 200 && Number(code.v) <= 599)) {
      this.badValue(ctx, codeAttr, "an HTTP status from 200 to 599");
      return [];
    }
    const reasonAttr = a.get("reason");
    const reason = reasonAttr ? toTemplate(ctx, reasonAttr.value, false) : null;
    if (code === null || (reasonAttr && reason === null)) return [];
    return [{ k: "set-status", at: this.origin(ctx, el), code, reason }];
  }

  /** set-header, and set-query-parameter (`header` false: any non-empty name). */
  private setHeader(ctx: Ctx, el: XmlElement, header = true): SetHeader | null {
    const a = this.attributes(ctx, el, ["name"], ["exists-action"]);
    const nameAttr = a.get("name");
    const name = nameAttr ? toTemplate(ctx, nameAttr.value, false) : null;
    const validName = (v: string) => (header ? HEADER_NAME.test(v) : v !== "");
    if (nameAttr && name?.t === "text" && !validName(name.v)) {
      this.badValue(ctx, nameAttr, header ? "a header name (RFC 9110 token characters)" : "a query parameter name (not empty)");
    }
    const actionAttr = a.get("exists-action");
    let existsAction: SetHeader["existsAction"] = "override";
    let ok = true;
    if (actionAttr) {
      const v = this.literal(ctx, actionAttr);
      const known = EXISTS_ACTIONS.find((x) => x === v);
      if (v !== null && !known) {
        this.badValue(ctx, actionAttr, `one of ${quoteList(EXISTS_ACTIONS)}`);
        ok = false;
      } else if (known) existsAction = known;
      else ok = false;
    }
    const values: Template[] = [];
    const valueEls = this.children(ctx, el, ["value"]);
    for (const v of valueEls) {
      this.noAttributes(ctx, v);
      const t = this.text(ctx, v);
      if (t) values.push(t);
      else ok = false;
    }
    if (existsAction === "delete" && valueEls.length > 0) {
      this.diags.warning(ctx.file, valueEls[0]!.start, "<value> is ignored when exists-action is delete", 6);
    }
    if (!name || !ok || (name.t === "text" && !validName(name.v))) return null;
    return { at: this.origin(ctx, el), name, existsAction, values };
  }

  /** `<set-body>`: its text as a Template. */
  private body(ctx: Ctx, el: XmlElement): Template | null {
    this.noAttributes(ctx, el);
    for (const child of el.children) {
      if (child.kind === "element") {
        this.diags.error(ctx.file, child.start, `<set-body> takes text, not <${child.name}>: escape the markup or wrap it in <![CDATA[ … ]]> (or use template="liquid", whose template is the content as written)`, child.name.length + 1);
        return null;
      }
    }
    return this.text(ctx, el);
  }

  /** `<set-method>PATCH</set-method>` (APIM: the method as text; expressions allowed). */
  private setMethod(ctx: Ctx, el: XmlElement): Step[] {
    this.noAttributes(ctx, el);
    const method = this.text(ctx, el);
    if (method === null) return [];
    if (method.t === "text" && !HTTP_METHOD.test(method.v.trim())) {
      this.diags.error(ctx.file, el.start, `<set-method> must hold an HTTP method (RFC 9110 token), not "${method.v.trim()}"`, 11);
      return [];
    }
    return [{ k: "set-method", at: this.origin(ctx, el), method: method.t === "text" ? { t: "text", v: method.v.trim() } : method }];
  }

  /** `<check-header name failed-check-httpcode failed-check-error-message ignore-case><value>…</value>*` (all four required, as APIM's reference has them). */
  private checkHeader(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["name", "failed-check-httpcode", "failed-check-error-message", "ignore-case"], []);
    const t = (n: string) => {
      const attr = a.get(n);
      return attr ? toTemplate(ctx, attr.value, false) : null;
    };
    const name = t("name");
    const failedStatus = t("failed-check-httpcode");
    const failedMessage = t("failed-check-error-message");
    const ignoreCase = t("ignore-case");
    let ok = true;
    if (name?.t === "text" && !HEADER_NAME.test(name.v)) {
      this.badValue(ctx, a.get("name")!, "a header name (RFC 9110 token characters)");
      ok = false;
    }
    if (failedStatus?.t === "text" && !(/^[0-9]{3}$/.test(failedStatus.v) && Number(failedStatus.v) >= 200 && Number(failedStatus.v) <= 599)) {
      this.badValue(ctx, a.get("failed-check-httpcode")!, "an HTTP status from 200 to 599");
      ok = false;
    }
    if (ignoreCase?.t === "text" && !/^(true|false)$/i.test(ignoreCase.v.trim())) {
      this.badValue(ctx, a.get("ignore-case")!, "true or false");
      ok = false;
    }
    const values: Template[] = [];
    for (const v of this.children(ctx, el, ["value"])) {
      this.noAttributes(ctx, v);
      const tv = this.text(ctx, v);
      if (tv) values.push(tv);
      else ok = false;
    }
    if (!ok || !name || !failedStatus || !failedMessage || !ignoreCase) return [];
    return [{ k: "check-header", at: this.origin(ctx, el), name, failedStatus, failedMessage, ignoreCase, values }];
  }

  /** `<ip-filter action="allow|forbid"><address>…</address><address-range from to/>…` (literal addresses). */
  private ipFilter(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["action"], []);
    const action = this.enumeration(ctx, a.get("action"), ["allow", "forbid"] as const, "allow");
    const addresses: string[] = [];
    const ranges: { from: string; to: string }[] = [];
    let ok = true;
    const address = (attr: XmlAttribute | undefined, value: string | null, at: number): string | null => {
      if (value === null) return null;
      if (parseIp(value) === null) {
        if (attr) this.badValue(ctx, attr, "an IPv4 or IPv6 address");
        else this.diags.error(ctx.file, at, `<address> must hold an IPv4 or IPv6 address, not "${value}"`, 9);
        ok = false;
        return null;
      }
      return value.trim();
    };
    const children = this.children(ctx, el, ["address", "address-range"]);
    for (const c of children) {
      if (c.name === "address") {
        this.noAttributes(ctx, c);
        const t = this.text(ctx, c);
        if (t?.t !== "text") {
          if (t) this.diags.error(ctx.file, c.start, "<address> takes a literal address (policy expressions are not supported here)", 9);
          ok = false;
          continue;
        }
        const v = address(undefined, t.v.trim(), c.start);
        if (v !== null) addresses.push(v);
      } else {
        const r = this.attributes(ctx, c, ["from", "to"], []);
        this.noChildren(ctx, c);
        const from = address(r.get("from"), this.literal(ctx, r.get("from")), c.start);
        const to = address(r.get("to"), this.literal(ctx, r.get("to")), c.start);
        if (from === null || to === null) continue;
        const f = parseIp(from)!;
        const t = parseIp(to)!;
        if (f.family !== t.family || f.value > t.value) {
          this.diags.error(ctx.file, c.start, `<address-range> from ${from} to ${to} is empty or mixes IPv4 and IPv6`, 14);
          ok = false;
          continue;
        }
        ranges.push({ from, to });
      }
    }
    if (children.length === 0) {
      this.diags.error(ctx.file, el.start, "<ip-filter> needs at least one <address> or <address-range>", 10);
      ok = false;
    }
    if (!ok || action === null) return [];
    return [{ k: "ip-filter", at: this.origin(ctx, el), action, addresses, ranges }];
  }

  /** `<rewrite-uri template="/v2/{id}?x=1" copy-unmatched-params="true"/>`. */
  private rewriteUri(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["template"], ["copy-unmatched-params"]);
    this.noChildren(ctx, el);
    const attr = a.get("template");
    const template = attr ? toTemplate(ctx, attr.value, false) : null;
    const copyUnmatchedParams = this.bool(ctx, a.get("copy-unmatched-params"), true);
    if (!attr || !template) return [];
    // A path under the backend's base URL, with or without a leading "/" (shaping.ts, rewriteTarget); a URL is not.
    if (template.t === "text" && /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(template.v)) {
      this.badValue(ctx, attr, "a path under the backend's base URL, with or without a leading / (set-backend-service changes the base URL)");
      return [];
    }
    return [{ k: "rewrite-uri", at: this.origin(ctx, el), template, copyUnmatchedParams }];
  }

  /**
   * `<cors allow-credentials terminate-unmatched-request>` with `<allowed-origins>` (required), `<allowed-methods
   * preflight-result-max-age>`, `<allowed-headers>`, `<expose-headers>`, in that order, once each (APIM's reference).
   * Values are literal here (named values are fine).
   */
  private cors(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, [], ["allow-credentials", "terminate-unmatched-request"]);
    const allowCredentials = this.bool(ctx, a.get("allow-credentials"), false);
    const terminateUnmatched = this.bool(ctx, a.get("terminate-unmatched-request"), true);
    const order = ["allowed-origins", "allowed-methods", "allowed-headers", "expose-headers"];
    const seen = new Map<string, XmlElement>();
    let ok = true;
    let last = -1;
    for (const c of this.children(ctx, el, order)) {
      const i = order.indexOf(c.name);
      if (seen.has(c.name)) {
        this.diags.error(ctx.file, c.start, `<${c.name}> appears twice in <cors>`, c.name.length + 1);
        ok = false;
      } else if (i < last) {
        this.diags.error(ctx.file, c.start, `<${c.name}> must come before <${order[last]}> (APIM's order: ${order.join(", ")})`, c.name.length + 1);
        ok = false;
      }
      last = Math.max(last, i);
      seen.set(c.name, c);
    }
    const list = (name: string, item: string, valid: (v: string) => boolean, expected: string): string[] => {
      const container = seen.get(name);
      if (!container) return [];
      if (name !== "allowed-methods") this.noAttributes(ctx, container);
      const out: string[] = [];
      for (const c of this.children(ctx, container, [item])) {
        this.noAttributes(ctx, c);
        const t = this.text(ctx, c);
        if (t === null) {
          ok = false;
          continue;
        }
        if (t.t !== "text") {
          this.diags.error(ctx.file, c.start, `<${item}> takes literal text here (policy expressions are not supported in <cors>)`, item.length + 1);
          ok = false;
          continue;
        }
        const v = t.v.trim();
        if (!valid(v)) {
          this.diags.error(ctx.file, c.start, `<${item}> must be ${expected}, not "${v}"`, item.length + 1);
          ok = false;
          continue;
        }
        out.push(v);
      }
      return out;
    };
    const origins = list("allowed-origins", "origin", (v) => v === "*" || isHttpUrl(v), "* or an origin (scheme://host[:port])").map((o) => (o === "*" ? o : new URL(o).origin));
    if (!seen.has("allowed-origins") || (origins.length === 0 && ok)) {
      this.diags.error(ctx.file, el.start, "<cors> needs <allowed-origins> with at least one <origin>", 5);
      ok = false;
    }
    if (allowCredentials && origins.includes("*")) {
      this.diags.error(ctx.file, a.get("allow-credentials")?.start ?? el.start, "allow-credentials=\"true\" cannot be combined with <origin>*</origin>: list the origins (browsers refuse credentials with a wildcard origin)", 17);
      ok = false;
    }
    let methods: string[] | null = null;
    let maxAge: number | null = null;
    const methodsEl = seen.get("allowed-methods");
    if (methodsEl) {
      const m = this.attributes(ctx, methodsEl, [], ["preflight-result-max-age"]);
      const age = this.literal(ctx, m.get("preflight-result-max-age"));
      if (age !== null) {
        if (/^[0-9]{1,9}$/.test(age.trim())) maxAge = Number(age.trim());
        else {
          this.badValue(ctx, m.get("preflight-result-max-age")!, "a number of seconds");
          ok = false;
        }
      }
      methods = list("allowed-methods", "method", (v) => v === "*" || HTTP_METHOD.test(v), "* or an HTTP method");
    }
    const headers = list("allowed-headers", "header", (v) => v === "*" || HEADER_NAME.test(v), "* or a header name");
    const expose = list("expose-headers", "header", (v) => HEADER_NAME.test(v), "a header name");
    if (!ok) return [];
    return [{ k: "cors", at: this.origin(ctx, el), allowCredentials, terminateUnmatched, origins, methods, maxAge, headers, expose }];
  }

  /**
   * `<forward-request timeout="60" follow-redirects="true" buffer-request-body buffer-response/>` (literal values).
   * `buffer-request-body` and `buffer-response` are accepted and change nothing (a retry around forward-request
   * buffers the request body itself, and responses stream); `fail-on-error-status-code` and `http-version` are not supported.
   */
  private forwardRequest(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, [], ["timeout", "follow-redirects", "buffer-request-body", "buffer-response"]);
    this.noChildren(ctx, el);
    this.bool(ctx, a.get("buffer-request-body"), false);
    this.bool(ctx, a.get("buffer-response"), true);
    const followRedirects = this.bool(ctx, a.get("follow-redirects"), false);
    let timeoutMs: number | null = null;
    const t = this.literal(ctx, a.get("timeout"));
    if (t !== null) {
      const seconds = /^[0-9]{1,3}$/.test(t.trim()) ? Number(t.trim()) : NaN;
      if (!(seconds >= 1 && seconds <= 300)) {
        this.badValue(ctx, a.get("timeout")!, "a number of seconds from 1 to 300");
        return [];
      }
      timeoutMs = seconds * 1000;
    }
    if (timeoutMs === null && !followRedirects) return [];
    return [{ k: "forward-request", at: this.origin(ctx, el), timeoutMs, followRedirects }];
  }

  /** `<mock-response status-code="200" content-type="application/json"/>`. */
  private mockResponse(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, [], ["status-code", "content-type"]);
    this.noChildren(ctx, el);
    let status = 200;
    const code = this.literal(ctx, a.get("status-code"));
    if (code !== null) {
      status = /^[0-9]{3}$/.test(code) ? Number(code) : NaN;
      if (!(status >= 200 && status <= 599)) {
        this.badValue(ctx, a.get("status-code")!, "an HTTP status from 200 to 599");
        return [];
      }
    }
    const contentType = this.literal(ctx, a.get("content-type"));
    return [{ k: "mock-response", at: this.origin(ctx, el), status, contentType }];
  }

  private setVariable(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["name", "value"], []);
    this.noChildren(ctx, el);
    const nameAttr = a.get("name");
    const valueAttr = a.get("value");
    const name = this.literal(ctx, nameAttr);
    if (nameAttr && name === "") this.badValue(ctx, nameAttr, "a variable name (not empty)");
    const value = valueAttr ? toTemplate(ctx, valueAttr.value, false) : null;
    if (!name || !value) return [];
    return [{ k: "set-variable", at: this.origin(ctx, el), name, value }];
  }

  private trace(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["source"], ["severity"]);
    const source = this.literal(ctx, a.get("source"));
    const severity = this.enumeration(ctx, a.get("severity"), SEVERITIES, "verbose");
    let message: Template | null = null;
    let messageEl: XmlElement | null = null;
    let ok = true;
    const metadata: { name: string; value: Template }[] = [];
    for (const child of el.children) {
      if (child.kind === "text" || child.name === "message" || child.name === "metadata") continue;
      this.diags.error(ctx.file, child.start, `<${child.name}> is not allowed in <trace>; allowed: message, metadata`, child.name.length + 1);
    }
    for (const child of el.children) {
      if (child.kind !== "element") continue;
      if (child.name === "message") {
        if (messageEl) {
          this.diags.error(ctx.file, child.start, "<message> appears twice in <trace>", 8);
          continue;
        }
        messageEl = child;
        this.noAttributes(ctx, child);
        message = this.text(ctx, child);
        if (!message) ok = false;
      } else if (child.name === "metadata") {
        const m = this.attributes(ctx, child, ["name", "value"], []);
        this.noChildren(ctx, child);
        const name = this.literal(ctx, m.get("name"));
        const valueAttr = m.get("value");
        const value = valueAttr ? toTemplate(ctx, valueAttr.value, false) : null;
        if (name !== null && value) metadata.push({ name, value });
        else ok = false;
      }
    }
    const ownText = el.children.filter((c): c is XmlText => c.kind === "text" && c.value.trim() !== "");
    if (ownText.length > 0) {
      if (messageEl) {
        this.diags.error(ctx.file, textOffset(ctx.doc, ownText[0]!), "<trace> has both a <message> and text of its own; keep one", 1);
        ok = false;
      } else {
        message = toTemplate(ctx, ownText.map((t) => t.value).join(""), true);
        if (!message) ok = false;
      }
    } else if (!messageEl) {
      this.diags.error(ctx.file, el.start, "<trace> needs a <message> (or text)", 6);
      ok = false;
    }
    if (!ok || source === null || severity === null || message === null) return [];
    return [{ k: "trace", at: this.origin(ctx, el), source, severity, message, metadata }];
  }

  private includeFragment(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["fragment-id"], []);
    this.noChildren(ctx, el);
    const attr = a.get("fragment-id");
    const id = this.literal(ctx, attr);
    if (id === null || !attr) return [];
    if (!this.fragments.has(id)) {
      const known = [...this.fragments.keys()].sort();
      this.diags.error(ctx.file, attr.valueStart, `unknown fragment "${id}" (${known.length === 0 ? "no fragments are defined" : `fragments: ${quoteList(known)}`}; a fragment is fragments/<id>.xml)`, Math.max(1, attr.valueEnd - attr.valueStart));
      return [];
    }
    if (this.including.includes(id)) {
      const cycle = [...this.including.slice(this.including.indexOf(id)), id].join(" → ");
      this.diags.error(ctx.file, attr.valueStart, `fragment cycle: ${cycle}`, Math.max(1, attr.valueEnd - attr.valueStart));
      return [];
    }
    return [...this.fragmentSteps(id, ctx.section)];
  }

  /** The steps of fragment `id` as included in `section` (null: checked on its own). */
  private fragmentSteps(id: string, section: Section | null): readonly Step[] {
    this.usedFragments.add(id);
    const key = `${id}\0${section ?? ""}`;
    const cached = this.memo.get(key);
    if (cached) return cached;
    const doc = this.fragments.get(id) ?? null;
    if (doc === null) return [];
    const ctx: Ctx = { doc, file: doc.file, values: this.values, diags: this.diags, scope: "fragment", policyId: `fragment:${id}`, section, base: "fragment" };
    if (doc.root.name !== "fragment") {
      this.diags.error(ctx.file, doc.root.start, `the root element of a fragment must be <fragment>, not <${doc.root.name}>`, doc.root.name.length + 1);
      this.memo.set(key, []);
      return [];
    }
    this.noAttributes(ctx, doc.root);
    this.including.push(id);
    const steps = this.policies(ctx, doc.root, true) as Step[];
    this.including.pop();
    this.memo.set(key, steps);
    return steps;
  }

  private setBackendService(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["base-url"], []);
    this.noChildren(ctx, el);
    const attr = a.get("base-url");
    const baseUrl = attr ? toTemplate(ctx, attr.value, false) : null;
    if (!attr || !baseUrl) return [];
    if (baseUrl.t === "text" && !isHttpUrl(baseUrl.v)) {
      this.badValue(ctx, attr, "an absolute http(s) URL");
      return [];
    }
    return [{ k: "set-backend-service", at: this.origin(ctx, el), baseUrl }];
  }

  private authenticationCertificate(ctx: Ctx, el: XmlElement): Step[] {
    const a = this.attributes(ctx, el, ["certificate-id"], []);
    this.noChildren(ctx, el);
    const id = this.literal(ctx, a.get("certificate-id"));
    if (id === null) return [];
    return [{ k: "authentication-certificate", at: this.origin(ctx, el), certificateId: id }];
  }

  // ---- helpers ----------------------------------------------------------------------------------------

  /** The helpers below for element checkers in their own files (check-tools.ts). */
  private get tools(): CheckTools {
    return {
      diags: this.diags,
      origin: (ctx, el) => this.origin(ctx as Ctx, el),
      attributes: (ctx, el, required, optional) => this.attributes(ctx as Ctx, el, required, optional),
      noAttributes: (ctx, el) => this.noAttributes(ctx as Ctx, el),
      children: (ctx, el, allowed) => this.children(ctx as Ctx, el, allowed),
      noChildren: (ctx, el) => this.noChildren(ctx as Ctx, el),
      text: (ctx, el) => this.text(ctx as Ctx, el),
      literal: (ctx, a) => this.literal(ctx as Ctx, a),
      bool: (ctx, a, fallback) => this.bool(ctx as Ctx, a, fallback),
      badValue: (ctx, a, expected, value) => this.badValue(ctx as Ctx, a, expected, value),
      policies: (ctx, container) => this.policies(ctx as Ctx, container, false) as Step[],
      setHeader: (ctx, el) => this.setHeader(ctx as Ctx, el),
      body: (ctx, el) => this.body(ctx as Ctx, el),
    };
  }

  private origin(ctx: Ctx, el: XmlElement): Origin {
    const { line, col } = ctx.file.position(el.start);
    return { file: ctx.file.path, line, col, scope: ctx.scope, policyId: ctx.policyId };
  }

  /** Attributes by name; reports unknown and missing ones. */
  private attributes(ctx: Ctx, el: XmlElement, required: readonly string[], optional: readonly string[]): Map<string, XmlAttribute> {
    const out = new Map<string, XmlAttribute>();
    const known = [...required, ...optional];
    for (const a of el.attributes) {
      if (known.includes(a.name)) out.set(a.name, a);
      else {
        const allowed = known.length === 0 ? `<${el.name}> takes no attributes` : `allowed: ${quoteList([...known].sort())}`;
        this.diags.error(ctx.file, a.start, `unknown attribute ${a.name} on <${el.name}>; ${allowed}`, a.name.length);
      }
    }
    for (const r of required) {
      if (!out.has(r)) this.diags.error(ctx.file, el.start, `<${el.name}> needs the attribute ${r}`, el.name.length + 1);
    }
    return out;
  }

  private noAttributes(ctx: Ctx, el: XmlElement): void {
    this.attributes(ctx, el, [], []);
  }

  /** Child elements whose names are in `allowed`; reports others and non-blank text. */
  private children(ctx: Ctx, el: XmlElement, allowed: readonly string[]): XmlElement[] {
    const out: XmlElement[] = [];
    for (const c of el.children) {
      if (c.kind === "text") this.noText(ctx, el, c);
      else if (allowed.includes(c.name)) out.push(c);
      else this.diags.error(ctx.file, c.start, `<${c.name}> is not allowed in <${el.name}>; allowed: ${quoteList(allowed)}`, c.name.length + 1);
    }
    return out;
  }

  private noChildren(ctx: Ctx, el: XmlElement): void {
    for (const c of el.children) {
      if (c.kind === "text") this.noText(ctx, el, c);
      else this.diags.error(ctx.file, c.start, `<${el.name}> takes no child elements (found <${c.name}>)`, c.name.length + 1);
    }
  }

  private noText(ctx: Ctx, el: XmlElement, t: XmlText): void {
    if (t.value.trim() === "") return;
    this.diags.error(ctx.file, textOffset(ctx.doc, t), `text is not allowed in <${el.name}>`);
  }

  /** An element's text (no child elements) as a Template. */
  private text(ctx: Ctx, el: XmlElement): Template | null {
    let ok = true;
    for (const c of el.children) {
      if (c.kind === "element") {
        this.diags.error(ctx.file, c.start, `<${el.name}> takes text, not <${c.name}>`, c.name.length + 1);
        ok = false;
      }
    }
    const value = el.children.map((c) => (c.kind === "text" ? c.value : "")).join("");
    const t = toTemplate(ctx, value, true);
    return ok ? t : null;
  }

  private literal(ctx: Ctx, a: XmlAttribute | undefined): string | null {
    return a ? toLiteral(ctx, a.value, `the attribute ${a.name}`) : null;
  }

  private bool(ctx: Ctx, a: XmlAttribute | undefined, fallback: boolean): boolean {
    const v = this.literal(ctx, a);
    if (v === null || !a) return fallback;
    const lower = v.trim().toLowerCase();
    if (lower === "true" || lower === "false") return lower === "true";
    this.badValue(ctx, a, "true or false (policy expressions are not allowed here)");
    return fallback;
  }

  private enumeration<T extends string>(ctx: Ctx, a: XmlAttribute | undefined, values: readonly T[], fallback: T): T | null {
    const v = this.literal(ctx, a);
    if (!a) return fallback;
    if (v === null) return null;
    const found = values.find((x) => x === v);
    if (found) return found;
    this.badValue(ctx, a, `one of ${quoteList(values)}`);
    return null;
  }

  /** `value`: the attribute's value with named values substituted (default: as written). */
  private badValue(ctx: Ctx, a: XmlAttribute, expected: string, value?: string): void {
    const v = value ?? ctx.file.text.slice(a.valueStart, a.valueEnd);
    const shown = v.length > 60 ? `${v.slice(0, 57)}…` : v;
    this.diags.error(ctx.file, a.valueStart, `${a.name} must be ${expected}, not "${shown}"`, Math.max(1, a.valueEnd - a.valueStart));
  }
}
