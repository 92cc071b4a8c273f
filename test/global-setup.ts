/**
 * Runs once before the test projects: compiles policies/ into build/policies.json, the bundle the Worker
 * imports (src/policy/bundle.ts), so `vitest run` works from a clean clone without npm hooks.
 */
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["node_modules/tsx/dist/cli.mjs", "scripts/compile-policies/main.ts"], { stdio: "inherit" });
}
