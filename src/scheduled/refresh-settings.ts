/**
 * A trust store's CRL refresh settings: the opt-in, and the CRL URLs the operator names.
 *
 * Contract: pure. One shape in both places it lives — the store record in KV (`refreshCrls`, `crlUrls`,
 * docs/kv-schema.md), read by the scheduled job (snapshot.ts) and `kv status`/`kv sync`, and the trust folder's
 * `stores/<name>/refresh.json` (scripts/kv/source.ts), which `kv sync` writes into the record — so a sync
 * publishes what the folder says and never drops a setting silently (the plan shows every change).
 *
 * Why URLs of its own: the refresh reads the distribution points of the store's CA certificates, which name
 * the CRL of each CA's *issuer*. In a root → issuing CA → clients PKI the CRL that lists revoked client
 * certificates is the issuing CA's own, named only in the clients' certificates; the operator knows its URL.
 * A CRL fetched from one of these URLs must be issued and signed by a CA of the store (crl-refresh.ts).
 */
import { err, ok, type Result } from "../result";

export interface RefreshSettings {
  /** Refresh this store's CRLs on every scheduled run. */
  readonly refreshCrls: boolean;
  /** HTTP(S) URLs of CRLs to fetch besides the CA certificates' distribution points (needs refreshCrls). */
  readonly crlUrls: readonly string[];
}

export const NO_REFRESH: RefreshSettings = { refreshCrls: false, crlUrls: [] };

/** Most configured CRL URLs per store: one run fetches at most MAX_CRL_FETCHES (16) CRLs in all. */
export const MAX_CRL_URLS = 16;
/** Longest URL accepted (a URL in a CRL distribution point is short; this bounds a mistaken paste). */
const MAX_URL_CHARS = 2048;

/**
 * The settings in `value` (a store record, or refresh.json's object): `refreshCrls` (boolean, default false)
 * and `crlUrls` (array of distinct http/https URLs without credentials, at most MAX_CRL_URLS, only with
 * `refreshCrls: true`). `only`: the object may hold no other member (refresh.json); a store record has others.
 */
export function parseRefreshSettings(value: unknown, only = false): Result<RefreshSettings, string> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return err('not a JSON object ({"refreshCrls": true, "crlUrls": [...]})');
  const v = value as Record<string, unknown>;
  if (only) {
    const unknown = Object.keys(v).filter((k) => k !== "refreshCrls" && k !== "crlUrls");
    if (unknown.length > 0) return err(`unknown member(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} (known: refreshCrls, crlUrls)`);
  }
  if (v.refreshCrls !== undefined && typeof v.refreshCrls !== "boolean") return err("refreshCrls must be true or false");
  const refreshCrls = v.refreshCrls === true;
  if (v.crlUrls === undefined) return ok({ refreshCrls, crlUrls: [] });
  if (!Array.isArray(v.crlUrls)) return err("crlUrls must be an array of URLs");
  if (v.crlUrls.length > MAX_CRL_URLS) return err(`crlUrls holds ${v.crlUrls.length} URLs; at most ${MAX_CRL_URLS}`);
  const urls: string[] = [];
  for (const u of v.crlUrls) {
    if (typeof u !== "string" || u.length > MAX_URL_CHARS) return err(`crlUrls: ${JSON.stringify(u).slice(0, 80)} is not a URL string of at most ${MAX_URL_CHARS} characters`);
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      return err(`crlUrls: ${JSON.stringify(u)} is not a URL`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return err(`crlUrls: ${JSON.stringify(u)} is not http or https`);
    if (url.username !== "" || url.password !== "") return err(`crlUrls: ${JSON.stringify(u)} carries credentials`);
    if (urls.includes(u)) return err(`crlUrls: ${JSON.stringify(u)} is listed twice`);
    urls.push(u);
  }
  if (urls.length > 0 && !refreshCrls) return err("crlUrls is set but refreshCrls is not true: nothing would fetch them");
  return ok({ refreshCrls, crlUrls: urls });
}

/** The store record members that carry `s` (none when the refresh is off). */
export function refreshRecordFields(s: RefreshSettings): { refreshCrls?: true; crlUrls?: string[] } {
  if (!s.refreshCrls) return {};
  return s.crlUrls.length > 0 ? { refreshCrls: true, crlUrls: [...s.crlUrls] } : { refreshCrls: true };
}

export function sameRefreshSettings(a: RefreshSettings, b: RefreshSettings): boolean {
  return a.refreshCrls === b.refreshCrls && a.crlUrls.length === b.crlUrls.length && a.crlUrls.every((u, i) => u === b.crlUrls[i]);
}

/** One line for plans and status: `CRL refresh off` / `CRL refresh on, 1 URL: http://…`. */
export function describeRefreshSettings(s: RefreshSettings): string {
  if (!s.refreshCrls) return "CRL refresh off";
  return s.crlUrls.length === 0 ? "CRL refresh on (CA distribution points only)" : `CRL refresh on, also ${s.crlUrls.join(", ")}`;
}
