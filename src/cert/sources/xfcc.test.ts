/** xfcc: Envoy's x-forwarded-client-cert. Inside workerd. */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES } from "../../limits";
import {
  RUNS, envoyEscape, expectSound, foundOf, headerValue, headersOf, makeChain, mutationsOf, outcome, type TestChain,
} from "../../../test/support/source-samples";
import { createXfccSource, parseXfcc } from "./xfcc";

let pki: TestChain;
let hash: string;
beforeAll(async () => {
  pki = await makeChain("XFCC");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", pki.leaf.der));
  hash = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
});

const source = createXfccSource();
const extract = (value: string) => source.extract({ headers: headersOf(["x-forwarded-client-cert", value]) });

/** The element Envoy appends with set_current_client_cert_details { cert, chain, subject, uri, dns }. */
function envoyElement(opts: { cert?: string; chain?: string; by?: string } = {}): string {
  const parts = [`By=${opts.by ?? "spiffe://cluster.local/ns/edge/sa/gateway"}`, `Hash=${hash}`];
  if (opts.cert !== undefined) parts.push(`Cert="${envoyEscape(opts.cert)}"`);
  if (opts.chain !== undefined) parts.push(`Chain="${envoyEscape(opts.chain)}"`);
  parts.push(`Subject="CN=XFCC Client,O=Example\\, Inc.,OU=\\"Ops\\""`, "URI=spiffe://cluster.local/ns/app/sa/client", "DNS=client.example.com", "DNS=www.example.com");
  return parts.join(";");
}

describe("xfcc source", () => {
  it("reads Cert and Chain (chain includes the leaf) from Envoy's element", () => {
    const value = envoyElement({ cert: pki.leaf.pem, chain: pki.leaf.pem + pki.ca.pem + pki.root.pem });
    expect(value).toContain('Cert="-----BEGIN%20CERTIFICATE-----%0AMII');
    const got = foundOf(extract(value));
    expect(got.source).toBe("xfcc");
    expect(got.leaf).toEqual(pki.leaf.der);
    expect(got.chain).toEqual([pki.ca.der, pki.root.der]);
  });

  it("takes the FIRST element: later ones are appended by later proxies", () => {
    const first = envoyElement({ cert: pki.leaf.pem });
    const later = envoyElement({ cert: pki.ca.pem, by: "spiffe://cluster.local/ns/mesh/sa/sidecar" });
    expect(foundOf(extract(`${first},${later}`)).leaf).toEqual(pki.leaf.der);
    // Two header lines arrive joined by ", ": the same rule applies.
    const r = source.extract({ headers: headersOf(["x-forwarded-client-cert", first], ["x-forwarded-client-cert", later]) });
    expect(foundOf(r).leaf).toEqual(pki.leaf.der);
  });

  it("reads Cert alone, Chain alone, and keys in any case", () => {
    expect(foundOf(extract(envoyElement({ cert: pki.leaf.pem }))).chain).toEqual([]);
    const chainOnly = foundOf(extract(envoyElement({ chain: pki.leaf.pem + pki.ca.pem })));
    expect(chainOnly.leaf).toEqual(pki.leaf.der);
    expect(chainOnly.chain).toEqual([pki.ca.der]);
    expect(foundOf(extract(`Hash=${hash};cert="${envoyEscape(pki.leaf.pem)}"`)).leaf).toEqual(pki.leaf.der);
  });

  it("is none when the header is absent or blank", () => {
    expect(outcome(source.extract({ headers: new Headers() }))).toBe("none");
    expect(outcome(extract(" "))).toBe("none");
  });

  it("rejects a first element without Cert or Chain (Istio's default: presented but not forwarded)", () => {
    expect(outcome(extract(envoyElement()))).toBe("certificate_header_invalid");
    // Even if a later proxy's element has one.
    expect(outcome(extract(`${envoyElement()},${envoyElement({ cert: pki.leaf.pem })}`))).toBe("certificate_header_invalid");
  });

  it("rejects Cert that is not Chain's first certificate, and repeated Cert", () => {
    expect(outcome(extract(envoyElement({ cert: pki.leaf.pem, chain: pki.ca.pem + pki.root.pem })))).toBe("certificate_header_invalid");
    const twice = `Cert="${envoyEscape(pki.leaf.pem)}";Cert="${envoyEscape(pki.ca.pem)}"`;
    expect(outcome(extract(twice))).toBe("certificate_header_invalid");
  });

  it("rejects ill-formed syntax anywhere in the header", () => {
    const good = envoyElement({ cert: pki.leaf.pem });
    for (const bad of [
      `By=a;Cert="${envoyEscape(pki.leaf.pem)}`, // unbalanced quotes
      `${good};`,
      `${good},`,
      `${good},,${good}`,
      `${good};;URI=x`,
      `Cert`,
      `=x;${good}`,
      `By=a"b;${good}`,
      `Cert="${envoyEscape(pki.leaf.pem)}"x`,
      `${good},By=x;Subject="unterminated`,
    ]) {
      expect(outcome(extract(bad)), bad.slice(0, 50)).toBe("certificate_header_invalid");
    }
  });

  it("rejects bad escapes, bad base64 and truncated PEM in Cert or Chain", () => {
    const escaped = envoyEscape(pki.leaf.pem);
    for (const cert of [escaped.replace("%0A", "%0G"), `${escaped}%`, escaped.replace("MII", "MI%21"), escaped.slice(0, escaped.length / 2)]) {
      expect(outcome(extract(`Hash=${hash};Cert="${cert}"`))).toBe("certificate_malformed");
    }
    expect(outcome(extract(`Hash=${hash};Chain="${escaped.slice(0, 300)}"`))).toBe("certificate_malformed");
  });

  it("caps the header and the number of certificates", () => {
    expect(outcome(extract(`Cert="${"A".repeat(MAX_PRESENTED_BUNDLE_BYTES)}"`))).toBe("bundle_too_large");
    expect(outcome(extract(envoyElement({ chain: pki.leaf.pem + pki.ca.pem.repeat(8) })))).toBe("bundle_too_many_certificates");
    expect(foundOf(extract(envoyElement({ chain: pki.leaf.pem + pki.ca.pem.repeat(7) }))).chain).toHaveLength(7);
    expect(outcome(extract(envoyElement({ cert: pki.leaf.pem + pki.ca.pem })))).toBe("bundle_too_many_certificates");
  });

  it("parses quoted values with \\\" escapes and unquoted values with '='", () => {
    const parsed = parseXfcc(`By=http://a/?x=1;Subject="a\\"b;c,d";URI=,DNS=x`);
    expect(parsed).toEqual({
      elements: [
        [{ key: "by", value: "http://a/?x=1" }, { key: "subject", value: 'a"b;c,d' }, { key: "uri", value: "" }],
        [{ key: "dns", value: "x" }],
      ],
    });
  });

  it("never throws, and finds only DER certificates, for arbitrary and near-valid values", () => {
    const valid = envoyElement({ cert: pki.leaf.pem, chain: pki.leaf.pem + pki.ca.pem });
    fc.assert(fc.property(fc.oneof(headerValue, mutationsOf(valid)), (value) => expectSound(extract(value))), RUNS);
  });
});
