/**
 * The compiled policy bundle, checked and indexed once per isolate.
 *
 * Contract: pure. `prepareBundle(raw)` refuses anything that is not a bundle of this SCHEMA_VERSION — wrong
 * `schema`, a missing `*` program, an unknown step kind, a route to an operation that does not exist, a
 * malformed template, a liquid template that does not parse — and lists every problem (the Worker answers 503
 * `policy_bundle_invalid` and logs them: fail closed, never a gateway that silently runs fewer policies).
 * Expression ASTs are not checked here beyond their envelope; the interpreter reports what it cannot run as a
 * runtime error.
 *
 * Indexing: the routes are compiled (routes.ts), and each program is scanned once for what the runner must
 * prepare before evaluating it synchronously: `Verify()` / `VerifyNoRevocation()` results (the union of the
 * compiler's `needs` and a scan of the expressions, so a stale `needs` cannot turn into a runtime failure)
 * and the registered certificates (`context.Deployment`, `issuer-certificate-id`).
 *
 * Where the Worker's bundle comes from: `build/policies.json`, imported by built-bundle.ts only, so that this
 * module (and the explain CLI, which compiles its own bundle in process) works before the first
 * `npm run policies:build`; tests and the explain CLI pass theirs to `createApp({ bundle })` / the runner.
 */
import { err, ok, type Result } from "../result";
import { parseIp } from "./ip";
import { checkLiquid } from "./liquid";
import { compileRoutes, matchRoute, type RouteIndex } from "./routes";
import { SCHEMA_VERSION, type PolicyBundle, type Program, type Step, type Template } from "./schema";

/** A program with what the runner must compute before running it. */
export interface PreparedProgram {
  /** Operation key (`<apiId>/<operationId>`, or `*`). */
  readonly key: string;
  readonly program: Program;
  /** Request-certificate validations to compute before evaluation. */
  readonly needsVerify: boolean;
  readonly needsVerifyNoRevocation: boolean;
  /** Load the registered certificates before evaluation (context.Deployment or issuer-certificate-id). */
  readonly needsRegistered: boolean;
  /** Buffer the request and origin response bodies for expressions (context.Request.Body, context.Response.Body). */
  readonly needsBody: boolean;
  /** Read send-request's response bodies: an expression reads `Body`, or a return-response returns a response variable. */
  readonly needsOutboundBody?: boolean;
}

/** A checked bundle with its route index. */
export interface PreparedBundle {
  readonly bundle: PolicyBundle;
  readonly routes: RouteIndex;
  readonly programs: ReadonlyMap<string, PreparedProgram>;
  /** The `*` program (requests no route matches). */
  readonly fallback: PreparedProgram;
  /** Named values that may be resolved at run time (the compiler's list); no other name is. */
  readonly runtimeValues: ReadonlySet<string>;
}

/** The program for a request. */
export interface Selection {
  readonly program: PreparedProgram;
  /** Template parameters of the matched route (context.Request.MatchedParameters). */
  readonly params: ReadonlyMap<string, string>;
}

/**
 * The bundle equivalent to certgate before policies: one `*` program with no steps (every request that
 * passes the REQUIRE_CERTIFICATE floor is forwarded to ORIGIN_URL with the verified identity).
 */
export const PASS_THROUGH_BUNDLE: PolicyBundle = {
  schema: SCHEMA_VERSION,
  source: "pass-through",
  routes: [],
  operations: {
    "*": { api: null, operation: null, origin: null, inbound: [], backend: [], outbound: [], onError: [], needs: [] },
  },
  runtimeValues: [],
};

const cache = new WeakMap<object, Result<PreparedBundle, string[]>>();

/** Checks and indexes a bundle (once per bundle object). */
export function prepareBundle(raw: unknown): Result<PreparedBundle, string[]> {
  if (typeof raw !== "object" || raw === null) return err(["the bundle is not a JSON object"]);
  let r = cache.get(raw);
  if (!r) {
    r = prepare(raw as Record<string, unknown>);
    cache.set(raw, r);
  }
  return r;
}

/** The program that runs for a request. */
export function selectProgram(prepared: PreparedBundle, url: URL, method: string): Selection {
  const m = matchRoute(prepared.routes, url, method);
  const program = m ? prepared.programs.get(m.operation) : undefined;
  return program ? { program, params: m!.params } : { program: prepared.fallback, params: new Map() };
}

function prepare(raw: Record<string, unknown>): Result<PreparedBundle, string[]> {
  if (raw.schema !== SCHEMA_VERSION) {
    const which = typeof raw.schema === "number" && raw.schema > SCHEMA_VERSION ? " (a newer certgate's compiler built it)"
      : typeof raw.schema === "number" && raw.schema < SCHEMA_VERSION ? " (an older certgate's compiler built it)" : "";
    return err([`schema is ${JSON.stringify(raw.schema)}, this gateway runs schema ${SCHEMA_VERSION}${which}: rebuild the policies with this version's compiler (npm run policies:build)`]);
  }
  const problems: string[] = [];
  const check = new Checker(problems);
  if (typeof raw.source !== "string") problems.push("source must be a string");
  if (!Array.isArray(raw.routes)) problems.push("routes must be an array");
  if (!Array.isArray(raw.runtimeValues) || !raw.runtimeValues.every((v) => typeof v === "string")) problems.push("runtimeValues must be an array of strings");
  const operations = raw.operations;
  if (typeof operations !== "object" || operations === null || Array.isArray(operations)) {
    problems.push("operations must be an object");
    return err(problems);
  }
  const programs = new Map<string, PreparedProgram>();
  for (const [key, program] of Object.entries(operations as Record<string, unknown>)) {
    if (check.program(program, `operations[${JSON.stringify(key)}]`)) programs.set(key, prepareProgram(key, program as Program));
  }
  const fallback = programs.get("*");
  if (!Object.hasOwn(operations, "*")) problems.push("operations has no `*` program (the program for requests no route matches)");
  const routes: Route[] = [];
  if (Array.isArray(raw.routes)) {
    raw.routes.forEach((r, i) => {
      if (check.route(r, `routes[${i}]`)) routes.push(r as Route);
    });
  }
  const index = compileRoutes(routes, new Set(Object.keys(operations)));
  if (!index.ok) problems.push(...index.error);
  if (problems.length > 0 || !index.ok || !fallback) return err(problems);
  return ok({
    bundle: raw as unknown as PolicyBundle,
    routes: index.value,
    programs,
    fallback,
    runtimeValues: new Set(raw.runtimeValues as string[]),
  });
}

type Route = PolicyBundle["routes"][number];

function prepareProgram(key: string, program: Program): PreparedProgram {
  const scan = { verify: program.needs.includes("verify"), verifyNoRevocation: program.needs.includes("verifyNoRevocation"), deployment: false, body: false };
  const sections = [program.inbound, program.backend, program.outbound, program.onError];
  let issuerIds = false;
  let returnsVariable = false;
  for (const steps of sections) {
    forEachStep(steps, (s) => {
      if (s.k === "return-response" && s.responseVariable !== undefined) returnsVariable = true;
      if (s.k === "validate-client-certificate" && s.identities.some((i) => i.issuerCertificateId !== undefined)) issuerIds = true;
      if (s.k === "find-and-replace" || s.k === "set-body-liquid") scan.body = true;
    });
    scanNames(steps, scan);
  }
  return {
    key,
    program,
    needsVerify: scan.verify,
    needsVerifyNoRevocation: scan.verifyNoRevocation,
    needsRegistered: scan.deployment || issuerIds,
    needsBody: scan.body,
    needsOutboundBody: scan.body || returnsVariable,
  };
}

/** True when a step asks for caching-type="external" (KV POLICY_CACHE must be bound; scripts/check). */
export function usesExternalCache(prepared: PreparedBundle): boolean {
  let found = false;
  for (const p of prepared.programs.values()) {
    for (const steps of [p.program.inbound, p.program.backend, p.program.outbound, p.program.onError]) {
      forEachStep(steps, (s) => {
        if ((s.k === "cache-lookup" || s.k === "cache-lookup-value" || s.k === "cache-store-value" || s.k === "cache-remove-value") && s.store === "external") found = true;
      });
    }
  }
  return found;
}

/**
 * Binding names the bundle reads by name: its run-time named values (Worker secrets) and the ids of its
 * `authentication-certificate` steps (mtls_certificates bindings). The configuration check does not take
 * these for misspelled certgate variables.
 */
export function policyBindingNames(prepared: PreparedBundle): ReadonlySet<string> {
  const names = new Set(prepared.runtimeValues);
  for (const p of prepared.programs.values()) {
    for (const steps of [p.program.inbound, p.program.backend, p.program.outbound, p.program.onError]) {
      forEachStep(steps, (s) => {
        if (s.k === "authentication-certificate") names.add(s.certificateId);
        if ((s.k === "send-request" || s.k === "send-one-way-request") && s.request.certificateId !== null) names.add(s.request.certificateId);
      });
    }
  }
  return names;
}

/** rate-limiting-binding names with the limit and period each step expects of the binding (scripts/check compares). */
export function rateLimitingBindings(prepared: PreparedBundle): ReadonlyMap<string, ReadonlyArray<{ readonly calls: number; readonly period: number }>> {
  const out = new Map<string, Array<{ calls: number; period: number }>>();
  for (const p of prepared.programs.values()) {
    forEachStep(p.program.inbound, (s) => {
      if ((s.k === "rate-limit-by-key" || s.k === "quota-by-key") && s.rateLimitingBinding && s.calls !== null) {
        const list = out.get(s.rateLimitingBinding) ?? [];
        if (!list.some((x) => x.calls === s.calls && x.period === s.periodSeconds)) list.push({ calls: s.calls, period: s.periodSeconds });
        out.set(s.rateLimitingBinding, list);
      }
    });
  }
  return out;
}

/** Whether any step uses authentication-managed-identity (alone or in a send-request): npm run check names its secrets. */
export function usesManagedIdentity(prepared: PreparedBundle): boolean {
  let found = false;
  for (const p of prepared.programs.values()) {
    for (const steps of [p.program.inbound, p.program.backend, p.program.outbound, p.program.onError]) {
      forEachStep(steps, (s) => {
        if (s.k === "authentication-managed-identity" || ((s.k === "send-request" || s.k === "send-one-way-request") && s.request.managedIdentity)) found = true;
      });
    }
  }
  return found;
}

function forEachStep(steps: readonly Step[], visit: (s: Step) => void): void {
  for (const s of steps) {
    visit(s);
    if (s.k === "choose") {
      for (const w of s.whens) forEachStep(w.steps, visit);
      if (s.otherwise) forEachStep(s.otherwise, visit);
    }
    if (s.k === "retry") forEachStep(s.steps, visit);
  }
}

/** Looks through every expression AST for the members that need preparation (any node naming them). */
function scanNames(value: unknown, scan: { verify: boolean; verifyNoRevocation: boolean; deployment: boolean; body: boolean }): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object" && x !== null) stack.push(x);
    } else if (typeof v === "object" && v !== null) {
      const o = v as Record<string, unknown>;
      if ((o.t === "member" || o.t === "id") && typeof o.name === "string") {
        if (o.name === "Verify") scan.verify = true;
        else if (o.name === "VerifyNoRevocation") scan.verifyNoRevocation = true;
        else if (o.name === "Deployment") scan.deployment = true;
        else if (o.name === "Body") scan.body = true;
      }
      for (const x of Object.values(o)) if (typeof x === "object" && x !== null) stack.push(x);
    }
  }
}

const STEP_KINDS = new Set<Step["k"]>([
  "validate-client-certificate", "choose", "return-response", "set-status", "set-header", "set-body", "set-body-liquid", "set-variable", "trace",
  "set-backend-service", "authentication-certificate", "authentication-basic", "set-query-parameter", "set-method", "check-header", "ip-filter", "rewrite-uri",
  "mock-response", "cors", "find-and-replace", "forward-request", "validate-jwt", "rate-limit-by-key", "quota-by-key",
  "cache-lookup-value", "cache-store-value", "cache-remove-value", "cache-lookup", "cache-store", "send-request", "send-one-way-request", "retry",
  "authentication-managed-identity",
]);
const EXISTS_ACTIONS = new Set(["override", "skip", "append", "delete"]);
const SEVERITIES = new Set(["verbose", "information", "error"]);

/** Structural checks of the bundle's JSON; each failed check adds a problem with its JSON path. */
class Checker {
  constructor(private readonly problems: string[]) {}

  private fail(where: string, what: string): false {
    this.problems.push(`${where}: ${what}`);
    return false;
  }

  private obj(v: unknown, where: string): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v) ? true : this.fail(where, "must be an object");
  }

  route(v: unknown, where: string): boolean {
    if (!this.obj(v, where)) return false;
    let good = true;
    if (typeof v.operation !== "string") good = this.fail(where, "operation must be a string");
    if (v.host !== null && typeof v.host !== "string") good = this.fail(where, "host must be a string or null");
    if (typeof v.method !== "string" || v.method === "") good = this.fail(where, "method must be a non-empty string");
    if (!Array.isArray(v.segments) || !v.segments.every((s) => typeof s === "string")) good = this.fail(where, "segments must be an array of strings");
    return good;
  }

  program(v: unknown, where: string): boolean {
    if (!this.obj(v, where)) return false;
    const before = this.problems.length;
    if (v.api !== null && !(this.obj(v.api, `${where}.api`) && ["id", "name", "path"].every((k) => typeof (v.api as Record<string, unknown>)[k] === "string"))) {
      this.fail(`${where}.api`, "must be null or {id, name, path} strings");
    }
    if (v.operation !== null && !(this.obj(v.operation, `${where}.operation`) &&
      ["id", "name", "method", "urlTemplate"].every((k) => typeof (v.operation as Record<string, unknown>)[k] === "string"))) {
      this.fail(`${where}.operation`, "must be null or {id, name, method, urlTemplate} strings");
    }
    if (v.origin !== null) {
      if (typeof v.origin !== "string" || !URL.canParse(v.origin) || !/^https?:$/.test(new URL(v.origin).protocol)) this.fail(`${where}.origin`, "must be null or an http(s) URL");
    }
    for (const section of ["inbound", "backend", "outbound", "onError"] as const) this.steps(v[section], `${where}.${section}`);
    if (!Array.isArray(v.needs) || !v.needs.every((n) => n === "verify" || n === "verifyNoRevocation")) this.fail(`${where}.needs`, "must list verify / verifyNoRevocation");
    return this.problems.length === before;
  }

  private steps(v: unknown, where: string): void {
    if (!Array.isArray(v)) {
      this.fail(where, "must be an array of steps");
      return;
    }
    v.forEach((s, i) => this.step(s, `${where}[${i}]`));
  }

  private step(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    if (typeof v.k !== "string" || !STEP_KINDS.has(v.k as Step["k"])) {
      this.fail(where, `unknown step ${JSON.stringify(v.k)}`);
      return;
    }
    where = `${where} (${v.k})`;
    this.origin(v.at, `${where}.at`);
    switch (v.k as Step["k"]) {
      case "validate-client-certificate":
        for (const f of ["validateRevocation", "validateTrust", "validateNotBefore", "validateNotAfter", "ignoreError"]) {
          if (typeof v[f] !== "boolean") this.fail(`${where}.${f}`, "must be a boolean");
        }
        if (v.trustStore !== null && (typeof v.trustStore !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(v.trustStore))) this.fail(`${where}.trustStore`, "must be null or a store name");
        if (v.failedStatus !== null && !(Number.isInteger(v.failedStatus) && (v.failedStatus as number) >= 200 && (v.failedStatus as number) <= 599)) {
          this.fail(`${where}.failedStatus`, "must be null or an HTTP status 200–599");
        }
        if (v.failedMessage !== null && typeof v.failedMessage !== "string") this.fail(`${where}.failedMessage`, "must be null or a string");
        if (!Array.isArray(v.identities) || !v.identities.every((i) => typeof i === "object" && i !== null && Object.values(i).every((x) => typeof x === "string"))) {
          this.fail(`${where}.identities`, "must be an array of objects of strings");
        }
        break;
      case "choose":
        if (!Array.isArray(v.whens)) this.fail(`${where}.whens`, "must be an array");
        else v.whens.forEach((w, i) => {
          if (!this.obj(w, `${where}.whens[${i}]`)) return;
          this.code(w.condition, `${where}.whens[${i}].condition`);
          this.steps(w.steps, `${where}.whens[${i}].steps`);
        });
        if (v.otherwise !== null) this.steps(v.otherwise, `${where}.otherwise`);
        break;
      case "return-response":
        if (v.status !== null && this.obj(v.status, `${where}.status`)) {
          this.template(v.status.code, `${where}.status.code`);
          if (v.status.reason !== null) this.template(v.status.reason, `${where}.status.reason`);
        }
        if (!Array.isArray(v.headers)) this.fail(`${where}.headers`, "must be an array");
        else v.headers.forEach((h, i) => this.setHeader(h, `${where}.headers[${i}]`));
        if (v.body !== null) this.template(v.body, `${where}.body`);
        if (v.responseVariable !== undefined && (typeof v.responseVariable !== "string" || v.responseVariable === "")) this.fail(`${where}.responseVariable`, "must be a variable name");
        break;
      case "set-status":
        this.template(v.code, `${where}.code`);
        if (v.reason !== null) this.template(v.reason, `${where}.reason`);
        break;
      case "set-header":
        this.setHeader(v, where);
        break;
      case "set-body":
        this.template(v.body, `${where}.body`);
        break;
      case "set-body-liquid":
        // Parsed here, once per isolate, so a template this runtime cannot run fails the load, not a request.
        if (typeof v.template !== "string") this.fail(`${where}.template`, "must be a string");
        else for (const p of checkLiquid(v.template)) this.fail(`${where}.template`, `liquid ${p.line}:${p.col}: ${p.message}`);
        if (typeof v.parseDate !== "boolean") this.fail(`${where}.parseDate`, "must be a boolean");
        break;
      case "set-variable":
        if (typeof v.name !== "string" || v.name === "") this.fail(`${where}.name`, "must be a non-empty string");
        this.template(v.value, `${where}.value`);
        break;
      case "trace":
        if (typeof v.source !== "string") this.fail(`${where}.source`, "must be a string");
        if (!SEVERITIES.has(v.severity as string)) this.fail(`${where}.severity`, "must be verbose, information or error");
        this.template(v.message, `${where}.message`);
        if (!Array.isArray(v.metadata)) this.fail(`${where}.metadata`, "must be an array");
        else v.metadata.forEach((m, i) => {
          if (!this.obj(m, `${where}.metadata[${i}]`)) return;
          if (typeof m.name !== "string") this.fail(`${where}.metadata[${i}].name`, "must be a string");
          this.template(m.value, `${where}.metadata[${i}].value`);
        });
        break;
      case "set-backend-service":
        this.template(v.baseUrl, `${where}.baseUrl`);
        break;
      case "authentication-basic":
        this.template(v.username, `${where}.username`);
        this.template(v.password, `${where}.password`);
        break;
      case "authentication-certificate":
        if (typeof v.certificateId !== "string" || v.certificateId === "") this.fail(`${where}.certificateId`, "must be a non-empty string");
        break;
      case "set-query-parameter":
        this.setHeader(v, where);
        break;
      case "set-method":
        this.template(v.method, `${where}.method`);
        break;
      case "check-header":
        for (const f of ["name", "failedStatus", "failedMessage", "ignoreCase"]) this.template(v[f], `${where}.${f}`);
        if (!Array.isArray(v.values)) this.fail(`${where}.values`, "must be an array");
        else v.values.forEach((t, i) => this.template(t, `${where}.values[${i}]`));
        break;
      case "ip-filter": {
        if (v.action !== "allow" && v.action !== "forbid") this.fail(`${where}.action`, "must be allow or forbid");
        const ip = (x: unknown, at: string) => (typeof x === "string" && parseIp(x) !== null) || this.fail(at, "must be an IP address");
        if (!Array.isArray(v.addresses)) this.fail(`${where}.addresses`, "must be an array");
        else v.addresses.forEach((x, i) => ip(x, `${where}.addresses[${i}]`));
        if (!Array.isArray(v.ranges)) this.fail(`${where}.ranges`, "must be an array");
        else v.ranges.forEach((r, i) => {
          if (!this.obj(r, `${where}.ranges[${i}]`)) return;
          ip(r.from, `${where}.ranges[${i}].from`);
          ip(r.to, `${where}.ranges[${i}].to`);
        });
        break;
      }
      case "rewrite-uri":
        this.template(v.template, `${where}.template`);
        if (typeof v.copyUnmatchedParams !== "boolean") this.fail(`${where}.copyUnmatchedParams`, "must be a boolean");
        break;
      case "forward-request":
        if (v.timeoutMs !== null && !(Number.isInteger(v.timeoutMs) && (v.timeoutMs as number) > 0)) this.fail(`${where}.timeoutMs`, "must be null or milliseconds");
        if (typeof v.followRedirects !== "boolean") this.fail(`${where}.followRedirects`, "must be a boolean");
        break;
      case "find-and-replace":
        this.template(v.from, `${where}.from`);
        this.template(v.to, `${where}.to`);
        break;
      case "cors": {
        for (const f of ["allowCredentials", "terminateUnmatched"]) if (typeof v[f] !== "boolean") this.fail(`${where}.${f}`, "must be a boolean");
        const strings = (x: unknown) => Array.isArray(x) && x.every((y) => typeof y === "string");
        for (const f of ["origins", "headers", "expose"]) if (!strings(v[f])) this.fail(`${where}.${f}`, "must be an array of strings");
        if (v.methods !== null && !strings(v.methods)) this.fail(`${where}.methods`, "must be null or an array of strings");
        if (v.maxAge !== null && !(Number.isInteger(v.maxAge) && (v.maxAge as number) >= 0)) this.fail(`${where}.maxAge`, "must be null or seconds");
        break;
      }
      case "mock-response":
        if (!(Number.isInteger(v.status) && (v.status as number) >= 200 && (v.status as number) <= 599)) this.fail(`${where}.status`, "must be an HTTP status 200–599");
        if (v.contentType !== null && typeof v.contentType !== "string") this.fail(`${where}.contentType`, "must be null or a string");
        break;
      case "validate-jwt": {
        const source = v.source as Record<string, unknown> | null;
        if (!this.obj(source, `${where}.source`)) break;
        if (source.kind === "value") this.template(source.value, `${where}.source.value`);
        else if ((source.kind !== "header" && source.kind !== "query") || typeof source.name !== "string") this.fail(`${where}.source`, "must be a header, query or value source");
        if (!(Number.isInteger(v.failedStatus) && (v.failedStatus as number) >= 200 && (v.failedStatus as number) <= 599)) this.fail(`${where}.failedStatus`, "must be an HTTP status 200–599");
        if (!(Number.isInteger(v.clockSkewSeconds) && (v.clockSkewSeconds as number) >= 0)) this.fail(`${where}.clockSkewSeconds`, "must be seconds");
        for (const f of ["keys", "audiences", "issuers", "requiredClaims"]) if (!Array.isArray(v[f])) this.fail(`${where}.${f}`, "must be an array");
        for (const f of ["audiences", "issuers"]) if (Array.isArray(v[f])) (v[f] as unknown[]).forEach((x, i) => this.template(x, `${where}.${f}[${i}]`));
        if (v.openidConfig !== null && typeof v.openidConfig !== "string") this.fail(`${where}.openidConfig`, "must be null or a URL");
        if (v.azureAd !== undefined) {
          const ad = v.azureAd as Record<string, unknown> | null;
          if (!this.obj(ad, `${where}.azureAd`)) break;
          if (!Array.isArray(ad.clientApplicationIds) || !ad.clientApplicationIds.every((x) => typeof x === "string")) this.fail(`${where}.azureAd.clientApplicationIds`, "must be an array of strings");
          if (ad.v1IssuerHost !== null && typeof ad.v1IssuerHost !== "string") this.fail(`${where}.azureAd.v1IssuerHost`, "must be null or a host");
          if (typeof v.openidConfig !== "string") this.fail(`${where}.openidConfig`, "must be the tenant's discovery URL");
        }
        break;
      }
      case "rate-limit-by-key":
      case "quota-by-key":
        this.template(v.counterKey, `${where}.counterKey`);
        if (v.incrementCondition !== null) this.code(v.incrementCondition, `${where}.incrementCondition`);
        if (v.incrementCountCode !== null) this.code(v.incrementCountCode, `${where}.incrementCountCode`);
        if (!(Number.isInteger(v.periodSeconds) && (v.periodSeconds as number) >= 0)) this.fail(`${where}.periodSeconds`, "must be seconds");
        if (v.calls === null && v.bandwidthKb === null) this.fail(`${where}.calls`, "calls or bandwidthKb must be set");
        if (v.failureMode !== "deny" && v.failureMode !== "allow") this.fail(`${where}.failureMode`, "must be deny or allow");
        if (v.callsCode != null) this.code(v.callsCode, `${where}.callsCode`);
        if (v.periodCode != null) this.code(v.periodCode, `${where}.periodCode`);
        if (v.rateLimitingBinding != null && (typeof v.rateLimitingBinding !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.rateLimitingBinding))) this.fail(`${where}.rateLimitingBinding`, "must be a binding name");
        if (v.subscription != null && (typeof v.subscription !== "object" || !["rate-limit", "quota"].includes((v.subscription as { element?: string }).element ?? ""))) {
          this.fail(`${where}.subscription`, "must be {element, api, operation}");
        }
        break;
      case "cache-lookup":
        for (const f of ["varyByHeaders", "varyByQuery"]) if (!Array.isArray(v[f]) || !(v[f] as unknown[]).every((x) => typeof x === "string")) this.fail(`${where}.${f}`, "must be an array of names");
        if (typeof v.shared !== "boolean") this.fail(`${where}.shared`, "must be a boolean");
        if (v.store !== "internal" && v.store !== "external") this.fail(`${where}.store`, "must be internal or external");
        this.template(v.downstreamCachingType, `${where}.downstreamCachingType`);
        this.template(v.mustRevalidate, `${where}.mustRevalidate`);
        this.template(v.allowPrivateResponseCaching, `${where}.allowPrivateResponseCaching`);
        break;
      case "cache-store":
        this.template(v.duration, `${where}.duration`);
        if (v.cacheResponse !== null) this.template(v.cacheResponse, `${where}.cacheResponse`);
        break;
      case "cache-lookup-value":
        this.template(v.key, `${where}.key`);
        if (typeof v.variable !== "string" || v.variable === "") this.fail(`${where}.variable`, "must be a variable name");
        if (v.defaultValue !== null) this.template(v.defaultValue, `${where}.defaultValue`);
        break;
      case "cache-store-value":
        this.template(v.key, `${where}.key`);
        this.template(v.value, `${where}.value`);
        this.template(v.durationSeconds, `${where}.durationSeconds`);
        break;
      case "cache-remove-value":
        this.template(v.key, `${where}.key`);
        break;
      case "send-request":
      case "send-one-way-request": {
        const r = v.request;
        if (!this.obj(r, `${where}.request`)) break;
        this.template(r.mode, `${where}.request.mode`);
        for (const f of ["timeout", "url", "method", "body"]) if (r[f] !== null) this.template(r[f], `${where}.request.${f}`);
        if (!Array.isArray(r.headers)) this.fail(`${where}.request.headers`, "must be an array");
        else r.headers.forEach((h, i) => this.setHeader(h, `${where}.request.headers[${i}]`));
        if (r.certificateId !== null && (typeof r.certificateId !== "string" || r.certificateId === "")) this.fail(`${where}.request.certificateId`, "must be null or a binding name");
        if (r.managedIdentity !== undefined) this.managedIdentity(r.managedIdentity, `${where}.request.managedIdentity`);
        if (v.k === "send-request") {
          this.template(v.responseVariable, `${where}.responseVariable`);
          if (typeof v.ignoreError !== "boolean") this.fail(`${where}.ignoreError`, "must be a boolean");
        }
        break;
      }
      case "authentication-managed-identity":
        this.managedIdentity(v, where);
        if (v.outputVariable !== null && (typeof v.outputVariable !== "string" || v.outputVariable === "")) this.fail(`${where}.outputVariable`, "must be null or a variable name");
        break;
      case "retry":
        for (const f of ["condition", "count", "interval"]) this.template(v[f], `${where}.${f}`);
        for (const f of ["maxInterval", "delta", "firstFastRetry"]) if (v[f] !== null) this.template(v[f], `${where}.${f}`);
        if (typeof v.forwardsOrigin !== "boolean") this.fail(`${where}.forwardsOrigin`, "must be a boolean");
        this.steps(v.steps, `${where}.steps`);
        break;
    }
  }

  /** authentication-managed-identity's attributes (policy/managed-identity-schema.ts). */
  private managedIdentity(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    this.template(v.resource, `${where}.resource`);
    if (v.clientId !== null && (typeof v.clientId !== "string" || v.clientId === "")) this.fail(`${where}.clientId`, "must be null or a client id");
    if (typeof v.ignoreError !== "boolean") this.fail(`${where}.ignoreError`, "must be a boolean");
  }

  private setHeader(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    this.template(v.name, `${where}.name`);
    if (!EXISTS_ACTIONS.has(v.existsAction as string)) this.fail(`${where}.existsAction`, "must be override, skip, append or delete");
    if (!Array.isArray(v.values)) this.fail(`${where}.values`, "must be an array");
    else v.values.forEach((t, i) => this.template(t, `${where}.values[${i}]`));
  }

  private origin(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    if (typeof v.file !== "string" || !Number.isInteger(v.line) || !Number.isInteger(v.col) || typeof v.policyId !== "string" ||
      !["global", "api", "operation", "fragment"].includes(v.scope as string)) {
      this.fail(where, "must be {file, line, col, scope, policyId}");
    }
  }

  private template(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    const t = v as Partial<Template> & Record<string, unknown>;
    if (t.t === "text") {
      if (typeof t.v !== "string") this.fail(where, "text template without a string `v`");
    } else if (t.t === "code") {
      this.code(t.code, `${where}.code`);
    } else if (t.t === "parts") {
      if (!Array.isArray(t.parts)) this.fail(where, "parts template without `parts`");
      else t.parts.forEach((p: unknown, i: number) => {
        if (!this.obj(p, `${where}.parts[${i}]`)) return;
        if ("code" in p) this.code(p.code, `${where}.parts[${i}].code`);
        else if (typeof p.text !== "string" && typeof p.value !== "string") this.fail(`${where}.parts[${i}]`, "must be {text}, {value} or {code}");
      });
    } else {
      this.fail(where, `unknown template kind ${JSON.stringify(t.t)}`);
    }
  }

  private code(v: unknown, where: string): void {
    if (!this.obj(v, where)) return;
    if ((v.kind !== "expr" && v.kind !== "block") || typeof v.file !== "string" || typeof v.node !== "object" || v.node === null) {
      this.fail(where, "must be compiled code {kind, file, src, node}");
    }
  }
}
