/**
 * The header contract: every header name certgate owns, reads, strips or trusts, in one place (the sources
 * take their default names from SOURCE_HEADERS; docs/configuration.md's tables mirror this file).
 *
 * Contract: pure data and pure functions. Names are compared in one normal form (`normalizeHeaderName`):
 * lower case, with `_` read as `-`. Many origin stacks map both to the same variable — CGI and everything
 * modelled on it turn `X-Client-Cert` and `X_Client_Cert` alike into `HTTP_X_CLIENT_CERT` (RFC 3875 §4.1.18;
 * PEP 3333 environ; Rack, and Puma before 6.4.3, CVE-2024-45614) — so a name certgate strips is stripped in
 * every spelling, or an origin could be handed the client's copy under the other one.
 *
 * What never reaches the origin as the client sent it (forward/headers.ts applies it):
 * - CLIENT_CERTIFICATE_FAMILIES: every header that names a client certificate or a part of it (the certificate
 *   itself, its chain, subject, issuer, serial, fingerprint, SANs, validity, the verify result), whichever
 *   product sets it and whatever certificate source is configured. Origins written for other proxies read
 *   these names; only certgate's identity headers may speak for the client certificate.
 * - FORWARDING_FAMILIES (client address and scheme): stripped unless the request came from the authenticated
 *   terminator, and in their `_` spellings always (a terminator writes the `-` spelling; an `_` copy came from
 *   the client through it).
 * - STRIP_HEADERS (configuration): more names or `*` patterns; it adds to the defaults, never removes any.
 * - certgate's own names (OWNED): the identity prefix, RFC 9440 Client-Cert(-Chain), the terminator and trace
 *   secrets. A policy's set-header cannot write these; it may write the other stripped names (a policy derives
 *   them from the validated certificate, e.g. X-Client-Subject).
 *
 * The families, and the vendor documentation each comes from (names as documented; checked 2026):
 * - RFC 9440 `Client-Cert`, `Client-Cert-Chain` — https://www.rfc-editor.org/rfc/rfc9440
 * - Envoy / Istio / Kong `X-Forwarded-Client-Cert` (XFCC) —
 *   https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert,
 *   https://developer.konghq.com/plugins/tls-metadata-headers/ (Kong's header name is configurable; its
 *   header-cert-auth plugin reads any named header: https://developer.konghq.com/plugins/header-cert-auth)
 * - nginx `$ssl_client_cert`, `$ssl_client_escaped_cert`, `$ssl_client_raw_cert`, `$ssl_client_verify`,
 *   `$ssl_client_s_dn`, `$ssl_client_i_dn`, `$ssl_client_serial`, `$ssl_client_fingerprint` forwarded as
 *   `X-SSL-Client-*` / `SSL_CLIENT_*` / `X-Client-Verify` — https://nginx.org/en/docs/http/ngx_http_ssl_module.html#variables
 * - Apache mod_ssl `SSL_CLIENT_CERT`, `SSL_CLIENT_S_DN`, `SSL_CLIENT_VERIFY`, … — https://httpd.apache.org/docs/current/mod/mod_ssl.html#envvars
 * - HAProxy `X-SSL`, `X-SSL-Client-Verify`, `X-SSL-Client-DN`, `X-SSL-Client-CN`, `X-SSL-Issuer`,
 *   `X-SSL-Client-NotBefore`, `X-SSL-Client-NotAfter`, `X-SSL-Client-SHA1` —
 *   https://www.haproxy.com/blog/ssl-client-certificate-information-in-http-headers-and-logs
 * - Traefik `X-Forwarded-Tls-Client-Cert`, `X-Forwarded-Tls-Client-Cert-Info` —
 *   https://doc.traefik.io/traefik/middlewares/http/passtlsclientcert/
 * - AWS ALB `X-Amzn-Mtls-Clientcert`, `-Leaf`, `-Serial-Number`, `-Issuer`, `-Subject`, `-Validity`, and
 *   `X-Amzn-Tls-Version`, `X-Amzn-Tls-Cipher-Suite` —
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/mutual-authentication.html,
 *   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/header-modification.html
 * - Amazon CloudFront viewer mTLS `CloudFront-Viewer-Cert-Pem`, `-Serial-Number`, `-Issuer`, `-Subject`,
 *   `-Present`, `-Sha256`, `-Validity` — https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/viewer-mtls-headers.html
 * - Google Cloud Application Load Balancer mTLS: custom request headers carrying `{client_cert_present}`,
 *   `{client_cert_chain_verified}`, `{client_cert_error}`, `{client_cert_sha256_fingerprint}`,
 *   `{client_cert_serial_number}`, `{client_cert_spiffe_id}`, `{client_cert_uri_sans}`,
 *   `{client_cert_dnsname_sans}`, `{client_cert_valid_not_before}`, `{client_cert_valid_not_after}`,
 *   `{client_cert_leaf}`, `{client_cert_chain}`, conventionally named `X-Client-Cert-*` —
 *   https://cloud.google.com/load-balancing/docs/https/custom-headers, https://cloud.google.com/load-balancing/docs/mtls
 * - Azure App Service `X-ARR-ClientCert` (and `X-ARR-SSL`); Azure Application Gateway server variables
 *   `client_certificate*` rewritten into headers of the operator's choosing —
 *   https://learn.microsoft.com/azure/app-service/app-service-web-configure-tls-mutual-auth,
 *   https://learn.microsoft.com/azure/application-gateway/rewrite-http-headers-url#mutual-authentication-server-variables
 * - Cloudflare API Shield / mTLS forwarding `Cf-Client-Cert-*` (`-Der-Base64`, `-Sha256`, …) and RFC 9440 via
 *   Transform Rules — https://developers.cloudflare.com/ssl/client-certificates/forward-a-client-certificate/
 * - Akamai Client Certificate Authentication `Client-To-Edge-*` —
 *   https://techdocs.akamai.com/property-mgr/docs/client-certificate-authentication
 * - F5 BIG-IP, VMware NSX ALB and other appliances: iRule / policy variables (`SSL_CLIENT_*`,
 *   `HTTP_POLICY_VAR_SSL_CLIENT_*`) written into headers of the operator's choosing, in practice
 *   `SSLClientCert*`, `X-SSL-Client-*`, `X-Client-Cert*` — covered by the `*ssl-client*`, `*sslclient*` and
 *   `*client-cert*` families.
 * Families match the name anywhere (`*client-cert*` covers Client-Cert, X-Client-Cert-Subject,
 * X-Forwarded-Tls-Client-Cert-Info, Cf-Client-Cert-Sha256, Ssl-Client-Cert…). A family is wide on purpose: a
 * header an origin might read as the client's certificate identity is worth more stripped than forwarded.
 */
import { err, ok, type Result } from "../result";

/** Lower case, `_` read as `-`: the one form every comparison in this module uses. */
export function normalizeHeaderName(name: string): string {
  // Headers iteration already yields lower case; most names have no `_`: return those as they are.
  return /[A-Z_]/.test(name) ? name.toLowerCase().replaceAll("_", "-") : name;
}

/**
 * Client-certificate header families (patterns in normal form; `*` is any run of characters). Each line says
 * which documented names it exists for (see the module header for the sources).
 */
export const CLIENT_CERTIFICATE_FAMILIES: readonly string[] = [
  "*client-cert*", // RFC 9440, XFCC, Traefik, Google Cloud X-Client-Cert-*, Cf-Client-Cert-*, nginx/Apache SSL_CLIENT_CERT
  "*clientcert*", // X-Amzn-Mtls-Clientcert*, X-ARR-ClientCert, SSLClientCert (F5 iRules)
  "*client-certificate*", // Azure Application Gateway client_certificate* server variables as headers
  "*ssl-client*", // nginx $ssl_client_*, Apache SSL_CLIENT_*, HAProxy X-SSL-Client-*
  "*sslclient*", // SSLClientCertStatus and similar appliance names
  "*tls-client*", // Traefik X-Forwarded-Tls-Client-Cert(-Info), X-TLS-Client-*
  "*client-verify*", // nginx $ssl_client_verify as X-Client-Verify / X-SSL-Client-Verify
  "*client-verified*",
  "*client-verification*", // Azure client_certificate_verification
  // The parts of a certificate that origins read as identity, under an X-Client-* (or similar) name:
  "*client-subject*", "*client-issuer*", "*client-dn", "*client-dn-*", "*client-s-dn*", "*client-i-dn*",
  "*client-cn", "*client-serial*", "*client-fingerprint*", "*client-thumbprint*", "*client-sha1*",
  "*client-sha256*", "*client-san", "*client-sans*", "*client-san-*", "*client-spiffe*",
  "*client-not-before*", "*client-notbefore*", "*client-not-after*", "*client-notafter*", "*client-validity*",
  "x-ssl", "x-ssl-*", // HAProxy X-SSL, X-SSL-Issuer; nginx X-SSL-Cert
  "ssl-cert*", // SSL_CERT (nginx fastcgi_param conventions)
  "x-cert", "x-cert-*", "x-certificate", "x-certificate-*", // generic names for the client certificate and its parts
  "x-amzn-mtls-*", "x-amzn-tls-*", // AWS ALB mTLS and TLS headers
  "cloudfront-viewer-cert-*", "cloudfront-viewer-tls", // Amazon CloudFront viewer mTLS
  "x-arr-ssl", // Azure App Service
  "client-to-edge*", // Akamai
  "x-mtls-*",
];

/**
 * Client address and scheme headers: an origin uses them for logging, rate limits and allow-lists. Only the
 * authenticated terminator may pass them on (in their `-` spelling); certgate then appends the peer.
 */
export const FORWARDING_FAMILIES: readonly string[] = [
  "x-forwarded-*", "forwarded", "x-real-ip", "true-client-ip", "x-client-ip", "x-cluster-client-ip", "x-original-forwarded-for",
];

/** Hop-by-hop headers (RFC 9110 §7.6.1), plus those the Connection header names. Compared exactly. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
  "proxy-authenticate", "proxy-authorization",
]);

/**
 * The default header names each certificate source reads (and, for some, the headers its terminator sets
 * alongside, stripped but never read). The sources (src/cert/sources/*) take their names from here; their
 * files keep the format knowledge. Lower case.
 */
export const SOURCE_HEADERS = {
  rfc9440: { cert: "client-cert", chain: "client-cert-chain" },
  xfcc: "x-forwarded-client-cert",
  urlPem: "x-client-cert",
  awsAlb: {
    chain: "x-amzn-mtls-clientcert",
    leaf: "x-amzn-mtls-clientcert-leaf",
    info: ["x-amzn-mtls-clientcert-serial-number", "x-amzn-mtls-clientcert-issuer", "x-amzn-mtls-clientcert-subject", "x-amzn-mtls-clientcert-validity"],
  },
  base64Der: "x-arr-clientcert",
  traefik: { cert: "x-forwarded-tls-client-cert", info: ["x-forwarded-tls-client-cert-info", "x-forwarded-tls-client-cert-infos"] },
} as const;

/** Headers certgate emits to the origin (besides the identity prefix): RFC 9440. */
export const EMITTED: readonly string[] = [SOURCE_HEADERS.rfc9440.cert, SOURCE_HEADERS.rfc9440.chain];

/** The request header that carries TRACE_SECRET (never forwarded, never visible to policies). */
export const TRACE_SECRET_HEADER = "x-certgate-trace-secret";
/** The response header carrying the policy trace to a caller that proved TRACE_SECRET. */
export const TRACE_HEADER = "x-certgate-trace";
/** Default TERMINATOR_SECRET_HEADER. */
export const DEFAULT_TERMINATOR_SECRET_HEADER = "X-Certgate-Terminator-Secret";
/** Default IDENTITY_HEADER_PREFIX. */
export const DEFAULT_IDENTITY_HEADER_PREFIX = "X-Client-Cert-";

/** A compiled set of names and `*` patterns; `test` takes a name in normal form. */
export interface HeaderMatcher {
  readonly test: (normalized: string) => boolean;
  /** The patterns, in normal form, as given (for docs and error messages). */
  readonly patterns: readonly string[];
}

const PATTERN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Most distinct names one matcher remembers its answer for. Header names repeat from request to request, so
 * after the first few requests of an isolate a lookup is one Map hit; the cap keeps a client sending random
 * names from growing the memo (past it, names are matched afresh each time, still correctly).
 */
const MATCHER_MEMO_MAX = 4096;

/**
 * Compiles names and `*` patterns (normal form applied here) into one matcher, once per isolate: exact names
 * in a Set; `*x*`, `x*`, `*x` as plain substring, prefix and suffix checks; any other glob as one RegExp
 * (measured in Node: a single 45-way RegExp cost ≈ 1.2 µs per header, the plain checks a fraction of it).
 */
export function headerMatcher(patterns: readonly string[]): HeaderMatcher {
  const normal = [...new Set(patterns.map(normalizeHeaderName))];
  const exact = new Set<string>();
  const contains: string[] = [];
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const others: string[] = [];
  for (const p of normal) {
    const stars = p.split("*").length - 1;
    const inner = p.slice(1, -1);
    if (stars === 0) exact.add(p);
    else if (stars === 2 && p.startsWith("*") && p.endsWith("*") && inner !== "") contains.push(inner);
    else if (stars === 1 && p.endsWith("*")) prefixes.push(p.slice(0, -1));
    else if (stars === 1 && p.startsWith("*")) suffixes.push(p.slice(1));
    else others.push(p);
  }
  const escape = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const re = others.length === 0 ? null : new RegExp(`^(?:${others.map((g) => g.split("*").map(escape).join(".*")).join("|")})$`);
  const match = (name: string): boolean =>
    exact.has(name) || contains.some((c) => name.includes(c)) || prefixes.some((x) => name.startsWith(x)) ||
    suffixes.some((x) => name.endsWith(x)) || (re !== null && re.test(name));
  const memo = new Map<string, boolean>();
  return {
    patterns: normal,
    test: (name) => {
      const known = memo.get(name);
      if (known !== undefined) return known;
      const r = match(name);
      if (memo.size < MATCHER_MEMO_MAX) memo.set(name, r);
      return r;
    },
  };
}

/**
 * STRIP_HEADERS: comma-separated header names or `*` patterns (`X-Corp-Identity`, `x-corp-*`, `*-user-id`).
 * Each must be a field name (RFC 9110 §5.1) with `*`s, and not `*` alone (that would strip every header).
 * There is no way to remove a default: a leading `!` or `-` is refused, not read as a negation.
 */
export function parseStripHeaders(value: string | undefined): Result<string[], string> {
  if (value === undefined || value.trim() === "") return ok([]);
  const out: string[] = [];
  for (const raw of value.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    if (item.startsWith("!") || item.startsWith("-")) {
      return err(`STRIP_HEADERS: ${JSON.stringify(item)}: the default stripped headers cannot be removed, only added to`);
    }
    if (!PATTERN.test(item)) return err(`STRIP_HEADERS: ${JSON.stringify(item)} is not a header name or * pattern`);
    if (item.replaceAll("*", "") === "") return err(`STRIP_HEADERS: ${JSON.stringify(item)} would strip every header`);
    out.push(normalizeHeaderName(item));
  }
  return ok(out);
}
