/**
 * Policy cases as data: `test/policies/<case>/cases.json`, run through the Worker in workerd
 * (test/integration/policy-cases.test.ts) and through explain in Node (scripts/policy/explain.node.test.ts).
 * Both harnesses turn what they observe into a `Observed` decision and check it with `checkDecision`, so a
 * case passes only when the Worker and explain decide the same.
 *
 * Contract: pure, no Node imports (it runs in workerd too). A case folder holds:
 *   policy.xml                one document applied as the only scope (compileSingleDocument), or
 *   policies/                 a policies folder (docs/policies-layout.md);
 *   values.json               (with policy.xml) its named values; a folder has its own policies/values.json;
 *   runtime-values.json       values of the secret named values: KV `v/<version>/values` in workerd,
 *                             `--named-value` in explain (`{{pki.…}}` facts in them are expanded);
 *   cases.json                [{ name, request, vars?, expect }] (PolicyCase below).
 * Certificates are named from the test PKI the harnesses share (case-pki.ts), generated at test time; its
 * facts are named values `{{pki.<certificate>.<fact>}}` in the policies, and may appear in `expect` and
 * `request` strings too (`checkDecision` and `expandFacts` substitute them).
 */
import type { TraceLine } from "../../src/policy/run";
import type { Decision } from "./explain";

/** The request of a case. */
export interface CaseRequest {
  /** Default GET. */
  readonly method?: string;
  /** Absolute URL (the host matters for APIs with a `host`). */
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A certificate of the test PKI (case-pki.ts CERTIFICATE_NAMES), or null / absent for none. */
  readonly cert?: string | null;
  /** Certificates the client presents after the leaf, by name. */
  readonly chain?: readonly string[];
}

/** What the case expects. Header names are lower-case; a null header value means "absent". */
export interface CaseExpect {
  readonly effect: "forward" | "respond";
  /** The client's status for respond; 0 for forward. */
  readonly status: number;
  /** forward: headers sent to the origin; respond: response headers. */
  readonly headers?: Readonly<Record<string, string | null>>;
  /** forward: the request body sent; respond: the response body. Each string must occur in it. */
  readonly bodyIncludes?: string | readonly string[];
  /** Exact body (null: empty). */
  readonly body?: string | null;
  /** respond: the problem+json `code`. */
  readonly code?: string;
  /** forward: the URL the origin request goes to. */
  readonly origin?: string;
  /** forward: the mtls_certificates binding (authentication-certificate), or null for none. */
  readonly mtls?: string | null;
  /** forward: what the client gets once outbound ran on the origin's response (200, no headers, empty body). */
  readonly response?: { readonly status?: number; readonly headers?: Readonly<Record<string, string | null>>; readonly bodyIncludes?: string | readonly string[]; readonly body?: string | null };
  /** Messages of the trace lines, in order (observable in the Worker only with TRACE_SECRET: send it). */
  readonly trace?: readonly string[];
}

export interface PolicyCase {
  readonly name: string;
  readonly request: CaseRequest;
  /** Worker variables over CASE_VARS (docs/configuration.md). */
  readonly vars?: Readonly<Record<string, string>>;
  readonly expect: CaseExpect;
}

/**
 * Worker variables of every case: policies decide (no floor), a fixed ORIGIN_URL. (The workerd harness also
 * sets its certificate source and terminator secret, which explain does not need.)
 */
export const CASE_VARS: Readonly<Record<string, string>> = { REQUIRE_CERTIFICATE: "false", ORIGIN_URL: "https://origin.test" };

/** A case folder, compiled (build-cases.ts writes one per folder for the workerd harness). */
export interface BuiltCase {
  readonly name: string;
  /** `document`: policy.xml (+ values.json); `folder`: policies/. */
  readonly kind: "document" | "folder";
  readonly bundle: unknown;
  readonly cases: readonly PolicyCase[];
  readonly runtimeValues: Readonly<Record<string, string>>;
}

/** The decision as both harnesses can observe it. `trace` is null when not observable (Worker without TRACE_SECRET). */
export type Observed = Pick<Decision, "effect" | "status" | "headers" | "body" | "origin" | "mtlsCertificate" | "response"> & {
  readonly trace: readonly Pick<TraceLine, "message">[] | null;
};

/** `{{pki.valid.thumbprint}}` … replaced by the test PKI's facts (unknown names are left, and then fail). */
export function expandFacts(text: string, facts: Readonly<Record<string, string>>): string {
  return text.replace(/\{\{([A-Za-z0-9._-]+)\}\}/g, (all, name: string) => facts[name] ?? all);
}

function includes(what: string, body: string | null, expected: string | readonly string[], facts: Readonly<Record<string, string>>, out: string[]): void {
  for (const e of typeof expected === "string" ? [expected] : expected) {
    const x = expandFacts(e, facts);
    if (body === null || !body.includes(x)) out.push(`${what} does not include ${JSON.stringify(x)}: ${JSON.stringify(body)}`);
  }
}

function headers(what: string, actual: Readonly<Record<string, string>>, expected: Readonly<Record<string, string | null>>, facts: Readonly<Record<string, string>>, out: string[]): void {
  for (const [name, value] of Object.entries(expected)) {
    const a = actual[name.toLowerCase()] ?? null;
    const x = value === null ? null : expandFacts(value, facts);
    if (a !== x) out.push(`${what} ${name}: expected ${JSON.stringify(x)}, got ${JSON.stringify(a)}`);
  }
}

/** Every difference between the observed decision and the expectation (empty: the case passes). */
export function checkDecision(d: Observed, e: CaseExpect, facts: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  if (d.effect !== e.effect) out.push(`effect: expected ${e.effect}, got ${d.effect}`);
  if (d.status !== e.status) out.push(`status: expected ${e.status}, got ${d.status}`);
  if (e.headers) headers(d.effect === "forward" ? "header sent to the origin" : "response header", d.headers, e.headers, facts, out);
  if (e.bodyIncludes !== undefined) includes("body", d.body, e.bodyIncludes, facts, out);
  if (e.body !== undefined) {
    const x = e.body === null ? null : expandFacts(e.body, facts);
    if (d.body !== x) out.push(`body: expected ${JSON.stringify(x)}, got ${JSON.stringify(d.body)}`);
  }
  if (e.code !== undefined) {
    let code: unknown = null;
    try {
      code = (JSON.parse(d.body ?? "null") as { code?: unknown } | null)?.code ?? null;
    } catch {
      code = null;
    }
    if (code !== e.code) out.push(`problem code: expected ${e.code}, got ${JSON.stringify(code)} (body ${JSON.stringify(d.body)})`);
  }
  if (e.origin !== undefined && d.origin !== expandFacts(e.origin, facts)) out.push(`origin: expected ${e.origin}, got ${d.origin}`);
  if (e.mtls !== undefined && d.mtlsCertificate !== e.mtls) out.push(`mtls binding: expected ${e.mtls}, got ${d.mtlsCertificate}`);
  if (e.response !== undefined) {
    const r = d.response;
    if (r === null) out.push("response: expected the client's response after outbound, but the request was not forwarded");
    else {
      if (e.response.status !== undefined && r.status !== e.response.status) out.push(`response status: expected ${e.response.status}, got ${r.status}`);
      if (e.response.headers) headers("response header", r.headers, e.response.headers, facts, out);
      if (e.response.bodyIncludes !== undefined) includes("response body", r.body, e.response.bodyIncludes, facts, out);
      if (e.response.body !== undefined && r.body !== e.response.body) out.push(`response body: expected ${JSON.stringify(e.response.body)}, got ${JSON.stringify(r.body)}`);
    }
  }
  if (e.trace !== undefined) {
    if (d.trace === null) out.push("trace: not observable (send X-Certgate-Trace-Secret with a TRACE_SECRET var to see it in the Worker)");
    else {
      const messages = d.trace.map((t) => t.message);
      const x = e.trace.map((m) => expandFacts(m, facts));
      if (JSON.stringify(messages) !== JSON.stringify(x)) out.push(`trace: expected ${JSON.stringify(x)}, got ${JSON.stringify(messages)}`);
    }
  }
  return out;
}
