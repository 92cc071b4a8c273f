/**
 * Runs once before the test projects:
 * - compiles policies/ into build/policies.json, the bundle the Worker imports (src/policy/bundle.ts), so
 *   `vitest run` works from a clean clone without npm hooks;
 * - builds the policy cases (scripts/policy/build-cases.ts): the test PKI both case harnesses share and
 *   every test/policies/<case> with a cases.json compiled into build/test-policies/, which the workerd
 *   harness loads (the compiler runs in Node only);
 * - installs nginx, HAProxy and Caddy from Debian's packages when they are missing (the e2e suites drive
 *   them; scripts/dev/install-terminators.sh — needs root and apt, as on this project's machines).
 */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/compile-policies/main.ts"], { stdio: "inherit" });
  execFileSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/policy/build-cases.ts"], { stdio: "inherit" });
  execFileSync("bash", ["scripts/dev/install-terminators.sh"], { stdio: "inherit" });
}
