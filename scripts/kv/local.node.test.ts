/**
 * `kv sync` / `kv status` end to end against real local KV (wrangler's storage under a temporary
 * --persist-to), then read back by the Worker's reader.
 *
 * 1. `npm run kv -- sync v1` (a real process; --local = in-process local storage, local-kv.ts) publishes
 *    root + intermediate 1, their CRLs and three registered clients; `kv status --json` shows it (in process
 *    from here on: each CLI run costs ~4 s of tsx and wrangler start-up, and the CLI's own layer — argv, exit
 *    status, stdout free of wrangler's chatter — is what the first run already covers).
 * 2. v2 adds intermediate 2 and its CRL (revoking carol) and drops registered bob: a dry run shows exactly
 *    that plan and writes nothing.
 * 3. v2 is published through the `wrangler kv` CLI adapter (wrangler-kv.ts with --local flags: the commands
 *    `--remote` runs, against local storage): a new active version, which `kv status` (in-process adapter)
 *    shows — each adapter reads what the other wrote. Publishing v2 again is "nothing to change".
 * 4. The Worker's side: the TRUST binding wrangler gives `wrangler dev --persist-to` (getPlatformProxy over the
 *    same folder) feeds src/pki/trust-store.ts, which loads the store, the registered certificates and the
 *    CRLs; alice validates, carol is revoked, bob is no longer registered.
 */
import { readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getPlatformProxy } from "wrangler";
import { decodeCertificate } from "../../src/cert/decode";
import { parseCertificate, type ParsedCertificate } from "../../src/cert/parse";
import { TrustStore } from "../../src/pki/trust-store";
import { validatePath } from "../../src/pki/validate";
import { runTsx, type ProcessResult } from "../../test/support/cli-process";
import { generateCustomPki, type CustomManifest } from "../pki/custom";
import { LocalKv } from "./local-kv";
import { runStatus, runSync, type Output } from "./sync";
import { PROJECT_ROOT, WranglerKv } from "./wrangler-kv";

let dir: string;
let persistTo: string;
let manifest: CustomManifest;
let v1: string;
let v2: string;
let v1Version: string;
let v2Version: string;

const kv = (...args: string[]): Promise<ProcessResult> => runTsx("scripts/kv/main.ts", args, { timeoutMs: 60_000 });

function capture(): Output & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

function certificate(file: string): ParsedCertificate {
  const der = decodeCertificate(readFileSync(join(dir, "pki", file), "utf8"));
  if (!der.ok) throw new Error(der.error.detail);
  const parsed = parseCertificate(der.value);
  if (!parsed.ok) throw new Error(parsed.error.detail);
  return parsed.value;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "certgate-kv-local-"));
  persistTo = join(dir, "state");
  await mkdir(persistTo); // an explicit --persist-to must exist (kv refuses a typo instead of creating it)
  manifest = await generateCustomPki(join(dir, "pki"), {
    algorithm: "p-256",
    days: 365,
    intermediates: 2,
    clients: ["alice", "bob", "carol"],
    sans: [{ type: "dns", value: "{name}.certgate.test" }],
    eku: ["clientAuth"],
    crl: true,
    revoke: ["carol"],
  });
  v1 = join(dir, "v1");
  v2 = join(dir, "v2");
  await cp(join(dir, "pki", "kv"), v1, { recursive: true });
  await cp(join(dir, "pki", "kv"), v2, { recursive: true });
  await rm(join(v1, "stores/default/intermediates/intermediate-2.pem"));
  await rm(join(v1, "stores/default/crls/intermediate-2.crl"));
  await rm(join(v2, "registered/bob.pem"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("kv against local KV", () => {
  it("sync publishes a folder into empty local KV, and status shows it", async () => {
    const sync = await kv("sync", v1, "--local", "--persist-to", persistTo);
    expect(sync.stderr).toBe("");
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/^kv sync: .*v1 → local KV \(.*state\)\nDeployed: nothing \(no readable `active` key\)\nstore default: added\n/);
    expect(sync.stdout).toMatch(/\n {2}intermediates \+ CN=certgate Test Intermediate CA 1, O=certgate Test {2}sha256 [0-9a-f]{16} {2}notAfter \S+Z\n/);
    const published = /Published version (\S+) to local KV/.exec(sync.stdout);
    expect(published).not.toBeNull();
    v1Version = published![1]!;

    const status = capture();
    expect(await runStatus(() => LocalKv.open(persistTo), true, status)).toBe(0);
    const state = JSON.parse(status.stdout.join("\n")) as {
      version: string;
      stores: Record<string, { anchors: Array<{ subject: string }>; intermediates: Array<{ subject: string; sha256: string }>; crls: Array<{ issuer: string; revoked: number }> }>;
      registered: Record<string, { subject: string }>;
      values: string[];
      issues: string[];
    };
    expect(state.version).toBe(v1Version);
    expect(state.issues).toEqual([]);
    expect(state.stores.default!.anchors.map((c) => c.subject)).toEqual(["CN=certgate Test Root CA, O=certgate Test"]);
    expect(state.stores.default!.intermediates.map((c) => c.subject)).toEqual(["CN=certgate Test Intermediate CA 1, O=certgate Test"]);
    expect(state.stores.default!.crls.map((c) => `${c.issuer} ${c.revoked}`).sort()).toEqual([
      "CN=certgate Test Intermediate CA 1, O=certgate Test 0",
      "CN=certgate Test Root CA, O=certgate Test 0",
    ]);
    expect(Object.keys(state.registered).sort()).toEqual(["alice", "bob", "carol"]);
  }, 60_000);

  it("--dry-run plans the changed folder (new intermediate, new CRL, removed registered) and writes nothing", async () => {
    const out = capture();
    expect(await runSync({ dir: v2, dryRun: true, force: false, json: true, now: new Date() }, () => LocalKv.open(persistTo), out)).toBe(0);
    const doc = JSON.parse(out.stdout.join("\n")) as {
      applied: boolean;
      plan: {
        deployed: { version: string };
        changed: boolean;
        version: string;
        stores: Array<{ name: string; status: string; certificates: Array<{ kind: string; field: string; after?: { subject: string } }>; crls: Array<{ kind: string; after?: { issuer: string; revoked: number } }>; unchanged: { certificates: number; crls: number } }>;
        registered: { changes: Array<{ id: string; kind: string }>; unchanged: number };
        writes: Array<{ key: string }>;
      };
    };
    expect(doc.applied).toBe(false);
    expect(doc.plan.deployed.version).toBe(v1Version);
    expect(doc.plan.changed).toBe(true);
    const store = doc.plan.stores[0]!;
    expect(store.status).toBe("changed");
    expect(store.certificates.map((c) => `${c.kind} ${c.field} ${c.after?.subject}`)).toEqual(["added intermediates CN=certgate Test Intermediate CA 2, O=certgate Test"]);
    expect(store.crls.map((c) => `${c.kind} ${c.after?.issuer} revoked ${c.after?.revoked}`)).toEqual(["added CN=certgate Test Intermediate CA 2, O=certgate Test revoked 1"]);
    expect(store.unchanged).toEqual({ certificates: 2, crls: 2 });
    expect(doc.plan.registered).toEqual({ changes: [{ id: "bob", kind: "removed", before: expect.objectContaining({ subject: "CN=bob, O=certgate Test" }) }], unchanged: 2 });
    expect(doc.plan.writes.map((w) => w.key.replace(doc.plan.version, "V"))).toEqual([
      "v/V/store/default", "v/V/crl/default/0", "v/V/crl/default/1", "v/V/crl/default/2", "v/V/registered", "v/V/values",
    ]);
    const after = capture();
    await runStatus(() => LocalKv.open(persistTo), true, after);
    expect((JSON.parse(after.stdout.join("\n")) as { version: string }).version).toBe(v1Version);
  }, 60_000);

  it("sync through the `wrangler kv` commands publishes a new active version; the in-process adapter sees it; a rerun changes nothing", async () => {
    const out = capture();
    const code = await runSync({ dir: v2, dryRun: false, force: false, json: false, now: new Date() }, async () => new WranglerKv({ location: { kind: "local", persistTo } }), out);
    expect(out.stderr).toEqual([]);
    expect(code).toBe(0);
    expect(out.stdout[1]).toMatch(new RegExp(`^Deployed: version ${v1Version} \\(activated \\S+Z\\)$`));
    expect(out.stdout.some((l) => /^registered - bob {2}CN=bob, O=certgate Test {2}sha256 [0-9a-f]{16} {2}notAfter \S+Z$/.test(l))).toBe(true);
    v2Version = /^Published version (\S+) to local KV/.exec(out.stdout.at(-1)!)![1]!;
    expect(v2Version).not.toBe(v1Version);

    const status = capture();
    expect(await runStatus(() => LocalKv.open(persistTo), false, status)).toBe(0);
    const lines = status.stdout;
    expect(lines[0]).toMatch(new RegExp(`^local KV \\(.*state\\): active version ${v2Version} \\(activated \\S+Z\\)$`));
    expect(lines[1]).toBe("store default (1 anchors, 2 intermediates, 0 pinned, 3 CRLs)");
    expect(lines.some((l) => /^ {2}crls {10}CRL of CN=certgate Test Intermediate CA 2, O=certgate Test {2}thisUpdate \S+ {2}nextUpdate \S+ {2}revoked 1$/.test(l))).toBe(true);
    expect(lines).toContain("registered (2)");
    expect(lines.at(-1)).toBe("values (0)");

    const again = capture();
    expect(await runSync({ dir: v2, dryRun: false, force: false, json: false, now: new Date() }, () => LocalKv.open(persistTo), again)).toBe(0);
    expect(again.stdout.at(-1)).toBe(`Nothing to change: version ${v2Version} already holds this content.`);
  }, 60_000);

  it("the Worker's TrustStore reads the published version from the storage `wrangler dev --persist-to` uses", async () => {
    const proxy = await getPlatformProxy<{ TRUST: KVNamespace }>({
      configPath: join(PROJECT_ROOT, "wrangler.toml"),
      persist: { path: join(persistTo, "v3") },
      envFiles: [],
      remoteBindings: false,
    });
    try {
      const store = new TrustStore(proxy.env.TRUST, { refreshMs: 1000, kvTimeoutMs: 5000 });
      expect(await store.activeVersion()).toEqual({ ok: true, value: v2Version });
      const material = await store.material("default");
      if (!material.ok) throw new Error(material.error.internal);
      expect([material.value.anchorCount, material.value.intermediateCount, material.value.crlCount]).toEqual([1, 2, 3]);
      const registered = await store.registered();
      if (!registered.ok) throw new Error(registered.error.internal);
      expect([...registered.value.keys()].sort()).toEqual(["alice", "carol"]);
      const verdict = async (name: string) => {
        const client = manifest.clients.find((c) => c.name === name)!;
        const r = await validatePath({ leaf: certificate(client.cert), presented: [], material: material.value, now: new Date(), options: { revocation: "strict" } });
        return r.ok ? "ok" : r.error.code;
      };
      expect(await verdict("alice")).toBe("ok");
      expect(await verdict("carol")).toBe("certificate_revoked");
    } finally {
      await proxy.dispose();
    }
  }, 60_000);
});
