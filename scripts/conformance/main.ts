/**
 * `npm run conformance -- --limbo FILE [--openssl] [--json] [--show-rejects]` — runs the x509-limbo suite
 * (BetterTLS included) through certgate's engine in process and prints agreement per family and every false
 * accept. Exit 0: no false accept; 1: at least one false accept; 2: usage or input error.
 *
 * `--openssl` also runs `openssl verify -x509_strict` on every judged case (the reference: the same scope,
 * the same EKU purpose, the same CRLs) and prints its agreement beside certgate's.
 * Scope rules: scripts/conformance/limbo.ts.
 */
import { readFileSync, statSync } from "node:fs";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { LIMBO_DEVIATIONS } from "./deviations";
import { checkSuite, classify, runCase, scopeOf, tally, type CaseOutcome, type FamilyTally, type LimboSuite } from "./limbo";
import { runOpenssl } from "./openssl";

const USAGE = `usage: npm run conformance -- --limbo FILE.json[.gz] [--openssl] [--json] [--show-rejects] [--only PREFIX]`;

function fail(message: string): never {
  process.stderr.write(`conformance: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function readSuite(file: string): LimboSuite {
  let bytes: Buffer;
  try {
    if (!statSync(file).isFile()) fail(`${file} is not a file`);
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    fail(code === "ENOENT" ? `${file} does not exist` : `${file} cannot be read (${code ?? "error"})`);
  }
  let text: string;
  try {
    text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString("utf8");
  } catch {
    fail(`${file} is not valid gzip`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail(`${file} is not JSON`);
  }
  const problem = checkSuite(doc);
  if (problem) fail(`${file}: ${problem}`);
  return doc as LimboSuite;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      options: {
        limbo: { type: "string" },
        openssl: { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        "show-rejects": { type: "boolean", default: false },
        only: { type: "string" },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
      strict: true,
    });
  } catch (e) {
    fail((e as Error).message);
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = args.values.limbo ?? fail("--limbo FILE is required");
  const suite = readSuite(file);
  const started = Date.now();
  const outcomes: CaseOutcome[] = [];
  const reference: CaseOutcome[] = [];
  const skipped = new Map<string, number>();
  for (const c of suite.testcases) {
    if (args.values.only && !c.id.startsWith(args.values.only)) continue;
    const scope = scopeOf(c);
    if (!scope.judged) {
      skipped.set(scope.reason, (skipped.get(scope.reason) ?? 0) + 1);
      continue;
    }
    const o = await runCase(c);
    outcomes.push(o);
    if (args.values.json) process.stdout.write(`${JSON.stringify(o)}\n`);
    if (args.values.openssl) reference.push(runOpenssl(c));
  }
  const ms = Date.now() - started;
  if (args.values.json) return outcomes.some((o) => classify(o, LIMBO_DEVIATIONS) === "falseAccept") ? 1 : 0;

  const ours = tally(outcomes, LIMBO_DEVIATIONS);
  const theirs = tally(reference);
  const pad = (v: string | number, n: number) => String(v).padStart(n);
  const row = (t: FamilyTally) => `${pad(t.judged, 6)} ${pad(t.agreed, 6)} ${pad(t.deviations, 5)} ${pad(t.falseAccepts, 6)} ${pad(t.falseRejects, 6)}`;
  const refRow = (t: FamilyTally | undefined) => (t ? `   ${pad(t.agreed, 6)} ${pad(t.falseAccepts, 6)} ${pad(t.falseRejects, 6)}` : "");
  const out = (line = "") => process.stdout.write(`${line}\n`);
  out(`x509-limbo: ${suite.testcases.length} cases, ${outcomes.length} judged (${ms} ms)`);
  for (const [reason, n] of skipped) out(`  not judged: ${n} — ${reason}`);
  out();
  out(`${"family".padEnd(34)} judged  agree  devs. f.acc  f.rej` + (args.values.openssl ? "   openssl: agree  f.acc  f.rej" : ""));
  const sum = (m: Map<string, FamilyTally>): FamilyTally => {
    const t = { judged: 0, agreed: 0, falseAccepts: 0, falseRejects: 0, deviations: 0 };
    for (const f of m.values()) for (const k of Object.keys(t) as Array<keyof FamilyTally>) t[k] += f[k];
    return t;
  };
  for (const [family, t] of ours) out(`${family.padEnd(34)} ${row(t)}${args.values.openssl ? `        ${refRow(theirs.get(family))}` : ""}`);
  const total = sum(ours);
  const refTotal = sum(theirs);
  out(`${"total".padEnd(34)} ${row(total)}${args.values.openssl ? `        ${refRow(refTotal)}` : ""}`);

  const falseAccepts = outcomes.filter((o) => classify(o, LIMBO_DEVIATIONS) === "falseAccept");
  if (falseAccepts.length > 0) {
    out(`\nFALSE ACCEPTS (${falseAccepts.length}):`);
    for (const o of falseAccepts) out(`  ${o.id}`);
  }
  const deviations = outcomes.filter((o) => classify(o, LIMBO_DEVIATIONS) === "deviation");
  if (deviations.length > 0) {
    out(`\ndocumented deviations (${deviations.length}; scripts/conformance/deviations.ts, docs/validation.md):`);
    for (const o of deviations) out(`  ${o.id}: certgate ${o.actual === "SUCCESS" ? "accepts" : `rejects (${o.code})`}`);
  }
  if (args.values["show-rejects"]) {
    const rejects = outcomes.filter((o) => classify(o, LIMBO_DEVIATIONS) === "falseReject");
    out(`\nfalse rejects (${rejects.length}):`);
    for (const o of rejects) out(`  ${o.id}: ${o.code} — ${o.detail}`);
    if (args.values.openssl) {
      const refFa = reference.filter((o) => o.expected === "FAILURE" && o.actual === "SUCCESS").map((o) => o.id);
      out(`\nopenssl false accepts (${refFa.length}):`);
      for (const id of refFa) out(`  ${id}`);
    }
  }
  const stale = Object.keys(LIMBO_DEVIATIONS).filter((id) => outcomes.some((o) => o.id === id) && !deviations.some((o) => o.id === id));
  if (stale.length > 0) out(`\nnote: ${stale.length} listed deviation(s) no longer deviate: ${stale.join(", ")}`);
  out(`\n${falseAccepts.length === 0 ? "PASS" : "FAIL"}: ${falseAccepts.length} false accepts, ${total.agreed}/${total.judged} agree, `
    + `${total.deviations} documented deviations, ${total.falseRejects} false rejects`
    + (args.values.openssl ? ` (openssl -x509_strict: ${refTotal.agreed}/${refTotal.judged} agree, ${refTotal.falseAccepts} false accepts)` : ""));
  return falseAccepts.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`conformance: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
