/**
 * compile-policies/layout — the `policies/` folder: which file is what, and the API manifests.
 *
 * Contract: pure; input is the folder's files (path relative to the folder, `/`-separated → text). Layout
 * (docs/policies-layout.md):
 *   global.xml                     global scope (optional)
 *   values.json                    named values (values.ts)
 *   apis/<api-id>/api.json         the API manifest (below)
 *   apis/<api-id>/policy.xml       API scope (optional)
 *   apis/<api-id>/<file>.xml       operation scopes, named by the manifest's `policy`
 *   fragments/<fragment-id>.xml    `<fragment>` documents for `<include-fragment>`
 * api.json: {"name", "path": "" | "/base", "host"?, "origin"?, "unmatchedOperations"?: "global" | "not-found",
 * "operations": [{"id", "name"?, "method", "urlTemplate", "policy"?}]}. Every problem is reported at the key or value in the JSON file.
 */
import { jsonKind, readJson, type JsonMember, type JsonNode } from "./read-json";
import { parsePathSegments } from "./routes";
import type { Diagnostics, SourceFile } from "./source";
import { namedValueRefAt, type NamedValues } from "./values";
import { checkManifestCompatibility, SETTINGS_FILE, type Compatibility } from "./compatibility";

export interface OperationManifest {
  readonly id: string;
  readonly name: string;
  readonly method: string;
  readonly urlTemplate: string;
  readonly segments: readonly string[];
  /** Path of the operation's policy document (relative to the policies folder), when it has one. */
  readonly policy: string | null;
  /** Offsets of the `urlTemplate` value in api.json (route errors point there). */
  readonly templateAt: number;
  readonly templateEnd: number;
}

export interface ApiManifest {
  readonly id: string;
  /** `apis/<id>/api.json`. */
  readonly file: string;
  readonly name: string;
  readonly path: string;
  readonly segments: readonly string[];
  readonly host: string | null;
  readonly origin: string | null;
  /** `apis/<id>/policy.xml` when present. */
  readonly policy: string | null;
  readonly operations: readonly OperationManifest[];
  /** Offset of the `path` value (duplicate API errors). */
  readonly pathAt: number;
  /**
   * A request under the API's path that no operation matches: `global` runs the global scope (certgate's
   * default); `not-found` answers APIM's 404 before any policy, as APIM does. With its offset, or null.
   */
  readonly notFound: { readonly at: number } | null;
}

export interface Layout {
  readonly global: string | null;
  readonly apis: readonly ApiManifest[];
  /** Fragment id → path. */
  readonly fragments: ReadonlyMap<string, string>;
}

/** API, operation and fragment ids: what APIM accepts for resource names, kept to URL- and path-safe characters. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"] as const;
/** RFC 1123 host name, optionally with a port. */
const HOST = /^(?=.{1,253}(?::|$))[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;

const API_KEYS = ["host", "name", "operations", "origin", "path", "unmatchedOperations"];
const OPERATION_KEYS = ["id", "method", "name", "policy", "urlTemplate"];

/** `compatibility` "apim": APIs answer APIM's 404 for unmatched requests, and `"unmatchedOperations": "global"` is an error. */
export function readLayout(files: ReadonlyMap<string, SourceFile>, values: NamedValues, diags: Diagnostics, compatibility: Compatibility = "certgate"): Layout {
  let global: string | null = null;
  const fragments = new Map<string, string>();
  const apiFiles = new Map<string, string[]>();
  for (const path of [...files.keys()].sort()) {
    const parts = path.split("/");
    if (path === "global.xml") global = path;
    else if (path === "values.json" || path === SETTINGS_FILE) continue;
    else if (parts[0] === "apis" && parts.length >= 3) {
      const list = apiFiles.get(parts[1]!) ?? [];
      list.push(path);
      apiFiles.set(parts[1]!, list);
    } else if (parts[0] === "fragments" && parts.length === 2 && path.endsWith(".xml")) {
      const id = parts[1]!.slice(0, -4);
      if (ID.test(id)) fragments.set(id, path);
      else diags.fileError(path, `invalid fragment id "${id}": use 1–80 of A–Z a–z 0–9 . _ - (starting with a letter or digit)`);
    } else if (path.endsWith(".xml") || path.endsWith(".json")) {
      diags.add({ ...files.get(path)!.diagnostic("warning", 0, "not part of the policies layout (docs/policies-layout.md); ignored"), lineText: "" });
    }
  }

  const apis: ApiManifest[] = [];
  for (const [id, paths] of apiFiles) {
    const manifestPath = `apis/${id}/api.json`;
    const manifest = files.get(manifestPath);
    if (!manifest) {
      diags.fileError(paths[0]!, `the API folder apis/${id} has no api.json`);
      continue;
    }
    if (!ID.test(id)) {
      diags.fileError(manifestPath, `invalid API id "${id}" (the folder name): use 1–80 of A–Z a–z 0–9 . _ - (starting with a letter or digit)`);
      continue;
    }
    const api = readApiManifest(id, manifest, files, values, diags, compatibility);
    if (!api) continue;
    apis.push(api);
    const referenced = new Set([manifestPath, `apis/${id}/policy.xml`, ...api.operations.map((o) => o.policy)]);
    for (const p of paths) {
      if (!referenced.has(p) && (p.endsWith(".xml") || p.endsWith(".json"))) {
        diags.add({ ...files.get(p)!.diagnostic("warning", 0, `not referenced by any operation in ${manifestPath}; ignored`), lineText: "" });
      }
    }
  }
  return { global, apis, fragments };
}

function readApiManifest(id: string, file: SourceFile, files: ReadonlyMap<string, SourceFile>, values: NamedValues, diags: Diagnostics, compatibility: Compatibility): ApiManifest | null {
  const r = readJson(file.text);
  if (!r.ok) {
    diags.error(file, r.error.offset, `invalid JSON: ${r.error.message}`);
    return null;
  }
  const root = r.node;
  if (root.kind !== "object") {
    diags.error(file, root.at, `api.json holds an object {"name", "path", "operations", …}, not ${jsonKind(root)}`);
    return null;
  }
  const m = members(file, root, API_KEYS, ["name", "path", "operations"], diags);
  let ok = true;
  const str = (key: string) => stringMember(file, m, key, diags, () => (ok = false));
  const name = str("name");
  if (name === "") {
    diags.error(file, m.get("name")!.value.at, '"name" must not be empty', 2);
    ok = false;
  }
  const path = str("path");
  let segments: string[] = [];
  if (path !== null) {
    const p = parsePathSegments(path, "path");
    if ("error" in p) {
      diags.error(file, m.get("path")!.value.at, `"path": ${p.error}`, m.get("path")!.value.end - m.get("path")!.value.at);
      ok = false;
    } else segments = p.segments;
  }
  let host: string | null = null;
  if (m.get("host")?.value.kind !== "null") {
    host = str("host");
    if (host !== null && !HOST.test(host)) {
      diags.error(file, m.get("host")!.value.at, `"host" must be a lowercase host name (optionally with :port), not "${host}"`, m.get("host")!.value.end - m.get("host")!.value.at);
      ok = false;
    }
  }
  let origin: string | null = null;
  if (m.get("origin")?.value.kind !== "null") {
    const raw = str("origin");
    if (raw !== null) {
      origin = substitute(file, m.get("origin")!.value, raw, values, diags);
      if (origin === null) ok = false;
      else if (!isHttpUrl(origin)) {
        diags.error(file, m.get("origin")!.value.at, `"origin" must be an absolute http(s) URL, not "${origin}"`, m.get("origin")!.value.end - m.get("origin")!.value.at);
        ok = false;
      }
    }
  }
  let notFound: { at: number } | null = null;
  if (m.has("unmatchedOperations")) {
    const v = str("unmatchedOperations");
    const node = m.get("unmatchedOperations")!.value;
    if (v === "not-found") notFound = { at: node.at };
    else if (v !== null && v !== "global") {
      diags.error(file, node.at, `"unmatchedOperations" must be "global" or "not-found", not "${v}"`, node.end - node.at);
      ok = false;
    } else if (v === "global" && compatibility === "apim") {
      checkManifestCompatibility(file, node.at, node.end - node.at, diags);
      ok = false;
    }
  }
  if (compatibility === "apim" && notFound === null) notFound = { at: root.at };
  const operations: OperationManifest[] = [];
  const opsNode = m.get("operations")?.value;
  if (opsNode && opsNode.kind !== "array") {
    diags.error(file, opsNode.at, `"operations" must be an array, not ${jsonKind(opsNode)}`);
    ok = false;
  } else if (opsNode) {
    const ids = new Map<string, number>();
    for (const node of opsNode.items) {
      // Duplicate ids are reported even for an operation with other problems.
      const idNode = node.kind === "object" ? node.members.find((x) => x.key === "id")?.value : undefined;
      if (idNode?.kind === "string") {
        const first = ids.get(idNode.value);
        if (first !== undefined) {
          const at = file.position(first);
          diags.error(file, idNode.at, `duplicate operation id "${idNode.value}" (first at ${at.line}:${at.col})`, idNode.end - idNode.at);
          ok = false;
          continue;
        }
        ids.set(idNode.value, idNode.at);
      }
      const op = readOperation(id, file, node, files, diags);
      if (op) operations.push(op);
      else ok = false;
    }
  }
  if (!ok || name === null || path === null) return null;
  const policy = `apis/${id}/policy.xml`;
  return {
    id, file: file.path, name, path, segments, host, origin, operations,
    policy: files.has(policy) ? policy : null,
    pathAt: m.get("path")!.value.at,
    notFound,
  };
}

function readOperation(apiId: string, file: SourceFile, node: JsonNode, files: ReadonlyMap<string, SourceFile>, diags: Diagnostics): OperationManifest | null {
  if (node.kind !== "object") {
    diags.error(file, node.at, `an operation is an object {"id", "method", "urlTemplate", …}, not ${jsonKind(node)}`);
    return null;
  }
  const m = members(file, node, OPERATION_KEYS, ["id", "method", "urlTemplate"], diags);
  let ok = true;
  const str = (key: string) => stringMember(file, m, key, diags, () => (ok = false));
  const span = (key: string) => [m.get(key)!.value.at, m.get(key)!.value.end - m.get(key)!.value.at] as const;
  const id = str("id");
  if (id !== null && !ID.test(id)) {
    diags.error(file, span("id")[0], `invalid operation id "${id}": use 1–80 of A–Z a–z 0–9 . _ - (starting with a letter or digit)`, span("id")[1]);
    ok = false;
  }
  const name = str("name");
  const method = str("method");
  if (method !== null && method !== "*" && !(METHODS as readonly string[]).includes(method)) {
    const hint = (METHODS as readonly string[]).includes(method.toUpperCase()) ? ` (methods are uppercase: "${method.toUpperCase()}")` : "";
    diags.error(file, span("method")[0], `"method" must be one of ${METHODS.join(", ")} or "*", not "${method}"${hint}`, span("method")[1]);
    ok = false;
  }
  const urlTemplate = str("urlTemplate");
  let segments: string[] = [];
  if (urlTemplate !== null) {
    const p = parsePathSegments(urlTemplate, "template");
    if ("error" in p) {
      diags.error(file, span("urlTemplate")[0], `"urlTemplate": ${p.error}`, span("urlTemplate")[1]);
      ok = false;
    } else segments = p.segments;
  }
  let policy: string | null = null;
  const policyRel = str("policy");
  if (policyRel !== null) {
    const parts = policyRel.split("/");
    if (!policyRel.endsWith(".xml") || parts.some((p) => p === "" || p === "." || p === "..") || policyRel === "policy.xml") {
      diags.error(file, span("policy")[0], `"policy" names an .xml file inside apis/${apiId}/ (not policy.xml, which is the API scope), not "${policyRel}"`, span("policy")[1]);
      ok = false;
    } else if (!files.has(`apis/${apiId}/${policyRel}`)) {
      diags.error(file, span("policy")[0], `"policy": apis/${apiId}/${policyRel} does not exist`, span("policy")[1]);
      ok = false;
    } else policy = `apis/${apiId}/${policyRel}`;
  }
  if (!ok || id === null || method === null || urlTemplate === null) return null;
  return { id, name: name ?? id, method, urlTemplate, segments, policy, templateAt: span("urlTemplate")[0], templateEnd: span("urlTemplate")[0] + span("urlTemplate")[1] };
}

/** The string value of member `key` (null when absent); a member of another kind is reported and `invalid()` called. */
function stringMember(file: SourceFile, m: ReadonlyMap<string, JsonMember>, key: string, diags: Diagnostics, invalid: () => void): string | null {
  const v = m.get(key)?.value;
  if (v === undefined) return null;
  if (v.kind !== "string") {
    diags.error(file, v.at, `"${key}" must be a string, not ${jsonKind(v)}`, v.end - v.at);
    invalid();
    return null;
  }
  return v.value;
}

/** An object's members by key; reports unknown keys and missing required ones. */
function members(file: SourceFile, node: Extract<JsonNode, { kind: "object" }>, known: readonly string[], required: readonly string[], diags: Diagnostics): Map<string, JsonMember> {
  const out = new Map<string, JsonMember>();
  for (const m of node.members) {
    if (known.includes(m.key)) out.set(m.key, m);
    else diags.error(file, m.keyAt, `unknown key "${m.key}"; allowed: ${known.join(", ")}`, m.keyEnd - m.keyAt);
  }
  for (const r of required) {
    if (!out.has(r)) diags.error(file, node.at, `missing "${r}"`);
  }
  return out;
}

/** `{{name}}` in a manifest string: compile-time values only (the value is needed to build the bundle). */
function substitute(file: SourceFile, node: JsonNode, text: string, values: NamedValues, diags: Diagnostics): string | null {
  let out = "";
  let ok = true;
  for (let i = 0; i < text.length;) {
    const ref = namedValueRefAt(text, i);
    if (!ref) {
      out += text[i++];
      continue;
    }
    const v = values.lookup(ref.name);
    if (v === undefined) {
      diags.error(file, node.at, values.unknown(ref.name), node.end - node.at);
      ok = false;
    } else if (v.kind === "secret") {
      diags.error(file, node.at, `secret named value {{${ref.name}}} cannot be used in api.json: the value must be known at compile time`, node.end - node.at);
      ok = false;
    } else out += v.value;
    i = ref.end;
  }
  return ok ? out : null;
}

/** An absolute http(s) URL with a host. */
export function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}
