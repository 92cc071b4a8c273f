/**
 * The `kv` CLI's edge as a user meets it (a real process each): a `--persist-to` that is a file or does not
 * exist is a usage error before anything starts (exit 2, no folder created), a store that fails to open ends
 * the process instead of leaving a half-started workerd running, and no Node error text or stack reaches the
 * user. The publishing itself is local.node.test.ts.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTsx, type ProcessResult } from "../../test/support/cli-process";

const dir = mkdtempSync(join(tmpdir(), "certgate-kv-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "a-file");
writeFileSync(file, "not a folder");
const material = join(dir, "material");
mkdirSync(material);

/** Runs the CLI with a 30 s limit: a hang shows as code null. */
const kv = (...args: string[]): Promise<ProcessResult> => runTsx("scripts/kv/main.ts", args, { timeoutMs: 30_000 });

function expectOneLineErrors(r: ProcessResult): void {
  expect(r.stderr).not.toMatch(/\n\s+at |ENOENT|ENOTDIR|EISDIR|internal error/);
  expect(r.stdout).toBe("");
}

describe("kv CLI edge", () => {
  it("status and sync --dry-run with --persist-to FILE: usage error, exit 2, no hang", async () => {
    const [status, dryRun] = await Promise.all([
      kv("status", "--persist-to", file),
      kv("sync", material, "--dry-run", "--persist-to", file),
    ]);
    for (const r of [status, dryRun]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--persist-to ${file}: is a file, not a folder`);
      expectOneLineErrors(r);
    }
  });

  it("a --persist-to folder that does not exist (a typo) is refused and not created", async () => {
    const typo = join(dir, "stat");
    const [status, sync] = await Promise.all([kv("status", "--persist-to", typo), kv("sync", material, "--persist-to", typo)]);
    for (const r of [status, sync]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--persist-to ${typo}: does not exist`);
      expectOneLineErrors(r);
    }
    expect(existsSync(typo)).toBe(false);
  });

  it("a store that fails to open: one line naming the path, exit 1, and the process ends", async () => {
    const broken = join(dir, "broken");
    mkdirSync(broken);
    writeFileSync(join(broken, "v3"), "wrangler keeps a folder here");
    const r = await kv("status", "--persist-to", broken);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kv status: cannot open the KV store: .*v3.*: a part of the path is a file, not a folder\n$/);
    expectOneLineErrors(r);
  });

  it("a misspelled command or option names the intended one", async () => {
    const [command, option] = await Promise.all([kv("statsu"), kv("status", "--persist_to", dir)]);
    expect([command.code, option.code]).toEqual([2, 2]);
    expect(command.stderr).toContain('kv: unknown command "statsu" (did you mean status?)');
    expect(option.stderr).toContain("unknown option --persist_to (did you mean --persist-to?)");
  });
});
