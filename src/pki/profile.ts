/**
 * The RFC 5280 certificate profile: the MUSTs a conforming certificate meets, checked for each certificate of a
 * path by its role (leaf, intermediate, trust anchor). This is where certgate is as strict as
 * `openssl verify -x509_strict` (OpenSSL's check_extensions under X509_V_FLAG_X509_STRICT) and stricter where
 * the x509-limbo suite (C2SP/x509-limbo, `rfc5280::*` cases) shows a MUST that OpenSSL does not enforce.
 *
 * Contract: pure and synchronous; `checkProfile(cert, role)` returns the first violation as a CertError with one
 * of the engine's stable codes, or null. Every rule, its code and the deliberate deviations are listed in
 * docs/validation.md ("Profile"). What decides the role:
 * - "leaf": the client certificate when it is validated through a path (a registered self-signed leaf is
 *   pinned by its hash and skips the CA-in-leaf rule, since self-signed tools set cA=TRUE by default);
 * - "intermediate": every certificate between leaf and anchor;
 * - "anchor": the trust anchor ending the path. Its extensions are the operator's choice in RFC 5280 §6.1.1,
 *   but a root that contradicts itself (cA without keyCertSign, a critical AKI, an unknown critical extension)
 *   is a mistake worth failing on, as OpenSSL's strict mode does. A v1 root (no extensions at all) is
 *   accepted as a CA, as by OpenSSL.
 */
import { equalBytes } from "../bytes";
import { KEY_USAGE_BITS, OID, type GeneralName, type ParsedCertificate } from "../cert/parse";
import { certError, type CertError, type CertErrorCode } from "../errors";

/** "crl-signer": a certificate that signs CRLs and is not on the path (RFC 5280 §6.3.3 (f)); cRLSign is checked by revocation. */
export type CertificateRole = "leaf" | "intermediate" | "anchor" | "crl-signer";

/**
 * "strict" (the default): every rule below. "compatible": the rules common PKI tools break and that do not change
 * what a certificate may do are relaxed (COMPATIBLE_RELAXES), for existing PKIs that cannot be reissued.
 */
export type CertificateProfile = "strict" | "compatible";

/** What CERT_PROFILE=compatible does not enforce (docs/validation.md lists the tools that need each). */
export const COMPATIBLE_RELAXES = [
  "serial number sign and length",
  "authorityKeyIdentifier presence",
  "subjectKeyIdentifier presence in CA certificates",
  "basicConstraints marked critical in CA certificates",
  "keyUsage presence in intermediate CAs",
  "underscores in DNS names",
] as const;

const KEY_CERT_SIGN = 1 << KEY_USAGE_BITS.indexOf("keyCertSign");

/** RFC 5280 §4.1.2.2: serialNumber is positive and at most 20 octets (a leading 00 that keeps it positive aside). */
const MAX_SERIAL_OCTETS = 20;

/**
 * Returns the first profile violation of `cert` in `role`, or null. `subject` renders the subject for the error's
 * context; it is called only on a violation (rendering a name costs more than every check here).
 */
export function checkProfile(cert: ParsedCertificate, role: CertificateRole, depth: number, subject: () => string, profile: CertificateProfile = "strict"): CertError | null {
  // "compatible" (CERT_PROFILE): the rules that only say how a certificate should have been written, and that
  // common PKI tools break, are not enforced — see COMPATIBLE_RELAXES. Everything that changes what a certificate
  // may do (CA or not, name constraints, key usage contradictions, names) stays.
  const strict = profile === "strict";
  const fail = (code: CertErrorCode, detail: string, extra: Record<string, string> = {}) =>
    certError(code, detail, { depth, subject: subject(), ...extra });
  const ext = cert.extensions;
  const critical = new Set(ext.critical);
  const isCa = ext.basicConstraints?.ca === true;

  // §4.1.2.2 serialNumber (anchors are the operator's choice).
  if (role !== "anchor" && strict) {
    const serial = cert.serialNumber;
    const octets = serial.length / 2;
    const negative = Number.parseInt(serial.slice(0, 2), 16) >= 0x80;
    const zero = /^0+$/.test(serial);
    const tooLong = octets > MAX_SERIAL_OCTETS + (serial.startsWith("00") ? 1 : 0);
    if (negative || zero || tooLong) {
      return fail("certificate_malformed",
        `A certificate's serial number is ${negative ? "negative" : zero ? "zero" : "longer than 20 octets"} (RFC 5280 §4.1.2.2).`,
        { serialNumber: serial });
    }
  }
  // Unknown critical extensions (§4.2) — checked for leaf and intermediates by the validator already.
  if (role === "anchor" && ext.unknownCritical.length > 0) {
    return certError("unknown_critical_extension", "The trust anchor has a critical extension certgate does not process.",
      { extensions: ext.unknownCritical, depth, subject: subject() });
  }
  // §4.1.2.6: a certificate with an empty subject must carry a (critical) subjectAltName, which a v1/v2 certificate
  // cannot; the subject's emailAddress attributes are mailboxes (name constraints apply to them, §4.2.1.10).
  if (cert.subjectEmpty && cert.version < 3) return fail("certificate_malformed", "A certificate without extensions has an empty subject (RFC 5280 §4.1.2.6).");
  for (const email of cert.subjectEmails) {
    const problem = mailboxProblem(email);
    if (problem) return fail("certificate_malformed", `The subject's emailAddress is not valid: ${problem}.`);
  }
  if (cert.version < 3) {
    // v1/v2 have no extensions (cert/parse rejects extensions in them): no basicConstraints, so not a CA — except
    // a v1 trust anchor, which OpenSSL and RFC 5280 §6.1.1 let the operator trust as it is.
    return role === "intermediate"
      ? fail("basic_constraints_violated", "An issuing certificate is not a CA (basicConstraints cA is not set).")
      : null;
  }
  // §4.2.1.9 basicConstraints and §4.2.1.3 keyUsage.
  const bc = ext.basicConstraints;
  const ku = ext.keyUsage;
  if (role === "crl-signer") {
    // A dedicated CRL signer may be a CA (a second key of its issuer) or not; either way only cRLSign matters.
  } else if (role === "leaf") {
    if (isCa) return fail("basic_constraints_violated", "The client certificate is a CA certificate (basicConstraints cA is set).");
    if (bc?.pathLen !== null && bc?.pathLen !== undefined) {
      return fail("basic_constraints_violated", "The client certificate has a pathLenConstraint, which only CA certificates may carry (RFC 5280 §4.2.1.9).");
    }
    if (ku !== undefined && (ku & KEY_CERT_SIGN) !== 0) {
      return fail("key_usage_invalid", "The client certificate's keyUsage allows keyCertSign without being a CA (RFC 5280 §4.2.1.3).");
    }
  } else {
    if (!bc) return fail("basic_constraints_violated", "A CA certificate has no basicConstraints (RFC 5280 §4.2.1.9).");
    if (!bc.critical && strict) return fail("basic_constraints_violated", "A CA certificate's basicConstraints is not marked critical (RFC 5280 §4.2.1.9).");
    if (!bc.ca) return fail("basic_constraints_violated", "An issuing certificate is not a CA (basicConstraints cA is not set).");
    // A root without keyUsage may sign anything (RFC 5280 §6.3.3 (f) reads an absent keyUsage as no restriction).
    if (ku === undefined && role === "intermediate" && strict) return fail("key_usage_invalid", "A CA certificate has no keyUsage (RFC 5280 §4.2.1.3).");
    if (ku !== undefined && (ku & KEY_CERT_SIGN) === 0) return fail("key_usage_invalid", "A CA certificate's keyUsage does not include keyCertSign.");
  }


  // §4.2.1.1 authorityKeyIdentifier: non-critical; keyIdentifier present; issuer and serial together or not at
  // all; required in every certificate but a self-signed one; a self-issued anchor's AKI names its own key.
  const aki = ext.authorityKeyIdentifierFields;
  if (aki) {
    if (critical.has(OID.authorityKeyIdentifier)) return fail("certificate_malformed", "A certificate's authorityKeyIdentifier is marked critical (RFC 5280 §4.2.1.1).");
    if (!aki.keyIdentifier) return fail("certificate_malformed", "A certificate's authorityKeyIdentifier has no keyIdentifier (RFC 5280 §4.2.1.1).");
    if (aki.issuer !== aki.serial) {
      return fail("certificate_malformed", "A certificate's authorityKeyIdentifier has only one of authorityCertIssuer and authorityCertSerialNumber.");
    }
    const ski = ext.subjectKeyIdentifier;
    if (role === "anchor" && cert.selfIssued && ski && !equalBytes(ski, ext.authorityKeyIdentifier!)) {
      return fail("certificate_malformed", "A self-issued trust anchor's authorityKeyIdentifier differs from its own subjectKeyIdentifier.");
    }
  } else if (!cert.selfIssued && strict) {
    return fail("certificate_malformed", "A certificate has no authorityKeyIdentifier (RFC 5280 §4.2.1.1).");
  }
  // §4.2.1.2 subjectKeyIdentifier: non-critical; required in CA certificates.
  if (critical.has(OID.subjectKeyIdentifier)) return fail("certificate_malformed", "A certificate's subjectKeyIdentifier is marked critical (RFC 5280 §4.2.1.2).");
  if ((role === "intermediate" || role === "anchor") && !ext.subjectKeyIdentifier && strict) return fail("certificate_malformed", "A CA certificate has no subjectKeyIdentifier (RFC 5280 §4.2.1.2).");
  // §4.2.2.1 authorityInfoAccess, §4.2.2.2 subjectInfoAccess: non-critical.
  if (critical.has(OID.authorityInfoAccess) || critical.has(OID.subjectInfoAccess)) {
    return fail("certificate_malformed", "A certificate's authority or subject information access is marked critical (RFC 5280 §4.2.2).");
  }

  // §4.1.2.6 subject: a CA's is not empty; an empty subject needs a critical subjectAltName (§4.2.1.6).
  if (cert.subjectEmpty) {
    if (role !== "leaf") return fail("certificate_malformed", "A CA or CRL-signing certificate has an empty subject (RFC 5280 §4.1.2.6).");
    if (!ext.subjectAltName) return fail("certificate_malformed", "The client certificate has an empty subject and no subjectAltName (RFC 5280 §4.1.2.6).");
    if (!critical.has(OID.subjectAltName)) {
      return fail("certificate_malformed", "The client certificate has an empty subject and a non-critical subjectAltName (RFC 5280 §4.2.1.6).");
    }
  }
  // §4.2.1.6: names in the subjectAltName are in their preferred syntax.
  for (const name of ext.subjectAltName ?? []) {
    const problem = sanSyntaxProblem(name, strict);
    if (problem) return fail("certificate_malformed", `A subjectAltName entry is not valid: ${problem}.`);
  }

  // §4.2.1.10 nameConstraints: only in CA certificates, always critical, each subtree a valid name.
  const nc = ext.nameConstraints;
  if (nc) {
    if (role === "leaf" || (role === "crl-signer" && !isCa)) return fail("name_constraints_violated", "The client certificate carries nameConstraints, which only CA certificates may (RFC 5280 §4.2.1.10).");
    if (!critical.has(OID.nameConstraints)) return fail("name_constraints_violated", "A CA's nameConstraints is not marked critical (RFC 5280 §4.2.1.10).");
    for (const c of [...(nc.permitted ?? []), ...(nc.excluded ?? [])]) {
      const problem = constraintSyntaxProblem(c);
      if (problem) return fail("name_constraints_violated", `A CA's name constraint is not valid: ${problem}.`);
    }
  }
  // §4.2.1.11 policyConstraints: critical.
  if (ext.policyConstraints && !critical.has(OID.policyConstraints)) {
    return fail("policy_violated", "A CA's policyConstraints is not marked critical (RFC 5280 §4.2.1.11).");
  }
  // §4.2.1.14 inhibitAnyPolicy: critical.
  if (ext.inhibitAnyPolicy !== undefined && !critical.has(OID.inhibitAnyPolicy)) {
    return fail("policy_violated", "A CA's inhibitAnyPolicy is not marked critical (RFC 5280 §4.2.1.14).");
  }
  return null;
}

/**
 * RFC 1034 §3.5 preferred name syntax as RFC 5280 §4.2.1.6 requires for dNSName (RFC 1123 §2.1 lets a label start
 * with a digit): labels of letters, digits and hyphens, 1–63 octets, not starting or ending with a hyphen, at most
 * 253 octets in all. A wildcard is allowed only as the whole leftmost label of a name of at least three labels.
 */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

export function dnsNameProblem(name: string, allowWildcard: boolean): string | null {
  if (name.length === 0) return "an empty DNS name";
  if (name.length > 253) return "a DNS name longer than 253 characters";
  const labels = name.split(".");
  for (const [i, label] of labels.entries()) {
    if (label === "*" && i === 0 && allowWildcard && labels.length >= 3) continue;
    if (!LABEL.test(label)) return `the DNS name "${name}" is not in preferred name syntax`;
  }
  return null;
}

/** RFC 5280 §4.2.1.6: an rfc822Name is a Mailbox (RFC 5321 §4.1.2): one local part, "@", a domain. */
function mailboxProblem(value: string): string | null {
  const at = value.lastIndexOf("@");
  if (at <= 0) return `the email address "${value}" has no local part`;
  const local = value.slice(0, at);
  if (!/^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/.test(local) && !/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/.test(local)) {
    return `the email address "${value}" has an invalid local part`;
  }
  return dnsNameProblem(value.slice(at + 1), false);
}

function sanSyntaxProblem(name: GeneralName, strict: boolean): string | null {
  switch (name.type) {
    case "dns":
      // Underscores are not host-name syntax, but internal names carry them (srv_01.corp.example).
      return dnsNameProblem(strict ? name.value : name.value.replaceAll("_", "-"), true);
    case "email":
      return mailboxProblem(name.value);
    case "uri":
      // RFC 3986 §3, §4.3: an absolute URI, of the characters a URI may hold (no spaces, no backslashes).
      return /^[a-z][a-z0-9+.-]*:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+$/i.test(name.value) ? null : `the URI "${name.value}" is not an absolute URI (RFC 3986)`;
    default:
      return null;
  }
}

/**
 * Name constraints (§4.2.1.10): a dNSName constraint is a host name (adding labels on the left gives the names
 * inside it; a leading period is not DNS syntax); an rfc822Name constraint is a mailbox, a host, or a
 * ".domain"; a URI constraint is a host or a ".domain".
 */
function constraintSyntaxProblem(c: GeneralName): string | null {
  switch (c.type) {
    case "dns":
      return c.value === "" ? null : dnsNameProblem(c.value, false);
    case "email":
      if (c.value.includes("@")) return mailboxProblem(c.value);
      return dnsNameProblem(c.value.startsWith(".") ? c.value.slice(1) : c.value, false);
    case "uri":
      return dnsNameProblem(c.value.startsWith(".") ? c.value.slice(1) : c.value, false);
    default:
      return null;
  }
}
