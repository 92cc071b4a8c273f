/**
 * A real HAProxy in front of certgate, end to end: the demo PKI, local KV, the echo origin, certgate under
 * `wrangler dev` (base64-der first, then every other header source, so that any header HAProxy fails to
 * remove would be believed), and HAProxy running the configuration block of docs/deploy/haproxy.md — read
 * from that file, with only the bind address and certificate, the client CA file and the server line
 * substituted; the secret reaches it through its environment, as the guide says. Requests go through HAProxy
 * with Node's HTTPS client, presenting the demo PKI's certificates.
 *
 * HAProxy must be installed (.ci/run installs it); without it the suite fails and says so. Everything started
 * here is stopped in afterAll, whatever failed.
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

const GUIDE = "docs/deploy/haproxy.md";
/** Header sources certgate runs with: the guide's base64-der first, then every other header source. */
const SOURCES = ["base64-der", "rfc9440", "xfcc", "url-pem", "aws-alb", "traefik"];
const HAPROXY_READY_TIMEOUT_MS = 15_000;

const setup = new SuiteSetup();
const cleanup = new Cleanup();
let dir = "";
let stack: GatewayStack;
let haproxy: RunningProcess;
let haproxyPort = 0;
let haproxyConfig = "";
const timings: Record<string, number> = {};

async function startAll(): Promise<void> {
  const started = performance.now();
  const haproxyBin = findProgram({
    name: "haproxy",
    envVar: "CERTGATE_E2E_HAPROXY",
    install: "apt-get install haproxy",
    feature: { args: ["-vv"], pattern: /USE_OPENSSL=1/, what: "OpenSSL support" },
  });
  dir = mkdtempSync(join(tmpdir(), "certgate-e2e-haproxy-"));
  stack = await startGatewayStack({ dir, sources: SOURCES, cleanup });
  Object.assign(timings, stack.timings);

  const t = performance.now();
  haproxyPort = await freePort();
  const gatewayPort = new URL(stack.gatewayUrl).port;
  haproxyConfig = readDeployConfig(GUIDE, "haproxy", [
    { from: "bind :443 ssl crt /etc/haproxy/tls/api.example.com.pem ", to: `bind 127.0.0.1:${haproxyPort} ssl crt ${stack.tls.bundleFile} `, times: 1 },
    { from: "/etc/haproxy/certgate-client-cas.pem", to: stack.tls.clientCaFile, times: 1 },
    {
      from: "server certgate certgate.example.com:443 ssl verify required ca-file @system-ca sni str(certgate.example.com)",
      to: `server certgate 127.0.0.1:${gatewayPort}`,
      times: 1,
    },
  ]);
  const confFile = join(dir, "haproxy.cfg");
  // Test scaffolding: a global section that logs to stderr (shown when something fails).
  writeFileSync(confFile, `# test/e2e/haproxy.node.test.ts: a global section, then the tested block of ${GUIDE}\nglobal\n    log stderr format raw local0 notice\n\n${haproxyConfig}`);
  haproxy = await startProcess({
    name: "haproxy",
    command: haproxyBin,
    args: ["-db", "-f", confFile],
    env: { ...process.env, CERTGATE_TERMINATOR_SECRET: stack.secret },
    ready: () => portAccepts(haproxyPort),
    timeoutMs: HAPROXY_READY_TIMEOUT_MS,
  });
  cleanup.add("haproxy", () => haproxy.stop());
  timings.haproxy = Math.round(performance.now() - t);
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
    process.stdout.write(`haproxy e2e timings (ms): ${JSON.stringify(timings)}\n`);
  }
}, 30_000);

function viaHaproxy(r: TerminatorRequest) {
  return sendThroughTerminator(haproxyPort, stack.tls.caPem, r);
}

function serviceLogs(): string {
  return `\n--- haproxy ---\n${haproxy.output().slice(-3000)}\n--- wrangler dev ---\n${stack.wranglerOutput().slice(-3000)}`;
}

describe("HAProxy in front of certgate (docs/deploy/haproxy.md)", () => {
  it("starts certgate under wrangler dev and HAProxy with the guide's configuration", () => {
    setup.assertStarted();
  });

  it("the guide's block removes every header certgate would believe from the terminator", () => {
    setup.require();
    const handled = headerNamesIn(haproxyConfig, /^\s*http-request\s+(?:del-header|set-header)\s+(\S+)/);
    expect(unhandledTrustedHeaders(handled), `${GUIDE} must http-request del-header (or set-header) these`).toEqual([]);
  });

  it("forwards a valid client with its verified identity", async () => {
    setup.require();
    const valid = stack.client("valid");
    const a = await viaHaproxy({ client: valid, method: "POST", path: "/orders?demo=1", body: '{"id":1}' });
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
    const a = await viaHaproxy({ client: stack.client(client), path: `/hello/${client}` });
    expectProblem(a, { status: 403, code, path: `/hello/${client}` });
  });

  it("denies a request without a client certificate with 403 certificate_missing", async () => {
    setup.require();
    const a = await viaHaproxy({ path: "/hello" });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/hello" });
  });

  it("a client without a certificate gains nothing from forged certificate, identity and forwarding headers", async () => {
    setup.require();
    const a = await viaHaproxy({ path: "/forged", headers: spoofedCertificateHeaders(stack.client("valid")) });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/forged" });
  });

  it("every client-certificate header family, in both spellings, and X-Real-IP / True-Client-IP never reach the origin", async () => {
    setup.require();
    const attacker = stack.client("unregistered");
    for (const headers of spoofedHeaderFamilies("X-ARR-ClientCert")) {
      const a = await viaHaproxy({ client: attacker, path: "/families", headers });
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
    const a = await viaHaproxy({ client: attacker, path: "/forged", headers: spoofedCertificateHeaders(victim) });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expectVerifiedIdentity(echo, attacker, stack);
    const seen = JSON.stringify(echo.headers);
    for (const needle of forgedNeedles(victim)) expect(seen, `the origin saw the forged value ${needle}`).not.toContain(needle);
    expect(echo.headers["x-forwarded-for"]).not.toContain(FORGED.address);
    expect(echo.headers.forwarded).toBeUndefined();
  });
});
