/**
 * Every size cap and budget of certgate, each with where its number comes from.
 * Caps are checked before the work they protect (bytes before decoding, certificates before parsing,
 * candidates and signature checks while building paths).
 */

/**
 * Largest single certificate, DER bytes. Real client and CA certificates are 0.5–2 KiB; RSA-4096 with
 * long SAN lists and policies stays under 8 KiB. Cloudflare flags `certRFC9440TooLarge` past 10 KiB of
 * base64 (~7.5 KiB DER). 16 KiB leaves room for the largest legitimate certificates and bounds parse work.
 */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/**
 * Longest DN text cert/dn.ts parseDistinguishedName reads (a policy's or operator's subject/issuer string). The
 * name it denotes sits inside a certificate (≤ MAX_CERTIFICATE_BYTES), and the widest of its renderings, the
 * OpenSSL slash form, spends at most four characters per byte (`\xHH`): 4 × 16 KiB = 64 Ki characters.
 */
export const MAX_DN_TEXT_CHARS = 4 * MAX_CERTIFICATE_BYTES;

/**
 * Largest bundle (PEM/base64/DER text of several certificates) accepted from a request. Request header
 * sections are limited to 32 KiB on Cloudflare and 8–16 KiB on nginx/Envoy defaults; a presented chain
 * can never be larger than that, so 64 KiB of input is already generous.
 */
export const MAX_PRESENTED_BUNDLE_BYTES = 64 * 1024;

/**
 * Most certificates accepted in a chain presented by a client. TLS stacks send leaf + 1–3 intermediates;
 * OpenSSL's default verify depth is 100 but nginx's `ssl_verify_depth` defaults to 1 and Envoy's to
 * unlimited-in-practice 100. Eight covers every real-world PKI (leaf, up to 6 intermediates, cross-sign).
 */
export const MAX_PRESENTED_CHAIN = 8;

/**
 * Largest trust-store bundle (operator-supplied, from KV). KV values are capped at 25 MiB; a store of
 * 1,000 CA certificates at 2 KiB each as PEM is ~2.7 MiB. 4 MiB bounds a mistaken upload.
 */
export const MAX_STORE_BUNDLE_BYTES = 4 * 1024 * 1024;

/** Most certificates in one trust store (see MAX_STORE_BUNDLE_BYTES). */
export const MAX_STORE_CERTIFICATES = 2000;

/**
 * Largest CRL, DER bytes. Large public CAs publish CRLs of a few MiB; private client-certificate CAs
 * rarely exceed 100 KiB. 8 MiB stays well below KV's 25 MiB value limit and Workers' 128 MiB memory.
 */
export const MAX_CRL_BYTES = 8 * 1024 * 1024;

/**
 * Maximum path length in certificates, leaf and anchor included. rustls-webpki stops at 6 intermediates
 * (MAX_SUB_CA_COUNT = 6), i.e. 8 certificates with leaf and anchor; we use the same figure.
 */
export const MAX_PATH_CERTIFICATES = 8;

/**
 * Signature verifications per validation. rustls-webpki's default budget is 100 signature checks; a
 * legitimate path needs depth-many (≤ 7) plus CRL signatures, so 100 only bites on hostile pools.
 */
export const SIGNATURE_BUDGET = 100;

/**
 * Calls to the path-building step per validation. rustls-webpki uses 200,000 build-chain calls; ours are
 * costlier (JS, async), and each call is cheap only when it does no signature check, so 2,000 is ample for
 * every honest pool (a few candidates per level, depth ≤ 8) and bounds crafted same-name pools.
 */
export const BUILD_CALL_BUDGET = 2000;

/**
 * How deep CRL signers nest: a CRL signed by a separate CRL-signing certificate makes that certificate's path
 * validated too (RFC 5280 §6.3.3 (f)), whose revocation may need another CRL signer, and so on. Real PKIs need
 * one level (a CA's dedicated CRL-signing key) or two (an indirect CRL issuer under its own CA); the path-building
 * and signature budgets bound the work whatever this is, this bounds the recursion.
 */
export const MAX_CRL_SIGNER_DEPTH = 2;

/** Issuer candidates considered at one level of the path (same-name CAs, cross-signs, rollovers). */
export const MAX_CANDIDATES_PER_LEVEL = 16;

/** Names checked against name constraints per validation (RFC 5280 §6.1.3 (b),(c); webpki caps at 250,000 comparisons). */
export const NAME_CONSTRAINT_COMPARISON_BUDGET = 250_000;

/** Nodes of the RFC 5280 §6.1.2 valid_policy_tree; policy mapping can blow it up (CVE-2023-0464). */
export const POLICY_TREE_NODE_BUDGET = 1000;

// ---- outbound calls of policies (send-request, send-one-way-request, retry: src/policy/outbound.ts) ----------------

/**
 * Outbound calls one request's policies may make: send-request and send-one-way-request, every retry attempt counted
 * (the origin call of forward-request is not). Cloudflare allows 50 subrequests per invocation on the Free plan
 * (1,000 on Paid) and certgate itself spends a few (KV reads, the origin): 10 leaves that headroom while covering the
 * corpus' shapes (a token call, a lookup, a notification, each retried a few times). Past it: `outbound_budget_exceeded`.
 */
export const MAX_OUTBOUND_CALLS = 10;

/**
 * Longest wait of one outbound call, seconds (a client waits on every second of it). APIM's default is 60 s and it
 * documents no maximum; a longer `timeout` is cut to this figure (the compiler warns about a literal one), so such a
 * call fails as `timeout` after 60 s.
 */
export const MAX_OUTBOUND_TIMEOUT_SECONDS = 60;

/**
 * Most bytes of an outbound response certgate reads into the response variable. The body is read once, capped, when
 * the program reads a body (`Body`) or returns it (`return-response response-variable-name`); otherwise it is never
 * read. 1 MiB equals the cap on the bodies expressions read (expr/limits.ts MAX_BODY_BYTES stays the larger bound):
 * token, lookup and entitlement answers are a few KiB. Past it: `outbound_budget_exceeded`.
 */
export const MAX_OUTBOUND_RESPONSE_BYTES = 1024 * 1024;

/**
 * Longest total wait of one `retry` between its attempts, seconds. APIM bounds the count (1–50) and each interval, not
 * the sum (50 × a 100 s max-interval is over an hour); a gateway holding a client that long helps no one. When the
 * next wait would pass this sum, retry stops and the last attempt's outcome stands (logged, noted in the trace).
 */
export const MAX_RETRY_TOTAL_WAIT_SECONDS = 30;
