/**
 * Every certificate source end to end through the whole Worker (workerd, real local KV): the value each
 * terminator really sends, with the chain the client sent, is forwarded with the verified identity; the
 * same value from a peer without the terminator's secret counts for nothing.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../support/chains";
import { cloudflareTlsClientAuth, publish, scenario, uniqueVersion, viaTerminator } from "../support/gateway";
import { albEscape, base64, envoyEscape, nginxEscape } from "../support/source-samples";

let r: BuiltCertificate, i: BuiltCertificate, client: BuiltCertificate, stranger: BuiltCertificate, strangerCa: BuiltCertificate;

beforeAll(async () => {
  r = await root("Sources Root");
  i = await ca("Sources Issuing CA", r);
  client = await leaf("Sources Client", i, "p-256", { subjectAltName: { names: [{ dns: "client.example.com" }] } });
  const otherRoot = await root("Sources Other Root");
  strangerCa = await ca("Sources Other CA", otherRoot);
  stranger = await leaf("Sources Stranger", strangerCa);
  // Only the root is in the store: the intermediate must come from the client's chain.
  await publish(env.TRUST, uniqueVersion("sources"), { default: { anchors: [r] } });
});

/** Each source's header(s) for a leaf and the chain the client sent, as the terminator writes them. */
const FORMATS: Record<string, { vars?: Record<string, string>; headers: (l: BuiltCertificate, chain: BuiltCertificate[]) => Record<string, string> }> = {
  rfc9440: {
    headers: (l, chain) => ({ "client-cert": `:${base64(l.der)}:`, "client-cert-chain": chain.map((c) => `:${base64(c.der)}:`).join(", ") }),
  },
  xfcc: {
    headers: (l, chain) => ({
      "x-forwarded-client-cert": `By=spiffe://cluster.local/ns/default/sa/api;Hash=0a1b2c;Cert="${envoyEscape(l.pem)}";` +
        `Chain="${envoyEscape([l, ...chain].map((c) => c.pem).join(""))}";Subject="CN=x";URI=;DNS=client.example.com`,
    }),
  },
  "url-pem": {
    // nginx: proxy_set_header X-Client-Cert $ssl_client_escaped_cert; (leaf, then the chain appended by the operator)
    headers: (l, chain) => ({ "x-client-cert": nginxEscape([l, ...chain].map((c) => c.pem).join("")) }),
  },
  "url-pem (Application Gateway, newlines removed)": {
    vars: { CERT_SOURCES: "url-pem", CERT_SOURCE_HEADERS: JSON.stringify({ "url-pem": "X-SSL-Client-Cert" }) },
    headers: (l, chain) => ({ "x-ssl-client-cert": [l, ...chain].map((c) => c.pem.replaceAll("\n", " ")).join(" ") }),
  },
  "aws-alb": {
    headers: (l, chain) => ({ "x-amzn-mtls-clientcert": albEscape([l, ...chain].map((c) => c.pem).join("")) }),
  },
  "base64-der": {
    headers: (l) => ({ "x-arr-clientcert": base64(l.der) }),
  },
  traefik: {
    headers: (l, chain) => ({ "x-forwarded-tls-client-cert": [l, ...chain].map((c) => base64(c.der)).join(",") }),
  },
};

describe("every source format through the Worker", () => {
  for (const [name, format] of Object.entries(FORMATS)) {
    const source = name.split(" ")[0]!;
    const vars = format.vars ?? { CERT_SOURCES: source };
    // base64-der carries the leaf only: its intermediate comes from the store.
    const needsStoreIntermediate = source === "base64-der";

    it(`${name}: forwards a valid client with its chain and the verified identity`, async () => {
      if (needsStoreIntermediate) await publish(env.TRUST, uniqueVersion("sources-int"), { default: { anchors: [r], intermediates: [i] } });
      const s = scenario(vars);
      const res = await s.request("/orders", { headers: viaTerminator(format.headers(client, [i])) });
      expect(res.status, await res.clone().text()).toBe(200);
      const seen = s.origin.calls[0]!.headers;
      expect(seen["x-client-cert-subject"]).toBe("CN=Sources Client");
      expect(seen["client-cert"]).toBe(`:${base64(client.der)}:`);
      expect(seen["client-cert-chain"]).toBe(`:${base64(i.der)}:`);
      for (const h of Object.keys(format.headers(client, [i]))) {
        if (h !== "client-cert" && h !== "client-cert-chain") expect(seen[h], h).toBeUndefined();
      }
      if (needsStoreIntermediate) await publish(env.TRUST, uniqueVersion("sources"), { default: { anchors: [r] } });
    });

    it(`${name}: denies an untrusted client and ignores the header without the terminator's secret`, async () => {
      const s = scenario(vars);
      const untrusted = await s.request("/", { headers: viaTerminator(format.headers(stranger, [strangerCa])) });
      expect(untrusted.status).toBe(403);
      expect(((await untrusted.json()) as { code: string }).code).toBe("certificate_not_trusted");
      const spoofed = await s.request("/", { headers: format.headers(client, [i]) });
      expect(spoofed.status).toBe(403);
      expect(((await spoofed.json()) as { code: string }).code).toBe("certificate_missing");
      expect(s.origin.calls).toHaveLength(0);
    });
  }

  it("cloudflare: validates cf.tlsClientAuth with the chain it carries, whatever Cloudflare's own verdict", async () => {
    const s = scenario({ CERT_SOURCES: "cloudflare" });
    const cf = cloudflareTlsClientAuth(client, [i]);
    const ok = await s.request("/", { cf });
    expect(ok.status).toBe(200);
    const failedAtEdge = { tlsClientAuth: { ...cf.tlsClientAuth, certVerified: "FAILED:self signed certificate" } };
    expect((await s.request("/", { cf: failedAtEdge })).status).toBe(200);
    const edgeSaysOk = cloudflareTlsClientAuth(stranger, [strangerCa]);
    const denied = await s.request("/", { cf: edgeSaysOk });
    expect(denied.status).toBe(403);
    const placeholder = { tlsClientAuth: { ...cf.tlsClientAuth, certPresented: "0", certRFC9440: "", certChainRFC9440: "" } };
    expect(((await (await s.request("/", { cf: placeholder })).json()) as { code: string }).code).toBe("certificate_missing");
  });
});
