/**
 * cert/sources/rfc9440 — the `Client-Cert` and `Client-Cert-Chain` request headers of RFC 9440, as set by
 * Cloudflare request-header rules (cf.tls_client_auth.cert_rfc9440 / cert_chain_rfc9440), CloudFront viewer
 * mTLS, and any TLS terminator that implements the RFC.
 *
 * Contract: pure, never throws; `fromTerminator: true` (trust the headers only from an authenticated
 * terminator; the gateway strips both before forwarding). Header values are capped before decoding.
 *
 * Format (RFC 9440, checked against the text at rfcinfo.com/rfc-9440 and httpwg.org/specs/rfc9440.html):
 * - §2.1, §2.2: Client-Cert is an RFC 8941 Item whose value is one Byte Sequence (`:base64-DER:`, §3.3.5 of
 *   RFC 8941). It "MUST NOT have a list of values or occur multiple times in a request" — `Headers` joins a
 *   repeated header with ", ", so any comma means a list or a repeat: certificate_header_invalid.
 * - §2.3: Client-Cert-Chain is an RFC 8941 List of Byte Sequences, leaf excluded, in TLS order (RFC 8446
 *   §4.4.2); it MAY be split over several header lines, which arrive joined by ", " and parse as one List.
 *   It "MUST NOT appear unless Client-Cert is also present": a chain without a certificate is
 *   certificate_header_invalid.
 * Parameters on the byte sequences are not defined by RFC 9440 and are rejected by cert/decode.
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { decodeCertificate, decodeCertificates } from "../decode";
import { MAX_PRESENTED_CHAIN } from "../../limits";
import { NONE, failed, found, guarded, headerInvalid, malformed, readHeader } from "./shared";
import { fromCertError, type CertificateSource, type SourceInput, type SourceOptions, type SourceResult } from "./source";

const NAME = "rfc9440";
const CERT_HEADER = SOURCE_HEADERS.rfc9440.cert;
const CHAIN_HEADER = SOURCE_HEADERS.rfc9440.chain;

/** The source reading RFC 9440's headers. Takes no options: the header names are fixed by the RFC. */
export function createRfc9440Source(_options: SourceOptions = {}): CertificateSource {
  return {
    name: NAME,
    headers: [CERT_HEADER, CHAIN_HEADER],
    fromTerminator: true,
    extract: (input) => guarded(NAME, () => extractRfc9440(input)),
  };
}

function extractRfc9440({ headers }: SourceInput): SourceResult {
  const cert = readHeader(headers, CERT_HEADER, NAME);
  if (cert.kind === "error") return failed(cert.error);
  const chain = readHeader(headers, CHAIN_HEADER, NAME);
  if (chain.kind === "error") return failed(chain.error);

  if (cert.kind === "absent") {
    if (chain.kind === "value") {
      return failed(headerInvalid(NAME, "Client-Cert-Chain", "it must not appear without Client-Cert (RFC 9440 §2.3)"));
    }
    return NONE;
  }
  if (cert.value.includes(",")) {
    return failed(
      headerInvalid(NAME, "Client-Cert", "it must hold exactly one byte sequence and occur once (RFC 9440 §2.2)"),
    );
  }
  if (!cert.value.startsWith(":")) return failed(malformed(NAME, "Client-Cert", "not an RFC 8941 byte sequence"));
  const leaf = decodeCertificate(cert.value);
  if (!leaf.ok) return failed(fromCertError(leaf.error, { source: NAME, header: "Client-Cert" }));

  if (chain.kind === "absent") return found(NAME, leaf.value, []);
  if (!chain.value.startsWith(":")) {
    return failed(malformed(NAME, "Client-Cert-Chain", "not an RFC 8941 list of byte sequences"));
  }
  const intermediates = decodeCertificates(chain.value, { maxCount: MAX_PRESENTED_CHAIN - 1 });
  if (!intermediates.ok) return failed(fromCertError(intermediates.error, { source: NAME, header: "Client-Cert-Chain" }));
  return found(NAME, leaf.value, intermediates.value);
}
