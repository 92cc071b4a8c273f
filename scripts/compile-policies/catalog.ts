/**
 * compile-policies/catalog — which policy elements certgate supports, and where APIM allows each.
 *
 * Contract: data only. Sections per element follow the APIM policy reference ("Usage → Policy sections");
 * certgate's own additions are marked. check.ts validates against this table; docs/policies-layout.md lists it.
 */

export const SECTIONS = ["inbound", "backend", "outbound", "on-error"] as const;
export type Section = (typeof SECTIONS)[number];

const ALL = SECTIONS;

/** Supported policy elements → the sections APIM allows them in. */
export const POLICY_SECTIONS: Readonly<Record<string, readonly Section[]>> = {
  /** APIM: inbound only; certgate also accepts backend (the certificate is chosen before the origin call). */
  "authentication-certificate": ["inbound", "backend"],
  "authentication-basic": ["inbound"],
  base: ALL,
  "check-header": ["inbound"],
  choose: ALL,
  cors: ["inbound"],
  /** Accepted so pasted APIM global policies compile; certgate always forwards, so it emits no step. */
  "find-and-replace": ALL,
  "forward-request": ["backend"],
  "include-fragment": ALL,
  "ip-filter": ["inbound"],
  "mock-response": ["inbound", "outbound", "on-error"],
  "return-response": ALL,
  "rewrite-uri": ["inbound"],
  "set-backend-service": ["inbound", "backend"],
  "set-body": ["inbound", "backend", "outbound"],
  "set-header": ALL,
  "set-method": ["inbound", "on-error"],
  "set-query-parameter": ["inbound", "backend"],
  "set-status": ALL,
  "set-variable": ALL,
  /**
   * The trace reference lists inbound, outbound, backend; APIM's error-handling page
   * (https://learn.microsoft.com/azure/api-management/api-management-error-handling-policies, "Policies allowed in
   * on-error") lists trace too, so on-error is accepted.
   */
  trace: ALL,
  "validate-client-certificate": ["inbound"],
  // issue 14 (check-jwt.ts, check-limits.ts): APIM allows each in inbound only.
  "validate-jwt": ["inbound"],
  "rate-limit-by-key": ["inbound"],
  "quota-by-key": ["inbound"],
  // Per subscription = per client certificate (check-limits.ts, docs/per-client-limits.md); APIM: inbound only.
  "rate-limit": ["inbound"],
  quota: ["inbound"],
  // check-cache.ts: APIM allows the value-cache policies in every section.
  "cache-lookup-value": ALL,
  "cache-store-value": ALL,
  "cache-remove-value": ALL,
  // check-outbound.ts: APIM allows send-request, send-one-way-request and retry in every section.
  "send-request": ALL,
  "send-one-way-request": ALL,
  retry: ALL,
  // check-response-cache.ts: APIM allows cache-lookup in inbound, cache-store in outbound.
  "cache-lookup": ["inbound"],
  "cache-store": ["outbound"],
  // check-managed-identity.ts: APIM allows it in inbound only (it is also a child of send-request, check-outbound.ts).
  "authentication-managed-identity": ["inbound"],
  // check-azure-ad-token.ts (on validate-jwt's machinery): APIM allows it in inbound only.
  "validate-azure-ad-token": ["inbound"],
};

/** The elements allowed directly in `section` (or in a `<when>`/`<otherwise>`/fragment, without base). */
export function allowedIn(section: Section | null, topLevel: boolean): string[] {
  return Object.entries(POLICY_SECTIONS)
    .filter(([name, sections]) => (section === null || sections.includes(section)) && (topLevel || name !== "base"))
    .map(([name]) => name)
    .sort();
}

/** Elements that only exist inside one parent: a misplaced one is reported as such, not as unknown. */
export const CHILD_ELEMENT_PARENTS: Readonly<Record<string, string>> = {
  inbound: "<policies>",
  backend: "<policies>",
  outbound: "<policies>",
  "on-error": "<policies>",
  when: "<choose>",
  otherwise: "<choose>",
  value: "<set-header>, <set-query-parameter> or <check-header>",
  address: "<ip-filter>",
  "allowed-origins": "<cors>",
  "allowed-methods": "<cors>",
  "allowed-headers": "<cors>",
  "expose-headers": "<cors>",
  origin: "<allowed-origins>",
  method: "<allowed-methods>",
  header: "<allowed-headers> or <expose-headers>",
  "address-range": "<ip-filter>",
  identities: "<validate-client-certificate>",
  identity: "<identities>",
  message: "<trace>",
  metadata: "<trace>",
  "openid-config": "<validate-jwt>",
  "issuer-signing-keys": "<validate-jwt>",
  "decryption-keys": "<validate-jwt> or <validate-azure-ad-token>",
  audiences: "<validate-jwt> or <validate-azure-ad-token>",
  audience: "<audiences>",
  issuers: "<validate-jwt>",
  issuer: "<issuers>",
  "required-claims": "<validate-jwt> or <validate-azure-ad-token>",
  claim: "<required-claims>",
  key: "<issuer-signing-keys>",
  "client-application-ids": "<validate-azure-ad-token>",
  "backend-application-ids": "<validate-azure-ad-token>",
  "application-id": "<client-application-ids> or <backend-application-ids>",
  "set-url": "<send-request> or <send-one-way-request>",
  api: "<rate-limit> or <quota>",
  "vary-by-header": "<cache-lookup>",
  "vary-by-query-parameter": "<cache-lookup>",
  operation: "<api> (in <rate-limit> or <quota>)",
  policies: "no parent (it is a document's root)",
  fragment: "no parent (it is a fragment file's root)",
};

/** APIM policies certgate does not implement: named as such in errors, rather than "unknown". */
export const UNSUPPORTED_APIM_POLICIES: ReadonlySet<string> = new Set([
  "azure-openai-emit-token-metric", "azure-openai-semantic-cache-lookup",
  "azure-openai-semantic-cache-store", "azure-openai-token-limit", "cross-domain", "emit-metric",
  "get-authorization-context", "http-data-source", "invoke-dapr-binding", "json-to-xml", "jsonp", "limit-concurrency",
  "llm-content-safety", "llm-emit-token-metric", "llm-semantic-cache-lookup", "llm-semantic-cache-store", "llm-token-limit",
  "log-to-eventhub", "proxy", "publish-to-dapr",
  "redirect-content-urls", "set-graphql-resolver", "sql-data-source", "validate-content", "validate-graphql-request",
  "validate-headers", "validate-odata-request", "validate-parameters", "validate-status-code", "wait",
  "xml-to-json", "xsl-transform",
]);

/** At most this many `<identity>` elements in one `<identities>`. */
export const MAX_IDENTITIES = 10;
