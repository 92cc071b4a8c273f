/**
 * `npm run policies:build` — compiles policies/ into build/policies.json (compile.ts does the work).
 *
 * Contract: the process edge. Reads the policies folder (every .xml and .json file, recursively, dot-files
 * skipped) and the --values file, prints diagnostics to stderr (paths as given on the command line), writes
 * the bundle atomically (temporary file + rename) unless --check. With any error nothing is written, and a
 * previous bundle at --out is removed, so a stale bundle cannot be deployed by mistake. Exit status: 0
 * compiled (warnings allowed), 1 errors in the policies, 2 bad arguments or unreadable input.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { compilePolicies } from "./compile";
import { emitBundle } from "./emit";
import { Diagnostics, formatDiagnostics, SourceFile } from "./source";
import { readValuesFile, type NamedValuesInput } from "./values";
import { describeError, FLAG, parseOptions, processOutput, reasonOf, runMain, usageError, VALUE, valueOf, type OptionTable, type Output } from "../lib/cli";

const USAGE = `Usage: npm run policies:build [-- options]

Compiles the APIM policy documents in the policies folder into the bundle the Worker evaluates.

Options:
  --policies DIR   the policies folder (default: $CERTGATE_POLICIES, else policies); layout in
                   docs/policies-layout.md
  --out FILE       the bundle (default: build/policies.json)
  --values FILE    named values as JSON {"name": "value" | {"secret": true}}, over DIR/values.json
  --check          check only: print diagnostics, write nothing
  -h, --help       this text

Exit status: 0 compiled (warnings are printed), 1 errors (printed; nothing written, a previous --out file
removed), 2 bad arguments or unreadable files.`;

/** Environment variable naming the default policies folder (npm start sets it to the demo's for `wrangler dev`). */
export const POLICIES_VARIABLE = "CERTGATE_POLICIES";

interface Args {
  policies: string;
  out: string;
  values: string | null;
  check: boolean;
}

const OPTIONS: OptionTable = { policies: VALUE, out: VALUE, values: VALUE, check: FLAG };

/** The options, "help", or the usage errors. */
export function parseBuildArgs(argv: readonly string[]): Args | "help" | string[] {
  const args = parseOptions(argv, OPTIONS);
  if (args.help) return "help";
  const errors = [...args.errors];
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)} (options start with --)`);
  if (errors.length > 0) return errors;
  return {
    policies: valueOf(args, "policies") ?? (process.env[POLICIES_VARIABLE] || "policies"),
    out: valueOf(args, "out") ?? join("build", "policies.json"),
    values: valueOf(args, "values") ?? null,
    check: args.flags.has("check"),
  };
}

/**
 * Every .xml / .json file under `dir`, keyed by its `/`-separated path relative to `dir`. A folder named like a
 * policy file (`global.xml/`, `certgate.json/`) throws: skipping it would silently drop that file's meaning.
 */
export function readPolicyFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (entry.name.startsWith(".")) continue;
      const full = join(d, entry.name);
      if (entry.isDirectory() && (entry.name.endsWith(".xml") || entry.name.endsWith(".json"))) {
        throw new Error(`${relative(dir, full).split(sep).join("/")} is a folder, not a file (policy files are .xml and .json files)`);
      }
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && (entry.name.endsWith(".xml") || entry.name.endsWith(".json"))) {
        files.set(relative(dir, full).split(sep).join("/"), readFileSync(full, "utf8"));
      }
    }
  };
  walk(dir);
  return files;
}

function looksLikeBundle(path: string): boolean {
  try {
    return readFileSync(path, "utf8").startsWith('{"operations":');
  } catch {
    return false;
  }
}

export function main(argv: readonly string[], output: Output = processOutput): number {
  const args = parseBuildArgs(argv);
  if (args === "help") {
    output.out(USAGE);
    return 0;
  }
  if (Array.isArray(args)) return usageError(output, "policies:build", args);
  const problems: string[] = [];
  if (!existsSync(args.policies)) problems.push(`--policies ${args.policies}: does not exist`);
  else if (!statSync(args.policies).isDirectory()) problems.push(`--policies ${args.policies}: is a file, not a folder`);
  if (!args.check) {
    const outProblem = checkOutPath(args.out);
    if (outProblem) problems.push(`--out ${args.out}: ${outProblem}`);
  }
  if (problems.length > 0) return usageError(output, "policies:build", problems);
  const started = performance.now();
  let values: NamedValuesInput = {};
  if (args.values !== null) {
    let text: string;
    try {
      text = readFileSync(args.values, "utf8");
    } catch (e) {
      return usageError(output, "policies:build", [`--values ${args.values}: cannot read: ${reasonOf(e)}`]);
    }
    const diags = new Diagnostics();
    const read = readValuesFile(new SourceFile(args.values, text), diags);
    if (diags.hasErrors) {
      printText(output, formatDiagnostics(diags.list));
      return 1;
    }
    values = Object.fromEntries([...read].map(([k, v]) => [k, v.value.kind === "text" ? v.value.value : { secret: true as const }]));
  }
  let files: Map<string, string>;
  try {
    files = readPolicyFiles(args.policies);
  } catch (e) {
    output.err(`policies:build: cannot read ${args.policies}: ${describeError(e)}`);
    return 2;
  }
  const result = compilePolicies(files, values);
  const prefix = args.policies.replace(/[/\\]+$/, "") + "/";
  printText(output, formatDiagnostics("errors" in result ? [...result.errors, ...result.warnings] : result.warnings, prefix));
  const warnings = result.warnings.length === 0 ? "" : `, ${result.warnings.length} warning${result.warnings.length === 1 ? "" : "s"}`;
  if ("errors" in result) {
    let removed = "";
    if (!args.check && existsSync(args.out) && looksLikeBundle(args.out)) {
      rmSync(args.out);
      removed = `; removed the previous ${args.out}`;
    }
    output.err(`${result.errors.length} error${result.errors.length === 1 ? "" : "s"}${warnings}; nothing written${removed}`);
    return 1;
  }
  const b = result.bundle;
  const summary = `${Object.keys(b.operations).length - 1} operations, ${b.routes.length} routes, ${files.size} files, source ${b.source.slice(0, 12)}${warnings}`;
  const ms = Math.round(performance.now() - started);
  if (args.check) {
    output.out(`policies OK: ${summary} (${ms} ms; --check: nothing written)`);
    return 0;
  }
  const tmp = `${args.out}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(tmp, emitBundle(b));
    renameSync(tmp, args.out);
  } catch (e) {
    rmSync(tmp, { force: true });
    output.err(`policies:build: cannot write ${args.out}: ${describeError(e)}`);
    return 2;
  }
  output.out(`${args.out}: ${summary} (${ms} ms)`);
  return 0;
}

/** Multi-line text (the compiler's diagnostics) line by line to stderr. */
function printText(output: Output, text: string): void {
  if (text === "") return;
  for (const line of text.replace(/\n$/, "").split("\n")) output.err(line);
}

/**
 * Why the bundle cannot be written at `out`, or null: it is a folder, or a part of its path is a file. Checked
 * before compiling, so the user learns it without a temporary file left behind.
 */
function checkOutPath(out: string): string | null {
  if (out.endsWith("/") || out.endsWith(sep)) return "is a folder name; give the bundle's file name (e.g. build/policies.json)";
  if (existsSync(out) && statSync(out).isDirectory()) return "is a folder; give the bundle's file name (e.g. build/policies.json)";
  for (let dir = dirname(out); ; dir = dirname(dir)) {
    if (existsSync(dir)) return statSync(dir).isDirectory() ? null : `${dir} is a file, not a folder`;
    if (dirname(dir) === dir) return null;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runMain("policies:build", (argv, output) => main(argv, output), 2);
