/**
 * `kv sync` planning and checks as unit tests: source folders built in memory (SourceTree) or in a temporary
 * folder, deployed state in a MemoryKv, material from scripts/pki/builder.ts via test/support/chains.ts at the
 * suite's fixed NOW. Assertions are on problem codes, plan structure and the KV keys written; the text
 * rendering is pinned on a few lines. The writer's output is fed to src/pki/trust-store.ts (the Worker's
 * reader) through a KVNamespace over the same map.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../pki/builder";
import { ca, cert, crl, DAY, leaf, NOW, parsed, root } from "../../test/support/chains";
import { validatePath } from "../../src/pki/validate";
import { TrustStore } from "../../src/pki/trust-store";
import { readDeployed } from "./deployed";
import { MemoryKv } from "./kv-store";
import { planSync, type Plan } from "./plan";
import { renderPlan, renderStatus } from "./render";
import { ACTIVE_KEY } from "../../src/kv-schema";
import { checkSource, FORCEABLE, loadSource, type Problem, type SourceTree } from "./source";
import { applyPlan, runStatus, runSync, type Output } from "./sync";
import { bulkEntry, locationFlags, readBulkGetOutput, readKeyListOutput } from "./wrangler-kv";
import { runTsx } from "../../test/support/cli-process";

const at = (days: number) => new Date(NOW.getTime() + days * DAY);

/** A SourceTree from path → content; folders derived from the paths. */
function tree(files: Record<string, string | Uint8Array>, extraFolders: string[] = []): SourceTree {
  const folders = new Set(extraFolders);
  for (const path of Object.keys(files)) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join("/"));
  }
  const enc = new TextEncoder();
  return {
    files: Object.keys(files).sort().map((path) => ({ path, bytes: typeof files[path] === "string" ? enc.encode(files[path] as string) : (files[path] as Uint8Array) })),
    folders: [...folders].sort(),
  };
}

async function inspect(files: Record<string, string | Uint8Array>, now = NOW, extraFolders: string[] = []) {
  const { content, problems } = await loadSource(tree(files, extraFolders));
  return { content, problems: [...problems, ...(await checkSource(content, now))] };
}

const codes = (problems: readonly Problem[]) => problems.map((p) => `${p.code} ${p.path}`).sort();

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

/** A KVNamespace over a MemoryKv's map: what the Worker's reader sees. */
function kvNamespace(kv: MemoryKv): KVNamespace {
  return {
    get: async (key: string, options: { type: "text" | "arrayBuffer" }) => {
      const v = kv.data.get(key);
      if (v === undefined) return null;
      return options.type === "arrayBuffer" ? v.slice().buffer : new TextDecoder().decode(v);
    },
  } as unknown as KVNamespace;
}

const pki = {} as Record<
  "root" | "inter" | "inter2" | "interRenewed" | "alice" | "bob" | "carol" | "pinned" | "otherRoot" | "impostorRoot" | "noCrlSign" | "noBc" | "caFalse" | "expiredInter" | "expiredRoot",
  BuiltCertificate
>;
const crls = {} as Record<"root" | "inter" | "interNewer" | "inter2" | "stale" | "forged" | "foreign" | "noCrlSign" | "rootOld" | "future", Uint8Array>;

beforeAll(async () => {
  pki.root = await root("KV Root");
  pki.inter = await ca("KV Issuing CA", pki.root);
  pki.interRenewed = await ca("KV Issuing CA", pki.root, "p-256", {}, { notAfter: at(700) });
  pki.inter2 = await ca("KV Issuing CA 2", pki.root);
  pki.alice = await leaf("alice", pki.inter);
  pki.bob = await leaf("bob", pki.inter);
  pki.carol = await leaf("carol", pki.inter2);
  pki.pinned = await cert({ subject: "CN=pinned device", extensions: { keyUsage: { usages: ["digitalSignature"] }, extKeyUsage: { oids: ["clientAuth"] } } });
  pki.otherRoot = await root("Other Root");
  // Same name as KV Root, another key: its CRLs carry KV Root's name but not its signature.
  pki.impostorRoot = await root("KV Root");
  pki.noCrlSign = await ca("No cRLSign CA", pki.root, "p-256", { keyUsage: { usages: ["keyCertSign"] } });
  pki.caFalse = await leaf("cA false", pki.inter, "p-256", { basicConstraints: { ca: false } });
  pki.noBc = await cert({ subject: "CN=No BC", issuer: pki.root, extensions: { keyUsage: { usages: ["keyCertSign", "cRLSign"] } } });
  pki.expiredInter = await ca("Expired CA", pki.root, "p-256", {}, { notBefore: at(-400), notAfter: at(-1) });
  pki.expiredRoot = await cert({ subject: "CN=Expired Root", notBefore: at(-400), notAfter: at(-2), extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } } });
  crls.root = (await crl({ issuer: pki.root })).der;
  crls.inter = (await crl({ issuer: pki.inter, thisUpdate: at(-2), nextUpdate: at(5) })).der;
  crls.interNewer = (await crl({ issuer: pki.inter, thisUpdate: at(-1), nextUpdate: at(6), crlNumber: 2, entries: [{ serialNumber: pki.bob.serialNumber, revocationDate: at(-1) }] })).der;
  crls.inter2 = (await crl({ issuer: pki.inter2 })).der;
  crls.stale = (await crl({ issuer: pki.inter, thisUpdate: at(-10), nextUpdate: at(-3) })).der;
  crls.rootOld = (await crl({ issuer: pki.root, thisUpdate: at(-10), nextUpdate: at(30) })).der;
  crls.future = (await crl({ issuer: pki.inter, thisUpdate: at(1), nextUpdate: at(8) })).der;
  crls.forged = (await crl({ issuer: pki.impostorRoot })).der;
  crls.foreign = (await crl({ issuer: pki.otherRoot })).der;
  crls.noCrlSign = (await crl({ issuer: pki.noCrlSign })).der;
});

/** The reference folder: one store, two registered clients, two named values. */
function baseFolder(): Record<string, string | Uint8Array> {
  return {
    "stores/default/anchors/root.pem": pki.root.pem,
    "stores/default/intermediates/inter.pem": pki.inter.pem,
    "stores/default/pinned/device.pem": pki.pinned.pem,
    "stores/default/crls/root.crl": crls.root,
    "stores/default/crls/inter.crl": crls.inter,
    "registered/alice.pem": pki.alice.pem,
    "registered/bob.pem": pki.bob.pem,
    "values.json": JSON.stringify({ "backend-url": "https://backend.example", "api-key": "s3cret-value" }),
  };
}

async function planFor(source: Record<string, string | Uint8Array>, kv: MemoryKv, now = NOW): Promise<Plan> {
  const { content, problems } = await inspect(source, now);
  expect(codes(problems)).toEqual([]);
  return planSync(content, await readDeployed(kv), { now });
}

/** Publishes `source` into `kv` as sync does (plan, then writes, `active` last). */
async function publish(source: Record<string, string | Uint8Array>, kv: MemoryKv, now = NOW): Promise<Plan> {
  const plan = await planFor(source, kv, now);
  await applyPlan(kv, plan);
  return plan;
}

describe("kv sync checks", () => {
  it("accepts a well-formed folder: stores, pinned certificates, CRLs in DER and PEM, registered, values; dotfiles ignored", async () => {
    const pemCrl = `-----BEGIN X509 CRL-----\n${Buffer.from(crls.inter2).toString("base64")}\n-----END X509 CRL-----\n`;
    const { content, problems } = await inspect({
      ...baseFolder(),
      "stores/default/intermediates/inter2.pem": pki.inter2.pem,
      "stores/default/crls/inter2.pem": pemCrl,
      "stores/second/anchors/other.pem": pki.otherRoot.pem,
      ".gitkeep": "",
      "stores/default/.DS_Store": "x",
    });
    expect(codes(problems)).toEqual([]);
    const store = content.stores.get("default")!;
    expect([store.anchors.length, store.intermediates.length, store.pinned.length, store.crls.length]).toEqual([1, 2, 1, 3]);
    expect(store.anchors[0]!.subject).toBe("CN=KV Root");
    expect([...content.registered.keys()]).toEqual(["alice", "bob"]);
    expect([...content.values.keys()].sort()).toEqual(["api-key", "backend-url"]);
    expect([...content.stores.keys()].sort()).toEqual(["default", "second"]);
  });

  it("names each certificate of a bundle file", async () => {
    const { content } = await inspect({ ...baseFolder(), "stores/default/intermediates/inter.pem": pki.inter.pem + pki.inter2.pem });
    expect(content.stores.get("default")!.intermediates.map((c) => c.origin)).toEqual([
      "stores/default/intermediates/inter.pem#1",
      "stores/default/intermediates/inter.pem#2",
    ]);
  });

  it("refuses each kind of bad item, and lists every problem of one run", async () => {
    const { problems } = await inspect(
      {
        "stores/default/anchors/root.pem": pki.root.pem,
        "stores/default/anchors/leaf.pem": pki.caFalse.pem, // not a CA (cA false)
        "stores/default/intermediates/inter.pem": pki.inter.pem,
        "stores/default/intermediates/no-bc.pem": pki.noBc.pem, // no basicConstraints
        "stores/default/intermediates/expired.pem": pki.expiredInter.pem,
        "stores/default/intermediates/dup.pem": pki.root.pem, // same as the anchor
        "stores/default/intermediates/junk.pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "stores/default/intermediates/no-crl-sign.pem": pki.noCrlSign.pem,
        "stores/default/crls/forged.crl": crls.forged, // KV Root's name, another key
        "stores/default/crls/foreign.crl": crls.foreign, // issuer not in the store
        "stores/default/crls/stale.crl": crls.stale,
        "stores/default/crls/again.crl": crls.stale, // the same CRL twice
        "stores/default/crls/junk.crl": new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
        "stores/default/crls/no-crl-sign.crl": crls.noCrlSign,
        "stores/default/anchors/root.crt": pki.root.pem, // wrong extension
        "stores/default/notes.txt": "hello",
        "stores/bad name/anchors/x.pem": pki.root.pem,
        "stores/empty/crls/root.crl": crls.root,
        "stores/expired/anchors/root.pem": pki.expiredRoot.pem,
        "registered/broken.pem": "not a certificate",
        "registered/two.pem": pki.alice.pem + pki.bob.pem,
        "registered/bad id!.pem": pki.alice.pem,
        "values.json": JSON.stringify({ ok: "x", port: 8080 }),
        "README.md": "docs",
        "extra/file.pem": pki.root.pem,
      },
      NOW,
    );
    expect(codes(problems)).toEqual([
      "certificate_expired stores/default/intermediates/expired.pem",
      "certificate_expired stores/expired/anchors/root.pem",
      "certificate_malformed stores/default/intermediates/junk.pem",
      "crl_issuer_unknown stores/default/crls/foreign.crl",
      "crl_issuer_unknown stores/empty/crls/root.crl",
      "crl_malformed stores/default/crls/junk.crl",
      "crl_signature_invalid stores/default/crls/forged.crl",
      "crl_signature_invalid stores/default/crls/no-crl-sign.crl",
      "crl_stale stores/default/crls/again.crl",
      "duplicate_certificate stores/default/intermediates/dup.pem",
      "duplicate_crl stores/default/crls/stale.crl",
      "invalid_name registered/bad id!.pem",
      "invalid_name stores/bad name",
      "not_a_ca stores/default/anchors/leaf.pem",
      "not_a_ca stores/default/intermediates/no-bc.pem",
      "registered_malformed registered/broken.pem",
      "registered_malformed registered/two.pem",
      "store_without_anchors stores/empty/anchors",
      "unknown_file README.md",
      "unknown_file extra",
      "unknown_file stores/default/anchors/root.crt",
      "unknown_file stores/default/notes.txt",
      "values_malformed values.json",
    ]);
    const forceable = problems.filter((p) => p.forceable).map((p) => p.code);
    expect(new Set(forceable)).toEqual(new Set(["certificate_expired", "crl_stale"]));
    const byPath = (path: string) => problems.find((p) => p.path === path)!.message;
    expect(byPath("stores/default/intermediates/no-bc.pem")).toMatch(/no basicConstraints/);
    expect(byPath("stores/default/anchors/leaf.pem")).toMatch(/cA is false/);
    expect(byPath("stores/default/crls/no-crl-sign.crl")).toMatch(/lacks cRLSign/);
    expect(byPath("values.json")).toMatch(/"port"/);
  });

  it("refuses a folder without stores", async () => {
    const { problems } = await inspect({ "registered/alice.pem": pki.alice.pem });
    expect(codes(problems)).toEqual(["no_stores stores"]);
  });

  it("refuses an empty store folder (no anchors)", async () => {
    const { problems } = await inspect({ ...baseFolder() }, NOW, ["stores/spare"]);
    expect(codes(problems)).toEqual(["store_without_anchors stores/spare/anchors"]);
  });

  it("checks validity against the given time: the same folder is fine earlier", async () => {
    const folder = { ...baseFolder(), "stores/default/crls/inter.crl": crls.stale, "stores/default/crls/root.crl": crls.rootOld };
    expect(codes((await inspect(folder, at(-5))).problems)).toEqual([]);
    expect(codes((await inspect(folder, NOW)).problems)).toEqual(["crl_stale stores/default/crls/inter.crl"]);
  });

  it("refuses a CRL whose thisUpdate is still to come (the Worker would ignore it until then); --force may override", async () => {
    const folder = { ...baseFolder(), "stores/default/crls/inter.crl": crls.future };
    expect(codes((await inspect(folder, NOW)).problems)).toEqual(["crl_not_yet_valid stores/default/crls/inter.crl"]);
    expect(FORCEABLE.has("crl_not_yet_valid")).toBe(true);
    expect(codes((await inspect(folder, at(2))).problems)).toEqual([]);
  });
});

describe("kv sync plan", () => {
  it("publishes into empty KV: every key under a new version, `active` last, readable by the Worker's TrustStore", async () => {
    const kv = new MemoryKv();
    const plan = await publish(baseFolder(), kv);
    expect(plan.changed).toBe(true);
    expect(plan.deployed.version).toBeNull();
    expect(plan.version).toMatch(/^20260601T120000Z-[0-9a-f]{12}$/);
    expect(plan.writes.map((w) => w.key)).toEqual([
      `v/${plan.version}/store/default`,
      `v/${plan.version}/crl/default/0`,
      `v/${plan.version}/crl/default/1`,
      `v/${plan.version}/registered`,
      `v/${plan.version}/values`,
    ]);
    expect(kv.operations).toEqual(["putMany:5", "put:active"]);
    expect(JSON.parse(new TextDecoder().decode(kv.data.get(ACTIVE_KEY)))).toEqual({ version: plan.version, activatedAt: NOW.toISOString() });
    // CRLs are stored as DER.
    expect(kv.data.get(`v/${plan.version}/crl/default/0`)![0]).toBe(0x30);
    expect(plan.stores[0]!.status).toBe("added");

    const store = new TrustStore(kvNamespace(kv), { refreshMs: 1000, kvTimeoutMs: 1000, now: () => NOW.getTime() });
    const material = await store.material("default");
    if (!material.ok) throw new Error(material.error.internal);
    expect([material.value.anchorCount, material.value.intermediateCount, material.value.crlCount, material.value.registeredSelfSigned.size]).toEqual([1, 1, 2, 1]);
    const registered = await store.registered();
    expect(registered.ok && [...registered.value.keys()].sort()).toEqual(["alice", "bob"]);
    const values = await store.values();
    expect(values.ok && values.value.get("api-key")).toBe("s3cret-value");
    const alice = await validatePath({ leaf: parsed(pki.alice), presented: [], material: material.value, now: NOW, options: { revocation: "strict" } });
    expect(alice.ok).toBe(true);
  });

  it("is a no-op when the folder's content is already deployed, whatever the file names and order", async () => {
    const kv = new MemoryKv();
    const first = await publish(baseFolder(), kv);
    const renamed = baseFolder();
    renamed["stores/default/crls/a-first.crl"] = renamed["stores/default/crls/root.crl"]!;
    delete renamed["stores/default/crls/root.crl"];
    renamed["stores/default/anchors/renamed.pem"] = renamed["stores/default/anchors/root.pem"]!;
    delete renamed["stores/default/anchors/root.pem"];
    const again = await planFor(renamed, kv, at(1));
    expect(again.changed).toBe(false);
    expect(again.writes).toEqual([]);
    expect(again.flip).toBeNull();
    expect(renderPlan(again).at(-1)).toBe(`Nothing to change: version ${first.version} already holds this content.`);
    await applyPlan(kv, again);
    expect(kv.operations).toEqual(["putMany:5", "put:active"]);
  });

  it("shows added, replaced and removed certificates, CRLs, registered ids and value names", async () => {
    const kv = new MemoryKv();
    const v1 = await publish({ ...baseFolder(), "stores/legacy/anchors/other.pem": pki.otherRoot.pem }, kv);
    const source = baseFolder();
    source["stores/default/intermediates/inter.pem"] = pki.interRenewed.pem; // renewal: same subject, another key
    source["stores/default/intermediates/inter2.pem"] = pki.inter2.pem; // new intermediate
    delete source["stores/default/pinned/device.pem"]; // removed
    source["stores/default/crls/inter.crl"] = crls.interNewer; // newer CRL of the same CA
    source["stores/default/crls/inter2.crl"] = crls.inter2; // new CRL
    delete source["registered/bob.pem"];
    source["registered/alice.pem"] = pki.carol.pem; // the id now names another certificate
    source["registered/carol.pem"] = pki.carol.pem;
    source["values.json"] = JSON.stringify({ "api-key": "rotated-secret", "new-name": "v" });
    // The old CA stays beside its renewal until its clients expire (and it signs interNewer).
    source["stores/default/intermediates/inter-old.pem"] = pki.inter.pem;
    const plan = await planFor(source, kv, NOW);
    expect(plan.deployed.version).toBe(v1.version);

    const def = plan.stores.find((s) => s.name === "default")!;
    expect(def.status).toBe("changed");
    const certChanges = def.certificates.map((c) => `${c.field} ${c.kind} ${(c.after ?? c.before)!.subject}`).sort();
    expect(certChanges).toEqual([
      "intermediates added CN=KV Issuing CA",
      "intermediates added CN=KV Issuing CA 2",
      "pinned removed CN=pinned device",
    ]);
    const crlChanges = def.crls.map((c) => `${c.kind} ${(c.after ?? c.before)!.issuer} ${c.before?.revoked ?? "-"}→${c.after?.revoked ?? "-"}`).sort();
    expect(crlChanges).toEqual(["added CN=KV Issuing CA 2 -→0", "replaced CN=KV Issuing CA 0→1"]);
    expect(def.unchanged).toEqual({ certificates: 2, crls: 1 });
    expect(plan.stores.find((s) => s.name === "legacy")!.status).toBe("removed");
    expect(plan.registered.changes.map((r) => `${r.kind} ${r.id}`)).toEqual(["replaced alice", "removed bob", "added carol"]);
    expect(plan.values.changes).toEqual([{ name: "api-key", kind: "changed" }, { name: "backend-url", kind: "removed" }, { name: "new-name", kind: "added" }]);

    const text = renderPlan(plan);
    expect(text).toContain("store legacy: removed");
    expect(text).toContain("  anchors       - CN=Other Root  sha256 " + plan.stores.find((s) => s.name === "legacy")!.certificates[0]!.before!.sha256.slice(0, 16) + `  notAfter ${pki.otherRoot.spec.notAfter.toISOString().replace(".000Z", "Z")}`);
    expect(text.some((l) => /^ {2}crls {10}~ CRL of CN=KV Issuing CA {2}thisUpdate .+ → .+ {2}nextUpdate .+ → .+ {2}revoked 0 → 1$/.test(l))).toBe(true);
    expect(text.some((l) => /^registered - bob {2}CN=bob {2}sha256 [0-9a-f]{16} {2}notAfter /.test(l))).toBe(true);
    expect(text).toContain("values: ~ api-key, - backend-url, + new-name; 0 unchanged (names only)");
    // Values are never printed, old or new.
    expect(text.join("\n")).not.toMatch(/s3cret|rotated-secret/);
    expect(text.at(-1)).toMatch(/^Plan: write 6 keys under the new version 20260601T120000Z-[0-9a-f]{12}, then switch `active` to it \(one write\)\.$/);
  });

  it("pairs a renewed certificate as replaced", async () => {
    const kv = new MemoryKv();
    await publish(baseFolder(), kv);
    const source: Record<string, string | Uint8Array> = { ...baseFolder(), "stores/default/intermediates/inter.pem": pki.interRenewed.pem };
    delete source["stores/default/crls/inter.crl"]; // signed by the old key; not the point here
    const plan = await planFor(source, kv);
    const def = plan.stores[0]!;
    expect(def.certificates.map((c) => `${c.field} ${c.kind}`)).toEqual(["intermediates replaced"]);
    expect(def.certificates[0]!.before!.sha256).not.toBe(def.certificates[0]!.after!.sha256);
    expect(renderPlan(plan).some((l) => /^ {2}intermediates ~ CN=KV Issuing CA {2}sha256 [0-9a-f]{16} → [0-9a-f]{16} {2}notAfter .+ → .+$/.test(l))).toBe(true);
  });

  it("rewrites a deployed version that cannot be read, and says why", async () => {
    const kv = new MemoryKv();
    const v1 = await publish(baseFolder(), kv);
    kv.data.set(`v/${v1.version}/store/default`, new TextEncoder().encode("{not json"));
    const plan = await planFor(baseFolder(), kv, at(1));
    expect(plan.changed).toBe(true);
    expect(plan.stores[0]!.status).toBe("changed");
    expect(plan.stores[0]!.issue).toMatch(/store\/default: not a JSON object/);
    expect(renderPlan(plan).join("\n")).toMatch(/deployed copy unreadable/);
  });

  it("status lists the active version's certificates, CRLs, registered ids and value names", async () => {
    const kv = new MemoryKv();
    const plan = await publish(baseFolder(), kv);
    const lines = renderStatus(await readDeployed(kv), kv.description);
    expect(lines[0]).toBe(`in-memory KV: active version ${plan.version} (activated 2026-06-01T12:00:00Z)`);
    expect(lines).toContain("store default (1 anchors, 1 intermediates, 1 pinned, 2 CRLs)");
    expect(lines.some((l) => /^ {2}crls {10}CRL of CN=KV Issuing CA {2}thisUpdate 2026-05-30T12:00:00Z {2}nextUpdate 2026-06-06T12:00:00Z {2}revoked 0$/.test(l))).toBe(true);
    expect(lines).toContain("registered (2)");
    expect(lines.at(-1)).toBe("values (2): api-key, backend-url");
    expect(lines.join("\n")).not.toContain("s3cret");
  });
});

describe("CRL refresh settings in the folder (stores/<name>/refresh.json)", () => {
  const REFRESH = JSON.stringify({ refreshCrls: true, crlUrls: ["http://pki.example/issuing.crl"] });

  it("are written into the store record, shown in the plan, and read back by the scheduled job's parser", async () => {
    const kv = new MemoryKv();
    const plan = await publish({ ...baseFolder(), "stores/default/refresh.json": REFRESH }, kv);
    const record = JSON.parse(new TextDecoder().decode(kv.data.get(`v/${plan.version}/store/default`)!)) as Record<string, unknown>;
    expect(record.refreshCrls).toBe(true);
    expect(record.crlUrls).toEqual(["http://pki.example/issuing.crl"]);
    expect(plan.stores[0]!.status).toBe("added");
    const deployed = await readDeployed(kv);
    expect(deployed.content.stores.get("default")!.refresh).toEqual({ refreshCrls: true, crlUrls: ["http://pki.example/issuing.crl"] });
    expect(renderStatus(deployed, "local")).toContain("  refresh       CRL refresh on, also http://pki.example/issuing.crl");
    // The same folder again: nothing to change.
    expect((await planFor({ ...baseFolder(), "stores/default/refresh.json": REFRESH }, kv, at(1))).changed).toBe(false);
  });

  it("a sync whose folder lacks them never drops them silently: the plan says the refresh stops", async () => {
    const kv = new MemoryKv();
    await publish({ ...baseFolder(), "stores/default/refresh.json": REFRESH }, kv);
    const plan = await planFor(baseFolder(), kv, at(1));
    expect(plan.changed).toBe(true);
    const store = plan.stores.find((x) => x.name === "default")!;
    expect(store.status).toBe("changed");
    expect(store.refresh).toEqual({ before: { refreshCrls: true, crlUrls: ["http://pki.example/issuing.crl"] }, after: { refreshCrls: false, crlUrls: [] } });
    expect(renderPlan(plan).join("\n")).toContain("refresh       ~ CRL refresh on, also http://pki.example/issuing.crl → CRL refresh off  (the scheduled CRL refresh stops for this store; add stores/default/refresh.json to keep it)");
  });

  it("refuses a malformed refresh.json with refresh_malformed", async () => {
    for (const bad of ["{", "[]", '{"refreshCrls": "yes"}', '{"refreshCrls": true, "crlUrls": ["ftp://x/y.crl"]}', '{"crlUrls": ["http://x/y.crl"]}',
      '{"refreshCrls": true, "crlUrl": []}', '{"refreshCrls": true, "crlUrls": ["http://u:p@x/y.crl"]}']) {
      const { problems } = await inspect({ ...baseFolder(), "stores/default/refresh.json": bad });
      expect(codes(problems), bad).toEqual(["refresh_malformed stores/default/refresh.json"]);
    }
  });
});

describe("kv sync run (folder on disk, memory KV)", () => {
  let dir: string;
  const folders: string[] = [];

  async function folder(files: Record<string, string | Uint8Array>): Promise<string> {
    const d = await mkdtemp(join(dir, "src-"));
    for (const [path, data] of Object.entries(files)) {
      await mkdir(dirname(join(d, path)), { recursive: true });
      await writeFile(join(d, path), data);
    }
    folders.push(d);
    return d;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "certgate-kv-unit-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const options = (d: string, more: Partial<{ force: boolean; dryRun: boolean; json: boolean }> = {}) =>
    ({ dir: d, dryRun: false, force: false, json: false, now: NOW, ...more });

  it("refuses stale or expired material without --force, publishes it with --force and says so", async () => {
    const d = await folder({ ...baseFolder(), "stores/default/intermediates/expired.pem": pki.expiredInter.pem, "stores/default/crls/inter.crl": crls.stale });
    const kv = new MemoryKv();
    let opened = 0;
    const open = async () => (opened++, kv);
    const refused = capture();
    expect(await runSync(options(d), open, refused)).toBe(1);
    expect(opened).toBe(0); // refused before KV is touched
    expect(kv.operations).toEqual([]);
    expect(refused.stderr[0]).toMatch(/^kv sync: refused: 2 problems in .* \(nothing was read from or written to KV\):$/);
    expect(refused.stderr.join("\n")).toMatch(/expired\.pem: an intermediate that expired on .* \[certificate_expired, --force overrides\]/);
    expect(refused.stderr.at(-1)).toMatch(/pass --force/);

    const forced = capture();
    expect(await runSync(options(d, { force: true }), open, forced)).toBe(0);
    expect(kv.operations).toEqual(["putMany:5", "put:active"]);
    const text = forced.stdout.join("\n");
    expect(text).toMatch(/Published despite \(--force\):\n {2}stores\/default\/crls\/inter\.crl: stale: .* \[crl_stale, --force overrides\]\n {2}stores\/default\/intermediates\/expired\.pem: /);
    expect(forced.stdout.at(-1)).toMatch(/^Published version 20260601T120000Z-[0-9a-f]{12} to in-memory KV in \d+ ms; `active` switched\.$/);
  });

  it("refuses to replace a deployed CRL with an older one (the refresh's newer CRL would be lost) unless --force", async () => {
    const kv = new MemoryKv();
    const open = async () => kv;
    const newer = await folder({ ...baseFolder(), "stores/default/crls/inter.crl": crls.interNewer });
    expect(await runSync(options(newer), open, capture())).toBe(0);
    const before = [...kv.operations];
    const older = await folder(baseFolder()); // the folder still holds the issuing CA's previous CRL
    const refused = capture();
    expect(await runSync(options(older), open, refused)).toBe(1);
    expect(kv.operations).toEqual(before); // nothing written
    expect(refused.stdout.join("\n")).toContain("! OLDER than the deployed CRL");
    expect(refused.stderr.join("\n")).toMatch(/stores\/default\/crls: the folder's CRL of CN=KV Issuing CA .* is older than the deployed one .* \[crl_older_than_deployed, --force overrides\]/);
    expect(await runSync(options(older, { force: true }), open, capture())).toBe(0);
    expect(kv.operations.length).toBe(before.length + 2);
  });

  it("--force never publishes malformed material", async () => {
    const d = await folder({ ...baseFolder(), "stores/default/crls/inter.crl": crls.stale, "registered/broken.pem": "junk" });
    const kv = new MemoryKv();
    const out = capture();
    expect(await runSync(options(d, { force: true }), async () => kv, out)).toBe(1);
    expect(kv.operations).toEqual([]);
    expect(out.stderr[0]).toMatch(/refused: 1 problem/);
    expect(out.stderr[1]).toMatch(/registered\/broken\.pem: does not parse/);
  });

  it("--dry-run prints the plan and writes nothing; a second run is a no-op; --json carries the plan", async () => {
    const d = await folder(baseFolder());
    const kv = new MemoryKv();
    const dry = capture();
    expect(await runSync(options(d, { dryRun: true }), async () => kv, dry)).toBe(0);
    expect(kv.operations).toEqual([]);
    expect(dry.stdout.at(-1)).toBe("Dry run: nothing written.");
    expect(await runSync(options(d), async () => kv, capture())).toBe(0);
    const again = capture();
    expect(await runSync(options(d), async () => kv, again)).toBe(0);
    expect(again.stdout.at(-1)).toMatch(/^Nothing to change: version \S+ already holds this content\.$/);
    expect(kv.operations).toEqual(["putMany:5", "put:active"]);
    const json = capture();
    expect(await runSync(options(d, { json: true, dryRun: true }), async () => kv, json)).toBe(0);
    const doc = JSON.parse(json.stdout.join("\n")) as { plan: { changed: boolean; writes: unknown[] }; applied: boolean; problems: unknown[] };
    expect(doc).toMatchObject({ applied: false, problems: [], plan: { changed: false, writes: [] } });
  });

  it("a failed staging write leaves `active` untouched", async () => {
    const d = await folder(baseFolder());
    const kv = new MemoryKv();
    kv.putMany = async () => {
      throw new Error("bulk put failed: 500");
    };
    const out = capture();
    expect(await runSync(options(d), async () => kv, out)).toBe(1);
    expect(kv.data.has(ACTIVE_KEY)).toBe(false);
    expect(out.stderr.join("\n")).toMatch(/bulk put failed: 500[\s\S]*`active` was not switched/);
  });

  it("status on empty KV says nothing is deployed", async () => {
    const out = capture();
    expect(await runStatus(async () => new MemoryKv(), false, out)).toBe(0);
    expect(out.stdout[0]).toBe("in-memory KV: nothing deployed (no readable `active` key)");
  });

  it("refuses a folder that does not exist", async () => {
    const out = capture();
    expect(await runSync(options(join(dir, "missing")), async () => new MemoryKv(), out)).toBe(1);
    expect(out.stderr[0]).toMatch(/cannot read .*missing/);
  });
});

describe("wrangler CLI adapter (pure parts) and kv arguments", () => {
  const bytes = (text: string) => new TextEncoder().encode(text);

  it("selects local storage or a remote namespace with the location flags only", () => {
    expect(locationFlags({ kind: "local", persistTo: "/tmp/state" }, "/p/wrangler.toml")).toEqual(["--local", "--binding", "TRUST", "--persist-to", "/tmp/state", "--config", "/p/wrangler.toml"]);
    expect(locationFlags({ kind: "remote", namespaceId: "0123456789abcdef0123456789abcdef" }, "/p/wrangler.toml")).toEqual(["--remote", "--namespace-id", "0123456789abcdef0123456789abcdef", "--config", "/p/wrangler.toml"]);
  });

  it("writes DER values base64-encoded in the bulk file, text as is", () => {
    expect(bulkEntry({ key: "a", value: "{}" })).toEqual({ key: "a", value: "{}" });
    expect(bulkEntry({ key: "c", value: Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x00) })).toEqual({ key: "c", value: "MAMCAQA=", base64: true });
  });

  it("reads bulk-get output in the local and the remote (API) shapes, skipping anything printed before it", () => {
    const local = readBulkGetOutput(bytes('{\n  "active": {\n    "value": "{\\"version\\":\\"x\\"}"\n  },\n  "gone": {\n    "value": null\n  }\n}\n'), ["active", "gone"]);
    expect([...local]).toEqual([["active", '{"version":"x"}'], ["gone", null]]);
    const remote = readBulkGetOutput(bytes('Resource location: remote\n{"active": "{}", "gone": null}\n'), ["active", "gone", "unasked"]);
    expect([...remote]).toEqual([["active", "{}"], ["gone", null], ["unasked", null]]);
    expect(() => readBulkGetOutput(bytes("✘ [ERROR] Authentication error\n"), ["active"])).toThrow(/printed no JSON/);
    expect(readKeyListOutput(bytes('[{"name": "v/a/store/x"}, {"name": "v/b/values", "metadata": {}}]'), "v/a/")).toEqual(["v/a/store/x"]);
  });

  it("kv CLI: exit 2 with every usage error", async () => {
    const r = await runTsx("scripts/kv/main.ts", ["sync", "a", "b", "--remote", "--persist-to", "x", "--bogus", "--namespace-id", "nope"]);
    expect(r.code).toBe(2);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      "kv sync: unknown option --bogus",
      "kv sync: --persist-to is for --local",
      'kv sync: --namespace-id: "nope" is not a KV namespace id (32 hex digits)',
      "kv sync: one DIR only (got 2)",
      'Run "kv sync --help" for usage.',
    ]);
    const status = await runTsx("scripts/kv/main.ts", ["status", "--local", "--remote"]);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/--local and --remote exclude each other[\s\S]*--remote needs --namespace-id ID/);
  });
});
