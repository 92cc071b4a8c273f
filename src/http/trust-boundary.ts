/**
 * The trust boundary: does this request come from the configured TLS terminator?
 *
 * Contract: no I/O beyond WebCrypto. Header certificate sources are honoured only when this says yes. The
 * proof is a shared secret in a header (compared in constant time: both sides are hashed with SHA-256 and
 * the digests compared without early exit, so neither length nor content leaks through timing) and/or the
 * peer address in an allow-list. When both are configured, both must hold. The peer address is
 * `CF-Connecting-IP`, which Cloudflare's edge sets and overwrites; a request that did not cross the edge
 * (local development) has none and never matches an allow-list.
 */
import type { Config } from "../config";
import { addressAllowed } from "./addresses";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two strings (through fixed-length digests). */
export async function secretsEqual(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(presented), digest(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** True when the request proves it came from the configured terminator. */
export async function fromTerminator(headers: Headers, config: Config): Promise<boolean> {
  const t = config.terminator;
  if (t.secret === null && t.addresses === null) return false;
  if (t.addresses !== null && !addressAllowed(headers.get("cf-connecting-ip"), t.addresses)) return false;
  if (t.secret !== null) {
    const presented = headers.get(t.secretHeader);
    if (presented === null || !(await secretsEqual(presented, t.secret))) return false;
  }
  return true;
}
