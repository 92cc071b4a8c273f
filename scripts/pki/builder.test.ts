// Runs inside workerd (vitest + @cloudflare/vitest-plugin). Checks the test-PKI builder's output
// with pkijs/asn1js parsing and with independent WebCrypto signature verification.
import { beforeAll, describe, expect, it } from "vitest";
import * as asn1js from "asn1js";
import * as pkijs from "pkijs";
import {
  type BuiltCertificate,
  type KeyAlgorithm,
  type KeyPair,
  bytesToHex,
  computeKeyIdentifier,
  der,
  ecdsaRawToDer,
  encodeIpAddress,
  encodeName,
  exportPrivateKeyPem,
  flipByte,
  fromPem,
  generateKeyPair,
  issueCertificate,
  issueCrl,
  pooledKeyPair,
  signatureByteIndex,
  tbsSubjectByteIndex,
  toPem,
  useWebCrypto,
} from "./builder";

const NB = new Date("2024-01-01T00:00:00Z");
const NA = new Date("2034-01-01T00:00:00Z");
const ALGORITHMS: KeyAlgorithm[] = ["rsa-1024", "rsa-2048", "rsa-3072", "rsa-4096", "p-256", "p-384", "ed25519"];

const parseCert = (d: Uint8Array) => pkijs.Certificate.fromBER(d);
const parseCrl = (d: Uint8Array) => pkijs.CertificateRevocationList.fromBER(d);
const hex = (b: ArrayBuffer | Uint8Array) => bytesToHex(b instanceof Uint8Array ? b : new Uint8Array(b));

function ext<T>(cert: { extensions?: pkijs.Extension[] } | undefined, oid: string): { critical: boolean; value: T } {
  const e = cert?.extensions?.find((x) => x.extnID === oid);
  if (!e) throw new Error(`extension ${oid} missing`);
  expect((e.parsedValue as { parsingError?: string } | undefined)?.parsingError).toBeUndefined();
  return { critical: e.critical, value: e.parsedValue as T };
}

/** Name as [oid, asn1 block type name, text] in DER order */
function nameParts(n: pkijs.RelativeDistinguishedNames): Array<[string, string, string]> {
  return n.typesAndValues.map((tv) => [tv.type, tv.value.constructor.name, String(tv.value.valueBlock.value)]);
}

/** DER Ecdsa-Sig-Value → fixed-width r||s (for crypto.subtle.verify). */
function ecdsaDerToRaw(sig: Uint8Array, size: number): Uint8Array {
  const seq = asn1js.fromBER(sig).result as asn1js.Sequence;
  const out = new Uint8Array(2 * size);
  seq.valueBlock.value.forEach((v, i) => {
    let b = (v as asn1js.Integer).valueBlock.valueHexView;
    while (b.length > size && b[0] === 0) b = b.subarray(1);
    out.set(b, i * size + size - b.length);
  });
  return out;
}

/** Verifies a Certificate/CRL signature with WebCrypto directly (independent of pkijs's verify). */
async function webCryptoVerify(signed: pkijs.Certificate | pkijs.CertificateRevocationList, signer: KeyPair): Promise<boolean> {
  const subtle = crypto.subtle;
  const sig = signed.signatureValue.valueBlock.valueHexView;
  const oid = signed.signatureAlgorithm.algorithmId;
  const hashByOid: Record<string, string> = {
    "1.2.840.113549.1.1.5": "SHA-1",
    "1.2.840.113549.1.1.11": "SHA-256",
    "1.2.840.113549.1.1.12": "SHA-384",
    "1.2.840.113549.1.1.13": "SHA-512",
    "1.2.840.10045.4.1": "SHA-1",
    "1.2.840.10045.4.3.2": "SHA-256",
    "1.2.840.10045.4.3.3": "SHA-384",
    "1.2.840.10045.4.3.4": "SHA-512",
  };
  if (signer.algorithm === "ed25519") return subtle.verify({ name: "Ed25519" }, signer.publicKey, sig, signed.tbsView);
  const hash = hashByOid[oid];
  if (!hash) throw new Error(`no hash for ${oid}`);
  if (signer.algorithm.startsWith("rsa-")) {
    const k = await subtle.importKey("spki", signer.spki, { name: "RSASSA-PKCS1-v1_5", hash }, false, ["verify"]);
    return subtle.verify({ name: "RSASSA-PKCS1-v1_5" }, k, sig, signed.tbsView);
  }
  const size = signer.algorithm === "p-256" ? 32 : 48;
  return subtle.verify({ name: "ECDSA", hash }, signer.publicKey, ecdsaDerToRaw(sig, size), signed.tbsView);
}

/** pkijs has no Ed25519 support, so Ed25519 is verified with WebCrypto only. */
async function verifies(child: BuiltCertificate, issuer: BuiltCertificate): Promise<boolean> {
  const c = parseCert(child.der);
  const viaWebCrypto = await webCryptoVerify(c, issuer.key);
  if (issuer.key.algorithm === "ed25519") return viaWebCrypto;
  const viaPkijs = await c.verify(parseCert(issuer.der));
  expect(viaPkijs).toBe(viaWebCrypto);
  return viaPkijs;
}

beforeAll(() => useWebCrypto());

describe("keys", () => {
  it("Ed25519 key generation and signing work in workerd", async () => {
    const k = await generateKeyPair("ed25519");
    const data = new TextEncoder().encode("hello");
    const sig = new Uint8Array(await crypto.subtle.sign({ name: k.privateKey.algorithm.name }, k.privateKey, data));
    expect(sig.length).toBe(64);
    expect(await crypto.subtle.verify({ name: "Ed25519" }, k.publicKey, sig, data)).toBe(true);
    expect(hex(k.spki.subarray(0, 12))).toBe("302A300506032B6570032100"); // SPKI for id-Ed25519
  });

  it("pools keys per (algorithm, slot)", async () => {
    const a = pooledKeyPair("p-256", 0);
    expect(pooledKeyPair("p-256", 0)).toBe(a);
    const [k0, k0b, k1] = await Promise.all([a, pooledKeyPair("p-256", 0), pooledKeyPair("p-256", 1)]);
    expect(k0b).toBe(k0);
    expect(hex(k1.spki)).not.toBe(hex(k0.spki));
  });

  it("exports PKCS#8 PEM that imports back", async () => {
    const k = await pooledKeyPair("p-256", 0);
    const pem = await exportPrivateKeyPem(k);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const imported = await crypto.subtle.importKey("pkcs8", fromPem(pem), { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
    expect(imported.type).toBe("private");
  });
});

describe.each(ALGORITHMS)("3-level chain with %s", (alg) => {
  it("parses and every signature verifies (pkijs and WebCrypto)", async () => {
    const t0 = Date.now();
    const [rk, ik, lk] = await Promise.all([pooledKeyPair(alg, 0), pooledKeyPair(alg, 1), pooledKeyPair(alg, 2)]);
    const keygenMs = Date.now() - t0;
    const root = await issueCertificate({
      subject: `CN=Root ${alg}, O=Test, C=US`,
      key: rk,
      notBefore: NB,
      notAfter: NA,
      extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
    });
    const inter = await issueCertificate({
      subject: `CN=Intermediate ${alg}, O=Test, C=US`,
      issuer: root,
      key: ik,
      notBefore: NB,
      notAfter: NA,
      extensions: { basicConstraints: { ca: true, pathLen: 0 }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
    });
    const leaf = await issueCertificate({
      subject: `CN=Leaf ${alg}`,
      issuer: inter,
      key: lk,
      notBefore: NB,
      notAfter: NA,
      extensions: { basicConstraints: { ca: false }, extKeyUsage: { oids: ["clientAuth"] } },
    });
    expect(await verifies(root, root)).toBe(true);
    expect(await verifies(inter, root)).toBe(true);
    expect(await verifies(leaf, inter)).toBe(true);
    expect(await verifies(leaf, root)).toBe(false); // wrong issuer key
    const [pr, pi, pl] = [parseCert(root.der), parseCert(inter.der), parseCert(leaf.der)];
    expect(pr.version).toBe(2);
    expect(pi.issuer.isEqual(pr.subject)).toBe(true);
    expect(pl.issuer.isEqual(pi.subject)).toBe(true);
    expect(hex(pl.serialNumber.valueBlock.valueHexView)).toBe(leaf.serialNumber);
    expect(leaf.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/); // positive, 16 bytes
    // AKI = issuer SKI, root has none
    expect(pr.extensions?.some((e) => e.extnID === "2.5.29.35")).toBe(false);
    const aki = ext<pkijs.AuthorityKeyIdentifier>(pl, "2.5.29.35").value;
    expect(hex(aki.keyIdentifier!.valueBlock.valueHexView)).toBe(hex(inter.ski!));
    console.log(`[timing] ${alg}: 3 pooled keygens ${keygenMs} ms, chain total ${Date.now() - t0} ms`);
  }, 30_000);
});

describe("signature algorithms", () => {
  let rsaRoot: BuiltCertificate;
  let ecRoot: BuiltCertificate;
  beforeAll(async () => {
    rsaRoot = await issueCertificate({ subject: "CN=RSA Root", key: await pooledKeyPair("rsa-2048", 0), notBefore: NB, notAfter: NA });
    ecRoot = await issueCertificate({ subject: "CN=EC Root", key: await pooledKeyPair("p-384", 0), notBefore: NB, notAfter: NA });
  });

  it.each(["SHA-1", "SHA-256", "SHA-384", "SHA-512"] as const)("RSA PKCS#1 v1.5 and ECDSA with %s", async (hash) => {
    const key = await pooledKeyPair("p-256", 2);
    const rsaLeaf = await issueCertificate({ subject: "CN=L", issuer: rsaRoot, key, notBefore: NB, notAfter: NA, signatureHash: hash });
    const ecLeaf = await issueCertificate({ subject: "CN=L", issuer: ecRoot, key, notBefore: NB, notAfter: NA, signatureHash: hash });
    const rsaOid = { "SHA-1": "1.2.840.113549.1.1.5", "SHA-256": "1.2.840.113549.1.1.11", "SHA-384": "1.2.840.113549.1.1.12", "SHA-512": "1.2.840.113549.1.1.13" }[hash];
    const ecOid = { "SHA-1": "1.2.840.10045.4.1", "SHA-256": "1.2.840.10045.4.3.2", "SHA-384": "1.2.840.10045.4.3.3", "SHA-512": "1.2.840.10045.4.3.4" }[hash];
    const pr = parseCert(rsaLeaf.der);
    const pe = parseCert(ecLeaf.der);
    expect([pr.signature.algorithmId, pr.signatureAlgorithm.algorithmId]).toEqual([rsaOid, rsaOid]);
    expect(pr.signatureAlgorithm.algorithmParams).toBeInstanceOf(asn1js.Null);
    expect([pe.signature.algorithmId, pe.signatureAlgorithm.algorithmId]).toEqual([ecOid, ecOid]);
    expect(pe.signatureAlgorithm.algorithmParams).toBeUndefined();
    expect(await verifies(rsaLeaf, rsaRoot)).toBe(true);
    expect(await verifies(ecLeaf, ecRoot)).toBe(true);
  });

  it.each(["SHA-256", "SHA-384", "SHA-1"] as const)("RSASSA-PSS with %s", async (hash) => {
    const leaf = await issueCertificate({
      subject: "CN=PSS",
      issuer: rsaRoot,
      key: await pooledKeyPair("p-256", 2),
      notBefore: NB,
      notAfter: NA,
      rsaPss: true,
      signatureHash: hash,
    });
    const p = parseCert(leaf.der);
    expect(p.signatureAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.10");
    const params = pkijs.RSASSAPSSParams.fromBER(p.signatureAlgorithm.algorithmParams.toBER());
    const len = { "SHA-1": 20, "SHA-256": 32, "SHA-384": 48 }[hash];
    expect(params.saltLength).toBe(len);
    const hashOid = { "SHA-1": "1.3.14.3.2.26", "SHA-256": "2.16.840.1.101.3.4.2.1", "SHA-384": "2.16.840.1.101.3.4.2.2" }[hash];
    expect(params.hashAlgorithm.algorithmId).toBe(hashOid);
    expect(params.maskGenAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.8");
    expect(await p.verify(parseCert(rsaRoot.der))).toBe(true);
    const k = await crypto.subtle.importKey("spki", rsaRoot.key.spki, { name: "RSA-PSS", hash }, false, ["verify"]);
    expect(await crypto.subtle.verify({ name: "RSA-PSS", saltLength: len }, k, p.signatureValue.valueBlock.valueHexView, p.tbsView)).toBe(true);
  });

  it("signatureAlgorithmOid writes the given OID in both fields but signs with signatureHash", async () => {
    const leaf = await issueCertificate({
      subject: "CN=MD5",
      issuer: rsaRoot,
      key: await pooledKeyPair("p-256", 2),
      notBefore: NB,
      notAfter: NA,
      signatureAlgorithmOid: "1.2.840.113549.1.1.4",
    });
    const p = parseCert(leaf.der);
    expect(p.signature.algorithmId).toBe("1.2.840.113549.1.1.4");
    expect(p.signatureAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.4");
    expect(p.signatureAlgorithm.algorithmParams).toBeInstanceOf(asn1js.Null);
    const k = await crypto.subtle.importKey("spki", rsaRoot.key.spki, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["verify"]);
    expect(await crypto.subtle.verify("RSASSA-PKCS1-v1_5", k, p.signatureValue.valueBlock.valueHexView, p.tbsView)).toBe(true);

    const mismatch = await issueCertificate({
      subject: "CN=Mismatch",
      issuer: ecRoot,
      key: await pooledKeyPair("p-256", 2),
      notBefore: NB,
      notAfter: NA,
      outerSignatureAlgorithmOid: "1.2.840.10045.4.3.3",
    });
    const m = parseCert(mismatch.der);
    expect([m.signature.algorithmId, m.signatureAlgorithm.algorithmId]).toEqual(["1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3"]);
  });

  it("converts WebCrypto ECDSA r||s to DER minimally", () => {
    const r = new Uint8Array(32);
    const s = new Uint8Array(32);
    r[31] = 0x05; // leading zeros stripped → 02 01 05
    s.fill(0xff); // high bit set → 02 21 00 ff…
    const d = ecdsaRawToDer(der.concat([r, s]));
    expect(hex(d.subarray(0, 8))).toBe("3026020105022100");
    expect(d.length).toBe(2 + 3 + 35);
    const zero = ecdsaRawToDer(new Uint8Array(64));
    expect(hex(zero)).toBe("3006020100020100");
    const mid = new Uint8Array(64);
    mid[1] = 0x80; // r = 0x0080… (31 bytes after strip, high bit set) → 0x00 prefix kept
    mid[63] = 1;
    expect(hex(ecdsaRawToDer(mid).subarray(0, 6))).toBe("302502200080"); // 31 significant bytes + 0x00
  });
});

describe("extensions round-trip through pkijs", () => {
  let root: BuiltCertificate;
  let inter: BuiltCertificate;
  let leaf: BuiltCertificate;
  beforeAll(async () => {
    root = await issueCertificate({
      subject: "CN=Root, O=Test, C=US",
      key: await pooledKeyPair("p-256", 0),
      notBefore: NB,
      notAfter: NA,
      extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
    });
    inter = await issueCertificate({
      subject: "CN=Inter, O=Test, C=US",
      issuer: root,
      key: await pooledKeyPair("p-256", 1),
      notBefore: NB,
      notAfter: NA,
      extensions: {
        basicConstraints: { ca: true, pathLen: 0 },
        keyUsage: { usages: ["keyCertSign", "cRLSign", "decipherOnly"], critical: false },
        nameConstraints: {
          permitted: [{ dns: "example.com" }, { ip: "10.0.0.0/8" }, { ip: "2001:db8::/32" }, { dirName: "O=Test, C=US" }, { uri: ".example.com" }],
          excluded: [{ email: "bad@example.com" }, { dns: "evil.example.com" }],
        },
        certificatePolicies: { policies: ["anyPolicy", "1.3.6.1.4.1.99999.1"] },
        policyMappings: { mappings: [["1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999.2"]] },
        policyConstraints: { requireExplicitPolicy: 0, inhibitPolicyMapping: 2 },
        inhibitAnyPolicy: { skipCerts: 1 },
        crlDistributionPoints: {
          points: [
            { uris: ["http://crl.example.com/root.crl"], reasons: ["keyCompromise", "cACompromise"] },
            { dirName: "CN=CRL DP, O=Test", crlIssuer: [{ dirName: "CN=Indirect, O=Test" }] },
          ],
        },
        custom: [{ oid: "1.3.6.1.4.1.99999.7", critical: true, value: der.utf8String("custom") }],
      },
    });
    leaf = await issueCertificate({
      subject: "CN=Leaf",
      issuer: inter,
      key: await pooledKeyPair("p-256", 2),
      notBefore: NB,
      notAfter: NA,
      serialNumber: "00 01",
      extensions: {
        basicConstraints: { ca: false, critical: false },
        keyUsage: { usages: ["digitalSignature", "keyEncipherment"] },
        extKeyUsage: { oids: ["clientAuth", "serverAuth", "1.3.6.1.4.1.99999.3"], critical: true },
        subjectAltName: {
          names: [
            { dns: "leaf.example.com" },
            { email: "leaf@example.com" },
            { uri: "spiffe://example.com/leaf" },
            { ip: "10.1.2.3" },
            { ip: "::1" },
            { dirName: "CN=Alt, O=Test" },
            { registeredId: "1.2.3.4" },
            { otherName: { oid: "1.3.6.1.4.1.311.20.2.3", value: der.utf8String("leaf@corp") } },
          ],
        },
        authorityKeyIdentifier: new Uint8Array([1, 2, 3]),
        subjectKeyIdentifier: new Uint8Array([9, 9]),
      },
    });
  });

  it("writes extensions in the documented order", () => {
    expect(parseCert(inter.der).extensions?.map((e) => e.extnID)).toEqual([
      "2.5.29.19",
      "2.5.29.15",
      "2.5.29.14",
      "2.5.29.35",
      "2.5.29.30",
      "2.5.29.32",
      "2.5.29.33",
      "2.5.29.36",
      "2.5.29.54",
      "2.5.29.31",
      "1.3.6.1.4.1.99999.7",
    ]);
    expect(parseCert(leaf.der).extensions?.map((e) => e.extnID)).toEqual(["2.5.29.19", "2.5.29.15", "2.5.29.37", "2.5.29.17", "2.5.29.14", "2.5.29.35"]);
  });

  it("basicConstraints, keyUsage, extKeyUsage", () => {
    const pi = parseCert(inter.der);
    const pl = parseCert(leaf.der);
    const bc = ext<pkijs.BasicConstraints>(pi, "2.5.29.19");
    expect(bc.critical).toBe(true);
    expect(bc.value.cA).toBe(true);
    expect(bc.value.pathLenConstraint).toBe(0); // explicit pathLen 0 is written
    const lbc = ext<pkijs.BasicConstraints>(pl, "2.5.29.19");
    expect(lbc.critical).toBe(false);
    expect(lbc.value.cA).toBe(false);
    expect(lbc.value.pathLenConstraint).toBeUndefined();
    // basicConstraints with cA FALSE is an empty SEQUENCE in DER (DEFAULT omitted)
    const lbcRaw = pl.extensions!.find((e) => e.extnID === "2.5.29.19")!.extnValue.valueBlock.valueHexView;
    expect(hex(lbcRaw)).toBe("3000");

    const ku = pi.extensions!.find((e) => e.extnID === "2.5.29.15")!;
    expect(ku.critical).toBe(false);
    // keyCertSign(5) cRLSign(6) decipherOnly(8): 2 bytes, 7 unused bits
    expect(hex(ku.extnValue.valueBlock.valueHexView)).toBe("0303070680");
    const lku = pl.extensions!.find((e) => e.extnID === "2.5.29.15")!;
    expect(lku.critical).toBe(true);
    expect(hex(lku.extnValue.valueBlock.valueHexView)).toBe("030205A0"); // digitalSignature + keyEncipherment

    const eku = ext<pkijs.ExtKeyUsage>(pl, "2.5.29.37");
    expect(eku.critical).toBe(true);
    expect(eku.value.keyPurposes).toEqual(["1.3.6.1.5.5.7.3.2", "1.3.6.1.5.5.7.3.1", "1.3.6.1.4.1.99999.3"]);
  });

  it("subjectAltName with every GeneralName type", () => {
    const san = ext<pkijs.AltName>(parseCert(leaf.der), "2.5.29.17");
    expect(san.critical).toBe(false);
    const names = san.value.altNames;
    expect(names.map((n) => n.type)).toEqual([2, 1, 6, 7, 7, 4, 8, 0]);
    expect(names[0]!.value).toBe("leaf.example.com");
    expect(names[1]!.value).toBe("leaf@example.com");
    expect(names[2]!.value).toBe("spiffe://example.com/leaf");
    expect(hex((names[3]!.value as asn1js.OctetString).valueBlock.valueHexView)).toBe("0A010203");
    expect(hex((names[4]!.value as asn1js.OctetString).valueBlock.valueHexView)).toBe("00000000000000000000000000000001");
    expect(nameParts(names[5]!.value as pkijs.RelativeDistinguishedNames)).toEqual([
      ["2.5.4.10", "Utf8String", "Test"],
      ["2.5.4.3", "Utf8String", "Alt"],
    ]);
    expect(names[6]!.value).toBe("1.2.3.4");
    // otherName [0] IMPLICIT SEQUENCE { type-id, [0] EXPLICIT value } (pkijs re-encodes it differently, so check the raw bytes)
    const sanRaw = parseCert(leaf.der).extensions!.find((e) => e.extnID === "2.5.29.17")!.extnValue.valueBlock.valueHexView;
    expect(hex(sanRaw).endsWith("A019060A2B060104018237140203A00B0C096C65616640636F7270")).toBe(true);
  });

  it("nameConstraints with CIDR IPs and dirName", () => {
    const nc = ext<pkijs.NameConstraints>(parseCert(inter.der), "2.5.29.30");
    expect(nc.critical).toBe(true);
    const permitted = nc.value.permittedSubtrees!.map((s) => s.base);
    expect(permitted.map((n) => n.type)).toEqual([2, 7, 7, 4, 6]);
    expect(permitted[0]!.value).toBe("example.com");
    expect(hex((permitted[1]!.value as asn1js.OctetString).valueBlock.valueHexView)).toBe("0A000000FF000000");
    expect(hex((permitted[2]!.value as asn1js.OctetString).valueBlock.valueHexView)).toBe(
      "20010DB8000000000000000000000000" + "FFFFFFFF000000000000000000000000",
    );
    expect(nameParts(permitted[3]!.value as pkijs.RelativeDistinguishedNames)).toEqual([
      ["2.5.4.6", "PrintableString", "US"],
      ["2.5.4.10", "Utf8String", "Test"],
    ]);
    expect(permitted[4]!.value).toBe(".example.com");
    const excluded = nc.value.excludedSubtrees!.map((s) => [s.base.type, s.base.value]);
    expect(excluded).toEqual([
      [1, "bad@example.com"],
      [2, "evil.example.com"],
    ]);
  });

  it("policy extensions", () => {
    const pi = parseCert(inter.der);
    const cp = ext<pkijs.CertificatePolicies>(pi, "2.5.29.32");
    expect(cp.critical).toBe(false);
    expect(cp.value.certificatePolicies.map((p) => p.policyIdentifier)).toEqual(["2.5.29.32.0", "1.3.6.1.4.1.99999.1"]);
    const pm = ext<pkijs.PolicyMappings>(pi, "2.5.29.33");
    expect(pm.critical).toBe(true);
    expect(pm.value.mappings.map((m) => [m.issuerDomainPolicy, m.subjectDomainPolicy])).toEqual([["1.3.6.1.4.1.99999.1", "1.3.6.1.4.1.99999.2"]]);
    const pc = ext<pkijs.PolicyConstraints>(pi, "2.5.29.36");
    expect(pc.critical).toBe(true);
    expect([pc.value.requireExplicitPolicy, pc.value.inhibitPolicyMapping]).toEqual([0, 2]);
    const iap = ext<asn1js.Integer>(pi, "2.5.29.54");
    expect(iap.critical).toBe(true);
    expect(iap.value.valueBlock.valueDec).toBe(1);
  });

  it("cRLDistributionPoints", () => {
    const dp = ext<pkijs.CRLDistributionPoints>(parseCert(inter.der), "2.5.29.31");
    expect(dp.critical).toBe(false);
    const [p0, p1] = dp.value.distributionPoints;
    const full0 = p0!.distributionPoint as pkijs.GeneralName[];
    expect(full0.map((n) => [n.type, n.value])).toEqual([[6, "http://crl.example.com/root.crl"]]);
    // keyCompromise(1) + cACompromise(2) → one byte 0x60 with 5 unused bits (pkijs keeps the
    // implicitly tagged [1] as a primitive, so its contents include the unused-bits octet)
    expect(hex(p0!.reasons!.valueBlock.valueHexView)).toBe("0560");
    const full1 = p1!.distributionPoint as pkijs.GeneralName[];
    expect(full1[0]!.type).toBe(4);
    expect(nameParts(full1[0]!.value as pkijs.RelativeDistinguishedNames)).toEqual([
      ["2.5.4.10", "Utf8String", "Test"],
      ["2.5.4.3", "Utf8String", "CRL DP"],
    ]);
    expect(p1!.cRLIssuer!.map((n) => n.type)).toEqual([4]);
  });

  it("SKI/AKI defaults and overrides, custom extensions", async () => {
    const pi = parseCert(inter.der);
    const ski = ext<asn1js.OctetString>(pi, "2.5.29.14");
    expect(ski.critical).toBe(false);
    // method 1: SHA-1 over the subjectPublicKey BIT STRING contents, computed independently here
    const bits = pi.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView;
    expect(hex(ski.value.valueBlock.valueHexView)).toBe(hex(await crypto.subtle.digest("SHA-1", bits)));
    expect(hex(inter.ski!)).toBe(hex(await computeKeyIdentifier(inter.key)));
    expect(hex(ext<pkijs.AuthorityKeyIdentifier>(pi, "2.5.29.35").value.keyIdentifier!.valueBlock.valueHexView)).toBe(hex(root.ski!));
    const pl = parseCert(leaf.der);
    expect(hex(ext<asn1js.OctetString>(pl, "2.5.29.14").value.valueBlock.valueHexView)).toBe("0909");
    expect(hex(ext<pkijs.AuthorityKeyIdentifier>(pl, "2.5.29.35").value.keyIdentifier!.valueBlock.valueHexView)).toBe("010203");
    const custom = pi.extensions!.find((e) => e.extnID === "1.3.6.1.4.1.99999.7")!;
    expect(custom.critical).toBe(true);
    expect(hex(custom.extnValue.valueBlock.valueHexView)).toBe(hex(der.utf8String("custom")));

    const noKeyIds = await issueCertificate({
      subject: "CN=NoIds",
      issuer: inter,
      key: leaf.key,
      notBefore: NB,
      notAfter: NA,
      extensions: { subjectKeyIdentifier: false, authorityKeyIdentifier: false },
    });
    expect(noKeyIds.ski).toBeNull();
    expect(parseCert(noKeyIds.der).extensions).toBeUndefined(); // no extensions → no [3] field
  });

  it("odd serial numbers are written as given", async () => {
    const pl = parseCert(leaf.der);
    expect(hex(pl.serialNumber.toBER())).toBe("02020001");
    expect(leaf.serialNumber).toBe("0001");
    const neg = await issueCertificate({ subject: "CN=Neg", issuer: inter, key: leaf.key, notBefore: NB, notAfter: NA, serialNumber: "0x80" });
    expect(hex(parseCert(neg.der).serialNumber.toBER())).toBe("020180");
    expect(neg.serialNumber).toBe("80");
  });
});

describe("names", () => {
  it("encodes DN text reversed with per-attribute string types and escapes", async () => {
    const c = await issueCertificate({
      subject: 'CN=Leaf, OU="Dev, Ops", O=Contoso\\, Inc., L=Zürich, ST=ZH, C=CH, E=a@b.c, DC=example, SERIALNUMBER=42, STREET=Main, UID=u1, T=Dr, GN=Ann, SN=Lee, 1.2.3.4=x',
      key: await pooledKeyPair("p-256", 0),
      notBefore: NB,
      notAfter: NA,
    });
    expect(nameParts(parseCert(c.der).subject)).toEqual([
      ["1.2.3.4", "Utf8String", "x"],
      ["2.5.4.4", "Utf8String", "Lee"],
      ["2.5.4.42", "Utf8String", "Ann"],
      ["2.5.4.12", "Utf8String", "Dr"],
      ["0.9.2342.19200300.100.1.1", "Utf8String", "u1"],
      ["2.5.4.9", "Utf8String", "Main"],
      ["2.5.4.5", "PrintableString", "42"],
      ["0.9.2342.19200300.100.1.25", "IA5String", "example"],
      ["1.2.840.113549.1.9.1", "IA5String", "a@b.c"],
      ["2.5.4.6", "PrintableString", "CH"],
      ["2.5.4.8", "Utf8String", "ZH"],
      ["2.5.4.7", "Utf8String", "Zürich"],
      ["2.5.4.10", "Utf8String", "Contoso, Inc."],
      ["2.5.4.11", "Utf8String", "Dev, Ops"],
      ["2.5.4.3", "Utf8String", "Leaf"],
    ]);
  });

  it("supports hex escapes, raw #values, multi-valued RDNs and S=", () => {
    const n = pkijs.RelativeDistinguishedNames.fromBER(encodeName("CN=a\\2Cb\\ , S=x, 2.5.4.45=#030100, CN=z+O=y"));
    expect(nameParts(n).map(([t, k, v]) => [t, k, t === "2.5.4.45" ? "" : v])).toEqual([
      // one multi-valued RDN; DER SET OF order is by encoding: CN (…0403) sorts before O (…040A)
      ["2.5.4.3", "Utf8String", "z"],
      ["2.5.4.10", "Utf8String", "y"],
      ["2.5.4.45", "BitString", ""],
      ["2.5.4.8", "Utf8String", "x"],
      ["2.5.4.3", "Utf8String", "a,b "],
    ]);
    const d = encodeName("CN=z+O=y");
    // one RDN (SET) holding two attributes
    expect(hex(d)).toBe(hex(der.sequence(der.set(...[der.sequence(der.oid("2.5.4.3"), der.utf8String("z")), der.sequence(der.oid("2.5.4.10"), der.utf8String("y"))]))));
    expect(hex(encodeName(""))).toBe("3000");
  });

  it("subjectEncoding overrides every value's string type", async () => {
    const key = await pooledKeyPair("p-256", 0);
    for (const [encoding, tag, cls] of [
      ["bmp", 0x1e, "BmpString"],
      ["teletex", 0x14, "TeletexString"],
      ["printable", 0x13, "PrintableString"],
      ["utf8", 0x0c, "Utf8String"],
    ] as const) {
      const c = await issueCertificate({ subject: "CN=Zoë, C=US", subjectEncoding: encoding, key, notBefore: NB, notAfter: NA });
      const parts = nameParts(parseCert(c.der).subject);
      expect(parts.map((p) => p[1])).toEqual([cls, cls]);
      // CN is written first, so it is encoded last: its tag sits right before its 2-byte header's length octet
      expect(c.subjectDer[c.subjectDer.length - (encoding === "bmp" ? 6 : encoding === "utf8" ? 4 : 3) - 2]).toBe(tag);
    }
    const bmp = await issueCertificate({ subject: "CN=Zoë", subjectEncoding: "bmp", key, notBefore: NB, notAfter: NA });
    expect(hex(bmp.subjectDer.slice(-8))).toBe("1E06005A006F00EB"); // "Zoë" in UTF-16BE
  });

  it("subjectRaw is copied verbatim and becomes the children's issuer Name", async () => {
    // UTF8String with invalid UTF-8 (C3 28)
    const raw = der.sequence(der.set(der.sequence(der.oid("2.5.4.3"), der.tlv(0x0c, Uint8Array.of(0x41, 0xc3, 0x28)))));
    const key = await pooledKeyPair("p-256", 0);
    const ca = await issueCertificate({ subject: "bad utf8 CA", subjectRaw: raw, key, notBefore: NB, notAfter: NA, extensions: { basicConstraints: { ca: true } } });
    const child = await issueCertificate({ subject: "CN=Child", issuer: ca, key: await pooledKeyPair("p-256", 1), notBefore: NB, notAfter: NA });
    const raw0 = hex(raw);
    expect(hex(ca.der)).toContain(raw0 + "3059"); // subject followed by SPKI
    expect(hex(child.der)).toContain("300A06082A8648CE3D040302" + raw0); // sigAlg followed by issuer
    expect(await verifies(child, ca)).toBe(true);
  });

  it("issuerNameOverride writes a different issuer Name (still signed by the issuer key)", async () => {
    const key = await pooledKeyPair("p-256", 0);
    const ca = await issueCertificate({ subject: "CN=Real CA", key, notBefore: NB, notAfter: NA });
    const child = await issueCertificate({
      subject: "CN=Child",
      issuer: ca,
      issuerNameOverride: "CN=Other CA",
      key: await pooledKeyPair("p-256", 1),
      notBefore: NB,
      notAfter: NA,
    });
    const p = parseCert(child.der);
    expect(nameParts(p.issuer)).toEqual([["2.5.4.3", "Utf8String", "Other CA"]]);
    expect(p.issuer.isEqual(parseCert(ca.der).subject)).toBe(false);
    expect(await verifies(child, ca)).toBe(true);
  });

  it("encodes IP addresses", () => {
    expect(hex(encodeIpAddress("192.168.1.1"))).toBe("C0A80101");
    expect(hex(encodeIpAddress("192.168.0.0/16"))).toBe("C0A80000FFFF0000");
    expect(hex(encodeIpAddress("10.0.0.0/12"))).toBe("0A000000FFF00000");
    expect(hex(encodeIpAddress("2001:db8::1"))).toBe("20010DB8000000000000000000000001");
    expect(hex(encodeIpAddress("::ffff:1.2.3.4"))).toBe("00000000000000000000FFFF01020304");
    expect(hex(encodeIpAddress("::/0"))).toBe("00".repeat(32));
    expect(() => encodeIpAddress("1.2.3")).toThrow();
    expect(() => encodeIpAddress("1::2::3")).toThrow();
    expect(() => encodeIpAddress("10.0.0.0/33")).toThrow();
  });
});

describe("versions and dates", () => {
  it("v1 certificates have no version and no extensions field", async () => {
    const key = await pooledKeyPair("rsa-2048", 0);
    const v1 = await issueCertificate({ subject: "CN=V1 Root", key, notBefore: NB, notAfter: NA, version: 1 });
    const p = parseCert(v1.der);
    expect(p.version).toBe(0);
    expect(p.extensions).toBeUndefined();
    expect(v1.ski).toBeNull();
    const tbs = asn1js.fromBER(p.tbsView).result as asn1js.Sequence;
    expect(tbs.valueBlock.value[0]).toBeInstanceOf(asn1js.Integer); // serial first, no [0]
    expect(await verifies(v1, v1)).toBe(true);
    // deliberately broken: v1 with explicitly requested extensions
    const broken = await issueCertificate({ subject: "CN=V1 ext", key, notBefore: NB, notAfter: NA, version: 1, extensions: { basicConstraints: { ca: true } } });
    const pb = parseCert(broken.der);
    expect([pb.version, pb.extensions?.map((e) => e.extnID)]).toEqual([0, ["2.5.29.19"]]);
  });

  it("uses UTCTime before 2050 and GeneralizedTime from 2050 (and before 1950)", async () => {
    const key = await pooledKeyPair("p-256", 0);
    const a = parseCert(
      (await issueCertificate({ subject: "CN=T", key, notBefore: new Date("2049-12-31T23:59:59Z"), notAfter: new Date("2050-01-01T00:00:00Z") })).der,
    );
    expect([a.notBefore.type, a.notAfter.type]).toEqual([0, 1]); // 0 = UTCTime, 1 = GeneralizedTime
    expect(a.notAfter.value.toISOString()).toBe("2050-01-01T00:00:00.000Z");
    expect(a.notBefore.value.toISOString()).toBe("2049-12-31T23:59:59.000Z");
    const b = parseCert((await issueCertificate({ subject: "CN=T", key, notBefore: new Date("1949-06-01T00:00:00Z"), notAfter: new Date("9999-12-31T23:59:59Z") })).der);
    expect([b.notBefore.type, b.notAfter.type]).toEqual([1, 1]);
    expect(b.notAfter.value.toISOString()).toBe("9999-12-31T23:59:59.000Z");
    expect(hex(der.time(new Date("2050-01-01T00:00:00.999Z")))).toBe(hex(der.generalizedTime(new Date("2050-01-01T00:00:00Z")))); // no fractions
    const forced = parseCert(
      (await issueCertificate({ subject: "CN=T", key, notBefore: NB, notAfter: NA, validityEncoding: "generalized" })).der,
    );
    expect([forced.notBefore.type, forced.notAfter.type]).toEqual([1, 1]);
  });
});

describe("CRLs", () => {
  it("full CRL with entries and IDP; delta CRL; signatures verify", async () => {
    const ca = await issueCertificate({
      subject: "CN=CRL CA, O=Test",
      key: await pooledKeyPair("rsa-2048", 1),
      notBefore: NB,
      notAfter: NA,
      extensions: { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign"] } },
    });
    const crl = await issueCrl({
      issuer: ca,
      thisUpdate: new Date("2024-06-01T00:00:00Z"),
      nextUpdate: new Date("2024-06-08T00:00:00Z"),
      crlNumber: 300,
      entries: [
        { serialNumber: "0A", revocationDate: new Date("2024-05-01T00:00:00Z"), reason: "keyCompromise", invalidityDate: new Date("2024-04-30T00:00:00Z") },
        { serialNumber: "00FF", revocationDate: new Date("2024-05-02T00:00:00Z"), reason: "removeFromCRL", certificateIssuer: [{ dirName: "CN=Other CA" }] },
        { serialNumber: "0B", revocationDate: new Date("2055-01-01T00:00:00Z") },
      ],
      issuingDistributionPoint: { uris: ["http://crl.example.com/ca.crl"], onlyContainsUserCerts: true, onlySomeReasons: ["keyCompromise", "superseded"], indirectCRL: true },
      freshestCrl: ["http://crl.example.com/delta.crl"],
      custom: [{ oid: "1.3.6.1.4.1.99999.9", critical: false, value: der.null() }],
    });
    expect(crl.pem.startsWith("-----BEGIN X509 CRL-----\n")).toBe(true);
    const p = parseCrl(crl.der);
    const issuerCertificate = parseCert(ca.der);
    expect(p.version).toBe(1);
    expect(await p.verify({ issuerCertificate })).toBe(true);
    expect(await webCryptoVerify(p, ca.key)).toBe(true);
    expect(p.issuer.isEqual(issuerCertificate.subject)).toBe(true);
    expect(p.nextUpdate?.value.toISOString()).toBe("2024-06-08T00:00:00.000Z");
    expect(p.crlExtensions!.extensions.map((e) => [e.extnID, e.critical])).toEqual([
      ["2.5.29.35", false],
      ["2.5.29.20", false],
      ["2.5.29.28", true],
      ["2.5.29.46", false],
      ["1.3.6.1.4.1.99999.9", false],
    ]);
    const exts = { extensions: p.crlExtensions!.extensions };
    expect(hex(ext<pkijs.AuthorityKeyIdentifier>(exts, "2.5.29.35").value.keyIdentifier!.valueBlock.valueHexView)).toBe(hex(ca.ski!));
    expect(ext<asn1js.Integer>(exts, "2.5.29.20").value.valueBlock.valueDec).toBe(300);
    const idp = ext<pkijs.IssuingDistributionPoint>(exts, "2.5.29.28").value;
    expect((idp.distributionPoint as pkijs.GeneralName[]).map((n) => [n.type, n.value])).toEqual([[6, "http://crl.example.com/ca.crl"]]);
    expect([idp.onlyContainsUserCerts, idp.onlyContainsCACerts, idp.indirectCRL, idp.onlyContainsAttributeCerts]).toEqual([true, false, true, false]);
    const idpRaw = p.crlExtensions!.extensions.find((e) => e.extnID === "2.5.29.28")!.extnValue.valueBlock.valueHexView;
    expect(hex(idpRaw)).toContain("8101FF" + "83020348" + "8401FF"); // user certs, reasons {keyCompromise(1), superseded(4)}, indirect
    const fresh = ext<pkijs.CRLDistributionPoints>(exts, "2.5.29.46").value;
    expect((fresh.distributionPoints[0]!.distributionPoint as pkijs.GeneralName[])[0]!.value).toBe("http://crl.example.com/delta.crl");

    const revoked = p.revokedCertificates!;
    expect(revoked.map((r) => hex(r.userCertificate.valueBlock.valueHexView))).toEqual(["0A", "00FF", "0B"]);
    expect(revoked.map((r) => r.revocationDate.type)).toEqual([0, 0, 1]);
    const e0 = revoked[0]!.crlEntryExtensions!.extensions;
    expect(e0.map((e) => [e.extnID, e.critical])).toEqual([
      ["2.5.29.21", false],
      ["2.5.29.24", false],
    ]);
    expect((e0[0]!.parsedValue as asn1js.Enumerated).valueBlock.valueDec).toBe(1);
    expect(hex(e0[1]!.extnValue.valueBlock.valueHexView)).toBe(hex(der.generalizedTime(new Date("2024-04-30T00:00:00Z"))));
    const e1 = revoked[1]!.crlEntryExtensions!.extensions;
    expect(e1.map((e) => [e.extnID, e.critical])).toEqual([
      ["2.5.29.21", false],
      ["2.5.29.29", true],
    ]);
    expect((e1[0]!.parsedValue as asn1js.Enumerated).valueBlock.valueDec).toBe(8);
    expect(revoked[2]!.crlEntryExtensions).toBeUndefined();

    const delta = await issueCrl({ issuer: ca, thisUpdate: NB, crlNumber: 301, deltaCrlIndicator: 300, signatureHash: "SHA-384" });
    const pd = parseCrl(delta.der);
    expect(await pd.verify({ issuerCertificate })).toBe(true);
    expect(pd.revokedCertificates).toBeUndefined(); // empty list is absent, not an empty SEQUENCE
    expect(pd.nextUpdate).toBeUndefined();
    const dind = pd.crlExtensions!.extensions.find((e) => e.extnID === "2.5.29.27")!;
    expect(dind.critical).toBe(true);
    expect((dind.parsedValue as asn1js.Integer).valueBlock.valueDec).toBe(300);
    expect(pd.signatureAlgorithm.algorithmId).toBe("1.2.840.113549.1.1.12");

    // tampered CRL signature fails
    const bad = parseCrl(flipByte(delta.der, signatureByteIndex(delta.der)));
    expect(await bad.verify({ issuerCertificate })).toBe(false);
  });

  it("ECDSA and Ed25519 CRLs verify; no AKI / no CRL number when asked", async () => {
    for (const alg of ["p-384", "ed25519"] as const) {
      const ca = await issueCertificate({ subject: `CN=${alg} CRL CA`, key: await pooledKeyPair(alg, 0), notBefore: NB, notAfter: NA });
      const crl = await issueCrl({
        issuer: ca,
        thisUpdate: NB,
        nextUpdate: NA,
        authorityKeyIdentifier: false,
        crlNumber: false,
        entries: [{ serialNumber: "01", revocationDate: NB, reason: "cessationOfOperation" }],
        issuingDistributionPoint: { onlyContainsCACerts: true, onlyContainsAttributeCerts: true },
      });
      const p = parseCrl(crl.der);
      expect(await webCryptoVerify(p, ca.key)).toBe(true);
      if (alg !== "ed25519") expect(await p.verify({ issuerCertificate: parseCert(ca.der) })).toBe(true);
      expect(p.crlExtensions!.extensions.map((e) => e.extnID)).toEqual(["2.5.29.28"]);
      const tampered = parseCrl(flipByte(crl.der, signatureByteIndex(crl.der)));
      expect(await webCryptoVerify(tampered, ca.key)).toBe(false);
    }
  });
});

describe("tampering helpers and PEM", () => {
  it.each(["rsa-2048", "p-256", "ed25519"] as const)("flipByte at signatureByteIndex / tbsSubjectByteIndex breaks %s verification", async (alg) => {
    const ca = await issueCertificate({ subject: "CN=CA", key: await pooledKeyPair(alg, 0), notBefore: NB, notAfter: NA });
    const leaf = await issueCertificate({ subject: "CN=Leaf, O=Test", issuer: ca, key: await pooledKeyPair(alg, 1), notBefore: NB, notAfter: NA });
    expect(await verifies(leaf, ca)).toBe(true);

    const sigIdx = signatureByteIndex(leaf.der);
    expect(sigIdx).toBe(leaf.der.length - 1);
    const badSig = flipByte(leaf.der, sigIdx);
    expect(leaf.der[sigIdx]! ^ badSig[sigIdx]!).toBe(1);
    expect(hex(leaf.der)).not.toBe(hex(badSig));
    expect(await verifies({ ...leaf, der: badSig }, ca)).toBe(false);

    const subjIdx = tbsSubjectByteIndex(leaf.der);
    expect(String.fromCharCode(leaf.der[subjIdx]!)).toBe("f"); // last byte of CN=Leaf (written last, encoded last)
    const badTbs = flipByte(leaf.der, subjIdx);
    const p = parseCert(badTbs);
    expect(nameParts(p.subject).at(-1)).toEqual(["2.5.4.3", "Utf8String", "Leag"]);
    expect(await verifies({ ...leaf, der: badTbs }, ca)).toBe(false);
  });

  it("flipByte copies and validates its index", () => {
    const a = Uint8Array.of(1, 2, 3);
    expect([...flipByte(a, 1, 0xff)]).toEqual([1, 0xfd, 3]);
    expect([...a]).toEqual([1, 2, 3]);
    expect(() => flipByte(a, 3)).toThrow(RangeError);
  });

  it("toPem writes 64-character lines and a trailing newline", async () => {
    const c = await issueCertificate({ subject: "CN=PEM", key: await pooledKeyPair("rsa-2048", 0), notBefore: NB, notAfter: NA });
    const lines = c.pem.split("\n");
    expect(lines[0]).toBe("-----BEGIN CERTIFICATE-----");
    expect(lines.at(-2)).toBe("-----END CERTIFICATE-----");
    expect(lines.at(-1)).toBe("");
    const body = lines.slice(1, -2);
    expect(body.slice(0, -1).every((l) => l.length === 64)).toBe(true);
    expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
    expect(hex(fromPem(c.pem))).toBe(hex(c.der));
    expect(toPem(Uint8Array.of(1, 2, 3), "X509 CRL")).toBe("-----BEGIN X509 CRL-----\nAQID\n-----END X509 CRL-----\n");
  });
});

describe("timing", () => {
  it("RSA key generation in this runtime", async () => {
    for (const alg of ["rsa-2048", "p-256", "ed25519"] as const) {
      const t0 = Date.now();
      await generateKeyPair(alg);
      console.log(`[timing] fresh ${alg} keygen ${Date.now() - t0} ms`);
    }
  });
});
