/** aws-alb: X-Amzn-Mtls-Clientcert (passthrough) and X-Amzn-Mtls-Clientcert-Leaf (verify). Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import { createAwsAlbSource } from "./aws-alb";
import {
  RUNS, albEscape, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain,
} from "../../../test/support/source-samples";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("ALB");
});

const source = createAwsAlbSource();
const passthrough = (value: string) => source.extract({ headers: headersOf(["X-Amzn-Mtls-Clientcert", value]) });

describe("aws-alb source", () => {
  it("reads passthrough mode's whole chain, leaf first, with +=/ left unescaped", () => {
    const value = albEscape(pki.leaf.pem + pki.ca.pem + pki.root.pem);
    expect(value.startsWith("-----BEGIN%20CERTIFICATE-----%0AMII")).toBe(true);
    expect(value).toMatch(/[+/=]/); // ALB's partial escaping: these stay raw
    const got = foundOf(passthrough(value));
    expect(got.source).toBe("aws-alb");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
  });

  it("reads verify mode's leaf header, ignoring the descriptive headers", () => {
    const r = source.extract({
      headers: headersOf(
        ["X-Amzn-Mtls-Clientcert-Serial-Number", "4A3F5C92D1E87B6C"],
        ["X-Amzn-Mtls-Clientcert-Issuer", "CN=ALB Issuing CA"],
        ["X-Amzn-Mtls-Clientcert-Subject", "CN=ALB Client"],
        ["X-Amzn-Mtls-Clientcert-Validity", "NotBefore=2025-06-01T12:00:00Z;NotAfter=2027-06-01T12:00:00Z"],
        ["X-Amzn-Mtls-Clientcert-Leaf", albEscape(pki.leaf.pem)],
      ),
    });
    const got = foundOf(r);
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([]);
  });

  it("lists every ALB mTLS header for stripping, and honours a renamed passthrough header", () => {
    expect([...source.headers].sort()).toEqual([
      "x-amzn-mtls-clientcert", "x-amzn-mtls-clientcert-issuer", "x-amzn-mtls-clientcert-leaf",
      "x-amzn-mtls-clientcert-serial-number", "x-amzn-mtls-clientcert-subject", "x-amzn-mtls-clientcert-validity",
    ]);
    const renamed = createAwsAlbSource({ header: "X-Client-Chain" });
    expect(renamed.headers).toContain("x-client-chain");
    expect(renamed.headers).toContain("x-amzn-mtls-clientcert"); // still stripped
    const value = albEscape(pki.leaf.pem + pki.ca.pem);
    expect(foundOf(renamed.extract({ headers: headersOf(["X-Client-Chain", value]) })).chain).toEqual([pki.ca.der]);
    expect(outcome(renamed.extract({ headers: headersOf(["X-Amzn-Mtls-Clientcert", value]) }))).toBe("none");
    // Only the named header is read: neither default (passthrough nor verify-mode leaf) is.
    expect(renamed.headers).toContain("x-amzn-mtls-clientcert-leaf"); // still stripped
    expect(outcome(renamed.extract({ headers: headersOf(["X-Amzn-Mtls-Clientcert-Leaf", albEscape(pki.leaf.pem)]) }))).toBe("none");
    const both = renamed.extract({ headers: headersOf(["X-Client-Chain", value], ["X-Amzn-Mtls-Clientcert-Leaf", albEscape(pki.ca.pem)]) });
    expect(foundOf(both).leaf).toEqual(foundOf(renamed.extract({ headers: headersOf(["X-Client-Chain", value]) })).leaf);
  });

  it("is none without the headers, or with only the descriptive ones", () => {
    expect(outcome(source.extract({ headers: new Headers() }))).toBe("none");
    expect(outcome(source.extract({ headers: headersOf(["X-Amzn-Mtls-Clientcert-Subject", "CN=x"]) }))).toBe("none");
  });

  it("rejects both modes' headers at once, a repeated header, and a leaf header holding several certificates", () => {
    const both = source.extract({
      headers: headersOf(["X-Amzn-Mtls-Clientcert", albEscape(pki.leaf.pem)], ["X-Amzn-Mtls-Clientcert-Leaf", albEscape(pki.leaf.pem)]),
    });
    expect(outcome(both)).toBe("certificate_header_invalid");
    const repeated = source.extract({
      headers: headersOf(["X-Amzn-Mtls-Clientcert", albEscape(pki.leaf.pem)], ["X-Amzn-Mtls-Clientcert", albEscape(pki.ca.pem)]),
    });
    expect(outcome(repeated)).toBe("certificate_header_invalid");
    const leafBundle = source.extract({ headers: headersOf(["X-Amzn-Mtls-Clientcert-Leaf", albEscape(pki.leaf.pem + pki.ca.pem)]) });
    expect(outcome(leafBundle)).toBe("bundle_too_many_certificates");
  });

  it("rejects bad escapes, bad base64 and truncated PEM", () => {
    const good = albEscape(pki.leaf.pem);
    expect(outcome(passthrough(good.replace("%0A", "%G0")))).toBe("certificate_malformed");
    expect(outcome(passthrough(`${good}%2`))).toBe("certificate_malformed");
    expect(outcome(passthrough(good.replace("MII", "MI*")))).toBe("certificate_malformed");
    expect(outcome(passthrough(good.slice(0, good.length - 40)))).toBe("certificate_malformed");
  });

  it("caps the header and the number of certificates", () => {
    expect(outcome(passthrough("-".repeat(MAX_PRESENTED_BUNDLE_BYTES + 1)))).toBe("bundle_too_large");
    expect(outcome(passthrough(albEscape(pki.ca.pem.repeat(9))))).toBe("bundle_too_many_certificates");
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const valid = albEscape(pki.leaf.pem + pki.ca.pem);
    fc.assert(
      fc.property(fc.oneof(headerValue, mutationsOf(valid)), fc.boolean(), (value, leafMode) => {
        const header = leafMode ? "X-Amzn-Mtls-Clientcert-Leaf" : "X-Amzn-Mtls-Clientcert";
        expectSound(source.extract({ headers: headersOf([header, value]) }));
      }),
      RUNS,
    );
  });
});
