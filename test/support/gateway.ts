/**
 * Driving the whole Worker inside workerd: seeding trust material into the real local KV, a recording
 * origin, and an env per scenario. Test material only.
 */
import { env } from "cloudflare:workers";
import { encodeBase64 } from "../../src/cert/decode";
import { createApp } from "../../src/app";
import { PASS_THROUGH_BUNDLE } from "../../src/policy/bundle";
import type { Env } from "../../src/env";
import type { BuiltCertificate } from "../../scripts/pki/builder";

export const SECRET = "terminator-secret-for-tests-0123456789";

let versionCounter = 0;
/** A version id unique to this test run (KV is shared by the tests of a file). */
export function uniqueVersion(label: string): string {
  return `${label}-${Date.now()}-${versionCounter++}`;
}

export interface StoreSeed {
  anchors: BuiltCertificate[];
  intermediates?: BuiltCertificate[];
  pinned?: BuiltCertificate[];
  crls?: Uint8Array[];
}

/** Writes a version with its stores (and registered certificates and named values) into KV, then flips `active` to it. */
export async function publish(kv: KVNamespace, version: string, stores: Record<string, StoreSeed>,
  extra: { registered?: Record<string, BuiltCertificate>; values?: Record<string, string> } = {}): Promise<void> {
  if (extra.registered) {
    await kv.put(`v/${version}/registered`, JSON.stringify(Object.fromEntries(Object.entries(extra.registered).map(([id, c]) => [id, c.pem]))));
  }
  if (extra.values) await kv.put(`v/${version}/values`, JSON.stringify(extra.values));
  for (const [name, s] of Object.entries(stores)) {
    await kv.put(`v/${version}/store/${name}`, JSON.stringify({
      anchors: s.anchors.map((c) => c.pem).join(""),
      intermediates: (s.intermediates ?? []).map((c) => c.pem).join(""),
      pinned: (s.pinned ?? []).map((c) => c.pem).join(""),
      crls: s.crls?.length ?? 0,
    }));
    for (const [i, crl] of (s.crls ?? []).entries()) await kv.put(`v/${version}/crl/${name}/${i}`, crl);
  }
  await kv.put("active", JSON.stringify({ version, activatedAt: new Date().toISOString() }));
}

export interface OriginCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  bodySha256: string | null;
  bodyBytes: number;
}

/** A recording origin (as a service binding): echoes what it received. */
export function recordingOrigin(behaviour?: (req: Request) => Promise<Response> | Response) {
  const calls: OriginCall[] = [];
  const fetcher = {
    async fetch(input: RequestInfo, init?: RequestInit): Promise<Response> {
      const req = new Request(input, init);
      if (behaviour) return behaviour(req);
      let bodyBytes = 0;
      let bodySha256: string | null = null;
      if (req.body) {
        const digest = new crypto.DigestStream("SHA-256");
        const [a, b] = req.body.tee();
        const counting = b.pipeTo(new WritableStream({ write(chunk: Uint8Array) { bodyBytes += chunk.length; } }));
        await a.pipeTo(digest);
        await counting;
        bodySha256 = [...new Uint8Array(await digest.digest)].map((x) => x.toString(16).padStart(2, "0")).join("");
      }
      const call: OriginCall = { method: req.method, url: req.url, headers: Object.fromEntries(req.headers), bodySha256, bodyBytes };
      calls.push(call);
      return Response.json(call, { headers: { "x-origin": "demo" } });
    },
    connect(): never {
      throw new Error("not supported");
    },
  };
  return { calls, fetcher: fetcher as unknown as Fetcher };
}

/**
 * An env for one scenario: the real local KV unless replaced, a recording origin, vars overridden (extra
 * bindings — mtls certificates, secrets — too), and the policy bundle (default: pass-through).
 */
export function scenario(vars: Partial<Record<keyof Env, unknown>> & Record<string, unknown> = {}, origin = recordingOrigin(), bundle?: unknown) {
  const e = {
    ...(env as unknown as Env),
    ORIGIN_URL: "https://origin.test",
    CERT_SOURCES: "cloudflare,rfc9440",
    TERMINATOR_SECRET: SECRET,
    TRUST_REFRESH_SECONDS: "0",
    ORIGIN: origin.fetcher,
    ...vars,
  } as Env;
  const app = createApp({ bundle: bundle === undefined ? PASS_THROUGH_BUNDLE : bundle });
  const ctx = { waitUntil() {}, passThroughOnException() {}, props: {} } as unknown as ExecutionContext;
  return {
    env: e,
    origin,
    request: (path: string, init: RequestInit & { cf?: unknown } = {}) =>
      app.fetch(new Request(`https://gateway.test${path}`, init as RequestInit), e, ctx),
  };
}

/** RFC 9440 header value of a certificate. */
export function byteSequence(c: BuiltCertificate | Uint8Array): string {
  return `:${encodeBase64(c instanceof Uint8Array ? c : c.der)}:`;
}

/** Headers an authenticated terminator would add. */
export function viaTerminator(extra: Record<string, string>): Record<string, string> {
  return { "x-certgate-terminator-secret": SECRET, ...extra };
}

/** The `cf.tlsClientAuth` object Cloudflare sets on an mTLS hostname. */
export function cloudflareTlsClientAuth(leafCert: BuiltCertificate, chain: BuiltCertificate[] = []) {
  return {
    tlsClientAuth: {
      certPresented: "1",
      certVerified: "SUCCESS",
      certRevoked: "0",
      certIssuerDN: "", certSubjectDN: "", certIssuerDNRFC2253: "", certSubjectDNRFC2253: "", certIssuerDNLegacy: "",
      certSubjectDNLegacy: "", certSerial: leafCert.serialNumber, certIssuerSerial: "", certSKI: "", certIssuerSKI: "",
      certFingerprintSHA1: "", certFingerprintSHA256: "", certNotBefore: "", certNotAfter: "",
      certRFC9440: byteSequence(leafCert),
      certRFC9440TooLarge: false,
      certChainRFC9440: chain.map(byteSequence).join(", "),
      certChainRFC9440TooLarge: false,
    },
  };
}
