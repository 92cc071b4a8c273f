/**
 * An address-only trust boundary cannot be spoofed in the runtimes certgate documents off Cloudflare's edge:
 * `wrangler dev` (miniflare; what `npm start` runs) and a self-hosted `workerd serve`. In both, a client
 * chooses its own CF-Connecting-IP — measured here: under wrangler dev the origin receives the forged address
 * as X-Forwarded-For — so certgate refuses TERMINATOR_ADDRESSES without TERMINATOR_SECRET for header sources:
 * the forged address plus a forged Client-Cert is a 503 configuration_invalid, never a forwarded identity.
 * It also pins what no configuration can close under wrangler dev: the client sets request.cf as well.
 * (Inside workerd under the test plugin: test/integration/gateway.test.ts, "refuses an address-only boundary".)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorkerd, type RunningWorker } from "../../scripts/lib/workerd";
import { issueCertificate, pooledKeyPair } from "../../scripts/pki/builder";
import { encodeBase64 } from "../../src/cert/decode";
import { startGatewayStack, type GatewayStack } from "./support/gateway-stack";
import { Cleanup, SuiteSetup } from "./support/processes";
import { certificateFacts, originEcho, sendToGateway } from "./support/terminator-checks";

const FORGED_ADDRESS = "203.0.113.7";
const setup = new SuiteSetup();
const cleanup = new Cleanup();
let dir = "";
let addressOnly: GatewayStack;
let open: GatewayStack;
let workerd: RunningWorker;
const here = fileURLToPath(new URL(".", import.meta.url));

beforeAll(async () => {
  await setup.run(async () => {
    dir = mkdtempSync(join(tmpdir(), "certgate-e2e-address-"));
    const start = (name: string, vars: Record<string, string | null>, invalidConfiguration = false) => {
      return startGatewayStack({ dir: mkdtempSync(join(dir, `${name}-`)), sources: ["rfc9440"], cleanup, vars, invalidConfiguration });
    };
    // The measured configuration of the issue: rfc9440, the terminator's address, no secret.
    addressOnly = await start("address-only", { TERMINATOR_SECRET: null, TERMINATOR_ADDRESSES: FORGED_ADDRESS }, true);
    // The cloudflare source only, no certificate required: shows what the origin gets for CF-Connecting-IP.
    open = await start("open", { CERT_SOURCES: "cloudflare", REQUIRE_CERTIFICATE: "false" });
    const now = Date.now();
    const root = await issueCertificate({ subject: "CN=Boundary Root", key: await pooledKeyPair("p-256", 1), notBefore: new Date(now - 86_400_000), notAfter: new Date(now + 86_400_000), extensions: { basicConstraints: { ca: true } } });
    workerd = await startWorkerd({
      entry: join(here, "../../scripts/bench/gateway-worker.ts"), quiet: true, startTimeoutMs: 30_000,
      vars: {
        ORIGIN_URL: "http://127.0.0.1:9", CERT_SOURCES: "rfc9440", TERMINATOR_ADDRESSES: FORGED_ADDRESS,
        BENCH_KV: JSON.stringify({ active: JSON.stringify({ version: "b" }), "v/b/store/default": JSON.stringify({ anchors: root.pem }) }),
      },
    });
    cleanup.add("workerd serve", () => workerd.stop());
  }, 180_000, () => "starting wrangler dev twice and workerd");
}, 200_000);

afterAll(async () => {
  await cleanup.run();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe("address-only trust boundary", () => {
  it("under wrangler dev a client's CF-Connecting-IP is taken as is (why the address alone proves nothing)", async () => {
    setup.require();
    const a = await sendToGateway(open.gatewayUrl, "/public", { "CF-Connecting-IP": FORGED_ADDRESS });
    expect(a.status).toBe(200);
    expect(originEcho(a).headers["x-forwarded-for"]).toBe(FORGED_ADDRESS);
  });

  it("under wrangler dev request.cf itself comes from the client (miniflare's MF-CF-Blob): why wrangler dev is never a trust boundary", async () => {
    // Pins a documented limitation (docs/configuration.md, "wrangler dev is never a trust boundary"): the
    // Worker never sees the header, so only where wrangler dev listens (npm start: 127.0.0.1) protects it.
    setup.require();
    const victim = open.client("valid");
    const { base64 } = certificateFacts(victim.certPem);
    const cf = { tlsClientAuth: { certPresented: "1", certVerified: "SUCCESS", certRevoked: "0", certRFC9440: `:${base64}:`, certRFC9440TooLarge: false, certChainRFC9440: "", certChainRFC9440TooLarge: false } };
    const a = await sendToGateway(open.gatewayUrl, "/public", { "MF-CF-Blob": JSON.stringify(cf) });
    expect(originEcho(a).headers["x-client-cert-subject"]).toBe(victim.subject.replace(/, /g, ","));
  });

  it("under wrangler dev: a forged CF-Connecting-IP and Client-Cert are refused with 503 configuration_invalid", async () => {
    setup.require();
    const { base64 } = certificateFacts(addressOnly.client("valid").certPem);
    const a = await sendToGateway(addressOnly.gatewayUrl, "/forged", { "CF-Connecting-IP": FORGED_ADDRESS, "Client-Cert": `:${base64}:` });
    expect(a.status, a.text).toBe(503);
    expect(a.json).toMatchObject({ code: "configuration_invalid" });
  });

  it("on self-hosted workerd serve: the same request is refused the same way", async () => {
    setup.require();
    const res = await fetch(`${workerd.url}/forged`, { headers: { "CF-Connecting-IP": FORGED_ADDRESS, "Client-Cert": `:${encodeBase64(new Uint8Array([0x30, 0]))}:` } });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("configuration_invalid");
  });
});
