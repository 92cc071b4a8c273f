/**
 * Expiry watch: which certificates and CRLs of a trust snapshot expire within the warning thresholds.
 *
 * Contract: pure (no I/O, no clock: `now` is a parameter). Covers every store's anchors, intermediates and
 * pinned certificates, the registered certificates, and each CRL's nextUpdate (a CRL past nextUpdate stops
 * covering its certificates, RFC 5280 §6.3.3, so in `strict` mode clients are denied).
 */
import type { TrustSnapshot } from "./snapshot";

const DAY_MS = 86_400_000;

/** Default warning thresholds, in days (a month, a week, a day). */
export const DEFAULT_EXPIRY_WARN_DAYS: readonly number[] = [30, 7, 1];

export type ExpiryKind = "anchor" | "intermediate" | "pinned" | "registered" | "crl";

export interface ExpiryFinding {
  /** Store name; null for registered certificates (they belong to the version, not a store). */
  readonly store: string | null;
  readonly kind: ExpiryKind;
  /** Certificate subject (CRL: issuer), RFC 4514. */
  readonly subject: string;
  readonly sha256: string;
  /** Registered certificate id. */
  readonly id?: string;
  readonly notAfter?: string;
  readonly nextUpdate?: string;
  /** Whole days left (floor); negative once expired. */
  readonly daysLeft: number;
  /** The smallest threshold reached (0 once expired). */
  readonly threshold: number;
  readonly expired: boolean;
}

/**
 * Parses `EXPIRY_WARN_DAYS` ("30,7,1"): positive integers, returned in descending order without duplicates.
 * Absent → defaults; malformed → null (the caller logs it and uses the defaults).
 */
export function parseWarnDays(value: string | undefined): readonly number[] | null {
  if (value === undefined || value.trim() === "") return DEFAULT_EXPIRY_WARN_DAYS;
  const parts = value.split(",").map((s) => s.trim());
  if (!parts.every((p) => /^[0-9]{1,4}$/.test(p) && Number(p) > 0)) return null;
  return [...new Set(parts.map(Number))].sort((a, b) => b - a);
}

/** Findings for every item expiring within the largest threshold (or already expired), in snapshot order. */
export function checkExpiry(snapshot: TrustSnapshot, now: Date, thresholds: readonly number[]): ExpiryFinding[] {
  const findings: ExpiryFinding[] = [];
  const largest = Math.max(0, ...thresholds);
  const consider = (at: Date, item: Omit<ExpiryFinding, "daysLeft" | "threshold" | "expired">) => {
    const leftMs = at.getTime() - now.getTime();
    const expired = leftMs <= 0;
    const daysLeft = Math.floor(leftMs / DAY_MS);
    if (!expired && daysLeft > largest) return;
    const threshold = expired ? 0 : Math.min(...thresholds.filter((t) => daysLeft <= t));
    findings.push({ ...item, daysLeft, threshold, expired });
  };
  for (const store of snapshot.stores) {
    const certs = [
      ...store.anchors.map((c) => ["anchor", c] as const),
      ...store.intermediates.map((c) => ["intermediate", c] as const),
      ...store.pinned.map((c) => ["pinned", c] as const),
    ];
    for (const [kind, c] of certs) {
      consider(c.cert.notAfter, { store: store.name, kind, subject: c.subject, sha256: c.sha256, notAfter: c.cert.notAfter.toISOString() });
    }
    for (const c of store.crls) {
      if (c.crl.nextUpdate === null) continue;
      consider(c.crl.nextUpdate, { store: store.name, kind: "crl", subject: c.issuer, sha256: c.sha256, nextUpdate: c.crl.nextUpdate.toISOString() });
    }
  }
  for (const r of snapshot.registered) {
    consider(r.cert.notAfter, { store: null, kind: "registered", id: r.id, subject: r.subject, sha256: r.sha256, notAfter: r.cert.notAfter.toISOString() });
  }
  return findings;
}
