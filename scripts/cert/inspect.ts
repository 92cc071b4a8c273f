/**
 * `cert inspect FILE... [--json]` — the certificate model (cert/model.ts, the facts policies see) of every
 * certificate in every file.
 *
 * Contract: reads files through files.ts, writes through `Output`. Each file may hold a bundle (PEM, DER,
 * base64, RFC 9440). Text mode prints one block per certificate, blocks separated by a blank line; `--json`
 * prints one line per certificate: `{"file", "index", ...CertificateModel}` (`index` 0-based within the file).
 * A file that cannot be read, decoded or parsed is reported on stderr and the others are still printed; the
 * exit status is then EXIT_USAGE, otherwise EXIT_OK.
 */
import { describeCertificate, type CertificateModel } from "../../src/cert/model";
import type { InspectOptions } from "./args";
import { readCertificateFile } from "./files";
import { EXIT_OK, EXIT_USAGE, type Output } from "./output";

export async function runInspect(options: InspectOptions, output: Output): Promise<number> {
  let exit = EXIT_OK;
  let blocks = 0;
  for (const file of options.files) {
    const loaded = await readCertificateFile(file);
    if (!loaded.ok) {
      output.err(`cert inspect: ${loaded.error.message}`);
      exit = EXIT_USAGE;
      continue;
    }
    for (const [index, certificate] of loaded.value.entries()) {
      const model = await describeCertificate(certificate.parsed);
      if (options.json) {
        output.out(JSON.stringify({ file, index, ...model }));
      } else {
        if (blocks++ > 0) output.out("");
        for (const line of formatModel(file, index, model)) output.out(line);
      }
    }
  }
  return exit;
}

/** The readable block of one certificate. */
export function formatModel(file: string, index: number, m: CertificateModel): string[] {
  const fields: Array<[string, string]> = [
    ["file", file],
    ["index", String(index)],
    ["subject", m.subject.dotnet],
    ["issuer", m.issuer.dotnet],
    ["serial", m.serialNumber],
    ["thumbprint", `${m.thumbprint} (SHA-1)`],
    ["sha256", m.sha256],
    ["validity", `${m.notBefore} to ${m.notAfter}`],
    ["key", formatKey(m.publicKey)],
    ["signature", m.signatureAlgorithm],
    ["SANs", formatSans(m.subjectAltNames)],
    ["key usage", m.keyUsage ? m.keyUsage.join(", ") || "(empty)" : "absent"],
    ["extended key usage", m.extendedKeyUsage ? m.extendedKeyUsage.join(", ") || "(empty)" : "absent"],
    ["basic constraints", formatBasicConstraints(m.basicConstraints)],
    ["subject key id", m.subjectKeyIdentifier ?? "absent"],
    ["authority key id", m.authorityKeyIdentifier ?? "absent"],
  ];
  if (m.selfIssued) fields.push(["self-issued", "yes"]);
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  return fields.map(([label, value]) => `${`${label}:`.padEnd(width)}${value}`);
}

function formatKey(key: CertificateModel["publicKey"]): string {
  if (key.curve) return `${key.algorithm} ${key.curve}`;
  return key.bits > 0 && key.algorithm === "RSA" ? `RSA ${key.bits} bits` : key.algorithm;
}

function formatSans(san: CertificateModel["subjectAltNames"]): string {
  const all = [
    ...san.dns.map((v) => `DNS:${v}`),
    ...san.email.map((v) => `email:${v}`),
    ...san.uri.map((v) => `URI:${v}`),
    ...san.ip.map((v) => `IP:${v}`),
  ];
  return all.length > 0 ? all.join(", ") : "none";
}

function formatBasicConstraints(bc: CertificateModel["basicConstraints"]): string {
  if (!bc) return "absent";
  if (!bc.ca) return "CA:FALSE";
  return bc.pathLen === null ? "CA:TRUE" : `CA:TRUE, pathlen:${bc.pathLen}`;
}
