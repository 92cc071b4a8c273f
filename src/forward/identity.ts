/**
 * The verified identity as headers for the origin: RFC 9440 `Client-Cert` (the leaf) and
 * `Client-Cert-Chain` (the validated intermediates, anchor excluded), plus readable headers under the
 * configured prefix (default `X-Client-Cert-`): Subject, Issuer (RFC 4514), Thumbprint (SHA-1, uppercase),
 * SHA256, Serial, Not-After, Verified (`SUCCESS`). Names are documented in docs/configuration.md. (Each
 * header costs a few µs in workerd, so the set is kept to what origins use.)
 *
 * Contract: pure. Header values must be Latin-1 without controls, so names are sent in RFC 4514 with every
 * character outside printable ASCII written as `\XX` escapes of its UTF-8 bytes (valid RFC 4514, §2.4).
 */
import { encodeBase64 } from "../cert/decode";
import type { CertificateModel } from "../cert/model";
import type { ValidatedPath } from "../pki/validate";

const encoder = new TextEncoder();

/** An RFC 4514 string made safe for a header value. */
export function asciiDn(dn: string): string {
  let out = "";
  for (const ch of dn) {
    const c = ch.codePointAt(0)!;
    if (c >= 0x20 && c < 0x7f) out += ch;
    else for (const b of encoder.encode(ch)) out += "\\" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

const cache = new WeakMap<ValidatedPath, { prefix: string; headers: Record<string, string> }>();

/** The identity headers of a validated path (computed once per path object: cached verdicts share it). */
export function identityHeaders(path: ValidatedPath, model: CertificateModel, prefix: string): Record<string, string> {
  const hit = cache.get(path);
  if (hit && hit.prefix === prefix) return hit.headers;
  const headers = buildIdentityHeaders(path, model, prefix);
  cache.set(path, { prefix, headers });
  return headers;
}

function buildIdentityHeaders(path: ValidatedPath, model: CertificateModel, prefix: string): Record<string, string> {
  const intermediates = path.certificates.slice(1, -1);
  const h: Record<string, string> = {
    "Client-Cert": `:${encodeBase64(path.certificates[0]!.der)}:`,
    [`${prefix}Subject`]: asciiDn(model.subject.rfc4514),
    [`${prefix}Issuer`]: asciiDn(model.issuer.rfc4514),
    [`${prefix}Thumbprint`]: model.thumbprint,
    [`${prefix}SHA256`]: model.sha256,
    [`${prefix}Serial`]: model.serialNumber,
    [`${prefix}Not-After`]: model.notAfter,
    [`${prefix}Verified`]: "SUCCESS",
  };
  if (intermediates.length > 0) h["Client-Cert-Chain"] = intermediates.map((c) => `:${encodeBase64(c.der)}:`).join(", ");
  return h;
}
