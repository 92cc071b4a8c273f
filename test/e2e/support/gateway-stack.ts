/**
 * Test support for the end-to-end suites: certgate as `npm start` runs it, in a temporary folder, ready to
 * put a real TLS terminator in front of. Node only.
 *
 * Contract: `startGatewayStack` writes, in order, the demo PKI (scripts/pki/demo.ts), a TLS server
 * certificate for 127.0.0.1/localhost signed by a throwaway CA (test material, never trusted by certgate),
 * the demo trust store seeded into a local KV (scripts/kv/seed-local.ts), the echo origin
 * (scripts/dev/demo-origin.ts), and `wrangler dev --local` on a free port with the given sources and a random
 * terminator secret — the same command line as scripts/dev/start.ts, which takes no vars of its own. Every
 * step it started is registered with the caller's Cleanup as soon as it runs, so a failure half-way still
 * stops everything. Times are measured per step.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startDemoOrigin, type RunningOrigin } from "../../../scripts/dev/demo-origin";
import { PROJECT_ROOT, seedLocalKv, wranglerBin, wranglerEnv } from "../../../scripts/kv/seed-local";
import { freePort } from "../../../scripts/lib/workerd";
import { exportPrivateKeyPem, generateKeyPair, issueCertificate } from "../../../scripts/pki/builder";
import { generateDemoPki, type DemoClientName, type DemoManifest } from "../../../scripts/pki/demo";
import { startProcess, type Cleanup } from "./processes";

/** wrangler dev bundles the Worker and boots workerd: seconds on a small machine, more under a parallel suite. */
const WRANGLER_READY_TIMEOUT_MS = 60_000;
const HOUR = 3_600_000;

/** A client of the demo PKI, loaded for a TLS client. */
export interface DemoClient {
  readonly name: DemoClientName;
  readonly certPem: string;
  /** The certificate followed by its issuing CA: what a client configured with its chain file presents. */
  readonly chainPem: string;
  readonly keyPem: string;
  readonly subject: string;
}

/** The TLS server side of the terminator (test material). */
export interface TerminatorTls {
  /** The throwaway CA that signed the server certificate: what the test client trusts. */
  readonly caPem: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** Certificate and key in one file (HAProxy's `crt`). */
  readonly bundleFile: string;
  /** The CAs certgate's demo store trusts (root + DEV issuing CA), for a terminator's CA list. */
  readonly clientCaFile: string;
}

export interface GatewayStack {
  readonly dir: string;
  readonly pkiDir: string;
  readonly manifest: DemoManifest;
  readonly tls: TerminatorTls;
  /** The terminator secret certgate was started with (random per run). */
  readonly secret: string;
  /** certgate under wrangler dev, e.g. http://127.0.0.1:43121. */
  readonly gatewayUrl: string;
  readonly origin: RunningOrigin;
  /** Milliseconds per start-up step. */
  readonly timings: Record<"pki" | "seed" | "wrangler", number>;
  client(name: DemoClientName): DemoClient;
  wranglerOutput(): string;
}

export interface GatewayStackOptions {
  /** Empty folder for everything the stack writes (a temp dir owned by the caller). */
  readonly dir: string;
  /** CERT_SOURCES, in order. */
  readonly sources: readonly string[];
  readonly cleanup: Cleanup;
  /** Vars over the stack's own (null: leave that var unset, e.g. TERMINATOR_SECRET). */
  readonly vars?: Readonly<Record<string, string | null>>;
  /**
   * The vars make an invalid configuration on purpose: the Worker's start-up `configuration_invalid` error line
   * is expected, so only a failed build counts as a failed start.
   */
  readonly invalidConfiguration?: boolean;
}

/** Writes a CA and a server certificate for 127.0.0.1 and localhost into `dir`. */
async function writeTerminatorTls(dir: string, pkiDir: string, manifest: DemoManifest): Promise<TerminatorTls> {
  const now = Date.now();
  const validity = { notBefore: new Date(now - HOUR), notAfter: new Date(now + 24 * HOUR) };
  const ca = await issueCertificate({
    subject: "CN=certgate e2e terminator TLS CA (test only)",
    key: await generateKeyPair("p-256"),
    ...validity,
    extensions: { basicConstraints: { ca: true, pathLen: 0 }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
  });
  const server = await issueCertificate({
    subject: "CN=localhost",
    key: await generateKeyPair("p-256"),
    issuer: ca,
    ...validity,
    extensions: {
      basicConstraints: { ca: false },
      keyUsage: { usages: ["digitalSignature"] },
      extKeyUsage: { oids: ["serverAuth"] },
      subjectAltName: { names: [{ dns: "localhost" }, { ip: "127.0.0.1" }] },
    },
  });
  const keyPem = await exportPrivateKeyPem(server.key);
  const tls: TerminatorTls = {
    caPem: ca.pem,
    certFile: join(dir, "server.pem"),
    keyFile: join(dir, "server.key.pem"),
    bundleFile: join(dir, "server.bundle.pem"),
    clientCaFile: join(dir, "client-cas.pem"),
  };
  writeFileSync(tls.certFile, server.pem);
  writeFileSync(tls.keyFile, keyPem, { mode: 0o600 });
  writeFileSync(tls.bundleFile, server.pem + keyPem, { mode: 0o600 });
  const pem = (file: string) => readFileSync(join(pkiDir, file), "utf8");
  writeFileSync(tls.clientCaFile, pem(manifest.cas.root.cert) + pem(manifest.cas.dev.cert));
  return tls;
}

/** Starts the demo PKI, local KV, echo origin and wrangler dev; everything started is registered with `cleanup`. */
export async function startGatewayStack(options: GatewayStackOptions): Promise<GatewayStack> {
  const { dir, cleanup } = options;
  // Traversable by an unprivileged nginx worker (nginx started as root drops to `nobody`); the keys inside
  // stay 0600 and are read by the master only.
  chmodSync(dir, 0o711);
  const pkiDir = join(dir, "pki");
  const tlsDir = join(dir, "tls");
  mkdirSync(tlsDir);

  let t = performance.now();
  const manifest = await generateDemoPki(pkiDir);
  const tls = await writeTerminatorTls(tlsDir, pkiDir, manifest);
  const pkiMs = performance.now() - t;

  t = performance.now();
  const stateDir = join(dir, "state");
  await seedLocalKv({ pkiDir, persistTo: stateDir, file: join(dir, "kv-seed.json") });
  const seedMs = performance.now() - t;

  const origin = await startDemoOrigin(0);
  cleanup.add("demo origin", () => origin.close());

  t = performance.now();
  const secret = `e2e-${randomBytes(24).toString("base64url")}`;
  const port = await freePort();
  const inspectorPort = await freePort();
  // A comment-only env file keeps a developer's .dev.vars / .env out of the run (as start.ts does).
  const envFile = join(dir, "e2e.env");
  writeFileSync(envFile, "# test/e2e passes its vars with --var\n");
  const vars: Record<string, string> = {
    CERT_SOURCES: options.sources.join(","),
    ORIGIN_URL: origin.url,
    TERMINATOR_SECRET: secret,
    REQUIRE_CERTIFICATE: "true",
    REVOCATION: "soft",
  };
  for (const [k, v] of Object.entries(options.vars ?? {})) {
    if (v === null) delete vars[k];
    else vars[k] = v;
  }
  const wrangler = await startProcess({
    name: "wrangler dev",
    command: process.execPath,
    args: [
      wranglerBin(), "dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort),
      "--persist-to", stateDir, "--env-file", envFile, "--show-interactive-dev-session=false",
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    cwd: PROJECT_ROOT,
    env: { ...wranglerEnv(), CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    ready: (output) => /Ready on http/.test(output),
    // ANSI colours may sit between "[" and "ERROR" (wrangler colours its errors whatever FORCE_COLOR says).
    failedWhen: options.invalidConfiguration ? /Build failed/ : /Build failed|\[(?:\x1b\[[0-9;]*m)*ERROR/,
    timeoutMs: WRANGLER_READY_TIMEOUT_MS,
  });
  cleanup.add("wrangler dev", () => wrangler.stop());
  const wranglerMs = performance.now() - t;

  const clients = new Map<DemoClientName, DemoClient>();
  return {
    dir,
    pkiDir,
    manifest,
    tls,
    secret,
    gatewayUrl: `http://127.0.0.1:${port}`,
    origin,
    timings: { pki: Math.round(pkiMs), seed: Math.round(seedMs), wrangler: Math.round(wranglerMs) },
    client(name) {
      let c = clients.get(name);
      if (!c) {
        const info = manifest.clients[name];
        const read = (file: string) => readFileSync(join(pkiDir, file), "utf8");
        c = { name, certPem: read(info.cert), chainPem: read(info.chain), keyPem: read(info.key), subject: info.subject };
        clients.set(name, c);
      }
      return c;
    },
    wranglerOutput: () => wrangler.output(),
  };
}
