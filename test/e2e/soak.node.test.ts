/**
 * A bounded soak through the gateway on `workerd serve` (the bundled gateway, KV in memory — see
 * scripts/bench/gateway-worker.ts — and a local origin): SOAK_SECONDS (default 60) of traffic at modest
 * concurrency with a mix of valid and invalid certificates. Every response must be the one its certificate
 * deserves (zero unexpected statuses), and workerd's memory must level off. Loopback only, bounded in time.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../../src/cert/decode";
import { freePort, startWorkerd, type RunningWorker } from "../../scripts/lib/workerd";
import { issueCertificate, pooledKeyPair } from "../../scripts/pki/builder";

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
/**
 * Memory is judged against work done, not time: the caches fill per request, so on a loaded machine 60 s may not
 * reach the plateau. The run goes on past SECONDS until this many requests were sent (at most 3 × SECONDS); the
 * default SOAK_SECONDS run alone sends about 140,000.
 */
const MIN_REQUESTS = Number(process.env.SOAK_MIN_REQUESTS ?? 100_000);
const CONCURRENCY = 8;
const SECRET = "soak-terminator-secret-0123456789";
const DAY = 86_400_000;
const here = fileURLToPath(new URL(".", import.meta.url));

interface Kind {
  readonly name: string;
  readonly headers: () => Record<string, string>;
  readonly status: number;
  readonly code: string | null;
}

function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

describe("soak", () => {
  let worker: RunningWorker;
  let origin: Server;
  let originRequests = 0;
  let kinds: Kind[] = [];

  beforeAll(async () => {
    const now = Date.now();
    const v = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
    const caExt = { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign" as const, "cRLSign" as const] } };
    const leafExt = { keyUsage: { usages: ["digitalSignature" as const] }, extKeyUsage: { oids: ["clientAuth"] } };
    const root = await issueCertificate({ subject: "CN=Soak Root", key: await pooledKeyPair("p-256", 1), ...v, extensions: caExt });
    const int = await issueCertificate({ subject: "CN=Soak Intermediate", issuer: root, key: await pooledKeyPair("p-256", 2), ...v, extensions: caExt });
    const other = await issueCertificate({ subject: "CN=Soak Other Root", key: await pooledKeyPair("p-256", 3), ...v, extensions: caExt });
    const leafKey = await pooledKeyPair("p-256", 4);
    const fresh: string[] = [];
    for (let k = 0; k < 1500; k++) {
      const l = await issueCertificate({ subject: `CN=soak-${k}`, issuer: int, key: leafKey, ...v, extensions: leafExt });
      fresh.push(`:${encodeBase64(l.der)}:`);
    }
    const expired = await issueCertificate({ subject: "CN=soak-expired", issuer: int, key: leafKey, notBefore: new Date(now - 30 * DAY), notAfter: new Date(now - DAY), extensions: leafExt });
    const untrusted = await issueCertificate({ subject: "CN=soak-untrusted", issuer: other, key: leafKey, ...v, extensions: leafExt });
    const b = (c: { der: Uint8Array }) => `:${encodeBase64(c.der)}:`;
    let n = 0;
    const withSecret = (h: Record<string, string>) => ({ ...h, "x-certgate-terminator-secret": SECRET });
    kinds = [
      { name: "valid (warm)", headers: () => withSecret({ "client-cert": fresh[0]! }), status: 200, code: null },
      { name: "valid (new leaf)", headers: () => withSecret({ "client-cert": fresh[1 + (n++ % (fresh.length - 1))]! }), status: 200, code: null },
      { name: "expired", headers: () => withSecret({ "client-cert": b(expired) }), status: 403, code: "certificate_expired" },
      { name: "untrusted", headers: () => withSecret({ "client-cert": b(untrusted) }), status: 403, code: "certificate_not_trusted" },
      { name: "missing", headers: () => withSecret({}), status: 403, code: "certificate_missing" },
      { name: "malformed", headers: () => withSecret({ "client-cert": ":bm90IGEgY2VydGlmaWNhdGU=:" }), status: 400, code: "certificate_malformed" },
      { name: "spoofed (no secret)", headers: () => ({ "client-cert": fresh[0]! }), status: 403, code: "certificate_missing" },
    ];
    const port = await freePort();
    origin = createServer((req, res) => {
      originRequests++;
      req.resume();
      req.on("end", () => res.end("ok"));
    });
    await new Promise<void>((r) => origin.listen(port, "127.0.0.1", r));
    const version = "soak";
    const kv = {
      active: JSON.stringify({ version }),
      [`v/${version}/store/default`]: JSON.stringify({ anchors: root.pem, intermediates: int.pem }),
    };
    worker = await startWorkerd({
      entry: join(here, "../../scripts/bench/gateway-worker.ts"), allowLocalOutbound: true, quiet: true,
      vars: { ORIGIN_URL: `http://127.0.0.1:${port}`, CERT_SOURCES: "rfc9440", TERMINATOR_SECRET: SECRET, REVOCATION: "off", BENCH_KV: JSON.stringify(kv) },
    });
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await new Promise((r) => origin?.close(r));
  });

  it(`serves ${SECONDS} s of mixed traffic with zero unexpected answers and steady memory`, async () => {
    const pid = worker.process.pid!;
    const counts = new Map<string, number>();
    const unexpected: string[] = [];
    const samples: { sent: number; rss: number }[] = [];
    const started = Date.now();
    const deadline = started + SECONDS * 1000;
    const hardDeadline = started + 3 * SECONDS * 1000;
    let sent = 0;
    const sampler = setInterval(() => samples.push({ sent, rss: rssKiB(pid) }), 2000);
    const more = () => Date.now() < deadline || (sent < MIN_REQUESTS && Date.now() < hardDeadline);
    const client = async (id: number) => {
      let k = id;
      while (more()) {
        const kind = kinds[k++ % kinds.length]!;
        sent++;
        const res = await fetch(`${worker.url}/soak/${k}`, { headers: kind.headers(), signal: AbortSignal.timeout(10_000) });
        const text = await res.text();
        let code: string | null = null;
        if (res.status !== 200) code = (JSON.parse(text) as { code?: string }).code ?? null;
        if (res.status !== kind.status || code !== kind.code) {
          if (unexpected.length < 20) unexpected.push(`${kind.name}: ${res.status} ${code} (${text.slice(0, 120)})`);
        }
        counts.set(kind.name, (counts.get(kind.name) ?? 0) + 1);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, (_, id) => client(id)));
    clearInterval(sampler);
    const seconds = (Date.now() - started) / 1000;
    // The settled part: samples taken after the first third of the requests.
    const rss = samples.map((x) => x.rss);
    const settled = samples.filter((x) => x.sent >= sent / 3).map((x) => x.rss);
    const report = {
      seconds: Number(seconds.toFixed(1)), requests: sent, rps: Math.round(sent / seconds), originRequests,
      perKind: Object.fromEntries(counts), unexpected: unexpected.length,
      rssMiB: { first: Math.round(rss[0]! / 1024), min: Math.round(Math.min(...settled) / 1024), max: Math.round(Math.max(...settled) / 1024), last: Math.round(rss[rss.length - 1]! / 1024) },
    };
    console.log(`soak: ${JSON.stringify(report)}`);
    expect(unexpected).toEqual([]);
    // Only the two valid kinds reach the origin.
    expect(originRequests).toBe((counts.get("valid (warm)") ?? 0) + (counts.get("valid (new leaf)") ?? 0));
    // Memory levels off after the caches fill: over the last two thirds of the requests it moves by less than 64 MiB.
    expect(Math.max(...settled) - Math.min(...settled)).toBeLessThan(64 * 1024);
  }, (3 * SECONDS + 60) * 1000);
});
