/**
 * cert/sources/base64-der — base64 of the DER certificate in a named header.
 *
 * Contract: pure, never throws; `fromTerminator: true`. The value is capped, must be base64 (standard or
 * URL-safe alphabet, padding optional, whitespace ignored: cert/decode's decodeBase64), and must decode to
 * one or more concatenated DER certificates; the first is the leaf, any others the chain in the order sent.
 * PEM, RFC 8941 byte sequences or raw DER in this header are certificate_malformed (another source's format).
 * A comma is certificate_header_invalid: base64 holds none, so the header was repeated.
 *
 * Producers, as documented (checked 2026):
 * - Azure App Service: `X-ARR-ClientCert`, the base64-encoded client certificate (ASP.NET Core certificate
 *   forwarding reads it with Convert.FromBase64String; YARP's ClientCert transform writes the same).
 * - HAProxy: `http-request set-header X-SSL-Client-Cert %[ssl_c_der,base64]` (leaf only).
 * - Caddy: `header_up X-Client-Cert {http.request.tls.client.certificate_der_base64}`.
 * Default header: X-ARR-ClientCert (configurable for HAProxy, Caddy, YARP).
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { decodeCertificates } from "../decode";
import { decoded, malformed, rejected, singleHeaderSource } from "./shared";
import { fromCertError, type CertificateSource, type SourceOptions } from "./source";

const NAME = "base64-der";
const DEFAULT_HEADER = SOURCE_HEADERS.base64Der;

/** The source reading base64 DER from `options.header` (default X-ARR-ClientCert). */
export function createBase64DerSource(options: SourceOptions = {}): CertificateSource {
  return singleHeaderSource(NAME, DEFAULT_HEADER, options, (value, header) => {
    // "-" is a URL-safe base64 character, so PEM's "-----" markers need their own check.
    if (!/^[A-Za-z0-9+/\-_=\s]+$/.test(value) || value.includes("-----")) return rejected(malformed(NAME, header, "not base64"));
    const certs = decodeCertificates(value);
    return certs.ok ? decoded(certs.value) : rejected(fromCertError(certs.error, { source: NAME, header }));
  });
}
