/**
 * CRL-based revocation checking, RFC 5280 §6.3 (and §5 for the CRL format).
 *
 * Contract: no I/O, no clock (`now` is an input); CRLs come prepared in TrustMaterial. Returns `Result`;
 * signature checks draw on the validation's shared budget and are cached per (CRL, signer key).
 *
 * For each certificate in the path except the anchor:
 * - Candidate complete CRLs: those issued by the certificate's issuer (direct), and indirect CRLs
 *   (issuingDistributionPoint.indirectCRL) whose issuer the certificate's CRL distribution point names in
 *   cRLIssuer (§4.2.1.13).
 * - A CRL is usable only if: its signature verifies with a signer that has cRLSign when keyUsage is present
 *   (the certificate's issuer, or a same-named / indirect CRL issuer certificate from the operator's store;
 *   AKI must match the signer's SKI when both are present); it has no unknown critical CRL or entry extension
 *   (§5.2, §5.3); it is in scope (§6.3.3 (b): onlyContainsUserCerts / onlyContainsCACerts /
 *   onlyContainsAttributeCerts, and a distribution-point name in the IDP must match one in the certificate's
 *   CRL DP or cRLIssuer; a certificate without CRL DP is outside a named partition); and thisUpdate ≤ now.
 * - Coverage: a usable CRL with now ≤ nextUpdate (or no nextUpdate) adds its reasons
 *   (IDP onlySomeReasons ∩ the DP's reasons) to the reasons mask; the certificate is covered when the mask
 *   holds all reasons (§6.3.3 (i)).
 * - Revoked: an entry for the serial (for indirect CRLs, with the certificateIssuer in force for that
 *   entry, §5.3.3) in any usable CRL — stale ones included: a revocation never expires. A delta CRL (§5.2.4)
 *   that is usable, fresh, of the same scope, with BaseCRLNumber ≤ the complete CRL's number, adds its
 *   entries; its removeFromCRL entry lifts a certificateHold of the base (§5.3.1).
 * - Modes: `off` skips all of this; `soft` passes an uncovered certificate with a warning; `strict` denies
 *   it with `revocation_unknown`. A revoked certificate is denied in both. An uncovered certificate is denied in
 *   `soft` mode too when a CRL in its scope is there but defective — its signature or signer does not hold up, it
 *   has an unknown critical extension, or it has no (non-critical) cRLNumber (§5.2.3): the issuer publishes
 *   revocations, and certgate cannot tell what they say. Soft mode is for issuers whose CRLs are absent.
 */
import { equalBytes } from "../bytes";
import { KEY_USAGE_BITS, OID, REVOCATION_REASONS, type DistributionPoint, type GeneralName, type ParsedCertificate, type ParsedCrl } from "../cert/parse";
import { appendRdn } from "../cert/der";
import { nameKey } from "../cert/dn";
import { certError, type CertError } from "../errors";
import { err, ok, type Result } from "../result";
import { verifySignature, type AlgorithmPolicy } from "./crypto";
import type { TrustMaterial } from "./trust-material";

export type RevocationMode = "off" | "soft" | "strict";

/** ReasonFlags bits 1..8 (RFC 5280 §4.2.1.13): all reasons. Bit 0 (unused) is not a reason. */
const ALL_REASONS = 0b1_1111_1110;
const CRL_SIGN = 1 << KEY_USAGE_BITS.indexOf("cRLSign");
const REMOVE_FROM_CRL = 8;
const CERTIFICATE_HOLD = 6;

export interface SignatureBudget {
  remaining: number;
}

export interface RevocationOutcome {
  /** Set when the certificate was not fully covered in `soft` mode. */
  readonly warning: string | null;
  /**
   * The earliest moment a CRL in scope may change this answer: the nextUpdate of the CRLs that provided coverage,
   * and the thisUpdate of a CRL not yet in force (it may revoke once it is). Bounds how long a result is cached.
   */
  readonly nextUpdate: Date | null;
}

export type RevocationResult = Result<RevocationOutcome, CertError>;

/** What revocation checking needs from the path it is part of. */
export interface CrlSignerContext {
  /** The trust anchor of the path being validated: a CRL issuer's path must end at it (§6.3.3 (f)). */
  readonly anchor: ParsedCertificate;
  /**
   * Validates a CRL signer that is neither the certificate's issuer nor the anchor: its own path to `anchor`,
   * with revocation, under the same budgets: until when it holds (ms), "budget" (a budget ran out: fatal), or why
   * it failed.
   */
  readonly validateSigner: (signer: ParsedCertificate) => Promise<{ readonly until: number } | "budget" | string>;
}

/**
 * Checks `cert` (issued by `issuer`, both in the validated path) against the CRLs in `material`.
 * `budget` is shared with path building; running out is `budget_exceeded`.
 */
export async function checkRevocation(
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  material: TrustMaterial,
  now: Date,
  mode: RevocationMode,
  policy: AlgorithmPolicy,
  budget: SignatureBudget,
  context: CrlSignerContext,
): Promise<RevocationResult> {
  if (mode === "off") return ok({ warning: null, nextUpdate: null });
  const isCa = cert.extensions.basicConstraints?.ca === true;
  const dps = cert.extensions.crlDistributionPoints ?? null;

  // Candidate CRLs: direct, plus indirect ones named by the certificate's cRLIssuer.
  const candidates: Array<{ crl: ParsedCrl; indirect: boolean }> = [];
  for (const crl of material.crls.get(cert.issuerKey) ?? []) candidates.push({ crl, indirect: false });
  for (const dp of dps ?? []) {
    for (const name of dp.crlIssuer ?? []) {
      if (name.type !== "dirName" || name.key === cert.issuerKey) continue;
      for (const crl of material.crls.get(name.key) ?? []) {
        if (crl.issuingDistributionPoint?.indirectCrl) candidates.push({ crl, indirect: true });
      }
    }
  }

  let reasons = 0;
  let nextUpdate: Date | null = null;
  let revoked: { date: Date; reason: number | null } | null = null;
  const notes: string[] = [];
  // A genuine CRL from the issuer that breaks the CRL profile: the issuer publishes revocations, but not in a
  // form certgate can rely on. Unlike "no CRL", this fails closed in soft mode too.
  let defective: string | null = null;

  // A CRL issued for a moment still to come is not used yet, but the answer must be reconsidered when it comes.
  for (const { crl } of candidates) {
    if (crl.thisUpdate.getTime() > now.getTime() && (nextUpdate === null || crl.thisUpdate < nextUpdate)) nextUpdate = crl.thisUpdate;
  }

  const completes = candidates.filter((c) => c.crl.deltaBase === null);
  const deltas = candidates.filter((c) => c.crl.deltaBase !== null);
  for (const { crl, indirect } of completes) {
    const usable = await usableCrl(crl, cert, issuer, isCa, dps, indirect, material, now, policy, budget, context);
    if (usable.budget) return err(budgetError());
    if (!usable.ok) {
      notes.push(usable.why);
      if (usable.defective) defective = usable.why;
      continue;
    }
    let entry = findEntry(crl, cert);
    const fresh = crl.nextUpdate === null || now.getTime() <= crl.nextUpdate.getTime();
    // §5.2.3: a conforming v2 CRL has a non-critical cRLNumber. One without (or with a critical one) still revokes
    // what it lists — its signature is genuine — but says nothing about what it does not list. A v1 CRL (no
    // extensions at all: what `openssl ca -gencrl` writes without a crlnumber file) covers as OpenSSL lets it.
    const numbered = crl.version === 1 || (crl.crlNumber !== null && !crl.critical.includes(OID.crlNumber));
    // Delta CRLs of this base (§5.2.4): same issuer and scope, a newer number, a base number not after ours. What a
    // usable delta lists is revoked whether or not it is fresh (a revocation never expires); only a fresh delta
    // of a fresh, numbered base may lift a certificateHold (removeFromCRL).
    for (const d of deltas) {
      if (d.crl.issuerKey !== crl.issuerKey || !sameScope(d.crl, crl)) continue;
      if (crl.crlNumber !== null && d.crl.deltaBase! > crl.crlNumber) continue;
      if (crl.crlNumber !== null && d.crl.crlNumber !== null && d.crl.crlNumber <= crl.crlNumber) continue;
      const du = await usableCrl(d.crl, cert, issuer, isCa, dps, d.indirect, material, now, policy, budget, context);
      if (du.budget) return err(budgetError());
      if (!du.ok) continue;
      const de = findEntry(d.crl, cert);
      if (!de) continue;
      const deltaFresh = d.crl.nextUpdate === null || now.getTime() <= d.crl.nextUpdate.getTime();
      if (de.reason !== REMOVE_FROM_CRL) entry = de;
      else if (fresh && deltaFresh && numbered && entry?.reason === CERTIFICATE_HOLD) entry = null;
    }
    if (!numbered) {
      defective = `a CRL ${crl.crlNumber === null ? "has no cRLNumber" : "marks its cRLNumber critical"} (RFC 5280 §5.2.3)`;
      notes.push(defective);
    } else if (fresh) {
      reasons |= usable.reasons;
      if (crl.nextUpdate && (nextUpdate === null || crl.nextUpdate < nextUpdate)) nextUpdate = crl.nextUpdate;
      // The CRL counts only while its signer's own path does (a separate CRL signer's notAfter, its CRLs).
      if (usable.until !== undefined && (nextUpdate === null || usable.until < nextUpdate.getTime())) nextUpdate = new Date(usable.until);
    } else {
      notes.push(`a CRL is past its nextUpdate (${crl.nextUpdate!.toISOString()})`);
    }
    if (entry && entry.reason !== REMOVE_FROM_CRL && (!revoked || entry.revocationDate < revoked.date)) {
      revoked = { date: entry.revocationDate, reason: entry.reason };
    }
  }

  if (revoked) {
    const reasonName = revoked.reason !== null ? REVOCATION_REASONS[revoked.reason] || "unspecified" : "unspecified";
    return err(certError("certificate_revoked", "The certificate has been revoked.", {
      serialNumber: cert.serialNumber,
      revocationDate: revoked.date.toISOString(),
      reason: reasonName,
    }));
  }
  if ((reasons & ALL_REASONS) !== ALL_REASONS) {
    const why = notes.length > 0 ? notes.join("; ") : "no CRL from its issuer is available";
    if (mode === "strict" || defective !== null) {
      return err(certError("revocation_unknown", `The revocation status could not be determined: ${why}.`,
        { serialNumber: cert.serialNumber }));
    }
    return ok({ warning: `revocation status unknown for serial ${cert.serialNumber}: ${why}`, nextUpdate });
  }
  return ok({ warning: null, nextUpdate });
}

function budgetError(): CertError {
  return certError("budget_exceeded", "Validation stopped: too many signature checks.");
}

/**
 * Whether a CRL may be used; when not, `defective` says it is a CRL in scope that cannot be trusted (its
 * signature, its signer, an extension it marks critical), as opposed to one that is simply not for this
 * certificate or not in force yet.
 */
type Usable =
  | { ok: true; reasons: number; budget?: false; /** when a separate signer's path stops holding (ms) */ until?: number }
  | { ok: false; why: string; budget: boolean; defective?: boolean };

async function usableCrl(
  crl: ParsedCrl,
  cert: ParsedCertificate,
  issuer: ParsedCertificate,
  isCa: boolean,
  dps: readonly DistributionPoint[] | null,
  indirect: boolean,
  material: TrustMaterial,
  now: Date,
  policy: AlgorithmPolicy,
  budget: SignatureBudget,
  context: CrlSignerContext,
): Promise<Usable> {
  if (crl.unknownCritical.length > 0 || crl.entries.some((e) => e.unknownCritical.length > 0)) {
    return { ok: false, why: "a CRL has an unknown critical extension", budget: false, defective: true };
  }
  if (crl.thisUpdate.getTime() > now.getTime()) return { ok: false, why: "a CRL is not yet valid (thisUpdate in the future)", budget: false };
  const idp = crl.issuingDistributionPoint;
  if (idp) {
    if (idp.onlyContainsAttributeCerts) return { ok: false, why: "a CRL covers only attribute certificates", budget: false };
    if (idp.onlyContainsUserCerts && isCa) return { ok: false, why: "a CRL covers only end-entity certificates", budget: false };
    if (idp.onlyContainsCACerts && !isCa) return { ok: false, why: "a CRL covers only CA certificates", budget: false };
    if (indirect && !idp.indirectCrl) return { ok: false, why: "an indirect CRL is not marked indirectCRL", budget: false };
  }
  // Which of the certificate's distribution points this CRL serves (§6.3.3 (b)(1), (b)(2)(i)): a point naming a
  // cRLIssuer is served only by that issuer's indirect CRL; any other point only by a direct CRL. When the CRL's
  // IDP names its point, one of its names must match one of the point's (its full name, its name relative to
  // the CRL issuer made full, or — for a point without a name — its cRLIssuer).
  let dp: DistributionPoint | null = null;
  if (dps) {
    const servedBy = (d: DistributionPoint) =>
      d.crlIssuer ? indirect && d.crlIssuer.some((n) => n.type === "dirName" && n.key === crl.issuerKey) : !indirect;
    const idpNames = idp ? pointNames(idp, crl.issuer) : null;
    dp = dps.find((d) => {
      if (!servedBy(d)) return false;
      if (!idpNames) return true;
      const names = pointNames(d, d.crlIssuer?.find((n) => n.type === "dirName")?.name ?? cert.issuer) ?? d.crlIssuer;
      return names !== null && intersects(names, idpNames);
    }) ?? null;
    if (!dp) return { ok: false, why: "a CRL does not serve any of the certificate's CRL distribution points", budget: false };
  } else if (idp && (idp.fullName || idp.relativeName)) {
    return { ok: false, why: "a partitioned CRL does not cover a certificate without CRL distribution points", budget: false };
  }
  const reasons = (idp?.onlySomeReasons ?? ALL_REASONS) & (dp?.reasons ?? ALL_REASONS);

  // The CRL's signer (§6.3.3 (f)): the certificate's own issuer from the validated path; the path's trust
  // anchor; or another certificate of the CRL issuer's name from the store (a separate CRL-signing key, an
  // indirect CRL issuer), which must itself validate to the same trust anchor and not be revoked.
  const signers: ParsedCertificate[] = [];
  if (!indirect && crl.issuerKey === issuer.subjectKey) signers.push(issuer);
  for (const bucket of [material.anchors.get(crl.issuerKey), material.intermediates.get(crl.issuerKey)]) {
    for (const s of bucket ?? []) if (s.cert !== issuer) signers.push(s.cert);
  }
  let why = "no certificate of the CRL issuer is known";
  for (const signer of signers) {
    const ski = signer.extensions.subjectKeyIdentifier;
    if (crl.authorityKeyIdentifier && ski && !equalBytes(crl.authorityKeyIdentifier, ski)) continue;
    if (signer.extensions.keyUsage !== undefined && (signer.extensions.keyUsage & CRL_SIGN) === 0) {
      why = "a CRL's signature does not verify with an issuer allowed to sign CRLs (cRLSign)";
      continue;
    }
    const verified = await verifyCrlSignature(crl, signer, policy, budget);
    if (verified === "budget") return { ok: false, why: "budget", budget: true };
    if (!verified) {
      why = "a CRL's signature does not verify with an issuer allowed to sign CRLs (cRLSign)";
      continue;
    }
    if (signer === issuer || signer === context.anchor) return { ok: true, reasons };
    const trusted = await context.validateSigner(signer);
    if (trusted === "budget") return { ok: false, why: "budget", budget: true };
    if (typeof trusted === "object") return { ok: true, reasons, until: trusted.until };
    why = `the certificate that signed a CRL does not validate to the same trust anchor (${trusted})`;
  }
  return { ok: false, why, budget: false, defective: true };
}

/**
 * The names of a distribution point (or of an IDP): its fullName, or its name relative to the CRL issuer made
 * full by appending the RDN to `issuerName` (§4.2.1.13); null when it has neither.
 */
function pointNames(point: { readonly fullName: readonly GeneralName[] | null; readonly relativeName: Uint8Array | null }, issuerName: Uint8Array): readonly GeneralName[] | null {
  if (point.fullName) return point.fullName;
  if (!point.relativeName) return null;
  const name = appendRdn(issuerName, point.relativeName);
  return [{ type: "dirName", key: nameKey(name), name }];
}

const crlSignatureCache = new WeakMap<ParsedCrl, WeakMap<ParsedCertificate, boolean>>();

async function verifyCrlSignature(crl: ParsedCrl, signer: ParsedCertificate, policy: AlgorithmPolicy, budget: SignatureBudget): Promise<boolean | "budget"> {
  let bySigner = crlSignatureCache.get(crl);
  const cached = bySigner?.get(signer);
  if (cached !== undefined) return cached;
  if (--budget.remaining < 0) return "budget";
  const result = (await verifySignature(crl.signature, signer.publicKey, policy, true)).ok;
  if (!bySigner) crlSignatureCache.set(crl, (bySigner = new WeakMap()));
  bySigner.set(signer, result);
  return result;
}

function intersects(a: readonly GeneralName[], b: readonly GeneralName[]): boolean {
  return a.some((x) => b.some((y) => sameName(x, y)));
}

function sameName(a: GeneralName, b: GeneralName): boolean {
  if (a.type !== b.type) return false;
  switch (a.type) {
    case "dns":
    case "email":
      return a.value.toLowerCase() === (b as typeof a).value.toLowerCase();
    case "uri":
      return a.value === (b as typeof a).value;
    case "ip":
      return equalBytes(a.bytes, (b as typeof a).bytes);
    case "dirName":
      return a.key === (b as typeof a).key;
    case "other":
      return false;
  }
}

function sameScope(delta: ParsedCrl, base: ParsedCrl): boolean {
  const a = delta.issuingDistributionPoint;
  const b = base.issuingDistributionPoint;
  if (!a || !b) return a === b;
  return a.onlyContainsUserCerts === b.onlyContainsUserCerts && a.onlyContainsCACerts === b.onlyContainsCACerts &&
    a.indirectCrl === b.indirectCrl && a.onlySomeReasons === b.onlySomeReasons &&
    (a.fullName === null) === (b.fullName === null) && (a.fullName === null || intersects(a.fullName, b.fullName!));
}

type Entry = ParsedCrl["entries"][number];
const entryIndex = new WeakMap<ParsedCrl, Map<string, Entry>>();

/** The entry for `cert` in `crl`, honouring certificateIssuer carried forward on indirect CRLs (§5.3.3). */
function findEntry(crl: ParsedCrl, cert: ParsedCertificate): Entry | null {
  let index = entryIndex.get(crl);
  if (!index) {
    index = new Map();
    let current = crl.issuerKey;
    const indirect = crl.issuingDistributionPoint?.indirectCrl === true;
    for (const e of crl.entries) {
      if (indirect && e.certificateIssuer && e.certificateIssuer.length > 0) current = e.certificateIssuer[0]!;
      const key = `${indirect ? current : crl.issuerKey}|${e.serialNumber}`;
      if (!index.has(key)) index.set(key, e);
    }
    entryIndex.set(crl, index);
  }
  return index.get(`${cert.issuerKey}|${cert.serialNumber}`) ?? null;
}

