/**
 * Certification path validation, RFC 5280 §6.1, for client certificates.
 *
 * Contract: pure — (leaf, presented pool, trust material, now, options) → Result. No KV, no clock, no
 * exceptions for bad input. Runs identically in workerd and Node (WebCrypto only).
 *
 * Shape (after rustls-webpki's verify_cert.rs):
 * 1. Issuer-independent checks of the leaf first (validity, unknown critical extensions, algorithms and key
 *    strength, clientAuth EKU, keyUsage), so a bad leaf is reported as such without any signature work.
 * 2. A self-signed leaf is accepted only when its SHA-256 is registered; never by being an anchor.
 * 3. Depth-first path building: at each level, trust anchors first (and, with `allowPartialChain`, store
 *    intermediates as anchors), then intermediates from the presented chain and the store. A candidate must
 *    carry the issuer's name and, when both sides have key identifiers, matching SKI/AKI; a certificate
 *    already in the path is never used again (cross-signed loops); each link's signature is verified before
 *    going deeper, so only genuine chains reach step 4.
 * 4. Each complete path gets the whole of §6.1: validity of every certificate, CA basic constraints and
 *    keyCertSign, pathLenConstraint, name constraints, certificate policies, unknown critical extensions,
 *    EKU of CAs, key strength, and CRL revocation of every certificate but the anchor.
 * 5. A path that fails step 4 is not the end: other candidates are tried, and if none succeeds the most
 *    specific error is reported (a check failing on a complete path > a bad signature > path too long >
 *    not trusted).
 *
 * Budgets (limits.ts) bound hostile pools: path-building calls, signature checks (shared with CRLs),
 * candidates per level, name-constraint comparisons and policy-tree nodes. Running out is fatal and reported
 * as `budget_exceeded`; a rejected candidate is not.
 *
 * pkijs's CertificateChainValidationEngine is deliberately not on this path: it treats the last certificate
 * as the end entity (given [leaf, intermediate] it validates only the intermediate), builds paths without a
 * budget, never enforces pathLenConstraint, accepts unknown critical extensions, ignores CRL scope and delta
 * CRLs, and re-parses and re-imports every issuer key on every call (2–3× our cold budget). It serves as the
 * reference in the conformance tests, which show each of those gaps.
 */
import { renderName } from "../cert/dn";
import { equalBytes } from "../bytes";
import { KEY_USAGE_BITS, OID, type ParsedCertificate } from "../cert/parse";
import { certError, type CertError, type CertErrorCode } from "../errors";
import {
  BUILD_CALL_BUDGET, MAX_CANDIDATES_PER_LEVEL, MAX_CRL_SIGNER_DEPTH, MAX_PATH_CERTIFICATES, MAX_PRESENTED_CHAIN,
  NAME_CONSTRAINT_COMPARISON_BUDGET, SIGNATURE_BUDGET,
} from "../limits";
import { err, ok, type Result } from "../result";
import { checkSignatureAlgorithm, sha256Hex, verifySignature, type AlgorithmPolicy } from "./crypto";
import { addNameConstraints, checkNameConstraints, ComparisonBudget, EMPTY_NAME_CONSTRAINTS } from "./name-constraints";
import { processPolicies } from "./policy-tree";
import { checkProfile, type CertificateProfile } from "./profile";
import { checkRevocation, type RevocationMode, type SignatureBudget } from "./revocation";
import type { StoredCertificate, TrustMaterial } from "./trust-material";

export type { RevocationMode } from "./revocation";

/** Options of one validation; every field has a default (see DEFAULT_OPTIONS). */
export interface ValidationOptions {
  /** Check notBefore (APIM validate-not-before). */
  readonly checkNotBefore?: boolean;
  /** Check notAfter (APIM validate-not-after). */
  readonly checkNotAfter?: boolean;
  readonly revocation?: RevocationMode;
  /** A leaf with an EKU extension must allow `purpose`; CAs with an EKU must allow `purpose` or anyEKU. */
  readonly requireClientAuthEku?: boolean;
  /**
   * The extended key usage the leaf is checked for: clientAuth (the gateway, always) or serverAuth (only the
   * conformance runner uses it, to judge the server-side cases of outside suites by the same rules).
   */
  readonly purpose?: "clientAuth" | "serverAuth";
  readonly allowSha1?: boolean;
  readonly minRsaBits?: number;
  /** Most certificates in a path, leaf and anchor included. */
  readonly maxPathCertificates?: number;
  /** Accept a store intermediate as the end of the path (Kong's allow_partial_chain, OpenSSL -partial_chain). */
  readonly allowPartialChain?: boolean;
  /** The RFC 5280 profile enforced (pki/profile.ts): "strict" or "compatible" (CERT_PROFILE). */
  readonly profile?: CertificateProfile;
}

export const DEFAULT_OPTIONS: Required<ValidationOptions> = {
  checkNotBefore: true,
  checkNotAfter: true,
  revocation: "soft",
  requireClientAuthEku: true,
  purpose: "clientAuth",
  allowSha1: false,
  minRsaBits: 2048,
  maxPathCertificates: MAX_PATH_CERTIFICATES,
  allowPartialChain: false,
  profile: "strict",
};

const OPTION_NAMES = Object.keys(DEFAULT_OPTIONS) as Array<keyof typeof DEFAULT_OPTIONS>;
const optionKeys = new WeakMap<ValidationOptions, string>();

/**
 * A canonical key of validation options with the defaults filled in: equal keys validate alike (the
 * verifier's cache, the policy runner's reuse of the request's validation). Every option takes part, so a
 * new one cannot be forgotten. Remembered per options object (the deployment's is one object per isolate).
 */
export function validationOptionsKey(options: ValidationOptions = DEFAULT_OPTIONS): string {
  let k = optionKeys.get(options);
  if (k === undefined) {
    const o = { ...DEFAULT_OPTIONS, ...options };
    k = OPTION_NAMES.map((name) => String(o[name])).join("|");
    optionKeys.set(options, k);
  }
  return k;
}

declare const verified: unique symbol;

/** A path that passed validation. Only this module creates one (the brand cannot be forged by a cast-free caller). */
export interface ValidatedPath {
  readonly [verified]: true;
  /** Leaf first, trust anchor last (a registered self-signed leaf is a path of one). */
  readonly certificates: readonly ParsedCertificate[];
  readonly anchor: ParsedCertificate;
  /** Soft-fail notes (revocation status unknown). */
  readonly warnings: readonly string[];
  /** Earliest notAfter in the path: a cached result must not outlive it. */
  readonly notAfter: Date;
  /** Earliest nextUpdate of the CRLs used: a cached result must not outlive it either. */
  readonly crlNextUpdate: Date | null;
}

export interface ValidationInput {
  readonly leaf: ParsedCertificate;
  /** Untrusted certificates that may help build the path (the chain the client sent, leaf excluded). */
  readonly presented?: readonly ParsedCertificate[];
  readonly material: TrustMaterial;
  readonly now: Date;
  readonly options?: ValidationOptions;
}

const PURPOSE_OID = { clientAuth: OID.ekuClientAuth, serverAuth: OID.ekuServerAuth } as const;
const DIGITAL_SIGNATURE = 1 << KEY_USAGE_BITS.indexOf("digitalSignature");
const KEY_AGREEMENT = 1 << KEY_USAGE_BITS.indexOf("keyAgreement");
const SUPPORTED_CURVES = new Set(["1.2.840.10045.3.1.7", "1.3.132.0.34", "1.3.132.0.35"]);

class BudgetExceeded {
  constructor(readonly what: string) {}
}

interface Budgets {
  buildCalls: number;
  signatures: SignatureBudget;
  names: ComparisonBudget;
}

/** Validates the leaf's certification path. */
export async function validatePath(input: ValidationInput): Promise<Result<ValidatedPath, CertError>> {
  const opts = { ...DEFAULT_OPTIONS, ...input.options };
  const policy: AlgorithmPolicy = { allowSha1: opts.allowSha1, minRsaBits: opts.minRsaBits };
  const { leaf, material, now } = input;
  const presented = input.presented ?? [];
  if (presented.length > MAX_PRESENTED_CHAIN) {
    return err(certError("bundle_too_many_certificates", "The presented chain has more certificates than allowed.",
      { count: presented.length, limit: MAX_PRESENTED_CHAIN }));
  }

  const leafError = checkCertificate(leaf, 0, opts, now);
  if (leafError) return err(leafError);
  const budgets: Budgets = {
    buildCalls: BUILD_CALL_BUDGET,
    signatures: { remaining: SIGNATURE_BUDGET },
    names: new ComparisonBudget(NAME_CONSTRAINT_COMPARISON_BUDGET),
  };

  try {
    // Before the usage checks, so a CA certificate presented as a client certificate is reported as what it is.
    if (leaf.selfIssued && (await selfSigned(leaf, policy, budgets, material.certificates.has(leaf)))) {
      const sha256 = await sha256Hex(leaf.der);
      if (!material.registeredSelfSigned.has(sha256)) {
        return err(certError("self_signed_not_registered", "A self-signed client certificate is accepted only when it is registered.",
          { sha256, subject: subjectOf(leaf) }));
      }
      const usage = checkLeafUsage(leaf, opts);
      return usage ? err(usage) : ok(makePath([leaf], [], null));
    }
    const usage = checkLeafUsage(leaf, opts) ?? checkProfile(leaf, "leaf", 0, () => subjectOf(leaf), opts.profile);
    if (usage) return err(usage);
    const builder = new PathBuilder(material, presented, now, opts, policy, budgets);
    const path = await builder.build(leaf, [leaf]);
    if (path) return ok(path);
    return err(builder.bestError ?? certError("certificate_not_trusted",
      "The certificate does not chain to a trusted certificate authority.",
      { issuer: issuerOf(leaf) }));
  } catch (e) {
    if (e instanceof BudgetExceeded) {
      return err(certError("budget_exceeded", `Validation stopped: the ${e.what} budget was exhausted.`, { budget: e.what }));
    }
    throw e;
  }
}

function makePath(certificates: ParsedCertificate[], warnings: string[], crlNextUpdate: Date | null): ValidatedPath {
  let notAfter = certificates[0]!.notAfter;
  for (const c of certificates) if (c.notAfter < notAfter) notAfter = c.notAfter;
  return {
    certificates,
    anchor: certificates[certificates.length - 1]!,
    warnings,
    notAfter,
    crlNextUpdate,
  } as unknown as ValidatedPath;
}

async function selfSigned(cert: ParsedCertificate, policy: AlgorithmPolicy, budgets: Budgets, remember: boolean): Promise<boolean> {
  const aki = cert.extensions.authorityKeyIdentifier;
  const ski = cert.extensions.subjectKeyIdentifier;
  if (aki && ski && !equalBytes(aki, ski)) return false;
  if (--budgets.signatures.remaining < 0) throw new BudgetExceeded("signature");
  return (await verifySignature(cert.signature, cert.publicKey, { ...policy, allowSha1: true }, remember)).ok;
}

/** How specific an error is, to report the best one when every candidate path fails. */
function rank(code: CertErrorCode): number {
  switch (code) {
    case "certificate_not_trusted":
      return 0;
    case "path_too_long":
      return 1;
    case "signature_invalid":
      return 2;
    default:
      return 3;
  }
}

class PathBuilder {
  bestError: CertError | null = null;
  private readonly presentedBySubject = new Map<string, ParsedCertificate[]>();

  constructor(
    private readonly material: TrustMaterial,
    presented: readonly ParsedCertificate[],
    private readonly now: Date,
    private readonly opts: Required<ValidationOptions>,
    private readonly policy: AlgorithmPolicy,
    private readonly budgets: Budgets,
    /** Set when this builder validates a CRL signer: the anchor its path must end at, and how deep it is. */
    private readonly crlSigner: { readonly anchor: ParsedCertificate; readonly depth: number } | null = null,
  ) {
    for (const c of presented) {
      const list = this.presentedBySubject.get(c.subjectKey);
      if (list) list.push(c);
      else this.presentedBySubject.set(c.subjectKey, [c]);
    }
  }

  private record(error: CertError): void {
    if (!this.bestError || rank(error.code) > rank(this.bestError.code)) this.bestError = error;
  }

  /** Extends `path` (leaf … cert) to a trust anchor; returns the first path that passes every check. */
  async build(cert: ParsedCertificate, path: ParsedCertificate[]): Promise<ValidatedPath | null> {
    if (--this.budgets.buildCalls < 0) throw new BudgetExceeded("path-building");
    const anchors: StoredCertificate[] = [...(this.material.anchors.get(cert.issuerKey) ?? [])];
    if (this.opts.allowPartialChain) anchors.push(...(this.material.intermediates.get(cert.issuerKey) ?? []));
    for (const anchor of anchors) {
      if (this.crlSigner && anchor.cert !== this.crlSigner.anchor) continue;
      if (!this.isCandidate(cert, anchor.cert, path)) continue;
      if (path.length + 1 > this.opts.maxPathCertificates) {
        this.record(tooLong(this.opts.maxPathCertificates));
        continue;
      }
      if (!(await this.verifyLink(cert, anchor.cert))) continue;
      const result = await this.checkPath([...path, anchor.cert]);
      if (result.ok) return result.value;
      this.record(result.error);
    }
    const candidates: ParsedCertificate[] = [];
    for (const c of this.presentedBySubject.get(cert.issuerKey) ?? []) candidates.push(c);
    for (const s of this.material.intermediates.get(cert.issuerKey) ?? []) {
      if (!candidates.some((c) => equalBytes(c.der, s.cert.der))) candidates.push(s.cert);
    }
    let considered = 0;
    for (const candidate of candidates) {
      if (!this.isCandidate(cert, candidate, path)) continue;
      if (++considered > MAX_CANDIDATES_PER_LEVEL) throw new BudgetExceeded("issuer-candidate");
      // Room for this intermediate and an anchor above it.
      if (path.length + 2 > this.opts.maxPathCertificates) {
        this.record(tooLong(this.opts.maxPathCertificates));
        continue;
      }
      if (!(await this.verifyLink(cert, candidate))) continue;
      const found = await this.build(candidate, [...path, candidate]);
      if (found) return found;
    }
    return null;
  }

  /** Name chaining (done by the index), SKI/AKI agreement and no repeats (RFC 5280 §4.2.1.1, loops). */
  private isCandidate(cert: ParsedCertificate, issuer: ParsedCertificate, path: readonly ParsedCertificate[]): boolean {
    const aki = cert.extensions.authorityKeyIdentifier;
    const ski = issuer.extensions.subjectKeyIdentifier;
    if (aki && ski && !equalBytes(aki, ski)) return false;
    for (const p of path) {
      if (p === issuer || equalBytes(p.der, issuer.der)) return false;
      if (p.subjectKey === issuer.subjectKey && equalBytes(p.publicKey.spki, issuer.publicKey.spki)) return false;
    }
    return true;
  }

  /** See validateCrlSignerPath. */
  private validateCrlSigner(signer: ParsedCertificate, anchor: ParsedCertificate): Promise<{ readonly until: number } | "budget" | string> {
    return validateCrlSignerPath(signer, anchor, this.material, this.now, this.opts, this.policy, this.budgets, (this.crlSigner?.depth ?? 0) + 1);
  }

  private async verifyLink(cert: ParsedCertificate, issuer: ParsedCertificate): Promise<boolean> {
    if (--this.budgets.signatures.remaining < 0) throw new BudgetExceeded("signature");
    const r = await verifySignature(cert.signature, issuer.publicKey, this.policy, this.material.certificates.has(cert));
    if (!r.ok) {
      this.record({ ...r.error, context: { ...r.error.context, subject: subjectOf(cert), issuer: subjectOf(issuer) } });
      return false;
    }
    return true;
  }

  /** RFC 5280 §6.1 over a complete, signature-verified path (leaf first, anchor last). */
  private async checkPath(full: ParsedCertificate[]): Promise<Result<ValidatedPath, CertError>> {
    const n = full.length - 1; // certificates below the anchor
    const anchor = full[n]!;
    // Validity, critical extensions and keys of every certificate; CA requirements of the intermediates.
    for (let d = 1; d <= n; d++) {
      const cert = full[d]!;
      const e = d === n
        ? checkAnchor(cert, d, this.opts, this.now)
        : checkCertificate(cert, d, this.opts, this.now) ?? checkProfile(cert, "intermediate", d, () => subjectOf(cert), this.opts.profile) ?? checkCa(cert, d, this.opts);
      if (e) return err(e);
    }
    // pathLenConstraint, §6.1.4 (l)(m); the anchor's own constraint applies as in RFC 5937.
    let maxPathLength = anchor.extensions.basicConstraints?.pathLen ?? Number.POSITIVE_INFINITY;
    for (let d = n - 1; d >= 1; d--) {
      const cert = full[d]!;
      if (!cert.selfIssued) {
        if (maxPathLength <= 0) {
          return err(certError("path_length_exceeded", "A CA's pathLenConstraint does not allow this many intermediate CAs.",
            { subject: subjectOf(cert), depth: d }));
        }
        maxPathLength--;
      }
      const pl = cert.extensions.basicConstraints?.pathLen;
      if (pl !== undefined && pl !== null && pl < maxPathLength) maxPathLength = pl;
    }
    // Name constraints, §6.1.3 (b)(c), §6.1.4 (g); self-issued intermediates are exempt.
    let nc = addNameConstraints(EMPTY_NAME_CONSTRAINTS, anchor);
    for (let d = n - 1; d >= 0; d--) {
      const cert = full[d]!;
      if (d === 0 || !cert.selfIssued) {
        const check = checkNameConstraints(nc, cert, this.budgets.names);
        if (!check.ok) {
          if (check.budget) throw new BudgetExceeded("name-constraint");
          return err(certError("name_constraints_violated",
            `The name ${check.name} is ${check.reason === "excluded" ? "excluded by" : "outside"} a CA's name constraints.`,
            { subject: subjectOf(cert), depth: d, name: check.name }));
        }
      }
      if (d > 0) nc = addNameConstraints(nc, cert);
    }
    // Certificate policies, §6.1.3 (d)–(f), §6.1.4, §6.1.5.
    const policies = processPolicies(full.slice(0, n).reverse());
    if (!policies.ok) {
      if (policies.reason === "budget") throw new BudgetExceeded("policy-tree");
      return err(certError("policy_violated", policies.reason === "any_policy_mapped"
        ? "A CA maps anyPolicy, which RFC 5280 forbids."
        : "No certificate policy is valid for the whole path while a CA requires an explicit policy.",
        { depth: n - policies.depth }));
    }
    // Revocation of every certificate but the anchor, leaf first.
    const warnings: string[] = [];
    let crlNextUpdate: Date | null = null;
    for (let d = 0; d < n; d++) {
      const r = await checkRevocation(full[d]!, full[d + 1]!, this.material, this.now, this.opts.revocation, this.policy,
        this.budgets.signatures, { anchor, validateSigner: (signer) => this.validateCrlSigner(signer, anchor) });
      if (!r.ok) {
        if (r.error.code === "budget_exceeded") throw new BudgetExceeded("signature");
        return err({ ...r.error, context: { ...r.error.context, subject: subjectOf(full[d]!), depth: d } });
      }
      if (r.value.warning) warnings.push(r.value.warning);
      if (r.value.nextUpdate && (!crlNextUpdate || r.value.nextUpdate < crlNextUpdate)) crlNextUpdate = r.value.nextUpdate;
    }
    return ok(makePath(full, warnings, crlNextUpdate));
  }
}

/**
 * Validates a CRL signer that is not on the path (RFC 5280 §6.3.3 (f)): its own checks as a certificate, then a
 * path to `anchor` built with the same budgets, with revocation — so a revoked CRL-signing certificate decides
 * nothing. Nesting is bounded by MAX_CRL_SIGNER_DEPTH. A success is remembered per store version, anchor and
 * signer until the earliest moment it could change (a notAfter or a CRL's nextUpdate on its path).
 */
async function validateCrlSignerPath(
  this: void, signer: ParsedCertificate, anchor: ParsedCertificate, material: TrustMaterial, now: Date,
  opts: Required<ValidationOptions>, policy: AlgorithmPolicy, budgets: Budgets, depth: number,
): Promise<{ readonly until: number } | "budget" | string> {
  const memo = signerMemo(material, anchor);
  const optionsKey = validationOptionsKey(opts);
  const hit = memo.get(signer);
  if (hit && hit.optionsKey === optionsKey && now.getTime() >= hit.from && now.getTime() <= hit.until) return { until: hit.until };
  if (depth > MAX_CRL_SIGNER_DEPTH) return "CRL signers nest deeper than certgate follows";
  // The signer's path ends where the validated path ended (a store intermediate too, with allowPartialChain).
  const signerOpts: Required<ValidationOptions> = { ...opts, requireClientAuthEku: false };
  const own = checkCertificate(signer, 0, signerOpts, now) ?? checkProfile(signer, "crl-signer", 0, () => subjectOf(signer), signerOpts.profile);
  if (own) return own.code;
  const builder = new PathBuilder(material, [], now, signerOpts, policy, budgets, { anchor, depth });
  try {
    const path = await builder.build(signer, [signer]);
    if (!path) return builder.bestError?.code ?? "certificate_not_trusted";
    const until = Math.min(path.notAfter.getTime(), path.crlNextUpdate?.getTime() ?? Number.POSITIVE_INFINITY);
    memo.set(signer, { from: now.getTime(), until, optionsKey });
    return { until };
  } catch (e) {
    if (e instanceof BudgetExceeded) return "budget";
    throw e;
  }
}

/** A validated CRL signer: for the options it was validated with, from and until when (ms). */
interface SignerMemo {
  readonly from: number;
  readonly until: number;
  readonly optionsKey: string;
}

const signerMemos = new WeakMap<TrustMaterial, WeakMap<ParsedCertificate, WeakMap<ParsedCertificate, SignerMemo>>>();

function signerMemo(material: TrustMaterial, anchor: ParsedCertificate): WeakMap<ParsedCertificate, SignerMemo> {
  let byAnchor = signerMemos.get(material);
  if (!byAnchor) signerMemos.set(material, (byAnchor = new WeakMap()));
  let memo = byAnchor.get(anchor);
  if (!memo) byAnchor.set(anchor, (memo = new WeakMap()));
  return memo;
}

function tooLong(max: number): CertError {
  return certError("path_too_long", `No path of at most ${max} certificates reaches a trusted certificate authority.`, { limit: max });
}

function subjectOf(cert: ParsedCertificate): string {
  try {
    return renderName(cert.subject).rfc4514;
  } catch {
    return "(unrenderable name)";
  }
}

function issuerOf(cert: ParsedCertificate): string {
  try {
    return renderName(cert.issuer).rfc4514;
  } catch {
    return "(unrenderable name)";
  }
}

/** Validity period, per the options (RFC 5280 §6.1.3 (a)(2)). */
function checkValidity(cert: ParsedCertificate, depth: number, opts: Required<ValidationOptions>, now: Date): CertError | null {
  const t = now.getTime();
  if (opts.checkNotAfter && t > cert.notAfter.getTime()) {
    return certError("certificate_expired", depth === 0 ? "The client certificate has expired." : "A certificate in the chain has expired.",
      { notAfter: cert.notAfter.toISOString(), time: now.toISOString(), depth, subject: subjectOf(cert) });
  }
  if (opts.checkNotBefore && t < cert.notBefore.getTime()) {
    return certError("certificate_not_yet_valid", depth === 0 ? "The client certificate is not valid yet." : "A certificate in the chain is not valid yet.",
      { notBefore: cert.notBefore.toISOString(), time: now.toISOString(), depth, subject: subjectOf(cert) });
  }
  return null;
}

/** Key algorithm and strength (algorithm policy). */
function checkKey(cert: ParsedCertificate, depth: number, opts: Required<ValidationOptions>): CertError | null {
  const key = cert.publicKey;
  switch (key.algorithm) {
    case "RSA":
      if (key.bits < opts.minRsaBits) {
        return certError("weak_key", `An RSA key of ${key.bits} bits is below the minimum of ${opts.minRsaBits}.`,
          { bits: key.bits, minimum: opts.minRsaBits, depth, subject: subjectOf(cert) });
      }
      // A modulus that is not a whole number of octets is no key size any CA issues (webpki rejects it too).
      if (key.bits % 8 !== 0) {
        return certError("weak_key", `An RSA key of ${key.bits} bits is not a whole number of octets.`,
          { bits: key.bits, depth, subject: subjectOf(cert) });
      }
      return null;
    case "EC":
      if (!key.curve || !SUPPORTED_CURVES.has(key.curve)) {
        return certError("unsupported_algorithm", "The elliptic curve of a key is not supported (P-256, P-384, P-521 are).",
          { curve: key.curve, depth, subject: subjectOf(cert) });
      }
      return null;
    case "Ed25519":
      return null;
    default:
      return certError("unsupported_algorithm", `The public key algorithm ${key.algorithm} is not supported.`,
        { algorithm: key.algorithm, depth, subject: subjectOf(cert) });
  }
}

/** Issuer-independent checks of a non-anchor certificate. */
function checkCertificate(cert: ParsedCertificate, depth: number, opts: Required<ValidationOptions>, now: Date): CertError | null {
  const validity = checkValidity(cert, depth, opts, now);
  if (validity) return validity;
  if (cert.extensions.unknownCritical.length > 0) {
    return certError("unknown_critical_extension", "A certificate has a critical extension certgate does not process.",
      { extensions: cert.extensions.unknownCritical, depth, subject: subjectOf(cert) });
  }
  const alg = checkSignatureAlgorithm(cert.signature, { allowSha1: opts.allowSha1, minRsaBits: opts.minRsaBits });
  if (!alg.ok) return { ...alg.error, context: { ...alg.error.context, depth, subject: subjectOf(cert) } };
  return checkKey(cert, depth, opts);
}

/** The trust anchor: its validity, key and the profile rules a root must not contradict (pki/profile.ts). */
function checkAnchor(cert: ParsedCertificate, depth: number, opts: Required<ValidationOptions>, now: Date): CertError | null {
  return checkValidity(cert, depth, opts, now) ?? checkKey(cert, depth, opts) ?? checkProfile(cert, "anchor", depth, () => subjectOf(cert), opts.profile);
}

/**
 * What an intermediate needs to be used for client auth; being a CA at all (§6.1.4 (k)(n): basicConstraints,
 * keyCertSign) is a profile rule (pki/profile.ts), checked before this.
 */
function checkCa(cert: ParsedCertificate, depth: number, opts: Required<ValidationOptions>): CertError | null {
  const eku = cert.extensions.extKeyUsage;
  if (opts.requireClientAuthEku && eku && !eku.includes(PURPOSE_OID[opts.purpose]) && !eku.includes(OID.ekuAny)) {
    return certError("eku_client_auth_missing", "An issuing CA's extendedKeyUsage does not allow client authentication.",
      { depth, subject: subjectOf(cert) });
  }
  return null;
}

/** The leaf must be usable for TLS client authentication (RFC 5280 §4.2.1.12, §4.2.1.3; as OpenSSL's sslclient purpose). */
function checkLeafUsage(leaf: ParsedCertificate, opts: Required<ValidationOptions>): CertError | null {
  const eku = leaf.extensions.extKeyUsage;
  if (opts.requireClientAuthEku && eku && !eku.includes(PURPOSE_OID[opts.purpose])) {
    return certError("eku_client_auth_missing", `The client certificate's extendedKeyUsage does not include ${opts.purpose}.`,
      { extendedKeyUsage: [...eku], subject: subjectOf(leaf) });
  }
  const ku = leaf.extensions.keyUsage;
  if (ku !== undefined && (ku & (DIGITAL_SIGNATURE | KEY_AGREEMENT)) === 0) {
    return certError("key_usage_invalid", "The client certificate's keyUsage allows neither digitalSignature nor keyAgreement.",
      { subject: subjectOf(leaf) });
  }
  return null;
}
