/**
 * The verified identity as headers for the origin: RFC 9440 `Client-Cert` (the leaf) and
 * `Client-Cert-Chain` (the validated intermediates, anchor excluded), plus readable headers under the
 * configured prefix (default `X-Client-Cert-`): Subject, Issuer (RFC 4514), Thumbprint (SHA-1, uppercase),
 * SHA256, Serial, Not-Before, Not-After, Verified (`SUCCESS`), Source. Names are documented in
 * docs/configuration.md.
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

/** The identity headers of a validated path. */
export function identityHeaders(path: ValidatedPath, model: CertificateModel, source: string, prefix: string): Record<string, string> {
  const intermediates = path.certificates.slice(1, -1);
  const h: Record<string, string> = {
    "Client-Cert": `:${encodeBase64(path.certificates[0]!.der)}:`,
    [`${prefix}Subject`]: asciiDn(model.subject.rfc4514),
    [`${prefix}Issuer`]: asciiDn(model.issuer.rfc4514),
    [`${prefix}Thumbprint`]: model.thumbprint,
    [`${prefix}SHA256`]: model.sha256,
    [`${prefix}Serial`]: model.serialNumber,
    [`${prefix}Not-Before`]: model.notBefore,
    [`${prefix}Not-After`]: model.notAfter,
    [`${prefix}Verified`]: "SUCCESS",
    [`${prefix}Source`]: source,
  };
  if (intermediates.length > 0) h["Client-Cert-Chain"] = intermediates.map((c) => `:${encodeBase64(c.der)}:`).join(", ");
  return h;
}
