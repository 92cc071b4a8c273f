/**
 * `npm start -- --check` end to end: the demo PKI, the local KV seed, the echo origin and `wrangler dev`,
 * every printed request sent and its status and code asserted by the script itself. Runs the same entry as
 * `npm start` (tsx, this Node) in a temporary --dir on a free port, so it never touches `.dev/`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateDemoPki } from "../pki/demo";
import { PROJECT_ROOT } from "../kv/seed-local";
import { freePort } from "../lib/workerd";
import { startDemoOrigin, type OriginEcho } from "./demo-origin";
import { DEMO_REQUESTS } from "./start";

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "certgate-start-"));
  dirs.push(d);
  return d;
}
let child: ChildProcess | null = null;

afterAll(() => {
  // SIGTERM lets start.ts stop wrangler's process group and the origin.
  if (child && child.exitCode === null) child.kill("SIGTERM");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe("demo origin", () => {
  it("echoes method, path and query, headers, body size and SHA-256", async () => {
    const origin = await startDemoOrigin();
    try {
      const res = await fetch(`${origin.url}/a/b?x=1&y=2`, { method: "POST", headers: { "X-Test": "one" }, body: "hello" });
      expect(res.headers.get("x-demo-origin")).toBe("echo");
      const echo = (await res.json()) as OriginEcho;
      expect(echo.method).toBe("POST");
      expect(echo.url).toBe("/a/b?x=1&y=2");
      expect(echo.headers["x-test"]).toBe("one");
      expect(echo.body).toEqual({ bytes: 5, sha256: "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" });
    } finally {
      await origin.close();
    }
  });
});

describe("demo PKI", () => {
  it("refuses to overwrite a non-empty folder without force", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "keep.txt"), "mine");
    await expect(generateDemoPki(dir)).rejects.toThrow(/not empty/);
    const manifest = await generateDemoPki(dir, { force: true });
    expect(Object.keys(manifest.clients)).toEqual(["valid", "unregistered", "expired", "not-yet-valid", "untrusted"]);
    expect(manifest.clients.valid.dns).toBe("valid.client.demo");
  });
});

describe("npm start -- --check", () => {
  it("starts the gateway under wrangler dev and every printed request answers as promised", async () => {
    const dir = tempDir();
    const port = await freePort();
    child = spawn(process.execPath, ["--import", "tsx", "scripts/dev/start.ts", "--check", "--dir", dir, "--port", String(port)], {
      cwd: PROJECT_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((r) => child!.once("exit", (c) => r(c)));
    expect(output, output).toContain(`check passed: ${DEMO_REQUESTS.length}/${DEMO_REQUESTS.length}`);
    expect(code, output).toBe(0);
    for (const r of DEMO_REQUESTS) {
      expect(output).toContain(`ok   ${`${r.expect.status} ${r.expect.code ?? "(origin echo)"}`.padEnd(34)} ${r.title}`);
    }
    expect(output).toContain(`certgate is running at http://127.0.0.1:${port}`);
  }, 90_000);
});
