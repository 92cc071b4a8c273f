/**
 * KvStore over wrangler's CLI: the same `wrangler kv …` commands for local storage (`--local --binding TRUST
 * --persist-to DIR`, what `wrangler dev --persist-to DIR` reads) and for a Cloudflare namespace (`--remote
 * --namespace-id ID`, with wrangler's own authentication: `wrangler login` or CLOUDFLARE_API_TOKEN and
 * CLOUDFLARE_ACCOUNT_ID). Only the location flags differ, so the tests that run against local storage
 * exercise the commands production runs.
 *
 * Commands (one wrangler process each; ~1.5 s of start-up on a small machine):
 *   getText   `kv bulk get FILE`      JSON out; local prints {key: {value}}, the API {key: value}: both read
 *   getBytes  `kv key get KEY`        raw bytes on stdout (bulk get decodes values as UTF-8, which breaks DER)
 *   list      `kv key list --prefix`  JSON [{name}]
 *   putMany   `kv bulk put FILE`      [{key, value, base64?}]; wrangler batches remote writes (10,000 per call)
 *   put       `kv key put KEY --path FILE`
 * Input files go to a private temporary folder (0700, files 0600: values may be secrets) removed afterwards.
 * A non-zero exit is an Error carrying wrangler's output.
 *
 * Contract: Node only; the process edge of `kv` (no parsing of trust material here).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kvOnlyConfig } from "./kv-config";
import { encodeBase64 } from "../../src/cert/decode";
import { displayPath } from "../lib/cli";
import type { KvStore } from "./kv-store";
import type { KvWrite } from "../../src/kv-schema";

/** The project root (where wrangler.toml is). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The binding of the trust namespace in wrangler.toml. */
export const KV_BINDING = "TRUST";
export const DEFAULT_PERSIST_TO = ".dev/state";

/** Path of wrangler's CLI entry, run with this Node (the project's Node 22). */
export function wranglerBin(): string {
  return join(PROJECT_ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
}

/** Environment for wrangler child processes: no telemetry, no banner, no update check, no colours. */
export function wranglerEnv(): NodeJS.ProcessEnv {
  return { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_HIDE_BANNER: "true", NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0" };
}

export type KvLocation =
  | { readonly kind: "local"; readonly persistTo: string }
  | { readonly kind: "remote"; readonly namespaceId: string };

export interface WranglerKvOptions {
  readonly location: KvLocation;
  /** wrangler config (default: the project's wrangler.toml, which binds TRUST). */
  readonly config?: string;
}

/** The `wrangler kv` flags that select `location`. */
export function locationFlags(location: KvLocation, config: string): string[] {
  return location.kind === "local"
    ? ["--local", "--binding", KV_BINDING, "--persist-to", resolve(location.persistTo), "--config", config]
    : ["--remote", "--namespace-id", location.namespaceId, "--config", config];
}

/** A `wrangler kv bulk put` file entry. */
export function bulkEntry(write: KvWrite): { key: string; value: string; base64?: true } {
  return typeof write.value === "string" ? { key: write.key, value: write.value } : { key: write.key, value: encodeBase64(write.value), base64: true };
}

export class WranglerKv implements KvStore {
  readonly description: string;
  private readonly config: string;

  constructor(private readonly options: WranglerKvOptions) {
    this.config = resolve(options.config ?? join(PROJECT_ROOT, "wrangler.toml"));
    const l = options.location;
    this.description = l.kind === "local" ? `local KV (${displayPath(l.persistTo)})` : `remote KV namespace ${l.namespaceId}`;
  }

  async getText(keys: readonly string[]): Promise<Map<string, string | null>> {
    if (keys.length === 0) return new Map();
    const out = await this.withFile(JSON.stringify(keys), (file) => this.run(["kv", "bulk", "get", file]));
    return readBulkGetOutput(out.stdout, keys);
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    const out = await this.run(["kv", "key", "get", key]);
    // Local mode prints this line (exit 0) for a missing key; callers only read keys a listing returned.
    if (new TextDecoder().decode(out.stdout) === "Value not found\n") return null;
    return out.stdout;
  }

  async list(prefix: string): Promise<string[]> {
    const out = await this.run(["kv", "key", "list", "--prefix", prefix]);
    return readKeyListOutput(out.stdout, prefix);
  }

  async putMany(writes: readonly KvWrite[]): Promise<void> {
    if (writes.length === 0) return;
    const out = await this.withFile(JSON.stringify(writes.map(bulkEntry)), (file) => this.run(["kv", "bulk", "put", file]));
    const text = new TextDecoder().decode(out.stdout) + out.stderr;
    if (!/Success/.test(text)) throw new Error(`wrangler kv bulk put did not report success:\n${text}`);
  }

  async put(write: KvWrite): Promise<void> {
    await this.withFile(write.value, (file) => this.run(["kv", "key", "put", write.key, "--path", file]));
  }

  /**
   * Local commands run one at a time: each boots a workerd on the same storage folder, and concurrent ones
   * contend for it (SQLite and blob files); one at a time is also what a person running them would do.
   */
  private queue: Promise<unknown> = Promise.resolve();

  private run(args: readonly string[]): Promise<{ stdout: Uint8Array; stderr: string }> {
    if (this.options.location.kind === "remote") return this.spawn(args);
    const next = this.queue.then(() => this.spawn(args));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Runs `wrangler <args> <location flags>`; rejects on a non-zero exit with wrangler's output. */
  private async spawn(args: readonly string[]): Promise<{ stdout: Uint8Array; stderr: string }> {
    const config = await kvOnlyConfig(this.config);
    const full = [wranglerBin(), ...args, ...locationFlags(this.options.location, config)];
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, full, { cwd: PROJECT_ROOT, env: wranglerEnv(), stdio: ["ignore", "pipe", "pipe"] });
      const out: Buffer[] = [];
      let errText = "";
      child.stdout.on("data", (d: Buffer) => out.push(d));
      child.stderr.on("data", (d: Buffer) => (errText += d.toString()));
      child.on("error", fail);
      child.on("close", (code) => {
        const stdout = new Uint8Array(Buffer.concat(out));
        if (code === 0) done({ stdout, stderr: errText });
        else fail(new Error(`wrangler ${args.slice(0, 3).join(" ")} exited with ${code}:\n${new TextDecoder().decode(stdout)}${errText}`.trimEnd()));
      });
    });
  }

  /** Runs `f` with `content` in a private temporary file. */
  private async withFile<T>(content: string | Uint8Array, f: (file: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "certgate-kv-"));
    try {
      const file = join(dir, "input");
      await writeFile(file, content, { mode: 0o600 });
      return await f(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Values from `wrangler kv bulk get` output. Local storage prints {"key": {"value": "…"|null}}; remote prints
 * the Cloudflare bulk-get API's `values`, {"key": "…"|null}. Both are read; anything else is null (missing).
 */
export function readBulkGetOutput(stdout: Uint8Array, keys: readonly string[]): Map<string, string | null> {
  const json = parseJsonOutput(stdout, "kv bulk get");
  if (json === null || typeof json !== "object" || Array.isArray(json)) throw new Error("wrangler kv bulk get printed no JSON object");
  const result = new Map<string, string | null>();
  for (const key of keys) {
    const entry = (json as Record<string, unknown>)[key];
    const value = entry !== null && typeof entry === "object" ? (entry as { value?: unknown }).value : entry;
    result.set(key, typeof value === "string" ? value : null);
  }
  return result;
}

/** Key names from `wrangler kv key list` output ([{"name": …}, …]), those starting with `prefix`. */
export function readKeyListOutput(stdout: Uint8Array, prefix: string): string[] {
  const json = parseJsonOutput(stdout, "kv key list");
  if (!Array.isArray(json)) throw new Error(`wrangler kv key list printed no JSON array:\n${new TextDecoder().decode(stdout)}`);
  return json.map((k) => String((k as { name: unknown }).name)).filter((n) => n.startsWith(prefix));
}

/** The JSON document in wrangler's stdout (anything printed before its first line is skipped). */
function parseJsonOutput(stdout: Uint8Array, what: string): unknown {
  const text = new TextDecoder().decode(stdout);
  const start = text.search(/^[[{]/m);
  if (start === -1) throw new Error(`wrangler ${what} printed no JSON:\n${text}`);
  try {
    return JSON.parse(text.slice(start));
  } catch {
    throw new Error(`wrangler ${what} printed invalid JSON:\n${text}`);
  }
}
