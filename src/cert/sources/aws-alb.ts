/**
 * cert/sources/aws-alb — the client certificate headers of an AWS Application Load Balancer with mutual TLS.
 *
 * Contract: pure, never throws; `fromTerminator: true`. Values are capped, strictly percent-decoded (see
 * shared.percentDecode; `+` stays `+`), then decoded as PEM.
 *
 * Format, as documented (Elastic Load Balancing user guide: "Mutual authentication with TLS in Application
 * Load Balancer", "HTTP header modification"; AWS mTLS demo pages; checked 2026):
 * - Passthrough mode: `X-Amzn-Mtls-Clientcert` — "URL-encoded PEM format of the entire client certificate
 *   chain presented in the handshake, with +=/ as safe characters", leaf first and ending with the root
 *   ("the presentation order starts with the leaf certificate and ends with the root certificate").
 * - Verify mode: `X-Amzn-Mtls-Clientcert-Leaf` — "URL-encoded PEM format of the leaf certificate, with +=/ as
 *   safe characters", plus `-Serial-Number` (hex), `-Issuer` and `-Subject` (RFC 2253), `-Validity` (ISO 8601
 *   NotBefore/NotAfter). Those four are never read, only listed for stripping: an origin must not see forged
 *   copies.
 * ALB sends one mode's headers, never both; both present is certificate_header_invalid (one was injected).
 * ALB's header modification can rename these headers: `options.header` names the one header this source then
 * reads — the renamed passthrough header (the one to use with certgate: it carries the chain, and certgate
 * validates it anyway) or a renamed verify-mode leaf header (same encoding). A source reads only the headers
 * it is configured to read: with a rename, neither default name is read (a client could otherwise put a
 * certificate in the header the operator did not name); all of them are still listed for stripping.
 * A raw comma in a value is certificate_header_invalid: PEM holds none, so the header was repeated.
 */
import { SOURCE_HEADERS } from "../../http/header-names";
import { NONE, decodeUrlEncodedPem, failed, guarded, headerInvalid, leafFirst, readHeader } from "./shared";
import type { CertificateSource, SourceInput, SourceOptions, SourceResult } from "./source";

const NAME = "aws-alb";
const CHAIN_HEADER = SOURCE_HEADERS.awsAlb.chain;
const LEAF_HEADER = SOURCE_HEADERS.awsAlb.leaf;
/** Set by ALB in verify mode alongside the leaf; stripped, never read. */
const INFO_HEADERS = SOURCE_HEADERS.awsAlb.info;

/** The source reading ALB's mTLS headers; `options.header` renames X-Amzn-Mtls-Clientcert. */
export function createAwsAlbSource(options: SourceOptions = {}): CertificateSource {
  const renamed = options.header?.toLowerCase();
  const chainHeader = renamed ?? CHAIN_HEADER;
  const headers = [...new Set([chainHeader, CHAIN_HEADER, LEAF_HEADER, ...INFO_HEADERS])];
  return {
    name: NAME,
    headers,
    fromTerminator: true,
    extract: (input) => guarded(NAME, () => extractAlb(input, chainHeader, renamed === undefined)),
  };
}

function extractAlb({ headers }: SourceInput, chainHeader: string, readLeafHeader: boolean): SourceResult {
  const chain = readHeader(headers, chainHeader, NAME);
  if (chain.kind === "error") return failed(chain.error);
  const leaf: ReturnType<typeof readHeader> = readLeafHeader ? readHeader(headers, LEAF_HEADER, NAME) : { kind: "absent" };
  if (leaf.kind === "error") return failed(leaf.error);

  if (chain.kind === "value" && leaf.kind === "value") {
    return failed(headerInvalid(NAME, chainHeader, `it must not come with ${LEAF_HEADER} (ALB sends one or the other)`));
  }
  const [header, value] = chain.kind === "value" ? [chainHeader, chain.value] : leaf.kind === "value" ? [LEAF_HEADER, leaf.value] : [];
  if (header === undefined || value === undefined) return NONE;
  if (value.includes(",")) return failed(headerInvalid(NAME, header, "it occurs more than once"));
  const certs = decodeUrlEncodedPem(value, NAME, header, header === LEAF_HEADER ? 1 : undefined);
  return certs.ok ? leafFirst(NAME, certs.value) : failed(certs.error);
}
