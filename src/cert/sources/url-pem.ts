/**
 * cert/sources/url-pem — a URL-encoded PEM certificate (or chain, leaf first) in a named header.
 *
 * Contract: pure, never throws; `fromTerminator: true`. The header value is capped before decoding, then
 * percent-decoded strictly (an invalid `%` escape is certificate_malformed; `+` is a literal `+`, never a
 * space), then decoded as PEM by cert/decode. Extra certificates after the first are the chain, in the order
 * sent. A value with a raw comma is certificate_header_invalid: PEM and its escaped forms hold no comma, so a
 * comma means the header was repeated (`Headers` joins repeats with ", ") — and taking the first copy could
 * take a client-injected one.
 *
 * Producers, as documented (checked 2026):
 * - nginx `proxy_set_header X-Client-Cert $ssl_client_escaped_cert;` — "the client certificate in the PEM
 *   format (urlencoded)": ngx_ssl_get_escaped_certificate (src/event/ngx_event_openssl.c) runs the leaf's PEM
 *   through ngx_escape_uri(…, NGX_ESCAPE_URI_COMPONENT), so spaces are %20, newlines %0A, `+` %2B, `/` %2F,
 *   `=` %3D (nginx-devel, Feb 2016; Keycloak's NginxProxySslClientCertificateLookup). Kong and other
 *   nginx/OpenResty gateways use the same variable.
 * - Apache httpd `RequestHeader set X-Client-Cert "expr=%{escape:%{SSL_CLIENT_CERT}s}"` (pulp_certguard docs).
 * - Amazon CloudFront viewer mTLS: `CloudFront-Viewer-Cert-Pem`, "URL-encoded PEM format of the leaf
 *   certificate" (`-----BEGIN%20CERTIFICATE-----%0AMIIG…`, CloudFront Developer Guide, viewer-mtls-headers):
 *   configure `header: "CloudFront-Viewer-Cert-Pem"`.
 * - Azure Application Gateway rewrite `{var_client_certificate}`: PEM whose line breaks may arrive as spaces
 *   or not at all, unescaped; cert/decode tolerates both, so a value without `%` is read as plain PEM.
 * Default header: X-Client-Cert (configurable: every producer above lets the operator choose the name).
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { decodeUrlEncodedPem, singleHeaderSource } from "./shared";
import type { CertificateSource, SourceOptions } from "./source";

const NAME = "url-pem";
const DEFAULT_HEADER = SOURCE_HEADERS.urlPem;

/** The source reading URL-encoded (or plain, flattened) PEM from `options.header` (default X-Client-Cert). */
export function createUrlPemSource(options: SourceOptions = {}): CertificateSource {
  return singleHeaderSource(NAME, DEFAULT_HEADER, options, (value, header) => decodeUrlEncodedPem(value, NAME, header));
}
