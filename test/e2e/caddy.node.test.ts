/**
 * A real Caddy in front of certgate, end to end: the demo PKI, local KV, the echo origin, certgate under
 * `wrangler dev` (base64-der first, then every other header source, so that any header Caddy fails to
 * remove would be believed), and `caddy run` with the configuration block of docs/deploy/caddy.md — read
 * from that file, with only the site address, the two TLS file paths and the upstream substituted; the
 * secret reaches it through its environment, as the guide says. Requests go through Caddy with Node's HTTPS
 * client, presenting the demo PKI's certificates.
 *
 * Caddy must be installed (.ci/run installs it); without it the suite fails and says so. Caddy runs with its
 * admin endpoint off and its data and config folders in the suite's temp folder, so it holds no port but its
 * own and leaves nothing behind. Everything started here is stopped in afterAll, whatever failed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/workerd";
import { startGatewayStack, type GatewayStack } from "./support/gateway-stack";
import { Cleanup, findProgram, portAccepts, startProcess, SuiteSetup, type RunningProcess } from "./support/processes";
import {
  describeAnswer,
  expectProblem,
  expectVerifiedIdentity,
  forgedNeedles,
  FORGED,
  headerNamesIn,
  originEcho,
  readDeployConfig,
  sendThroughTerminator,
  spoofedCertificateHeaders,
  spoofedHeaderFamilies,
  forgedFamilyValues,
  unhandledTrustedHeaders,
  type TerminatorRequest,
} from "./support/terminator-checks";

const GUIDE = "docs/deploy/caddy.md";
/** Header sources certgate runs with: the guide's base64-der first, then every other header source. */
const SOURCES = ["base64-der", "rfc9440", "xfcc", "url-pem", "aws-alb", "traefik"];
const CADDY_READY_TIMEOUT_MS = 15_000;

const setup = new SuiteSetup();
const cleanup = new Cleanup();
let dir = "";
let stack: GatewayStack;
let caddy: RunningProcess;
let caddyPort = 0;
let caddyConfig = "";
const timings: Record<string, number> = {};

async function startAll(): Promise<void> {
  const started = performance.now();
  const caddyBin = findProgram({
    name: "caddy",
    envVar: "CERTGATE_E2E_CADDY",
    install: "apt-get install caddy",
    // {http.request.tls.client.certificate_der_base64} exists since Caddy 2.4 (bookworm ships 2.6.2).
    feature: { args: ["version"], pattern: /^v?2\.(?:[4-9]|\d\d)\./m, what: "Caddy 2.4 or later" },
  });
  dir = mkdtempSync(join(tmpdir(), "certgate-e2e-caddy-"));
  stack = await startGatewayStack({ dir, sources: SOURCES, cleanup });
  Object.assign(timings, stack.timings);

  const t = performance.now();
  caddyPort = await freePort();
  const gatewayPort = new URL(stack.gatewayUrl).port;
  caddyConfig = readDeployConfig(GUIDE, "caddy", [
    { from: "api.example.com {", to: `https://localhost:${caddyPort} {`, times: 1 },
    { from: "/etc/caddy/tls/api.example.com.pem /etc/caddy/tls/api.example.com.key", to: `${stack.tls.certFile} ${stack.tls.keyFile}`, times: 1 },
    { from: "reverse_proxy https://certgate.example.com {", to: `reverse_proxy http://127.0.0.1:${gatewayPort} {`, times: 1 },
  ]);
  const confFile = join(dir, "Caddyfile");
  // Test scaffolding: global options that keep Caddy to its one loopback port (no admin endpoint, no
  // HTTP→HTTPS redirect listener on :80) and its state in the temp folder.
  writeFileSync(confFile, `# test/e2e/caddy.node.test.ts: global options, then the tested block of ${GUIDE}
{
\tdefault_bind 127.0.0.1
\tadmin off
\tauto_https disable_redirects
\tskip_install_trust
\tstorage file_system ${join(dir, "caddy-data")}
}

${caddyConfig}`);
  const home = join(dir, "caddy-home");
  caddy = await startProcess({
    name: "caddy",
    command: caddyBin,
    args: ["run", "--config", confFile, "--adapter", "caddyfile"],
    env: {
      ...process.env,
      HOME: home,
      XDG_DATA_HOME: join(home, "data"),
      XDG_CONFIG_HOME: join(home, "config"),
      CERTGATE_TERMINATOR_SECRET: stack.secret,
    },
    ready: () => portAccepts(caddyPort),
    timeoutMs: CADDY_READY_TIMEOUT_MS,
  });
  cleanup.add("caddy", () => caddy.stop());
  timings.caddy = Math.round(performance.now() - t);
  timings.startup = Math.round(performance.now() - started);
}

/** The whole start-up, typically 5–10 s; a step that hangs fails the suite well inside vitest's own limits. */
const STARTUP_DEADLINE_MS = 80_000;

beforeAll(() => setup.run(startAll, STARTUP_DEADLINE_MS, () => `steps done, ms: ${JSON.stringify(timings)}`), STARTUP_DEADLINE_MS + 5_000);

afterAll(async () => {
  const t = performance.now();
  try {
    await cleanup.run();
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
    timings.stop = Math.round(performance.now() - t);
    process.stdout.write(`caddy e2e timings (ms): ${JSON.stringify(timings)}\n`);
  }
}, 30_000);

/**
 * With `client_auth`, Caddy answers 421 when the Host header does not name the TLS server name (its
 * strict SNI/Host check): the client connects to 127.0.0.1 with SNI "localhost", so it says Host: localhost.
 */
function viaCaddy(r: TerminatorRequest) {
  return sendThroughTerminator(caddyPort, stack.tls.caPem, { ...r, headers: { ...r.headers, host: `localhost:${caddyPort}` } });
}

function serviceLogs(): string {
  return `\n--- caddy ---\n${caddy.output().slice(-3000)}\n--- wrangler dev ---\n${stack.wranglerOutput().slice(-3000)}`;
}

describe("Caddy in front of certgate (docs/deploy/caddy.md)", () => {
  it("starts certgate under wrangler dev and Caddy with the guide's configuration", () => {
    setup.assertStarted();
  });

  it("the guide's block removes every header certgate would believe from the terminator", () => {
    setup.require();
    const handled = headerNamesIn(caddyConfig, /^\s*header_up\s+-?([A-Za-z0-9-]+)(?:\s|$)/);
    expect(unhandledTrustedHeaders(handled), `${GUIDE} must header_up -Name (or set) these`).toEqual([]);
  });

  it("forwards a valid client with its verified identity", async () => {
    setup.require();
    const valid = stack.client("valid");
    const a = await viaCaddy({ client: valid, method: "POST", path: "/orders?demo=1", body: '{"id":1}' });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expect(echo.method).toBe("POST");
    expect(echo.url).toBe("/orders?demo=1");
    expect(echo.body.bytes).toBe(8);
    expectVerifiedIdentity(echo, valid, stack);
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-for"]?.split(",")[0]?.trim()).toBe("127.0.0.1");
  });

  it.each([
    { client: "untrusted", code: "certificate_not_trusted" },
    { client: "expired", code: "certificate_expired" },
  ] as const)("denies the $client client with 403 $code (certgate's problem+json, not a TLS alert)", async ({ client, code }) => {
    setup.require();
    const a = await viaCaddy({ client: stack.client(client), path: `/hello/${client}` });
    expectProblem(a, { status: 403, code, path: `/hello/${client}` });
  });

  it("denies a request without a client certificate with 403 certificate_missing", async () => {
    setup.require();
    const a = await viaCaddy({ path: "/hello" });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/hello" });
  });

  it("a client without a certificate gains nothing from forged certificate, identity and forwarding headers", async () => {
    setup.require();
    const a = await viaCaddy({ path: "/forged", headers: spoofedCertificateHeaders(stack.client("valid")) });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/forged" });
  });

  it("every client-certificate header family, in both spellings, and X-Real-IP / True-Client-IP never reach the origin", async () => {
    setup.require();
    const attacker = stack.client("unregistered");
    for (const headers of spoofedHeaderFamilies("X-ARR-ClientCert")) {
      const a = await viaCaddy({ client: attacker, path: "/families", headers });
      expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
      const echo = originEcho(a);
      expectVerifiedIdentity(echo, attacker, stack);
      expect(forgedFamilyValues(echo.headers), "client values the origin received").toEqual([]);
    }
  });

  it("a client with its own certificate keeps its own identity; no forged value reaches the origin", async () => {
    setup.require();
    const victim = stack.client("valid");
    const attacker = stack.client("unregistered");
    const a = await viaCaddy({ client: attacker, path: "/forged", headers: spoofedCertificateHeaders(victim) });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expectVerifiedIdentity(echo, attacker, stack);
    const seen = JSON.stringify(echo.headers);
    for (const needle of forgedNeedles(victim)) expect(seen, `the origin saw the forged value ${needle}`).not.toContain(needle);
    expect(echo.headers["x-forwarded-for"]).not.toContain(FORGED.address);
    expect(echo.headers.forwarded).toBeUndefined();
  });
});
