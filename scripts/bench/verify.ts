/**
 * `npm run bench:verify`: microseconds per path validation of 3-certificate client chains (root →
 * intermediate → leaf), RSA-2048 and ECDSA P-256, measured inside workerd (`workerd serve` of the bundled
 * benchmark Worker, driven over loopback), against two references measured in the same run:
 * - `openssl verify` — one process verifying many leaves (`-CAfile root -untrusted intermediate leaf…`);
 *   per-chain cost = (time for N leaves − time for 1 leaf) / (N − 1), so process start-up cancels out;
 * - plain pkijs — CertificateChainValidationEngine over the three freshly parsed certificates.
 * certgate is measured cold (every leaf distinct; root and intermediate already in the prepared store) and
 * cached (the same leaf again). Rounds alternate between the systems; the table shows medians.
 * A second table splits the cold validation into stages (verify-worker.ts: parse, SHA-256, signature, model,
 * the three name renderings) over fresh leaves; "path + rest" is cold − parse − SHA-256 − signature: path
 * building, profile checks, the cache entry, and the intermediate's digest.
 *
 * Only loopback/in-process work; bounded: ROUNDS × (COLD_PER_ROUND leaves + CACHED_PER_ROUND repeats).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeBase64 } from "../../src/cert/decode";
import { startWorkerd } from "../lib/workerd";
import { issueCertificate, pooledKeyPair, toPem, type BuiltCertificate, type KeyAlgorithm } from "../pki/builder";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COLD_PER_ROUND = Number(process.env.BENCH_COLD ?? 300);
const CACHED_PER_ROUND = Number(process.env.BENCH_CACHED ?? 5000);
const ALGORITHMS: Record<string, KeyAlgorithm> = { "RSA-2048": "rsa-2048", "P-256": "p-256" };
const DAY = 86_400_000;

async function buildChain(alg: KeyAlgorithm, leaves: number) {
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 365 * DAY) };
  const root = await issueCertificate({
    subject: `CN=Bench Root ${alg}, O=certgate bench`, key: await pooledKeyPair(alg, 900), ...validity,
    extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
  });
  const intermediate = await issueCertificate({
    subject: `CN=Bench Intermediate ${alg}, O=certgate bench`, issuer: root, key: await pooledKeyPair(alg, 901), ...validity,
    extensions: { basicConstraints: { ca: true, pathLen: 0 }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
  });
  // Distinct certificates need not have distinct keys; a few keys keep RSA key generation out of the way.
  const keys = await Promise.all([0, 1, 2, 3].map((k) => pooledKeyPair(alg, 910 + k)));
  const out: BuiltCertificate[] = [];
  for (let k = 0; k < leaves; k++) {
    out.push(await issueCertificate({
      subject: `CN=client-${k}.bench.example, O=certgate bench`, issuer: intermediate, key: keys[k % keys.length]!, ...validity,
      extensions: {
        keyUsage: { usages: ["digitalSignature"] },
        extKeyUsage: { oids: ["clientAuth"] },
        subjectAltName: { names: [{ dns: `client-${k}.bench.example` }] },
      },
    }));
  }
  return { root, intermediate, leaves: out };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const here = fileURLToPath(new URL(".", import.meta.url));
  const worker = await startWorkerd({ entry: join(here, "verify-worker.ts") });
  const tmp = mkdtempSync(join(tmpdir(), "certgate-bench-"));
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${worker.url}${path}`, { method: "POST", body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
    return JSON.parse(text) as { ok: number; firstError?: string };
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1000;
  };
  try {
    const total = ROUNDS * COLD_PER_ROUND * 2 + 2; // cold + pkijs leaves, plus the cached leaf and a warm-up leaf
    const chains: Record<string, Awaited<ReturnType<typeof buildChain>>> = {};
    for (const [name, alg] of Object.entries(ALGORITHMS)) {
      process.stderr.write(`generating ${total} ${name} leaves…\n`);
      chains[name] = await buildChain(alg, total);
    }
    await post("/setup", {
      chains: Object.fromEntries(Object.entries(chains).map(([name, c]) => [name, {
        root: encodeBase64(c.root.der), intermediate: encodeBase64(c.intermediate.der), leaves: c.leaves.map((l) => encodeBase64(l.der)),
      }])),
    });

    const rows: Array<Record<string, string>> = [];
    const stageRows: Array<Record<string, string>> = [];
    for (const [name, c] of Object.entries(chains)) {
      const dir = join(tmp, name);
      execFileSync("mkdir", ["-p", dir]);
      writeFileSync(join(dir, "root.pem"), c.root.pem);
      writeFileSync(join(dir, "int.pem"), c.intermediate.pem);
      const leafFiles = c.leaves.map((l, k) => {
        const f = join(dir, `leaf-${k}.pem`);
        writeFileSync(f, toPem(l.der, "CERTIFICATE"));
        return f;
      });
      const openssl = (files: string[]) => execFileSync("openssl", ["verify", "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, "int.pem"), ...files], { stdio: ["ignore", "pipe", "pipe"] });
      // Warm-up: the first cold validation also imports the intermediate's key into the store's cache.
      const warm = total - 1;
      await post("/run", { alg: name, mode: "cold", from: warm, count: 1 });
      await post("/run", { alg: name, mode: "cached", from: total - 2, count: 10 });
      await post("/run", { alg: name, mode: "pkijs", from: warm, count: 1 });
      const cold: number[] = [], cached: number[] = [], pk: number[] = [], ossl: number[] = [];
      const stages = { parse: [] as number[], sha256: [] as number[], signature: [] as number[], model: [] as number[], names: [] as number[] };
      const stage = async (mode: string, from: number, noop: number) => {
        let r: { ok: number; firstError?: string } = { ok: 0 };
        const t = await timed(async () => (r = await post("/run", { alg: name, mode: `stage:${mode}`, from, count: COLD_PER_ROUND })));
        if (r.ok !== COLD_PER_ROUND) throw new Error(`${name}: stage ${mode}: ${r.ok}/${COLD_PER_ROUND}`);
        return (t - noop) / COLD_PER_ROUND;
      };
      for (let round = 0; round < ROUNDS; round++) {
        const from = round * COLD_PER_ROUND;
        const noopCold = await timed(() => post("/run", { alg: name, mode: "noop", from, count: COLD_PER_ROUND }));
        let result: { ok: number; firstError?: string } = { ok: 0 };
        const tCold = await timed(async () => (result = await post("/run", { alg: name, mode: "cold", from, count: COLD_PER_ROUND })));
        if (result.ok !== COLD_PER_ROUND) throw new Error(`${name}: only ${result.ok}/${COLD_PER_ROUND} cold validations succeeded (${result.firstError})`);
        cold.push((tCold - noopCold) / COLD_PER_ROUND);
        const tCached = await timed(async () => (result = await post("/run", { alg: name, mode: "cached", from: total - 2, count: CACHED_PER_ROUND })));
        if (result.ok !== CACHED_PER_ROUND) throw new Error(`${name}: cached validations failed`);
        cached.push((tCached - noopCold) / CACHED_PER_ROUND);
        const pkFrom = ROUNDS * COLD_PER_ROUND + from;
        const tPk = await timed(async () => (result = await post("/run", { alg: name, mode: "pkijs", from: pkFrom, count: COLD_PER_ROUND })));
        if (result.ok !== COLD_PER_ROUND) throw new Error(`${name}: plain pkijs rejected ${COLD_PER_ROUND - result.ok} chains`);
        pk.push((tPk - noopCold) / COLD_PER_ROUND);
        // Stages, over the pkijs round's leaves (fresh for certgate: no parsed object or model cached).
        const parse = await stage("parse", pkFrom, noopCold);
        stages.parse.push(parse);
        stages.sha256.push(await stage("sha256", pkFrom, noopCold));
        const sigParse = await stage("signature-parse", pkFrom, noopCold);
        stages.signature.push((await stage("signature", pkFrom, noopCold)) - sigParse);
        stages.model.push((await stage("model", pkFrom, noopCold)) - parse);
        await stage("names-prepare", pkFrom, noopCold);
        stages.names.push(await stage("names", pkFrom, noopCold));
        const files = leafFiles.slice(from, from + COLD_PER_ROUND);
        const tOne = await timed(async () => openssl(files.slice(0, 1)));
        const tMany = await timed(async () => openssl(files));
        ossl.push((tMany - tOne) / (files.length - 1));
      }
      const m = { cold: median(cold), cached: median(cached), pkijs: median(pk), openssl: median(ossl) };
      const st = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)])) as Record<keyof typeof stages, number>;
      stageRows.push({
        chain: name,
        "cold µs": m.cold.toFixed(0),
        "parse": st.parse.toFixed(1),
        "SHA-256": st.sha256.toFixed(1),
        "signature": st.signature.toFixed(1),
        "path + rest": (m.cold - st.parse - st.sha256 - st.signature).toFixed(1),
        "model (request)": st.model.toFixed(1),
        "3 renderings × 2 names (policy)": st.names.toFixed(1),
      });
      rows.push({
        chain: name,
        "certgate cold µs": m.cold.toFixed(0),
        "certgate cached µs": m.cached.toFixed(1),
        "plain pkijs µs": m.pkijs.toFixed(0),
        "openssl verify µs": m.openssl.toFixed(0),
        "cold / openssl": (m.cold / m.openssl).toFixed(2),
        "pkijs / openssl": (m.pkijs / m.openssl).toFixed(2),
        "cold / pkijs": (m.cold / m.pkijs).toFixed(2),
      });
    }
    console.log(`\nverify benchmark: ${ROUNDS} rounds × ${COLD_PER_ROUND} cold leaves, ${CACHED_PER_ROUND} cached repeats per round (medians)\n`);
    console.table(rows);
    console.log("targets: cached ≤ 10 µs; cold ≤ 0.25 × openssl verify (issue 15). openssl verify does not check the clientAuth EKU; certgate does.");
    console.log("\ncold validation by stage, µs per leaf (medians; each stage timed alone over fresh leaves, the Worker's loop subtracted):\n");
    console.table(stageRows);
  } finally {
    await worker.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
