/**
 * The `cert` CLI as a user runs it: a real process (tsx on this Node) against a PKI generated at test start,
 * relative to the real clock (the CLI's default time is now). Asserts exit codes, stdout records and stderr
 * messages; codes are compared, not message text. One test compares verdicts with the real `openssl verify`.
 *
 * PKI: Test Root → Test Issuing CA → leaves alice (valid, SANs), expired, not-yet-valid, revoked (listed in the
 * issuing CA's CRL), server-only (EKU serverAuth); Other Root → stranger (untrusted). Each leaf file holds the
 * leaf followed by its issuing CA (the presented chain); alice.der is the bare leaf.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toPem, type BuiltCertificate } from "../pki/builder";
import { ca, cert as issue, crl, leaf } from "../../test/support/chains";
import { makeTempDir, runProgram, runTsx, type ProcessResult, type TempDir } from "../../test/support/cli-process";
import { parseCommandLine, parseIsoTime } from "./args";
import { readDerElement } from "../../src/cert/decode";

const DAY = 86_400_000;
const NOW = Date.now();
const at = (days: number) => new Date(NOW + days * DAY);
const life = (from: number, to: number) => ({ notBefore: at(from), notAfter: at(to) });
/** ISO text of a certificate time (encoded to the second). */
const certTime = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString();

const ALICE_SUBJECT = "CN=alice, OU=Engineering, O=Example Corp, C=DE";

let dir: TempDir;
const pki = {} as Record<"root" | "inter" | "otherRoot" | "alice" | "expired" | "notYet" | "revoked" | "serverOnly" | "stranger", BuiltCertificate>;
/** Full paths of the files written to `dir`. */
const f = {} as Record<string, string>;

function cert(...args: string[]): Promise<ProcessResult> {
  return runTsx("scripts/cert/main.ts", args);
}

function jsonLines(r: ProcessResult): Array<Record<string, unknown>> {
  return r.stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** verify --json, returning code per file (or "ok"). */
async function codes(...args: string[]): Promise<{ exit: number | null; byFile: Record<string, string>; lines: Array<Record<string, unknown>>; stderr: string }> {
  const r = await cert("verify", "--json", ...args);
  const lines = jsonLines(r);
  const byFile: Record<string, string> = {};
  for (const l of lines) byFile[String(l.file)] = l.valid ? "ok" : String(l.code);
  return { exit: r.code, byFile, lines, stderr: r.stderr };
}

function base64(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

async function sha1Upper(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("").toUpperCase();
}

beforeAll(async () => {
  dir = await makeTempDir("certgate-cli-");
  const caLife = life(-3 * 365, 10 * 365);
  const selfSigned = (subject: string) =>
    issue({ subject, ...caLife, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } } });
  pki.root = await selfSigned("CN=Test Root CA");
  pki.otherRoot = await selfSigned("CN=Other Root CA");
  pki.inter = await ca("Test Issuing CA", pki.root, "p-256", {}, caLife);
  pki.alice = await leaf("alice", pki.inter, "p-256", {
    subjectAltName: { names: [{ dns: "alice.example.com" }, { email: "alice@example.com" }, { uri: "spiffe://example.com/alice" }, { ip: "192.0.2.7" }] },
  }, { subject: ALICE_SUBJECT, ...life(-30, 365) });
  pki.expired = await leaf("expired", pki.inter, "p-256", {}, life(-400, -10));
  pki.notYet = await leaf("not yet", pki.inter, "p-256", {}, life(10, 400));
  pki.revoked = await leaf("revoked", pki.inter, "p-256", {}, life(-30, 365));
  pki.serverOnly = await leaf("server only", pki.inter, "p-256", { extKeyUsage: { oids: ["serverAuth"] } }, life(-30, 365));
  pki.stranger = await leaf("stranger", pki.otherRoot, "p-256", {}, life(-30, 365));
  const interCrl = await crl({ issuer: pki.inter, thisUpdate: at(-1), nextUpdate: at(7), entries: [{ serialNumber: pki.revoked.serialNumber, revocationDate: at(-2), reason: "keyCompromise" }] });
  const rootCrl = await crl({ issuer: pki.root, thisUpdate: at(-1), nextUpdate: at(7) });

  f.root = await dir.write("root.pem", pki.root.pem);
  f.inter = await dir.write("inter.pem", pki.inter.pem);
  f.otherRoot = await dir.write("other-root.pem", pki.otherRoot.pem);
  f.anchors = await dir.write("anchors.pem", pki.root.pem + pki.otherRoot.pem);
  for (const name of ["alice", "expired", "notYet", "revoked", "serverOnly"] as const) {
    f[name] = await dir.write(`${name}.pem`, pki[name].pem + pki.inter.pem);
  }
  f.stranger = await dir.write("stranger.pem", pki.stranger.pem);
  f.aliceDer = await dir.write("alice.der", pki.alice.der);
  f.aliceB64 = await dir.write("alice.b64", base64(pki.alice.der) + "\n");
  f.crlPem = await dir.write("inter.crl.pem", interCrl.pem);
  f.crlDer = await dir.write("inter.crl.der", interCrl.der);
  f.rootCrl = await dir.write("root.crl.pem", toPem(rootCrl.der, "X509 CRL"));
  f.garbage = await dir.write("garbage.pem", "this is not a certificate\n");
  // The issuing CA's twin whose signature BIT STRING tag is marked constructed (03 → 23): not DER, never parsed.
  f.oddBundle = await dir.write("odd-bundle.pem", toPem(constructedSignatureTwin(pki.inter.der), "CERTIFICATE") + pki.inter.pem);
  f.oddAnchors = await dir.write("odd-anchors.pem", pki.root.pem + toPem(constructedSignatureTwin(pki.root.der), "CERTIFICATE"));
  f.missing = dir.file("does-not-exist.pem");
});

/** `der` with the tag of its outer signature BIT STRING changed from primitive to constructed. */
function constructedSignatureTwin(der: Uint8Array): Uint8Array {
  const outer = readDerElement(der, 0);
  if (typeof outer === "string") throw new Error(outer);
  let p = outer.contentStart;
  for (let i = 0; i < 2; i++) {
    const el = readDerElement(der, p, outer.end);
    if (typeof el === "string") throw new Error(el);
    p = el.end;
  }
  const twin = der.slice();
  twin[p] = 0x23;
  return twin;
}

afterAll(async () => {
  await dir?.remove();
});

describe("cert inspect", () => {
  it("prints a readable block per certificate of a bundle, with the model's facts", async () => {
    const r = await cert("inspect", f.alice!);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const blocks = r.stdout.trim().split("\n\n");
    expect(blocks).toHaveLength(2);
    const [first, second] = blocks as [string, string];
    const field = (block: string, name: string) => new RegExp(`^${name}:\\s+(.*)$`, "m").exec(block)?.[1];
    expect(field(first, "file")).toBe(f.alice);
    expect(field(first, "index")).toBe("0");
    expect(field(first, "subject")).toBe(ALICE_SUBJECT);
    expect(field(first, "issuer")).toBe("CN=Test Issuing CA");
    expect(field(first, "serial")).toBe(pki.alice.serialNumber);
    expect(field(first, "thumbprint")).toBe(`${await sha1Upper(pki.alice.der)} (SHA-1)`);
    expect(field(first, "sha256")).toMatch(/^[0-9a-f]{64}$/);
    expect(field(first, "validity")).toBe(`${certTime(at(-30))} to ${certTime(at(365))}`);
    expect(field(first, "key")).toBe("EC P-256");
    expect(field(first, "signature")).toBe("ecdsa-with-SHA256");
    expect(field(first, "SANs")).toBe("DNS:alice.example.com, email:alice@example.com, URI:spiffe://example.com/alice, IP:192.0.2.7");
    expect(field(first, "key usage")).toBe("digitalSignature");
    expect(field(first, "extended key usage")).toBe("clientAuth");
    expect(field(first, "basic constraints")).toBe("absent");
    expect(field(second, "index")).toBe("1");
    expect(field(second, "subject")).toBe("CN=Test Issuing CA");
    expect(field(second, "basic constraints")).toBe("CA:TRUE");
  });

  it("--json: one line per certificate from PEM bundles, DER and base64 files; thumbprint and serial as openssl prints them", async () => {
    const [r, o] = await Promise.all([
      cert("inspect", "--json", f.alice!, f.aliceDer!, f.aliceB64!),
      runProgram("openssl", ["x509", "-in", f.alice!, "-noout", "-fingerprint", "-sha1", "-serial"]),
    ]);
    expect(r.code).toBe(0);
    const lines = jsonLines(r);
    expect(lines.map((l) => [l.file, l.index])).toEqual([[f.alice, 0], [f.alice, 1], [f.aliceDer, 0], [f.aliceB64, 0]]);
    const thumbprint = await sha1Upper(pki.alice.der);
    for (const l of [lines[0]!, lines[2]!, lines[3]!]) {
      expect(l.thumbprint).toBe(thumbprint);
      expect(l.serialNumber).toBe(pki.alice.serialNumber);
      expect((l.subject as { dotnet: string }).dotnet).toBe(ALICE_SUBJECT);
      expect((l.subjectAltNames as { ip: string[] }).ip).toEqual(["192.0.2.7"]);
      expect(l.extendedKeyUsage).toEqual(["clientAuth"]);
    }
    expect(lines[1]!.basicConstraints).toEqual({ ca: true, pathLen: null });
    expect(o, "openssl is needed for this comparison").not.toBeNull();
    expect(lines[0]!.thumbprint).toBe(/Fingerprint=([0-9A-F:]+)/.exec(o!.stdout)?.[1]?.replaceAll(":", ""));
    // openssl prints the serial's value; the model keeps a leading 00 (.NET). Builder serials start at 0x40: no pad.
    expect(lines[0]!.serialNumber).toBe(/serial=([0-9A-F]+)/.exec(o!.stdout)?.[1]);
  });

  it("reads standard input for '-'", async () => {
    const piped = await runTsx("scripts/cert/main.ts", ["inspect", "--json", "-"], { input: pki.alice.pem });
    expect(piped.code).toBe(0);
    expect(jsonLines(piped).map((l) => l.thumbprint)).toEqual([await sha1Upper(pki.alice.der)]);
  });

  it("exits 2 naming the file that cannot be read or decoded, and still prints the others", async () => {
    const r = await cert("inspect", "--json", f.missing!, f.garbage!, f.aliceDer!);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${f.missing}: cannot open: no such file or directory`);
    expect(r.stderr).toContain(`${f.garbage}:`);
    expect(jsonLines(r).map((l) => l.file)).toEqual([f.aliceDer]);
  });
});

describe("cert verify", () => {
  it("verifies several leaves in one call: one JSON line each, in order, with the engine's codes", async () => {
    const leaves = [f.alice!, f.expired!, f.notYet!, f.stranger!, f.serverOnly!, f.revoked!];
    const r = await codes("--ca", f.root!, ...leaves);
    expect(r.exit).toBe(1);
    expect(r.lines.map((l) => l.file)).toEqual(leaves);
    expect(r.byFile).toEqual({
      [f.alice!]: "ok",
      [f.expired!]: "certificate_expired",
      [f.notYet!]: "certificate_not_yet_valid",
      [f.stranger!]: "certificate_not_trusted",
      [f.serverOnly!]: "eku_client_auth_missing",
      [f.revoked!]: "ok", // no --crl: revocation is off
    });
    const [ok, expired] = r.lines as [Record<string, unknown>, Record<string, unknown>];
    expect(ok).toMatchObject({ valid: true, code: null, detail: null, context: null, warnings: [], subject: ALICE_SUBJECT });
    expect(ok.path).toEqual([ALICE_SUBJECT, "CN=Test Issuing CA", "CN=Test Root CA"]);
    expect(expired).toMatchObject({ valid: false, path: [], subject: "CN=expired" });
    expect((expired.context as { notAfter: string }).notAfter).toBe(certTime(pki.expired.spec.notAfter));
    expect(typeof expired.detail).toBe("string");
  });

  it("prints FILE: OK with the path, or FILE: error CODE — detail", async () => {
    const r = await cert("verify", "--ca", f.root!, f.alice!, "--untrusted", f.inter!, f.aliceDer!, f.expired!);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines.slice(0, 8)).toEqual([
      `${f.alice}: OK`, `  depth 0: ${ALICE_SUBJECT}`, "  depth 1: CN=Test Issuing CA", "  depth 2: CN=Test Root CA",
      `${f.aliceDer}: OK`, `  depth 0: ${ALICE_SUBJECT}`, "  depth 1: CN=Test Issuing CA", "  depth 2: CN=Test Root CA",
    ]);
    expect(lines[8]).toMatch(new RegExp(`^${f.expired}: error certificate_expired — \\S`));
    expect(lines).toContain("  leaf: CN=expired");
  });

  it("--at validates at another time (exit 0 when all are valid then): the expired leaf was valid, alice was not yet", async () => {
    const then = at(-100).toISOString();
    const [r, dateOnly] = await Promise.all([
      codes("--ca", f.root!, "--at", then, f.expired!, f.alice!),
      codes("--ca", f.root!, "--at", then.slice(0, 10), f.expired!),
    ]);
    expect(r.byFile).toEqual({ [f.expired!]: "ok", [f.alice!]: "certificate_not_yet_valid" });
    expect(r.exit).toBe(1);
    expect(dateOnly.byFile).toEqual({ [f.expired!]: "ok" });
    expect(dateOnly.exit).toBe(0);
  });

  it("--revocation strict: a leaf no CRL covers is revocation_unknown; --revocation maybe is a usage error, not a leaf", async () => {
    const [r, covered, maybe] = await Promise.all([
      codes("--ca", f.root!, "--revocation", "strict", f.alice!),
      // strict with CRLs covering the leaf and the intermediate passes; the revoked leaf does not
      codes("--ca", f.root!, "--crl", f.crlPem!, "--crl", f.rootCrl!, "--revocation", "strict", f.alice!, f.revoked!),
      cert("verify", "--ca", f.root!, "--revocation", "maybe", f.alice!),
    ]);
    expect(maybe.code).toBe(2);
    expect(maybe.stdout).toBe("");
    expect(maybe.stderr).toContain('--revocation: "maybe" is not one of off, soft, strict');
    expect(maybe.stderr).not.toMatch(/\n\s+at /);
    expect(r.lines).toHaveLength(1);
    expect(r.byFile).toEqual({ [f.alice!]: "revocation_unknown" });
    expect(r.exit).toBe(1);
    expect(covered.byFile).toEqual({ [f.alice!]: "ok", [f.revoked!]: "certificate_revoked" });
  });

  it("--crl accepts PEM and DER; with a CRL the default is soft (an uncovered CA is a warning)", async () => {
    const [pem, der] = await Promise.all([
      codes("--ca", f.root!, "--crl", f.crlPem!, f.revoked!, f.alice!),
      codes("--ca", f.root!, "--crl", f.crlDer!, "--crl", f.rootCrl!, f.revoked!, f.alice!),
    ]);
    for (const r of [pem, der]) {
      expect(r.byFile).toEqual({ [f.revoked!]: "certificate_revoked", [f.alice!]: "ok" });
      expect((r.lines[0]!.context as { reason: string }).reason).toBe("keyCompromise");
    }
    expect((pem.lines[1]!.warnings as string[]).length).toBeGreaterThan(0); // no CRL from the root for the issuing CA
    expect(der.lines[1]!.warnings).toEqual([]);
  });

  it("--no-eku accepts a leaf without clientAuth; --partial-chain ends the path at an --untrusted CA", async () => {
    const [noEku, partial, full] = await Promise.all([
      codes("--ca", f.root!, "--no-eku", f.serverOnly!),
      codes("--ca", f.otherRoot!, "--untrusted", f.inter!, "--partial-chain", f.aliceDer!),
      codes("--ca", f.otherRoot!, "--untrusted", f.inter!, f.aliceDer!),
    ]);
    expect(noEku.byFile).toEqual({ [f.serverOnly!]: "ok" });
    expect(noEku.exit).toBe(0);
    expect(partial.byFile).toEqual({ [f.aliceDer!]: "ok" });
    expect(partial.lines[0]!.path).toEqual([ALICE_SUBJECT, "CN=Test Issuing CA"]);
    expect(full.byFile).toEqual({ [f.aliceDer!]: "certificate_not_trusted" });
  });

  it("exits 2 on bad arguments (every error listed) and on unusable trust files (each named), with no stdout", async () => {
    const [usage, files] = await Promise.all([
      cert("verify", "--ca", f.root!, "--bogus", f.alice!, "--at", "2026-02-30"),
      cert("verify", "--ca", f.missing!, "--ca", f.garbage!, "--crl", f.root!, f.alice!),
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option --bogus");
    expect(usage.stderr).toContain("--at");
    expect(files.code).toBe(2);
    expect(files.stderr).toContain(`${f.missing}: cannot open: no such file or directory`);
    expect(files.stderr).toContain(`${f.garbage}:`);
    expect(files.stderr).toContain(`${f.root}:`); // a certificate given as a CRL
    expect(usage.stdout + files.stdout).toBe("");
  });

  it("a leaf file that cannot be used exits 2 but the other leaves are still reported", async () => {
    const r = await codes("--ca", f.root!, f.missing!, f.alice!, f.garbage!);
    expect(r.exit).toBe(2);
    expect(r.byFile).toEqual({ [f.missing!]: "file_unreadable", [f.alice!]: "ok", [f.garbage!]: "certificate_malformed" });
    expect(r.stderr).toContain(f.missing!);
    expect(r.stderr).toContain(f.garbage!);
  });

  it("--purpose serverAuth checks server chains by the same rules (the Worker always checks clientAuth)", async () => {
    const [server, client] = await Promise.all([
      codes("--ca", f.root!, "--untrusted", f.inter!, "--purpose", "serverAuth", f.serverOnly!, f.aliceDer!),
      codes("--ca", f.root!, "--untrusted", f.inter!, "--purpose", "clientAuth", f.serverOnly!),
    ]);
    expect(server.byFile).toEqual({ [f.serverOnly!]: "ok", [f.aliceDer!]: "eku_client_auth_missing" }); // alice lists clientAuth only
    expect(client.byFile).toEqual({ [f.serverOnly!]: "eku_client_auth_missing" });
    const bad = await cert("verify", "--ca", f.root!, "--purpose", "codeSigning", f.aliceDer!);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--purpose");
  });

  it("an --untrusted member that cannot be read is skipped with a warning naming it; a bad --ca member stops everything", async () => {
    const [untrusted, anchors] = await Promise.all([
      codes("--ca", f.root!, "--untrusted", f.oddBundle!, f.aliceDer!),
      cert("verify", "--ca", f.oddAnchors!, "--untrusted", f.inter!, f.aliceDer!),
    ]);
    expect(untrusted.exit).toBe(0);
    expect(untrusted.byFile).toEqual({ [f.aliceDer!]: "ok" });
    expect(untrusted.stderr).toContain(`warning: ${f.oddBundle}: certificate at index 0 skipped:`);
    expect(anchors.code).toBe(2);
    expect(anchors.stderr).toContain(`${f.oddAnchors}: certificate at index 1:`);
    expect(anchors.stdout).toBe("");
  });

  it("--help prints usage and exits 0", async () => {
    const r = await cert("verify", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: cert verify/);
    expect(r.stdout).toContain("--revocation MODE");
  });

  it("gives the same verdicts as openssl verify (valid, expired, not yet valid, untrusted, revoked, wrong EKU)", async () => {
    const leaves = [f.alice!, f.expired!, f.notYet!, f.stranger!, f.serverOnly!, f.revoked!];
    // -purpose sslclient is the clientAuth requirement; -crl_check checks the leaf only (our soft mode lets the
    // uncovered intermediate pass with a warning).
    const [ours, ...theirs] = await Promise.all([
      codes("--ca", f.root!, "--untrusted", f.inter!, "--crl", f.crlPem!, ...leaves),
      ...leaves.map((file) => runProgram("openssl", ["verify", "-purpose", "sslclient", "-CAfile", f.root!, "-untrusted", f.inter!,
        "-crl_check", "-CRLfile", f.crlPem!, file])),
    ]);
    expect(theirs.every((o) => o !== null), "openssl is needed for this comparison").toBe(true);
    const opensslValid = Object.fromEntries(leaves.map((file, i) => [file, theirs[i]!.code === 0]));
    const ourValid = Object.fromEntries(leaves.map((file) => [file, ours.byFile[file] === "ok"]));
    expect(ourValid).toEqual(opensslValid);
    expect(Object.values(ourValid)).toEqual([true, false, false, false, false, false]);
  });
});

/** The parser is pure: its rules are pinned in-process (the spawned cases above show they reach the exit code). */
describe("cert argument parsing", () => {
  const verifyOptions = (...argv: string[]) => {
    const r = parseCommandLine(["verify", ...argv]);
    if (!r.ok || r.value.command !== "verify") throw new Error(`expected verify options, got ${JSON.stringify(r)}`);
    return r.value.options;
  };
  const usageErrors = (...argv: string[]) => {
    const r = parseCommandLine(argv);
    if (r.ok) throw new Error(`expected a usage error for ${argv.join(" ")}`);
    return r.error.messages.join("; ");
  };

  it("--revocation takes exactly one of off|soft|strict as its value", () => {
    expect(verifyOptions("--ca", "r", "--revocation", "soft", "leaf.pem")).toMatchObject({ revocation: "soft", leaves: ["leaf.pem"] });
    expect(verifyOptions("--ca", "r", "--revocation=off", "leaf.pem")).toMatchObject({ revocation: "off" });
    expect(verifyOptions("--ca", "r", "leaf.pem")).toMatchObject({ revocation: null });
    expect(usageErrors("verify", "--ca", "r", "--revocation", "maybe", "l")).toContain('--revocation: "maybe" is not one of off, soft, strict');
    expect(usageErrors("verify", "--ca", "r", "--revocation", "leaf.pem")).toContain("--revocation");
    expect(usageErrors("verify", "--ca", "r", "l", "--revocation")).toContain("--revocation needs a value");
    expect(usageErrors("verify", "--ca", "r", "--revocation", "--json", "l")).toContain("--revocation needs a value");
    expect(usageErrors("verify", "--ca", "r", "--revocation=maybe", "l")).toContain("--revocation");
    expect(usageErrors("verify", "--ca", "r", "--revocation", "off", "--revocation=soft", "l")).toContain("more than once");
  });

  it("collects options anywhere, repeats list options, and honours --", () => {
    expect(verifyOptions("a.pem", "--ca", "r1", "--crl", "c1", "b.pem", "--ca=r2", "--crl", "c2", "--untrusted", "u", "--no-eku", "--partial-chain", "--", "--json"))
      .toEqual({
        anchors: ["r1", "r2"], untrusted: ["u"], crls: ["c1", "c2"], at: null, revocation: null,
        requireClientAuthEku: false, purpose: "clientAuth", profile: "strict", partialChain: true, json: false, leaves: ["a.pem", "b.pem", "--json"],
      });
    expect(verifyOptions("--ca", "-", "-").leaves).toEqual(["-"]);
  });

  it("reports every usage error", () => {
    expect(usageErrors("verify", "l")).toContain("--ca");
    expect(usageErrors("verify", "--ca", "r")).toContain("LEAF");
    expect(usageErrors("verify", "--ca", "--json", "l")).toContain("--ca needs a value");
    expect(usageErrors("verify", "--json=yes", "--ca", "r", "l")).toContain("--json takes no value");
    expect(usageErrors("verify", "--ca", "r", "--at", "1", "--at", "2", "l")).toContain("--at given more than once");
    expect(usageErrors("verify", "-json", "--ca", "r", "l")).toContain("unknown option -json");
    expect(usageErrors("inspect")).toContain("no FILE");
    expect(usageErrors("inspect", "--crl", "x", "f")).toContain("unknown option --crl");
    expect(usageErrors()).toContain("no command");
    const both = usageErrors("verify", "--bogus", "--at", "soon");
    expect(both).toContain("--bogus");
    expect(usageErrors("verify", "--untrusterd", "u", "--ca", "r", "l")).toContain("unknown option --untrusterd (did you mean --untrusted?)");
    expect(usageErrors("verfy")).toContain('unknown command "verfy" (did you mean verify?)');
  });

  it("help in every spelling", () => {
    for (const argv of [["-h"], ["--help"], ["help"], ["help", "verify"], ["verify", "-h"], ["inspect", "--help", "x"]]) {
      const r = parseCommandLine(argv);
      expect(r.ok && r.value.command, argv.join(" ")).toBe("help");
    }
  });

  it("--at is ISO 8601, UTC without an offset; impossible or non-ISO dates are refused", () => {
    expect(parseIsoTime("2026-06-01")?.toISOString()).toBe("2026-06-01T00:00:00.000Z");
    expect(parseIsoTime("2026-06-01T12:30")?.toISOString()).toBe("2026-06-01T12:30:00.000Z");
    expect(parseIsoTime("2026-06-01T12:30:15.25Z")?.toISOString()).toBe("2026-06-01T12:30:15.250Z");
    expect(parseIsoTime("2026-06-01 12:00:00+02:00")?.toISOString()).toBe("2026-06-01T10:00:00.000Z");
    expect(parseIsoTime("2026-06-01T12:00:00-0530")?.toISOString()).toBe("2026-06-01T17:30:00.000Z");
    expect(parseIsoTime("2024-02-29")?.toISOString()).toBe("2024-02-29T00:00:00.000Z");
    for (const bad of ["2026-02-30", "2025-02-29", "2026-13-01", "2026-06-01T24:00", "2026-06-01T12:60", "2026-06-01T12:00:60Z",
      "June 1 2026", "1780000000", "2026-6-1", "", "2026-06-01T12:00:00+25:00"]) {
      expect(parseIsoTime(bad), bad).toBeNull();
    }
  });
});
