/**
 * policy corpus — how much of a folder of APIM policy documents certgate compiles and runs
 * (`npm run -s policy -- corpus DIR [--values FILE] [--json]`).
 *
 * For every `.xml` under DIR (sorted, recursively) it decides what the file is, compiles it with the Worker's
 * compiler and, when that succeeds, runs it once in Node on one plausible request with a valid client
 * certificate, the way `policy explain` does (explain.ts: the origin is not called, outbound runs on a synthetic
 * 200, rate-limit counters and the value cache are explain's stubs). Each document ends in one verdict:
 *   runs      compiled; the request was forwarded, or the policy answered it itself (return-response,
 *             mock-response …) with a 2xx/3xx, or with a 5xx of its own choosing (no error, no problem)
 *   denies    compiled; the request was refused cleanly: a 4xx the gateway, a policy check or the policy chose
 *   unreachable  compiled; a 5xx from a service the run does not call, not the policy's fault: a problem code
 *             with no policy error (validate-jwt's openid-config: explain does not fetch its keys,
 *             docs/policies.md), or any 5xx after a send-request the run could not answer (the corpus gives
 *             explain no `--send-response` stubs, so every send-request fails as unreachable; what the policy
 *             does next — `ignore-error` leaves its variable null, then `.Body` on null throws; or 502
 *             send_request_failed — is what APIM does when that service is down). The detail names the
 *             unanswered response variables. A defect in what runs *after* a real answer is not seen here
 *   context   compiled; the run failed reading `context.Variables["X"]` for a variable the document never sets
 *             (no set-variable, variable-name or response-variable-name X), and the document is a snippet,
 *             section or fragment, or a `<policies>` with `<base />` (an enclosing scope can set it): written for
 *             a policy that sets it elsewhere, not a defect of the document. A whole `<policies>` without
 *             `<base />` that reads a variable it never sets stays `fails` (it fails on every request). Also a
 *             rewrite-uri `{name}` or a `MatchedParameters["name"]` that no operation defines: the corpus runs
 *             each document as the global scope without operations, and in APIM the operation's URL template
 *             (not in the document) defines it
 *   fails     compiled, then the request failed with a 5xx after an error (an expression that threw, a runner
 *             bug …): a "compile-then-fail", which issue 13 wants at zero. Whether it fails on *every* request
 *             or only on this one (a body that is not the JSON array the policy expects) is for a reader of
 *             the detail to judge
 *   rejected  did not compile; the first error is kept, and every error is reduced to a *reason* (the
 *             unsupported element, attribute, member …) so reasons can be counted across documents
 *
 * What a file is (its *shape*), and how it is compiled:
 *   policies     a `<policies>` document: compiled as it is, as the one global document (compileSingleDocument)
 *   section      a lone `<inbound>` / `<backend>` / `<outbound>` / `<on-error>`: wrapped in `<policies>`
 *   snippet      policy elements meant to be pasted into a section ("copy this into the inbound section"):
 *                wrapped into the section its comments name (inbound when none), as a user would paste it
 *   fragment     a `<fragment>`: compiled as `fragments/<id>.xml` of a policies folder whose global inbound
 *                includes it (compilePolicies), the only way certgate compiles fragments
 * A `<policies>` document or fragment that includes fragments gets those that are `<fragment>` files beside it
 * (`<id>.xml` or `<id>-fragment.xml`, and the fragments they include), as a user deploying it would have them
 * (compilePolicies); one not beside it stays the error "unknown fragment".
 *   invalid-xml  not well-formed XML even where APIM is lenient (an unescaped `<` or `"` inside `@(…)` is
 *                fine; `--` inside a comment, or two comments run together, is not): nothing to wrap
 * Wrapping prepends on the first line, so positions stay those of the file (columns of line 1 shift).
 *
 * Named values: `--values FILE` (values.json format) supplies `{{name}}`s, as a user would; an undefined name is a
 * compile error like any other and shows as the reason "named value not defined".
 *
 * Contract: `measureCorpus` does the work without printing; `corpusMain` is the command (argv in, lines out,
 * exit 0 when the measurement ran — whatever the figures —, 2 on bad arguments or an unreadable folder).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describeCertificate } from "../../src/cert/model";
import { parseCertificate } from "../../src/cert/parse";
import { prepareBundle } from "../../src/policy/bundle";
import type { PolicyBundle } from "../../src/policy/schema";
import { prepareTrustMaterial, type TrustMaterial } from "../../src/pki/trust-material";
import type { RegisteredCertificate } from "../../src/pki/trust-store";
import { compilePolicies, compileSingleDocument, type CompileResult } from "../compile-policies/compile";
import { Diagnostics, SourceFile, type Diagnostic } from "../compile-policies/source";
import { readValuesFile, type NamedValuesInput } from "../compile-policies/values";
import { FLAG, parseOptions, usageError, VALUE, type Output } from "../lib/cli";
import { fromPem } from "../pki/builder";
import { CASE_REGISTERED, generateCasePki } from "./case-pki";
import { configFromVars, explainRequest, type ExplainRequest, type ExplainSetup } from "./explain";

export type Shape = "policies" | "section" | "snippet" | "fragment" | "invalid-xml";
export type Verdict = "runs" | "denies" | "unreachable" | "context" | "fails" | "rejected";

export interface DocumentOutcome {
  /** Path relative to the corpus folder. */
  readonly file: string;
  readonly shape: Shape;
  /** How it was compiled: "as is", "wrapped in <inbound>", "as a fragment", or null (not compiled). */
  readonly compiledAs: string | null;
  readonly verdict: Verdict;
  /** rejected: the first error (`line:col message`); otherwise what happened to the request. */
  readonly detail: string;
  /** rejected: the distinct reasons of all its errors, in order of first appearance. */
  readonly reasons: readonly string[];
  /** The final status the client got (0 when not run). */
  readonly status: number;
}

export interface CorpusReport {
  readonly folder: string;
  readonly documents: readonly DocumentOutcome[];
  /** Reason → documents it appears in. */
  readonly reasons: ReadonlyArray<{ readonly reason: string; readonly documents: number; readonly only: number }>;
}

const SECTIONS = ["inbound", "backend", "outbound", "on-error"] as const;

/** The `.xml` files under `dir`, sorted, as paths relative to it. */
export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (name.startsWith(".")) continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.toLowerCase().endsWith(".xml")) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/**
 * The name of the first element of an XML text, skipping the prolog (comments, processing instructions,
 * doctype, whitespace), or null when there is none. Lenient on purpose: whether the text is well-formed is the
 * compiler's to say (its XML reader reports a malformed comment as `invalid XML` at its position); this only
 * tells which way to compile it. Hand-written, because a strict parser stops at the first problem.
 */
export function firstElement(text: string): string | null {
  let i = 0;
  for (;;) {
    const lt = text.indexOf("<", i);
    if (lt < 0) return null;
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end < 0) return null;
      i = end + 3;
    } else if (text.startsWith("<?", lt) || text.startsWith("<!", lt)) {
      const end = text.indexOf(">", lt);
      if (end < 0) return null;
      i = end + 1;
    } else {
      return /^<([A-Za-z_][\w:.-]*)/.exec(text.slice(lt, lt + 200))?.[1] ?? null;
    }
  }
}

/** The section a snippet's comments tell the reader to paste it into ("… into the outbound section"). */
export function snippetSection(text: string): (typeof SECTIONS)[number] {
  const m = /\binto the (inbound|outbound|backend|on-error)\b/i.exec(text);
  return (m?.[1]?.toLowerCase() as (typeof SECTIONS)[number] | undefined) ?? "inbound";
}

/** Shape of a document from its first element (a snippet is anything that is not a document, section or fragment). */
export function shapeOf(text: string): Shape {
  const first = firstElement(text);
  if (first === null) return "invalid-xml";
  if (first === "policies" || first === "fragment") return first;
  if ((SECTIONS as readonly string[]).includes(first)) return "section";
  return "snippet";
}

const FRAGMENT_ID = "corpus-document";
const EMPTY_SECTIONS = "<backend><forward-request /></backend><outbound /><on-error />";

/**
 * The fragments a document includes (`<include-fragment fragment-id="x">`, and theirs in turn) that are `<fragment>`
 * files beside it, named `x.xml` or `x-fragment.xml`: what a user deploying the document has with it.
 */
export function siblingFragments(text: string, dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const pending = [text];
  while (pending.length > 0 && out.size < 20) {
    for (const m of pending.pop()!.matchAll(/<include-fragment\s+fragment-id="([A-Za-z0-9._-]+)"/g)) {
      const id = m[1]!;
      if (out.has(id) || id === FRAGMENT_ID) continue;
      for (const name of [`${id}.xml`, `${id}-fragment.xml`]) {
        let t: string;
        try {
          t = readFileSync(join(dir, name), "utf8");
        } catch {
          continue;
        }
        if (shapeOf(t) !== "fragment") continue;
        out.set(id, t);
        pending.push(t);
        break;
      }
    }
  }
  return out;
}

/** Compiles a document the way its shape calls for, with the fragments beside it that it includes. */
export function compileDocument(text: string, file: string, shape: Shape, values: NamedValuesInput, fragments: ReadonlyMap<string, string> = new Map()): { result: CompileResult; as: string } | null {
  const withFragments = (files: Array<[string, string]>) => new Map([...files, ...[...fragments].map(([id, t]) => [`fragments/${id}.xml`, t] as [string, string])]);
  const noting = fragments.size > 0 ? `, with the fragment${fragments.size > 1 ? "s" : ""} beside it (${[...fragments.keys()].join(", ")})` : "";
  switch (shape) {
    case "policies":
      return { result: compileSingleDocument(text, file, values, { fragments }), as: `as is${noting}` };
    case "section":
      return { result: compileSingleDocument(`<policies>${text}</policies>`, file, values), as: "wrapped in <policies>" };
    case "snippet": {
      const section = snippetSection(text);
      const others = SECTIONS.filter((s) => s !== section).map((s) => `<${s} />`).join("");
      return { result: compileSingleDocument(`<policies>${others}<${section}>${text}</${section}></policies>`, file, values), as: `wrapped in <${section}>` };
    }
    case "fragment": {
      const files = withFragments([
        ["global.xml", `<policies><inbound><include-fragment fragment-id="${FRAGMENT_ID}" /></inbound>${EMPTY_SECTIONS}</policies>`],
        [`fragments/${FRAGMENT_ID}.xml`, text],
      ]);
      return { result: compilePolicies(files, values), as: `as a fragment${noting}` };
    }
    case "invalid-xml":
      return null;
  }
}

/**
 * The reason a compile error stands for, so that errors of many documents can be counted together: the
 * construct it names, without positions, values or suggestions.
 */
export function reasonOf(message: string): string {
  const rules: Array<[RegExp, (m: RegExpExecArray) => string]> = [
    [/^<([\w:-]+)> is an APIM policy certgate does not support/, (m) => `policy <${m[1]}>`],
    [/^<([\w:-]+)> is not allowed in <([\w-]+)>/, (m) => `<${m[1]}> in <${m[2]}>`],
    [/^unknown attribute ([\w:-]+) on <([\w:-]+)>/, (m) => `attribute ${m[1]} on <${m[2]}>`],
    [/^<([\w:-]+)> takes text, not <[^>]+>.*liquid/, (m) => `markup (a Liquid template) in <${m[1]}>`],
    [/^unsupported (member|method|type|construct|operator|statement|cast)[:]? (.+)$/, (m) => `${m[1]} ${m[2]!.replace(/\s*\(.*$/, "").trim()}`],
    [/^unknown named value/, () => "named value not defined"],
    [/^unknown fragment/, () => "include-fragment of a fragment not given"],
    [/^invalid XML/, () => "invalid XML"],
    [/^the root element must be <policies>, not <([\w:-]+)>/, (m) => `root <${m[1]}>`],
  ];
  for (const [re, f] of rules) {
    const m = re.exec(message);
    if (m) return f(m);
  }
  // Anything else: the sentence up to its first clause break, with quoted values and numbers abstracted.
  return message
    .replace(/\s*\(.*$/, "")
    .replace(/;.*$/, "")
    .replace(/"[^"]*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\b\d+\b/g, "N")
    .trim();
}

/** Everything a run needs, made once per corpus. */
export interface RunKit {
  readonly stores: ReadonlyMap<string, TrustMaterial>;
  readonly registered: ReadonlyMap<string, RegisteredCertificate>;
  readonly leaf: Uint8Array;
  readonly chain: readonly Uint8Array[];
}

/** The trust material and client certificate the runs use: the policy cases' test PKI, made in memory. */
export async function makeRunKit(now: Date): Promise<RunKit> {
  const pki = await generateCasePki(now);
  const der = (name: keyof typeof pki.pem) => fromPem(pki.pem[name]);
  const material = await prepareTrustMaterial({ version: "corpus", anchors: [der("root")], intermediates: [der("dev")], crls: [] });
  if (!material.ok) throw new Error(`test trust store: ${material.error.detail}`);
  const registered = new Map<string, RegisteredCertificate>();
  for (const [id, name] of Object.entries(CASE_REGISTERED)) {
    const parsed = parseCertificate(der(name));
    if (!parsed.ok) throw new Error(`test certificate ${name}: ${parsed.error.detail}`);
    registered.set(id, { id, cert: parsed.value, model: await describeCertificate(parsed.value) });
  }
  return { stores: new Map([["default", material.value]]), registered, leaf: der("valid"), chain: [der("dev")] };
}

/** A JWT-shaped bearer token (unsigned-looking: validate-jwt refuses it, expressions can read it). */
function bearerToken(now: Date): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const exp = Math.floor(now.getTime() / 1000) + 3600;
  return `${b64({ alg: "HS256", typ: "JWT" })}.${b64({ sub: "corpus-client", aud: "api://corpus", iss: "https://issuer.example", exp, name: "Corpus Client" })}.c2lnbmF0dXJl`;
}

/** The one request every compiled document runs on: a JSON POST with the usual headers and a valid client certificate. */
export function corpusRequest(kit: RunKit, now: Date): ExplainRequest {
  return {
    method: "POST",
    url: new URL("https://gateway.example/echo/resource?param1=value1"),
    headers: [
      ["content-type", "application/json"],
      ["accept", "application/json"],
      ["authorization", `Bearer ${bearerToken(now)}`],
      ["user-agent", "certgate-corpus/1"],
      ["cookie", "session=abc"],
      ["x-forwarded-for", "203.0.113.7"],
      ["cf-connecting-ip", "203.0.113.7"],
      ["content-length", "41"],
    ],
    body: '{"name":"corpus","items":[1,2],"ok":true}',
    leaf: kit.leaf,
    chain: kit.chain,
    at: now,
  };
}

/** A run that takes longer than this counts as failed (a policy should never hang the gateway). */
const RUN_TIMEOUT_MS = 10_000;

/** Runs a compiled bundle on the corpus request and classifies what the client got. */
export async function runDocument(bundle: PolicyBundle, kit: RunKit, now: Date, text = "", shape: Shape = "policies"): Promise<{ verdict: Exclude<Verdict, "rejected">; status: number; detail: string }> {
  const prepared = prepareBundle(JSON.parse(JSON.stringify(bundle)) as PolicyBundle);
  if (!prepared.ok) return { verdict: "fails", status: 0, detail: `the compiled bundle does not load: ${prepared.error.join("; ")}` };
  const config = configFromVars(new Map());
  if (!config.ok) throw new Error(`explain's default configuration: ${config.error.join("; ")}`);
  const setup: ExplainSetup = {
    prepared: prepared.value, config: config.value, stores: kit.stores, registered: kit.registered,
    runtimeValues: new Map(), originStatus: 200,
    // authentication-managed-identity gets a stub token (explain's --managed-identity-token), so the rest of the
    // document runs; without it every such document would stop at 503 managed_identity_not_configured.
    managedIdentityToken: "corpus-stub-token",
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const explanation = await Promise.race([
      explainRequest(setup, corpusRequest(kit, now)),
      new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no decision within ${RUN_TIMEOUT_MS} ms`)), RUN_TIMEOUT_MS); }),
    ]);
    const d = explanation.decision;
    const status = d.effect === "forward" ? d.response?.status ?? 0 : d.status;
    const body = d.effect === "forward" ? d.response?.body ?? null : d.body;
    const crashed = explanation.log.some((l) => l.event === "internal_error");
    const errorText = d.lastError ? `${d.lastError.source}: ${d.lastError.message}` : crashed ? "internal_error (a runner exception)" : null;
    const what = d.effect === "forward" ? `forwarded to ${d.origin}` : `answered ${status}`;
    const code = problemCode(body);
    if (status >= 500 && explanation.unansweredSends.length > 0) {
      const vars = [...new Set(explanation.unansweredSends)].map((v) => v === "" ? "(no variable)" : v).join(", ");
      return { verdict: "unreachable", status, detail: `${what}${errorText ? ` after ${errorText}` : ""}${code ? ` [${code}]` : ""}; needs a service: send-request ${vars} unanswered (the corpus makes no outbound calls)` };
    }
    const unset = status >= 500 && errorText !== null && (shape !== "policies" || /<base\s*\/>/.test(text)) ? unsetVariable(errorText, text) : null;
    if (unset !== null) {
      return { verdict: "context", status, detail: `${what} after ${errorText}; needs context: variable "${unset}" is read but never set in this document` };
    }
    const param = status >= 500 && errorText !== null
      ? /^rewrite-uri: template parameter \{([^}]+)\} is not in the operation's URL template/.exec(errorText) ?? matchedParameter(errorText, text)
      : null;
    if (param) {
      return { verdict: "context", status, detail: `${what} after ${errorText}; needs context: the operation whose URL template has {${param[1]}} (the corpus runs the document as the global scope, with no operations)` };
    }
    if (status >= 500 && (errorText !== null || code === "internal_error" || code === "policy_expression_failed")) {
      return { verdict: "fails", status, detail: `${what}${errorText ? ` after ${errorText}` : ""}${code ? ` [${code}]` : ""}` };
    }
    if (status >= 500 && code !== null) return { verdict: "unreachable", status, detail: `${what} [${code}]` };
    // A 5xx the policy chose itself (return-response with set-status 500), with no error: the policy ran.
    if (status >= 500) return { verdict: "runs", status, detail: `${what} (the policy's own answer)` };
    if (status >= 400) return { verdict: "denies", status, detail: `${what}${errorText ? ` after ${errorText}` : ""}${problemCode(body) ? ` [${problemCode(body)}]` : ""}` };
    return { verdict: "runs", status, detail: what };
  } catch (e) {
    return { verdict: "fails", status: 0, detail: `the run threw: ${e instanceof Error ? e.message : String(e)}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The variable a "given key not present" error names, when the document reads it as `Variables["X"]` and sets
 * it nowhere (no `name="X"` on a set-variable, no `variable-name="X"` / `response-variable-name="X"`); else null.
 * A text search, not an analysis: a name set through an expression-valued attribute still counts as set.
 */
export function unsetVariable(errorText: string, text: string): string | null {
  const m = /The given key '([^']+)' was not present in the dictionary/.exec(errorText);
  if (!m) return null;
  const name = m[1]!;
  const q = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if (!new RegExp(`Variables\\s*\\[\\s*"${q}"\\s*\\]`).test(text)) return null;
  if (new RegExp(`(?:<set-variable[^>]*\\sname|variable-name)\\s*=\\s*"${q}"`).test(text)) return null;
  return name;
}

/** The parameter a "given key not present" error names when the document reads it as `MatchedParameters["X"]`. */
function matchedParameter(errorText: string, text: string): RegExpExecArray | null {
  const m = /The given key '([^']+)' was not present in the dictionary/.exec(errorText);
  if (!m) return null;
  const q = m[1]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`MatchedParameters\\s*\\[\\s*"${q}"\\s*\\]`).test(text) ? m : null;
}

/** The `code` of a problem+json body, or null. */
function problemCode(body: string | null): string | null {
  if (body === null || !body.startsWith("{")) return null;
  try {
    const o = JSON.parse(body) as { code?: unknown };
    return typeof o.code === "string" ? o.code : null;
  } catch {
    return null;
  }
}

/** Measures every document of `dir`. */
export async function measureCorpus(dir: string, values: NamedValuesInput, now = new Date()): Promise<CorpusReport> {
  const kit = await makeRunKit(now);
  const documents: DocumentOutcome[] = [];
  for (const file of corpusFiles(dir)) {
    const text = readFileSync(join(dir, file), "utf8");
    documents.push(await measureDocument(text, file, values, kit, now, siblingFragments(text, dirname(join(dir, file)))));
  }
  return { folder: dir, documents, reasons: countReasons(documents) };
}

/** One document's outcome. */
export async function measureDocument(text: string, file: string, values: NamedValuesInput, kit: RunKit, now: Date, fragments: ReadonlyMap<string, string> = new Map()): Promise<DocumentOutcome> {
  const shape = shapeOf(text);
  const compiled = compileDocument(text, file, shape, values, shape === "policies" || shape === "fragment" ? fragments : new Map());
  if (compiled === null) {
    return { file, shape, compiledAs: null, verdict: "rejected", detail: "no XML element in the file", reasons: ["invalid XML"], status: 0 };
  }
  const { result, as } = compiled;
  if ("errors" in result) {
    const first = result.errors[0]!;
    const reasons = [...new Set(result.errors.map((e: Diagnostic) => reasonOf(e.message)))];
    return { file, shape, compiledAs: as, verdict: "rejected", detail: `${first.line}:${first.col} ${first.message}`, reasons, status: 0 };
  }
  const run = await runDocument(result.bundle, kit, now, text, shape);
  return { file, shape, compiledAs: as, verdict: run.verdict, detail: run.detail, reasons: [], status: run.status };
}

/** Reasons by the number of rejected documents they appear in, and in how many they are the only reason. */
export function countReasons(documents: readonly DocumentOutcome[]): CorpusReport["reasons"] {
  const all = new Map<string, { documents: number; only: number }>();
  for (const d of documents) {
    for (const r of d.reasons) {
      const c = all.get(r) ?? { documents: 0, only: 0 };
      c.documents++;
      if (d.reasons.length === 1) c.only++;
      all.set(r, c);
    }
  }
  return [...all].map(([reason, c]) => ({ reason, ...c })).sort((a, b) => b.documents - a.documents || b.only - a.only || a.reason.localeCompare(b.reason));
}

/** The report as text lines. */
export function renderReport(report: CorpusReport): string[] {
  const docs = report.documents;
  const count = (f: (d: DocumentOutcome) => boolean) => docs.filter(f).length;
  const lines: string[] = [];
  const compiled = (d: DocumentOutcome) => d.verdict !== "rejected";
  lines.push(`${docs.length} documents in ${report.folder}`);
  lines.push(`  compiled: ${count(compiled)} (runs ${count((d) => d.verdict === "runs")}, denies cleanly ${count((d) => d.verdict === "denies")}, `
    + `a service unreachable ${count((d) => d.verdict === "unreachable")}, needs context ${count((d) => d.verdict === "context")}, compile-then-fail ${count((d) => d.verdict === "fails")}); rejected: ${count((d) => !compiled(d))}`);
  lines.push("", "By shape (compiled / total):");
  for (const shape of ["policies", "section", "snippet", "fragment", "invalid-xml"] as const) {
    const n = count((d) => d.shape === shape);
    if (n > 0) lines.push(`  ${shape.padEnd(12)} ${count((d) => d.shape === shape && compiled(d))} / ${n}`);
  }
  const fails = docs.filter((d) => d.verdict === "fails");
  if (fails.length > 0) {
    lines.push("", "Compile-then-fail:");
    for (const d of fails) lines.push(`  ${d.file}: ${d.detail}`);
  }
  lines.push("", "Rejection reasons (documents it appears in; documents it alone blocks):");
  for (const r of report.reasons) lines.push(`  ${String(r.documents).padStart(3)} ${String(r.only).padStart(3)}  ${r.reason}`);
  lines.push("", "Documents:");
  for (const d of docs) {
    lines.push(`  ${d.verdict.padEnd(8)} ${d.shape.padEnd(11)} ${d.file}`);
    lines.push(`           ${d.detail}${d.reasons.length > 1 ? `  [+${d.reasons.length - 1} more reason${d.reasons.length > 2 ? "s" : ""}: ${d.reasons.slice(1).join("; ")}]` : ""}`);
  }
  return lines;
}

export const CORPUS_USAGE = `Usage: policy corpus DIR [--values FILE] [--json]

Measures a folder of APIM policy documents: every .xml under DIR is compiled by certgate's compiler (a
<policies> document as the one global document; a snippet wrapped into the section its comments name; a
<fragment> as a fragment the global inbound includes) and, when it compiles, run once in Node as
\`policy explain\` runs it (one JSON POST with a valid client certificate; origin not called). Prints the
totals, every compile-then-fail (compiled, then a 5xx after an error), the compile errors reduced to the
construct they name with how many documents each blocks (and blocks alone), and one line per document.

  --values FILE   named values for every document (values.json format)
  --json          one JSON object: {"folder", "documents": [...], "reasons": [...]}
  -h, --help      this text

Exit status: 0 the measurement ran, 2 bad arguments or an unreadable folder or values file.`;

/** The `corpus` command. */
export async function corpusMain(argv: readonly string[], output: Output, clock: () => Date = () => new Date()): Promise<number> {
  const args = parseOptions(argv, { values: VALUE, json: FLAG });
  if (args.help) {
    output.out(CORPUS_USAGE);
    return 0;
  }
  const messages = [...args.errors];
  if (args.operands.length !== 1) messages.push(args.operands.length === 0 ? "DIR is required" : `one DIR only, not ${args.operands.length}`);
  const dir = args.operands[0];
  if (dir !== undefined && (!safeIsDir(dir))) messages.push(`${dir} is not a folder`);
  let values: NamedValuesInput = {};
  const valuesFile = args.values.get("values")?.[0];
  if (valuesFile !== undefined) {
    const read = readValues(valuesFile);
    if (typeof read === "string") messages.push(read);
    else values = read;
  }
  if (messages.length > 0) return usageError(output, "policy corpus", messages);
  const report = await measureCorpus(dir!, values, clock());
  if (args.flags.has("json")) output.out(JSON.stringify(report));
  else for (const line of renderReport(report)) output.out(line);
  return 0;
}

function safeIsDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** A values.json file as compiler input, or a message. Secret entries are not allowed: nothing runs them here. */
function readValues(file: string): NamedValuesInput | string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return `cannot read ${file}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const diags = new Diagnostics();
  const read = readValuesFile(new SourceFile(file, text), diags);
  if (diags.hasErrors) return `${file}: ${diags.errors().map((d) => `${d.line}:${d.col} ${d.message}`).join("; ")}`;
  const out: Record<string, string> = {};
  for (const [name, v] of read) {
    if (v.value.kind !== "text") return `${file}: "${name}" is declared secret; the corpus runs take plain values only`;
    out[name] = v.value.value;
  }
  return out;
}
