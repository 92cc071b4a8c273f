/**
 * Where certgate deliberately gives another answer than x509-limbo expects, with the reason for each. The
 * conformance command reports these apart ("documented deviations") and does not count them as false accepts
 * or false rejects; any other disagreement is counted. docs/validation.md ("Deviations") says the same in prose.
 *
 * Every deliberate accept below is a rule of the CA/Browser Forum's profile for publicly trusted TLS *server*
 * certificates (what rustls-webpki enforces) that RFC 5280 does not make, and that private client-certificate
 * PKIs — the ones certgate serves — do not follow. Several contradict a limbo `rfc5280::` case expecting the
 * opposite, noted where so.
 */
export interface Deviation {
  /** What certgate answers. */
  readonly certgate: "SUCCESS" | "FAILURE";
  readonly reason: string;
}

const CN_IS_CLIENT_IDENTITY =
  "webpki requires a subject CN that looks like a host name or address to repeat a SAN (a server-name rule, CA/B BR " +
  "7.1.4.3); a client certificate's CN is the client's identity (a person, a service), often dotted, never a host to match";

export const LIMBO_DEVIATIONS: Readonly<Record<string, Deviation>> = {
  "webpki::cn::ipv4-hex-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::ipv4-leading-zeros-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::ipv6-uppercase-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::ipv6-uncompressed-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::ipv6-non-rfc5952-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::punycode-not-in-san": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::utf8-vs-punycode-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::not-in-san": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::cn::case-mismatch": { certgate: "SUCCESS", reason: CN_IS_CLIENT_IDENTITY },
  "webpki::eku::ee-without-eku": {
    certgate: "SUCCESS",
    reason: "RFC 5280 §4.2.1.12 permits a leaf without EKU (limbo's rfc5280::eku::ee-without-eku expects SUCCESS); " +
      "APIM and OpenSSL accept such client certificates",
  },
  "webpki::eku::ee-anyeku": {
    certgate: "SUCCESS",
    reason: "RFC 5280 §4.2.1.12 lets a CA add anyExtendedKeyUsage beside the purposes it lists; the leaf also lists the purpose asked for",
  },
  "webpki::eku::ee-critical-eku": {
    certgate: "SUCCESS",
    reason: "RFC 5280 §4.2.1.12: the extension MAY be critical; only the CA/B server profile forbids it",
  },
  "webpki::eku::root-has-eku": {
    certgate: "SUCCESS",
    reason: "RFC 5280 allows an extendedKeyUsage in a CA certificate; private client-certificate roots carry one " +
      "to state their purpose (the CA/B server profile forbids it in roots)",
  },
  "webpki::san::san-critical-with-nonempty-subject": {
    certgate: "SUCCESS",
    reason: "RFC 5280 §4.2.1.6 says SHOULD mark it non-critical when the subject is not empty, not MUST",
  },
  "webpki::aki::root-with-aki-all-fields": {
    certgate: "SUCCESS",
    reason: "RFC 5280 §4.2.1.1 allows authorityCertIssuer and authorityCertSerialNumber beside keyIdentifier; only the " +
      "CA/B profile forbids them in a root (certgate still rejects one of the two without the other)",
  },
  "rfc5280::ca-as-leaf": {
    certgate: "FAILURE",
    reason: "a CA certificate is never accepted as a client certificate (basicConstraints cA set): it could sign " +
      "its own clients; webpki::ca-as-leaf expects the same rejection",
  },
  "pathlen::validation-ignores-pathlen-in-leaf": {
    certgate: "FAILURE",
    reason: "the leaf is a CA certificate (see rfc5280::ca-as-leaf)",
  },
  "webpki::nc::permitted-dns-match-noncritical": {
    certgate: "FAILURE",
    reason: "RFC 5280 §4.2.1.10: conforming CAs MUST mark nameConstraints critical (limbo's " +
      "rfc5280::nc::permitted-dns-match-noncritical expects FAILURE for the same chain)",
  },
  "rfc5280::validity::notafter-fractional": {
    certgate: "FAILURE",
    reason: "validity is compared to the millisecond: 5 ms after notAfter is expired (limbo calls the case ambiguous)",
  },
  "pathlen::max-chain-depth-1-self-issued": {
    certgate: "FAILURE",
    reason: "certgate's path limit counts certificates, self-issued ones included; limbo's max_chain_depth skips them",
  },
  "cve::cve-2024-0567": {
    certgate: "FAILURE",
    reason: "the trusted \"Root A\" is not self-issued and has no authorityKeyIdentifier, which RFC 5280 §4.2.1.1 " +
      "requires (rfc5280::aki::cross-signed-root-missing-aki expects FAILURE for that; OpenSSL -x509_strict agrees)",
  },
};
