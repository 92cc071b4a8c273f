/**
 * The conformance command on small suites in limbo's schema, made here with the test PKI builder (the real suite,
 * ../shared/conformance/limbo.json.gz, is run by .ci/run when it exists; `npm test` does not need it).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../pki/builder";
import { ca, leaf, NOW, root } from "../../test/support/chains";
import { makeTempDir, runTsx, type TempDir } from "../../test/support/cli-process";
import { checkSuite, classify, runCase, scopeOf, tally, type LimboCase } from "./limbo";

let r: BuiltCertificate, i: BuiltCertificate, good: BuiltCertificate, serverLeaf: BuiltCertificate, nonCriticalBc: BuiltCertificate;
let dir: TempDir;
let softCaPem: string;

function limboCase(over: Partial<LimboCase> & Pick<LimboCase, "id" | "peer_certificate" | "expected_result">): LimboCase {
  return {
    description: "",
    validation_kind: "CLIENT",
    trusted_certs: [r.pem],
    untrusted_intermediates: [i.pem],
    validation_time: NOW.toISOString(),
    expected_peer_name: null,
    ...over,
  };
}

beforeAll(async () => {
  r = await root("Limbo Root");
  i = await ca("Limbo Int", r);
  good = await leaf("Limbo Client", i);
  serverLeaf = await leaf("Limbo Server", i, "p-256", { extKeyUsage: { oids: ["serverAuth"] }, subjectAltName: { names: [{ dns: "server.example.com" }] } });
  // An intermediate whose basicConstraints is not critical violates the RFC 5280 profile (§4.2.1.9).
  const softCa = await ca("Limbo Soft Int", r, "p-256", { basicConstraints: { ca: true, critical: false } });
  nonCriticalBc = await leaf("Limbo Under Soft", softCa);
  softCaPem = softCa.pem;
  dir = await makeTempDir("certgate-limbo-");
});

afterAll(async () => {
  await dir?.remove();
});

describe("limbo cases through the engine", () => {
  it("judges a valid client chain SUCCESS and a profile violation FAILURE", async () => {
    const ok = await runCase(limboCase({ id: "t::ok", peer_certificate: good.pem, expected_result: "SUCCESS" }));
    expect(ok).toMatchObject({ actual: "SUCCESS", family: "t" });
    const soft = await runCase(limboCase({ id: "t::soft", peer_certificate: nonCriticalBc.pem, expected_result: "FAILURE",
      untrusted_intermediates: [softCaPem] }));
    expect(soft).toMatchObject({ actual: "FAILURE", code: "basic_constraints_violated" });
  });

  it("validates SERVER cases for serverAuth and CLIENT cases for clientAuth", async () => {
    const asServer = await runCase(limboCase({ id: "t::s", validation_kind: "SERVER", peer_certificate: serverLeaf.pem, expected_result: "SUCCESS" }));
    const asClient = await runCase(limboCase({ id: "t::c", peer_certificate: serverLeaf.pem, expected_result: "FAILURE" }));
    expect(asServer.actual).toBe("SUCCESS");
    expect(asClient).toMatchObject({ actual: "FAILURE", code: "eku_client_auth_missing" });
  });

  it("an unreadable anchor fails the case closed; an unreadable untrusted certificate is skipped", async () => {
    const badAnchor = await runCase(limboCase({ id: "t::a", peer_certificate: good.pem, expected_result: "FAILURE", trusted_certs: [r.pem, "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n"] }));
    expect(badAnchor.actual).toBe("FAILURE");
    const badPool = await runCase(limboCase({ id: "t::p", peer_certificate: good.pem, expected_result: "SUCCESS", untrusted_intermediates: ["-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", i.pem] }));
    expect(badPool.actual).toBe("SUCCESS");
  });

  it("scope: server FAILURE cases are judged only when the peer name is literally a SAN", () => {
    const base = limboCase({ id: "t::x", validation_kind: "SERVER", peer_certificate: serverLeaf.pem, expected_result: "FAILURE" });
    expect(scopeOf({ ...base, expected_peer_name: { kind: "DNS", value: "server.example.com" } })).toEqual({ judged: true });
    expect(scopeOf({ ...base, expected_peer_name: { kind: "DNS", value: "other.example.com" } }).judged).toBe(false);
    expect(scopeOf({ ...base, expected_result: "SUCCESS", expected_peer_name: { kind: "DNS", value: "other.example.com" } })).toEqual({ judged: true });
    expect(scopeOf({ ...base, validation_kind: "CLIENT" })).toEqual({ judged: true });
  });

  it("counts false accepts, false rejects and documented deviations apart", () => {
    const o = (id: string, expected: "SUCCESS" | "FAILURE", actual: "SUCCESS" | "FAILURE") => ({ id, family: "f", expected, actual, code: null, detail: null });
    const outcomes = [o("a", "SUCCESS", "SUCCESS"), o("b", "FAILURE", "SUCCESS"), o("c", "SUCCESS", "FAILURE"), o("d", "FAILURE", "SUCCESS")];
    const deviations = { d: { certgate: "SUCCESS" as const, reason: "test" } };
    expect(outcomes.map((x) => classify(x, deviations))).toEqual(["agree", "falseAccept", "falseReject", "deviation"]);
    expect(tally(outcomes, deviations).get("f")).toEqual({ judged: 4, agreed: 1, falseAccepts: 1, falseRejects: 1, deviations: 1 });
  });

  it("checkSuite refuses what is not a limbo suite", () => {
    expect(checkSuite([])).toMatch(/not a JSON object|no testcases/);
    expect(checkSuite({ version: 2, testcases: [] })).toMatch(/version/);
    expect(checkSuite({ version: 1, testcases: [{ id: 1 }] })).toMatch(/testcases\[0\]/);
    expect(checkSuite({ version: 1, testcases: [] })).toBeNull();
  });
});

describe("npm run conformance", () => {
  const run = (...args: string[]) => runTsx("scripts/conformance/main.ts", args);

  it("exits 0 and prints PASS when nothing is falsely accepted; 1 and names each false accept otherwise", async () => {
    const passing = join(dir.path, "pass.json.gz");
    writeFileSync(passing, gzipSync(JSON.stringify({ version: 1, testcases: [limboCase({ id: "t::ok", peer_certificate: good.pem, expected_result: "SUCCESS" })] })));
    const failing = join(dir.path, "fail.json");
    // A valid chain that the (made-up) expectation says must fail: certgate accepts it, a false accept.
    writeFileSync(failing, JSON.stringify({ version: 1, testcases: [limboCase({ id: "t::fa", peer_certificate: good.pem, expected_result: "FAILURE" })] }));
    const [p, f] = await Promise.all([run("--limbo", passing), run("--limbo", failing)]);
    expect(p.code).toBe(0);
    expect(p.stdout).toContain("PASS: 0 false accepts, 1/1 agree");
    expect(f.code).toBe(1);
    expect(f.stdout).toContain("FALSE ACCEPTS (1):\n  t::fa");
  });

  it("exits 2 with one clear line on a missing file, a directory, or a file that is not a suite", async () => {
    const notSuite = join(dir.path, "x.json");
    writeFileSync(notSuite, "{\"version\": 1}");
    const results = await Promise.all([run("--limbo", join(dir.path, "nope.json")), run("--limbo", dir.path), run("--limbo", notSuite), run("--bogus"), run()]);
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^conformance: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });
});
