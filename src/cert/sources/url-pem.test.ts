/** url-pem: nginx $ssl_client_escaped_cert, CloudFront-Viewer-Cert-Pem, Azure AGW flattened PEM. Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import {
  RUNS, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, nginxEscape, outcome, type TestChain,
} from "../../../test/support/source-samples";
import { createUrlPemSource } from "./url-pem";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("URL PEM");
});

const source = createUrlPemSource();
const extract = (value: string, header = "X-Client-Cert") => source.extract({ headers: headersOf([header, value]) });

describe("url-pem source", () => {
  it("reads nginx's $ssl_client_escaped_cert (leaf only)", () => {
    const value = nginxEscape(pki.leaf.pem);
    expect(value.startsWith("-----BEGIN%20CERTIFICATE-----%0AMII")).toBe(true);
    expect(value).not.toMatch(/[+/=\n ]/);
    const got = foundOf(extract(value));
    expect(got.source).toBe("url-pem");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([]);
    expect(got.platform).toBeUndefined();
  });

  it("reads a whole chain, leaf first, the rest as the chain in the order sent", () => {
    const got = foundOf(extract(nginxEscape(pki.leaf.pem + pki.ca.pem + pki.root.pem)));
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
  });

  it("reads CloudFront-Viewer-Cert-Pem under a configured header name", () => {
    const cloudfront = createUrlPemSource({ header: "CloudFront-Viewer-Cert-Pem" });
    expect(cloudfront.headers).toEqual(["cloudfront-viewer-cert-pem"]);
    const r = cloudfront.extract({ headers: headersOf(["CloudFront-Viewer-Cert-Pem", nginxEscape(pki.leaf.pem)]) });
    expect(foundOf(r).leaf).toEqual(pki.leaf.der);
    // The default header is not read by a source configured for another one.
    expect(outcome(cloudfront.extract({ headers: headersOf(["X-Client-Cert", nginxEscape(pki.leaf.pem)]) }))).toBe("none");
  });

  it("reads Azure Application Gateway's flattened PEM: newlines as spaces, or removed, unescaped", () => {
    expect(foundOf(extract(pki.leaf.pem.replaceAll("\n", " "))).leaf).toEqual(pki.leaf.der);
    expect(foundOf(extract(pki.leaf.pem.replaceAll("\n", ""))).leaf).toEqual(pki.leaf.der);
  });

  it("keeps + as + (never a space), escaped or not", () => {
    const pem = pki.leaf.pem;
    const partlyEscaped = pem.replaceAll("\n", "%0A").replaceAll(" ", "%20"); // +, /, = left raw
    expect(foundOf(extract(partlyEscaped)).leaf).toEqual(pki.leaf.der);
  });

  it("is none when the header is absent or blank", () => {
    expect(outcome(source.extract({ headers: new Headers() }))).toBe("none");
    expect(outcome(extract(""))).toBe("none");
    expect(outcome(extract("   "))).toBe("none");
  });

  it("rejects invalid percent-escapes instead of crashing", () => {
    const good = nginxEscape(pki.leaf.pem);
    for (const bad of [good.replace("%0A", "%ZZ"), good.replace("%0A", "%0"), `${good}%`, good.replace("%0A", "%00"), good.replace("%0A", "%C3%A9")]) {
      expect(outcome(extract(bad))).toBe("certificate_malformed");
    }
  });

  it("rejects bad base64, truncated PEM and bare base64", () => {
    const pem = pki.leaf.pem;
    expect(outcome(extract(nginxEscape(pem.replace("MII", "M!I"))))).toBe("certificate_malformed");
    expect(outcome(extract(nginxEscape(pem.slice(0, pem.length / 2))))).toBe("certificate_malformed");
    expect(outcome(extract(nginxEscape(pem.replace("-----END CERTIFICATE-----\n", ""))))).toBe("certificate_malformed");
    const body = pem.split("\n").slice(1, -2).join("");
    expect(outcome(extract(body))).toBe("certificate_malformed");
  });

  it("rejects a repeated header (a forged copy could come first)", () => {
    const value = nginxEscape(pki.leaf.pem);
    const r = source.extract({ headers: headersOf(["X-Client-Cert", value], ["X-Client-Cert", value]) });
    expect(outcome(r)).toBe("certificate_header_invalid");
  });

  it("caps the header before decoding, and the number of certificates", () => {
    const huge = nginxEscape(pki.leaf.pem) + "A".repeat(MAX_PRESENTED_BUNDLE_BYTES);
    expect(outcome(extract(huge))).toBe("bundle_too_large");
    expect(outcome(extract(nginxEscape(pki.leaf.pem.repeat(9))))).toBe("bundle_too_many_certificates");
    expect(foundOf(extract(nginxEscape(pki.leaf.pem.repeat(8)))).chain).toHaveLength(7);
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const valid = nginxEscape(pki.leaf.pem + pki.ca.pem);
    fc.assert(fc.property(fc.oneof(headerValue, mutationsOf(valid)), (value) => expectSound(extract(value))), RUNS);
  });
});
