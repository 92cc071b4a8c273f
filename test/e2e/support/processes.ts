/**
 * Test support for the end-to-end suites (test/e2e/*.node.test.ts): find a system program, run it as a
 * long-lived child process, know when it is ready, and stop it — all of it, every time. Node only.
 *
 * Contract: `findProgram` returns an absolute path or throws an Error that says what is missing and how to
 * install it (a missing terminator fails the suite, it is never skipped). `startProcess` spawns the program
 * in its own process group (so stopping reaches its children: nginx workers, workerd under wrangler), waits
 * until its readiness check passes, and rejects — after stopping it — when it exits first or misses its
 * deadline, with its last output in the message. `stop()` is idempotent: SIGTERM to the group, SIGKILL to
 * whatever is left after a grace period, resolved once the leader has exited. Should the test process exit
 * without stopping it, an exit hook kills the group.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { delimiter, isAbsolute, join } from "node:path";

/** Output kept per process for failure messages (the tail is what explains a failure). */
const OUTPUT_TAIL_CHARS = 20_000;
/** A terminator or wrangler that ignores SIGTERM for this long is killed. */
const STOP_GRACE_MS = 5_000;
/** Polling interval of readiness checks. */
const POLL_MS = 50;

/** Directories searched besides PATH: Debian puts nginx and haproxy in /usr/sbin, often not on a user's PATH. */
const SBIN_DIRS = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

export interface ProgramRequirement {
  /** Executable name, e.g. "nginx". */
  readonly name: string;
  /** Environment variable that may name the executable instead (e.g. CERTGATE_E2E_NGINX). */
  readonly envVar: string;
  /** How to install it, for the failure message. */
  readonly install: string;
  /** Optional capability check: arguments and a pattern the combined output must match, and what it means. */
  readonly feature?: { readonly args: readonly string[]; readonly pattern: RegExp; readonly what: string };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a required program; throws a message naming what is missing and how to install it. */
export function findProgram(req: ProgramRequirement): string {
  const fromEnv = process.env[req.envVar];
  let found: string | undefined;
  if (fromEnv) {
    if (!isAbsolute(fromEnv) || !isExecutable(fromEnv)) {
      throw new Error(`${req.envVar}=${fromEnv} is not an executable file (unset it to search PATH and ${SBIN_DIRS.join(", ")})`);
    }
    found = fromEnv;
  } else {
    const dirs = [...(process.env.PATH ?? "").split(delimiter).filter(Boolean), ...SBIN_DIRS];
    found = dirs.map((d) => join(d, req.name)).find(isExecutable);
  }
  if (found === undefined) {
    throw new Error(`${req.name} is not installed: this end-to-end suite needs the real ${req.name} in front of certgate ` +
      `(searched PATH and ${SBIN_DIRS.join(", ")}; or set ${req.envVar}). Install it with \`${req.install}\` — .ci/run does.`);
  }
  if (req.feature) {
    const r = spawnSync(found, req.feature.args, { encoding: "utf8", timeout: 10_000 });
    const text = `${r.stdout ?? ""}${r.stderr ?? ""}`;
    if (!req.feature.pattern.test(text)) {
      throw new Error(`${found} lacks ${req.feature.what} (\`${req.name} ${req.feature.args.join(" ")}\` does not show ${req.feature.pattern}); install \`${req.install}\``);
    }
  }
  return found;
}

export interface RunningProcess {
  readonly name: string;
  readonly pid: number;
  /** The last output (stdout and stderr interleaved). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) when the process exits. */
  readonly exited: Promise<number | string | null>;
  stop(): Promise<void>;
}

export interface StartProcessOptions {
  /** Label in messages ("nginx", "wrangler dev"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Ready when this resolves true; polled until the deadline. Receives the output so far. */
  readonly ready: (output: string) => boolean | Promise<boolean>;
  /** Output that means it will never be ready (wrangler keeps running after a failed build): stop at once. */
  readonly failedWhen?: RegExp;
  readonly timeoutMs: number;
}

/** Starts a long-lived program in its own process group and resolves once it is ready. */
export async function startProcess(options: StartProcessOptions): Promise<RunningProcess> {
  const child: ChildProcess = spawn(options.command, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-OUTPUT_TAIL_CHARS));
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const exited = new Promise<number | string | null>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? signal));
    child.once("error", (e) => {
      output += `\nspawn failed: ${e.message}`;
      resolve(null);
    });
  });
  let done = false;
  // Last resort if the test process exits without afterAll (a crash, a worker torn down): no orphan group.
  const killOnExit = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  };
  process.once("exit", killOnExit);
  void exited.then(() => {
    done = true;
    process.removeListener("exit", killOnExit);
  });

  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= stopGroup(child, exited, () => done));
  const running: RunningProcess = { name: options.name, pid: child.pid ?? -1, output: () => output, exited, stop };

  const deadline = Date.now() + options.timeoutMs;
  while (true) {
    if (done) {
      const code = await exited;
      throw new Error(`${options.name} exited (${code}) before it was ready: ${options.command} ${options.args.join(" ")}\n--- its output ---\n${output}`);
    }
    if (options.failedWhen?.test(output)) {
      await stop();
      throw new Error(`${options.name} failed to start: ${options.command} ${options.args.join(" ")}\n--- its output ---\n${output}`);
    }
    let ok = false;
    try {
      ok = await options.ready(output);
    } catch {
      ok = false;
    }
    if (ok) return running;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${options.name} was not ready within ${options.timeoutMs / 1000} s: ${options.command} ${options.args.join(" ")}\n--- its output ---\n${output}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

async function stopGroup(child: ChildProcess, exited: Promise<unknown>, isDone: () => boolean): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  if (!isDone()) signalGroup("SIGTERM");
  await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_GRACE_MS).unref())]);
  // Whatever is left of the group (nginx workers, workerd) after the leader's own shutdown.
  signalGroup("SIGKILL");
  await exited;
}

/** True when a TCP connection to 127.0.0.1:`port` succeeds (the listener is up). */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/**
 * Runs cleanup steps in reverse order of registration, each to completion even when one fails, then throws
 * the first failure (after everything has been attempted).
 */
export class Cleanup {
  private readonly steps: { label: string; run: () => unknown }[] = [];
  private closed = false;

  /** Registers a step; after `run()` (a start-up that outlived its deadline), runs it at once instead. */
  add(label: string, run: () => unknown): void {
    if (this.closed) void Promise.resolve().then(run).catch(() => undefined);
    else this.steps.push({ label, run });
  }

  async run(): Promise<void> {
    this.closed = true;
    const failures: string[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (e) {
        failures.push(`${step.label}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (failures.length > 0) throw new Error(`cleanup failed:\n${failures.join("\n")}`);
  }
}

/**
 * The start-up of a suite, run in beforeAll without throwing there: a hook failure would leave vitest's tests
 * "skipped". Instead the suite's first test rethrows the start-up error in full and every other test fails
 * with its first line, so a missing terminator shows up as failed tests that say what is missing.
 */
export class SuiteSetup {
  private error: Error | null = null;

  /** Runs `start`; past `deadlineMs` the start-up counts as failed, with `progress()` in the message. */
  async run(start: () => Promise<void>, deadlineMs: number, progress: () => string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the start-up did not finish within ${deadlineMs / 1000} s (${progress()})`)), deadlineMs);
    });
    try {
      await Promise.race([start(), deadline]);
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
    } finally {
      clearTimeout(timer);
    }
  }

  /** Rethrows the start-up error, whole. */
  assertStarted(): void {
    if (this.error) throw this.error;
  }

  /** Throws a one-line summary of the start-up error. */
  require(): void {
    if (this.error) throw new Error(`not run, the start-up failed: ${this.error.message.split("\n")[0]}`);
  }
}
