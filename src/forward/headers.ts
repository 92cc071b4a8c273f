/**
 * Header hygiene on the way to the origin.
 *
 * Contract: pure. `upstreamHeaders` copies the client's headers minus: hop-by-hop headers (RFC 9110 §7.6.1,
 * plus those the Connection header names); every certificate-carrying header of every known format, whatever
 * source is configured (Config.certificateHeaders); every header certgate itself emits (RFC 9440
 * Client-Cert / Client-Cert-Chain and the identity prefix); the terminator's secret header and the trace
 * secret header (X-Certgate-Trace-Secret); and the X-Forwarded-* headers unless the request came from the
 * authenticated terminator. Then certgate's own identity and X-Forwarded-* headers are set. The origin never
 * sees a client-supplied identity. Policies see and edit the headers without the identity (policy/run.ts);
 * `isStripped` names are the gateway's own, which a policy's set-header cannot touch.
 */
import { TRACE_SECRET_HEADER, type Config } from "../config";

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
    config.certificateHeaders.has(name) || name === config.terminator.secretHeader || name === TRACE_SECRET_HEADER ||
    name.startsWith(config.identityHeaders.prefix.toLowerCase());
}

/**
 * The headers to send upstream: a copy of the incoming ones (one native copy), minus the stripped names,
 * plus certgate's. In workerd every Headers call crosses into C++ (several µs each, measured), so the copy is
 * edited in place — typically two deletes — rather than rebuilt header by header.
 */
export function upstreamHeaders(incoming: Headers, config: Config, identity: Record<string, string>, fwd: ForwardedInfo): Headers {
  const connection = incoming.get("connection");
  const connectionTokens = new Set(connection ? connection.split(",").map((t) => t.trim().toLowerCase()).filter(Boolean) : []);
  const out = new Headers(incoming);
  let priorFor: string | null = null;
  let hasProto = false;
  let hasHost = false;
  for (const [name, value] of incoming) {
    // Headers iteration yields lower-case names.
    if (isStripped(name, config, connectionTokens)) {
      out.delete(name);
      continue;
    }
    if (name === "x-forwarded-for" || name === "x-forwarded-proto" || name === "x-forwarded-host" || name === "forwarded") {
      if (!fwd.fromTerminator) {
        out.delete(name);
        continue;
      }
      if (name === "x-forwarded-for") priorFor = value;
      else if (name === "x-forwarded-proto") hasProto = true;
      else if (name === "x-forwarded-host") hasHost = true;
    }
  }
  if (fwd.clientIp) out.set("x-forwarded-for", priorFor ? `${priorFor}, ${fwd.clientIp}` : fwd.clientIp);
  if (!hasProto) out.set("x-forwarded-proto", fwd.proto);
  if (!hasHost) out.set("x-forwarded-host", fwd.host);
  for (const name in identity) out.set(name, identity[name]!);
  return out;
}
