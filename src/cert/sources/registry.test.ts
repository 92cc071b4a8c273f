/** The source registry: configuration errors at startup, and the header list the gateway strips. Inside workerd. */
import { describe, expect, it } from "vitest";
import { ALL_CERTIFICATE_HEADERS, SOURCES, createSources } from "./registry";

const names = (r: ReturnType<typeof createSources>) => (r.ok ? r.value.map((s) => s.name) : r.error);

describe("source registry", () => {
  it("builds the configured sources in order, each named by its registry key", () => {
    expect(names(createSources(["xfcc", "cloudflare", "url-pem"], {}))).toEqual(["xfcc", "cloudflare", "url-pem"]);
    for (const [name, create] of Object.entries(SOURCES)) {
      const source = create({});
      expect(source.name).toBe(name);
      expect(source.fromTerminator).toBe(name !== "cloudflare");
      for (const header of source.headers) expect(header).toBe(header.toLowerCase());
    }
  });

  it("rejects unknown, repeated and missing names, including prototype keys", () => {
    for (const bad of [["nginx"], ["cloudflare", "cloudflare"], [], ["constructor"], ["__proto__"], ["Cloudflare"]]) {
      const r = createSources(bad, {});
      expect(r.ok, JSON.stringify(bad)).toBe(false);
    }
    expect(names(createSources(["nginx"], {}))).toContain('unknown certificate source "nginx"');
  });

  it("applies header overrides where the format allows them, and refuses them elsewhere", () => {
    const r = createSources(["url-pem", "base64-der", "aws-alb"], {
      "url-pem": { header: "SSL-Client-Cert" },
      "base64-der": { header: "X-SSL-Client-Cert" },
      "aws-alb": { header: "X-Client-Chain" },
    });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value[0]?.headers).toEqual(["ssl-client-cert"]);
      expect(r.value[1]?.headers).toEqual(["x-ssl-client-cert"]);
      expect(r.value[2]?.headers).toContain("x-client-chain");
    }
    for (const fixed of ["cloudflare", "rfc9440", "xfcc", "traefik"]) {
      expect(names(createSources([fixed], { [fixed]: { header: "X-Other" } }))).toContain("does not take a header option");
    }
    expect(names(createSources(["url-pem"], { "url-pem": { header: "X Client Cert" } }))).toContain("not a valid HTTP field name");
    expect(names(createSources(["url-pem"], { "url-pem": { header: "" } }))).toContain("not a valid HTTP field name");
    expect(names(createSources(["url-pem"], { nginx: { header: "X-Cert" } }))).toContain("unknown certificate source");
  });

  it("lists every format's headers, default and configured names, for stripping", () => {
    const all = ALL_CERTIFICATE_HEADERS({ "url-pem": { header: "CloudFront-Viewer-Cert-Pem" }, "aws-alb": { header: "X-Client-Chain" } });
    for (const header of [
      "client-cert", "client-cert-chain", "x-forwarded-client-cert", "x-client-cert", "cloudfront-viewer-cert-pem",
      "x-amzn-mtls-clientcert", "x-amzn-mtls-clientcert-leaf", "x-amzn-mtls-clientcert-subject", "x-client-chain",
      "x-arr-clientcert", "x-forwarded-tls-client-cert", "x-forwarded-tls-client-cert-info",
    ]) {
      expect(all).toContain(header);
    }
    expect([...all].sort()).toEqual(all);
    expect(new Set(all).size).toBe(all.length);
    expect(ALL_CERTIFICATE_HEADERS()).not.toContain("cloudfront-viewer-cert-pem");
  });
});
