import { describe, expect, it } from "vitest";
import { parseConfig, type Config } from "../config";
import type { Env } from "../env";
import { isReserved, isStripped } from "../forward/headers";
import {
  ALL_VENDOR_CERTIFICATE_HEADERS, FORWARDING_HEADERS, ORDINARY_HEADERS, VENDOR_CERTIFICATE_HEADERS, underscored,
} from "../../test/support/spoofed-headers";
import { headerMatcher, normalizeHeaderName, parseStripHeaders } from "./header-names";

function config(vars: Partial<Record<keyof Env, string>> = {}): Config {
  const c = parseConfig({ ORIGIN_URL: "https://origin.test", ...vars } as unknown as Env);
  if (!c.ok) throw new Error(c.error.join("; "));
  return c.value;
}

const NONE = new Set<string>();
const stripped = (c: Config, name: string) => isStripped(name.toLowerCase(), c, NONE);

describe("client-certificate header families", () => {
  const c = config();
  for (const [vendor, names] of Object.entries(VENDOR_CERTIFICATE_HEADERS)) {
    it(`strips ${vendor}'s names, in both spellings`, () => {
      for (const name of names) {
        expect(stripped(c, name), name).toBe(true);
        expect(stripped(c, underscored(name)), underscored(name)).toBe(true);
        expect(stripped(c, name.toUpperCase()), name.toUpperCase()).toBe(true);
      }
    });
  }

  it("keeps ordinary application headers, including X-Client-Id", () => {
    for (const name of ORDINARY_HEADERS) expect(stripped(c, name), name).toBe(false);
  });

  it("strips the owned names in their underscore spellings (secret, trace secret, identity prefix, RFC 9440)", () => {
    for (const name of ["X_Certgate_Terminator_Secret", "x_certgate_trace_secret", "X_Client_Cert_Subject", "X_Client_Cert_Verified", "Client_Cert"]) {
      expect(stripped(c, name), name).toBe(true);
      expect(isReserved(name.toLowerCase(), c), name).toBe(true);
    }
  });

  it("lets a policy write a stripped family name (derived from the validated certificate), never an owned one", () => {
    expect(isReserved("x-client-subject", c)).toBe(false);
    expect(isReserved("x-ssl-client-verify", c)).toBe(false);
    expect(isReserved("x-client-cert-subject", c)).toBe(true);
    expect(isReserved("client-cert", c)).toBe(true);
    expect(isReserved("transfer-encoding", c)).toBe(true);
  });

  it("owns a renamed source header and a custom identity prefix in every spelling", () => {
    const custom = config({ CERT_SOURCES: "url-pem", CERT_SOURCE_HEADERS: '{"url-pem":"X-Edge-Cert"}', TERMINATOR_SECRET: "s".repeat(16), IDENTITY_HEADER_PREFIX: "X-Verified-" });
    expect(stripped(custom, "x-edge-cert")).toBe(true);
    expect(stripped(custom, "x_edge_cert")).toBe(true);
    expect(stripped(custom, "x_verified_subject")).toBe(true);
    expect(isReserved("x-verified-subject", custom)).toBe(true);
  });
});

describe("forwarding headers are not in the always-stripped set", () => {
  it("the forwarding family is matched in both spellings (upstreamHeaders decides by origin)", () => {
    const c = config();
    for (const name of FORWARDING_HEADERS) {
      expect(c.forwardingHeaders.test(normalizeHeaderName(name)), name).toBe(true);
      expect(c.forwardingHeaders.test(normalizeHeaderName(underscored(name))), name).toBe(true);
      expect(stripped(c, name), name).toBe(false);
    }
  });
});

describe("STRIP_HEADERS", () => {
  it("adds names and patterns, matched in both spellings", () => {
    const c = config({ STRIP_HEADERS: "X-Corp-Identity, x-tenant-*, *-user-role" });
    for (const name of ["x-corp-identity", "x_corp_identity", "x-tenant-id", "x_tenant_name", "x-app-user-role"]) expect(stripped(c, name), name).toBe(true);
    expect(stripped(c, "x-corp")).toBe(false);
    expect(stripped(c, "x-ssl-client-cert")).toBe(true); // defaults stay
  });

  it("refuses negations, `*` alone and non-names with configuration_invalid problems", () => {
    for (const bad of ["!x-ssl-*", "-client-cert", "*", "**", "x corp", "x-a,x:b"]) {
      const r = parseStripHeaders(bad);
      expect(r.ok, bad).toBe(false);
      const c = parseConfig({ ORIGIN_URL: "https://origin.test", STRIP_HEADERS: bad } as unknown as Env);
      expect(c.ok, bad).toBe(false);
    }
    expect(parseStripHeaders(" , ")).toEqual({ ok: true, value: [] });
  });
});

describe("headerMatcher", () => {
  it("treats regex characters literally and anchors patterns", () => {
    const m = headerMatcher(["a.b", "x-*-y"]);
    expect(m.test("a.b")).toBe(true);
    expect(m.test("axb")).toBe(false);
    expect(m.test("x-q-y")).toBe(true);
    expect(m.test("zx-q-yz")).toBe(false);
  });

  it("matches prefix, suffix and substring patterns the same on the first and the remembered lookup", () => {
    const m = headerMatcher(["x-ssl-*", "*-role", "*client-cert*", "x_tenant"]);
    for (let round = 0; round < 2; round++) {
      expect(m.test("x-ssl-issuer")).toBe(true);
      expect(m.test("x-ssl")).toBe(false);
      expect(m.test("app-role")).toBe(true);
      expect(m.test("role")).toBe(false);
      expect(m.test("x-forwarded-tls-client-cert-info")).toBe(true);
      expect(m.test("x-tenant")).toBe(true); // patterns are normalized too
      expect(m.test("x-client-id")).toBe(false);
    }
  });

  it("every vendor name is matched by some family pattern, not only by a source's own list", () => {
    const families = config().strippedHeaders;
    const viaSourcesOnly = ALL_VENDOR_CERTIFICATE_HEADERS.filter((n) => !families.test(normalizeHeaderName(n)));
    expect(viaSourcesOnly).toEqual([]);
  });
});
