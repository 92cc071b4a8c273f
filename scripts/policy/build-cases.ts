/**
 * Builds the policy cases for the harnesses (run by test/global-setup.ts before every test run):
 * generates the test PKI (case-pki.ts) and compiles every case folder of test/policies that holds a
 * cases.json, the way `policy explain` compiles it (inputs.ts compileForExplain), with the PKI's facts as
 * named values. The compiler runs in Node only, so the workerd harness loads what this writes.
 *
 * Contract: Node I/O. Writes, under OUT (default build/test-policies, git-ignored):
 *   pki/<name>.pem            every certificate of the test PKI
 *   pki/store-<name>.pem      the anchors and intermediates of each store but `default` (explain --store)
 *   pki-values.json           the facts as a values file (explain --values)
 *   pki.json                  {generatedAt, pem, facts, stores, registered}
 *   cases/<case>.json         BuiltCase (cases.ts), or {name, errors} when the case does not compile
 * A case whose runtime-values.json names a value its policies do not declare secret is an error (the
 * Worker would ignore it, explain would compile it in: the two would disagree).
 *
 * CLI: `tsx scripts/policy/build-cases.ts [--cases DIR] [--out DIR]`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { CASE_REGISTERED, CASE_STORES, CERTIFICATE_NAMES, generateCasePki, type CasePki } from "./case-pki";
import { expandFacts, type BuiltCase, type PolicyCase } from "./cases";
import { compileForExplain } from "./inputs";

export const DEFAULT_CASES_DIR = "test/policies";
export const DEFAULT_OUT_DIR = "build/test-policies";

/** Case folders: those with a cases.json (the others are the compiler's golden cases). */
export function caseFolders(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((c) => existsSync(join(dir, c, "cases.json"))).sort() : [];
}

/** How a case folder is laid out. */
export function caseKind(dir: string): "document" | "folder" {
  return existsSync(join(dir, "policies")) ? "folder" : "document";
}

/** The compiler inputs of a case, as explain takes them. */
export function caseInputs(dir: string, out: string): { source: Parameters<typeof compileForExplain>[0]; values: string[]; runtime: Map<string, string> } {
  const kind = caseKind(dir);
  const values = [join(out, "pki-values.json")];
  if (kind === "document" && existsSync(join(dir, "values.json"))) values.push(join(dir, "values.json"));
  const runtimeFile = join(dir, "runtime-values.json");
  const facts = JSON.parse(readFileSync(join(out, "pki-values.json"), "utf8")) as Record<string, string>;
  const declared = existsSync(runtimeFile) ? Object.entries(JSON.parse(readFileSync(runtimeFile, "utf8")) as Record<string, string>) : [];
  // Run-time values may quote the test PKI's facts (an allow-list of thumbprints): expanded here, for both harnesses.
  const runtime = new Map(declared.map(([k, v]) => [k, expandFacts(v, facts)]));
  return {
    source: kind === "folder" ? { kind: "folder", dir: join(dir, "policies") } : { kind: "document", file: join(dir, "policy.xml") },
    values,
    runtime,
  };
}

/** Writes the PKI files; returns the PKI. */
async function writePki(out: string): Promise<CasePki> {
  const pki = await generateCasePki();
  mkdirSync(join(out, "pki"), { recursive: true });
  for (const name of CERTIFICATE_NAMES) writeFileSync(join(out, "pki", `${name}.pem`), pki.pem[name]);
  for (const [store, s] of Object.entries(CASE_STORES)) {
    if (store !== "default") writeFileSync(join(out, "pki", `store-${store}.pem`), [...s.anchors, ...s.intermediates].map((n) => pki.pem[n]).join(""));
  }
  writeFileSync(join(out, "pki-values.json"), JSON.stringify(pki.facts, null, 2) + "\n");
  writeFileSync(join(out, "pki.json"), JSON.stringify({ ...pki, stores: CASE_STORES, registered: CASE_REGISTERED }, null, 2) + "\n");
  return pki;
}

/** Generates the PKI and compiles every case; returns the number of cases and of those with errors. */
export async function buildCases(casesDir = DEFAULT_CASES_DIR, out = DEFAULT_OUT_DIR): Promise<{ cases: number; failed: string[] }> {
  await writePki(out);
  rmSync(join(out, "cases"), { recursive: true, force: true });
  mkdirSync(join(out, "cases"), { recursive: true });
  const failed: string[] = [];
  const folders = caseFolders(casesDir);
  for (const name of folders) {
    const dir = join(casesDir, name);
    let built: BuiltCase | { name: string; errors: string };
    try {
      const cases = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as PolicyCase[];
      const inputs = caseInputs(dir, out);
      const compiled = compileForExplain(inputs.source, inputs.values, inputs.runtime);
      if (!compiled.ok) {
        built = { name, errors: [...compiled.error.messages, compiled.error.diagnostics].join("\n") };
      } else {
        const notSecret = [...inputs.runtime.keys()].filter((k) => !compiled.value.runtimeValues.has(k));
        built = notSecret.length > 0
          ? { name, errors: `runtime-values.json: ${notSecret.join(", ")} not declared {"secret": true} in the case's values` }
          : { name, kind: caseKind(dir), bundle: compiled.value.bundle, cases, runtimeValues: Object.fromEntries(compiled.value.runtimeValues) };
      }
    } catch (e) {
      built = { name, errors: e instanceof Error ? e.message : String(e) };
    }
    if ("errors" in built) failed.push(name);
    writeFileSync(join(out, "cases", `${name}.json`), JSON.stringify(built));
  }
  return { cases: folders.length, failed };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const argv = process.argv.slice(2);
  const opt = (name: string, fallback: string) => {
    const i = argv.indexOf(name);
    return i === -1 ? fallback : (argv[i + 1] ?? fallback);
  };
  const started = performance.now();
  const r = await buildCases(opt("--cases", DEFAULT_CASES_DIR), opt("--out", DEFAULT_OUT_DIR));
  const failed = r.failed.length > 0 ? `; not compiling (their tests fail): ${r.failed.join(", ")}` : "";
  process.stdout.write(`policy cases: ${r.cases} case folders built into ${opt("--out", DEFAULT_OUT_DIR)} in ${Math.round(performance.now() - started)} ms${failed}\n`);
}
