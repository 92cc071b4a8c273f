import { describe, expect, it } from "vitest";
import { parseConfig, unknownVariables, VARIABLE_PREFIXES } from "./config";
import type { Env } from "./env";

const BASE = { ORIGIN_URL: "https://origin.test", CERT_SOURCES: "cloudflare" };
const problemsOf = (vars: Record<string, unknown>, policyBindings?: ReadonlySet<string>) => {
  const r = parseConfig({ ...BASE, ...vars } as unknown as Env, policyBindings ? { policyBindings } : {});
  return r.ok ? [] : r.error;
};

describe("a variable that looks like certgate's but is not one is configuration_invalid", () => {
  it("names the misspelled variable and the one it was meant to be", () => {
    expect(problemsOf({ REVOCATON: "strict" })).toEqual([expect.stringMatching(/^REVOCATON is not a certgate variable: did you mean REVOCATION\?/)]);
    expect(problemsOf({ TRUSTSTORE: "prod" })[0]).toMatch(/^TRUSTSTORE is not a certgate variable: did you mean TRUST_STORE\?/);
    expect(problemsOf({ revocation: "strict" })[0]).toMatch(/^revocation is not a certgate variable: did you mean REVOCATION\?/);
    expect(problemsOf({ TERMINATOR_SECERT: "x".repeat(20) })[0]).toMatch(/did you mean TERMINATOR_SECRET\?/);
  });

  it("refuses an unknown name with one of certgate's prefixes, even far from every known name", () => {
    expect(problemsOf({ CERT_VERIFY_DEPTH: "3" })[0]).toMatch(/^CERT_VERIFY_DEPTH is not a certgate variable \(/);
    expect(problemsOf({ CERTGATE_MODE: "strict" })[0]).toMatch(/^CERTGATE_MODE is not a certgate variable/);
    expect(VARIABLE_PREFIXES).toEqual(expect.arrayContaining(["CERT_", "CERTGATE_", "TERMINATOR_", "TRUST_", "REVOCATION_"]));
  });

  it("leaves alone bindings that do not look like certgate's, and those the policies name", () => {
    expect(problemsOf({ DATABASE_URL: "x", API_KEY: "y", PARTNER_CERT: {} })).toEqual([]);
    expect(problemsOf({ ORIGIN_API_KEY: "s3cret" })).toHaveLength(1);
    expect(problemsOf({ ORIGIN_API_KEY: "s3cret" }, new Set(["ORIGIN_API_KEY"]))).toEqual([]);
    expect(unknownVariables({ ...BASE, TRUST: {}, ORIGIN: {} })).toEqual([]);
  });

  it("reports every problem at once, with the invalid values of known variables", () => {
    const problems = problemsOf({ REVOCATON: "strict", REVOCATION: "maybe", DENY_STATUS: "999" });
    expect(problems).toHaveLength(3);
  });

  it("a var that is not a string (a TOML boolean or number) is named, not crashed on", () => {
    const problems = problemsOf({ REQUIRE_CERTIFICATE: true, MIN_RSA_BITS: 4096 });
    expect(problems).toEqual([
      'REQUIRE_CERTIFICATE must be a string (in wrangler.toml, quote it: REQUIRE_CERTIFICATE = "true")',
      'MIN_RSA_BITS must be a string (in wrangler.toml, quote it: MIN_RSA_BITS = "4096")',
    ]);
  });
});

describe("CERT_PROFILE", () => {
  it("is strict by default, compatible on request, and anything else is configuration_invalid", () => {
    const profileOf = (vars: Record<string, unknown>) => {
      const r = parseConfig({ ...BASE, ...vars } as unknown as Env);
      return r.ok ? r.value.validation.profile : r.error;
    };
    expect(profileOf({})).toBe("strict");
    expect(profileOf({ CERT_PROFILE: "compatible" })).toBe("compatible");
    expect(profileOf({ CERT_PROFILE: "lenient" })).toEqual(['CERT_PROFILE must be strict or compatible, not "lenient"']);
    expect(problemsOf({ CERT_PROFIL: "compatible" })[0]).toMatch(/did you mean CERT_PROFILE\?/);
  });
});
