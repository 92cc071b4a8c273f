/**
 * `npm run check` — checks the deployment before traffic (check.ts): wrangler.toml's vars and bindings for each
 * environment, and the policies compiled as `policies:build` would. `npm run deploy` runs it first.
 *
 * Contract: the process edge. Reads the wrangler config through wrangler's own reader, compiles the policies in
 * process, prints one line per problem (stderr) and a summary (stdout). Exit status: 0 no problem (warnings
 * allowed), 1 problems, 2 bad arguments or unreadable files.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { policyBindingNames, prepareBundle, rateLimitingBindings, usesExternalCache, usesManagedIdentity } from "../../src/policy/bundle";
import { POLICIES_VARIABLE } from "../compile-policies/main";
import { describeError, parseOptions, REPEATABLE, runMain, usageError, userPath, VALUE, valueOf, valuesOf, type Output } from "../lib/cli";
import { compileForExplain } from "../policy/inputs";
import { checkDeployment, type PolicyNeeds, type RawWranglerConfig } from "./check";

const USAGE = `Usage: npm run check [-- options]

Checks the deployment before any traffic: for each environment of the wrangler config (the top level and
every [env.NAME]), its vars through the Worker's own parser (misspelled or unknown certgate variables,
invalid values), the bindings it needs (KV TRUST, the policies' mtls_certificates), and the policies,
compiled as \`npm run policies:build\` does. Prints every problem, one per line.

Options:
  --config FILE    the wrangler config (default: wrangler.toml)
  --env NAME       check this environment only (repeatable; "top" is the top level)
  --policies DIR   the policies folder (default: $${POLICIES_VARIABLE}, else policies)
  --values FILE    named values over DIR/values.json, as for policies:build
  --bundle FILE    a compiled bundle to check as the Worker loads it (default: build/policies.json when it
                   exists): another schema version or a malformed bundle is a problem
  --secret NAME    a secret set with \`wrangler secret put NAME\` (repeatable; e.g. TERMINATOR_SECRET):
                   taken as set, since its value is not in the file
  -h, --help       this text

Exit status: 0 no problem (warnings are printed), 1 problems, 2 bad arguments or unreadable files.`;

const OPTIONS = { config: VALUE, env: REPEATABLE, policies: VALUE, values: VALUE, secret: REPEATABLE, bundle: VALUE };

/** The bundle the Worker imports (src/policy/built-bundle.ts). */
const BUILT_BUNDLE = "build/policies.json";

export async function main(argv: readonly string[], output: Output): Promise<number> {
  const args = parseOptions(argv, OPTIONS);
  if (args.help) {
    output.out(USAGE);
    return 0;
  }
  const errors = [...args.errors];
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)} (options start with --)`);
  const configFile = userPath(valueOf(args, "config") ?? "wrangler.toml");
  if (!existsSync(configFile)) errors.push(`--config ${valueOf(args, "config") ?? "wrangler.toml"}: does not exist`);
  for (const s of valuesOf(args, "secret")) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(s)) errors.push(`--secret ${JSON.stringify(s)}: not a binding name`);
  if (errors.length > 0) return usageError(output, "check", errors);

  let raw: RawWranglerConfig;
  try {
    const { experimental_readRawConfig } = await import("wrangler");
    raw = experimental_readRawConfig({ config: configFile }).rawConfig as RawWranglerConfig;
  } catch (e) {
    output.err(`check: cannot read ${configFile}: ${describeError(e)}`);
    return 2;
  }
  const policiesDir = valueOf(args, "policies") ?? (process.env[POLICIES_VARIABLE] || "policies");
  const values = valueOf(args, "values");
  const compiled = compileForExplain({ kind: "folder", dir: userPath(policiesDir) }, values === undefined ? [] : [userPath(values)], new Map());
  const problems: string[] = [];
  let needs: PolicyNeeds = { certificateIds: new Set<string>(), runtimeValues: new Set<string>(), externalCache: false };
  if (!compiled.ok) {
    for (const line of compiled.error.diagnostics.replace(/\n$/, "").split("\n")) if (line !== "") output.err(line);
    problems.push(...compiled.error.messages.map((m) => `policies ${policiesDir}: ${m}`));
  } else {
    const names = policyBindingNames(compiled.value.prepared);
    const runtime = new Set(compiled.value.bundle.runtimeValues);
    needs = { certificateIds: new Set([...names].filter((n) => !runtime.has(n))), runtimeValues: runtime, externalCache: usesExternalCache(compiled.value.prepared), rateLimitingBindings: rateLimitingBindings(compiled.value.prepared), managedIdentity: usesManagedIdentity(compiled.value.prepared) };
  }
  // The bundle as the Worker loads it (prepareBundle): one left by another certgate version is answered 503
  // policy_bundle_invalid on every request, so it is named here before a deploy.
  const bundleOption = valueOf(args, "bundle");
  const bundleFile = userPath(bundleOption ?? BUILT_BUNDLE);
  if (bundleOption !== undefined || existsSync(bundleFile)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(bundleFile, "utf8"));
    } catch (e) {
      output.err(`check: cannot read the bundle ${displayName(bundleFile)}: ${describeError(e)}`);
      return 2;
    }
    const loaded = prepareBundle(raw);
    if (!loaded.ok) problems.push(...loaded.error.map((m) => `${displayName(bundleFile)}: ${m}`));
  }
  const envs = args.values.get("env")?.map((e) => (e === "top" ? null : e));
  const report = checkDeployment(raw, needs, new Set(valuesOf(args, "secret")), envs);
  problems.push(...report.problems);
  for (const w of report.warnings) output.err(`check: warning: ${w}`);
  for (const p of problems) output.err(`check: ${p}`);
  const what = `${displayName(configFile)} (${report.checked.join(", ")}), policies ${policiesDir}`;
  if (problems.length > 0) {
    output.err(`check: ${problems.length} problem${problems.length === 1 ? "" : "s"} in ${what}`);
    return 1;
  }
  const secrets = valuesOf(args, "secret");
  output.out(`check: OK — ${what}${secrets.length > 0 ? `; taken as set: ${secrets.join(", ")}` : ""}`);
  return 0;
}

function displayName(path: string): string {
  const cwd = process.env.INIT_CWD ?? process.cwd();
  return path.startsWith(join(cwd, "/")) ? path.slice(cwd.length + 1) : path;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runMain("check", main, 2);
