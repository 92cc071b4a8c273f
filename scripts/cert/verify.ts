/**
 * `cert verify` — validates leaf certificates with the Worker's engine (pki/trust-material + pki/verifier), as
 * `openssl verify` does with several files: one verdict per LEAF file.
 *
 * Contract: reads files through files.ts, writes through `Output`, takes the validation time as a parameter
 * (main.ts reads the clock). Trust material is every `--ca` certificate as an anchor, every `--untrusted`
 * certificate as a store intermediate and every `--crl` CRL, prepared once for all leaves. A LEAF file holds
 * the client certificate first; further certificates in it are the chain the client presented.
 *
 * Options given to the engine: revocation as asked (default `soft` with CRLs, `off` without), the EKU of
 * `--purpose` (clientAuth by default, as the Worker) unless `--no-eku`, `allowPartialChain` with `--partial-chain`; everything else is the engine's default, i.e.
 * exactly what the Worker enforces.
 *
 * Output, one record per LEAF in argument order. Text: `FILE: OK` and the path (depth 0 = leaf … anchor), or
 * `FILE: error CODE — DETAIL` and the context. `--json`: one line `LeafReport` per leaf. A trust-material file
 * that cannot be used stops everything before any leaf is checked (all such errors are listed on stderr). A
 * LEAF file that cannot be read, decoded or parsed is reported on stderr (and, with --json, as a record with
 * `code` = the decoder's code, or `file_unreadable` for an I/O error); the other leaves are still checked.
 * Exit status: EXIT_USAGE if any file could not be used, else EXIT_INVALID if any leaf is invalid, else EXIT_OK.
 */
import { renderName } from "../../src/cert/dn";
import { describeCertificate } from "../../src/cert/model";
import type { ErrorContext } from "../../src/errors";
import { ok, type Result } from "../../src/result";
import { prepareTrustMaterial } from "../../src/pki/trust-material";
import type { ValidationOptions } from "../../src/pki/validate";
import { CertificateVerifier } from "../../src/pki/verifier";
import type { VerifyOptions } from "./args";
import { readCertificateFile, readCrlFile, readUntrustedFile, type InputError } from "./files";
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, worstExit, type Output } from "./output";

/** The verdict on one LEAF file, as printed by --json. */
export interface LeafReport {
  readonly file: string;
  readonly valid: boolean;
  /** Engine error code (src/errors.ts), `file_unreadable`, or null when valid. */
  readonly code: string | null;
  readonly detail: string | null;
  readonly context: ErrorContext | null;
  /** Soft-fail notes of a valid path (revocation status unknown). */
  readonly warnings: readonly string[];
  /** .NET-rendered subjects of the validated path, leaf → anchor; empty when invalid. */
  readonly path: readonly string[];
  /** The leaf's .NET-rendered subject and SHA-1 thumbprint, when it parsed. */
  readonly subject: string | null;
  readonly thumbprint: string | null;
}

const PREFIX = "cert verify:";

export async function runVerify(options: VerifyOptions, output: Output, now: Date): Promise<number> {
  // Trust material: every file is read before giving up, so all faults are listed at once.
  const problems: InputError[] = [];
  const collect = async <T>(files: readonly string[], read: (file: string) => Promise<Result<T[], InputError>>) => {
    const all: T[] = [];
    for (const file of files) {
      const r = await read(file);
      if (r.ok) all.push(...r.value);
      else problems.push(r.error);
    }
    return all;
  };
  const anchors = await collect(options.anchors, readCertificateFile);
  // An --untrusted member that cannot be read is skipped with a warning: it could only have helped build a path.
  const intermediates = await collect(options.untrusted, async (file) => {
    const r = await readUntrustedFile(file);
    if (!r.ok) return r;
    for (const s of r.value.skipped) output.err(`${PREFIX} warning: ${s.file}: certificate at index ${s.index} skipped: ${s.detail}`);
    return ok(r.value.certs);
  });
  const crls = await collect(options.crls, readCrlFile);
  if (problems.length > 0) {
    for (const p of problems) output.err(`${PREFIX} ${p.message}`);
    return EXIT_USAGE;
  }
  const material = await prepareTrustMaterial({
    version: "cli",
    anchors: anchors.map((c) => c.der),
    intermediates: intermediates.map((c) => c.der),
    crls,
  });
  if (!material.ok) {
    const item = material.error.context?.item;
    output.err(`${PREFIX} trust material${item ? ` (${String(item)})` : ""}: ${material.error.detail}`);
    return EXIT_USAGE;
  }

  const validation: ValidationOptions = {
    revocation: options.revocation ?? (crls.length > 0 ? "soft" : "off"),
    requireClientAuthEku: options.requireClientAuthEku,
    purpose: options.purpose,
    profile: options.profile,
    allowPartialChain: options.partialChain,
  };
  const verifier = new CertificateVerifier();
  let exit = EXIT_OK;
  for (const file of options.leaves) {
    const loaded = await readCertificateFile(file);
    if (!loaded.ok) {
      output.err(`${PREFIX} ${loaded.error.message}`);
      exit = worstExit(exit, EXIT_USAGE);
      if (options.json) output.out(JSON.stringify(unusableReport(file, loaded.error)));
      continue;
    }
    const [leaf, ...chain] = loaded.value;
    if (!leaf) continue; // readCertificateFile never returns an empty list
    const verdict = await verifier.verify(material.value, leaf.der, chain.map((c) => c.der), now, validation);
    const model = await describeCertificate(leaf.parsed);
    const result = verdict.result;
    const report: LeafReport = result.ok
      ? {
          file, valid: true, code: null, detail: null, context: null,
          warnings: result.value.warnings,
          path: result.value.certificates.map((c) => renderName(c.subject).dotnet),
          subject: model.subject.dotnet, thumbprint: model.thumbprint,
        }
      : {
          file, valid: false, code: result.error.code, detail: result.error.detail, context: result.error.context ?? null,
          warnings: [], path: [],
          subject: model.subject.dotnet, thumbprint: model.thumbprint,
        };
    if (!report.valid) exit = worstExit(exit, EXIT_INVALID);
    if (options.json) output.out(JSON.stringify(report));
    else for (const line of formatReport(report)) output.out(line);
  }
  return exit;
}

function unusableReport(file: string, error: InputError): LeafReport {
  return {
    file, valid: false,
    code: error.cause?.code ?? "file_unreadable",
    detail: error.message,
    context: error.cause?.context ?? null,
    warnings: [], path: [], subject: null, thumbprint: null,
  };
}

/** The readable lines of one verdict. */
export function formatReport(r: LeafReport): string[] {
  if (r.valid) {
    return [
      `${r.file}: OK`,
      ...r.path.map((subject, depth) => `  depth ${depth}: ${subject}`),
      ...r.warnings.map((w) => `  warning: ${w}`),
    ];
  }
  const lines = [`${r.file}: error ${r.code} — ${r.detail}`];
  if (r.subject !== null) lines.push(`  leaf: ${r.subject}`);
  for (const [key, value] of Object.entries(r.context ?? {})) {
    lines.push(`  ${key}: ${Array.isArray(value) ? value.join(", ") : String(value)}`);
  }
  return lines;
}
