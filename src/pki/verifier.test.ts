/** The verifier's result cache: keys, lifetimes and bounds. Inside workerd. */
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, crl, DAY, leaf, material, NOW, root } from "../../test/support/chains";
import { CertificateVerifier, NEGATIVE_TTL_MS } from "./verifier";

let r: BuiltCertificate, i: BuiltCertificate, l: BuiltCertificate, expiring: BuiltCertificate;
beforeAll(async () => {
  r = await root("Cache Root");
  i = await ca("Cache Int", r);
  l = await leaf("Cache Leaf", i);
  expiring = await leaf("Expiring", i, "p-256", {}, { notAfter: new Date(NOW.getTime() + DAY) });
});

const at = (ms: number) => new Date(NOW.getTime() + ms);

describe("result cache", () => {
  it("serves the same chain from the cache and keys on the presented chain", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier();
    const first = await v.verify(m, l.der, [i.der], NOW);
    expect(first.result.ok).toBe(true);
    expect(first.cached).toBe(false);
    const second = await v.verify(m, l.der, [i.der], at(1000));
    expect(second.cached).toBe(true);
    expect(second.result.ok).toBe(true);
    // Without the intermediate the chain differs (and is not trusted): a separate entry.
    const bare = await v.verify(m, l.der, [], at(1000));
    expect(bare.cached).toBe(false);
    expect(bare.result.ok ? "ok" : bare.result.error.code).toBe("certificate_not_trusted");
  });

  it("never answers from an entry for other certificates that shares its hash slot", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier();
    const other = await leaf("Cache Other", r); // no intermediate: issued by the root itself
    const cache = (v as unknown as { cache: Map<number, unknown> }).cache;
    await v.verify(m, l.der, [i.der], NOW);
    const [keyA, entryA] = [...cache][0]!;
    await v.verify(m, other.der, [], NOW);
    const keyB = [...cache.keys()].find((k) => k !== keyA)!;
    // A collision, made by hand: the slot of `other` now holds the entry for l + i.
    cache.set(keyB, entryA);
    const again = await v.verify(m, other.der, [], at(1000));
    expect(again.cached).toBe(false);
    expect(again.leafSha256).not.toBe((entryA as { verdict: { leafSha256: string } }).verdict.leafSha256);
    expect(again.result.ok).toBe(true);
    if (again.result.ok) expect(again.result.value.certificates[0]!.der).toEqual(other.der);
    // And its own entry took the slot back.
    expect((await v.verify(m, other.der, [], at(2000))).cached).toBe(true);
  });

  it("uses the store's own parsed certificate for a presented intermediate with the same bytes", async () => {
    const m = await material({ anchors: [r], intermediates: [i] });
    const stored = [...m.bySha256.values()].find((s) => s.cert.der.length === i.der.length && s.cert.der.every((b, k) => b === i.der[k]))!;
    const v = new CertificateVerifier();
    const verdict = await v.verify(m, l.der, [i.der.slice()], NOW);
    expect(verdict.result.ok).toBe(true);
    if (verdict.result.ok) expect(verdict.result.value.certificates[1]).toBe(stored.cert);
  });

  it("misses when the trust material version or the options change", async () => {
    const v = new CertificateVerifier();
    await v.verify(await material({ anchors: [r], version: "v1" }), l.der, [i.der], NOW);
    expect((await v.verify(await material({ anchors: [r], version: "v2" }), l.der, [i.der], NOW)).cached).toBe(false);
    const m = await material({ anchors: [r], version: "v3" });
    await v.verify(m, l.der, [i.der], NOW, { revocation: "off" });
    expect((await v.verify(m, l.der, [i.der], NOW, { revocation: "strict" })).cached).toBe(false);
  });

  it("never lets an entry outlive the earliest notAfter of the path", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier();
    expect((await v.verify(m, expiring.der, [i.der], NOW)).result.ok).toBe(true);
    const later = await v.verify(m, expiring.der, [i.der], at(2 * DAY));
    expect(later.cached).toBe(false);
    expect(later.result.ok ? "ok" : later.result.error.code).toBe("certificate_expired");
  });

  it("never lets an entry outlive the nextUpdate of a CRL it used", async () => {
    const list = await crl({ issuer: i, nextUpdate: new Date(NOW.getTime() + DAY) });
    const m = await material({ anchors: [r], crls: [list.der] });
    const v = new CertificateVerifier();
    expect((await v.verify(m, l.der, [i.der], NOW)).result.ok).toBe(true);
    expect((await v.verify(m, l.der, [i.der], at(DAY / 2))).cached).toBe(true);
    expect((await v.verify(m, l.der, [i.der], at(DAY + 1000))).cached).toBe(false);
  });

  it("keeps negative results only briefly", async () => {
    const m = await material({ anchors: [] });
    const v = new CertificateVerifier();
    await v.verify(m, l.der, [i.der], NOW);
    expect((await v.verify(m, l.der, [i.der], at(NEGATIVE_TTL_MS - 1))).cached).toBe(true);
    expect((await v.verify(m, l.der, [i.der], at(NEGATIVE_TTL_MS))).cached).toBe(false);
  });

  it("does not serve a validation at an earlier time from the cache", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier();
    await v.verify(m, l.der, [i.der], NOW);
    expect((await v.verify(m, l.der, [i.der], at(-1000))).cached).toBe(false);
  });

  it("is bounded: the least recently used entry goes first", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier(2);
    const a = await leaf("A", i), b = await leaf("B", i), c = await leaf("C", i);
    await v.verify(m, a.der, [], NOW);
    await v.verify(m, b.der, [], NOW);
    await v.verify(m, a.der, [], NOW); // a is now the most recent
    await v.verify(m, c.der, [], NOW); // evicts b
    expect(v.size).toBe(2);
    expect((await v.verify(m, a.der, [], NOW)).cached).toBe(true);
    expect((await v.verify(m, b.der, [], NOW)).cached).toBe(false);
  });

  it("is bounded by its byte estimate too, and an invalid entry keeps the leaf's DER, parsed again on a hit", async () => {
    const m = await material({ anchors: [r] });
    const stranger = await root("Cache Stranger");
    const untrusted = await Promise.all([0, 1, 2].map((k) => leaf(`Untrusted ${k}`, stranger)));
    // Room for about two invalid entries of these small leaves (each ~ key + DER + 1.6 KiB by the estimate).
    const v = new CertificateVerifier(100, 2 * (untrusted[0]!.der.length + 2500));
    for (const u of untrusted) await v.verify(m, u.der, [], NOW);
    expect(v.size).toBe(2);
    expect(v.bytes).toBeLessThanOrEqual(2 * (untrusted[0]!.der.length + 2500));
    expect((await v.verify(m, untrusted[0]!.der, [], NOW)).cached).toBe(false);
    const again = await v.verify(m, untrusted[2]!.der, [], NOW);
    expect(again.cached).toBe(true);
    expect(again.result.ok ? "ok" : again.result.error.code).toBe("certificate_not_trusted");
    expect(again.leaf?.subjectKey).toBeDefined();
    expect(again.leaf?.der).toEqual(untrusted[2]!.der);
    v.clear();
    expect(v.bytes).toBe(0);
  });

  it("reports a malformed presented certificate with its position", async () => {
    const m = await material({ anchors: [r] });
    const v = new CertificateVerifier();
    const bad = await v.verify(m, l.der, [new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])], NOW);
    expect(bad.result.ok).toBe(false);
    if (!bad.result.ok) {
      expect(bad.result.error.code).toBe("certificate_malformed");
      expect(bad.result.error.context?.chainIndex).toBe(1);
    }
  });
});

describe("a cached valid result does not outlive a CRL that comes into force later", () => {
  it("answers revoked once the future-dated CRL's thisUpdate has passed, from the same verifier", async () => {
    const r2 = await root("Cache Future Root");
    const i2 = await ca("Cache Future Int", r2);
    const l2 = await leaf("Cache Future Leaf", i2);
    const later = new Date(NOW.getTime() + 60_000);
    const list = await crl({ issuer: i2, thisUpdate: later, nextUpdate: new Date(later.getTime() + 7 * DAY),
      entries: [{ serialNumber: l2.serialNumber, revocationDate: NOW }] });
    const m = await material({ anchors: [r2], intermediates: [i2], crls: [list.der] });
    const v = new CertificateVerifier();
    expect((await v.verify(m, l2.der, [], NOW, { revocation: "soft" })).result.ok).toBe(true);
    const hourLater = await v.verify(m, l2.der, [], new Date(NOW.getTime() + 3_600_000), { revocation: "soft" });
    expect(hourLater.result.ok ? "ok" : hourLater.result.error.code).toBe("certificate_revoked");
    expect(hourLater.cached).toBe(false);
  });
});
