/**
 * cert/sources/cloudflare — the client certificate Cloudflare's edge received, from `request.cf.tlsClientAuth`.
 *
 * Contract: pure, never throws; reads no header (`fromTerminator: false`, nothing to strip). `request.cf` is
 * validated field by field: an unexpected shape is `certificate_header_invalid`, never a guess.
 *
 * Format, as documented (checked 2026):
 * - developers.cloudflare.com/ssl/client-certificates/client-certificate-variables: in Workers the flags are
 *   strings — `certPresented` "1"/"0", `certVerified` "SUCCESS" / "NONE" / "FAILED:<reason>",
 *   `certRevoked` "1"/"0".
 * - Ruleset fields cf.tls_client_auth.cert_rfc9440 / cert_chain_rfc9440 (+ `_too_large`), exposed in Workers
 *   as `certRFC9440` (the leaf as one RFC 8941 byte sequence `:base64-DER:`, "" when absent or over 10 KiB),
 *   `certChainRFC9440` (the intermediates as an RFC 8941 list `:a:, :b:`, leaf excluded, in the order the
 *   client sent them, "" when none or over 16 KiB) and the booleans `certRFC9440TooLarge` /
 *   `certChainRFC9440TooLarge`.
 * - @cloudflare/workers-types IncomingRequestCfPropertiesTLSClientAuthPlaceholder: outside an mTLS hostname the
 *   object is a placeholder (certPresented "0", certVerified "NONE", empty strings, false flags); in local
 *   development and outside Cloudflare, `cf` or `tlsClientAuth` is absent.
 *
 * Outcomes: absent object or certPresented "0" → none; a TooLarge flag → certificate_too_large (the bytes were
 * dropped by the platform, so nothing can be checked); certPresented "1" with an empty certRFC9440 →
 * certificate_header_invalid. The platform's verdict is exposed as `platform` for policies, never trusted.
 */
import { decodeCertificate, decodeCertificates } from "../decode";
import { MAX_PRESENTED_CHAIN } from "../../limits";
import { NONE, failed, found, guarded } from "./shared";
import { CERTIFICATE_HEADER_INVALID, fromCertError, sourceError, type CertificateSource, type SourceOptions, type SourceResult } from "./source";

const NAME = "cloudflare";

/** Cloudflare's documented caps on the encoded values (cf.tls_client_auth.cert_rfc9440_too_large, …). */
const LEAF_LIMIT = "10 KiB";
const CHAIN_LIMIT = "16 KiB";

/** The source reading `request.cf.tlsClientAuth`. Takes no options. */
export function createCloudflareSource(_options: SourceOptions = {}): CertificateSource {
  return { name: NAME, headers: [], fromTerminator: false, extract: ({ cf }) => guarded(NAME, () => extractFromCf(cf)) };
}

function extractFromCf(cf: unknown): SourceResult {
  if (!isRecord(cf)) return NONE;
  const auth = cf.tlsClientAuth;
  if (auth === undefined || auth === null) return NONE;
  if (!isRecord(auth)) return shapeError("tlsClientAuth is not an object");

  const presented = auth.certPresented;
  const leafText = auth.certRFC9440;
  const chainText = auth.certChainRFC9440;
  const leafTooLarge = auth.certRFC9440TooLarge;
  const chainTooLarge = auth.certChainRFC9440TooLarge;
  if (!isOptionalString(leafText) || !isOptionalString(chainText)) return shapeError("certRFC9440 fields are not strings");
  if (!isOptionalBoolean(leafTooLarge) || !isOptionalBoolean(chainTooLarge)) {
    return shapeError("certRFC9440TooLarge flags are not booleans");
  }

  if (presented === "0") {
    // The placeholder: nothing presented. Certificate bytes alongside "0" would be a contradiction.
    if ((leafText ?? "") !== "" || (chainText ?? "") !== "" || leafTooLarge === true || chainTooLarge === true) {
      return shapeError("certPresented is \"0\" but certificate data is present");
    }
    return NONE;
  }
  if (presented !== "1") return shapeError("certPresented is neither \"1\" nor \"0\"");

  const verified = auth.certVerified;
  const revoked = auth.certRevoked;
  if (typeof verified !== "string" || verified === "") return shapeError("certVerified is not a non-empty string");
  if (revoked !== "1" && revoked !== "0") return shapeError("certRevoked is neither \"1\" nor \"0\"");

  if (leafTooLarge === true) return tooLarge("certificate", LEAF_LIMIT, "certRFC9440TooLarge");
  if (chainTooLarge === true) return tooLarge("certificate chain", CHAIN_LIMIT, "certChainRFC9440TooLarge");
  if (leafText === undefined || leafText.trim() === "") {
    return shapeError("certPresented is \"1\" but certRFC9440 is empty");
  }

  if (!isByteSequenceText(leafText)) return malformed("certRFC9440 is not an RFC 8941 byte sequence");
  const leaf = decodeCertificate(leafText);
  if (!leaf.ok) return failed(fromCertError(leaf.error, { source: NAME, field: "certRFC9440" }));

  let chain: Uint8Array[] = [];
  if (chainText !== undefined && chainText.trim() !== "") {
    if (!isByteSequenceText(chainText)) return malformed("certChainRFC9440 is not an RFC 8941 list of byte sequences");
    const decoded = decodeCertificates(chainText, { maxCount: MAX_PRESENTED_CHAIN - 1 });
    if (!decoded.ok) return failed(fromCertError(decoded.error, { source: NAME, field: "certChainRFC9440" }));
    chain = decoded.value;
  }
  return found(NAME, leaf.value, chain, { verified, revoked: revoked === "1", presented: true });
}

/** An RFC 8941 byte sequence (or list of them) starts with ':'; cert/decode checks the rest. */
function isByteSequenceText(text: string): boolean {
  return text.trimStart().startsWith(":");
}

function shapeError(what: string): SourceResult {
  return failed(
    sourceError(CERTIFICATE_HEADER_INVALID, `request.cf.tlsClientAuth has an unexpected shape: ${what}.`, { source: NAME }),
  );
}

function malformed(what: string): SourceResult {
  return failed(sourceError("certificate_malformed", `The client certificate from Cloudflare is malformed: ${what}.`, { source: NAME }));
}

function tooLarge(what: string, limit: string, field: string): SourceResult {
  return failed(
    sourceError("certificate_too_large", `The client ${what} exceeds Cloudflare's ${limit} limit and was not forwarded.`, {
      source: NAME,
      field,
    }),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isOptionalString(value: unknown): value is string | undefined {
  return value === undefined || typeof value === "string";
}

function isOptionalBoolean(value: unknown): value is boolean | undefined {
  return value === undefined || typeof value === "boolean";
}
