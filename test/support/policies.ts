/**
 * Compiled policy bundles written by hand for tests: steps as the compiler emits them (policy/schema.ts),
 * expressions written in C# and parsed by the real expression parser. Test material only.
 */
import type { Code } from "../../src/policy/expr/ast";
import { parseCode } from "../../src/policy/expr/parse";
import type { RunResult } from "../../src/policy/run";
import { SCHEMA_VERSION, type Identity, type Origin, type PolicyBundle, type Program, type Route, type SetHeader, type Step, type Template } from "../../src/policy/schema";

let line = 0;
/** A fresh source position (each step on its own line of "test.xml", so logs and records can be told apart). */
export function at(scope: Origin["scope"] = "operation"): Origin {
  line += 1;
  return { file: "test.xml", line, col: 5, scope, policyId: scope === "global" ? "global" : `${scope}:test` };
}

/** `@( … )` or `@{ … }` source, parsed; a parse error fails the test at once. */
export function code(source: string): Code {
  const r = parseCode(source, "test.xml", [++line, 1]);
  if (!r.ok) throw new Error(`test expression does not parse: ${r.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("; ")}\n${source}`);
  return r.code;
}

/** A template: `@(…)` / `@{…}` is code, anything else text. */
export function tpl(value: string): Template {
  return value.startsWith("@(") || value.startsWith("@{") ? { t: "code", code: code(value) } : { t: "text", v: value };
}

/** A template mixing text, runtime named values (`{{name}}`) and code: parts. */
export function parts(...p: Array<string | { value: string } | { code: string }>): Template {
  return { t: "parts", parts: p.map((x) => (typeof x === "string" ? { text: x } : "value" in x ? x : { code: code(x.code) })) };
}

export interface ValidateOptions {
  validateRevocation?: boolean;
  validateTrust?: boolean;
  validateNotBefore?: boolean;
  validateNotAfter?: boolean;
  ignoreError?: boolean;
  trustStore?: string | null;
  failedStatus?: number | null;
  failedMessage?: string | null;
  identities?: Identity[];
}

export const step = {
  validate: (o: ValidateOptions = {}): Step => ({
    k: "validate-client-certificate", at: at(),
    validateRevocation: o.validateRevocation ?? true, validateTrust: o.validateTrust ?? true,
    validateNotBefore: o.validateNotBefore ?? true, validateNotAfter: o.validateNotAfter ?? true,
    ignoreError: o.ignoreError ?? false, trustStore: o.trustStore ?? null, failedStatus: o.failedStatus ?? null,
    failedMessage: o.failedMessage ?? null, identities: o.identities ?? [],
  }),
  choose: (whens: Array<[condition: string, steps: Step[]]>, otherwise: Step[] | null = null): Step => ({
    k: "choose", at: at(), whens: whens.map(([c, steps]) => ({ condition: code(c), steps })), otherwise,
  }),
  returnResponse: (o: { status?: string; reason?: string; headers?: SetHeader[]; body?: Template } = {}): Step => ({
    k: "return-response", at: at(),
    status: o.status === undefined ? null : { code: tpl(o.status), reason: o.reason === undefined ? null : tpl(o.reason) },
    headers: o.headers ?? [], body: o.body ?? null,
  }),
  setStatus: (status: string, reason?: string): Step => ({ k: "set-status", at: at(), code: tpl(status), reason: reason === undefined ? null : tpl(reason) }),
  setHeader: (name: string, values: Array<string | Template>, existsAction: SetHeader["existsAction"] = "override"): Step => ({
    k: "set-header", ...header(name, values, existsAction),
  }),
  setBody: (body: string | Template): Step => ({ k: "set-body", at: at(), body: typeof body === "string" ? tpl(body) : body }),
  setVariable: (name: string, value: string | Template): Step => ({ k: "set-variable", at: at(), name, value: typeof value === "string" ? tpl(value) : value }),
  trace: (source: string, message: string | Template, metadata: Record<string, string> = {}, severity: "verbose" | "information" | "error" = "information"): Step => ({
    k: "trace", at: at(), source, severity, message: typeof message === "string" ? tpl(message) : message,
    metadata: Object.entries(metadata).map(([name, v]) => ({ name, value: tpl(v) })),
  }),
  setBackend: (baseUrl: string): Step => ({ k: "set-backend-service", at: at(), baseUrl: tpl(baseUrl) }),
  authenticationCertificate: (certificateId: string): Step => ({ k: "authentication-certificate", at: at(), certificateId }),
  setQueryParameter: (name: string, values: Array<string | Template>, existsAction: SetHeader["existsAction"] = "override"): Step => ({
    k: "set-query-parameter", ...header(name, values, existsAction),
  }),
  setMethod: (method: string): Step => ({ k: "set-method", at: at(), method: tpl(method) }),
  checkHeader: (name: string, status: string, message: string, ignoreCase: string, values: string[] = []): Step => ({
    k: "check-header", at: at(), name: tpl(name), failedStatus: tpl(status), failedMessage: tpl(message), ignoreCase: tpl(ignoreCase), values: values.map((v) => tpl(v)),
  }),
  ipFilter: (action: "allow" | "forbid", addresses: string[], ranges: Array<{ from: string; to: string }> = []): Step => ({ k: "ip-filter", at: at(), action, addresses, ranges }),
  rewriteUri: (template: string, copyUnmatchedParams = true): Step => ({ k: "rewrite-uri", at: at(), template: tpl(template), copyUnmatchedParams }),
  mockResponse: (status = 200, contentType: string | null = null): Step => ({ k: "mock-response", at: at(), status, contentType }),
  findAndReplace: (from: string, to: string): Step => ({ k: "find-and-replace", at: at(), from: tpl(from), to: tpl(to) }),
  cors: (o: { origins: string[]; methods?: string[] | null; headers?: string[]; expose?: string[]; maxAge?: number | null; allowCredentials?: boolean; terminateUnmatched?: boolean }): Step => ({
    k: "cors", at: at(), allowCredentials: o.allowCredentials ?? false, terminateUnmatched: o.terminateUnmatched ?? true, origins: o.origins,
    methods: o.methods ?? null, maxAge: o.maxAge ?? null, headers: o.headers ?? [], expose: o.expose ?? [],
  }),
};

/** A SetHeader (for set-header steps and return-response headers). */
export function header(name: string, values: Array<string | Template>, existsAction: SetHeader["existsAction"] = "override"): SetHeader {
  return { at: at(), name: tpl(name), existsAction, values: values.map((v) => (typeof v === "string" ? tpl(v) : v)) };
}

/** A program; sections default to empty. */
export function program(p: Partial<Program> = {}): Program {
  return { api: null, operation: null, origin: null, inbound: [], backend: [], outbound: [], onError: [], needs: [], ...p };
}

/** An operation of API `api` with its route: `GET /cars/{id}` under API path `cars`. */
export function operation(api: string, id: string, method: string, urlTemplate: string, p: Partial<Program> = {}, apiPath = api): { key: string; route: Route; program: Program } {
  const key = `${api}/${id}`;
  const segments = [...apiPath.split("/").filter(Boolean), ...urlTemplate.split("/").filter(Boolean)];
  return {
    key,
    route: { operation: key, host: null, method, segments },
    program: program({
      api: { id: api, name: api, path: apiPath },
      operation: { id, name: id, method, urlTemplate },
      ...p,
    }),
  };
}

/** A bundle: the `*` program and operations (from `operation`). */
export function bundle(fallback: Partial<Program> = {}, operations: ReturnType<typeof operation>[] = [], runtimeValues: string[] = []): PolicyBundle {
  return {
    schema: SCHEMA_VERSION,
    source: "test",
    routes: operations.map((o) => o.route),
    operations: { "*": program(fallback), ...Object.fromEntries(operations.map((o) => [o.key, o.program])) },
    runtimeValues,
  };
}

/** The response of a runProgram result (throws, naming the problem, when it is one). */
export function response(x: { result: RunResult }): Response {
  if (x.result.kind !== "response") throw new Error(`expected a response, got problem ${x.result.error.code}`);
  return x.result.response;
}

/** The problem of a runProgram result (throws, naming the status, when it is a response). */
export function problem(x: { result: RunResult }) {
  if (x.result.kind !== "problem") throw new Error(`expected a problem, got ${x.result.response.status}`);
  return x.result;
}
