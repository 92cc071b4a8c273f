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

const USAGE = `Usage: npm run policies:build [-- options]

Compiles the APIM policy documents in the policies folder into the bundle the Worker evaluates.

Options:
  --policies DIR   the policies folder (default: policies); layout in docs/policies-layout.md
  --out FILE       the bundle (default: build/policies.json)
  --values FILE    named values as JSON {"name": "value" | {"secret": true}}, over DIR/values.json
  --check          check only: print diagnostics, write nothing
  -h, --help       this text

Exit status: 0 compiled (warnings are printed), 1 errors (printed; nothing written, a previous --out file
removed), 2 bad arguments or unreadable files.`;

interface Args {
  policies: string;
  out: string;
  values: string | null;
  check: boolean;
}

function parseArgs(argv: readonly string[]): Args | "help" | string {
  const a: Args = { policies: "policies", out: join("build", "policies.json"), values: null, check: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${arg} needs a value`);
      return v;
    };
    try {
      if (arg === "--help" || arg === "-h") return "help";
      else if (arg === "--check") a.check = true;
      else if (arg === "--policies") a.policies = value();
      else if (arg === "--out") a.out = value();
      else if (arg === "--values") a.values = value();
      else return `unknown argument ${JSON.stringify(arg)}`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return a;
}

/** Every .xml / .json file under `dir`, keyed by its `/`-separated path relative to `dir`. */
export function readPolicyFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      if (entry.name.startsWith(".")) continue;
      const full = join(d, entry.name);
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

export function main(argv: readonly string[]): number {
  const args = parseArgs(argv);
  if (args === "help") {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  if (typeof args === "string") {
    process.stderr.write(`policies:build: ${args}\n\n${USAGE}\n`);
    return 2;
  }
  if (!existsSync(args.policies) || !statSync(args.policies).isDirectory()) {
    process.stderr.write(`policies:build: ${args.policies} is not a folder\n`);
    return 2;
  }
  const started = performance.now();
  let values: NamedValuesInput = {};
  if (args.values !== null) {
    let text: string;
    try {
      text = readFileSync(args.values, "utf8");
    } catch (e) {
      process.stderr.write(`policies:build: cannot read ${args.values}: ${(e as Error).message}\n`);
      return 2;
    }
    const diags = new Diagnostics();
    const read = readValuesFile(new SourceFile(args.values, text), diags);
    if (diags.hasErrors) {
      process.stderr.write(formatDiagnostics(diags.list));
      return 1;
    }
    values = Object.fromEntries([...read].map(([k, v]) => [k, v.value.kind === "text" ? v.value.value : { secret: true as const }]));
  }
  const files = readPolicyFiles(args.policies);
  const result = compilePolicies(files, values);
  const prefix = args.policies.replace(/[/\\]+$/, "") + "/";
  process.stderr.write(formatDiagnostics("errors" in result ? [...result.errors, ...result.warnings] : result.warnings, prefix));
  const warnings = result.warnings.length === 0 ? "" : `, ${result.warnings.length} warning${result.warnings.length === 1 ? "" : "s"}`;
  if ("errors" in result) {
    let removed = "";
    if (!args.check && existsSync(args.out) && looksLikeBundle(args.out)) {
      rmSync(args.out);
      removed = `; removed the previous ${args.out}`;
    }
    process.stderr.write(`${result.errors.length} error${result.errors.length === 1 ? "" : "s"}${warnings}; nothing written${removed}\n`);
    return 1;
  }
  const b = result.bundle;
  const summary = `${Object.keys(b.operations).length - 1} operations, ${b.routes.length} routes, ${files.size} files, source ${b.source.slice(0, 12)}${warnings}`;
  const ms = Math.round(performance.now() - started);
  if (args.check) {
    process.stdout.write(`policies OK: ${summary} (${ms} ms; --check: nothing written)\n`);
    return 0;
  }
  mkdirSync(dirname(args.out), { recursive: true });
  const tmp = `${args.out}.${process.pid}.tmp`;
  writeFileSync(tmp, emitBundle(b));
  renameSync(tmp, args.out);
  process.stdout.write(`${args.out}: ${summary} (${ms} ms)\n`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = main(process.argv.slice(2));
}
