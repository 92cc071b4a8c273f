/**
 * policy explain — the readable output. Pure: an Explanation in, lines out.
 *
 * Order: what ran on what (policies, trust material, request, certificate, operation, scopes), then each
 * policy step per section with its file:line:col and outcome, the trace, the log lines the Worker would
 * write, and the decision with what it carries (the request sent to the origin, or the response).
 */
import type { Explanation, LogLine } from "./explain";

export interface RenderContext {
  /** "policies/ (5 operations, 7 files)". */
  readonly policies: string;
  readonly trust: readonly string[];
  /** Prefix of the bundle's file names for display ("policies/"). */
  readonly displayPrefix: string;
  readonly method: string;
  readonly url: string;
  readonly at: Date;
  readonly originStatus: number;
  /** The stub counter's starting count (--counter-used), shown when a rate-limit-by-key / quota-by-key step ran. */
  readonly counterUsed?: number;
  /** Entries of the stub value cache (--cache), shown when a cache-*-value step ran. */
  readonly cacheEntries?: number;
  /** Stub answers given for send-request (--send-response), shown when an outbound step ran. */
  readonly sendResponses?: number;
  /** The stub response cache's body (--cached-response; null: empty), shown when a cache-lookup step ran. */
  readonly cachedResponse?: string | null;
  /** A stub token was given (--managed-identity-token), shown when authentication-managed-identity ran. */
  readonly managedIdentityToken?: boolean;
}

/** Longest header value shown in full; longer ones (Client-Cert …) are cut, --json has them whole. */
const MAX_VALUE_CHARS = 120;

function cut(v: string): string {
  return v.length > MAX_VALUE_CHARS ? `${v.slice(0, MAX_VALUE_CHARS - 1)}… (${v.length} characters)` : v;
}

function headerLines(headers: Readonly<Record<string, string>>, indent: string): string[] {
  const names = Object.keys(headers).sort();
  return names.length === 0 ? [`${indent}(none)`] : names.map((n) => `${indent}${n}: ${cut(headers[n]!)}`);
}

function bodyLines(body: string | null, indent: string): string[] {
  if (body === null) return [`${indent}(empty)`];
  let shown = body;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === "object" && parsed !== null) shown = JSON.stringify(parsed, null, 2);
  } catch {
    // not JSON: as it is
  }
  return shown.split(/\r?\n/).map((l) => `${indent}${l}`);
}

function logLine(l: LogLine, at: (position: string) => string): string {
  const fields = Object.entries(l.fields)
    // Times and ids vary from run to run; nulls say nothing.
    .filter(([k, v]) => v !== undefined && v !== null && k !== "stack" && k !== "requestId" && !k.endsWith("Ms"))
    .map(([k, v]) => `${k}=${k === "at" && typeof v === "string" ? at(v) : typeof v === "string" ? v : JSON.stringify(v)}`);
  return `  ${l.level} ${l.event} ${fields.join(" ")}`.trimEnd();
}

/** The readable explanation. */
export function renderExplanation(x: Explanation, ctx: RenderContext): string[] {
  const at = (position: string) => (position === "" ? "" : ctx.displayPrefix + position);
  const out: string[] = [];
  const d = x.decision;
  out.push(`policies     ${ctx.policies}`);
  ctx.trust.forEach((t, i) => out.push(`${i === 0 ? "trust        " : "             "}${t}`));
  if (x.decision.steps.some((s) => s.step === "rate-limit-by-key" || s.step === "quota-by-key")) {
    out.push(`counters     STUB: every counter holds ${ctx.counterUsed ?? 0} calls before this request (--counter-used); the Worker's Durable Objects and Rate Limiting bindings are not read`);
  }
  if (x.decision.steps.some((s) => s.step.startsWith("cache-") && s.step.endsWith("-value"))) {
    out.push(`value cache  STUB: ${ctx.cacheEntries ?? 0} entr${ctx.cacheEntries === 1 ? "y" : "ies"} given with --cache; the Workers Cache API is not read`);
  }
  if (x.decision.steps.some((s) => s.step === "send-request" || s.step === "send-one-way-request")) {
    out.push(`outbound     STUB: no call is made; send-request answers come from --send-response (${ctx.sendResponses ?? 0} given), send-one-way-request is not sent`);
  }
  if (x.decision.steps.some((s) => s.step === "authentication-managed-identity" || s.note.includes("STUB token"))) {
    out.push(`Entra ID     STUB: ${ctx.managedIdentityToken ? "every token is the --managed-identity-token value" : "no --managed-identity-token given: answered as not configured (503)"}; no call to the token endpoint, no secrets read`);
  }
  if (x.decision.steps.some((s) => s.step === "cache-lookup" || s.step === "cache-store")) {
    out.push(`resp. cache  STUB: ${ctx.cachedResponse == null ? "empty, every lookup misses" : "every lookup hits with a 200 of the --cached-response body"}; the Workers Cache API and KV POLICY_CACHE are not read`);
  }
  out.push(`request      ${ctx.method} ${ctx.url} at ${ctx.at.toISOString()}`);
  if (x.certificate === null) {
    out.push("certificate  none presented");
  } else {
    const m = x.certificate.model;
    out.push(`certificate  ${m ? m.subject.dotnet : "(does not parse)"}`);
    if (m) out.push(`             thumbprint ${m.thumbprint}, serial ${m.serialNumber}, valid ${m.notBefore} to ${m.notAfter}`);
    const v = x.certificate.verdict;
    if (v.valid) {
      out.push(`             valid against the deployment's store: ${v.path.join("  ←  ")}`);
      for (const w of v.warnings) out.push(`             warning: ${w}`);
    } else {
      out.push(`             not valid against the deployment's store: ${v.error.code} — ${v.error.detail}`);
    }
  }
  const program = x.selection.program.program;
  if (program.operation && program.api) {
    out.push(`operation    ${x.selection.program.key} — ${program.operation.method} ${program.operation.urlTemplate} of API ${program.api.id} ("${program.api.name}", path "${program.api.path}")`);
    if (x.selection.params.size > 0) out.push(`             parameters ${[...x.selection.params].map(([k, v]) => `${k}=${v}`).join(", ")}`);
  } else {
    out.push("operation    none matched: the global scope alone (program *)");
  }

  if (x.floor) {
    out.push("");
    out.push(`no policy ran: REQUIRE_CERTIFICATE is true and ${x.floor.code === "certificate_missing" ? "no certificate was presented" : `the certificate is not valid (${x.floor.code})`}.`);
    out.push("  Pass --var REQUIRE_CERTIFICATE=false to let the policies decide, as a deployment with per-operation certificates does.");
  } else {
    const scopes: string[] = [];
    for (const s of d.steps) {
      const id = x.origins.get(s.at)?.policyId;
      if (id !== undefined && !scopes.includes(id)) scopes.push(id);
    }
    out.push(`scopes       ${scopes.length > 0 ? scopes.join(", ") : "(no policy step ran)"}`);
    let section = "";
    const width = Math.min(48, Math.max(0, ...d.steps.map((s) => s.path.length)));
    for (const s of d.steps) {
      if (s.section !== section) {
        section = s.section;
        out.push("");
        out.push(section === "outbound" ? `outbound     (on the synthetic origin response: ${ctx.originStatus}, no headers, empty body)` : section);
      }
      out.push(`  ${s.path.padEnd(width)}  ${at(s.at)}  ${s.note}`);
    }
    if (d.lastError) {
      const e = d.lastError;
      out.push("");
      out.push(`on-error ran for: Source ${e.source}, Reason ${e.reason}, Section ${e.section}, Path ${e.path || "-"}, PolicyId ${e.policyId || "-"}`);
      out.push(`  Message: ${e.message}`);
    }
  }
  if (d.trace.length > 0) {
    out.push("");
    out.push(`trace${x.tracing ? " (returned in X-Certgate-Trace: the request carries TRACE_SECRET)" : ""}`);
    for (const t of d.trace) {
      const meta = Object.entries(t.metadata).map(([k, v]) => `${k}=${v}`).join(", ");
      out.push(`  ${t.severity} ${t.source}: ${t.message}${meta ? `  {${meta}}` : ""}  (${t.section}, ${at(t.at)})`);
    }
  }
  const logs = x.log.filter((l) => l.event !== "policy_trace");
  if (logs.length > 0) {
    out.push("");
    out.push("log (what the Worker would log)");
    for (const l of logs) out.push(logLine(l, at));
  }

  out.push("");
  if (d.effect === "forward") {
    out.push(`decision     FORWARD to ${d.origin}${d.mtlsCertificate ? ` through the mtls_certificates binding ${d.mtlsCertificate} (authentication-certificate)` : ""}`);
    out.push("             (not called: this is what the Worker would send)");
    out.push(`  ${ctx.method} ${d.origin}`);
    out.push(...headerLines(d.headers, "    "));
    if (d.body !== null) {
      out.push("  body:");
      out.push(...bodyLines(d.body, "    "));
    }
    const r = d.response!;
    out.push(`  the client then gets (outbound on the synthetic origin response ${ctx.originStatus}): ${r.status}`);
    out.push(...headerLines(r.headers, "    "));
    if (r.body !== null) {
      out.push("  body:");
      out.push(...bodyLines(r.body, "    "));
    }
  } else {
    const problem = d.headers["content-type"] === "application/problem+json";
    out.push(`decision     RESPOND ${d.status}${problem ? " (problem+json)" : ""}; the origin is not called`);
    out.push(...headerLines(d.headers, "    "));
    out.push("  body:");
    out.push(...bodyLines(d.body, "    "));
  }
  return out;
}
