/**
 * cert/sources/traefik — Traefik's passTLSClientCert middleware with `pem: true`.
 *
 * Contract: pure, never throws; `fromTerminator: true`. The value is capped, the certificate count is
 * checked before any certificate is decoded, and each item must be one DER certificate.
 *
 * Format, as implemented (traefik/traefik pkg/middlewares/passtlsclientcert/pass_tls_client_cert.go, v3;
 * doc.traefik.io "PassTLSClientCert"; checked 2026):
 * - `X-Forwarded-Tls-Client-Cert`: for each certificate of req.TLS.PeerCertificates (leaf first, as the
 *   client sent them) the PEM with the BEGIN/END markers and every "\n" removed — i.e. standard base64 of the
 *   DER — joined by "," (no space).
 * - Traefik v2 documented this as "the escaped pem": the same string through Go's url.QueryEscape (`+` %2B,
 *   `/` %2F, `=` %3D, `,` %2C). A value holding `%` is therefore percent-decoded strictly first.
 * - `X-Forwarded-Tls-Client-Cert-Info` (`-Infos` in early v2) carries selected fields, URL-escaped; never
 *   read, only listed for stripping.
 * Traefik never emits whitespace, so ", " (how `Headers` joins a repeated header) is
 * certificate_header_invalid, and any other whitespace or an empty item is certificate_malformed.
 * The header name is fixed by Traefik, so the source takes no options.
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { decodeCertificate } from "../decode";
import { MAX_PRESENTED_CHAIN } from "../../limits";
import { NONE, failed, guarded, headerInvalid, leafFirst, malformed, percentDecode, readHeader } from "./shared";
import { fromCertError, sourceError, type CertificateSource, type SourceInput, type SourceOptions, type SourceResult } from "./source";

const NAME = "traefik";
const HEADER = SOURCE_HEADERS.traefik.cert;
/** Set by Traefik alongside the certificate; stripped, never read. */
const INFO_HEADERS = SOURCE_HEADERS.traefik.info;
const BASE64_ITEM = /^[A-Za-z0-9+/]+={0,2}$/;

/** The source reading Traefik's X-Forwarded-Tls-Client-Cert. Takes no options. */
export function createTraefikSource(_options: SourceOptions = {}): CertificateSource {
  return {
    name: NAME,
    headers: [HEADER, ...INFO_HEADERS],
    fromTerminator: true,
    extract: (input) => guarded(NAME, () => extractTraefik(input)),
  };
}

function extractTraefik({ headers }: SourceInput): SourceResult {
  const read = readHeader(headers, HEADER, NAME);
  if (read.kind === "absent") return NONE;
  if (read.kind === "error") return failed(read.error);
  if (/,\s/.test(read.value)) return failed(headerInvalid(NAME, HEADER, "it occurs more than once"));

  let text = read.value;
  if (text.includes("%")) {
    const unescaped = percentDecode(text);
    if ("problem" in unescaped) return failed(malformed(NAME, HEADER, unescaped.problem));
    text = unescaped.text;
  }
  const items = text.split(",");
  if (items.length > MAX_PRESENTED_CHAIN) {
    return failed(
      sourceError("bundle_too_many_certificates", `The input holds more than ${MAX_PRESENTED_CHAIN} certificates.`, {
        source: NAME,
        header: HEADER,
        max: MAX_PRESENTED_CHAIN,
      }),
    );
  }
  const certs: Uint8Array[] = [];
  for (const [index, item] of items.entries()) {
    if (!BASE64_ITEM.test(item)) return failed(malformed(NAME, HEADER, `certificate ${index + 1} is not base64`));
    const der = decodeCertificate(item);
    if (!der.ok) return failed(fromCertError(der.error, { source: NAME, header: HEADER, index }));
    certs.push(der.value);
  }
  return leafFirst(NAME, certs);
}
