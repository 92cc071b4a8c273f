/**
 * x509-limbo (with its BetterTLS cases) run through certgate's validation engine, in process.
 *
 * The suite's schema is upstream's `limbo/models.py` (C2SP/x509-limbo): `{ version: 1, testcases: [...] }`, each
 * case with PEM `trusted_certs`, `untrusted_intermediates`, `peer_certificate`, optional PEM `crls`, a
 * `validation_time`, `validation_kind` (CLIENT | SERVER), constraints (`extended_key_usage`, `key_usage`,
 * `max_chain_depth`, `signature_algorithms`), `expected_peer_name(s)` and `expected_result`.
 *
 * Contract: pure apart from the clock read for a case without `validation_time`; the same engine the Worker
 * and `cert verify` use (cert/decode, cert/parse, pki/trust-material, pki/validate).
 *
 * Scope: certgate validates client certificates; it never checks a server name. A case is judged when its
 * expected result cannot depend on a name check:
 * - every CLIENT case;
 * - every SERVER case that expects SUCCESS (a validator that ignores the name accepts what a name-checking one
 *   accepts);
 * - a SERVER case that expects FAILURE only when the expected peer name is literally one of the leaf's SANs
 *   (a DNS name equal without wildcards, an IP address equal), so the failure must come from the chain. The
 *   SAN match is decided by Node's X509Certificate (OpenSSL), not by certgate's parser, so the scope does not
 *   depend on the engine under test.
 * SERVER cases are validated for serverAuth, CLIENT cases for clientAuth (limbo's own harnesses do the same).
 * Anything the engine cannot read is a rejection: an unreadable anchor fails the case closed, an unreadable
 * untrusted intermediate is skipped (it could only have helped build a path).
 */
import { X509Certificate } from "node:crypto";
import { decodePemBlocks } from "../../src/cert/decode";
import { parseCertificate, type ParsedCertificate } from "../../src/cert/parse";
import { MAX_PATH_CERTIFICATES } from "../../src/limits";
import { prepareTrustMaterial } from "../../src/pki/trust-material";
import { validatePath, type ValidationOptions } from "../../src/pki/validate";
import type { Deviation } from "./deviations";

/** One test case, as limbo's models.py defines it (the fields certgate reads). */
export interface LimboCase {
  readonly id: string;
  readonly description: string;
  readonly features?: readonly string[];
  readonly validation_kind: "CLIENT" | "SERVER";
  readonly trusted_certs: readonly string[];
  readonly untrusted_intermediates: readonly string[];
  readonly peer_certificate: string;
  readonly validation_time: string | null;
  readonly signature_algorithms?: readonly string[] | null;
  readonly key_usage?: readonly string[] | null;
  readonly extended_key_usage?: readonly string[] | null;
  readonly expected_result: "SUCCESS" | "FAILURE";
  readonly expected_peer_name?: { readonly kind: string; readonly value: string } | null;
  readonly max_chain_depth?: number | null;
  readonly crls?: readonly string[] | null;
}

export interface LimboSuite {
  readonly version: number;
  readonly testcases: readonly LimboCase[];
}

/** Why a case is or is not judged. */
export type Scope = { readonly judged: true } | { readonly judged: false; readonly reason: string };

/** The verdict of certgate on one judged case. */
export interface CaseOutcome {
  readonly id: string;
  readonly family: string;
  readonly expected: "SUCCESS" | "FAILURE";
  readonly actual: "SUCCESS" | "FAILURE";
  /** The engine's error code when rejected (or what made the case unreadable). */
  readonly code: string | null;
  readonly detail: string | null;
}

/** Checks the top level of a parsed JSON document; returns a message when it is not a limbo suite. */
export function checkSuite(doc: unknown): string | null {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return "not a JSON object";
  const d = doc as { version?: unknown; testcases?: unknown };
  if (d.version !== 1) return `unsupported limbo schema version ${JSON.stringify(d.version)} (expected 1)`;
  if (!Array.isArray(d.testcases)) return "no testcases array";
  for (const [i, t] of (d.testcases as unknown[]).entries()) {
    const c = t as Partial<LimboCase> | null;
    if (!c || typeof c.id !== "string" || typeof c.peer_certificate !== "string" || !Array.isArray(c.trusted_certs)
      || !Array.isArray(c.untrusted_intermediates) || (c.expected_result !== "SUCCESS" && c.expected_result !== "FAILURE")
      || (c.validation_kind !== "CLIENT" && c.validation_kind !== "SERVER")) {
      return `testcases[${i}] is not a limbo test case`;
    }
  }
  return null;
}

/** The family a case is reported under: `rfc5280::nc`, `webpki::san`, `bettertls::nameconstraints`, `crl`… */
export function familyOf(id: string): string {
  const parts = id.split("::");
  return parts.length > 2 ? `${parts[0]}::${parts[1]}` : parts[0]!;
}

/** Whether certgate is judged on `c` (see the file header). */
export function scopeOf(c: LimboCase): Scope {
  if ((c.signature_algorithms ?? []).length > 0) return { judged: false, reason: "signature_algorithms constraint" };
  if (c.validation_kind === "CLIENT" || c.expected_result === "SUCCESS") return { judged: true };
  const name = c.expected_peer_name;
  if (!name) return { judged: false, reason: "server case without a peer name" };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(c.peer_certificate);
  } catch {
    return { judged: false, reason: "peer certificate unreadable by the reference (OpenSSL)" };
  }
  let matched: string | undefined;
  try {
    matched = name.kind === "IP"
      ? leaf.checkIP(name.value)
      : name.kind === "DNS"
        ? leaf.checkHost(name.value, { subject: "never", wildcards: false, partialWildcards: false })
        : undefined;
  } catch {
    matched = undefined;
  }
  return matched ? { judged: true } : { judged: false, reason: "the failure may be the server-name check" };
}

function pemCertificates(pem: string): Uint8Array[] | null {
  const r = decodePemBlocks(pem, "CERTIFICATE", { maxBytes: 1 << 22, maxCount: 1000, maxBlockBytes: 1 << 20 });
  return r.ok ? r.value : null;
}

function parseAll(pems: readonly string[]): { certs: ParsedCertificate[]; failed: number[] } {
  const certs: ParsedCertificate[] = [];
  const failed: number[] = [];
  for (const [i, pem] of pems.entries()) {
    const ders = pemCertificates(pem);
    const parsed = ders?.length === 1 ? parseCertificate(ders[0]!) : null;
    if (parsed?.ok) certs.push(parsed.value);
    else failed.push(i);
  }
  return { certs, failed };
}

/** certgate's validation options for a case (see the file header for the EKU choice). */
export function optionsFor(c: LimboCase): ValidationOptions {
  const purpose = c.validation_kind === "SERVER" ? "serverAuth" : "clientAuth";
  return {
    purpose,
    requireClientAuthEku: true,
    // A CRL given with the case asks for revocation checking; strict, so an unusable CRL cannot pass silently.
    revocation: (c.crls ?? []).length > 0 ? "strict" : "off",
    // limbo's max_chain_depth counts intermediates; certgate's limit counts leaf and anchor too.
    maxPathCertificates: c.max_chain_depth === null || c.max_chain_depth === undefined
      ? MAX_PATH_CERTIFICATES
      : Math.min(MAX_PATH_CERTIFICATES, c.max_chain_depth + 2),
  };
}

/** Runs one case through the engine. Never throws: an exception is reported as a rejection with code `exception`. */
export async function runCase(c: LimboCase, clock: () => Date = () => new Date()): Promise<CaseOutcome> {
  const base = { id: c.id, family: familyOf(c.id), expected: c.expected_result };
  const reject = (code: string, detail: string): CaseOutcome => ({ ...base, actual: "FAILURE", code, detail });
  try {
    const leafDer = pemCertificates(c.peer_certificate);
    if (!leafDer || leafDer.length !== 1) return reject("certificate_malformed", "peer certificate PEM");
    const leaf = parseCertificate(leafDer[0]!);
    if (!leaf.ok) return reject(leaf.error.code, leaf.error.detail);
    const anchors = parseAll(c.trusted_certs);
    if (anchors.failed.length > 0) return reject("certificate_malformed", `trusted_certs[${anchors.failed[0]}] does not parse`);
    const pool = parseAll(c.untrusted_intermediates);
    const crls: Uint8Array[] = [];
    for (const pem of c.crls ?? []) {
      const blocks = decodePemBlocks(pem, "X509 CRL", { maxBytes: 1 << 24, maxCount: 100, maxBlockBytes: 1 << 24 });
      if (!blocks.ok) return reject("crl_malformed", "CRL PEM");
      crls.push(...blocks.value);
    }
    // The untrusted intermediates are a pool to build from, as `cert verify --untrusted` gives them: store
    // intermediates (untrusted: a path still has to end at an anchor), not a presented chain capped at 8.
    const material = await prepareTrustMaterial({
      version: c.id,
      anchors: anchors.certs.map((x) => x.der),
      intermediates: pool.certs.map((x) => x.der),
      crls,
    });
    if (!material.ok) return reject(material.error.code, material.error.detail);
    const now = c.validation_time ? new Date(c.validation_time) : clock();
    const result = await validatePath({
      leaf: leaf.value,
      presented: [],
      material: material.value,
      now,
      options: optionsFor(c),
    });
    if (result.ok) return { ...base, actual: "SUCCESS", code: null, detail: null };
    return reject(result.error.code, result.error.detail);
  } catch (e) {
    return reject("exception", e instanceof Error ? e.message : String(e));
  }
}

/** Agreement counts per family. */
export interface FamilyTally {
  judged: number;
  agreed: number;
  falseAccepts: number;
  falseRejects: number;
  /** Disagreements listed in `deviations` with the answer given (counted apart, see deviations.ts). */
  deviations: number;
}

/** How one outcome counts: agreement, a documented deviation, or a false accept / reject. */
export function classify(o: CaseOutcome, deviations: Readonly<Record<string, Deviation>> = {}): "agree" | "deviation" | "falseAccept" | "falseReject" {
  if (o.expected === o.actual) return "agree";
  if (deviations[o.id]?.certgate === o.actual) return "deviation";
  return o.actual === "SUCCESS" ? "falseAccept" : "falseReject";
}

/** Tallies outcomes per family, sorted by family name. */
export function tally(outcomes: readonly CaseOutcome[], deviations: Readonly<Record<string, Deviation>> = {}): Map<string, FamilyTally> {
  const m = new Map<string, FamilyTally>();
  for (const o of outcomes) {
    const t = m.get(o.family) ?? { judged: 0, agreed: 0, falseAccepts: 0, falseRejects: 0, deviations: 0 };
    t.judged++;
    const kind = classify(o, deviations);
    if (kind === "agree") t.agreed++;
    else if (kind === "deviation") t.deviations++;
    else if (kind === "falseAccept") t.falseAccepts++;
    else t.falseRejects++;
    m.set(o.family, t);
  }
  return new Map([...m.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
