/**
 * cert/sources/source — the one interface every certificate source implements.
 *
 * Contract: a source reads where the platform or a TLS terminator put the client certificate and hands back
 * untrusted DER bytes. Sources are pure (no I/O, no clock), never throw, and never return `found` for anything
 * they could not decode completely: the leaf and every chain certificate have passed cert/decode's structural
 * DER check. Nothing a source returns is verified; pki/validate decides.
 *
 * A source whose certificate is present but unusable (ill-formed header, bad encoding, over a cap) returns
 * `error`, and the gateway denies (4xx). Only a source with nothing in it returns `none`.
 */
import type { CertError, CertErrorCode, ErrorContext } from "../../errors";

/**
 * The carrier itself is ill-formed: a header that must occur once was repeated, Client-Cert-Chain came
 * without Client-Cert, an XFCC element does not parse or carries no certificate, two mutually exclusive
 * headers were both set, or `request.cf.tlsClientAuth` has an unexpected shape.
 * Defined here until errors.ts takes it into CERT_ERROR_CODES; it will move there unchanged.
 */
export const CERTIFICATE_HEADER_INVALID = "certificate_header_invalid";

/** Codes a source may return: the engine's, plus certificate_header_invalid (see above). */
export type SourceErrorCode = CertErrorCode | typeof CERTIFICATE_HEADER_INVALID;

/** A CertError whose code may also be certificate_header_invalid; every CertError is one. */
export interface SourceError {
  readonly code: SourceErrorCode;
  /** One sentence, safe for the client. */
  readonly detail: string;
  readonly context?: ErrorContext;
}

/** Builds a SourceError with the same shape as errors.ts's certError. */
export function sourceError(code: SourceErrorCode, detail: string, context?: ErrorContext): SourceError {
  return context === undefined ? { code, detail } : { code, detail, context };
}

/** What a source found: untrusted bytes, nothing verified. */
export interface PresentedCertificate {
  /** The name of the source that found it (its registry key). */
  readonly source: string;
  /** DER. */
  readonly leaf: Uint8Array;
  /** DER, leaf excluded, in the order sent. */
  readonly chain: readonly Uint8Array[];
  /** Cloudflare's own verdict, exposed to policies (never trusted for the decision). */
  readonly platform?: { readonly verified: string; readonly revoked: boolean; readonly presented: boolean };
}

export type SourceResult =
  /** No certificate in this source. */
  | { readonly kind: "none" }
  | { readonly kind: "found"; readonly certificate: PresentedCertificate }
  /** Present but unusable: the gateway denies (4xx). */
  | { readonly kind: "error"; readonly error: SourceError };

/** What a source may read. `cf` is `request.cf`, untyped on purpose: sources validate its shape. */
export interface SourceInput {
  readonly headers: Headers;
  readonly cf?: unknown;
}

export interface CertificateSource {
  /** The registry key ("cloudflare", "rfc9440", "xfcc", …). */
  readonly name: string;
  /**
   * Lower-case names of every header this source reads, and of the headers its terminator sets alongside
   * (ALB's X-Amzn-Mtls-Clientcert-Subject, Traefik's X-Forwarded-Tls-Client-Cert-Info, …): the gateway strips
   * them all before forwarding, so an origin never sees a forged one.
   */
  readonly headers: readonly string[];
  /** True for sources that read request headers (trusted only from an authenticated terminator). */
  readonly fromTerminator: boolean;
  extract(input: SourceInput): SourceResult;
}

/** Per-source options. */
export interface SourceOptions {
  /** Header name override, for terminators that let users choose or rename the header. */
  readonly header?: string;
}

/** Every CertError is a SourceError; this keeps that fact checked by the compiler. */
export function fromCertError(error: CertError, extra?: ErrorContext): SourceError {
  return sourceError(error.code, error.detail, extra === undefined ? error.context : { ...error.context, ...extra });
}
