/**
 * Path validation conformance (RFC 5280 §6.1), generated at test time, run inside workerd.
 * Each `pkijs gap` case also runs plain pkijs and pins that it accepts what certgate rejects.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { flipByte, signatureByteIndex, tbsSubjectByteIndex, type BuiltCertificate, type KeyAlgorithm } from "../../scripts/pki/builder";
import { ca, cert, crl, DAY, freshKey, leaf, material, NOW, parsed, plainPkijsAccepts, root, verdict } from "../../test/support/chains";
import { validatePath } from "./validate";

const ALGORITHMS: KeyAlgorithm[] = ["rsa-2048", "p-256", "p-384", "ed25519"];

describe("a valid chain", () => {
  for (const alg of ALGORITHMS) {
    it(`validates root → intermediate → leaf with ${alg} and returns the path leaf → anchor`, async () => {
      const r = await root(`Root ${alg}`, alg);
      const i = await ca(`Int ${alg}`, r, alg);
      const l = await leaf(`Leaf ${alg}`, i, alg);
      const m = await material({ anchors: [r] });
      const result = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: m, now: NOW });
      expect(result.ok).toBe(true);
      if (result.ok) {
        expect(result.value.certificates.map((c) => c.subjectKey)).toEqual([parsed(l), parsed(i), parsed(r)].map((c) => c.subjectKey));
        expect(result.value.notAfter.getTime()).toBe(Math.min(...[l, i, r].map((c) => parsed(c).notAfter.getTime())));
      }
    });
  }

  it("finds the intermediate in the store when the client sends only the leaf", async () => {
    const r = await root("Root");
    const i = await ca("Int", r);
    const l = await leaf("Leaf", i);
    expect(await verdict(l, [], await material({ anchors: [r], intermediates: [i] }))).toBe("ok");
  });

  it("is not trusted when no anchor is reachable", async () => {
    const r = await root("Root");
    const other = await root("Other Root");
    const i = await ca("Int", r);
    const l = await leaf("Leaf", i);
    expect(await verdict(l, [], await material({ anchors: [r] }))).toBe("certificate_not_trusted");
    expect(await verdict(l, [i], await material({ anchors: [other] }))).toBe("certificate_not_trusted");
  });
});

describe("signatures", () => {
  let r: BuiltCertificate, i: BuiltCertificate, l: BuiltCertificate;
  beforeAll(async () => {
    r = await root("Sig Root", "rsa-2048");
    i = await ca("Sig Int", r, "rsa-2048");
    l = await leaf("Sig Leaf", i, "rsa-2048");
  });

  it("rejects a leaf with a forged signature (pkijs gap: [leaf, intermediate] validates only the intermediate)", async () => {
    const forged = flipByte(l.der, signatureByteIndex(l.der));
    const m = await material({ anchors: [r] });
    expect(await verdict(forged, [i], m)).toBe("signature_invalid");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [forged, i.der] })).toBe(true);
  });

  it("rejects a leaf whose contents were altered after signing", async () => {
    const tampered = flipByte(l.der, tbsSubjectByteIndex(l.der), 0x02);
    expect(await verdict(tampered, [i], await material({ anchors: [r] }))).toBe("signature_invalid");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [tampered, i.der] })).toBe(true);
  });

  for (const alg of ALGORITHMS) {
    it(`rejects a forged or tampered ${alg} leaf`, async () => {
      const ra = await root(`Forge Root ${alg}`, alg);
      const ia = await ca(`Forge Int ${alg}`, ra, alg);
      const la = await leaf(`Forge Leaf ${alg}`, ia, alg);
      const m = await material({ anchors: [ra] });
      expect(await verdict(la, [ia], m)).toBe("ok");
      expect(await verdict(flipByte(la.der, signatureByteIndex(la.der)), [ia], m)).toBe("signature_invalid");
      expect(await verdict(flipByte(la.der, tbsSubjectByteIndex(la.der), 0x02), [ia], m)).toBe("signature_invalid");
    });
  }

  it("rejects an intermediate with a forged signature", async () => {
    const forged = flipByte(i.der, signatureByteIndex(i.der));
    expect(await verdict(l, [forged], await material({ anchors: [r] }))).toBe("signature_invalid");
  });

  it("rejects a certificate whose inner and outer signature algorithms differ (RFC 5280 §4.1.1.2)", async () => {
    const bad = await leaf("Mismatch", i, "rsa-2048", {}, { outerSignatureAlgorithmOid: "1.2.840.113549.1.1.12" });
    const r2 = await validatePath({ leaf: parsed(i), presented: [], material: await material({ anchors: [r] }), now: NOW });
    expect(r2.ok).toBe(false); // an intermediate is not a client certificate (EKU absent is fine, but KU keyCertSign only)
    const { parseCertificate } = await import("../cert/parse");
    const p = parseCertificate(bad.der);
    expect(p.ok ? "ok" : p.error.code).toBe("certificate_malformed");
  });
});

describe("validity", () => {
  let r: BuiltCertificate, i: BuiltCertificate;
  beforeAll(async () => {
    r = await root("Time Root");
    i = await ca("Time Int", r);
  });

  it("reports an expired leaf with its notAfter and the time used", async () => {
    const l = await leaf("Expired", i, "p-256", {}, { notAfter: new Date(NOW.getTime() - DAY) });
    const res = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: await material({ anchors: [r] }), now: NOW });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe("certificate_expired");
      expect(res.error.context?.notAfter).toBe(parsed(l).notAfter.toISOString());
      expect(res.error.context?.time).toBe(NOW.toISOString());
    }
    expect(await verdict(l, [i], await material({ anchors: [r] }), { checkNotAfter: false })).toBe("ok");
  });

  it("reports a leaf that is not valid yet, switchable separately", async () => {
    const l = await leaf("Future", i, "p-256", {}, { notBefore: new Date(NOW.getTime() + DAY) });
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [i], m)).toBe("certificate_not_yet_valid");
    expect(await verdict(l, [i], m, { checkNotBefore: false })).toBe("ok");
    expect(await verdict(l, [i], m, { checkNotAfter: false })).toBe("certificate_not_yet_valid");
  });

  it("checks the intermediates and the anchor too", async () => {
    const oldInt = await ca("Old Int", r, "p-256", {}, { notAfter: new Date(NOW.getTime() - DAY) });
    const l = await leaf("Leaf", oldInt);
    expect(await verdict(l, [oldInt], await material({ anchors: [r] }))).toBe("certificate_expired");
    const oldRoot = await cert({ subject: "CN=Old Root", notAfter: new Date(NOW.getTime() - DAY), extensions: { basicConstraints: { ca: true } } });
    const l2 = await leaf("Leaf2", oldRoot);
    expect(await verdict(l2, [], await material({ anchors: [oldRoot] }))).toBe("certificate_expired");
  });

  it("treats the boundaries as RFC 5280 does: valid on notBefore and on notAfter", async () => {
    const l = await leaf("Edge", i, "p-256", {}, { notBefore: new Date("2026-01-01T00:00:00Z"), notAfter: new Date("2026-12-31T00:00:00Z") });
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [i], m, {}, new Date("2026-01-01T00:00:00Z"))).toBe("ok");
    expect(await verdict(l, [i], m, {}, new Date("2026-12-31T00:00:00Z"))).toBe("ok");
    expect(await verdict(l, [i], m, {}, new Date("2026-12-31T00:00:01Z"))).toBe("certificate_expired");
  });
});

describe("basic constraints and key usage of CAs", () => {
  let r: BuiltCertificate;
  beforeAll(async () => {
    r = await root("BC Root");
  });

  it("rejects an issuer without basicConstraints, with cA false, or of version 1", async () => {
    const m = await material({ anchors: [r] });
    for (const bc of [false, { ca: false }] as const) {
      const notCa = await cert({ subject: "CN=Not a CA", issuer: r, extensions: { basicConstraints: bc } });
      expect(await verdict(await leaf("L", notCa), [notCa], m)).toBe("basic_constraints_violated");
    }
    const v1 = await cert({ subject: "CN=V1 CA", issuer: r, version: 1 });
    // A v1 issuer has no subjectKeyIdentifier to copy; the leaf still needs an AKI (pki/profile.ts).
    const underV1 = await leaf("L", v1, "p-256", { authorityKeyIdentifier: Uint8Array.of(1, 2, 3, 4) });
    expect(await verdict(underV1, [v1], m)).toBe("basic_constraints_violated");
  });

  it("rejects an issuer whose keyUsage lacks keyCertSign", async () => {
    const i = await ca("No KCS", r, "p-256", { keyUsage: { usages: ["digitalSignature", "cRLSign"] } });
    expect(await verdict(await leaf("L", i), [i], await material({ anchors: [r] }))).toBe("key_usage_invalid");
  });

  it("enforces pathLenConstraint (pkijs gap: never enforced)", async () => {
    const i1 = await ca("PL0", r, "p-256", { basicConstraints: { ca: true, pathLen: 0 } });
    const i2 = await ca("Below PL0", i1);
    const l = await leaf("Leaf", i2);
    expect(await verdict(l, [i2, i1], await material({ anchors: [r] }))).toBe("path_length_exceeded");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i1.der, i2.der, l.der] })).toBe(true);
    // pathLen 1 allows exactly one CA below.
    const j1 = await ca("PL1", r, "p-256", { basicConstraints: { ca: true, pathLen: 1 } });
    const j2 = await ca("Below PL1", j1);
    expect(await verdict(await leaf("Leaf", j2), [j2, j1], await material({ anchors: [r] }))).toBe("ok");
  });

  it("applies the anchor's own pathLenConstraint", async () => {
    const r0 = await root("Root PL0", "p-256", { basicConstraints: { ca: true, pathLen: 0 } });
    const i = await ca("Int", r0);
    expect(await verdict(await leaf("Leaf", i), [i], await material({ anchors: [r0] }))).toBe("path_length_exceeded");
    expect(await verdict(await leaf("Direct", r0), [], await material({ anchors: [r0] }))).toBe("ok");
  });

  it("does not count self-issued intermediates against pathLenConstraint (key rollover)", async () => {
    const i1 = await ca("Rollover CA", r, "p-256", { basicConstraints: { ca: true, pathLen: 0 } });
    const selfIssued = await cert({ subject: "CN=Rollover CA", issuer: i1, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign"] } } });
    const l = await leaf("Leaf", selfIssued);
    expect(await verdict(l, [selfIssued, i1], await material({ anchors: [r] }))).toBe("ok");
  });
});

describe("critical extensions", () => {
  const UNKNOWN = { oid: "1.3.6.1.4.1.55555.1", critical: true, value: new Uint8Array([0x05, 0x00]) };

  it("rejects an unknown critical extension on the leaf (pkijs gap: accepted)", async () => {
    const r = await root("Crit Root");
    const i = await ca("Crit Int", r);
    const l = await leaf("Crit Leaf", i, "p-256", { custom: [UNKNOWN] });
    expect(await verdict(l, [i], await material({ anchors: [r] }))).toBe("unknown_critical_extension");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der] })).toBe(true);
  });

  it("rejects an unknown critical extension on an intermediate, accepts a non-critical one", async () => {
    const r = await root("Crit Root 2");
    const i = await ca("Crit Int 2", r, "p-256", { custom: [UNKNOWN] });
    expect(await verdict(await leaf("L", i), [i], await material({ anchors: [r] }))).toBe("unknown_critical_extension");
    const i2 = await ca("NonCrit Int", r, "p-256", { custom: [{ ...UNKNOWN, critical: false }] });
    expect(await verdict(await leaf("L", i2, "p-256", { custom: [{ ...UNKNOWN, critical: false }] }), [i2], await material({ anchors: [r] }))).toBe("ok");
  });
});

describe("extended key usage and key usage of the leaf", () => {
  let r: BuiltCertificate, i: BuiltCertificate, m: Awaited<ReturnType<typeof material>>;
  beforeAll(async () => {
    r = await root("EKU Root");
    i = await ca("EKU Int", r);
    m = await material({ anchors: [r], intermediates: [i] });
  });

  it("requires clientAuth when the leaf has an EKU (pkijs does not check it)", async () => {
    const server = await leaf("Server", i, "p-256", { extKeyUsage: { oids: ["serverAuth"] } });
    expect(await verdict(server, [], m)).toBe("eku_client_auth_missing");
    expect(await verdict(server, [], m, { requireClientAuthEku: false })).toBe("ok");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, server.der] })).toBe(true);
  });

  it("accepts a leaf without EKU, and rejects anyExtendedKeyUsage alone (as OpenSSL's sslclient purpose)", async () => {
    const noEku = await cert({ subject: "CN=No EKU", issuer: i, extensions: { keyUsage: { usages: ["digitalSignature"] } } });
    expect(await verdict(noEku, [], m)).toBe("ok");
    const any = await leaf("Any", i, "p-256", { extKeyUsage: { oids: ["anyExtendedKeyUsage"] } });
    expect(await verdict(any, [], m)).toBe("eku_client_auth_missing");
  });

  it("rejects an issuing CA whose EKU excludes clientAuth, accepts one with anyExtendedKeyUsage", async () => {
    const serverCa = await ca("Server CA", r, "p-256", { extKeyUsage: { oids: ["serverAuth"] } });
    expect(await verdict(await leaf("L", serverCa), [serverCa], m)).toBe("eku_client_auth_missing");
    const anyCa = await ca("Any CA", r, "p-256", { extKeyUsage: { oids: ["anyExtendedKeyUsage"] } });
    expect(await verdict(await leaf("L", anyCa), [anyCa], m)).toBe("ok");
  });

  it("requires digitalSignature or keyAgreement when the leaf has a keyUsage", async () => {
    const enc = await leaf("Enc", i, "p-256", { keyUsage: { usages: ["keyEncipherment"] } });
    expect(await verdict(enc, [], m)).toBe("key_usage_invalid");
  });
});

describe("algorithm policy", () => {
  it("rejects SHA-1 signatures by default and accepts them when allowed", async () => {
    const r = await root("SHA1 Root", "rsa-2048");
    const i = await ca("SHA1 Int", r, "rsa-2048");
    const l = await leaf("SHA1 Leaf", i, "rsa-2048", {}, { signatureHash: "SHA-1" });
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [i], m)).toBe("unsupported_algorithm");
    expect(await verdict(l, [i], m, { allowSha1: true })).toBe("ok");
  });

  it("rejects MD5 always", async () => {
    const r = await root("MD5 Root", "rsa-2048");
    const l = await leaf("MD5 Leaf", r, "rsa-2048", {}, { signatureAlgorithmOid: "1.2.840.113549.1.1.4" });
    expect(await verdict(l, [], await material({ anchors: [r] }), { allowSha1: true })).toBe("unsupported_algorithm");
  });

  it("rejects RSA keys under 2048 bits by default, configurable", async () => {
    const r = await root("Weak Root", "rsa-2048");
    const l = await leaf("Weak Leaf", r, "rsa-1024");
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [], m)).toBe("weak_key");
    expect(await verdict(l, [], m, { minRsaBits: 1024 })).toBe("ok");
    const weakRoot = await root("Weak Anchor", "rsa-1024");
    expect(await verdict(await leaf("L", weakRoot, "rsa-2048"), [], await material({ anchors: [weakRoot] }))).toBe("weak_key");
  });

  it("verifies RSASSA-PSS signatures", async () => {
    const r = await root("PSS Root", "rsa-2048");
    const l = await leaf("PSS Leaf", r, "rsa-2048", {}, { rsaPss: true });
    expect(await verdict(l, [], await material({ anchors: [r] }))).toBe("ok");
  });
});

describe("CERT_PROFILE: strict by default, compatible for existing PKIs", () => {
  it("relaxes only rules that do not change what a certificate may do", async () => {
    // Easy-RSA 3.1's CA: basicConstraints not critical. OpenSSL's v3_ca: no keyUsage. Internal names with underscores.
    const r = await root("Compat Root", "p-256", { basicConstraints: { ca: true, critical: false } });
    const i = await cert({ subject: "CN=Compat Int", issuer: r, extensions: { basicConstraints: { ca: true } } });
    const l = await leaf("Compat Leaf", i, "p-256", { subjectAltName: { names: [{ dns: "srv_01.corp.example" }] } });
    const plain = await leaf("Compat Plain Leaf", i);
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [i], m)).toBe("certificate_malformed"); // the underscore, checked first
    expect(await verdict(plain, [i], m)).toBe("key_usage_invalid"); // the intermediate has no keyUsage
    const strictRootOnly = await material({ anchors: [r], version: "compat-2" });
    const kuInt = await ca("Compat KU Int", r);
    const kuLeaf = await leaf("Compat KU Leaf", kuInt);
    const rootBc = await validatePath({ leaf: parsed(kuLeaf), presented: [parsed(kuInt)], material: strictRootOnly, now: NOW });
    expect(rootBc.ok ? "ok" : `${rootBc.error.code}: ${rootBc.error.detail}`).toMatch(/^basic_constraints_violated: .*not marked critical/); // the root's BC
    expect(await verdict(l, [i], m, { profile: "compatible" })).toBe("ok");
    expect(await verdict(plain, [i], m, { profile: "compatible" })).toBe("ok");
    // What a certificate may do is never relaxed: a CA certificate as the client certificate, cA false in an issuer.
    const asClient = await ca("Compat CA Client", r);
    expect(await verdict(asClient, [], m, { profile: "compatible" })).toBe("key_usage_invalid"); // keyCertSign only: no client use
    const caClient = await ca("Compat CA Client 2", r, "p-256", { keyUsage: { usages: ["digitalSignature", "keyCertSign"] } });
    expect(await verdict(caClient, [], m, { profile: "compatible" })).toBe("basic_constraints_violated");
    const notCa = await cert({ subject: "CN=Compat Not CA", issuer: r, extensions: { basicConstraints: { ca: false } } });
    expect(await verdict(await leaf("Under Not CA", notCa), [notCa], m, { profile: "compatible" })).toBe("basic_constraints_violated");
  });
});

describe("name constraints", () => {
  it("enforces permitted and excluded DNS, email, IP and directory names", async () => {
    const r = await root("NC Root");
    const i = await ca("NC Int", r, "p-256", {
      nameConstraints: {
        permitted: [{ dns: "example.com" }, { email: "example.com" }, { ip: "10.0.0.0/8" }, { dirName: "O=Example" }],
        excluded: [{ dns: "bad.example.com" }],
      },
    }, { subject: "CN=NC Int, O=Example" });
    const m = await material({ anchors: [r] });
    const withNames = (name: string, names: Array<Record<string, string>>) =>
      leaf("x", i, "p-256", names.length > 0 ? { subjectAltName: { names: names as never } } : {}, { subject: name });
    expect(await verdict(await withNames("CN=ok, O=Example", [{ dns: "api.example.com" }, { email: "a@example.com" }, { ip: "10.1.2.3" }]), [i], m)).toBe("ok");
    expect(await verdict(await withNames("CN=dns, O=Example", [{ dns: "api.other.com" }]), [i], m)).toBe("name_constraints_violated");
    expect(await verdict(await withNames("CN=excl, O=Example", [{ dns: "x.bad.example.com" }]), [i], m)).toBe("name_constraints_violated");
    expect(await verdict(await withNames("CN=ip, O=Example", [{ ip: "192.168.1.1" }]), [i], m)).toBe("name_constraints_violated");
    expect(await verdict(await withNames("CN=mail, O=Example", [{ email: "a@evil.com" }]), [i], m)).toBe("name_constraints_violated");
    expect(await verdict(await withNames("CN=dir, O=Elsewhere", []), [i], m)).toBe("name_constraints_violated");
  });

  it("closes the review's bypasses: a host-like CN without a DNS SAN, URIs without a plain host, quoted mailboxes, IPv4-mapped IPv6", async () => {
    const r = await root("NC3 Root");
    const permitted = await ca("NC3 Permit", r, "p-256", { nameConstraints: { permitted: [{ dns: "example.com" }] } });
    const excluded = await ca("NC3 Exclude", r, "p-256", {
      nameConstraints: { excluded: [{ dns: "evil.com" }, { uri: "evil.com" }, { email: "admin@corp.com" }, { ip: "10.0.0.0/8" }] },
    });
    const m = await material({ anchors: [r] });
    const under = (issuer: typeof permitted, subject: string, names: Array<Record<string, string>> = []) =>
      leaf("x", issuer, "p-256", names.length > 0 ? { subjectAltName: { names: names as never } } : {}, { subject });
    // A CN that is a host name stands for the DNS name when there is no DNS SAN (OpenSSL's NAME_CONSTRAINTS_check_CN).
    expect(await verdict(await under(permitted, "CN=www.evil.com"), [permitted], m)).toBe("name_constraints_violated");
    expect(await verdict(await under(excluded, "CN=www.evil.com"), [excluded], m)).toBe("name_constraints_violated");
    expect(await verdict(await under(permitted, "CN=api.example.com"), [permitted], m)).toBe("ok");
    expect(await verdict(await under(permitted, "CN=Alice Example"), [permitted], m)).toBe("ok"); // not a host name
    expect(await verdict(await under(permitted, "CN=www.evil.com", [{ dns: "api.example.com" }]), [permitted], m)).toBe("ok"); // the SAN decides
    expect(await verdict(await under(permitted, "CN=www.evil.com", [{ ip: "192.0.2.1" }]), [permitted], m)).toBe("ok"); // any SAN: as BetterTLS
    // URIs: no host, a trailing dot, percent-encoding: not comparable to a host constraint, so refused.
    for (const uri of ["https:evil.com", "https://evil.com./", "https://evil%2ecom/"]) {
      expect([uri, await verdict(await under(excluded, "CN=u", [{ uri }]), [excluded], m)]).toEqual([uri, "name_constraints_violated"]);
    }
    expect(await verdict(await under(excluded, "CN=u", [{ uri: "https://good.example/" }]), [excluded], m)).toBe("ok");
    expect(await verdict(await under(excluded, "CN=q", [{ email: "\"admin\"@corp.com" }]), [excluded], m)).toBe("name_constraints_violated");
    expect(await verdict(await under(excluded, "CN=ip", [{ ip: "::ffff:10.0.0.1" }]), [excluded], m)).toBe("name_constraints_violated");
  });

  it("applies constraints of every CA above, not just the nearest", async () => {
    const r = await root("NC2 Root");
    const i1 = await ca("NC2 Top", r, "p-256", { nameConstraints: { permitted: [{ dns: "example.com" }] } });
    const i2 = await ca("NC2 Low", i1, "p-256", { nameConstraints: { permitted: [{ dns: "other.com" }, { dns: "a.example.com" }] } });
    const m = await material({ anchors: [r] });
    const l1 = await leaf("x", i2, "p-256", { subjectAltName: { names: [{ dns: "h.a.example.com" }] } });
    const l2 = await leaf("y", i2, "p-256", { subjectAltName: { names: [{ dns: "h.other.com" }] } });
    expect(await verdict(l1, [i2, i1], m)).toBe("ok");
    expect(await verdict(l2, [i2, i1], m)).toBe("name_constraints_violated");
  });
});

describe("certificate policies", () => {
  const P1 = "1.3.6.1.4.1.55555.10.1";
  const P2 = "1.3.6.1.4.1.55555.10.2";

  it("requires a valid policy when a CA sets requireExplicitPolicy", async () => {
    const r = await root("Pol Root");
    const i = await ca("Pol Int", r, "p-256", { certificatePolicies: { policies: [P1] }, policyConstraints: { requireExplicitPolicy: 0 } });
    const m = await material({ anchors: [r] });
    expect(await verdict(await leaf("With P1", i, "p-256", { certificatePolicies: { policies: [P1] } }), [i], m)).toBe("ok");
    expect(await verdict(await leaf("With P2", i, "p-256", { certificatePolicies: { policies: [P2] } }), [i], m)).toBe("policy_violated");
    expect(await verdict(await leaf("None", i), [i], m)).toBe("policy_violated");
  });

  it("follows policy mappings and rejects a mapping of anyPolicy", async () => {
    const r = await root("Map Root");
    const i1 = await ca("Map Top", r, "p-256", {
      certificatePolicies: { policies: [P1] }, policyMappings: { mappings: [[P1, P2]] }, policyConstraints: { requireExplicitPolicy: 0 },
    });
    const i2 = await ca("Map Low", i1, "p-256", { certificatePolicies: { policies: [P2] } });
    const m = await material({ anchors: [r] });
    expect(await verdict(await leaf("P2", i2, "p-256", { certificatePolicies: { policies: [P2] } }), [i2, i1], m)).toBe("ok");
    const bad = await ca("Map Any", r, "p-256", { certificatePolicies: { policies: [P1] }, policyMappings: { mappings: [["2.5.29.32.0", P2]] } });
    expect(await verdict(await leaf("x", bad), [bad], m)).toBe("policy_violated");
  });

  it("reads policy OIDs with 128-bit UUID arcs (2.25, X.667)", async () => {
    const UUID_POLICY = "2.25.329800735698586629295641978511506172918";
    const r = await root("UUID Root");
    const i = await ca("UUID Int", r, "p-256", { certificatePolicies: { policies: [UUID_POLICY] }, policyConstraints: { requireExplicitPolicy: 0 } });
    const l = await leaf("UUID Leaf", i, "p-256", { certificatePolicies: { policies: [UUID_POLICY] } });
    expect(parsed(l).extensions.certificatePolicies).toEqual([UUID_POLICY]);
    expect(await verdict(l, [i], await material({ anchors: [r] }))).toBe("ok");
  });

  it("passes paths without policies when nothing requires them (RFC 5280 default inputs)", async () => {
    const r = await root("NoPol Root");
    const i = await ca("NoPol Int", r);
    expect(await verdict(await leaf("x", i), [i], await material({ anchors: [r] }))).toBe("ok");
  });
});

describe("path building", () => {
  it("accepts 6 intermediates and rejects 7 (maximum path of 8 certificates)", async () => {
    const r = await root("Deep Root");
    const ints: BuiltCertificate[] = [];
    let issuer = r;
    for (let k = 0; k < 7; k++) {
      issuer = await ca(`Deep ${k}`, issuer);
      ints.push(issuer);
    }
    const m = await material({ anchors: [r] });
    const six = await leaf("Six", ints[5]!);
    expect(await verdict(six, ints.slice(0, 6).reverse(), m)).toBe("ok");
    const seven = await leaf("Seven", ints[6]!);
    expect(await verdict(seven, ints.slice(0, 7).reverse(), m)).toBe("path_too_long");
  });

  it("finds the valid path among cross-signed candidates (an expired and a valid issuer of the same CA)", async () => {
    const oldRoot = await root("Old Root");
    const newRoot = await root("New Root");
    const intKey = await freshKey();
    const viaOld = await ca("Cross Int", oldRoot, "p-256", {}, { key: intKey, notAfter: new Date(NOW.getTime() - DAY) });
    const viaNew = await ca("Cross Int", newRoot, "p-256", {}, { key: intKey });
    const l = await leaf("Cross Leaf", viaNew);
    const m = await material({ anchors: [oldRoot, newRoot] });
    expect(await verdict(l, [viaOld, viaNew], m)).toBe("ok");
    // Only the expired cross-sign available: the most specific reason is reported.
    expect(await verdict(l, [viaOld], await material({ anchors: [oldRoot, newRoot] }))).toBe("certificate_expired");
  });

  it("terminates on cross-signed loops and reports not trusted", async () => {
    const keyA = await freshKey();
    const keyB = await freshKey();
    const a0 = await cert({ subject: "CN=Loop A", key: keyA, extensions: { basicConstraints: { ca: true } } });
    const b = await cert({ subject: "CN=Loop B", issuer: a0, key: keyB, extensions: { basicConstraints: { ca: true } } });
    const a = await cert({ subject: "CN=Loop A", issuer: b, key: keyA, extensions: { basicConstraints: { ca: true } } });
    const l = await leaf("Loop Leaf", a);
    const unrelated = await root("Unrelated");
    expect(await verdict(l, [a, b, a0], await material({ anchors: [unrelated] }))).toBe("certificate_not_trusted");
  });

  it("stops with budget_exceeded on a store full of same-name CAs that do not sign the leaf", async () => {
    const r = await root("Budget Root");
    const decoys: BuiltCertificate[] = [];
    // Every decoy claims the real CA's key identifier, so AKI/SKI agreement cannot tell them apart.
    const sameKeyId = Uint8Array.of(9, 9, 9, 9);
    for (let k = 0; k < 20; k++) decoys.push(await ca("Same Name", r, "p-256", { subjectKeyIdentifier: sameKeyId }));
    const real = await ca("Same Name", r, "p-256", { subjectKeyIdentifier: sameKeyId });
    const l = await leaf("Budget Leaf", real, "p-256");
    const m = await material({ anchors: [r], intermediates: [...decoys, real] });
    const started = Date.now();
    expect(await verdict(l, [], m)).toBe("budget_exceeded");
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("accepts a store intermediate as the anchor only with allowPartialChain", async () => {
    const r = await root("Partial Root");
    const i = await ca("Partial Int", r);
    const l = await leaf("Partial Leaf", i);
    const m = await material({ anchors: [], intermediates: [i] });
    expect(await verdict(l, [], m)).toBe("certificate_not_trusted");
    expect(await verdict(l, [], m, { allowPartialChain: true })).toBe("ok");
    // A presented (untrusted) intermediate never becomes an anchor.
    expect(await verdict(l, [i], await material({ anchors: [] }), { allowPartialChain: true })).toBe("certificate_not_trusted");
  });

  it("accepts a self-signed leaf only when it is registered", async () => {
    const self = await cert({ subject: "CN=Self Signed Client", extensions: { extKeyUsage: { oids: ["clientAuth"] } } });
    expect(await verdict(self, [], await material({ anchors: [self] }))).toBe("self_signed_not_registered");
    expect(await verdict(self, [], await material({ anchors: [], registered: [self] }))).toBe("ok");
    // A root CA presented as the client certificate is named as such, not as a key-usage problem.
    const rootCa = await root("Presented Root");
    expect(await verdict(rootCa, [], await material({ anchors: [rootCa] }))).toBe("self_signed_not_registered");
  });

  it("stops with budget_exceeded when policy mappings would blow up the policy tree (CVE-2023-0464 shape)", async () => {
    const r = await root("Policy Bomb Root");
    const policies = Array.from({ length: 12 }, (_, k) => `1.3.6.1.4.1.55555.20.${k}`);
    const mappings = policies.flatMap((a) => policies.map((b) => [a, b] as [string, string]));
    let issuer = r;
    const chain: BuiltCertificate[] = [];
    for (let k = 0; k < 4; k++) {
      issuer = await ca(`Bomb ${k}`, issuer, "p-256", { certificatePolicies: { policies }, policyMappings: { mappings } });
      chain.unshift(issuer);
    }
    const l = await leaf("Bomb Leaf", issuer, "p-256", { certificatePolicies: { policies } });
    expect(await verdict(l, chain, await material({ anchors: [r] }))).toBe("budget_exceeded");
  });

  it("stops with budget_exceeded on name constraints × names explosion", async () => {
    const r = await root("NC Bomb Root");
    const permitted = Array.from({ length: 600 }, (_, k) => ({ dns: `d${k}.example` }));
    const i = await ca("NC Bomb Int", r, "p-256", { nameConstraints: { permitted, excluded: permitted.slice(0, 300) } });
    const names = Array.from({ length: 600 }, (_, k) => ({ dns: `h${k}.d599.example` }));
    const l = await leaf("NC Bomb Leaf", i, "p-256", { subjectAltName: { names } });
    expect(await verdict(l, [i], await material({ anchors: [r] }))).toBe("budget_exceeded");
  });

  it("refuses a presented chain longer than the cap before building", async () => {
    const r = await root("Cap Root");
    const l = await leaf("Cap Leaf", r);
    const pool = Array.from({ length: 9 }, () => r);
    expect(await verdict(l, pool, await material({ anchors: [r] }))).toBe("bundle_too_many_certificates");
  });
});
