/**
 * Seeds the demo trust material into the LOCAL KV that `wrangler dev` reads (no Cloudflare account needed).
 *
 * Contract: Node only. `demoSeedEntries` is pure: the demo PKI's manifest and PEM text → the KV entries of
 * docs/kv-schema.md, in write order (the version's keys first, `active` last). `seedLocalKv` writes them to a
 * JSON file and runs `wrangler kv bulk put --local --binding TRUST --persist-to <dir> <file>`, which writes
 * the array in order — so the `active` flip is the last write, as the schema asks of every writer. The
 * version id is a hash of the version's content: re-seeding the same PKI is a no-op flip to the same id.
 *
 * What is seeded:
 *   v/<version>/store/default   anchors: the demo root; intermediates: the DEV issuing CA; crls: 0
 *   v/<version>/registered      {"valid-client": <PEM of clients/valid.pem>}
 *   active                      {"version": "<version>", "activatedAt": "<now>"}
 *
 * CLI: `tsx scripts/kv/seed-local.ts [--pki DIR] [--persist-to DIR]` (defaults .dev/pki, .dev/state).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_DEMO_PKI_DIR, REGISTERED_CLIENT_ID, type DemoManifest } from "../pki/demo";

/** The project root (where wrangler.toml is). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const DEFAULT_PERSIST_TO = ".dev/state";
/** The store the Worker reads by default (TRUST_STORE). */
const STORE_NAME = "default";

export interface KvEntry {
  readonly key: string;
  readonly value: string;
}

/** The demo PKI's manifest. */
export function readDemoManifest(pkiDir: string): DemoManifest {
  return JSON.parse(readFileSync(join(pkiDir, "manifest.json"), "utf8")) as DemoManifest;
}

/** The KV entries of the demo trust material, `active` last. */
export function demoSeedEntries(pkiDir: string, now = new Date()): { version: string; entries: KvEntry[] } {
  const manifest = readDemoManifest(pkiDir);
  const pem = (file: string) => readFileSync(join(pkiDir, file), "utf8");
  const store = JSON.stringify({ anchors: pem(manifest.cas.root.cert), intermediates: pem(manifest.cas.dev.cert), crls: 0 });
  const registered = JSON.stringify({ [REGISTERED_CLIENT_ID]: pem(manifest.clients.valid.cert) });
  const version = `demo-${createHash("sha256").update(store).update("\0").update(registered).digest("hex").slice(0, 16)}`;
  return {
    version,
    entries: [
      { key: `v/${version}/store/${STORE_NAME}`, value: store },
      { key: `v/${version}/registered`, value: registered },
      { key: "active", value: JSON.stringify({ version, activatedAt: now.toISOString() }) },
    ],
  };
}

/** Path of wrangler's CLI entry, run with this Node (the project's Node 22). */
export function wranglerBin(): string {
  return join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
}

/** Environment for wrangler child processes: no telemetry, no update check. */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" };
}

export interface SeedResult {
  readonly version: string;
  /** The command that was run, relative to the project root, for people to re-run. */
  readonly command: string;
  readonly file: string;
  readonly ms: number;
}

/** Writes the entries to `file` and bulk-puts them into the local KV under `persistTo`. */
export async function seedLocalKv(options: { pkiDir: string; persistTo: string; file?: string }): Promise<SeedResult> {
  const started = performance.now();
  const { version, entries } = demoSeedEntries(options.pkiDir);
  const file = resolve(options.file ?? join(options.pkiDir, "..", "kv-seed.json"));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(entries, null, 2) + "\n");
  const persistTo = resolve(options.persistTo);
  const args = ["kv", "bulk", "put", "--local", "--binding", "TRUST", "--persist-to", persistTo, "--config", join(PROJECT_ROOT, "wrangler.toml"), file];
  const output = await new Promise<string>((done, fail) => {
    const child = spawn(process.execPath, [wranglerBin(), ...args], { cwd: PROJECT_ROOT, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.stderr.on("data", (d: Buffer) => (text += d.toString()));
    child.on("error", fail);
    child.on("exit", (code) => (code === 0 ? done(text) : fail(new Error(`wrangler kv bulk put exited with ${code}:\n${text}`))));
  });
  if (!/Success/.test(output)) throw new Error(`wrangler kv bulk put did not report success:\n${output}`);
  const rel = (p: string) => relative(PROJECT_ROOT, p) || ".";
  const command = `npx wrangler kv bulk put --local --binding TRUST --persist-to ${rel(persistTo)} ${rel(file)}`;
  return { version, command, file, ms: Math.round(performance.now() - started) };
}

async function main(argv: readonly string[]): Promise<number> {
  let pkiDir = DEFAULT_DEMO_PKI_DIR;
  let persistTo = DEFAULT_PERSIST_TO;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--pki" && argv[i + 1] !== undefined) pkiDir = argv[++i]!;
    else if (a === "--persist-to" && argv[i + 1] !== undefined) persistTo = argv[++i]!;
    else {
      process.stderr.write(`usage: tsx scripts/kv/seed-local.ts [--pki DIR] [--persist-to DIR]   (defaults ${DEFAULT_DEMO_PKI_DIR}, ${DEFAULT_PERSIST_TO})\n`);
      return a === "--help" || a === "-h" ? 0 : 2;
    }
  }
  try {
    const r = await seedLocalKv({ pkiDir, persistTo });
    process.stdout.write(`seeded version ${r.version} in ${r.ms} ms: ${r.command}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`seed-local: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
}
