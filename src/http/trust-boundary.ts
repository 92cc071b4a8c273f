/**
 * The trust boundary: does this request come from the configured TLS terminator?
 *
 * Contract: pure. Header certificate sources are honoured only when this says yes. The proof is a shared
 * secret in a header (compared in constant time, see secretsEqual), and optionally the peer address in an
 * allow-list: when both are configured, both must hold. The peer address is `CF-Connecting-IP`, which
 * Cloudflare's edge sets and overwrites, but `wrangler dev` / miniflare and a self-hosted workerd pass on
 * the client's own; so configuration (config.ts) refuses an address-only boundary for header sources, and
 * the address can only narrow the secret, never replace it.
 */
import type { Config } from "../config";
import { addressAllowed } from "./addresses";

/**
 * Constant-time equality: the loop always runs over the expected secret's length and never exits early, so
 * timing reveals at most that length (fixed by configuration, at least 16 characters), never its content.
 * Synchronous on purpose: it runs on every request, and a digest would add an async round trip.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  let diff = presented.length ^ expected.length;
  const n = presented.length;
  for (let i = 0; i < expected.length; i++) {
    diff |= (n === 0 ? 0 : presented.charCodeAt(i % n)) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

/** True when the request proves it came from the configured terminator. */
export function fromTerminator(headers: Headers, config: Config): boolean {
  return terminatorCheck(headers, config) === null;
}

/**
 * Why the request does not prove it came from the configured terminator, for the operator's log (never the
 * client): which check failed, naming the header or address — never the secret or what was presented in
 * its place. Null when it does.
 */
export function terminatorCheck(headers: Headers, config: Config): string | null {
  const t = config.terminator;
  if (t.secret === null && t.addresses === null) return "no terminator is configured (TERMINATOR_SECRET / TERMINATOR_ADDRESSES)";
  if (t.addresses !== null) {
    const ip = headers.get("cf-connecting-ip");
    if (ip === null) return "no CF-Connecting-IP (the request did not cross Cloudflare's edge), so TERMINATOR_ADDRESSES cannot match";
    if (!addressAllowed(ip, t.addresses)) return `CF-Connecting-IP ${ip} is not in TERMINATOR_ADDRESSES`;
  }
  if (t.secret !== null) {
    const presented = headers.get(t.secretHeader);
    if (presented === null) return `no ${t.secretHeader} header (TERMINATOR_SECRET)`;
    if (!secretsEqual(presented, t.secret)) return `${t.secretHeader} does not match TERMINATOR_SECRET`;
  }
  return null;
}
