/** rfc9440: Client-Cert and Client-Cert-Chain (RFC 9440 §2.2, §2.3). Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import { createRfc9440Source } from "./rfc9440";
import {
  RUNS, base64, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain,
} from "../../../test/support/source-samples";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("RFC 9440");
});

const source = createRfc9440Source();
const seq = (der: Uint8Array) => `:${base64(der)}:`;
const extract = (...pairs: Array<[string, string]>) => source.extract({ headers: headersOf(...pairs) });

describe("rfc9440 source", () => {
  it("reads Client-Cert and Client-Cert-Chain as a Cloudflare header rule or CloudFront writes them", () => {
    const got = foundOf(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", `${seq(pki.ca.der)}, ${seq(pki.root.der)}`]));
    expect(got.source).toBe("rfc9440");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
    expect(source.headers).toEqual(["client-cert", "client-cert-chain"]);
  });

  it("reads a chain split over several header lines (RFC 9440 §2.3 allows it)", () => {
    const got = foundOf(
      extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", seq(pki.ca.der)], ["Client-Cert-Chain", seq(pki.root.der)]),
    );
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
  });

  it("reads Client-Cert alone, with no or an empty chain", () => {
    expect(foundOf(extract(["Client-Cert", seq(pki.leaf.der)])).chain).toEqual([]);
    expect(foundOf(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", ""])).chain).toEqual([]);
  });

  it("is none without Client-Cert", () => {
    expect(outcome(extract())).toBe("none");
    expect(outcome(extract(["Client-Cert", ""]))).toBe("none");
  });

  it("rejects a repeated Client-Cert or a list in it (RFC 9440 §2.2)", () => {
    expect(outcome(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert", seq(pki.leaf.der)]))).toBe("certificate_header_invalid");
    expect(outcome(extract(["Client-Cert", `${seq(pki.leaf.der)},${seq(pki.ca.der)}`]))).toBe("certificate_header_invalid");
  });

  it("rejects Client-Cert-Chain without Client-Cert (RFC 9440 §2.3)", () => {
    expect(outcome(extract(["Client-Cert-Chain", seq(pki.ca.der)]))).toBe("certificate_header_invalid");
  });

  it("rejects values that are not byte sequences, bad base64, truncated DER, parameters", () => {
    const leafB64 = base64(pki.leaf.der);
    for (const bad of [
      leafB64,
      `:${leafB64}`,
      `:${leafB64.replace("MII", "MI.")}:`,
      `:${base64(pki.leaf.der.subarray(0, 100))}:`,
      `${seq(pki.leaf.der)};a=1`,
      pki.leaf.pem.replaceAll("\n", " "),
    ]) {
      expect(outcome(extract(["Client-Cert", bad]))).toBe("certificate_malformed");
    }
    expect(outcome(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", base64(pki.ca.der)]))).toBe("certificate_malformed");
    expect(outcome(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", `${seq(pki.ca.der)},`]))).toBe("certificate_malformed");
  });

  it("caps each header, and the chain at MAX_PRESENTED_CHAIN certificates with the leaf", () => {
    expect(outcome(extract(["Client-Cert", `:${"A".repeat(MAX_PRESENTED_BUNDLE_BYTES)}:`]))).toBe("bundle_too_large");
    const chainOf = (n: number) => Array.from({ length: n }, () => seq(pki.ca.der)).join(", ");
    expect(foundOf(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", chainOf(7)])).chain).toHaveLength(7);
    expect(outcome(extract(["Client-Cert", seq(pki.leaf.der)], ["Client-Cert-Chain", chainOf(8)]))).toBe("bundle_too_many_certificates");
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const cert = seq(pki.leaf.der);
    const chain = `${seq(pki.ca.der)}, ${seq(pki.root.der)}`;
    const value = fc.oneof(headerValue, mutationsOf(cert), mutationsOf(chain));
    fc.assert(
      fc.property(fc.option(value, { nil: undefined }), fc.option(value, { nil: undefined }), (c, ch) => {
        const pairs: Array<[string, string]> = [];
        if (c !== undefined) pairs.push(["Client-Cert", c]);
        if (ch !== undefined) pairs.push(["Client-Cert-Chain", ch]);
        expectSound(extract(...pairs));
      }),
      RUNS,
    );
  });
});
