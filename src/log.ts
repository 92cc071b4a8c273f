/**
 * Structured log lines (one JSON object per line, as Workers Logs and `wrangler tail` index them).
 * Internal detail (KV keys, exception text) goes here and never to the client.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * The facts of one request for its `request` log line (one per request, docs/operations.md), filled in by
 * the stages of app.ts as they run. Times are in milliseconds as the Workers clock reports them: it advances
 * only across I/O, so CPU-only work (a cached or in-memory validation) reads 0 and KV loads and the origin
 * call show their wait.
 */
export interface RequestRecord {
  readonly started: number;
  readonly method: string;
  readonly path: string;
  /** Cloudflare's Ray ID (CF-Ray), else the id a policy line of this request generated. */
  requestId: string | null;
  source: string | null;
  sha256: string | null;
  subject: string | null;
  issuer: string | null;
  store: string | null;
  /** The validation result came from the verifier's cache. */
  cached: boolean | null;
  operation: string | null;
  validateMs: number | null;
  originMs: number | null;
  /** Operator-only notes (a certificate header ignored, and why), added to the line's `internal`. */
  notes?: string[];
}

export function newRequestRecord(method: string, path: string, requestId: string | null, started: number): RequestRecord {
  return { started, method, path, requestId, source: null, sha256: null, subject: null, issuer: null, store: null, cached: null, operation: null, validateMs: null, originMs: null };
}

/**
 * `allow`: the origin's response (possibly edited by outbound policies); `respond`: a response a policy built
 * instead of the origin's (return-response, on-error); `deny`: a 4xx problem; `error`: a 5xx problem.
 */
export type Decision = "allow" | "respond" | "deny" | "error";

/** Which policy answered, on a `respond` line: `policy` (its PolicyId) and `policyAt` (file:line:col, or null). */
export interface PolicyAnswerFields {
  readonly policy: string;
  readonly policyAt: string | null;
}

/** The request's log line (decisions: see Decision). */
export function logRequest(record: RequestRecord, decision: Decision, status: number, code: string | null, internal?: string, answer?: PolicyAnswerFields): void {
  const level: LogLevel = decision === "error" ? "warn" : "info";
  // One object, written once, in log()'s field order (level, event, then the fields): the request line is on
  // every request, and log()'s spread of a spread of the record measured ≈ 2% of a warm request's CPU (perf).
  const line = JSON.stringify(fillRequestFields({ level, event: "request" }, record, decision, status, code, internal, answer));
  if (level === "warn") console.warn(line);
  else console.log(line);
}

/** The fields of the `request` line (also what `policy explain` shows). */
export function requestLogFields(record: RequestRecord, decision: Decision, status: number, code: string | null, internal?: string, answer?: PolicyAnswerFields): Record<string, unknown> {
  return fillRequestFields({}, record, decision, status, code, internal, answer);
}

/** Every fact of RequestRecord is written by fillRequestFields: adding one there without writing it fails typecheck here. */
type WrittenFacts = "method" | "path" | "requestId" | "source" | "sha256" | "subject" | "issuer" | "store" | "cached" | "operation" | "validateMs" | "originMs";
const allFactsWritten: [Exclude<keyof RequestRecord, WrittenFacts | "started" | "notes">] extends [never] ? true : never = true;
void allFactsWritten;

function fillRequestFields(fields: Record<string, unknown>, record: RequestRecord, decision: Decision, status: number, code: string | null,
  internal: string | undefined, answer: PolicyAnswerFields | undefined): Record<string, unknown> {
  // The record's facts in RequestRecord's order (not `started`, not `notes`).
  fields.decision = decision;
  fields.status = status;
  fields.code = code;
  fields.method = record.method;
  fields.path = record.path;
  fields.requestId = record.requestId;
  fields.source = record.source;
  fields.sha256 = record.sha256;
  fields.subject = record.subject;
  fields.issuer = record.issuer;
  fields.store = record.store;
  fields.cached = record.cached;
  fields.operation = record.operation;
  fields.validateMs = record.validateMs;
  fields.originMs = record.originMs;
  fields.totalMs = Date.now() - record.started;
  if (answer !== undefined) {
    fields.policy = answer.policy;
    fields.policyAt = answer.policyAt;
  }
  const notes = record.notes;
  if (internal !== undefined || (notes !== undefined && notes.length > 0)) {
    const operatorOnly = [...(internal === undefined ? [] : [internal]), ...(notes ?? [])];
    fields.internal = operatorOnly.join("; ");
  }
  return fields;
}

/** The request's Server-Timing value (W3C Server Timing: `name;dur=milliseconds`). */
export function serverTiming(record: RequestRecord): string {
  let v = "";
  if (record.validateMs !== null) v += `validate;dur=${record.validateMs}, `;
  if (record.originMs !== null) v += `origin;dur=${record.originMs}, `;
  return `${v}total;dur=${Date.now() - record.started}`;
}
