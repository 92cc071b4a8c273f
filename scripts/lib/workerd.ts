/**
 * Runs a bundled Worker on `workerd serve` directly (no wrangler/miniflare proxy in between), on a free
 * loopback port, for benchmarks and end-to-end tests. Node only.
 *
 * `startWorkerd({ entry })` bundles `entry` with esbuild, writes a workerd config next to it in a temp
 * folder, starts workerd and resolves once the port answers. `stop()` kills it and removes the folder.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esbuild from "esbuild";

export interface RunningWorker {
  readonly url: string;
  readonly port: number;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface WorkerdOptions {
  /** TypeScript/JavaScript entry module of the Worker. */
  readonly entry: string;
  /** Plain-text bindings (vars). */
  readonly vars?: Record<string, string>;
  readonly compatibilityDate?: string;
  /** Milliseconds to wait for the port to answer. */
  readonly startTimeoutMs?: number;
  /** Let the Worker's fetch() reach loopback/private addresses (a local origin); workerd blocks them by default. */
  readonly allowLocalOutbound?: boolean;
  /** Discard the Worker's log output (load tests would print a line per request). */
  readonly quiet?: boolean;
  /** V8 flags for the isolate (default: WORKERD_V8_FLAGS, space-separated — e.g. `--perf-basic-prof` to profile with perf). */
  readonly v8Flags?: readonly string[];
  /** Receives the Worker's standard output (and V8's, e.g. `--trace-gc` lines) instead of discarding or inheriting it. */
  readonly onStdout?: (text: string) => void;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Bundles a Worker entry into one ES module (as wrangler would, minus its dev wrappers). */
export async function bundleWorker(entry: string, minify = true): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [entry], bundle: true, format: "esm", platform: "neutral", target: "es2022", write: false, minify,
    mainFields: ["module", "main"], conditions: ["workerd", "worker", "browser"], logLevel: "error",
  });
  return out.outputFiles[0]!.text;
}

function capnpString(s: string): string {
  return JSON.stringify(s);
}

export async function startWorkerd(options: WorkerdOptions): Promise<RunningWorker> {
  const dir = mkdtempSync(join(tmpdir(), "certgate-workerd-"));
  const v8Flags = options.v8Flags ?? (process.env.WORKERD_V8_FLAGS ?? "").split(" ").filter(Boolean);
  // A profiled Worker keeps its function names (perf's map then names them, not minified letters).
  writeFileSync(join(dir, "worker.js"), await bundleWorker(options.entry, !v8Flags.includes("--perf-basic-prof")));
  const port = await freePort();
  const bindings = Object.entries(options.vars ?? {})
    .map(([name, value]) => `(name = ${capnpString(name)}, text = ${capnpString(value)})`).join(", ");
  writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (${v8Flags.length > 0 ? `
  v8Flags = [ ${v8Flags.map(capnpString).join(", ")} ],` : ""}
  services = [ (name = "main", worker = .worker)${options.allowLocalOutbound ? `, (name = "internet", network = (allow = ["public", "private", "local"]))` : ""} ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = ${capnpString(options.compatibilityDate ?? "2026-10-20")},${options.allowLocalOutbound ? `
  globalOutbound = "internet",` : ""}
  bindings = [ ${bindings} ],
);
`);
  const require = createRequire(import.meta.url);
  const bin = join(require.resolve("workerd/package.json"), "..", "bin", "workerd");
  const stdio = options.onStdout ? ["ignore", "pipe", options.quiet ? "ignore" : "inherit"] as const
    : options.quiet ? "ignore" : ["ignore", "inherit", "inherit"] as const;
  const child = spawn(bin, ["serve", join(dir, "config.capnp"), "--experimental"], { stdio: stdio as never });
  if (options.onStdout) child.stdout!.setEncoding("utf8").on("data", options.onStdout);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  let exited = false;
  child.on("exit", () => (exited = true));
  const stop = async () => {
    if (!exited) {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 50));
      if (!exited) child.kill("SIGKILL");
    }
    rmSync(dir, { recursive: true, force: true });
  };
  while (true) {
    if (exited) {
      await stop();
      throw new Error("workerd exited before it was ready");
    }
    try {
      await fetch(url, { method: "HEAD", signal: AbortSignal.timeout(500) });
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`workerd did not answer on ${url} within the start timeout`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { url, port, process: child, stop };
}
