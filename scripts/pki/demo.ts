/**
 * The demo PKI: a small, deployment-shaped set of CAs and client certificates for `npm start`, manual
 * `curl` tries, tests and benchmarks. DEMO MATERIAL ONLY: keys are written unencrypted.
 *
 * Contract: `generateDemoPki(dir)` writes PEM files into `dir` (Node I/O here; certificates come from
 * scripts/pki/builder.ts) and returns what it wrote. It refuses a non-empty `dir` unless `force` is set, and
 * then overwrites only the files it writes. Times are relative to `now` (default: the clock).
 *
 * Layout (every certificate `<name>.pem` with its PKCS#8 key `<name>.key.pem`):
 *   ca/root.pem            "certgate Demo Root CA"          the trust anchor of the demo store
 *   ca/dev.pem             "certgate Demo DEV Issuing CA"   store intermediate (trusted), issues the clients below
 *   ca/other-root.pem      "certgate Demo Other Root CA"    NOT in the store
 *   ca/tst.pem             "certgate Demo TST Issuing CA"   under other-root: untrusted
 *   clients/valid          valid.client.demo                valid, registered as `valid-client`
 *   clients/unregistered   unregistered.client.demo         valid, not registered
 *   clients/expired        expired.client.demo              notAfter a year ago
 *   clients/not-yet-valid  not-yet-valid.client.demo        notBefore five years ahead
 *   clients/untrusted      untrusted.client.demo            issued by TST
 *   clients/<name>.chain.pem                                leaf + its issuing CA
 *   headers/<name>.txt      `Client-Cert: :<base64 DER>:` (RFC 9440 §2.2) for `curl -H @file`; the untrusted
 *                          one adds `Client-Cert-Chain` with TST, so it fails on the root, not a gap
 *   headers/valid-url-pem.txt  `X-Client-Cert: <URL-encoded PEM chain>` (nginx $ssl_client_escaped_cert)
 *   manifest.json          names, subjects, validity and files
 *
 * CLI: `npm run pki:demo -- [--out DIR] [--force]` (default DIR: .dev/pki).
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  exportPrivateKeyPem,
  generateKeyPair,
  issueCertificate,
  type BuiltCertificate,
  type CertificateExtensionsSpec,
} from "./builder";
import { describeError, FLAG, folderProblem, parseOptions, runMain, usageError, VALUE, valueOf, type Output } from "../lib/cli";

export const DEFAULT_DEMO_PKI_DIR = ".dev/pki";

/** The clients of the demo, in the order they are listed. */
export const DEMO_CLIENTS = ["valid", "unregistered", "expired", "not-yet-valid", "untrusted"] as const;
export type DemoClientName = (typeof DEMO_CLIENTS)[number];

/** Id of the valid client in `v/<version>/registered` (docs/kv-schema.md). */
export const REGISTERED_CLIENT_ID = "valid-client";

export interface DemoCertificateInfo {
  readonly subject: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** Certificate PEM, relative to the PKI folder. */
  readonly cert: string;
  /** PKCS#8 private key PEM, relative to the PKI folder. */
  readonly key: string;
}

export interface DemoClientInfo extends DemoCertificateInfo {
  readonly dns: string;
  /** Leaf + issuing CA PEM. */
  readonly chain: string;
  /** `curl -H @file` header file carrying the certificate (RFC 9440). */
  readonly header: string;
  readonly issuer: "dev" | "tst";
}

/** manifest.json: what `generateDemoPki` wrote, relative to the PKI folder. */
export interface DemoManifest {
  readonly generatedAt: string;
  readonly cas: Record<"root" | "dev" | "other-root" | "tst", DemoCertificateInfo>;
  readonly clients: Record<DemoClientName, DemoClientInfo>;
  /** `X-Client-Cert: <URL-encoded PEM>` header file of the valid client (the url-pem source). */
  readonly urlPemHeader: string;
}

export interface GenerateDemoPkiOptions {
  /** Overwrite files in a non-empty folder. */
  readonly force?: boolean;
  /** Reference time for every validity period. */
  readonly now?: Date;
}

const DAY = 86_400_000;
const YEAR = 365 * DAY;
const ORG = "O=certgate Demo, C=US";

const CA_EXTENSIONS = (pathLen: number | undefined): CertificateExtensionsSpec => ({
  basicConstraints: { ca: true, ...(pathLen === undefined ? {} : { pathLen }) },
  keyUsage: { usages: ["keyCertSign", "cRLSign", "digitalSignature"] },
});

const CLIENT_EXTENSIONS = (dns: string): CertificateExtensionsSpec => ({
  basicConstraints: { ca: false },
  keyUsage: { usages: ["digitalSignature"] },
  extKeyUsage: { oids: ["clientAuth"] },
  subjectAltName: { names: [{ dns }] },
});

/** Validity of each client relative to `now`. */
const CLIENT_VALIDITY: Record<DemoClientName, (now: number) => [Date, Date]> = {
  valid: (n) => [new Date(n - DAY), new Date(n + 2 * YEAR)],
  unregistered: (n) => [new Date(n - DAY), new Date(n + 2 * YEAR)],
  expired: (n) => [new Date(n - 2 * YEAR), new Date(n - YEAR)],
  "not-yet-valid": (n) => [new Date(n + 5 * YEAR), new Date(n + 6 * YEAR)],
  untrusted: (n) => [new Date(n - DAY), new Date(n + 2 * YEAR)],
};

/** Human label per client, used as CN. */
const CLIENT_CN: Record<DemoClientName, string> = {
  valid: "Valid Client",
  unregistered: "Unregistered Client",
  expired: "Expired Client",
  "not-yet-valid": "Not Yet Valid Client",
  untrusted: "Untrusted Client",
};

function base64(der: Uint8Array): string {
  return Buffer.from(der).toString("base64");
}

/** nginx's $ssl_client_escaped_cert: every byte outside unreserved URI characters is %XX. */
function urlEncodePem(pem: string): string {
  return encodeURIComponent(pem).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * Generates the demo PKI into `dir` and returns its manifest (also written as `dir/manifest.json`).
 * Throws when `dir` is not empty and `force` is not set.
 */
export async function generateDemoPki(dir: string, options: GenerateDemoPkiOptions = {}): Promise<DemoManifest> {
  const root = resolve(dir);
  if (!options.force && existsSync(root) && readdirSync(root).length > 0) {
    throw new Error(`${dir} is not empty; pass --force to overwrite the demo PKI there`);
  }
  for (const sub of ["ca", "clients", "headers"]) mkdirSync(join(root, sub), { recursive: true });
  const now = (options.now ?? new Date()).getTime();

  const write = async (relative: string, cert: BuiltCertificate, extraPem = ""): Promise<DemoCertificateInfo> => {
    const key = relative.replace(/\.pem$/, ".key.pem");
    writeFileSync(join(root, relative), cert.pem + extraPem);
    writeFileSync(join(root, key), await exportPrivateKeyPem(cert.key), { mode: 0o600 });
    return {
      subject: cert.subject,
      notBefore: cert.spec.notBefore.toISOString(),
      notAfter: cert.spec.notAfter.toISOString(),
      cert: relative,
      key,
    };
  };
  const ca = async (subject: string, issuer: BuiltCertificate | undefined, pathLen?: number): Promise<BuiltCertificate> =>
    issueCertificate({
      subject: `${subject}, ${ORG}`,
      key: await generateKeyPair("p-256"),
      ...(issuer ? { issuer } : {}),
      notBefore: new Date(now - 3 * YEAR),
      notAfter: new Date(now + (issuer ? 10 : 20) * YEAR),
      extensions: CA_EXTENSIONS(pathLen),
    });

  const rootCa = await ca("CN=certgate Demo Root CA", undefined, 1);
  const devCa = await ca("CN=certgate Demo DEV Issuing CA, OU=DEV", rootCa, 0);
  const otherRoot = await ca("CN=certgate Demo Other Root CA", undefined, 1);
  const tstCa = await ca("CN=certgate Demo TST Issuing CA, OU=TST", otherRoot, 0);
  const cas = {
    root: await write("ca/root.pem", rootCa),
    dev: await write("ca/dev.pem", devCa),
    "other-root": await write("ca/other-root.pem", otherRoot),
    tst: await write("ca/tst.pem", tstCa),
  };

  const clients = {} as Record<DemoClientName, DemoClientInfo>;
  let urlPemHeader = "";
  for (const name of DEMO_CLIENTS) {
    const issuer = name === "untrusted" ? tstCa : devCa;
    const dns = `${name}.client.demo`;
    const [notBefore, notAfter] = CLIENT_VALIDITY[name](now);
    const cert = await issueCertificate({
      subject: `CN=${CLIENT_CN[name]}, OU=${name === "untrusted" ? "TST" : "DEV"}, ${ORG}`,
      key: await generateKeyPair("p-256"),
      issuer,
      notBefore,
      notAfter,
      extensions: CLIENT_EXTENSIONS(dns),
    });
    const info = await write(`clients/${name}.pem`, cert);
    const chain = `clients/${name}.chain.pem`;
    writeFileSync(join(root, chain), cert.pem + issuer.pem);
    const header = `headers/${name}.txt`;
    const lines = [`Client-Cert: :${base64(cert.der)}:`];
    // The untrusted client sends its intermediate, so it fails for its root, not for a missing link.
    if (name === "untrusted") lines.push(`Client-Cert-Chain: :${base64(issuer.der)}:`);
    writeFileSync(join(root, header), lines.join("\n") + "\n");
    clients[name] = { ...info, dns, chain, header, issuer: name === "untrusted" ? "tst" : "dev" };
    if (name === "valid") {
      urlPemHeader = "headers/valid-url-pem.txt";
      writeFileSync(join(root, urlPemHeader), `X-Client-Cert: ${urlEncodePem(cert.pem + issuer.pem)}\n`);
    }
  }

  const manifest: DemoManifest = { generatedAt: new Date(now).toISOString(), cas, clients, urlPemHeader };
  writeFileSync(join(root, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

const USAGE = `Usage: npm run pki:demo -- [--out DIR] [--force]

Generates the certgate demo PKI (DEMO MATERIAL ONLY, keys unencrypted) into DIR (default ${DEFAULT_DEMO_PKI_DIR}):
a root CA, a trusted DEV issuing CA and its clients (valid, unregistered, expired, not-yet-valid), an
untrusted TST issuing CA under another root and its client, with chains and curl header files.

  --out DIR   output folder (default ${DEFAULT_DEMO_PKI_DIR})
  --force     overwrite the files in a non-empty folder
  --help      this text
`;

async function main(argv: readonly string[], output: Output): Promise<number> {
  const args = parseOptions(argv, { out: VALUE, force: FLAG });
  if (args.help) {
    output.out(USAGE.trimEnd());
    return 0;
  }
  const errors = [...args.errors];
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)}`);
  const out = valueOf(args, "out") ?? DEFAULT_DEMO_PKI_DIR;
  const problem = folderProblem(out);
  if (problem) errors.push(`--out ${out}: ${problem}`);
  if (errors.length > 0) return usageError(output, "pki:demo", errors);
  try {
    const started = performance.now();
    const manifest = await generateDemoPki(out, { force: args.flags.has("force") });
    const files = Object.values(manifest.clients).map((c) => c.cert);
    output.out(`demo PKI written to ${out} in ${Math.round(performance.now() - started)} ms (${files.length} clients; see manifest.json)`);
    return 0;
  } catch (e) {
    output.err(`pki:demo: ${describeError(e)}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runMain("pki:demo", main);
