/** traefik: passTLSClientCert pem: true → X-Forwarded-Tls-Client-Cert. Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import {
  RUNS, base64, expectSound, foundOf, goQueryEscape, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain,
} from "../../../test/support/source-samples";
import { createTraefikSource } from "./traefik";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("Traefik");
});

const source = createTraefikSource();
const extract = (value: string) => source.extract({ headers: headersOf(["X-Forwarded-Tls-Client-Cert", value]) });
/** What Traefik v3 writes: each PEM without markers and newlines, joined by ",". */
const traefikValue = (...pems: string[]) =>
  pems.map((p) => p.replace("-----BEGIN CERTIFICATE-----", "").replace("-----END CERTIFICATE-----", "").replaceAll("\n", "")).join(",");

describe("traefik source", () => {
  it("reads Traefik v3's comma list, leaf first", () => {
    const value = traefikValue(pki.leaf.pem, pki.ca.pem);
    expect(value).toBe(`${base64(pki.leaf.der)},${base64(pki.ca.der)}`);
    const got = foundOf(extract(value));
    expect(got.source).toBe("traefik");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der]);
  });

  it("reads Traefik v2's escaped form (url.QueryEscape)", () => {
    const value = goQueryEscape(traefikValue(pki.leaf.pem, pki.ca.pem, pki.root.pem));
    expect(value).toContain("%2C");
    const got = foundOf(extract(value));
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
  });

  it("lists the info header for stripping and takes no header option", () => {
    expect(source.headers).toEqual(["x-forwarded-tls-client-cert", "x-forwarded-tls-client-cert-info", "x-forwarded-tls-client-cert-infos"]);
    expect(source.fromTerminator).toBe(true);
  });

  it("is none when the header is absent", () => {
    expect(outcome(source.extract({ headers: headersOf(["X-Forwarded-Tls-Client-Cert-Info", "Subject%3D%22CN%3Dx%22"]) }))).toBe("none");
  });

  it("rejects a repeated header (joined with \", \")", () => {
    const r = source.extract({
      headers: headersOf(["X-Forwarded-Tls-Client-Cert", base64(pki.leaf.der)], ["X-Forwarded-Tls-Client-Cert", base64(pki.ca.der)]),
    });
    expect(outcome(r)).toBe("certificate_header_invalid");
  });

  it("rejects empty items, whitespace, PEM markers, bad escapes, bad and truncated base64", () => {
    const leafB64 = base64(pki.leaf.der);
    for (const bad of [
      `${leafB64},`,
      `${leafB64},,${base64(pki.ca.der)}`,
      `${leafB64.slice(0, 64)} ${leafB64.slice(64)}`,
      traefikValue(pki.leaf.pem).replace("MII", "-----BEGIN CERTIFICATE-----MII"),
      `${goQueryEscape(leafB64)}%2`,
      leafB64.replace("MII", "MI%"),
      leafB64.replace("MII", "MI!"),
      leafB64.slice(0, 300),
    ]) {
      expect(outcome(extract(bad)), bad.slice(0, 40)).toBe("certificate_malformed");
    }
  });

  it("caps the header and counts the certificates before decoding them", () => {
    expect(outcome(extract("A".repeat(MAX_PRESENTED_BUNDLE_BYTES + 1)))).toBe("bundle_too_large");
    expect(outcome(extract(Array.from({ length: 9 }, () => "x").join(",")))).toBe("bundle_too_many_certificates");
    expect(foundOf(extract(Array.from({ length: 8 }, () => base64(pki.ca.der)).join(","))).chain).toHaveLength(7);
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const plain = traefikValue(pki.leaf.pem, pki.ca.pem);
    const arb = fc.oneof(headerValue, mutationsOf(plain), mutationsOf(goQueryEscape(plain)));
    fc.assert(fc.property(arb, (value) => expectSound(extract(value))), RUNS);
  });
});
