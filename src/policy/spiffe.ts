/**
 * policy/spiffe — SPIFFE IDs (github.com/spiffe/spiffe, standards/SPIFFE-ID.md §2) and the `spiffe-id` identity
 * claim of validate-client-certificate (a certgate extension). An X.509-SVID carries its SPIFFE ID as its only URI
 * SAN (standards/X509-SVID.md §2: "MUST contain exactly one URI SAN"); a certificate with none or several is not
 * an SVID and matches no `spiffe-id`.
 *
 * Contract: pure. A SPIFFE ID is `spiffe://<trust domain><path>`: the scheme lowercase, the trust domain of
 * [a-z0-9._-] (lowercase only), path segments of [A-Za-z0-9._-], none empty, `.` or `..`, no trailing `/`, no query,
 * fragment, port or user info, at most 2048 bytes. A claim ending in `/*` matches that path and any path under it
 * (by whole segments: `/ns/prod/*` matches `/ns/prod/web`, not `/ns/production`).
 */

export interface SpiffeId {
  readonly trustDomain: string;
  /** "" or `/a/b`. */
  readonly path: string;
}

const ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/;

/** The SPIFFE ID `text` is, or null. */
export function parseSpiffeId(text: string): SpiffeId | null {
  if (text.length > 2048) return null;
  const m = ID.exec(text);
  if (!m) return null;
  const path = m[2]!;
  if (path.split("/").some((seg) => seg === "." || seg === "..")) return null;
  return { trustDomain: m[1]!, path };
}

/** A `spiffe-id` claim: an ID, or an ID followed by `/*` for everything under its path. */
export interface SpiffeClaim extends SpiffeId {
  readonly prefix: boolean;
}

export function parseSpiffeClaim(text: string): SpiffeClaim | null {
  const prefix = text.endsWith("/*");
  const id = parseSpiffeId(prefix ? text.slice(0, -2) : text);
  return id ? { ...id, prefix } : null;
}

/** Whether a certificate with these URI SANs is an SVID whose ID the claim accepts. */
export function matchesSpiffeClaim(claim: SpiffeClaim, uriSans: readonly string[]): boolean {
  if (uriSans.length !== 1) return false;
  const id = parseSpiffeId(uriSans[0]!);
  if (id === null || id.trustDomain !== claim.trustDomain) return false;
  return claim.prefix ? id.path.startsWith(`${claim.path}/`) || id.path === claim.path : id.path === claim.path;
}
