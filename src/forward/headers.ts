/**
 * Header hygiene on the way to the origin.
 *
 * Contract: pure. `upstreamHeaders` copies the client's headers minus: hop-by-hop headers (RFC 9110 §7.6.1,
 * plus those the Connection header names); every certificate-carrying header of every known format, whatever
 * source is configured (Config.certificateHeaders); every header certgate itself emits (RFC 9440
 * Client-Cert / Client-Cert-Chain and the identity prefix); the terminator's secret header; and the
 * X-Forwarded-* headers unless the request came from the authenticated terminator. Then certgate's own
 * identity and X-Forwarded-* headers are set. The origin never sees a client-supplied identity.
 */
import type { Config } from "../config";

export const HOP_BY_HOP = new Set([
  "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
  "proxy-authenticate", "proxy-authorization",
]);

/** Headers certgate emits to the origin (besides the identity prefix). */
export const EMITTED = new Set(["client-cert", "client-cert-chain"]);

export interface ForwardedInfo {
  readonly clientIp: string | null;
  readonly proto: string;
  readonly host: string;
  readonly fromTerminator: boolean;
}

/** True when `name` (lower-case) must not reach the origin as the client sent it. */
export function isStripped(name: string, config: Config, connectionTokens: ReadonlySet<string>): boolean {
  return HOP_BY_HOP.has(name) || connectionTokens.has(name) || EMITTED.has(name) ||
    config.certificateHeaders.has(name) || name === config.terminator.secretHeader ||
    name.startsWith(config.identityHeaderPrefix.toLowerCase());
}

/** The headers to send upstream. */
export function upstreamHeaders(incoming: Headers, config: Config, identity: Record<string, string>, fwd: ForwardedInfo): Headers {
  const connectionTokens = new Set((incoming.get("connection") ?? "").split(",").map((t) => t.trim().toLowerCase()).filter(Boolean));
  const out = new Headers();
  for (const [name, value] of incoming) {
    const lower = name.toLowerCase();
    if (isStripped(lower, config, connectionTokens)) continue;
    if (!fwd.fromTerminator && (lower === "x-forwarded-for" || lower === "x-forwarded-proto" || lower === "x-forwarded-host" || lower === "forwarded")) continue;
    out.append(name, value);
  }
  if (fwd.clientIp) {
    const prior = fwd.fromTerminator ? incoming.get("x-forwarded-for") : null;
    out.set("x-forwarded-for", prior ? `${prior}, ${fwd.clientIp}` : fwd.clientIp);
  }
  if (!fwd.fromTerminator || !incoming.has("x-forwarded-proto")) out.set("x-forwarded-proto", fwd.proto);
  if (!fwd.fromTerminator || !incoming.has("x-forwarded-host")) out.set("x-forwarded-host", fwd.host);
  for (const [name, value] of Object.entries(identity)) out.set(name, value);
  return out;
}
