/**
 * `npm run check`: the deployment checked before traffic. checkDeployment in process (the rules), then the
 * command on the repository's wrangler.toml and on a broken one (a real process, wrangler's own reader).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTsx } from "../../test/support/cli-process";
import { checkDeployment, type RawWranglerConfig } from "./check";

const NO_NEEDS = { certificateIds: new Set<string>(), runtimeValues: new Set<string>() };
const TRUST = [{ binding: "TRUST" }];
const GOOD_VARS = { CERT_SOURCES: "cloudflare", ORIGIN_URL: "https://origin.example" };

describe("checkDeployment", () => {
  it("passes the shipped shape, and checks every environment by default", () => {
    const config: RawWranglerConfig = { kv_namespaces: TRUST, vars: GOOD_VARS, env: { staging: { kv_namespaces: TRUST, vars: GOOD_VARS } } };
    expect(checkDeployment(config, NO_NEEDS, new Set())).toEqual({ problems: [], warnings: [], checked: ["top level", "env.staging"] });
  });

  it("lists every problem, located by environment", () => {
    const config: RawWranglerConfig = {
      kv_namespaces: TRUST,
      vars: { ...GOOD_VARS, REVOCATON: "strict", DENY_STATUS: "200" },
      env: { production: { vars: { ...GOOD_VARS, CERT_SOURCES: "url-pem" } } },
    };
    const r = checkDeployment(config, NO_NEEDS, new Set());
    expect(r.problems).toEqual([
      expect.stringMatching(/^\[top level\]: REVOCATON is not a certgate variable: did you mean REVOCATION\?/),
      "[top level]: DENY_STATUS must be an integer from 400 to 499, not \"200\"",
      "[env.production]: no KV namespace bound as TRUST (the trust material, docs/kv-schema.md); kv_namespaces are not inherited from the top level",
      expect.stringMatching(/^\[env\.production\]: a header certificate source is enabled but TERMINATOR_SECRET is not set.*--secret TERMINATOR_SECRET\)$/),
    ]);
  });

  it("a secret named with --secret counts as set; a secret in [vars] is a warning", () => {
    const config: RawWranglerConfig = { kv_namespaces: TRUST, vars: { ...GOOD_VARS, CERT_SOURCES: "url-pem" } };
    expect(checkDeployment(config, NO_NEEDS, new Set(["TERMINATOR_SECRET"])).problems).toEqual([]);
    const inVars = checkDeployment({ kv_namespaces: TRUST, vars: { ...config.vars, TERMINATOR_SECRET: "x".repeat(32) } }, NO_NEEDS, new Set());
    expect(inVars.problems).toEqual([]);
    expect(inVars.warnings).toEqual([expect.stringContaining("TERMINATOR_SECRET is in [vars]")]);
  });

  it("the policies' needs: mtls_certificates bindings must exist; their names are not taken for typos", () => {
    const needs = { certificateIds: new Set(["ORIGIN_CLIENT_CERT"]), runtimeValues: new Set(["TRUST_API_KEY"]) };
    const missing = checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, needs, new Set());
    expect(missing.problems).toEqual(['[top level]: the policies\' authentication-certificate certificate-id="ORIGIN_CLIENT_CERT" has no [[mtls_certificates]] binding "ORIGIN_CLIENT_CERT"']);
    const bound = checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS, mtls_certificates: [{ binding: "ORIGIN_CLIENT_CERT" }] }, needs, new Set(["TRUST_API_KEY"]));
    expect(bound.problems).toEqual([]);
    expect(bound.warnings).toEqual([expect.stringContaining("TRUST_API_KEY")]);
  });

  it("caching-type=\"external\" needs the KV namespace POLICY_CACHE; without such a policy it is not required", () => {
    const needs = { certificateIds: new Set<string>(), runtimeValues: new Set<string>(), externalCache: true };
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, needs, new Set()).problems)
      .toEqual([expect.stringContaining('caching-type="external", but no KV namespace is bound as POLICY_CACHE')]);
    expect(checkDeployment({ kv_namespaces: [...TRUST, { binding: "POLICY_CACHE" }], vars: GOOD_VARS }, needs, new Set()).problems).toEqual([]);
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, { ...needs, externalCache: false }, new Set()).problems).toEqual([]);
  });

  it("authentication-managed-identity names its Worker secrets until they are set; AZURE_CLIENT_SECRET in [vars] is a warning; other AZURE_* names are not typos", () => {
    const needs = { certificateIds: new Set<string>(), runtimeValues: new Set<string>(), managedIdentity: true };
    const missing = checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, needs, new Set(["AZURE_TENANT_ID"]));
    expect(missing.problems).toEqual([
      expect.stringMatching(/^\[top level\]: the policies use authentication-managed-identity, but AZURE_CLIENT_ID is not set: `wrangler secret put AZURE_CLIENT_ID`/),
      expect.stringContaining("AZURE_CLIENT_SECRET is not set"),
    ]);
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, needs, new Set(["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"])).problems).toEqual([]);
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, { ...needs, managedIdentity: false }, new Set()).problems).toEqual([]);
    const inVars = checkDeployment({ kv_namespaces: TRUST, vars: { ...GOOD_VARS, AZURE_TENANT_ID: "t", AZURE_CLIENT_ID: "c", AZURE_CLIENT_SECRET: "s", AZURE_STORAGE_KEY: "k" } }, needs, new Set());
    expect(inVars.problems).toEqual([]);
    expect(inVars.warnings).toEqual([expect.stringContaining("AZURE_CLIENT_SECRET is in [vars]")]);
  });

  it("rate-limiting-binding: the [[ratelimits]] binding must exist with the policy's calls and period", () => {
    const needs = { certificateIds: new Set<string>(), runtimeValues: new Set<string>(), rateLimitingBindings: new Map([["SHORT", [{ calls: 5, period: 10 }]]]) };
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, needs, new Set()).problems)
      .toEqual(['[top level]: the policies\' rate-limiting-binding="SHORT" has no [[ratelimits]] binding "SHORT"']);
    const other = checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS, ratelimits: [{ name: "SHORT", simple: { limit: 100, period: 60 } }] }, needs, new Set());
    expect(other.problems).toEqual([expect.stringContaining('[[ratelimits]] "SHORT" counts 100 per 60 s, but a policy using it says calls="5" renewal-period="10"')]);
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS, ratelimits: [{ name: "SHORT", simple: { limit: 5, period: 10 } }] }, needs, new Set()).problems).toEqual([]);
  });

  it("an unknown --env is a problem naming the environments there are", () => {
    expect(checkDeployment({ kv_namespaces: TRUST, vars: GOOD_VARS }, NO_NEEDS, new Set(), ["prod"]).problems)
      .toEqual(["[env.prod]: no such environment in the wrangler config (it has: top level)"]);
  });
});

describe("npm run check", () => {
  const dir = mkdtempSync(join(tmpdir(), "certgate-check-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("passes the repository's wrangler.toml and policies/; fails a broken config with one line per problem", async () => {
    const broken = join(dir, "wrangler.toml");
    writeFileSync(broken, [
      'name = "x"', 'main = "src/index.ts"', 'compatibility_date = "2026-10-20"',
      "[[kv_namespaces]]", 'binding = "TRUST"', 'id = "00000000000000000000000000000000"',
      "[vars]", 'ORIGIN_URL = "https://o.example"', 'REVOCATON = "strict"', "REQUIRE_CERTIFICATE = true", "",
    ].join("\n"));
    const [ok, bad, usage] = await Promise.all([
      runTsx("scripts/check/main.ts", []),
      runTsx("scripts/check/main.ts", ["--config", broken]),
      runTsx("scripts/check/main.ts", ["--confg", broken]),
    ]);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toMatch(/^check: OK — wrangler\.toml \(top level\), policies policies\n$/);
    expect(ok.code).toBe(0);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^check: \[top level\]: REVOCATON is not a certgate variable: did you mean REVOCATION\?/),
      'check: [top level]: REQUIRE_CERTIFICATE must be a string (in wrangler.toml, quote it: REQUIRE_CERTIFICATE = "true")',
      `check: 2 problems in ${broken} (top level), policies policies`,
    ]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("unknown option --confg (did you mean --config?)");
  });

  it("names a compiled bundle of another schema version (the Worker would answer 503 policy_bundle_invalid)", async () => {
    const stale = join(dir, "policies-v1.json");
    writeFileSync(stale, JSON.stringify({ schema: 1, source: "old", routes: [], operations: {}, runtimeValues: [] }));
    const r = await runTsx("scripts/check/main.ts", ["--bundle", stale]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^check: .*policies-v1\.json: schema is 1, this gateway runs schema \d+ \(an older certgate's compiler built it\): rebuild the policies/m);
  });
});
