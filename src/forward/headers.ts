/**
 * Header hygiene on the way to the origin.
 *
 * Contract: pure. `upstreamHeaders` copies the client's headers minus: hop-by-hop headers (RFC 9110 §7.6.1,
 * plus those the Connection header names); the names certgate owns and every client-certificate header family
 * and STRIP_HEADERS entry, in every spelling (`_` read as `-`; http/header-names.ts is the contract); and the
 * client address and scheme headers (X-Forwarded-*, Forwarded, X-Real-IP, True-Client-IP…) unless the
 * request came from the authenticated terminator — and their `_` spellings always. Then certgate's own
 * identity and X-Forwarded-* headers are set. The origin never sees a client-supplied identity. Policies see
 * and edit the headers without the identity (policy/run.ts); `isOwned` names are the gateway's own, which a
 * policy's set-header cannot touch.
 */
import type { Config } from "../config";
import { HOP_BY_HOP, normalizeHeaderName } from "../http/header-names";

export { HOP_BY_HOP } from "../http/header-names";

export interface ForwardedInfo {
  readonly clientIp: string | null;
  readonly proto: string;
  readonly host: string;
  readonly fromTerminator: boolean;
}

/** True when `name` is certgate's own (in any spelling): no client copy is forwarded and no policy writes it. */
export function isOwned(name: string, config: Config): boolean {
  return config.ownedHeaders.test(normalizeHeaderName(name));
}

/** True when a policy's set-header must not write `name` (lower-case): hop-by-hop headers and certgate's own. */
export function isReserved(name: string, config: Config): boolean {
  return HOP_BY_HOP.has(name) || isOwned(name, config);
}

/** True when `name` (lower-case) must not reach the origin as the client sent it, whoever sent it. */
export function isStripped(name: string, config: Config, connectionTokens: ReadonlySet<string>): boolean {
  if (HOP_BY_HOP.has(name) || connectionTokens.has(name)) return true;
  const normal = normalizeHeaderName(name);
  return config.ownedHeaders.test(normal) || config.strippedHeaders.test(normal);
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
    if (config.forwardingHeaders.test(normalizeHeaderName(name))) {
      // Only the terminator's own (`-` spelled) copies pass; a terminator never writes the `_` spelling.
      if (!fwd.fromTerminator || name.includes("_")) {
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
