/**
 * CRL revocation conformance (RFC 5280 §5, §6.3), inside workerd. `pkijs gap` cases pin that plain pkijs
 * accepts what certgate rejects.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { der, type BuiltCertificate } from "../../scripts/pki/builder";
import { ca, cert, crl, DAY, leaf, material, NOW, parsed, plainPkijsAccepts, root, verdict } from "../../test/support/chains";
import { prepareTrustMaterial } from "./trust-material";
import { validatePath } from "./validate";

let r: BuiltCertificate, i: BuiltCertificate, l: BuiltCertificate;
beforeAll(async () => {
  r = await root("Rev Root");
  i = await ca("Rev Int", r, "p-256", { crlDistributionPoints: { points: [{ uris: ["http://crl.example/root.crl"] }] } });
  l = await leaf("Rev Leaf", i, "p-256", { crlDistributionPoints: { points: [{ uris: ["http://crl.example/int.crl"] }] } });
});

const revokedLeaf = () => ({ serialNumber: l.serialNumber, revocationDate: new Date(NOW.getTime() - 2 * DAY), reason: "keyCompromise" as const });

describe("modes", () => {
  it("off ignores CRLs, soft passes without a CRL with a warning, strict denies without one", async () => {
    const m = await material({ anchors: [r] });
    expect(await verdict(l, [i], m, { revocation: "off" })).toBe("ok");
    const soft = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: m, now: NOW, options: { revocation: "soft" } });
    expect(soft.ok && soft.value.warnings.length).toBe(2);
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("passes strict when fresh CRLs cover every certificate of the path", async () => {
    const m = await material({ anchors: [r], crls: [(await crl({ issuer: i })).der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("ok");
  });
});

describe("revoked certificates", () => {
  it("denies a revoked leaf in soft and strict mode with date and reason", async () => {
    const list = await crl({ issuer: i, entries: [revokedLeaf()] });
    const m = await material({ anchors: [r], crls: [list.der] });
    const res = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: m, now: NOW, options: { revocation: "soft" } });
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.error.code).toBe("certificate_revoked");
      expect(res.error.context?.reason).toBe("keyCompromise");
      expect(res.error.context?.revocationDate).toBe(new Date(NOW.getTime() - 2 * DAY).toISOString());
    }
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("certificate_revoked");
    expect(await verdict(l, [i], m, { revocation: "off" })).toBe("ok");
  });

  it("checks every certificate in the path, not just the leaf", async () => {
    const list = await crl({ issuer: r, entries: [{ serialNumber: i.serialNumber, revocationDate: new Date(NOW.getTime() - DAY), reason: "cACompromise" }] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [list.der] }))).toBe("certificate_revoked");
  });

  it("still denies on a stale CRL that lists the certificate", async () => {
    const stale = await crl({ issuer: i, entries: [revokedLeaf()], thisUpdate: new Date(NOW.getTime() - 30 * DAY), nextUpdate: new Date(NOW.getTime() - 20 * DAY) });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [stale.der] }))).toBe("certificate_revoked");
  });
});

describe("CRL validity", () => {
  it("does not count a stale CRL as coverage in strict mode", async () => {
    const stale = await crl({ issuer: i, thisUpdate: new Date(NOW.getTime() - 30 * DAY), nextUpdate: new Date(NOW.getTime() - DAY) });
    const m = await material({ anchors: [r], crls: [stale.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("ignores a CRL issued in the future", async () => {
    const early = await crl({ issuer: i, entries: [revokedLeaf()], thisUpdate: new Date(NOW.getTime() + DAY), nextUpdate: new Date(NOW.getTime() + 9 * DAY) });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [early.der] }), { revocation: "soft" })).toBe("ok");
  });

  it("ignores a CRL signed by another key under the issuer's name", async () => {
    const impostor = await ca("Rev Int", r);
    const forged = await crl({ issuer: impostor, entries: [], authorityKeyIdentifier: false });
    const m = await material({ anchors: [r], crls: [forged.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("requires cRLSign in the issuer's keyUsage", async () => {
    const noCrlSign = await ca("No CRL Sign", r, "p-256", { keyUsage: { usages: ["keyCertSign"] } });
    const l2 = await leaf("L2", noCrlSign);
    const list = await crl({ issuer: noCrlSign, entries: [{ serialNumber: l2.serialNumber, revocationDate: NOW }] });
    const m = await material({ anchors: [r], crls: [list.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l2, [noCrlSign], m, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("rejects a CRL with an unknown critical extension (as pkijs does)", async () => {
    const weird = await crl({ issuer: i, custom: [{ oid: "1.3.6.1.4.1.55555.2", critical: true, value: new Uint8Array([0x05, 0x00]) }] });
    const m = await material({ anchors: [r], crls: [weird.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der], crls: [weird.der, (await crl({ issuer: r })).der] })).toBe(false);
  });

  it("rejects a CRL with an unknown critical entry extension", async () => {
    const weird = await crl({ issuer: i, entries: [{ serialNumber: "0A", revocationDate: NOW, custom: [{ oid: "1.3.6.1.4.1.55555.3", critical: true, value: new Uint8Array([0x05, 0x00]) }] }] });
    const m = await material({ anchors: [r], crls: [weird.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });
});

describe("distribution-point scope", () => {
  it("does not use a partitioned CRL for a certificate of another partition (pkijs gap: scope ignored)", async () => {
    const other = await crl({ issuer: i, issuingDistributionPoint: { uris: ["http://crl.example/other-partition.crl"] } });
    const m = await material({ anchors: [r], crls: [other.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der], crls: [other.der, (await crl({ issuer: r })).der] })).toBe(true);
    const same = await crl({ issuer: i, issuingDistributionPoint: { uris: ["http://crl.example/int.crl"] } });
    const m2 = await material({ anchors: [r], crls: [same.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m2, { revocation: "strict" })).toBe("ok");
  });

  it("honours onlyContainsCACerts and onlyContainsUserCerts", async () => {
    const caOnly = await crl({ issuer: i, entries: [revokedLeaf()], issuingDistributionPoint: { onlyContainsCACerts: true } });
    const m = await material({ anchors: [r], crls: [caOnly.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    const userOnly = await crl({ issuer: i, issuingDistributionPoint: { onlyContainsUserCerts: true } });
    const rootUserOnly = await crl({ issuer: r, issuingDistributionPoint: { onlyContainsUserCerts: true } });
    const m2 = await material({ anchors: [r], crls: [userOnly.der, rootUserOnly.der] });
    // The leaf is covered; the intermediate (a CA) is not.
    expect(await verdict(l, [i], m2, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("needs every reason covered: onlySomeReasons alone is not enough (pkijs gap: treated as complete)", async () => {
    const partial = await crl({ issuer: i, issuingDistributionPoint: { onlySomeReasons: ["keyCompromise"] } });
    const m = await material({ anchors: [r], crls: [partial.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der], crls: [partial.der, (await crl({ issuer: r })).der] })).toBe(true);
    const rest = await crl({
      issuer: i, crlNumber: 2,
      issuingDistributionPoint: { onlySomeReasons: ["cACompromise", "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", "privilegeWithdrawn", "aACompromise"] },
    });
    const m2 = await material({ anchors: [r], crls: [partial.der, rest.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m2, { revocation: "strict" })).toBe("ok");
  });
});

describe("distribution-point reasons", () => {
  it("counts only the reasons the certificate's distribution point names", async () => {
    const l4 = await leaf("Reasons Leaf", i, "p-256", { crlDistributionPoints: { points: [{ uris: ["http://crl.example/kc.crl"], reasons: ["keyCompromise"] }] } });
    const full = await crl({ issuer: i });
    const m = await material({ anchors: [r], crls: [full.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l4, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("ok");
  });
});

describe("delta CRLs", () => {
  it("applies a delta CRL that revokes the leaf", async () => {
    const base = await crl({ issuer: i, crlNumber: 10 });
    const delta = await crl({ issuer: i, crlNumber: 11, deltaCrlIndicator: 10, entries: [revokedLeaf()] });
    const m = await material({ anchors: [r], crls: [base.der, delta.der] });
    expect(await verdict(l, [i], m)).toBe("certificate_revoked");
  });

  it("does not take a delta CRL alone as coverage (pkijs gap: a delta is treated as a complete CRL)", async () => {
    const delta = await crl({ issuer: i, crlNumber: 11, deltaCrlIndicator: 10 });
    const rootCrl = (await crl({ issuer: r })).der;
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [delta.der, rootCrl] }), { revocation: "strict" })).toBe("revocation_unknown");
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der], crls: [delta.der, rootCrl] })).toBe(true);
  });

  it("lifts a certificateHold with removeFromCRL in a delta", async () => {
    const base = await crl({ issuer: i, crlNumber: 20, entries: [{ ...revokedLeaf(), reason: "certificateHold" }] });
    const delta = await crl({ issuer: i, crlNumber: 21, deltaCrlIndicator: 20, entries: [{ serialNumber: l.serialNumber, revocationDate: NOW, reason: "removeFromCRL" }] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [base.der] }))).toBe("certificate_revoked");
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [base.der, delta.der] }))).toBe("ok");
    // pkijs ignores removeFromCRL and keeps denying the released certificate.
    expect(await plainPkijsAccepts({ trusted: [r.der], certs: [i.der, l.der], crls: [base.der, delta.der, (await crl({ issuer: r })).der] })).toBe(false);
  });

  it("ignores a delta whose base is newer than the complete CRL, and a delta alone gives no coverage", async () => {
    const base = await crl({ issuer: i, crlNumber: 30 });
    const delta = await crl({ issuer: i, crlNumber: 41, deltaCrlIndicator: 40, entries: [revokedLeaf()] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [base.der, delta.der] }))).toBe("ok");
    const rootCrl = (await crl({ issuer: r })).der;
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [delta.der, rootCrl] }), { revocation: "strict" })).toBe("revocation_unknown");
  });
});

describe("indirect CRLs", () => {
  it("uses an indirect CRL from the CRL issuer named in the certificate's distribution point", async () => {
    const crlIssuer = await ca("Rev CRL Issuer", r, "p-256", { keyUsage: { usages: ["cRLSign"] } });
    const l3 = await leaf("Indirect Leaf", i, "p-256", {
      crlDistributionPoints: { points: [{ uris: ["http://crl.example/indirect.crl"], crlIssuer: [{ dirName: "CN=Rev CRL Issuer" }] }] },
    });
    const indirect = await crl({
      issuer: crlIssuer,
      issuingDistributionPoint: { uris: ["http://crl.example/indirect.crl"], indirectCRL: true },
      entries: [{ serialNumber: l3.serialNumber, revocationDate: NOW, reason: "keyCompromise", certificateIssuer: [{ dirName: "CN=Rev Int" }] }],
    });
    const m = await material({ anchors: [r], intermediates: [crlIssuer], crls: [indirect.der] });
    expect(await verdict(l3, [i], m)).toBe("certificate_revoked");
    // The same serial under another issuer in the indirect CRL does not revoke it.
    const otherIssuer = await crl({
      issuer: crlIssuer,
      issuingDistributionPoint: { uris: ["http://crl.example/indirect.crl"], indirectCRL: true },
      entries: [{ serialNumber: l3.serialNumber, revocationDate: NOW, certificateIssuer: [{ dirName: "CN=Somebody Else" }] }],
    });
    expect(await verdict(l3, [i], await material({ anchors: [r], intermediates: [crlIssuer], crls: [otherIssuer.der] }))).toBe("ok");
  });
});

describe("key rollover", () => {
  it("uses a CRL signed by the CA's current key (same name, in the store) for a certificate issued under the old key", async () => {
    const cur = await cert({ subject: "CN=Rev Int", issuer: r, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } } });
    const list = await crl({ issuer: cur, entries: [revokedLeaf()] });
    expect(await verdict(l, [i], await material({ anchors: [r], intermediates: [cur], crls: [list.der] }))).toBe("certificate_revoked");
  });
});

describe("CRL signers are validated like any certificate (RFC 5280 §6.3.3 (f))", () => {
  /** A separate CRL-signing key of "Rev Int": same name, issued by the root, only cRLSign. */
  const crlSigner = () => cert({ subject: "CN=Rev Int", issuer: r, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["cRLSign"] } } });

  it("a CRL signed by a separate, valid CRL-signing certificate decides the leaf's status", async () => {
    const signer = await crlSigner();
    const list = await crl({ issuer: signer, entries: [revokedLeaf()] });
    const m = await material({ anchors: [r], intermediates: [signer], crls: [list.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("certificate_revoked");
  });

  it("a CRL signed by a revoked CRL-signing certificate decides nothing: strict is revocation_unknown", async () => {
    const signer = await crlSigner();
    const list = await crl({ issuer: signer });
    const rootCrl = await crl({ issuer: r, entries: [{ serialNumber: signer.serialNumber, revocationDate: new Date(NOW.getTime() - DAY), reason: "keyCompromise" }] });
    const m = await material({ anchors: [r], intermediates: [signer], crls: [list.der, rootCrl.der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    // Without the revocation of the signer, the same CRL covers the leaf.
    const fine = await material({ anchors: [r], intermediates: [signer], crls: [list.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], fine, { revocation: "strict" })).toBe("ok");
  });

  it("a CRL signer that chains to another trust anchor decides nothing", async () => {
    const otherRoot = await root("Rev Other Root");
    const foreign = await cert({ subject: "CN=Rev Int", issuer: otherRoot, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["cRLSign"] } } });
    const list = await crl({ issuer: foreign });
    const m = await material({ anchors: [r, otherRoot], intermediates: [foreign], crls: [list.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });

  it("an expired CRL signer decides nothing", async () => {
    const expired = await cert({ subject: "CN=Rev Int", issuer: r, notBefore: new Date(NOW.getTime() - 30 * DAY), notAfter: new Date(NOW.getTime() - DAY),
      extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["cRLSign"] } } });
    const list = await crl({ issuer: expired, entries: [revokedLeaf()] });
    const m = await material({ anchors: [r], intermediates: [expired], crls: [list.der, (await crl({ issuer: r })).der] });
    // A CRL is there but its signer does not hold up: soft mode fails closed too (soft is for absent CRLs).
    expect(await verdict(l, [i], m, { revocation: "soft" })).toBe("revocation_unknown");
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });
});

describe("cRLNumber (RFC 5280 §5.2.3)", () => {
  it("a CRL without cRLNumber still revokes what it lists but covers nothing: revocation_unknown in strict and soft", async () => {
    const unnumbered = await crl({ issuer: i, crlNumber: false });
    const m = await material({ anchors: [r], crls: [unnumbered.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
    // Soft mode fails closed too: the issuer publishes revocations, just not in a form to rely on.
    expect(await verdict(l, [i], m, { revocation: "soft" })).toBe("revocation_unknown");
    const listing = await crl({ issuer: i, crlNumber: false, entries: [revokedLeaf()] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [listing.der] }), { revocation: "soft" })).toBe("certificate_revoked");
  });
});

describe("a CRL issued for a later moment", () => {
  it("is not used yet, but bounds how long the answer holds (thisUpdate)", async () => {
    const later = new Date(NOW.getTime() + 60_000);
    const list = await crl({ issuer: i, thisUpdate: later, nextUpdate: new Date(later.getTime() + 7 * DAY), entries: [revokedLeaf()] });
    const m = await material({ anchors: [r], crls: [list.der] });
    const now = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: m, now: NOW, options: { revocation: "soft" } });
    expect(now.ok).toBe(true);
    if (now.ok) expect(now.value.crlNextUpdate?.getTime()).toBe(later.getTime());
    expect(await verdict(l, [i], m, { revocation: "soft" }, new Date(later.getTime() + 1000))).toBe("certificate_revoked");
  });
});

describe("distribution points named relative to the CRL issuer (RFC 5280 §4.2.1.13, §6.3.3 (b))", () => {
  // nameRelativeToCRLIssuer [1] IMPLICIT RelativeDistinguishedName: the RDN's SET content under tag [1].
  const relative = (cn: string) => der.contextConstructed(1, der.sequence(der.oid("2.5.4.3"), der.utf8String(cn)));
  const cdp = (cn: string) => ({ oid: "2.5.29.31", critical: false, value: der.sequence(der.sequence(der.contextConstructed(0, relative(cn)))) });
  const idp = (cn: string) => ({ oid: "2.5.29.28", critical: true, value: der.sequence(der.contextConstructed(0, relative(cn))) });

  it("a partitioned CRL whose IDP names the same relative point covers the certificate; another point does not", async () => {
    const leafRel = await leaf("Rel Leaf", i, "p-256", { custom: [cdp("Partition 1")] });
    const rootCrl = (await crl({ issuer: r })).der;
    const same = await crl({ issuer: i, custom: [idp("Partition 1")] });
    expect(await verdict(leafRel, [i], await material({ anchors: [r], crls: [same.der, rootCrl] }), { revocation: "strict" })).toBe("ok");
    const other = await crl({ issuer: i, custom: [idp("Partition 2")] });
    expect(await verdict(leafRel, [i], await material({ anchors: [r], crls: [other.der, rootCrl] }), { revocation: "strict" })).toBe("revocation_unknown");
    const revoking = await crl({ issuer: i, custom: [idp("Partition 1")], entries: [{ serialNumber: leafRel.serialNumber, revocationDate: NOW }] });
    expect(await verdict(leafRel, [i], await material({ anchors: [r], crls: [revoking.der, rootCrl] }), { revocation: "soft" })).toBe("certificate_revoked");
  });

  it("a relative point matches an IDP that gives the same point as a full directoryName", async () => {
    const leafRel = await leaf("Rel Leaf 2", i, "p-256", { custom: [cdp("Partition 1")] });
    const full = await crl({ issuer: i, issuingDistributionPoint: { dirName: "CN=Partition 1, CN=Rev Int" } });
    expect(await verdict(leafRel, [i], await material({ anchors: [r], crls: [full.der, (await crl({ issuer: r })).der] }), { revocation: "strict" })).toBe("ok");
  });
});

describe("review findings (fail closed where a CRL says a certificate is revoked)", () => {
  const stale = { thisUpdate: new Date(NOW.getTime() - 30 * DAY), nextUpdate: new Date(NOW.getTime() - 20 * DAY) };

  it("a delta CRL listing the leaf revokes it even when the delta or its base is past nextUpdate", async () => {
    const base = await crl({ issuer: i, crlNumber: 10 });
    const staleDelta = await crl({ issuer: i, crlNumber: 11, deltaCrlIndicator: 10, entries: [revokedLeaf()], ...stale });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [base.der, staleDelta.der] }), { revocation: "strict" })).toBe("certificate_revoked");
    const staleBase = await crl({ issuer: i, crlNumber: 10, ...stale });
    const freshDelta = await crl({ issuer: i, crlNumber: 11, deltaCrlIndicator: 10, entries: [revokedLeaf()] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [staleBase.der, freshDelta.der] }), { revocation: "soft" })).toBe("certificate_revoked");
  });

  it("a CRL whose entry serial is not minimal DER does not load (it would never match the certificate's serial)", async () => {
    const padded = await crl({ issuer: i, entries: [{ serialNumber: "00 4A 11", revocationDate: NOW }] });
    const loaded = await prepareTrustMaterial({ version: "padded", anchors: [r.der], crls: [padded.der] });
    expect(loaded.ok ? "ok" : loaded.error.code).toBe("crl_malformed");
  });

  it("a v1 CRL (no extensions, as `openssl ca -gencrl` writes without a crlnumber file) covers and revokes", async () => {
    const v1 = await crl({ issuer: i, version: 1, crlNumber: false, authorityKeyIdentifier: false });
    const rootCrl = (await crl({ issuer: r })).der;
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [v1.der, rootCrl] }), { revocation: "strict" })).toBe("ok");
    const listing = await crl({ issuer: i, version: 1, crlNumber: false, authorityKeyIdentifier: false, entries: [revokedLeaf()] });
    expect(await verdict(l, [i], await material({ anchors: [r], crls: [listing.der, rootCrl] }), { revocation: "soft" })).toBe("certificate_revoked");
  });

  it("a separate CRL signer's own expiry bounds how long the leaf's answer holds", async () => {
    const signerEnds = new Date(NOW.getTime() + DAY);
    const signer = await cert({ subject: "CN=Rev Int", issuer: r, notAfter: signerEnds, extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["cRLSign"] } } });
    const list = await crl({ issuer: signer });
    const m = await material({ anchors: [r], intermediates: [signer], crls: [list.der, (await crl({ issuer: r })).der] });
    const res = await validatePath({ leaf: parsed(l), presented: [parsed(i)], material: m, now: NOW, options: { revocation: "strict" } });
    expect(res.ok).toBe(true);
    if (res.ok) expect(res.value.crlNextUpdate!.getTime()).toBeLessThanOrEqual(signerEnds.getTime());
    expect(await verdict(l, [i], m, { revocation: "strict" }, new Date(signerEnds.getTime() + 1000))).toBe("revocation_unknown");
  });

  it("a CRL signer validated with other options is validated again (no not-yet-valid signer passes on a memo)", async () => {
    const signer = await cert({ subject: "CN=Rev Int", issuer: r, notBefore: new Date(NOW.getTime() + DAY), notAfter: new Date(NOW.getTime() + 30 * DAY),
      extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["cRLSign"] } } });
    const list = await crl({ issuer: signer });
    const m = await material({ anchors: [r], intermediates: [signer], crls: [list.der, (await crl({ issuer: r })).der] });
    expect(await verdict(l, [i], m, { revocation: "strict", checkNotBefore: false })).toBe("ok");
    expect(await verdict(l, [i], m, { revocation: "strict" })).toBe("revocation_unknown");
  });
});
