/**
 * Client-certificate-like header names as each vendor documents them (sources in src/http/header-names.ts),
 * for the tests that send them spoofed: the unit test of the contract, the Worker integration test and the
 * end-to-end suites through real terminators. Test data only.
 */
export const VENDOR_CERTIFICATE_HEADERS: Readonly<Record<string, readonly string[]>> = {
  "RFC 9440": ["Client-Cert", "Client-Cert-Chain"],
  "Envoy / Istio / Kong XFCC": ["X-Forwarded-Client-Cert"],
  nginx: [
    "X-SSL-Client-Cert", "Ssl-Client-Cert", "X-SSL-Client-Escaped-Cert", "X-SSL-Client-Raw-Cert", "X-SSL-Client-Verify",
    "X-SSL-Client-S-DN", "X-SSL-Client-I-DN", "X-SSL-Client-Serial", "X-SSL-Client-Fingerprint", "X-Client-Verify",
    "X-Client-Subject", "X-Client-DN", "X-SSL-Cert",
  ],
  "Apache mod_ssl": ["SSL_CLIENT_CERT", "SSL_CLIENT_S_DN", "SSL_CLIENT_I_DN", "SSL_CLIENT_VERIFY", "SSL_CLIENT_M_SERIAL", "SSL_CLIENT_CERT_CHAIN_0"],
  HAProxy: [
    "X-SSL", "X-SSL-Client-Verify", "X-SSL-Client-DN", "X-SSL-Client-CN", "X-SSL-Issuer", "X-SSL-Client-NotBefore",
    "X-SSL-Client-NotAfter", "X-SSL-Client-SHA1", "X-SSL-Client-Used",
  ],
  Traefik: ["X-Forwarded-Tls-Client-Cert", "X-Forwarded-Tls-Client-Cert-Info"],
  "AWS ALB": [
    "X-Amzn-Mtls-Clientcert", "X-Amzn-Mtls-Clientcert-Leaf", "X-Amzn-Mtls-Clientcert-Serial-Number", "X-Amzn-Mtls-Clientcert-Issuer",
    "X-Amzn-Mtls-Clientcert-Subject", "X-Amzn-Mtls-Clientcert-Validity", "X-Amzn-Tls-Version", "X-Amzn-Tls-Cipher-Suite",
  ],
  "Amazon CloudFront": [
    "CloudFront-Viewer-Cert-Pem", "CloudFront-Viewer-Cert-Serial-Number", "CloudFront-Viewer-Cert-Issuer", "CloudFront-Viewer-Cert-Subject",
    "CloudFront-Viewer-Cert-Present", "CloudFront-Viewer-Cert-Sha256", "CloudFront-Viewer-Cert-Validity",
  ],
  "Google Cloud load balancer": [
    "X-Client-Cert-Present", "X-Client-Cert-Chain-Verified", "X-Client-Cert-Error", "X-Client-Cert-Hash", "X-Client-Cert-Serial-Number",
    "X-Client-Cert-SPIFFE", "X-Client-Cert-URI-SANs", "X-Client-Cert-DNSName-SANs", "X-Client-Cert-Valid-Not-Before",
    "X-Client-Cert-Valid-Not-After", "X-Client-Cert-Leaf", "X-Client-Cert-Chain",
  ],
  Azure: ["X-ARR-ClientCert", "X-ARR-SSL", "X-Client-Certificate", "X-Client-Certificate-Verification", "X-Client-Certificate-Fingerprint"],
  Cloudflare: ["Cf-Client-Cert-Der-Base64", "Cf-Client-Cert-Sha256", "Cf-Client-Cert-Verified"],
  Akamai: ["Client-To-Edge-Auth", "Client-To-Edge-Cert"],
  "generic conventions": ["X-Cert", "X-Cert-Subject", "X-Certificate", "X-Certificate-Subject", "SSL_CERT"],
  "F5 / appliances": ["SSLClientCert", "SSLClientCertStatus", "X-Client-Serial", "X-Client-Fingerprint", "X-Client-Thumbprint", "X-Client-Issuer"],
};

/** Every vendor name, once. */
export const ALL_VENDOR_CERTIFICATE_HEADERS: readonly string[] = [...new Set(Object.values(VENDOR_CERTIFICATE_HEADERS).flat())];

/** The `_` spelling of a name (CGI maps it to the same variable). */
export const underscored = (name: string): string => name.replaceAll("-", "_");

/** Client address headers: only the authenticated terminator may send them. */
export const FORWARDING_HEADERS: readonly string[] = ["X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "X-Real-IP", "True-Client-IP"];

/** Ordinary application headers that must still reach the origin. */
export const ORDINARY_HEADERS: readonly string[] = [
  "Accept", "Authorization", "Content-Type", "User-Agent", "X-Request-Id", "X-Client-Id", "X-Client-Version", "X-Api-Key",
  "X-Correlation-Id", "Client-Id",
];
