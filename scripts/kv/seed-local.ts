/**
 * Seeds the demo trust material into the LOCAL KV that `wrangler dev` reads (no Cloudflare account needed).
 *
 * Contract: Node only. `demoSeedEntries` is pure apart from reading the demo PKI's files: manifest and PEM text
 * → the KV entries of docs/kv-schema.md, encoded by schema.ts (the writer `kv sync` uses), in write order (the
 * version's keys first, `active` last). `seedLocalKv` writes them to a JSON file and runs `wrangler kv bulk
 * put --local --binding TRUST --persist-to <dir> <file>`, which writes the array in order against local
 * storage — so the `active` flip is the last write, as the schema asks, in one wrangler run (npm start stays
 * fast). `kv sync` does not rely on that ordering: it stages with one command and flips with another, which
 * is what a remote namespace needs. The version id is a hash of the version's content: re-seeding the same
 * PKI is a no-op flip to the same id.
 *
 * What is seeded:
 *   v/<version>/store/default   anchors: the demo root; intermediates: the DEV issuing CA; crls: 0
 *   v/<version>/registered      {"valid-client": <PEM of clients/valid.pem>}
 *   v/<version>/values          {}
 *   active                      {"version": "<version>", "activatedAt": "<now>"}
 * (`npm run pki -- demo --out DIR` also writes DIR/kv, the same content as a `kv sync` folder.)
 *
 * CLI: `tsx scripts/kv/seed-local.ts [--pki DIR] [--persist-to DIR]` (defaults .dev/pki, .dev/state).
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { decodeCertificates } from "../../src/cert/decode";
import { DEFAULT_DEMO_PKI_DIR, REGISTERED_CLIENT_ID, type DemoManifest } from "../pki/demo";
import { encodeActive, encodeVersion, type VersionContent } from "../../src/kv-schema";
import { bulkEntry, DEFAULT_PERSIST_TO, locationFlags, PROJECT_ROOT, wranglerBin, wranglerEnv } from "./wrangler-kv";

export { DEFAULT_PERSIST_TO, PROJECT_ROOT, wranglerBin, wranglerEnv };

/** The store the Worker reads by default (TRUST_STORE). */
const STORE_NAME = "default";

/** One entry of a `wrangler kv bulk put` file. */
export interface KvEntry {
  readonly key: string;
  readonly value: string;
  readonly base64?: true;
}

/** The demo PKI's manifest. */
export function readDemoManifest(pkiDir: string): DemoManifest {
  return JSON.parse(readFileSync(join(pkiDir, "manifest.json"), "utf8")) as DemoManifest;
}

/** The demo trust content (DER), as `kv sync` would publish it. */
export function demoVersionContent(pkiDir: string): VersionContent {
  const manifest = readDemoManifest(pkiDir);
  const der = (file: string): Uint8Array[] => {
    const r = decodeCertificates(readFileSync(join(pkiDir, file), "utf8"));
    if (!r.ok) throw new Error(`${file}: ${r.error.detail}`);
    return r.value;
  };
  return {
    stores: new Map([[STORE_NAME, { anchors: der(manifest.cas.root.cert), intermediates: der(manifest.cas.dev.cert), pinned: [], crls: [] }]]),
    registered: new Map([[REGISTERED_CLIENT_ID, der(manifest.clients.valid.cert)[0]!]]),
    values: new Map(),
  };
}

/** The KV entries of the demo trust material, `active` last. */
export function demoSeedEntries(pkiDir: string, now = new Date()): { version: string; entries: KvEntry[] } {
  const content = demoVersionContent(pkiDir);
  // The id hashes the encoded content under a placeholder version, so it depends on the content only.
  const hash = createHash("sha256");
  for (const w of encodeVersion("_", content)) hash.update(w.key).update("\0").update(w.value).update("\0");
  const version = `demo-${hash.digest("hex").slice(0, 16)}`;
  const writes = [...encodeVersion(version, content), encodeActive(version, now)];
  return { version, entries: writes.map(bulkEntry) };
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
  const args = ["kv", "bulk", "put", file, ...locationFlags({ kind: "local", persistTo }, join(PROJECT_ROOT, "wrangler.toml"))];
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
