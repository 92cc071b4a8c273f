/**
 * A custom test PKI for `npm run pki -- custom`: root → N intermediates → clients, with keys, CRLs and a folder
 * `kv sync` can publish as is. TEST MATERIAL ONLY: keys are written unencrypted (builder.ts's contract).
 *
 * Contract: `generateCustomPki(dir, spec)` writes into `dir` and returns the manifest (also `dir/manifest.json`).
 * It refuses a non-empty `dir` unless `force` is set; then it overwrites the files it writes and removes stale
 * files from `dir/kv` (a previous run's extra intermediates or clients must not be published by mistake).
 * Times are relative to `now` (default: the clock): every certificate starts a day before `now` (clock skew);
 * clients end `days` days after it, intermediates 2 × days, the root 4 × days, so no chain outlives its CA.
 * CRLs: thisUpdate an hour before `now`, nextUpdate 30 days after; the issuing CA's CRL lists the revoked
 * clients (revocation date an hour before `now`), the others are empty.
 *
 * Layout (each certificate `<name>.pem` beside its PKCS#8 key `<name>.key.pem`):
 *   ca/root.pem, ca/intermediate-<i>.pem   i = 1 … N, each issued by the previous one (pathLen counts down)
 *   crl/<ca>.crl                           DER CRL signed by that CA (with --crl)
 *   clients/<name>.pem                     issued by the last CA; <name>.chain.pem = leaf + intermediates
 *   kv/                                    a `kv sync` folder: stores/default/{anchors,intermediates,crls},
 *                                          registered/<client>.pem for every client
 *   manifest.json
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import {
  encodeIpAddress,
  exportPrivateKeyPem,
  generateKeyPair,
  issueCertificate,
  issueCrl,
  type BuiltCertificate,
  type GeneralNameSpec,
} from "./builder";

export const CUSTOM_ALGORITHMS = ["rsa-2048", "rsa-3072", "p-256", "p-384"] as const;
export type CustomAlgorithm = (typeof CUSTOM_ALGORITHMS)[number];

/** EKU names the builder knows; dotted OIDs are accepted too. */
export const EKU_NAMES = ["clientAuth", "serverAuth", "codeSigning", "emailProtection", "timeStamping", "OCSPSigning", "anyExtendedKeyUsage"] as const;

/** Most intermediates: certgate's maxPathCertificates (8) minus the leaf and the anchor. */
export const MAX_INTERMEDIATES = 6;

/** A SAN of every client; `{name}` in the value is replaced by the client's name. */
export interface SanTemplate {
  readonly type: "dns" | "email" | "uri" | "ip";
  readonly value: string;
}

export interface CustomPkiSpec {
  readonly algorithm: CustomAlgorithm;
  /** Client validity in days. */
  readonly days: number;
  readonly intermediates: number;
  readonly clients: readonly string[];
  readonly sans: readonly SanTemplate[];
  readonly eku: readonly string[];
  /** Write a CRL per CA. */
  readonly crl: boolean;
  /** Clients listed in their issuing CA's CRL (implies crl). */
  readonly revoke: readonly string[];
}

export const DEFAULT_SPEC: CustomPkiSpec = {
  algorithm: "p-256",
  days: 365,
  intermediates: 1,
  clients: ["client"],
  sans: [{ type: "dns", value: "{name}.certgate.test" }],
  eku: ["clientAuth"],
  crl: false,
  revoke: [],
};

export interface CustomCaInfo {
  readonly name: string;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** The CA that issued it (null for the root). */
  readonly issuer: string | null;
  readonly cert: string;
  readonly key: string;
  readonly crl: string | null;
}

export interface CustomClientInfo {
  readonly name: string;
  readonly subject: string;
  readonly serialNumber: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sans: readonly string[];
  readonly eku: readonly string[];
  readonly issuer: string;
  readonly revoked: boolean;
  readonly cert: string;
  readonly key: string;
  readonly chain: string;
}

export interface CustomManifest {
  readonly generatedAt: string;
  readonly algorithm: CustomAlgorithm;
  readonly days: number;
  readonly cas: readonly CustomCaInfo[];
  readonly clients: readonly CustomClientInfo[];
  /** The `kv sync` folder, relative to the PKI folder. */
  readonly kv: string;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const CRL_DAYS = 30;
const ORG = "O=certgate Test";

/** Client names: usable as file names and registered ids. */
export const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Checks a SAN template; null when fine, else what is wrong. */
export function checkSan(san: SanTemplate): string | null {
  const value = san.value.replaceAll("{name}", "client");
  switch (san.type) {
    case "dns":
      return /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$/.test(value) ? null : `dns:${san.value} is not a DNS name`;
    case "email":
      return /^[^\s@]+@[^\s@]+$/.test(value) ? null : `email:${san.value} is not an email address`;
    case "uri":
      return URL.canParse(value) ? null : `uri:${san.value} is not an absolute URI`;
    case "ip":
      try {
        encodeIpAddress(value);
        return value.includes("/") ? `ip:${san.value}: a SAN is an address, not a range` : null;
      } catch {
        return `ip:${san.value} is not an IPv4 or IPv6 address`;
      }
  }
}

function sanSpec(san: SanTemplate, client: string): GeneralNameSpec {
  const value = san.value.replaceAll("{name}", client);
  switch (san.type) {
    case "dns": return { dns: value };
    case "email": return { email: value };
    case "uri": return { uri: value };
    case "ip": return { ip: value };
  }
}

/** Generates the PKI into `dir` (see the module header). Throws when `dir` is not empty and `force` is not set. */
export async function generateCustomPki(
  dir: string,
  spec: CustomPkiSpec,
  options: { readonly force?: boolean; readonly now?: Date } = {},
): Promise<CustomManifest> {
  const root = resolve(dir);
  if (!options.force && existsSync(root) && readdirSync(root).length > 0) {
    throw new Error(`${dir} is not empty; pass --force to overwrite the PKI there`);
  }
  const now = (options.now ?? new Date()).getTime();
  const written = new Set<string>();
  const write = (rel: string, data: string | Uint8Array, mode?: number) => {
    const full = join(root, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, data, mode === undefined ? undefined : { mode });
    written.add(full);
  };
  const writeCert = async (rel: string, cert: BuiltCertificate) => {
    write(rel, cert.pem);
    const key = rel.replace(/\.pem$/, ".key.pem");
    write(key, await exportPrivateKeyPem(cert.key), 0o600);
    return key;
  };

  // The chain: root, then intermediates; pathLen lets exactly the intermediates below each CA.
  const cas: Array<{ name: string; cert: BuiltCertificate }> = [];
  for (let i = 0; i <= spec.intermediates; i++) {
    const issuer = cas[i - 1]?.cert;
    const name = i === 0 ? "root" : `intermediate-${i}`;
    const cert = await issueCertificate({
      subject: i === 0 ? `CN=certgate Test Root CA, ${ORG}` : `CN=certgate Test Intermediate CA ${i}, ${ORG}`,
      key: await generateKeyPair(spec.algorithm),
      ...(issuer ? { issuer } : {}),
      notBefore: new Date(now - DAY),
      notAfter: new Date(now + (i === 0 ? 4 : 2) * spec.days * DAY),
      extensions: {
        basicConstraints: { ca: true, pathLen: spec.intermediates - i },
        keyUsage: { usages: ["keyCertSign", "cRLSign"] },
      },
    });
    cas.push({ name, cert });
  }
  const issuing = cas[cas.length - 1]!;

  const clients: CustomClientInfo[] = [];
  const revokedSerials: string[] = [];
  for (const name of spec.clients) {
    const notBefore = new Date(now - DAY);
    const notAfter = new Date(now + spec.days * DAY);
    const cert = await issueCertificate({
      subject: `CN=${name}, ${ORG}`,
      key: await generateKeyPair(spec.algorithm),
      issuer: issuing.cert,
      notBefore,
      notAfter,
      extensions: {
        basicConstraints: { ca: false },
        keyUsage: { usages: ["digitalSignature"] },
        ...(spec.eku.length > 0 ? { extKeyUsage: { oids: [...spec.eku] } } : {}),
        ...(spec.sans.length > 0 ? { subjectAltName: { names: spec.sans.map((s) => sanSpec(s, name)) } } : {}),
      },
    });
    const certFile = `clients/${name}.pem`;
    const key = await writeCert(certFile, cert);
    const chain = `clients/${name}.chain.pem`;
    write(chain, cert.pem + cas.slice(1).reverse().map((c) => c.cert.pem).join(""));
    write(`kv/registered/${name}.pem`, cert.pem);
    const revoked = spec.revoke.includes(name);
    if (revoked) revokedSerials.push(cert.serialNumber);
    clients.push({
      name,
      subject: cert.subject,
      serialNumber: cert.serialNumber,
      notBefore: notBefore.toISOString(),
      notAfter: notAfter.toISOString(),
      sans: spec.sans.map((s) => `${s.type}:${s.value.replaceAll("{name}", name)}`),
      eku: [...spec.eku],
      issuer: issuing.name,
      revoked,
      cert: certFile,
      key,
      chain,
    });
  }

  const withCrl = spec.crl || spec.revoke.length > 0;
  const caInfos: CustomCaInfo[] = [];
  for (const [i, { name, cert }] of cas.entries()) {
    const certFile = `ca/${name}.pem`;
    const key = await writeCert(certFile, cert);
    write(i === 0 ? `kv/stores/default/anchors/${name}.pem` : `kv/stores/default/intermediates/${name}.pem`, cert.pem);
    let crlFile: string | null = null;
    if (withCrl) {
      const crl = await issueCrl({
        issuer: cert,
        thisUpdate: new Date(now - HOUR),
        nextUpdate: new Date(now + CRL_DAYS * DAY),
        entries: cert === issuing.cert ? revokedSerials.map((serialNumber) => ({ serialNumber, revocationDate: new Date(now - HOUR) })) : [],
      });
      crlFile = `crl/${name}.crl`;
      write(crlFile, crl.der);
      write(`kv/stores/default/crls/${name}.crl`, crl.der);
    }
    caInfos.push({
      name,
      subject: cert.subject,
      serialNumber: cert.serialNumber,
      notBefore: cert.spec.notBefore.toISOString(),
      notAfter: cert.spec.notAfter.toISOString(),
      issuer: i === 0 ? null : cas[i - 1]!.name,
      cert: certFile,
      key,
      crl: crlFile,
    });
  }

  removeStaleFiles(join(root, "kv"), written);
  const manifest: CustomManifest = { generatedAt: new Date(now).toISOString(), algorithm: spec.algorithm, days: spec.days, cas: caInfos, clients, kv: "kv" };
  write("manifest.json", JSON.stringify(manifest, null, 2) + "\n");
  return manifest;
}

/** Deletes files under `dir` that are not in `keep` (full paths), and folders left empty. */
export function removeStaleFiles(dir: string, keep: ReadonlySet<string>): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) {
      removeStaleFiles(full, keep);
      if (readdirSync(full).length === 0) rmSync(full, { recursive: true });
    } else if (!keep.has(full)) {
      rmSync(full);
    }
  }
}
