/** cloudflare: request.cf.tlsClientAuth. Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createCloudflareSource } from "./cloudflare";
import { RUNS, base64, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain } from "../../../test/support/source-samples";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("Cloudflare");
});

const source = createCloudflareSource();
const seq = (der: Uint8Array) => `:${base64(der)}:`;
const extract = (cf: unknown) => source.extract({ headers: new Headers(), cf });

/** The placeholder Cloudflare puts on requests to hostnames without mTLS (workers-types' ...Placeholder). */
const PLACEHOLDER = {
  certPresented: "0", certVerified: "NONE", certRevoked: "0",
  certIssuerDN: "", certSubjectDN: "", certIssuerDNRFC2253: "", certSubjectDNRFC2253: "",
  certIssuerDNLegacy: "", certSubjectDNLegacy: "", certSerial: "", certIssuerSerial: "",
  certSKI: "", certIssuerSKI: "", certFingerprintSHA1: "", certFingerprintSHA256: "",
  certNotBefore: "", certNotAfter: "",
  certRFC9440: "", certRFC9440TooLarge: false, certChainRFC9440: "", certChainRFC9440TooLarge: false,
};

/** A full request.cf as the edge builds it for an mTLS request (values other than the certificates illustrative). */
function cfWith(auth: Record<string, unknown>): Record<string, unknown> {
  return {
    asn: 13335, colo: "AMS", country: "NL", httpProtocol: "HTTP/2", tlsVersion: "TLSv1.3", tlsCipher: "AEAD-AES128-GCM-SHA256",
    clientTrustScore: 99, requestPriority: "weight=256;exclusive=1",
    tlsClientAuth: {
      certPresented: "1", certVerified: "SUCCESS", certRevoked: "0",
      certIssuerDN: "CN=Cloudflare Issuing CA", certSubjectDN: "CN=Cloudflare Client",
      certIssuerDNRFC2253: "CN=Cloudflare Issuing CA", certSubjectDNRFC2253: "CN=Cloudflare Client",
      certIssuerDNLegacy: "/CN=Cloudflare Issuing CA", certSubjectDNLegacy: "/CN=Cloudflare Client",
      certSerial: "00936EACBE07F201DF", certIssuerSerial: "2489002934BDFEA34",
      certSKI: "BB:AF:7E:02:3D:FA:A6:F1:3C:84:8E:AD:EE:38:98:EC:D9:32:32:D4", certIssuerSKI: "",
      certFingerprintSHA1: "6b9109f323999e52259cda7373ff0b4d26bd232e", certFingerprintSHA256: "acf77cf37b4156a2708e34c4eb755f9b",
      certNotBefore: "Dec 22 19:39:00 2025 GMT", certNotAfter: "Dec 22 19:39:00 2027 GMT",
      certRFC9440: seq(pki.leaf.der), certRFC9440TooLarge: false,
      certChainRFC9440: `${seq(pki.ca.der)}, ${seq(pki.root.der)}`, certChainRFC9440TooLarge: false,
      ...auth,
    },
  };
}

describe("cloudflare source", () => {
  it("reads the leaf and chain from certRFC9440 / certChainRFC9440 and exposes the platform verdict", () => {
    const got = foundOf(extract(cfWith({})));
    expect(got.source).toBe("cloudflare");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
    expect(got.platform).toEqual({ verified: "SUCCESS", revoked: false, presented: true });
    expect(source.headers).toEqual([]);
    expect(source.fromTerminator).toBe(false);
  });

  it("reports a failed or revoked platform verdict without deciding on it", () => {
    const got = foundOf(extract(cfWith({ certVerified: "FAILED:unable to get local issuer certificate", certRevoked: "1" })));
    expect(got.platform).toEqual({ verified: "FAILED:unable to get local issuer certificate", revoked: true, presented: true });
  });

  it("reads a leaf without intermediates (empty or absent chain field)", () => {
    expect(foundOf(extract(cfWith({ certChainRFC9440: "" }))).chain).toEqual([]);
    expect(foundOf(extract(cfWith({ certChainRFC9440: undefined }))).chain).toEqual([]);
  });

  it("is none for the placeholder, a missing tlsClientAuth, or no cf at all (local development)", () => {
    expect(outcome(extract({ colo: "AMS", tlsClientAuth: PLACEHOLDER }))).toBe("none");
    expect(outcome(extract({ colo: "AMS" }))).toBe("none");
    expect(outcome(extract(undefined))).toBe("none");
    expect(outcome(extract(null))).toBe("none");
    expect(outcome(source.extract({ headers: headersOf(["Client-Cert", seq(pki.leaf.der)]) }))).toBe("none");
  });

  it("rejects TooLarge flags: the platform dropped the bytes", () => {
    expect(outcome(extract(cfWith({ certRFC9440: "", certRFC9440TooLarge: true })))).toBe("certificate_too_large");
    expect(outcome(extract(cfWith({ certChainRFC9440: "", certChainRFC9440TooLarge: true })))).toBe("certificate_too_large");
  });

  it("rejects a presented certificate that was not forwarded, and unexpected shapes", () => {
    expect(outcome(extract(cfWith({ certRFC9440: "" })))).toBe("certificate_header_invalid");
    expect(outcome(extract(cfWith({ certRFC9440: undefined })))).toBe("certificate_header_invalid");
    for (const auth of [
      { certPresented: 1 },
      { certPresented: "yes" },
      { certRevoked: "true" },
      { certVerified: 0 },
      { certRFC9440TooLarge: "false" },
      { certChainRFC9440: [seq(pki.ca.der)] },
    ]) {
      expect(outcome(extract(cfWith(auth))), JSON.stringify(auth)).toBe("certificate_header_invalid");
    }
    expect(outcome(extract({ tlsClientAuth: "1" }))).toBe("certificate_header_invalid");
    expect(outcome(extract({ tlsClientAuth: { ...PLACEHOLDER, certRFC9440: seq(pki.leaf.der) } }))).toBe("certificate_header_invalid");
  });

  it("rejects malformed certificate values", () => {
    const leafB64 = base64(pki.leaf.der);
    for (const bad of [leafB64, pki.leaf.pem, `:${leafB64.replace("MII", "MI-")}:`, `:${leafB64.slice(0, 120)}:`]) {
      expect(outcome(extract(cfWith({ certRFC9440: bad }))), bad.slice(0, 30)).toBe("certificate_malformed");
    }
    expect(outcome(extract(cfWith({ certRFC9440: `${seq(pki.leaf.der)}, ${seq(pki.ca.der)}` })))).toBe("bundle_too_many_certificates");
    expect(outcome(extract(cfWith({ certChainRFC9440: base64(pki.ca.der) })))).toBe("certificate_malformed");
    expect(outcome(extract(cfWith({ certChainRFC9440: Array.from({ length: 8 }, () => seq(pki.ca.der)).join(", ") })))).toBe(
      "bundle_too_many_certificates",
    );
  });

  it("never throws, and finds only DER certificates, for arbitrary cf objects", () => {
    const auth = fc.record(
      {
        certPresented: fc.oneof(fc.constantFrom("0", "1"), fc.anything()),
        certVerified: fc.oneof(fc.constantFrom("SUCCESS", "NONE", "FAILED:x"), fc.anything()),
        certRevoked: fc.oneof(fc.constantFrom("0", "1"), fc.anything()),
        certRFC9440: fc.oneof(headerValue, mutationsOf(seq(pki.leaf.der)), fc.anything()),
        certChainRFC9440: fc.oneof(headerValue, mutationsOf(`${seq(pki.ca.der)}, ${seq(pki.root.der)}`), fc.anything()),
        certRFC9440TooLarge: fc.oneof(fc.boolean(), fc.anything()),
        certChainRFC9440TooLarge: fc.oneof(fc.boolean(), fc.anything()),
      },
      { requiredKeys: [] },
    );
    const cf = fc.oneof(fc.anything(), fc.record({ tlsClientAuth: fc.oneof(auth, fc.anything()) }));
    fc.assert(fc.property(cf, (value) => expectSound(extract(value))), RUNS);
  });
});
