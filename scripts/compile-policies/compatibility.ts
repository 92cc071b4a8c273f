/**
 * compile-policies/compatibility — the APIM-compatibility switch and the one table of certgate's extensions.
 *
 * Contract: pure; reports to the diagnostics. A policies folder whose `certgate.json` says
 * `{"compatibility": "apim"}` (compileSingleDocument: the `compatibility` option) must stay within what Azure API
 * Management accepts, so that the same files can go back to APIM: every certgate extension beyond APIM is then a
 * compile error at its position, naming the extension and the switch. With `"certgate"` (the default) they are
 * allowed.
 *
 * CERTGATE_EXTENSIONS is the only list of those extensions: this checker reads it, and a test walks every
 * "*(certgate)*" mark and "certgate extension" phrase of docs/policies.md against it (compatibility.node.test.ts),
 * so the docs and the compiler stay in step. A new extension is one row here and its mark in the docs.
 */
import type { Code, Expr } from "../../src/policy/expr/ast";
import { jsonKind, readJson } from "./read-json";
import type { XmlDocument, XmlElement } from "./read-xml";
import type { Diagnostics, SourceFile } from "./source";

export type Compatibility = "certgate" | "apim";

/** One certgate extension beyond APIM. `name` is how docs/policies.md marks it. */
export type Extension =
  /** An attribute of these elements (the docs mark it `name` *(certgate)*). */
  | { readonly kind: "attribute"; readonly name: string; readonly elements: readonly string[]; readonly what: string }
  /** An expression member (a method of a certgate-only overload). */
  | { readonly kind: "member"; readonly name: string; readonly what: string }
  /** An api.json key (APIM's behaviour is what the switch gives instead). */
  | { readonly kind: "manifest"; readonly name: string; readonly what: string };

export const CERTGATE_EXTENSIONS: readonly Extension[] = [
  { kind: "attribute", name: "trust-store", elements: ["validate-client-certificate"], what: "validation against another KV trust store" },
  { kind: "attribute", name: "failed-validation-httpcode", elements: ["validate-client-certificate"], what: "the status of a failed certificate validation" },
  { kind: "attribute", name: "failed-validation-error-message", elements: ["validate-client-certificate"], what: "the detail of a failed certificate validation" },
  { kind: "attribute", name: "uri", elements: ["identity"], what: "a URI subjectAltName identity" },
  { kind: "attribute", name: "email", elements: ["identity"], what: "an rfc822Name subjectAltName identity" },
  { kind: "attribute", name: "ip-address", elements: ["identity"], what: "an iPAddress subjectAltName identity" },
  { kind: "attribute", name: "spiffe-id", elements: ["identity"], what: "a SPIFFE ID identity" },
  { kind: "attribute", name: "require-certificate-binding", elements: ["validate-jwt"], what: "RFC 8705 certificate-bound tokens" },
  { kind: "attribute", name: "failure-mode", elements: ["rate-limit-by-key", "quota-by-key", "rate-limit", "quota"], what: "the answer when the counter store is unavailable" },
  { kind: "attribute", name: "rate-limiting-binding", elements: ["rate-limit-by-key", "rate-limit"], what: "approximate counting in a Workers Rate Limiting binding" },
  { kind: "member", name: "EnumerateUris", what: "every URI subjectAltName" },
  { kind: "member", name: "EnumerateEmails", what: "every rfc822Name subjectAltName" },
  { kind: "manifest", name: "unmatchedOperations", what: "running the global scope for a request under an API that no operation matches, where APIM answers 404" },
];

/** The folder's compiler settings file. */
export const SETTINGS_FILE = "certgate.json";

const SWITCH = `"compatibility": "apim"`;

function message(e: Extension, where: string): string {
  return `${where} is a certgate extension beyond APIM (${e.what}); not allowed with ${SWITCH} (${SETTINGS_FILE})`;
}

/** Reads `certgate.json` ({"compatibility": "certgate" | "apim"}); problems are reported (the default then applies). */
export function readSettings(file: SourceFile | undefined, diags: Diagnostics): Compatibility {
  if (!file) return "certgate";
  const r = readJson(file.text);
  if (!r.ok) {
    diags.error(file, r.error.offset, `invalid JSON: ${r.error.message}`);
    return "certgate";
  }
  if (r.node.kind !== "object") {
    diags.error(file, r.node.at, `${SETTINGS_FILE} is a JSON object {"compatibility": "certgate" | "apim"}, not ${jsonKind(r.node)}`);
    return "certgate";
  }
  let mode: Compatibility = "certgate";
  for (const m of r.node.members) {
    if (m.key !== "compatibility") {
      diags.error(file, m.keyAt, `unknown key "${m.key}" (${SETTINGS_FILE} has "compatibility")`, m.keyEnd - m.keyAt);
    } else if (m.value.kind === "string" && (m.value.value === "apim" || m.value.value === "certgate")) {
      mode = m.value.value;
    } else {
      diags.error(file, m.value.at, `"compatibility" must be "certgate" (the default) or "apim"`, m.value.end - m.value.at);
    }
  }
  return mode;
}

const ATTRIBUTES = new Map<string, Extension[]>();
for (const e of CERTGATE_EXTENSIONS) {
  if (e.kind !== "attribute") continue;
  for (const el of e.elements) ATTRIBUTES.set(el, [...(ATTRIBUTES.get(el) ?? []), e]);
}
const MEMBERS = new Map(CERTGATE_EXTENSIONS.filter((e) => e.kind === "member").map((e) => [e.name, e]));

/** Reports every extension attribute in a policy document. */
export function checkDocumentCompatibility(doc: XmlDocument, diags: Diagnostics): void {
  const walk = (el: XmlElement) => {
    for (const e of ATTRIBUTES.get(el.name) ?? []) {
      if (e.kind !== "attribute") continue;
      const a = el.attributes.find((x) => x.name === e.name);
      if (a) diags.error(doc.file, a.start, message(e, `the attribute ${e.name} of <${el.name}>`), e.name.length);
    }
    for (const c of el.children) if (c.kind === "element") walk(c);
  };
  walk(doc.root);
}

/** Reports every extension member used by the compiled expressions in `value` (steps, checked documents). */
export function checkCodeCompatibility(value: unknown, files: (path: string) => SourceFile | undefined, diags: Diagnostics): void {
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Map) {
      stack.push(...v.values());
      continue;
    }
    if (Array.isArray(v)) {
      stack.push(...v);
      continue;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.file === "string" && typeof o.src === "string" && typeof o.node === "object") {
      const file = files(o.file);
      if (file) walkCode(o as unknown as Code, file, diags);
      continue;
    }
    stack.push(...Object.values(o));
  }
}

function walkCode(code: Code, file: SourceFile, diags: Diagnostics): void {
  const stack: unknown[] = [code.node];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (Array.isArray(v)) {
      stack.push(...v);
      continue;
    }
    const node = v as Expr;
    if (node.t === "member") {
      const e = MEMBERS.get(node.name);
      if (e) {
        let at = file.offset(node.at[0], node.at[1]);
        if (file.text[at] === ".") at++; // a member's position is its `.`; point at the name
        diags.error(file, at, message(e, `${node.name}()`), node.name.length);
      }
    }
    stack.push(...Object.values(v));
  }
}

/**
 * Reports `"unmatchedOperations": "global"` in an api.json (`at`, `length`: its value). Under the switch an API
 * answers a request no operation matches as APIM does (404, layout.ts), so only the certgate behaviour is an error.
 */
export function checkManifestCompatibility(file: SourceFile, at: number, length: number, diags: Diagnostics): void {
  const e = CERTGATE_EXTENSIONS.find((x) => x.kind === "manifest" && x.name === "unmatchedOperations")!;
  diags.error(file, at, message(e, `"unmatchedOperations": "global"`), length);
}
