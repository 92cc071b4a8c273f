/**
 * `npm run bench:memory`: heap the verifier's result cache retains per entry, next to its own estimate
 * (CertificateVerifier.bytes), in Node with `--expose-gc`. Two kinds of entries, two sizes of leaf each:
 * - invalid: distinct untrusted leaves (the worst case an attacker controls: any self-made certificate is parsed
 *   and its rejection cached); variants of one certificate that differ in their serial;
 * - valid: distinct leaves signed by the store's CA (their DER counted too: the cache keeps the parsed leaf,
 *   which references it).
 * Each measurement runs in a fresh process (freed external memory is returned lazily, so one measurement
 * would blur the next). Bounded: BENCH_LEAVES leaves (default 2,000) per measurement, all in process.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { issueCertificate, pooledKeyPair, type BuiltCertificate } from "../pki/builder";
import { prepareTrustMaterial } from "../../src/pki/trust-material";
import { CertificateVerifier, RESULT_CACHE_BYTES } from "../../src/pki/verifier";

const LEAVES = Number(process.env.BENCH_LEAVES ?? 2000);
const DAY = 86_400_000;
const one = process.env.BENCH_MEMORY_CASE;

if (!one) {
  const rows: unknown[] = [];
  for (const c of ["invalid:90", "invalid:220", "valid:90", "valid:220"]) {
    const r = spawnSync(process.execPath, ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url)], {
      env: { ...process.env, BENCH_MEMORY_CASE: c }, encoding: "utf8", timeout: 300_000,
    });
    if (r.status !== 0) {
      process.stderr.write(`bench:memory: ${c} failed: ${r.stderr || r.error?.message}\n`);
      process.exit(1);
    }
    rows.push(JSON.parse(r.stdout));
  }
  console.table(rows);
  console.log(`cache cap: ${RESULT_CACHE_BYTES / 2 ** 20} MiB by estimate; an estimate at or above "retained" keeps the heap under the cap`);
  process.exit(0);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with --expose-gc");
const used = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const [kind, sansText] = one.split(":") as ["invalid" | "valid", string];
const names = Array.from({ length: Number(sansText) }, (_, k) => ({ dns: `host-${k}.a-rather-long-subdomain.example.com` }));
const now = Date.now();
const validity = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
const caExt = { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] as Array<"keyCertSign" | "cRLSign"> } };
const anchor = await issueCertificate({ subject: "CN=Bench Anchor", key: await pooledKeyPair("p-256", 952), ...validity, extensions: caExt });
const stranger = await issueCertificate({ subject: "CN=Stranger Root", key: await pooledKeyPair("p-256", 950), ...validity, extensions: caExt });
const material = await prepareTrustMaterial({ version: "mem", anchors: [anchor.der] });
if (!material.ok) throw new Error(material.error.detail);
const leafKey = await pooledKeyPair("p-256", 951);
const issue = (issuer: BuiltCertificate, serial: number) => issueCertificate({
  subject: `CN=Bench Leaf ${serial}`, issuer, key: leafKey, serialNumber: `7f ${serial.toString(16).padStart(8, "0")}`, ...validity,
  extensions: { subjectAltName: { names }, keyUsage: { usages: ["digitalSignature"] }, extKeyUsage: { oids: ["clientAuth"] } },
});
const at = new Date(now);

let ders: Uint8Array[] = [];
let variant: (n: number) => Uint8Array;
if (kind === "valid") {
  for (let n = 0; n < LEAVES + 50; n++) ders.push((await issue(anchor, n)).der);
  variant = (n) => ders[n]!;
} else {
  // One untrusted certificate; variants differ in the serial's last octets (rejected before any signature check).
  const t = (await issue(stranger, 0)).der;
  const serialAt = Buffer.from(t).indexOf(Buffer.from([0x02, 0x05, 0x7f, 0, 0, 0, 0])) + 3;
  variant = (n) => {
    const der = t.slice();
    der.set([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff], serialAt);
    return der;
  };
}
const warm = new CertificateVerifier();
for (let n = LEAVES; n < LEAVES + 50; n++) await warm.verify(material.value, variant(n), [], at);
warm.clear();
const before = used();
const verifier = new CertificateVerifier();
let size = 0;
let ok = 0;
for (let n = 0; n < LEAVES; n++) {
  const der = variant(n);
  size = der.length;
  if ((await verifier.verify(material.value, der, [], at)).result.ok) ok++;
}
// Valid entries reference their leaf's DER, which `ders` also holds: count the DER of the entries still cached
// (the cache evicts the oldest first, so those are the last ones) as the cache's.
const kept = kind === "valid" ? ders.slice(LEAVES - verifier.size, LEAVES) : [];
const retained = used() - before + kept.reduce((s, d) => s + d.length, 0);
ders = [];
process.stdout.write(JSON.stringify({
  entries: kind, "leaf bytes": size, valid: ok, cached: verifier.size,
  "retained KiB/entry": (retained / verifier.size / 1024).toFixed(1),
  "estimate KiB/entry": (verifier.bytes / verifier.size / 1024).toFixed(1),
  "retained MiB": (retained / 2 ** 20).toFixed(1),
}));
