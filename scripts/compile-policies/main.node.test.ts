/**
 * The `policies:build` CLI as a user runs it (a real process): exit codes, the bundle written only when there
 * is no error (and a stale one removed), `--check`, `--values` over values.json, paths printed as given.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTsx } from "../../test/support/cli-process";

const root = mkdtempSync(join(tmpdir(), "policies-build-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(files: Record<string, string>): string {
  const dir = mkdtempSync(join(root, "p-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const GLOBAL = '<policies><inbound><set-header name="X-Env" exists-action="override"><value>{{env}}</value></set-header></inbound></policies>';
const API = JSON.stringify({ name: "Cars", path: "/cars", operations: [{ id: "list", method: "GET", urlTemplate: "/" }] });

describe("npm run policies:build", () => {
  it("writes the bundle; --values overrides values.json", async () => {
    const dir = write({ "global.xml": GLOBAL, "values.json": '{"env": "dev"}', "apis/cars/api.json": API, "prod.json": '{"env": "prod"}' });
    const out = join(dir, "out", "policies.json");
    const r = await runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", out, "--values", join(dir, "prod.json")]);
    expect(r.stderr).toMatch(/prod\.json:1:1: warning: not part of the policies layout/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policies\.json: 1 operations, 1 routes/);
    const bundle = JSON.parse(readFileSync(out, "utf8"));
    expect(bundle.operations["cars/list"].inbound[0].values).toEqual([{ t: "text", v: "prod" }]);
  });

  it("prints every error with its position, exits 1, writes nothing and removes a stale bundle", async () => {
    const dir = write({ "global.xml": GLOBAL.replace("{{env}}", "{{nope}}").replace("override", "replace"), "apis/cars/api.json": API });
    const out = `${dir}.json`;
    writeFileSync(out, '{"operations":{}}\n');
    const r = await runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${dir}/global.xml:1:60: exists-action must be one of override, skip, append, delete, not "replace"`);
    expect(r.stderr).toContain(`${dir}/global.xml:1:76: unknown named value {{nope}}`);
    expect(r.stderr).toMatch(/2 errors; nothing written; removed the previous/);
    expect(existsSync(out)).toBe(false);
  });

  it("--check writes nothing; bad arguments exit 2", async () => {
    const dir = write({ "global.xml": GLOBAL, "values.json": '{"env": "dev"}' });
    const out = join(dir, "policies.json");
    const r = await runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", out, "--check"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/policies OK: 0 operations/);
    expect(existsSync(out)).toBe(false);
    const bad = await runTsx("scripts/compile-policies/main.ts", ["--policies"]);
    expect(bad.code).toBe(2);
  });

  it("a folder named like a policy file (certgate.json/, global.xml/) is an error naming it, exit 2 — not silently skipped", async () => {
    const dir = write({ "values.json": '{"env": "dev"}' });
    mkdirSync(join(dir, "certgate.json"));
    const r = await runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--check"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("certgate.json is a folder, not a file");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("--out under a file or onto a folder: one line naming the path, exit 2, no stack trace, no .tmp left", async () => {
    const dir = write({ "global.xml": GLOBAL, "values.json": '{"env": "dev"}', "a-file": "x" });
    const [underFile, newFile] = await Promise.all([
      runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", join(dir, "a-file", "policies.json")]),
      runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", join(dir, "new-name.json")]),
    ]);
    mkdirSync(join(dir, "folder"));
    const folder = await runTsx("scripts/compile-policies/main.ts", ["--policies", dir, "--out", join(dir, "folder")]);
    expect(underFile.code).toBe(2);
    expect(underFile.stderr).toContain(`--out ${join(dir, "a-file", "policies.json")}: ${join(dir, "a-file")} is a file, not a folder`);
    expect(folder.code).toBe(2);
    expect(folder.stderr).toContain(`--out ${join(dir, "folder")}: is a folder`);
    for (const r of [underFile, folder]) {
      expect(r.stderr).not.toMatch(/\n\s+at |ENOTDIR|EISDIR/);
      expect(r.stdout).toBe("");
    }
    expect(newFile.code).toBe(0); // a new file name in an existing folder is fine
    expect(readdirSync(dir).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(readdirSync(join(dir, "folder"))).toEqual([]);
  });

  it("an unknown option names the nearest known one and exits 2", async () => {
    const r = await runTsx("scripts/compile-policies/main.ts", ["--polices", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option --polices (did you mean --policies?)");
  });
});
