/**
 * `npm start`: the gateway running locally, ready to try.
 *
 * Contract: Node only; everything on 127.0.0.1, no Cloudflare account. In order:
 *   1. the demo PKI in <dir>/pki (scripts/pki/demo.ts), generated when missing or out of date;
 *   2. the demo trust store seeded into the local KV in <dir>/state (scripts/kv/seed-local.ts);
 *   3. the echo origin (demo-origin.ts) on a free port;
 *   4. `wrangler dev --local` on --port (default 8787) with the demo's vars over wrangler.toml's, passed as
 *      `--var` (wrangler's highest precedence), and `--env-file <dir>/demo.env` so a developer's own
 *      .dev.vars / .env are not mixed into the demo; its build compiles the demo's policies
 *      (scripts/dev/policies, through CERTGATE_POLICIES), not the deployment's neutral policies/;
 *   5. once wrangler says "Ready on", the `curl` commands to try, each with the status and code it gets.
 * SIGINT / SIGTERM stop wrangler (its whole process group: workerd, esbuild) and the origin, then exit 0.
 *
 * `--check` runs the printed requests itself (headers read from the same files curl uses), asserts every
 * status and problem code, prints one line per request and stops everything; exit 1 on any difference.
 *
 * Usage: npm start [-- --check] [-- --port N] [-- --origin-port N] [-- --dir DIR] [-- --regenerate]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { isAbsolute, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { generateDemoPki } from "../pki/demo";
import { freePort } from "../lib/workerd";
import { PROJECT_ROOT, readDemoManifest, seedLocalKv, wranglerBin, wranglerEnv } from "../kv/seed-local";
import { POLICIES_VARIABLE } from "../compile-policies/main";
import { startDemoOrigin, type OriginEcho, type RunningOrigin } from "./demo-origin";
import { FLAG, integerOf, parseOptions, processOutput, usageError, VALUE, valueOf } from "../lib/cli";

/** DEMO SECRET, printed on purpose: it proves to the Worker that a request came from "the TLS terminator". */
export const DEMO_TERMINATOR_SECRET = "certgate-demo-terminator-secret-NOT-FOR-PRODUCTION";
const SECRET_HEADER = "X-Certgate-Terminator-Secret";
const SECRET_HEADER_FILE = "terminator-secret.txt";

/** The demo's policies (an API with a public page, registered-only orders, a per-client limit): compiled by wrangler dev's build. */
export const DEMO_POLICIES = join(PROJECT_ROOT, "scripts", "dev", "policies");

/**
 * The demo's vars over wrangler.toml's (ORIGIN_URL is added at start: the echo origin's port). The certificate
 * floor is off because the demo's policies decide: the global scope validates every request's certificate,
 * and GET /public (no <base/>) needs none.
 */
export const DEMO_VARS: Readonly<Record<string, string>> = {
  CERT_SOURCES: "cloudflare,rfc9440,url-pem",
  TERMINATOR_SECRET: DEMO_TERMINATOR_SECRET,
  TRUST_REFRESH_SECONDS: "1",
  REQUIRE_CERTIFICATE: "false",
};

/** Wrangler's first start bundles the Worker and boots workerd: seconds on a small machine. */
const WRANGLER_READY_TIMEOUT_MS = 60_000;
/** Grace period for wrangler to stop workerd itself before its process group is killed. */
const WRANGLER_STOP_GRACE_MS = 5_000;

export interface StartOptions {
  /** Folder for everything the demo writes (pki/, state/, kv-seed.json, demo.env). Default `.dev`. */
  readonly dir: string;
  /** Port of `wrangler dev` (default 8787). */
  readonly port: number;
  /** Port of the echo origin (default: a free one). */
  readonly originPort?: number;
  /** Port of wrangler's inspector (default: a free one). */
  readonly inspectorPort?: number;
  /** Regenerate the demo PKI even when it is present and current. */
  readonly regenerate?: boolean;
  /** Forward wrangler's output to ours (the default); `--check` keeps it and prints it only on failure. */
  readonly showWranglerOutput?: boolean;
  readonly print?: (text: string) => void;
  /** Aborting stops whatever has started and makes startDemo reject (Ctrl-C during start-up). */
  readonly signal?: AbortSignal;
}

/** One request of the demo: what `curl` sends and what certgate answers. */
export interface DemoRequest {
  readonly title: string;
  /** Header files (in pki/headers) passed as `curl -H @file`. */
  readonly headerFiles: readonly string[];
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly body?: string;
  readonly expect: { readonly status: number; readonly code?: string };
  /** Calls this client already made to a limited route earlier in the list (`policy explain --counter-used`, a stub of the counter). */
  readonly priorCalls?: number;
}

/** The requests printed and checked, in order. A 200 is answered by the echo origin. */
export const DEMO_REQUESTS: readonly DemoRequest[] = [
  { title: "allowed: valid client, RFC 9440 Client-Cert from the terminator", headerFiles: ["valid.txt", SECRET_HEADER_FILE], method: "GET", path: "/hello?demo=1", expect: { status: 200 } },
  { title: "allowed: same client as nginx forwards it (URL-encoded PEM chain in X-Client-Cert)", headerFiles: ["valid-url-pem.txt", SECRET_HEADER_FILE], method: "POST", path: "/orders", body: '{"id":1}', expect: { status: 200 } },
  { title: "allowed: valid but unregistered client on an operation open to any trusted client", headerFiles: ["unregistered.txt", SECRET_HEADER_FILE], method: "GET", path: "/hello", expect: { status: 200 } },
  { title: "denied by policy: POST /orders accepts registered clients only (scripts/dev/policies/apis/demo/create-order.xml)", headerFiles: ["unregistered.txt", SECRET_HEADER_FILE], method: "POST", path: "/orders", body: '{"id":2}', expect: { status: 403, code: "certificate_not_registered" } },
  { title: "allowed: GET /public needs no certificate (scripts/dev/policies/apis/demo/public.xml)", headerFiles: [SECRET_HEADER_FILE], method: "GET", path: "/public", expect: { status: 200 } },
  { title: "per-client limit: GET /limited allows 2 calls a minute per client certificate (scripts/dev/policies/apis/demo/limited.xml)", headerFiles: ["valid.txt", SECRET_HEADER_FILE], method: "GET", path: "/limited", expect: { status: 200 } },
  { title: "per-client limit: the second call, still under the limit", headerFiles: ["valid.txt", SECRET_HEADER_FILE], method: "GET", path: "/limited", expect: { status: 200 }, priorCalls: 1 },
  { title: "denied by the per-client limit: the third call within the minute gets 429 with Retry-After", headerFiles: ["valid.txt", SECRET_HEADER_FILE], method: "GET", path: "/limited", expect: { status: 429, code: "rate_limit_exceeded" }, priorCalls: 2 },
  { title: "another client has its own counter", headerFiles: ["unregistered.txt", SECRET_HEADER_FILE], method: "GET", path: "/limited", expect: { status: 200 } },
  { title: "denied: no certificate", headerFiles: [SECRET_HEADER_FILE], method: "GET", path: "/hello", expect: { status: 403, code: "certificate_missing" } },
  { title: "denied: expired client", headerFiles: ["expired.txt", SECRET_HEADER_FILE], method: "GET", path: "/hello", expect: { status: 403, code: "certificate_expired" } },
  { title: "denied: client not yet valid", headerFiles: ["not-yet-valid.txt", SECRET_HEADER_FILE], method: "GET", path: "/hello", expect: { status: 403, code: "certificate_not_yet_valid" } },
  { title: "denied: untrusted issuer (TST CA under a root not in the store)", headerFiles: ["untrusted.txt", SECRET_HEADER_FILE], method: "GET", path: "/hello", expect: { status: 403, code: "certificate_not_trusted" } },
  { title: "denied: spoofed Client-Cert without the terminator secret (header ignored)", headerFiles: ["valid.txt"], method: "GET", path: "/hello", expect: { status: 403, code: "certificate_missing" } },
];

export interface RunningDemo {
  /** The gateway, e.g. http://127.0.0.1:8787. */
  readonly url: string;
  readonly origin: RunningOrigin;
  readonly pkiDir: string;
  /** wrangler's --persist-to (the local KV). */
  readonly stateDir: string;
  /** The command that seeded the local KV (re-run it to restore the demo store). */
  readonly seedCommand: string;
  /** wrangler's DevTools inspector port. */
  readonly inspectorPort: number;
  /** Milliseconds per start-up step. */
  readonly timings: Readonly<Record<"pki" | "seed" | "wrangler", number>>;
  /** The last lines wrangler printed. */
  wranglerOutput(): string;
  /** Resolves when wrangler exits on its own (a crash), with its exit code. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** Fails when `port` on 127.0.0.1 is taken (wrangler would otherwise pick another one silently). */
function assertPortFree(port: number): Promise<void> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once("error", () => fail(new Error(`port ${port} on 127.0.0.1 is in use; pass --port N`)));
    srv.listen(port, "127.0.0.1", () => srv.close(() => done()));
  });
}

/** The demo PKI is usable when its valid client is valid for another day and the not-yet-valid one is not yet. */
function pkiIsCurrent(pkiDir: string): boolean {
  if (!existsSync(join(pkiDir, "manifest.json"))) return false;
  try {
    const m = readDemoManifest(pkiDir);
    const now = Date.now();
    return Date.parse(m.clients.valid.notAfter) > now + 86_400_000 && Date.parse(m.clients["not-yet-valid"].notBefore) > now &&
      existsSync(join(pkiDir, m.urlPemHeader));
  } catch {
    return false;
  }
}

/** Stops a process group led by `child` (started detached): SIGTERM, then SIGKILL after the grace period. */
async function stopProcessGroup(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // the group is gone
    }
  };
  if (child.exitCode === null && child.signalCode === null) signalGroup("SIGTERM");
  const timer = new Promise((r) => setTimeout(r, WRANGLER_STOP_GRACE_MS).unref());
  await Promise.race([exited, timer]);
  // Whatever is left of the group (workerd, esbuild) after wrangler's own shutdown.
  signalGroup("SIGKILL");
  await exited;
}

/** Starts the PKI, the local KV seed, the origin and wrangler dev; resolves once wrangler is ready. */
export async function startDemo(options: StartOptions): Promise<RunningDemo> {
  const print = options.print ?? ((t: string) => process.stdout.write(t));
  const aborted = () => {
    if (options.signal?.aborted) throw new Error("interrupted");
  };
  const dir = resolve(options.dir);
  const pkiDir = join(dir, "pki");
  mkdirSync(dir, { recursive: true });
  await assertPortFree(options.port);

  let t = performance.now();
  if (options.regenerate || !pkiIsCurrent(pkiDir)) {
    // force only over our own (outdated) PKI; a foreign non-empty folder makes generateDemoPki refuse.
    await generateDemoPki(pkiDir, { force: existsSync(join(pkiDir, "manifest.json")) });
    print(`demo PKI generated in ${display(pkiDir)}\n`);
  }
  writeFileSync(join(pkiDir, "headers", SECRET_HEADER_FILE), `${SECRET_HEADER}: ${DEMO_TERMINATOR_SECRET}\n`);
  const pkiMs = performance.now() - t;

  aborted();
  t = performance.now();
  const persistTo = join(dir, "state");
  // Fresh counters each start (the rate-limit Durable Objects' local storage), so the printed /limited calls answer
  // 200, 200, 429 on every run, not 429 from a run a minute ago.
  rmSync(join(persistTo, "v3", "do"), { recursive: true, force: true });
  const seed = await seedLocalKv({ pkiDir, persistTo, file: join(dir, "kv-seed.json") });
  const seedMs = performance.now() - t;
  print(`local KV seeded (version ${seed.version}): ${seed.command}\n`);

  aborted();
  await assertPortFree(options.port); // again: the seed took seconds
  const origin = await startDemoOrigin(options.originPort ?? 0);

  t = performance.now();
  const inspectorPort = options.inspectorPort ?? (await freePort());
  // A comment-only env file: wrangler then reads neither .dev.vars nor .env (the demo stays the demo).
  const envFile = join(dir, "demo.env");
  writeFileSync(envFile, "# npm start passes the demo's vars with --var; this file keeps .dev.vars and .env out of the demo.\n");
  const vars: Record<string, string> = { ...DEMO_VARS, ORIGIN_URL: origin.url };
  const args = [
    wranglerBin(), "dev", "--local", "--ip", "127.0.0.1", "--port", String(options.port),
    "--inspector-port", String(inspectorPort),
    "--persist-to", persistTo, "--env-file", envFile, "--show-interactive-dev-session=false",
    ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
  ];
  // Own process group, so stopping it reaches workerd too; stdin ignored (no hotkeys, no SIGTTIN).
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { ...wranglerEnv(), CLOUDFLARE_CF_FETCH_ENABLED: "false", [POLICIES_VARIABLE]: DEMO_POLICIES },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  let output = "";
  const show = options.showWranglerOutput ?? true;
  let ready!: () => void;
  const readyOrExit = new Promise<void>((r) => (ready = r));
  const onData = (stream: NodeJS.WriteStream) => (d: Buffer) => {
    const text = d.toString();
    output = (output + text).slice(-20_000);
    if (show) stream.write(text);
    if (/Ready on http/.test(output)) ready();
  };
  child.stdout!.on("data", onData(process.stdout));
  child.stderr!.on("data", onData(process.stderr));

  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= Promise.all([stopProcessGroup(child, exited), origin.close()]).then(() => undefined));
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), WRANGLER_READY_TIMEOUT_MS).unref());
  const interrupted = new Promise<"interrupted">((r) => {
    if (options.signal?.aborted) r("interrupted");
    options.signal?.addEventListener("abort", () => r("interrupted"), { once: true });
  });
  const outcome = await Promise.race([readyOrExit.then(() => "ready" as const), exited.then(() => "exited" as const), timeout, interrupted]);
  if (outcome !== "ready") {
    await stop();
    if (outcome === "interrupted") throw new Error("interrupted");
    const why = outcome === "exited" ? "wrangler dev exited before it was ready" : `wrangler dev was not ready within ${WRANGLER_READY_TIMEOUT_MS / 1000} s`;
    throw new Error(`${why}; its output:\n${output}`);
  }
  return {
    url: `http://127.0.0.1:${options.port}`,
    origin,
    pkiDir,
    stateDir: persistTo,
    seedCommand: seed.command,
    inspectorPort,
    timings: { pki: Math.round(pkiMs), seed: Math.round(seedMs), wrangler: Math.round(performance.now() - t) },
    wranglerOutput: () => output,
    exited,
    stop,
  };
}

/** A path as short as it can be shown: relative to the working directory when inside it. */
function display(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The `curl` command of a demo request. */
export function curlCommand(demo: Pick<RunningDemo, "url" | "pkiDir">, r: DemoRequest): string {
  const parts = ["curl", "-si"];
  for (const f of r.headerFiles) parts.push("-H", `@${display(join(demo.pkiDir, "headers", f))}`);
  if (r.body !== undefined) parts.push("--data-binary", shellQuote(r.body));
  parts.push(shellQuote(demo.url + r.path));
  return parts.join(" ");
}

function expectation(r: DemoRequest): string {
  return `${r.expect.status}${r.expect.code ? ` ${r.expect.code}` : " (origin echo)"}`;
}

/** The text printed once the gateway is ready. */
export function readyBanner(demo: RunningDemo): string {
  const lines = [
    "",
    `certgate is running at ${demo.url} (wrangler dev, local KV in ${display(demo.stateDir)})`,
    `  origin:  ${demo.origin.url} (echoes method, URL, headers, body size and SHA-256 as JSON)`,
    `  sources: cloudflare, rfc9440, url-pem; terminator secret header ${SECRET_HEADER}`,
    `           = "${DEMO_TERMINATOR_SECRET}" — a DEMO secret, never use it anywhere else`,
    `  PKI:     ${display(demo.pkiDir)} (certificates, PKCS#8 keys, chains; manifest.json lists them)`,
    `  policies: ${display(DEMO_POLICIES)} (the demo's; a deployment compiles policies/, neutral as shipped)`,
    `  KV:      ${demo.seedCommand}`,
    `           re-seeds the demo store; any change to \`active\` is picked up within 1 s (TRUST_REFRESH_SECONDS=1)`,
    `  debug:   DevTools inspector on 127.0.0.1:${demo.inspectorPort}`,
    "",
    "Try it (from this folder):",
  ];
  for (const r of DEMO_REQUESTS) {
    lines.push("", `# ${expectation(r).padEnd(34)} ${r.title}`, curlCommand(demo, r));
  }
  lines.push("", "Ctrl-C stops the gateway and the origin.", "");
  return lines.join("\n") + "\n";
}

/** Reads a curl `-H @file` header file: one `Name: value` per line. */
function readHeaderFile(path: string): [string, string][] {
  return readFileSync(path, "utf8").split(/\r?\n/).filter((l) => l.trim() !== "").map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i).trim(), l.slice(i + 1).trim()];
  });
}

export interface CheckResult {
  readonly request: DemoRequest;
  readonly status: number;
  readonly code: string | null;
  /** Empty when the answer is what the banner promised. */
  readonly problems: readonly string[];
}

/** Sends every demo request (headers from the same files curl reads) and compares with the promise. */
export async function runChecks(demo: RunningDemo): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const r of DEMO_REQUESTS) {
    const headers = new Headers();
    for (const f of r.headerFiles) for (const [k, v] of readHeaderFile(join(demo.pkiDir, "headers", f))) headers.append(k, v);
    const res = await fetch(demo.url + r.path, { method: r.method, headers, body: r.body, signal: AbortSignal.timeout(15_000) });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // reported below
    }
    const code = typeof json.code === "string" ? json.code : null;
    const problems: string[] = [];
    if (res.status !== r.expect.status) problems.push(`status ${res.status}, expected ${r.expect.status}`);
    if (r.expect.code !== undefined && code !== r.expect.code) problems.push(`code ${code}, expected ${r.expect.code}: ${text.replace(/\s+/g, " ").slice(0, 200)}`);
    if (r.expect.status === 200 && res.status === 200) {
      // The origin's echo: the request arrived whole, with certgate's identity and without the secret.
      const echo = json as unknown as OriginEcho;
      if (res.headers.get("x-demo-origin") !== "echo") problems.push("the answer did not come from the demo origin");
      else {
        if (echo.method !== r.method || echo.url !== r.path) problems.push(`origin saw ${echo.method} ${echo.url}`);
        if (echo.body.bytes !== new TextEncoder().encode(r.body ?? "").length) problems.push(`origin saw ${echo.body.bytes} body bytes`);
        // A request with a certificate reaches the origin with its identity; one without (GET /public), with none.
        const withCertificate = r.headerFiles.some((f) => f !== SECRET_HEADER_FILE);
        if (withCertificate && !echo.headers["x-client-cert-subject"]) problems.push("origin saw no X-Client-Cert-Subject");
        if (!withCertificate && echo.headers["x-client-cert-subject"]) problems.push("origin saw an X-Client-Cert-Subject without a certificate");
        if (echo.headers[SECRET_HEADER.toLowerCase()] !== undefined) problems.push("the terminator secret reached the origin");
      }
    }
    results.push({ request: r, status: res.status, code, problems });
  }
  return results;
}

/** One line per check result. */
export function formatResults(results: readonly CheckResult[]): string {
  return results.map((c) => {
    const got = `${c.status} ${c.code ?? (c.status === 200 ? "(origin echo)" : "")}`.trim();
    return `${c.problems.length === 0 ? "ok  " : "FAIL"} ${got.padEnd(34)} ${c.request.title}${c.problems.map((p) => `\n       ${p}`).join("")}`;
  }).join("\n") + "\n";
}

const USAGE = `Usage: npm start [-- options]

Runs certgate locally: demo PKI (.dev/pki), local KV seed, an echo origin and wrangler dev, then prints curl
commands to try. Ctrl-C stops everything.

  --check            run the printed requests, assert their statuses and codes, stop (exit 1 on a difference)
  --port N           port of the gateway (default 8787)
  --origin-port N    port of the echo origin (default: a free one)
  --dir DIR          folder for the demo's files (default .dev)
  --regenerate       generate a new demo PKI even if the current one is usable
  --help             this text
`;

interface Args {
  check: boolean;
  help: boolean;
  options: StartOptions;
}

function parseArgs(argv: readonly string[]): Args | string[] {
  const args = parseOptions(argv, { check: FLAG, regenerate: FLAG, dir: VALUE, port: VALUE, "origin-port": VALUE });
  const errors = [...args.errors];
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)}`);
  const port = (name: string, fallback: number | undefined): number | undefined => {
    const text = valueOf(args, name);
    if (text === undefined) return fallback;
    const n = integerOf(text, name, 1, 65535);
    if (typeof n === "string") errors.push(n);
    return typeof n === "number" ? n : fallback;
  };
  const mainPort = port("port", 8787)!;
  const originPort = port("origin-port", undefined);
  if (errors.length > 0 && !args.help) return errors;
  const check = args.flags.has("check");
  const options: StartOptions = {
    dir: valueOf(args, "dir") ?? ".dev", port: mainPort, regenerate: args.flags.has("regenerate"), showWranglerOutput: !check,
    ...(originPort === undefined ? {} : { originPort }),
  };
  return { check, help: args.help, options };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (Array.isArray(args)) return usageError(processOutput, "start", args);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const started = performance.now();
  // Signals are ours from the first step: stopping must reach whatever has started (wrangler runs in its
  // own process group, so the terminal's Ctrl-C reaches only us).
  const interrupt = new AbortController();
  let stopRequested: (signal: string) => void = (signal) => {
    process.stdout.write(`\n${signal}: stopping…\n`);
    interrupt.abort();
  };
  process.on("SIGINT", () => stopRequested("SIGINT"));
  process.on("SIGTERM", () => stopRequested("SIGTERM"));
  let demo: RunningDemo;
  try {
    demo = await startDemo({ ...args.options, signal: interrupt.signal });
  } catch (e) {
    if (interrupt.signal.aborted) return 0;
    process.stderr.write(`start: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  const startMs = performance.now() - started;
  const timing = `pki ${demo.timings.pki} ms, kv seed ${demo.timings.seed} ms, wrangler dev ready ${demo.timings.wrangler} ms; total ${Math.round(startMs)} ms`;

  if (args.check) {
    stopRequested = (signal) => {
      process.stdout.write(`\n${signal}: check interrupted, stopping…\n`);
      void demo.stop().then(() => process.exit(1));
    };
    process.stdout.write(readyBanner(demo));
    process.stdout.write(`start-up: ${timing}\n\nchecking the requests above against ${demo.url}:\n`);
    let results: CheckResult[] = [];
    let failure: string | null = null;
    const t = performance.now();
    try {
      results = await runChecks(demo);
    } catch (e) {
      failure = e instanceof Error ? e.message : String(e);
    }
    const checkMs = Math.round(performance.now() - t);
    process.stdout.write(formatResults(results));
    const bad = results.filter((r) => r.problems.length > 0).length;
    if (failure !== null || bad > 0) process.stdout.write(`\nwrangler output:\n${demo.wranglerOutput()}\n`);
    await demo.stop();
    if (failure !== null) {
      process.stdout.write(`check FAILED: ${failure}\n`);
      return 1;
    }
    process.stdout.write(bad === 0
      ? `check passed: ${results.length}/${results.length} requests answered as promised (${checkMs} ms)\n`
      : `check FAILED: ${bad} of ${results.length} requests did not answer as promised\n`);
    return bad === 0 ? 0 : 1;
  }

  process.stdout.write(readyBanner(demo));
  process.stdout.write(`(start-up: ${timing})\n`);
  return new Promise<number>((done) => {
    let stopping = false;
    stopRequested = (signal) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping wrangler dev and the origin…\n`);
      void demo.stop().then(() => done(0));
    };
    if (interrupt.signal.aborted) stopRequested("signal");
    void demo.exited.then(async (code) => {
      if (stopping) return;
      stopping = true;
      process.stderr.write(`wrangler dev exited on its own (code ${code}); stopping the origin\n`);
      await demo.stop();
      done(1);
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  process.exitCode = await main(process.argv.slice(2));
  // Nothing of ours keeps running; leave no handle behind (tsx's own IPC channel included).
  process.exit();
}
