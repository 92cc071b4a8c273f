/** base64-der: Azure App Service X-ARR-ClientCert, HAProxy ssl_c_der,base64, Caddy certificate_der_base64. Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import { createBase64DerSource } from "./base64-der";
import {
  RUNS, base64, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain,
} from "../../../test/support/source-samples";

let pki: TestChain;
beforeAll(async () => {
  pki = await makeChain("Base64 DER");
});

const source = createBase64DerSource();
const extract = (value: string) => source.extract({ headers: headersOf(["X-ARR-ClientCert", value]) });

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe("base64-der source", () => {
  it("reads Azure App Service's X-ARR-ClientCert", () => {
    expect(source.headers).toEqual(["x-arr-clientcert"]);
    const got = foundOf(extract(base64(pki.leaf.der)));
    expect(got.source).toBe("base64-der");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([]);
  });

  it("reads HAProxy's %[ssl_c_der,base64] and Caddy's certificate_der_base64 under a configured header", () => {
    const haproxy = createBase64DerSource({ header: "X-SSL-Client-Cert" });
    expect(haproxy.headers).toEqual(["x-ssl-client-cert"]);
    expect(foundOf(haproxy.extract({ headers: headersOf(["X-SSL-Client-Cert", base64(pki.leaf.der)]) })).leaf).toEqual(pki.leaf.der);
    expect(outcome(haproxy.extract({ headers: headersOf(["X-ARR-ClientCert", base64(pki.leaf.der)]) }))).toBe("none");
  });

  it("treats concatenated DER certificates as leaf then chain", () => {
    const got = foundOf(extract(base64(concat(pki.leaf.der, pki.ca.der))));
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der]);
  });

  it("is none when the header is absent or empty (HAProxy sends it empty without a certificate)", () => {
    expect(outcome(source.extract({ headers: new Headers() }))).toBe("none");
    expect(outcome(extract(""))).toBe("none");
  });

  it("rejects other formats, bad and truncated base64", () => {
    expect(outcome(extract(pki.leaf.pem.replaceAll("\n", " ")))).toBe("certificate_malformed");
    expect(outcome(extract(`:${base64(pki.leaf.der)}:`))).toBe("certificate_malformed");
    expect(outcome(extract(base64(pki.leaf.der).replace("MII", "MI?")))).toBe("certificate_malformed");
    expect(outcome(extract(base64(pki.leaf.der).slice(0, 200)))).toBe("certificate_malformed");
    expect(outcome(extract(base64(pki.leaf.der.subarray(0, pki.leaf.der.length - 3))))).toBe("certificate_malformed");
  });

  it("rejects a repeated header", () => {
    const v = base64(pki.leaf.der);
    expect(outcome(source.extract({ headers: headersOf(["X-ARR-ClientCert", v], ["X-ARR-ClientCert", v]) }))).toBe(
      "certificate_header_invalid",
    );
  });

  it("caps the header and the number of certificates", () => {
    expect(outcome(extract("A".repeat(MAX_PRESENTED_BUNDLE_BYTES + 4)))).toBe("bundle_too_large");
    const nine = concat(...Array.from({ length: 9 }, () => pki.ca.der));
    expect(outcome(extract(base64(nine)))).toBe("bundle_too_many_certificates");
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const valid = base64(concat(pki.leaf.der, pki.ca.der));
    fc.assert(fc.property(fc.oneof(headerValue, mutationsOf(valid)), (value) => expectSound(extract(value))), RUNS);
  });
});
