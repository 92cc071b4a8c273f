/**
 * Header hygiene through the whole Worker (workerd, real local KV, recording origin): every client-certificate
 * header family in both spellings, spoofed with another client's real certificate, never reaches the origin —
 * with and without a certificate of the client's own, from the terminator or not; client address headers pass
 * only from the authenticated terminator, and never in their `_` spelling.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../support/chains";
import { byteSequence, publish, scenario, uniqueVersion, viaTerminator } from "../support/gateway";
import { ALL_VENDOR_CERTIFICATE_HEADERS, FORWARDING_HEADERS, ORDINARY_HEADERS, underscored } from "../support/spoofed-headers";

let r: BuiltCertificate, i: BuiltCertificate, mine: BuiltCertificate, other: BuiltCertificate;

beforeAll(async () => {
  r = await root("Hygiene Root");
  i = await ca("Hygiene CA", r);
  mine = await leaf("Hygiene Client", i);
  other = await leaf("Hygiene Admin", i);
  await publish(env.TRUST, uniqueVersion("hygiene"), { default: { anchors: [r], intermediates: [i] } });
});

/**
 * Every family name in both spellings, each carrying a value the origin must never see — except, in their `-`
 * spelling, the configured source's own headers (RFC 9440), which the gateway reads (a garbage value is a 400).
 */
function spoofed(): Record<string, string> {
  const h: Record<string, string> = {};
  for (const name of ALL_VENDOR_CERTIFICATE_HEADERS) {
    if (!/^client-cert(-chain)?$/i.test(name)) h[name] = `spoofed-${name}`;
    h[underscored(name)] = `spoofed-${underscored(name)}`;
  }
  return h;
}

/** The origin's headers that carry a value the client sent. */
function leaked(headers: Record<string, string>): string[] {
  return Object.entries(headers).filter(([, v]) => v.includes("spoofed-") || v === byteSequence(other)).map(([k]) => k);
}

describe("client-certificate headers never reach the origin as the client sent them", () => {
  it("from the authenticated terminator, alongside a valid certificate: only certgate's identity arrives", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "true" });
    // Another client's real certificate in every family, the client's own in the configured source.
    const headers = { ...spoofed(), "x-ssl-client-cert": byteSequence(other), "x_client_cert_subject": "CN=admin", ...viaTerminator({ "client-cert": byteSequence(mine) }) };
    const res = await s.request("/", { headers });
    expect(res.status).toBe(200);
    const got = s.origin.calls[0]!.headers;
    expect(leaked(got)).toEqual([]);
    expect(got["client-cert"]).toBe(byteSequence(mine));
    expect(got["x-client-cert-subject"]).toBe("CN=Hygiene Client");
    expect(Object.keys(got).filter((k) => k.includes("_"))).toEqual([]);
  });

  it("from anyone, without a certificate (REQUIRE_CERTIFICATE=false): nothing of the families arrives", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" });
    const res = await s.request("/", { headers: spoofed() });
    expect(res.status).toBe(200);
    expect(leaked(s.origin.calls[0]!.headers)).toEqual([]);
  });

  it("STRIP_HEADERS adds names; ordinary headers still arrive", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false", STRIP_HEADERS: "X-Corp-Role, x-tenant-*" });
    const ordinary = Object.fromEntries(ORDINARY_HEADERS.map((n) => [n, `ok-${n}`]));
    const res = await s.request("/", { headers: { ...ordinary, "X-Corp-Role": "spoofed-role", "X_Tenant_Id": "spoofed-tenant" } });
    expect(res.status).toBe(200);
    const got = s.origin.calls[0]!.headers;
    expect(leaked(got)).toEqual([]);
    for (const n of ORDINARY_HEADERS) expect(got[n.toLowerCase()], n).toBe(`ok-${n}`);
  });
});

describe("client address headers", () => {
  const forwarding = (value: string) => Object.fromEntries(FORWARDING_HEADERS.flatMap((n) => [[n, value], [underscored(n), value]]));

  it("from a client that is not the terminator: all stripped, certgate sets X-Forwarded-* itself", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" });
    await s.request("/", { headers: { ...forwarding("spoofed-203.0.113.9"), "cf-connecting-ip": "198.51.100.4" } });
    const got = s.origin.calls[0]!.headers;
    expect(leaked(got)).toEqual([]);
    expect(got["x-forwarded-for"]).toBe("198.51.100.4");
    expect(got["x-real-ip"]).toBeUndefined();
    expect(got["true-client-ip"]).toBeUndefined();
  });

  it("from the authenticated terminator: its `-` spellings pass, the `_` spellings never", async () => {
    const s = scenario({ REQUIRE_CERTIFICATE: "false" });
    const headers = viaTerminator({ "x-real-ip": "192.0.2.10", "true-client-ip": "192.0.2.10", "x-forwarded-for": "192.0.2.10",
      "X_Real_IP": "spoofed-ip", "X_Forwarded_For": "spoofed-ip", "True_Client_IP": "spoofed-ip" });
    await s.request("/", { headers: { ...headers, "cf-connecting-ip": "198.51.100.4" } });
    const got = s.origin.calls[0]!.headers;
    expect(leaked(got)).toEqual([]);
    expect(got["x-real-ip"]).toBe("192.0.2.10");
    expect(got["true-client-ip"]).toBe("192.0.2.10");
    expect(got["x-forwarded-for"]).toBe("192.0.2.10, 198.51.100.4");
  });
});
