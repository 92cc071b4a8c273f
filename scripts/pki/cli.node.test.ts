/**
 * `npm run pki -- …`: argument checking in process (every error collected), then the CLI as a real process
 * (tsx on this Node) writing into temporary folders. The generated material is checked with certgate's own
 * engine — the chains validate, the revoked client is revoked through the generated CRLs, the SANs and EKUs
 * are what was asked — and its `kv/` folder passes `kv sync`'s checks unchanged.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCertificates } from "../../src/cert/decode";
import { describeCertificate } from "../../src/cert/model";
import { parseCertificate, type ParsedCertificate } from "../../src/cert/parse";
import { prepareTrustMaterial } from "../../src/pki/trust-material";
import { validatePath } from "../../src/pki/validate";
import { runTsx, type ProcessResult } from "../../test/support/cli-process";
import { inspectSource } from "../kv/sync";
import { customSpecOf } from "./cli";
import { DEFAULT_SPEC, type CustomManifest } from "./custom";

let dir: string;
const pki = (...args: string[]): Promise<ProcessResult> => runTsx("scripts/pki/cli.ts", args, { timeoutMs: 60_000 });

function ders(file: string): Uint8Array[] {
  const r = decodeCertificates(readFileSync(file, "utf8"), { maxCount: 16 });
  if (!r.ok) throw new Error(`${file}: ${r.error.detail}`);
  return r.value;
}

function parsed(der: Uint8Array): ParsedCertificate {
  const r = parseCertificate(der);
  if (!r.ok) throw new Error(r.error.detail);
  return r.value;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "certgate-pki-cli-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("pki custom arguments", () => {
  it("collects every usage error at once", () => {
    const r = customSpecOf([
      "--algorithm", "rsa-1024", "--days", "0", "--intermediates", "9", "--clients", "a,a,b c",
      "--san", "foo:bar,ip:999.1.1.1,dns:", "--san", "uri:not a uri", "--eku", "fooAuth", "--revoke", "zed", "--crl=yes", "extra",
    ]);
    expect("errors" in r && r.errors).toEqual([
      "--crl takes no value",
      "--out DIR is required",
      'unexpected argument "extra"',
      '--algorithm: "rsa-1024" is not one of rsa-2048, rsa-3072, p-256, p-384',
      "--days: 0 is out of range (1–36500)",
      "--intermediates: 9 is out of range (0–6)",
      '--clients: "b c" is not a client name (1–63 of letters, digits, . _ -, starting with a letter or digit)',
      '--clients: "a" is given twice',
      '--san: "foo:bar" is not TYPE:VALUE with TYPE dns, email, uri or ip',
      "--san: ip:999.1.1.1 is not an IPv4 or IPv6 address",
      '--san: "dns:" has no value',
      "--san: uri:not a uri is not an absolute URI",
      '--eku: "fooAuth" is not one of clientAuth, serverAuth, codeSigning, emailProtection, timeStamping, OCSPSigning, anyExtendedKeyUsage or a dotted OID',
      '--revoke: "zed" is not one of the clients (a, a, b c)',
    ]);
  });

  it("has defaults, and --revoke implies --crl", () => {
    expect(customSpecOf(["--out", "x"])).toEqual({ out: "x", force: false, spec: DEFAULT_SPEC });
    const r = customSpecOf(["--out=x", "--clients", "alice, bob", "--revoke", "bob", "--eku", "clientAuth,1.3.6.1.4.1.311.20.2.2", "--algorithm", "p-384"]);
    expect("spec" in r && r.spec).toMatchObject({ clients: ["alice", "bob"], revoke: ["bob"], crl: true, eku: ["clientAuth", "1.3.6.1.4.1.311.20.2.2"], algorithm: "p-384" });
  });
});

describe("pki CLI", () => {
  it("exits 2 with every message on bad arguments, 0 with usage on --help", async () => {
    const bad = await pki("custom", "--days", "x", "--bogus");
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n").filter(Boolean)).toEqual([
      "pki custom: unknown option --bogus",
      "pki custom: --out DIR is required",
      'pki custom: --days: "x" is not a whole number',
      'Run "pki custom --help" for usage.',
    ]);
    expect((await pki("frobnicate")).code).toBe(2);
    // --out onto a file, or under one: a usage error naming it, not Node's ENOTDIR text
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    const [onto, under] = await Promise.all([pki("demo", "--out", file), pki("custom", "--out", join(file, "pki"))]);
    expect([onto.code, under.code]).toEqual([2, 2]);
    expect(onto.stderr).toContain(`pki demo: --out ${file}: is a file, not a folder`);
    expect(under.stderr).toContain(`pki custom: --out ${join(file, "pki")}: `);
    expect(under.stderr).toContain("is a file, not a folder");
    for (const r of [onto, under]) expect(r.stderr).not.toMatch(/ENOTDIR|EEXIST|\n\s+at /);
    const help = await pki("custom", "--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: pki custom --out DIR/);
  });

  it("custom writes root → intermediates → clients with keys, CRLs, a manifest and a kv folder that syncs cleanly", async () => {
    const out = join(dir, "custom");
    const r = await pki(
      "custom", "--out", out, "--algorithm", "p-384", "--days", "30", "--intermediates", "2", "--clients", "alice,bob",
      "--san", "dns:{name}.example.com,email:{name}@example.com", "--san", "uri:spiffe://example.com/{name},ip:192.0.2.7",
      "--eku", "clientAuth,serverAuth", "--revoke", "bob",
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^custom PKI written to .* in \d+ ms: p-384, root \+ 2 intermediate\(s\), 2 client\(s\), CRLs \(1 revoked\); see manifest\.json\npublish it: npm run kv -- sync .*kv --local\n$/);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")) as CustomManifest;
    expect(manifest.cas.map((c) => `${c.name}<${c.issuer}> ${c.crl}`)).toEqual(["root<null> crl/root.crl", "intermediate-1<root> crl/intermediate-1.crl", "intermediate-2<intermediate-1> crl/intermediate-2.crl"]);
    expect(manifest.clients.map((c) => `${c.name} ${c.issuer} ${c.revoked}`)).toEqual(["alice intermediate-2 false", "bob intermediate-2 true"]);
    for (const f of [...manifest.cas.flatMap((c) => [c.cert, c.key]), ...manifest.clients.flatMap((c) => [c.cert, c.key, c.chain])]) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    expect(readFileSync(join(out, manifest.clients[0]!.key), "utf8")).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const alice = parsed(ders(join(out, "clients/alice.pem"))[0]!);
    const model = await describeCertificate(alice);
    expect(model.subjectAltNames).toEqual({ dns: ["alice.example.com"], email: ["alice@example.com"], uri: ["spiffe://example.com/alice"], ip: ["192.0.2.7"] });
    expect(model.extendedKeyUsage).toEqual(["clientAuth", "serverAuth"]);
    expect(model.publicKey.curve).toBe("P-384");
    expect(Math.round((alice.notAfter.getTime() - alice.notBefore.getTime()) / 86_400_000)).toBe(31);

    // Validate with the generated material only: the root as anchor, each client's chain file, every CRL.
    const material = await prepareTrustMaterial({
      version: "test",
      anchors: ders(join(out, "ca/root.pem")),
      crls: manifest.cas.map((c) => new Uint8Array(readFileSync(join(out, c.crl!)))),
    });
    if (!material.ok) throw new Error(material.error.detail);
    const verdict = async (name: string) => {
      const [leaf, ...chain] = ders(join(out, `clients/${name}.chain.pem`));
      const v = await validatePath({ leaf: parsed(leaf!), presented: chain.map(parsed), material: material.value, now: new Date(), options: { revocation: "strict" } });
      return v.ok ? `ok, ${v.value.certificates.length} certificates` : v.error.code;
    };
    expect(await verdict("alice")).toBe("ok, 4 certificates");
    expect(await verdict("bob")).toBe("certificate_revoked");

    const source = await inspectSource(join(out, "kv"), new Date());
    expect(source.problems).toEqual([]);
    const store = source.content.stores.get("default")!;
    expect([store.anchors.length, store.intermediates.length, store.crls.length]).toEqual([1, 2, 3]);
    expect([...source.content.registered.keys()]).toEqual(["alice", "bob"]);
  });

  it("refuses a non-empty folder without --force; --force rewrites it and drops stale kv files", async () => {
    const out = join(dir, "forced");
    expect((await pki("custom", "--out", out, "--clients", "alice,bob", "--crl")).code).toBe(0);
    await writeFile(join(out, "mine.txt"), "keep me");
    const refused = await pki("custom", "--out", out);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^pki custom: .*forced is not empty; pass --force/);
    const forced = await pki("custom", "--out", out, "--force", "--clients", "carol", "--intermediates", "0", "--algorithm", "rsa-2048");
    expect(forced.stderr).toBe("");
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, "mine.txt"), "utf8")).toBe("keep me");
    const source = await inspectSource(join(out, "kv"), new Date());
    expect(source.problems).toEqual([]);
    expect([...source.content.registered.keys()]).toEqual(["carol"]);
    const store = source.content.stores.get("default")!;
    expect([store.anchors.length, store.intermediates.length, store.crls.length]).toEqual([1, 0, 0]);
    expect(store.anchors[0]!.parsed.publicKey.bits).toBe(2048);
  });

  it("demo writes the demo PKI and a kv folder with the content npm start seeds", async () => {
    const out = join(dir, "demo");
    const r = await pki("demo", "--out", out);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(existsSync(join(out, "manifest.json"))).toBe(true);
    const source = await inspectSource(join(out, "kv"), new Date());
    expect(source.problems).toEqual([]);
    const store = source.content.stores.get("default")!;
    expect(store.anchors.map((c) => c.subject)).toEqual(["CN=certgate Demo Root CA, O=certgate Demo, C=US"]);
    expect(store.intermediates.map((c) => c.subject)).toEqual(["CN=certgate Demo DEV Issuing CA, OU=DEV, O=certgate Demo, C=US"]);
    expect([...source.content.registered.keys()]).toEqual(["valid-client"]);
    const again = await pki("demo", "--out", out);
    expect(again.code).toBe(1);
    // One line in the CLI's words: no library option syntax ("force: true"), no stack.
    expect(again.stderr).toMatch(/^pki demo: .*demo is not empty; pass --force to overwrite the demo PKI there\n$/);
    expect((await pki("demo")).code).toBe(2);
  });
});
