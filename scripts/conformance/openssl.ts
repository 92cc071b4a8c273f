/**
 * The reference run of the conformance command: one limbo case through `openssl verify -x509_strict`, with
 * the same purpose (sslserver / sslclient), time, chain depth and CRLs certgate is given. OpenSSL does not
 * check the server name here either (no -verify_hostname), so both are judged on the same question.
 *
 * Contract: spawns `openssl` once per case (synchronously, with a timeout), writes the PEM inputs to a temporary
 * folder it removes; never throws (a missing binary or a timeout is reported as a rejection, code `openssl`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { familyOf, type CaseOutcome, type LimboCase } from "./limbo";

export function runOpenssl(c: LimboCase): CaseOutcome {
  const base = { id: c.id, family: familyOf(c.id), expected: c.expected_result };
  const dir = mkdtempSync(join(tmpdir(), "certgate-limbo-"));
  try {
    const write = (name: string, pems: readonly string[]) => {
      const path = join(dir, name);
      writeFileSync(path, pems.join("\n"));
      return path;
    };
    const args = ["verify", "-x509_strict", "-purpose", c.validation_kind === "SERVER" ? "sslserver" : "sslclient"];
    args.push("-CAfile", write("roots.pem", c.trusted_certs));
    if (c.untrusted_intermediates.length > 0) args.push("-untrusted", write("untrusted.pem", c.untrusted_intermediates));
    if ((c.crls ?? []).length > 0) args.push("-crl_check_all", "-CRLfile", write("crls.pem", c.crls ?? []));
    const at = c.validation_time ? Math.floor(new Date(c.validation_time).getTime() / 1000) : null;
    if (at !== null) args.push("-attime", String(at));
    if (c.max_chain_depth !== null && c.max_chain_depth !== undefined) args.push("-verify_depth", String(c.max_chain_depth + 1));
    args.push(write("leaf.pem", [c.peer_certificate]));
    const r = spawnSync("openssl", args, { encoding: "utf8", timeout: 20_000 });
    if (r.status === 0) return { ...base, actual: "SUCCESS", code: null, detail: null };
    const why = `${r.stdout ?? ""}${r.stderr ?? ""}`.split("\n").find((l) => l.startsWith("error")) ?? r.error?.message ?? "rejected";
    return { ...base, actual: "FAILURE", code: "openssl", detail: why };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
