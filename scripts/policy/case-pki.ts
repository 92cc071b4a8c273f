/**
 * The test PKI of the policy cases (cases.ts), generated at test time by build-cases.ts and shared by both
 * harnesses. TEST MATERIAL ONLY.
 *
 * Contract: `generateCasePki(now)` issues every certificate (fresh P-256 keys, validity relative to `now`) and
 * returns them with their facts; no I/O. Certificates, by the name cases use:
 *   root            certgate Test Root CA                       anchor of the store `default`
 *   dev             certgate Test DEV Issuing CA (OU=DEV)        store intermediate of `default`, registered `dev-ca`
 *   valid           Valid Client, valid.client.test              registered `valid-client`
 *   unregistered    Unregistered Client, unregistered.client.test
 *   expired         Expired Client (notAfter a day ago)
 *   not-yet-valid   Not Yet Valid Client (notBefore in 30 days)
 *   other-client    Other Client (OU=Partners), expires in 20 days
 *   untrusted-root  certgate Untrusted Root CA                   anchor of the store `partners` only
 *   untrusted-ca    certgate Untrusted Issuing CA                store intermediate of `partners`
 *   untrusted       Untrusted Client, untrusted.client.test      issued by untrusted-ca
 * Facts, as named values `pki.<name>.<fact>`: thumbprint, serial, subject and issuer (.NET renderings, as
 * context.Request.Certificate shows them), sha256, cn, dns (first DNS SAN, or ""), not-after (ISO 8601).
 */
import { describeCertificate } from "../../src/cert/model";
import { parseCertificate } from "../../src/cert/parse";
import { generateKeyPair, issueCertificate, type BuiltCertificate, type CertificateExtensionsSpec } from "../pki/builder";

export const CERTIFICATE_NAMES = [
  "root", "dev", "valid", "unregistered", "expired", "not-yet-valid", "other-client", "untrusted-root", "untrusted-ca", "untrusted",
] as const;
export type CertificateName = (typeof CERTIFICATE_NAMES)[number];

/** Trust stores: name → anchors and intermediates. `default` is the deployment's (TRUST_STORE). */
export const CASE_STORES: Readonly<Record<string, { readonly anchors: readonly CertificateName[]; readonly intermediates: readonly CertificateName[] }>> = {
  default: { anchors: ["root"], intermediates: ["dev"] },
  partners: { anchors: ["untrusted-root"], intermediates: ["untrusted-ca"] },
};

/** Registered certificates (KV `registered`, context.Deployment.Certificates): id → certificate. */
export const CASE_REGISTERED: Readonly<Record<string, CertificateName>> = { "valid-client": "valid", "dev-ca": "dev" };

export interface CasePki {
  readonly generatedAt: string;
  /** PEM by name. */
  readonly pem: Readonly<Record<CertificateName, string>>;
  /** `pki.<name>.<fact>` → value. */
  readonly facts: Readonly<Record<string, string>>;
}

const DAY = 86_400_000;
const ORG = "O=certgate Test, C=US";

const CA: CertificateExtensionsSpec = { basicConstraints: { ca: true }, keyUsage: { usages: ["keyCertSign", "cRLSign", "digitalSignature"] } };
const client = (dns: string, email?: string): CertificateExtensionsSpec => ({
  basicConstraints: { ca: false },
  keyUsage: { usages: ["digitalSignature"] },
  extKeyUsage: { oids: ["clientAuth"] },
  subjectAltName: { names: [{ dns }, ...(email ? [{ email }] : [])] },
});

/** Generates the PKI; validity periods are relative to `now`. */
export async function generateCasePki(now = new Date()): Promise<CasePki> {
  const t = now.getTime();
  const issue = async (subject: string, issuer: BuiltCertificate | undefined, from: number, to: number, extensions: CertificateExtensionsSpec) =>
    issueCertificate({ subject, key: await generateKeyPair("p-256"), ...(issuer ? { issuer } : {}), notBefore: new Date(from), notAfter: new Date(to), extensions });
  const root = await issue(`CN=certgate Test Root CA, ${ORG}`, undefined, t - 365 * DAY, t + 3650 * DAY, CA);
  const dev = await issue(`CN=certgate Test DEV Issuing CA, OU=DEV, ${ORG}`, root, t - 365 * DAY, t + 3650 * DAY, CA);
  const untrustedRoot = await issue("CN=certgate Untrusted Root CA, O=Elsewhere, C=US", undefined, t - 365 * DAY, t + 3650 * DAY, CA);
  const untrustedCa = await issue("CN=certgate Untrusted Issuing CA, O=Elsewhere, C=US", untrustedRoot, t - 365 * DAY, t + 3650 * DAY, CA);
  const built: Record<CertificateName, BuiltCertificate> = {
    root,
    dev,
    valid: await issue(`CN=Valid Client, OU=DEV, ${ORG}`, dev, t - DAY, t + 365 * DAY, client("valid.client.test", "valid@client.test")),
    unregistered: await issue(`CN=Unregistered Client, OU=DEV, ${ORG}`, dev, t - DAY, t + 365 * DAY, client("unregistered.client.test")),
    expired: await issue(`CN=Expired Client, OU=DEV, ${ORG}`, dev, t - 60 * DAY, t - DAY, client("expired.client.test")),
    "not-yet-valid": await issue(`CN=Not Yet Valid Client, OU=DEV, ${ORG}`, dev, t + 30 * DAY, t + 365 * DAY, client("not-yet-valid.client.test")),
    "other-client": await issue(`CN=Other Client, OU=Partners, ${ORG}`, dev, t - DAY, t + 20 * DAY, client("other.client.test")),
    "untrusted-root": untrustedRoot,
    "untrusted-ca": untrustedCa,
    untrusted: await issue("CN=Untrusted Client, O=Elsewhere, C=US", untrustedCa, t - DAY, t + 365 * DAY, client("untrusted.client.test")),
  };
  const facts: Record<string, string> = {};
  for (const name of CERTIFICATE_NAMES) {
    const parsed = parseCertificate(built[name].der);
    if (!parsed.ok) throw new Error(`test certificate ${name} does not parse: ${parsed.error.detail}`);
    const m = await describeCertificate(parsed.value);
    const f = (fact: string, value: string) => (facts[`pki.${name}.${fact}`] = value);
    f("thumbprint", m.thumbprint);
    f("serial", m.serialNumber);
    f("subject", m.subject.dotnet);
    f("issuer", m.issuer.dotnet);
    f("sha256", m.sha256);
    f("cn", m.commonName ?? "");
    f("dns", m.subjectAltNames.dns[0] ?? "");
    f("not-after", m.notAfter);
  }
  const pem = Object.fromEntries(CERTIFICATE_NAMES.map((n) => [n, built[n].pem])) as Record<CertificateName, string>;
  return { generatedAt: now.toISOString(), pem, facts };
}
