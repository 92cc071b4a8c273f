/**
 * Origin and client faults over real sockets: the gateway on `workerd serve` (the bundled app with KV in
 * memory, scripts/bench/gateway-worker.ts, as the soak test runs it) in front of a Node origin this suite
 * controls, and clients that misbehave at the socket level.
 *
 * - an origin port that refuses connections → 502 `origin_unreachable`;
 * - an origin that accepts and resets the connection → 502 `origin_unreachable`;
 * - an origin that accepts and never answers → 504 `origin_timeout`, within ORIGIN_TIMEOUT_MS (500 ms here);
 * - a client that aborts mid-upload (headers + part of a chunked body, then a closed socket) → the origin's
 *   request ends in an error within seconds, never completed and never left hanging open.
 *
 * Three workerd processes, one per origin setting (a closed port; the controlled origin with a 500 ms
 * timeout; the same origin with a 30 s timeout, so that only an abort — not the timeout — can end the
 * upload). Every wait is bounded; everything started here is stopped in afterAll.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startWorkerd, type RunningWorker } from "../../scripts/lib/workerd";
import { issueCertificate, pooledKeyPair } from "../../scripts/pki/builder";
import { encodeBase64 } from "../../src/cert/decode";

const SECRET = "faults-terminator-secret-0123456789";
const DAY = 86_400_000;
/** The gateway's wait for the origin's response headers in the timeout cases. */
const SHORT_TIMEOUT_MS = 500;
/** Long enough that the upload case can only end by the client's abort reaching the origin. */
const LONG_TIMEOUT_MS = 30_000;
/** How long an answer or an origin-side event may take before the case fails. */
const ANSWER_DEADLINE_MS = 3_000;
const ABORT_DEADLINE_MS = 5_000;
const here = fileURLToPath(new URL(".", import.meta.url));

/** What the origin saw of one request. */
interface OriginSighting {
  readonly req: IncomingMessage;
  bytes: number;
  complete: boolean;
  /**
   * The first of 'aborted' / request 'error' / 'close' / socket 'close' (null while the request is open).
   * Node emits a request's 'close' once its body is done, so for a bodyless GET this is set at once.
   */
  ended: string | null;
  /** The TCP connection the request came on is closed. */
  socketClosed: boolean;
}

let origin: Server;
let originPort = 0;
const sightings = new Map<string, OriginSighting>();
const openSockets = new Set<Socket>();
let refused: RunningWorker | undefined;
let short: RunningWorker | undefined;
let long: RunningWorker | undefined;
let validCert = "";
const timings: Record<string, number> = {};

/** Resolves when `check()` holds, or rejects after `ms` with `what`. */
async function waitFor(what: string, ms: number, check: () => boolean): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Math.round(performance.now() - started);
}

function track(id: string, req: IncomingMessage): OriginSighting {
  const s: OriginSighting = { req, bytes: 0, complete: false, ended: null, socketClosed: false };
  sightings.set(id, s);
  const end = (why: string) => (s.ended ??= why);
  req.on("data", (c: Buffer) => (s.bytes += c.length));
  req.on("end", () => (s.complete = true));
  req.on("aborted", () => end("aborted"));
  req.on("error", (e) => end(`error: ${e.message}`));
  req.on("close", () => end(s.complete ? "close after end" : "close"));
  req.socket.on("close", () => {
    s.socketClosed = true;
    end("socket close");
  });
  return s;
}

/** The origin: /reset/* resets the connection, /stall/* and /upload/* read and never answer. */
function startOrigin(): Promise<void> {
  origin = createServer((req, res) => {
    const path = req.url ?? "/";
    openSockets.add(req.socket);
    req.socket.once("close", () => openSockets.delete(req.socket));
    track(path, req);
    if (path.startsWith("/reset/")) {
      req.socket.resetAndDestroy();
      return;
    }
    if (path.startsWith("/stall/") || path.startsWith("/upload/")) return; // read (via track), never answer
    res.end("ok");
  });
  return new Promise((resolve) => origin.listen(originPort, "127.0.0.1", resolve));
}

function gatewayVars(originUrl: string, timeoutMs: number, kv: Record<string, string>): Record<string, string> {
  return {
    ORIGIN_URL: originUrl, ORIGIN_TIMEOUT_MS: String(timeoutMs), CERT_SOURCES: "rfc9440", TERMINATOR_SECRET: SECRET,
    REVOCATION: "off", BENCH_KV: JSON.stringify(kv),
  };
}

beforeAll(async () => {
  const started = performance.now();
  const now = Date.now();
  const v = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  const caExt = { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign" as const, "cRLSign" as const] } };
  const root = await issueCertificate({ subject: "CN=Faults Root", key: await pooledKeyPair("p-256", 1), ...v, extensions: caExt });
  const leaf = await issueCertificate({
    subject: "CN=faults-client", issuer: root, key: await pooledKeyPair("p-256", 4), ...v,
    extensions: { keyUsage: { usages: ["digitalSignature" as const] }, extKeyUsage: { oids: ["clientAuth"] } },
  });
  validCert = `:${encodeBase64(leaf.der)}:`;
  const kv = { active: JSON.stringify({ version: "faults" }), "v/faults/store/default": JSON.stringify({ anchors: root.pem }) };

  originPort = await freePort();
  await startOrigin();
  // Free a moment ago, listened on by no one: connections to it are refused.
  const closedPort = await freePort();
  const entry = join(here, "../../scripts/bench/gateway-worker.ts");
  const start = (url: string, timeoutMs: number) =>
    startWorkerd({ entry, allowLocalOutbound: true, quiet: true, vars: gatewayVars(url, timeoutMs, kv), startTimeoutMs: 30_000 });
  [refused, short, long] = await Promise.all([
    start(`http://127.0.0.1:${closedPort}`, LONG_TIMEOUT_MS),
    start(`http://127.0.0.1:${originPort}`, SHORT_TIMEOUT_MS),
    start(`http://127.0.0.1:${originPort}`, LONG_TIMEOUT_MS),
  ]);
  timings.startup = Math.round(performance.now() - started);
  // One request per gateway before the timed cases: the first request of an isolate compiles the Worker's
  // code paths and reads KV, which on a loaded machine can take longer than ANSWER_DEADLINE_MS. The
  // deadlines below measure the fault handling, not that warm-up.
  const warm = performance.now();
  await Promise.all([refused, short, long].map((w) =>
    fetch(w!.url + "/warm/1", { headers: headers(), signal: AbortSignal.timeout(30_000) }).then((r) => r.arrayBuffer())));
  timings.warmup = Math.round(performance.now() - warm);
}, 90_000);

afterAll(async () => {
  for (const s of openSockets) s.destroy();
  await Promise.all([refused?.stop(), short?.stop(), long?.stop()]);
  origin?.closeAllConnections();
  await new Promise((r) => (origin ? origin.close(r) : r(undefined)));
  process.stdout.write(`faults e2e timings (ms): ${JSON.stringify(timings)}\n`);
}, 30_000);

const headers = () => ({ "client-cert": validCert, "x-certgate-terminator-secret": SECRET });

/** GET through `worker`; the status, the parsed problem and the elapsed milliseconds. */
async function get(worker: RunningWorker, path: string) {
  const started = performance.now();
  const res = await fetch(worker.url + path, { headers: headers(), signal: AbortSignal.timeout(ANSWER_DEADLINE_MS) });
  const text = await res.text();
  const ms = Math.round(performance.now() - started);
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", json, text, ms };
}

function expectProblem(a: Awaited<ReturnType<typeof get>>, status: number, code: string, path: string): void {
  const why = `${a.status} ${a.type}: ${a.text.slice(0, 400)}`;
  expect(a.status, why).toBe(status);
  expect(a.type, why).toMatch(/^application\/problem\+json/);
  expect(a.json, why).toMatchObject({ status, code, type: `urn:certgate:problem:${code}`, instance: path });
}

describe("origin and client faults over real sockets (gateway on workerd serve)", () => {
  it("the gateway forwards a valid client to the controlled origin (the fault cases below start from here)", async () => {
    const a = await get(short!, "/ok/1");
    expect(a.status, a.text).toBe(200);
    expect(a.text).toBe("ok");
  });

  it("an origin port that refuses connections → 502 origin_unreachable", async () => {
    const a = await get(refused!, "/refused/1");
    timings.refused = a.ms;
    expectProblem(a, 502, "origin_unreachable", "/refused/1");
  });

  it("an origin that accepts and resets the connection → 502 origin_unreachable", async () => {
    const a = await get(short!, "/reset/1");
    timings.reset = a.ms;
    expectProblem(a, 502, "origin_unreachable", "/reset/1");
    expect(sightings.get("/reset/1"), "the request reached the origin before the reset").toBeDefined();
  });

  it(`an origin that accepts and stalls → 504 origin_timeout after ORIGIN_TIMEOUT_MS (${SHORT_TIMEOUT_MS} ms), well inside ${ANSWER_DEADLINE_MS} ms`, async () => {
    const a = await get(short!, "/stall/1");
    timings.stall = a.ms;
    expectProblem(a, 504, "origin_timeout", "/stall/1");
    expect(a.ms).toBeGreaterThanOrEqual(SHORT_TIMEOUT_MS - 50);
    expect(a.ms).toBeLessThan(ANSWER_DEADLINE_MS);
    // The gateway gave up on the stalled request: its upstream connection is closed too.
    timings.stallOriginClosed = await waitFor("the origin's stalled connection closed", ABORT_DEADLINE_MS, () => sightings.get("/stall/1")?.socketClosed === true);
  });

  it("a client that aborts mid-upload leaves no half request open at the origin", async () => {
    const path = "/upload/1";
    const socket = connect(long!.port, "127.0.0.1");
    openSockets.add(socket);
    socket.on("error", () => {}); // the gateway may reset the half request; that is fine
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const head = [
      `POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${long!.port}`, "Content-Type: application/octet-stream",
      "Transfer-Encoding: chunked", `Client-Cert: ${validCert}`, `X-Certgate-Terminator-Secret: ${SECRET}`, "", "",
    ].join("\r\n");
    socket.write(head);
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    // 4 × 64 KiB of a body that never finishes (no terminating 0-chunk).
    for (let i = 0; i < 4; i++) socket.write(`${chunk.length.toString(16)}\r\n`), socket.write(chunk), socket.write("\r\n");
    const reachedMs = await waitFor("the upload reached the origin", ANSWER_DEADLINE_MS, () => (sightings.get(path)?.bytes ?? 0) > 0);
    const s = sightings.get(path)!;
    expect(s.ended, "the origin's request ended before the client aborted").toBeNull();

    const aborted = performance.now();
    socket.destroy();
    timings.uploadReached = reachedMs;
    await waitFor(`the origin's request ended after the client aborted (${s.bytes} bytes seen)`, ABORT_DEADLINE_MS, () => s.ended !== null);
    timings.uploadOriginEnded = Math.round(performance.now() - aborted);
    await waitFor("the origin's connection closed after the client aborted", ABORT_DEADLINE_MS, () => s.socketClosed);
    timings.uploadOriginSocketClosed = Math.round(performance.now() - aborted);
    timings.uploadBytesAtOrigin = s.bytes;
    // Ended in an error, not passed on as a complete (truncated) body.
    expect(s.complete, `the origin received the truncated upload as a complete request (${s.bytes} bytes, ${s.ended})`).toBe(false);
    expect(s.bytes).toBeLessThanOrEqual(4 * chunk.length);
    expect(timings.uploadOriginEnded).toBeLessThan(LONG_TIMEOUT_MS);
  });
});
