/**
 * The whole Worker inside workerd: real local KV, a recording origin. Each scenario is one deployment
 * configuration (env) and one request.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, DAY, leaf, root } from "../support/chains";
import { byteSequence, cloudflareTlsClientAuth, publish, recordingOrigin, scenario, SECRET, uniqueVersion, viaTerminator } from "../support/gateway";
import { at, bundle, operation, step, tpl } from "../support/policies";

let r: BuiltCertificate, i: BuiltCertificate, valid: BuiltCertificate, expired: BuiltCertificate, early: BuiltCertificate;
let otherRoot: BuiltCertificate, untrusted: BuiltCertificate;
const now = Date.now();

beforeAll(async () => {
  r = await root("GW Root");
  i = await ca("GW DEV Intermediate", r);
  valid = await leaf("Valid Client", i, "p-256", {}, { subject: "CN=Valid Client, O=Contoso, C=US" });
  expired = await leaf("Expired Client", i, "p-256", {}, { notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY) });
  early = await leaf("Early Client", i, "p-256", {}, { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) });
  otherRoot = await root("Other Root");
  untrusted = await leaf("Untrusted Client", await ca("TST Intermediate", otherRoot), "p-256");
  await publish(env.TRUST, uniqueVersion("gw"), { default: { anchors: [r], intermediates: [i] } });
});

async function problem(res: Response) {
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as { type: string; title: string; status: number; detail: string; instance: string; code: string; context?: Record<string, unknown> };
}

describe("allowed requests", () => {
  it("forwards a valid certificate from the terminator with the verified identity", async () => {
    const s = scenario();
    const res = await s.request("/api/cars?color=red", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) });
    expect(res.status).toBe(200);
    expect(s.origin.calls).toHaveLength(1);
    const call = s.origin.calls[0]!;
    expect(call.url).toBe("https://origin.test/api/cars?color=red");
    expect(call.headers["client-cert"]).toBe(byteSequence(valid));
    expect(call.headers["client-cert-chain"]).toBe(byteSequence(i));
    expect(call.headers["x-client-cert-subject"]).toBe("CN=Valid Client,O=Contoso,C=US");
    expect(call.headers["x-client-cert-issuer"]).toBe("CN=GW DEV Intermediate");
    expect(call.headers["x-client-cert-verified"]).toBe("SUCCESS");
    expect(call.headers["x-client-cert-thumbprint"]).toMatch(/^[0-9A-F]{40}$/);
    expect(call.headers["x-certgate-terminator-secret"]).toBeUndefined();
    expect(res.headers.get("x-origin")).toBe("demo");
  });

  it("sends the identity headers IDENTITY_HEADERS names, and refuses an unknown one", async () => {
    const hdr = { headers: viaTerminator({ "client-cert": byteSequence(valid) }) };
    const identityOf = (call: { headers: Record<string, string> }) =>
      Object.keys(call.headers).filter((h) => h.startsWith("x-client-cert-") || h.startsWith("client-cert")).sort();
    const defaults = scenario();
    await defaults.request("/", hdr);
    expect(identityOf(defaults.origin.calls[0]!)).toEqual(["client-cert", "client-cert-chain", "x-client-cert-issuer", "x-client-cert-serial",
      "x-client-cert-sha256", "x-client-cert-subject", "x-client-cert-thumbprint", "x-client-cert-verified"]);
    const picked = scenario({ IDENTITY_HEADERS: "subject, not-after,thumbprint" });
    await picked.request("/", hdr);
    expect(identityOf(picked.origin.calls[0]!)).toEqual(["x-client-cert-not-after", "x-client-cert-subject", "x-client-cert-thumbprint"]);
    expect(picked.origin.calls[0]!.headers["x-client-cert-not-after"]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // "none" sends no identity — and still strips whatever identity headers the client sent.
    const none = scenario({ IDENTITY_HEADERS: "none" });
    await none.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid), "x-client-cert-subject": "CN=admin" }) });
    expect(identityOf(none.origin.calls[0]!)).toEqual([]);
    const bad = await scenario({ IDENTITY_HEADERS: "subject,email" }).request("/", hdr);
    expect(bad.status).toBe(503);
    expect((await problem(bad)).code).toBe("configuration_invalid");
  });

  it("a misspelled variable fails closed: 503 configuration_invalid, the log names it, the client sees no detail", async () => {
    const logged: string[] = [];
    const original = console.error;
    console.error = (line: unknown) => void logged.push(String(line));
    try {
      // REVOCATON=strict would otherwise leave revocation at its default (soft) and forward the request.
      const s = scenario({ REVOCATON: "strict" });
      const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) });
      expect(res.status).toBe(503);
      const body = await problem(res);
      expect(body.code).toBe("configuration_invalid");
      expect((body as { title?: string }).title).toBe("The gateway is misconfigured");
      expect(JSON.stringify(body)).not.toContain("REVOCAT");
      expect(s.origin.calls).toHaveLength(0);
      expect(logged.join("\n")).toContain("REVOCATON is not a certgate variable: did you mean REVOCATION?");
    } finally {
      console.error = original;
    }
  });

  it("forwards a certificate from Cloudflare's cf.tlsClientAuth, validating it against its own store", async () => {
    const s = scenario();
    const res = await s.request("/", { cf: cloudflareTlsClientAuth(valid, [i]) });
    expect(res.status).toBe(200);
    expect(s.origin.calls[0]!.headers["x-client-cert-subject"]).toBe("CN=Valid Client,O=Contoso,C=US");
  });

  it("forwards without identity when certificates are optional and none is presented", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" });
    const res = await s.request("/public");
    expect(res.status).toBe(200);
    expect(s.origin.calls[0]!.headers["client-cert"]).toBeUndefined();
  });
});

describe("denied requests", () => {
  it("denies a missing certificate with problem+json (403)", async () => {
    const s = scenario();
    const res = await s.request("/api/x");
    expect(res.status).toBe(403);
    const p = await problem(res);
    expect(p).toMatchObject({ code: "certificate_missing", status: 403, instance: "/api/x", type: "urn:certgate:problem:certificate_missing" });
    expect(s.origin.calls).toHaveLength(0);
  });

  it("denies expired, not-yet-valid and untrusted certificates with their codes", async () => {
    const s = scenario();
    const cases: Array<[BuiltCertificate, string]> = [[expired, "certificate_expired"], [early, "certificate_not_yet_valid"], [untrusted, "certificate_not_trusted"]];
    for (const [cert, code] of cases) {
      const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(cert) }) });
      expect(res.status).toBe(403);
      expect((await problem(res)).code).toBe(code);
    }
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(expired) }) });
    const p = await problem(res);
    expect(p.context?.notAfter).toBe(expired.spec.notAfter.toISOString().replace(/\.\d+Z$/, ".000Z"));
    expect(s.origin.calls).toHaveLength(0);
  });

  it("uses the configured deny status", async () => {
    const res = await scenario({ DENY_STATUS: "401" }).request("/");
    expect(res.status).toBe(401);
  });

  it("rejects malformed certificate headers with 400", async () => {
    const res = await scenario().request("/", { headers: viaTerminator({ "client-cert": ":bm90IGEgY2VydA==:" }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("certificate_malformed");
  });

  it("denies two sources carrying different certificates as ambiguous", async () => {
    const res = await scenario().request("/", { cf: cloudflareTlsClientAuth(valid), headers: viaTerminator({ "client-cert": byteSequence(untrusted) }) });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("certificate_ambiguous");
  });
});

describe("trust boundary", () => {
  it("ignores certificate headers from a client without the terminator's secret", async () => {
    const s = scenario();
    const res = await s.request("/", { headers: { "client-cert": byteSequence(valid), "x-certgate-terminator-secret": "wrong-secret-wrong-secret" } });
    expect(res.status).toBe(403);
    expect((await problem(res)).code).toBe("certificate_missing");
  });

  it("rejects them with 400 when configured to", async () => {
    const res = await scenario({ REJECT_UNTRUSTED_CERT_HEADERS: "true" }).request("/", { headers: { "client-cert": byteSequence(valid) } });
    expect(res.status).toBe(400);
    expect((await problem(res)).code).toBe("certificate_header_untrusted");
  });

  it("narrows the secret by address allow-list (CF-Connecting-IP): both must hold", async () => {
    const s = scenario({ TERMINATOR_ADDRESSES: "192.0.2.0/24, 2001:db8::/32" });
    const cert = { "client-cert": byteSequence(valid) };
    expect((await s.request("/", { headers: viaTerminator({ ...cert, "cf-connecting-ip": "192.0.2.10" }) })).status).toBe(200);
    expect((await s.request("/", { headers: viaTerminator({ ...cert, "cf-connecting-ip": "2001:db8::1" }) })).status).toBe(200);
    expect((await s.request("/", { headers: viaTerminator({ ...cert, "cf-connecting-ip": "198.51.100.1" }) })).status).toBe(403);
    expect((await s.request("/", { headers: viaTerminator(cert) })).status).toBe(403);
    // The right address without the secret is not the terminator.
    expect((await s.request("/", { headers: { ...cert, "cf-connecting-ip": "192.0.2.10" } })).status).toBe(403);
  });

  it("refuses an address-only boundary: a forged CF-Connecting-IP (as under wrangler dev or self-hosted workerd) gains nothing", async () => {
    // The measured attack: CERT_SOURCES=rfc9440, TERMINATOR_ADDRESSES=203.0.113.7, no secret, a client sending
    // CF-Connecting-IP: 203.0.113.7 and a Client-Cert of its choosing.
    const s = scenario({ CERT_SOURCES: "rfc9440", TERMINATOR_SECRET: undefined, TERMINATOR_ADDRESSES: "203.0.113.7" });
    const res = await s.request("/", { headers: { "client-cert": byteSequence(valid), "cf-connecting-ip": "203.0.113.7" } });
    expect(res.status).toBe(503);
    const p = await problem(res);
    expect(p.code).toBe("configuration_invalid");
    expect(s.origin.calls).toHaveLength(0);
    // The cloudflare source alone needs neither: it reads request.cf, which no client header can set on
    // Cloudflare's edge (under wrangler dev it can: test/e2e/address-boundary.node.test.ts).
    const edge = scenario({ CERT_SOURCES: "cloudflare", TERMINATOR_SECRET: undefined, TERMINATOR_ADDRESSES: "203.0.113.7" });
    expect((await edge.request("/", { cf: cloudflareTlsClientAuth(valid, [i]) })).status).toBe(200);
  });

  it("never lets client-supplied identity headers reach the origin", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" });
    const spoofed = {
      "x-client-cert-subject": "CN=admin", "x-client-cert-verified": "SUCCESS", "client-cert-chain": byteSequence(valid),
      "x-forwarded-client-cert": `Hash=abc;Cert="${encodeURIComponent(valid.pem)}"`, "x-client-cert": encodeURIComponent(valid.pem),
      "x-arr-clientcert": "MIIB", "x-amzn-mtls-clientcert": "x", "x-forwarded-tls-client-cert": "MIIB",
      "x-forwarded-for": "10.0.0.1", "connection": "close, x-keep-me",
    };
    const res = await s.request("/", { headers: spoofed });
    expect(res.status).toBe(200);
    const seen = s.origin.calls[0]!.headers;
    for (const name of Object.keys(spoofed)) {
      if (name === "connection") continue;
      expect(seen[name], name).toBeUndefined();
    }
  });

  it("replaces a spoofed identity with the verified one", async () => {
    const s = scenario();
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid), "x-client-cert-subject": "CN=admin" }) });
    expect(res.status).toBe(200);
    expect(s.origin.calls[0]!.headers["x-client-cert-subject"]).toBe("CN=Valid Client,O=Contoso,C=US");
  });

  it("refuses to start with a header source but no way to authenticate the terminator", async () => {
    const res = await scenario({ TERMINATOR_SECRET: undefined }).request("/");
    expect(res.status).toBe(503);
    expect((await problem(res)).code).toBe("configuration_invalid");
  });
});

describe("trust material in KV", () => {
  it("takes a rotated trust store into account without a redeploy", async () => {
    const s = scenario();
    const hdr = { headers: viaTerminator({ "client-cert": byteSequence(untrusted) }) };
    expect((await s.request("/", hdr)).status).toBe(403);
    const tstInt = await ca("TST Intermediate", otherRoot);
    const rotated = await leaf("Rotated Client", tstInt);
    const version = uniqueVersion("rotation");
    await publish(env.TRUST, version, { default: { anchors: [r, otherRoot], intermediates: [i, tstInt] } });
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(rotated) }) });
    expect(res.status).toBe(200);
    await publish(env.TRUST, uniqueVersion("gw-back"), { default: { anchors: [r], intermediates: [i] } });
  });

  it("fails closed with 503 when the store is missing, corrupt, or KV fails or stalls", async () => {
    const kv = (impl: Partial<KVNamespace>) => ({ ...impl }) as KVNamespace;
    const hdr = { headers: viaTerminator({ "client-cert": byteSequence(valid) }) };
    const missingActive = kv({ get: (async () => null) as never });
    const corrupt = kv({ get: (async (key: string) => (key === "active" ? JSON.stringify({ version: "x" }) : "{not json")) as never });
    const badPem = kv({ get: (async (key: string) => (key === "active" ? JSON.stringify({ version: "x" }) : JSON.stringify({ anchors: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }))) as never });
    const throwing = kv({ get: (async () => { throw new Error("KV GET failed: 500"); }) as never });
    const stalling = kv({ get: (() => new Promise(() => {})) as never });
    for (const TRUST of [missingActive, corrupt, badPem, throwing, stalling]) {
      const res = await scenario({ TRUST, KV_TIMEOUT_MS: "50" }).request("/", hdr);
      expect(res.status).toBe(503);
      const p = await problem(res);
      expect(p.code).toBe("trust_store_unavailable");
      expect(JSON.stringify(p)).not.toContain("KV");
    }
    const missingStore = await scenario({ TRUST_STORE: "no-such-store" }).request("/", hdr);
    expect(missingStore.status).toBe(503);
  });
});

describe("forwarding", () => {
  it("streams a 10 MiB body to the origin byte-identical", async () => {
    const s = scenario();
    const size = 10 * 1024 * 1024;
    const chunk = new Uint8Array(64 * 1024);
    for (let k = 0; k < chunk.length; k++) chunk[k] = (k * 31 + 7) & 0xff;
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= size) return controller.close();
        controller.enqueue(chunk.slice());
        sent += chunk.length;
      },
    });
    const expected = new crypto.DigestStream("SHA-256");
    const w = expected.getWriter();
    for (let k = 0; k < size / chunk.length; k++) await w.write(chunk);
    await w.close();
    const expectedHex = [...new Uint8Array(await expected.digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
    const res = await s.request("/upload", { method: "POST", body, headers: viaTerminator({ "client-cert": byteSequence(valid) }), duplex: "half" } as RequestInit);
    expect(res.status).toBe(200);
    const call = s.origin.calls[0]!;
    expect(call.bodyBytes).toBe(size);
    expect(call.bodySha256).toBe(expectedHex);
  });

  it("passes redirects through instead of following them", async () => {
    const s = scenario({}, recordingOrigin(() => new Response(null, { status: 302, headers: { location: "https://elsewhere.test/" } })));
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("https://elsewhere.test/");
  });

  it("maps an unreachable origin to 502 and a stalled one to 504", async () => {
    const hdr = { headers: viaTerminator({ "client-cert": byteSequence(valid) }) };
    const refused = scenario({}, recordingOrigin(() => { throw new TypeError("Network connection lost."); }));
    const r1 = await refused.request("/", hdr);
    expect(r1.status).toBe(502);
    expect((await problem(r1)).code).toBe("origin_unreachable");
    const stalled = scenario({ ORIGIN_TIMEOUT_MS: "100" }, recordingOrigin((req) => new Promise((_, reject) => req.signal.addEventListener("abort", () => reject(new Error("aborted"))))));
    const r2 = await stalled.request("/", hdr);
    expect(r2.status).toBe(504);
    expect((await problem(r2)).code).toBe("origin_timeout");
  });
});

describe("observability: one request log line, Server-Timing", () => {
  /** The `request` log lines written while `run` ran (console.log/warn/error are captured, not printed). */
  async function requestLines(run: () => unknown): Promise<Array<Record<string, unknown>>> {
    const lines: string[] = [];
    const spies = (["log", "warn", "error"] as const).map((m) => vi.spyOn(console, m).mockImplementation((line: unknown) => void lines.push(String(line))));
    try {
      await run();
    } finally {
      for (const s of spies) s.mockRestore();
    }
    return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === "request");
  }

  it("logs an allowed request once, with source, certificate, store, operation and times", async () => {
    const s = scenario();
    let res: Response | undefined;
    const lines = await requestLines(async () => (res = await s.request("/api/cars?secret=1", { headers: viaTerminator({ "client-cert": byteSequence(valid), "cf-ray": "8f00-TEST" }) })));
    expect(res!.status).toBe(200);
    expect(lines).toHaveLength(1);
    const modelSha256 = [...new Uint8Array(await crypto.subtle.digest("SHA-256", valid.der))].map((b) => b.toString(16).padStart(2, "0")).join("");
    expect(lines[0]).toMatchObject({
      level: "info", decision: "allow", status: 200, code: null, method: "GET", path: "/api/cars", requestId: "8f00-TEST",
      source: "rfc9440", sha256: modelSha256, subject: "CN=Valid Client,O=Contoso,C=US", store: "default", operation: "*",
    });
    // The query string never reaches the log (it may hold credentials).
    expect(JSON.stringify(lines[0])).not.toContain("secret=1");
    for (const k of ["validateMs", "originMs", "totalMs"]) expect(typeof lines[0]![k]).toBe("number");
  });

  it("logs a denial with its code and an origin failure as an error", async () => {
    const s = scenario();
    const denied = await requestLines(() => s.request("/x", { headers: viaTerminator({ "client-cert": byteSequence(expired) }) }));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ level: "info", decision: "deny", status: 403, code: "certificate_expired", source: "rfc9440", subject: expect.stringContaining("Expired Client") });
    const missing = await requestLines(() => s.request("/x"));
    expect(missing[0]).toMatchObject({ decision: "deny", status: 403, code: "certificate_missing", source: null, sha256: null });
    const down = scenario({}, recordingOrigin(() => { throw new TypeError("Network connection lost."); }));
    const failed = await requestLines(() => down.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) }));
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: "warn", decision: "error", status: 502, code: "origin_unreachable" });
    expect(String(failed[0]!.internal)).toContain("Network connection lost");
  });

  it("a certificate header from a peer that failed the terminator check: the log says which header and which check, never the secret", async () => {
    const cert = { "client-cert": byteSequence(valid) };
    const s = scenario();
    const [missing] = await requestLines(() => s.request("/", { headers: cert }));
    expect(missing).toMatchObject({ decision: "deny", code: "certificate_missing", internal: "certificate header client-cert ignored: no x-certgate-terminator-secret header (TERMINATOR_SECRET)" });
    const [wrong] = await requestLines(() => s.request("/", { headers: { ...cert, "x-certgate-terminator-secret": "not-the-secret-but-long-enough" } }));
    expect(wrong!.internal).toBe("certificate header client-cert ignored: x-certgate-terminator-secret does not match TERMINATOR_SECRET");
    expect(JSON.stringify(wrong)).not.toContain("not-the-secret");
    expect(JSON.stringify(wrong)).not.toContain(SECRET);
    // The address list narrows the secret (an address alone is never enough): the right secret from outside it.
    const byAddress = scenario({ TERMINATOR_ADDRESSES: "192.0.2.0/24" });
    const [outside] = await requestLines(() => byAddress.request("/", { headers: { ...viaTerminator(cert), "cf-connecting-ip": "198.51.100.7" } }));
    expect(outside!.internal).toBe("certificate header client-cert ignored: CF-Connecting-IP 198.51.100.7 is not in TERMINATOR_ADDRESSES");
    // From the terminator, or with no certificate header at all, there is nothing to explain.
    const [trusted] = await requestLines(() => s.request("/", { headers: viaTerminator(cert) }));
    expect(trusted!.internal).toBeUndefined();
    const [none] = await requestLines(() => s.request("/"));
    expect(none!.internal).toBeUndefined();
    // REJECT_UNTRUSTED_CERT_HEADERS: the 400's log line carries the same why.
    const [rejected] = await requestLines(() => scenario({ REJECT_UNTRUSTED_CERT_HEADERS: "true" }).request("/", { headers: cert }));
    expect(rejected).toMatchObject({ code: "certificate_header_untrusted", internal: expect.stringContaining("no x-certgate-terminator-secret header") });
  });

  it("a response a policy built instead of the origin's is decision respond, with its scope, position and a code", async () => {
    const ok = viaTerminator({ "client-cert": byteSequence(valid) });
    const problemJson = { at: at(), name: tpl("Content-Type"), existsAction: "override" as const, values: [tpl("application/problem+json")] };
    const b = bundle({}, [
      operation("orders", "create", "POST", "/orders", { inbound: [step.returnResponse({
        status: "403", headers: [problemJson], body: tpl('{"status":403,"code":"certificate_not_registered"}') })] }, ""),
      operation("orders", "teapot", "GET", "/teapot", { inbound: [step.returnResponse({ status: "418", body: tpl("short and stout") })] }, ""),
      operation("orders", "ping", "GET", "/ping", { inbound: [step.returnResponse({ status: "204" })] }, ""),
    ]);
    const s = scenario({}, recordingOrigin(), b);
    const [coded] = await requestLines(() => s.request("/orders", { method: "POST", headers: ok }));
    expect(coded).toMatchObject({ decision: "respond", status: 403, code: "certificate_not_registered", policy: "operation:test", policyAt: expect.stringMatching(/^test\.xml:\d+:5$/) });
    const [plain] = await requestLines(() => s.request("/teapot", { headers: ok }));
    expect(plain).toMatchObject({ decision: "respond", status: 418, code: "policy_return_response", policy: "operation:test" });
    const [fine] = await requestLines(() => s.request("/ping", { headers: ok }));
    expect(fine).toMatchObject({ decision: "respond", status: 204, code: null });
    expect(s.origin.calls).toHaveLength(0);
    // LOG_REQUESTS=denied keeps a policy's 4xx answer, not its 2xx.
    const deniedOnly = scenario({ LOG_REQUESTS: "denied" }, recordingOrigin(), b);
    expect(await requestLines(() => deniedOnly.request("/orders", { method: "POST", headers: ok }))).toHaveLength(1);
    expect(await requestLines(() => deniedOnly.request("/ping", { headers: ok }))).toHaveLength(0);
  });

  it("LOG_REQUESTS=denied logs only denials; off logs none; a bad value is a configuration error", async () => {
    const ok = viaTerminator({ "client-cert": byteSequence(valid) });
    const deniedOnly = scenario({ LOG_REQUESTS: "denied" });
    expect(await requestLines(() => deniedOnly.request("/", { headers: ok }))).toHaveLength(0);
    expect(await requestLines(() => deniedOnly.request("/"))).toHaveLength(1);
    const off = scenario({ LOG_REQUESTS: "off" });
    expect(await requestLines(() => off.request("/"))).toHaveLength(0);
    const bad = await scenario({ LOG_REQUESTS: "some" }).request("/", { headers: ok });
    expect(bad.status).toBe(503);
    expect((await problem(bad)).code).toBe("configuration_invalid");
  });

  it("sends Server-Timing only when SERVER_TIMING is on, keeping the origin's own entries", async () => {
    const ok = { headers: viaTerminator({ "client-cert": byteSequence(valid) }) };
    const plain = await scenario().request("/", ok);
    expect(plain.headers.get("server-timing")).toBeNull();
    const origin = recordingOrigin(() => new Response("ok", { headers: { "server-timing": "db;dur=3" } }));
    const timed = await scenario({ SERVER_TIMING: "true" }, origin).request("/", ok);
    expect(timed.status).toBe(200);
    expect(timed.headers.get("server-timing")).toMatch(/^db;dur=3, validate;dur=\d+, origin;dur=\d+, total;dur=\d+$/);
    const denied = await scenario({ SERVER_TIMING: "true" }).request("/");
    expect(denied.status).toBe(403);
    expect(denied.headers.get("server-timing")).toMatch(/^total;dur=\d+$/);
  });
});
