/**
 * A real nginx in front of certgate, end to end: the demo PKI, local KV, the echo origin, certgate under
 * `wrangler dev` (url-pem first, then every other header source, so that any header nginx fails to remove
 * would be believed), and nginx running the configuration block of docs/deploy/nginx.md — read from that
 * file, with only the listen address, TLS files, secret and upstream substituted. Requests go through nginx
 * with Node's HTTPS client, presenting the demo PKI's certificates.
 *
 * nginx must be installed (.ci/run installs it); without it the suite fails and says so. Everything started
 * here is stopped in afterAll, whatever failed.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/workerd";
import { startGatewayStack, type GatewayStack } from "./support/gateway-stack";
import { Cleanup, findProgram, portAccepts, startProcess, SuiteSetup, type RunningProcess } from "./support/processes";
import {
  certificateFacts,
  describeAnswer,
  expectProblem,
  expectVerifiedIdentity,
  forgedNeedles,
  FORGED,
  headerNamesIn,
  originEcho,
  readDeployConfig,
  sendThroughTerminator,
  sendToGateway,
  sha256Hex,
  spoofedCertificateHeaders,
  spoofedHeaderFamilies,
  forgedFamilyValues,
  unhandledTrustedHeaders,
  type TerminatorRequest,
} from "./support/terminator-checks";

const GUIDE = "docs/deploy/nginx.md";
/** Header sources certgate runs with: the guide's url-pem first, then every other header source. */
const SOURCES = ["url-pem", "rfc9440", "xfcc", "aws-alb", "base64-der", "traefik"];
const NGINX_READY_TIMEOUT_MS = 15_000;
const UPLOAD_BYTES = 10 * 1024 * 1024;

const setup = new SuiteSetup();
const cleanup = new Cleanup();
let dir = "";
let stack: GatewayStack;
let nginx: RunningProcess;
let nginxPort = 0;
let nginxConfig = "";
const timings: Record<string, number> = {};

/** The guide's server block inside the minimum an unprivileged, foreground nginx needs (paths in `dir`). */
function nginxConf(runDir: string, server: string): string {
  const temp = (name: string) => join(runDir, name);
  return `# test/e2e/nginx.node.test.ts: test scaffolding around the server block of ${GUIDE}
daemon off;
master_process on;
worker_processes 1;
pid ${temp("nginx.pid")};
error_log stderr notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path ${temp("body")};
    proxy_temp_path ${temp("proxy")};
    fastcgi_temp_path ${temp("fastcgi")};
    uwsgi_temp_path ${temp("uwsgi")};
    scgi_temp_path ${temp("scgi")};

${server.replace(/^/gm, "    ")}
}
`;
}

async function startAll(): Promise<void> {
  const started = performance.now();
  const nginxBin = findProgram({
    name: "nginx",
    envVar: "CERTGATE_E2E_NGINX",
    install: "apt-get install nginx",
    feature: { args: ["-V"], pattern: /--with-http_ssl_module/, what: "the SSL module" },
  });
  dir = mkdtempSync(join(tmpdir(), "certgate-e2e-nginx-"));
  stack = await startGatewayStack({ dir, sources: SOURCES, cleanup });
  Object.assign(timings, stack.timings);

  const t = performance.now();
  nginxPort = await freePort();
  const runDir = join(dir, "nginx");
  mkdirSync(runDir, { mode: 0o755 });
  nginxConfig = readDeployConfig(GUIDE, "nginx", [
    { from: "listen 443 ssl;", to: `listen 127.0.0.1:${nginxPort} ssl;`, times: 1 },
    { from: "/etc/nginx/tls/api.example.com.pem", to: stack.tls.certFile, times: 1 },
    { from: "/etc/nginx/tls/api.example.com.key", to: stack.tls.keyFile, times: 1 },
    { from: "REPLACE-WITH-THE-TERMINATOR-SECRET", to: stack.secret, times: 1 },
    { from: "https://certgate.example.com", to: stack.gatewayUrl, times: 2 },
  ]);
  const confFile = join(runDir, "nginx.conf");
  writeFileSync(confFile, nginxConf(runDir, nginxConfig));
  nginx = await startProcess({
    name: "nginx",
    command: nginxBin,
    args: ["-p", runDir, "-c", confFile, "-e", "stderr"],
    ready: () => portAccepts(nginxPort),
    timeoutMs: NGINX_READY_TIMEOUT_MS,
  });
  cleanup.add("nginx", () => nginx.stop());
  timings.nginx = Math.round(performance.now() - t);
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
    process.stdout.write(`nginx e2e timings (ms): ${JSON.stringify(timings)}\n`);
  }
}, 30_000);

/** Through nginx; on an unexpected answer the message carries nginx's and wrangler's output. */
function viaNginx(r: TerminatorRequest) {
  return sendThroughTerminator(nginxPort, stack.tls.caPem, r);
}

function serviceLogs(): string {
  return `\n--- nginx ---\n${nginx.output().slice(-3000)}\n--- wrangler dev ---\n${stack.wranglerOutput().slice(-3000)}`;
}

describe("nginx in front of certgate (docs/deploy/nginx.md)", () => {
  it("starts certgate under wrangler dev and nginx with the guide's configuration", () => {
    setup.assertStarted();
  });

  it("the guide's block removes every header certgate would believe from the terminator", () => {
    setup.require();
    const handled = headerNamesIn(nginxConfig, /^\s*proxy_set_header\s+(\S+)\s/);
    expect(unhandledTrustedHeaders(handled), `${GUIDE} must proxy_set_header (to "" if not set) these`).toEqual([]);
  });

  it("forwards a valid client with its verified identity", async () => {
    setup.require();
    const valid = stack.client("valid");
    const a = await viaNginx({ client: valid, path: "/hello?demo=1" });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expect(echo.method).toBe("GET");
    expect(echo.url).toBe("/hello?demo=1");
    expectVerifiedIdentity(echo, valid, stack);
    // The terminator's facts, kept by certgate from the authenticated terminator.
    expect(echo.headers["x-forwarded-proto"]).toBe("https");
    expect(echo.headers["x-forwarded-for"]?.split(",")[0]?.trim()).toBe("127.0.0.1");
  });

  it.each([
    { client: "expired", code: "certificate_expired" },
    { client: "not-yet-valid", code: "certificate_not_yet_valid" },
    { client: "untrusted", code: "certificate_not_trusted" },
  ] as const)("denies the $client client with 403 $code (certgate's problem+json, not nginx's page)", async ({ client, code }) => {
    setup.require();
    const a = await viaNginx({ client: stack.client(client), method: "POST", path: `/orders/${client}`, body: '{"id":1}' });
    expectProblem(a, { status: 403, code, path: `/orders/${client}` });
  });

  it("denies a request without a client certificate with 403 certificate_missing", async () => {
    setup.require();
    const a = await viaNginx({ path: "/hello" });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/hello" });
  });

  it("streams a 10 MiB upload to the origin byte for byte", async () => {
    setup.require();
    const body = randomBytes(UPLOAD_BYTES);
    const a = await viaNginx({ client: stack.client("valid"), method: "POST", path: "/upload", body, headers: { "content-type": "application/octet-stream" } });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expect(echo.body).toEqual({ bytes: UPLOAD_BYTES, sha256: sha256Hex(body) });
  });

  it("a client without a certificate gains nothing from forged certificate, identity and forwarding headers", async () => {
    setup.require();
    const forged = spoofedCertificateHeaders(stack.client("valid"));
    const a = await viaNginx({ path: "/forged", headers: forged });
    expectProblem(a, { status: 403, code: "certificate_missing", path: "/forged" });
  });

  it("every client-certificate header family, in both spellings, and X-Real-IP / True-Client-IP never reach the origin", async () => {
    setup.require();
    const attacker = stack.client("unregistered");
    for (const headers of spoofedHeaderFamilies("X-Client-Cert")) {
      const a = await viaNginx({ client: attacker, path: "/families", headers });
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
    const a = await viaNginx({ client: attacker, path: "/forged", headers: spoofedCertificateHeaders(victim) });
    expect(a.status, describeAnswer(a) + serviceLogs()).toBe(200);
    const echo = originEcho(a);
    expectVerifiedIdentity(echo, attacker, stack);
    const seen = JSON.stringify(echo.headers);
    for (const needle of forgedNeedles(victim)) expect(seen, `the origin saw the forged value ${needle}`).not.toContain(needle);
    expect(echo.headers["x-forwarded-for"]).not.toContain(FORGED.address);
    expect(echo.headers.forwarded).toBeUndefined();
  });

  it("a request that bypasses nginx cannot present a certificate in a header", async () => {
    setup.require();
    const valid = stack.client("valid");
    const { base64 } = certificateFacts(valid.certPem);
    const headers = { "X-Client-Cert": encodeURIComponent(valid.certPem), "Client-Cert": `:${base64}:` };
    for (const secret of [undefined, "not-the-terminator-secret-0123456789"]) {
      const a = await sendToGateway(stack.gatewayUrl, "/direct", secret ? { ...headers, "X-Certgate-Terminator-Secret": secret } : headers);
      expectProblem(a, { status: 403, code: "certificate_missing", path: "/direct" });
    }
  });
});
