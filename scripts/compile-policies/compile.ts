/**
 * compile-policies/compile — the policy compiler as pure functions (the CLI in main.ts is a thin shell).
 *
 * Contract: no I/O; files come in as a map, the bundle or the diagnostics go out. Stages, in the cel-go
 * policy compiler's shape:
 *   read   layout.ts (folder + manifests), read-xml.ts (located XML, code spans kept aside), values.ts
 *   check  check.ts: each document once → sections of Steps (expressions compiled, fragments inlined)
 *   lower  lower.ts: scopes global → api → operation flattened per operation, `<base/>` resolved
 *   emit   routes ordered (routes.ts), bundle assembled here, bytes and hash in emit.ts
 * Every stage reports to one Diagnostics and goes on, so one run shows every error; when any error exists
 * there is no bundle. Warnings never block.
 */
import { checkCodeCompatibility, checkDocumentCompatibility, readSettings, SETTINGS_FILE, type Compatibility } from "./compatibility";
import { SCHEMA_VERSION, type PolicyBundle, type Program, type Route } from "../../src/policy/schema";
import { Checker, type CheckedDocument } from "./check";
import { sourceHash } from "./emit";
import { readLayout } from "./layout";
import { lowerProgram } from "./lower";
import { readXml, type XmlDocument } from "./read-xml";
import { compareRoutes, sameRoute } from "./routes";
import { Diagnostics, SourceFile, type Diagnostic } from "./source";
import { NamedValues, readValuesFile, type NamedValue, type NamedValuesInput } from "./values";

export type CompileResult =
  | { readonly bundle: PolicyBundle; readonly warnings: readonly Diagnostic[] }
  | { readonly errors: readonly Diagnostic[]; readonly warnings: readonly Diagnostic[] };

/** Operation key of the program for requests no route matches. */
export const UNMATCHED = "*";

/** The operation id of an API's `"unmatchedOperations": "not-found"` program (not a valid manifest id). */
export const NOT_FOUND_OPERATION = "~not-found";

/** APIM's body for a request no operation matches. */
export const APIM_NOT_FOUND_BODY = '{ "statusCode": 404, "message": "Resource not found" }';

function namedValues(files: ReadonlyMap<string, SourceFile>, input: NamedValuesInput, diags: Diagnostics): NamedValues {
  const entries = new Map<string, NamedValue>();
  const file = files.get("values.json");
  const declared = file ? readValuesFile(file, diags) : new Map();
  for (const [name, v] of declared) entries.set(name, v.value);
  for (const [name, v] of Object.entries(input)) {
    const d = declared.get(name);
    if (d?.value.kind === "secret" && typeof v === "string" && file) {
      diags.error(file, d.at, `"${name}" is declared secret here, but the values given to the compiler set it: secret values are resolved at run time only`, name.length + 2);
      continue;
    }
    entries.set(name, typeof v === "string" ? { kind: "text", value: v } : { kind: "secret" });
  }
  return new NamedValues(entries);
}

function finish(diags: Diagnostics, build: () => PolicyBundle): CompileResult {
  if (diags.hasErrors) return { errors: diags.errors(), warnings: diags.warnings() };
  return { bundle: build(), warnings: diags.warnings() };
}

/**
 * Compiles a policies folder: `files` maps paths relative to the folder (`/`-separated) to their text;
 * `values` are named values that add to or override values.json (the CLI's `--values`).
 */
export function compilePolicies(files: ReadonlyMap<string, string>, values: NamedValuesInput = {}): CompileResult {
  const diags = new Diagnostics();
  const sources = new Map([...files].map(([path, text]) => [path, new SourceFile(path, text)]));
  const named = namedValues(sources, values, diags);
  const compatibility = readSettings(sources.get(SETTINGS_FILE), diags);
  const layout = readLayout(sources, named, diags, compatibility);

  const docs = new Map<string, XmlDocument | null>();
  const read = (path: string | null): XmlDocument | null => {
    if (path === null) return null;
    if (!docs.has(path)) docs.set(path, readXml(sources.get(path)!, diags));
    return docs.get(path)!;
  };
  const fragments = new Map([...layout.fragments].map(([id, path]) => [id, read(path)]));
  const checker = new Checker(named, diags, fragments);
  const checked: CheckedDocument[] = [];
  const check = (path: string | null, scope: "global" | "api" | "operation", policyId: string): CheckedDocument | null => {
    const doc = read(path);
    const result = doc ? checker.checkDocument({ doc, scope, policyId, base: scope === "global" ? "error" : "allowed" }) : null;
    if (result) checked.push(result);
    return result;
  };

  const global = check(layout.global, "global", "global");
  const programs: Record<string, Program> = {};
  const routes: Route[] = [];
  /** Where each route is declared ("apis/cars/api.json:5:51"), for duplicate errors. */
  const declared = new Map<Route, string>();
  const pending: Array<() => void> = [];
  const apiPaths = new Map<string, { file: string; at: number }>();
  for (const api of layout.apis) {
    const apiKey = `${api.host ?? ""}\0${api.path.toLowerCase()}`;
    const same = apiPaths.get(apiKey);
    if (same) {
      diags.error(sources.get(api.file)!, api.pathAt, `API path "${api.path}"${api.host ? ` on ${api.host}` : ""} is already used by ${same.file}`, api.path.length + 2);
    } else apiPaths.set(apiKey, { file: api.file, at: api.pathAt });
    const apiDoc = check(api.policy, "api", `api:${api.id}`);
    for (const op of api.operations) {
      const key = `${api.id}/${op.id}`;
      const opDoc = check(op.policy, "operation", `operation:${key}`);
      const route: Route = { operation: key, host: api.host, method: op.method, segments: [...api.segments, ...op.segments] };
      const file = sources.get(api.file)!;
      const dup = routes.find((r) => sameRoute(r, route));
      if (dup) {
        const shown = `${api.host ?? ""}${api.path}${op.urlTemplate === "/" && api.path ? "" : op.urlTemplate}`;
        diags.error(file, op.templateAt, `duplicate route ${op.method} ${shown}: ${dup.operation} (${declared.get(dup)}) has the same method and path`, op.templateEnd - op.templateAt);
        continue;
      }
      const at = file.position(op.templateAt);
      declared.set(route, `${api.file}:${at.line}:${at.col}`);
      routes.push(route);
      pending.push(() => {
        programs[key] = lowerProgram([global, apiDoc, opDoc], {
          api: { id: api.id, name: api.name, path: api.path },
          operation: { id: op.id, name: op.name, method: op.method, urlTemplate: op.urlTemplate },
          origin: api.origin,
        });
      });
    }
    if (api.notFound) {
      // APIM answers a request under an API that no operation matches with 404 before any policy runs: a route
      // after every operation's (a trailing {*rest} and any method sort last) to a program of that one answer.
      const key = `${api.id}/${NOT_FOUND_OPERATION}`;
      const file = sources.get(api.file)!;
      const route: Route = { operation: key, host: api.host, method: "*", segments: [...api.segments, "{*path}"] };
      routes.push(route);
      const { line, col } = file.position(api.notFound.at);
      const at = { file: api.file, line, col, scope: "api" as const, policyId: `api:${api.id}` };
      const text = (v: string) => ({ t: "text" as const, v });
      const answer: CheckedDocument = new Map([["inbound", [{
        k: "return-response", at,
        status: { code: text("404"), reason: text("Resource Not Found") },
        headers: [{ at, name: text("Content-Type"), existsAction: "override", values: [text("application/json")] }],
        body: text(APIM_NOT_FOUND_BODY),
      }]]]);
      pending.push(() => {
        programs[key] = lowerProgram([answer], { api: { id: api.id, name: api.name, path: api.path }, operation: null, origin: api.origin });
      });
    }
  }
  for (const id of [...layout.fragments.keys()].sort()) {
    if (checker.usedFragments.has(id)) continue;
    const doc = fragments.get(id);
    if (doc) diags.warning(doc.file, doc.root.start, `fragment "${id}" is not included anywhere`, doc.root.name.length + 1);
    checker.checkUnusedFragment(id);
  }

  if (compatibility === "apim") {
    for (const doc of docs.values()) if (doc) checkDocumentCompatibility(doc, diags);
    checkCodeCompatibility(checked, (path) => sources.get(path), diags);
  }

  return finish(diags, () => {
    for (const p of pending) p();
    programs[UNMATCHED] = lowerProgram([global], { api: null, operation: null, origin: null });
    return {
      schema: SCHEMA_VERSION,
      source: sourceHash(files, values),
      routes: routes.sort(compareRoutes),
      operations: programs,
      runtimeValues: named.runtimeValues(),
    };
  });
}

/**
 * Compiles one `<policies>` document applied as the only scope to every request: the bundle has no routes
 * and one program, `*`. `<base/>` is accepted and runs nothing (documents pasted from an API or operation
 * scope carry it). Fragments only from `fragments` (id → text; `policy corpus` passes the ones beside a document);
 * named values only from `values`.
 */
export function compileSingleDocument(xmlText: string, file: string, values: NamedValuesInput = {},
  options: { readonly compatibility?: Compatibility; readonly fragments?: ReadonlyMap<string, string> } = {}): CompileResult {
  const fragments = options.fragments ?? new Map<string, string>();
  const diags = new Diagnostics();
  const source = new SourceFile(file, xmlText);
  const named = namedValues(new Map(), values, diags);
  const doc = readXml(source, diags);
  const fragmentDocs = new Map([...fragments].map(([id, text]) => [id, readXml(new SourceFile(`fragments/${id}.xml`, text), diags)]));
  const checker = new Checker(named, diags, fragmentDocs);
  const checked = doc ? checker.checkDocument({ doc, scope: "global", policyId: "global", base: "allowed" }) : null;
  if (doc && options.compatibility === "apim") {
    checkDocumentCompatibility(doc, diags);
    checkCodeCompatibility(checked, (path) => (path === file ? source : undefined), diags);
  }
  return finish(diags, () => ({
    schema: SCHEMA_VERSION,
    source: sourceHash(new Map([[file, xmlText], ...[...fragments].map(([id, text]) => [`fragments/${id}.xml`, text] as [string, string])]), values),
    routes: [],
    operations: { [UNMATCHED]: lowerProgram([checked], { api: null, operation: null, origin: null }) },
    runtimeValues: named.runtimeValues(),
  }));
}
