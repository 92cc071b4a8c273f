/**
 * Test support for the Node-only tools (`*.node.test.ts`): run a CLI as a real child process, and keep test
 * files in a temporary directory. Test material only; Node ≥ 22 (never runs in workerd).
 *
 * Contract: `runTsx` starts `process.execPath` (the Node running vitest, so Node 22 whatever `node` is on PATH)
 * on tsx's CLI with the given script, from the project root; it resolves with the exit code and both outputs,
 * never rejects for a non-zero exit. `runProgram` does the same for any executable (openssl…) and resolves
 * `null` when it is not installed.
 *
 * Node's modules are reached through `process.getBuiltinModule` and typed below for the few calls used, unlike
 * scripts/ (which imports `node:` modules): tsconfig.json takes in all of test/ with the Worker's types only,
 * where a `node:` import does not resolve and @types/node must not leak into Worker code.
 */

/** What a finished child process left. */
export interface ProcessResult {
  /** Exit code; null when killed by a signal (or the timeout). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Bytes or text written to the child's standard input (closed afterwards). */
  readonly input?: string | Uint8Array;
  readonly timeoutMs?: number;
}

interface ChildProcess {
  stdout: { on(event: "data", f: (chunk: Uint8Array) => void): void };
  stderr: { on(event: "data", f: (chunk: Uint8Array) => void): void };
  stdin: { end(data?: string | Uint8Array): void; on(event: "error", f: () => void): void };
  on(event: "error", f: (e: Error & { code?: string }) => void): void;
  on(event: "close", f: (code: number | null) => void): void;
  kill(): void;
}
interface NodeModules {
  child_process: { spawn(command: string, args: readonly string[], options: { cwd: string; env: Record<string, string | undefined> }): ChildProcess };
  fs: {
    mkdtemp(prefix: string): Promise<string>;
    writeFile(path: string, data: string | Uint8Array): Promise<void>;
    rm(path: string, options: { recursive: boolean; force: boolean }): Promise<void>;
  };
  os: { tmpdir(): string };
  path: { join(...parts: string[]): string; resolve(...parts: string[]): string };
  url: { fileURLToPath(url: string): string };
}

function node<K extends keyof NodeModules>(name: K): NodeModules[K] {
  const id = name === "fs" ? "node:fs/promises" : `node:${name}`;
  return (process as { getBuiltinModule(id: string): unknown }).getBuiltinModule(id) as NodeModules[K];
}

/** The project root (this file is test/support/cli-process.ts). */
export const PROJECT_ROOT: string = node("path").resolve(
  node("url").fileURLToPath((import.meta as unknown as { url: string }).url), "..", "..", "..");

/** Runs `executable args…` from the project root. Resolves null when the executable does not exist. */
export function runProgram(executable: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult | null> {
  return new Promise((resolve, reject) => {
    const child = node("child_process").spawn(executable, args, { cwd: PROJECT_ROOT, env: { ...(process.env as Record<string, string>), NO_COLOR: "1" } });
    const out: Uint8Array[] = [];
    const errOut: Uint8Array[] = [];
    child.stdout.on("data", (c) => out.push(c));
    child.stderr.on("data", (c) => errOut.push(c));
    const timer = setTimeout(() => child.kill(), options.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      if (e.code === "ENOENT") resolve(null);
      else reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: text(out), stderr: text(errOut) });
    });
    child.stdin.on("error", () => undefined); // the child may exit without reading its input
    child.stdin.end(options.input);
  });
}

/** Runs a TypeScript entry point (path relative to the project root) with tsx on the current Node. */
export async function runTsx(script: string, args: readonly string[], options: RunOptions = {}): Promise<ProcessResult> {
  const tsx = node("path").join(PROJECT_ROOT, "node_modules", "tsx", "dist", "cli.mjs");
  const result = await runProgram(process.execPath as string, [tsx, script, ...args], options);
  if (!result) throw new Error(`cannot start ${String(process.execPath)}`);
  return result;
}

function text(chunks: readonly Uint8Array[]): string {
  const decoder = new TextDecoder();
  return chunks.map((c) => decoder.decode(c, { stream: true })).join("") + decoder.decode();
}

/** A temporary directory; `write` returns the file's full path. */
export interface TempDir {
  readonly path: string;
  write(name: string, data: string | Uint8Array): Promise<string>;
  file(name: string): string;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix: string): Promise<TempDir> {
  const fs = node("fs");
  const path = node("path");
  const dir = await fs.mkdtemp(path.join(node("os").tmpdir(), prefix));
  return {
    path: dir,
    file: (name) => path.join(dir, name),
    async write(name, data) {
      const full = path.join(dir, name);
      await fs.writeFile(full, data);
      return full;
    },
    remove: () => fs.rm(dir, { recursive: true, force: true }),
  };
}
