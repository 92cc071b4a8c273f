/**
 * Signing keys from an OpenID Connect discovery document for validate-jwt's `<openid-config url>` (OpenID Connect
 * Discovery 1.0 §3-4: the document's `jwks_uri` and `issuer`; RFC 7517 §5: the JWK Set).
 *
 * Contract: the only I/O is the `fetch` passed in; the clock is passed in. Keys are cached per URL for
 * OPENID_CACHE_MS (a failure for OPENID_FAILURE_CACHE_MS, so a broken identity provider is not fetched on every
 * request). Budgets: a deadline per fetch, byte caps on both documents, a key count cap; anything unexpected is an
 * `Err` with the reason for the log (never an exception).
 */
import type { JSONWebKeySet } from "jose";
import type { Result } from "../result";
import { readCapped } from "../bytes";

/** Both fetches of a refresh share this deadline: identity providers answer in well under a second. */
export const OPENID_FETCH_TIMEOUT_MS = 5_000;
/** Discovery documents are a few KiB; JWK Sets a few keys of ~1.5 KiB. Far above both. */
export const MAX_OPENID_DOCUMENT_BYTES = 64 * 1024;
export const MAX_JWKS_BYTES = 256 * 1024;
/** Keys kept from one set (signature checks per token stay bounded by jwt.ts's MAX_SIGNING_KEYS too). */
export const MAX_JWKS_KEYS = 32;
/** Keys rotate on a schedule of days with overlap; an hour bounds how long a removed key stays trusted. */
export const OPENID_CACHE_MS = 60 * 60 * 1000;
export const OPENID_FAILURE_CACHE_MS = 30 * 1000;

export interface OpenIdKeys {
  /** The discovery document's `issuer` (null when absent). */
  readonly issuer: string | null;
  readonly jwks: JSONWebKeySet;
}

export type OpenIdFetch = (url: string, init: { signal: AbortSignal; headers: Record<string, string> }) => Promise<Response>;
export type OpenIdKeySource = (configUrl: string) => Promise<Result<OpenIdKeys, string>>;

/** A cached key source over `fetcher`. */
export function openIdKeySource(fetcher: OpenIdFetch, clock: () => number = Date.now): OpenIdKeySource {
  const cache = new Map<string, { readonly until: number; readonly value: Promise<Result<OpenIdKeys, string>> }>();
  return (url) => {
    const now = clock();
    const hit = cache.get(url);
    if (hit && hit.until > now) return hit.value;
    const value = load(fetcher, url);
    cache.set(url, { until: now + OPENID_FAILURE_CACHE_MS, value });
    void value.then((r) => {
      if (r.ok && cache.get(url)?.value === value) cache.set(url, { until: now + OPENID_CACHE_MS, value });
    });
    return value;
  };
}

async function load(fetcher: OpenIdFetch, url: string): Promise<Result<OpenIdKeys, string>> {
  const signal = AbortSignal.timeout(OPENID_FETCH_TIMEOUT_MS);
  const config = await fetchJson(fetcher, url, MAX_OPENID_DOCUMENT_BYTES, signal);
  if (!config.ok) return config;
  const doc = config.value as Record<string, unknown>;
  const jwksUri = doc.jwks_uri;
  if (typeof jwksUri !== "string" || !isHttpUrl(jwksUri)) return { ok: false, error: "the discovery document has no http(s) jwks_uri" };
  const set = await fetchJson(fetcher, jwksUri, MAX_JWKS_BYTES, signal);
  if (!set.ok) return set;
  const keys = (set.value as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return { ok: false, error: "the JWK Set has no keys array" };
  // RFC 7517 §4.2: keys for encryption ("use": "enc") are not signing keys.
  const signing = keys.filter((k): k is JSONWebKeySet["keys"][number] => k !== null && typeof k === "object" && !Array.isArray(k) && (k as { use?: unknown }).use !== "enc");
  return { ok: true, value: { issuer: typeof doc.issuer === "string" ? doc.issuer : null, jwks: { keys: signing.slice(0, MAX_JWKS_KEYS) } } };
}

async function fetchJson(fetcher: OpenIdFetch, url: string, maxBytes: number, signal: AbortSignal): Promise<Result<object, string>> {
  let res: Response;
  try {
    res = await fetcher(url, { signal, headers: { accept: "application/json" } });
  } catch (e) {
    return { ok: false, error: `${url}: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, error: `${url}: HTTP ${res.status}` };
  }
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => {});
    return { ok: false, error: `${url}: ${declared} bytes (at most ${maxBytes})` };
  }
  const text = await readText(res, maxBytes);
  if (text === null) return { ok: false, error: `${url}: over ${maxBytes} bytes` };
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? { ok: true, value: v } : { ok: false, error: `${url}: not a JSON object` };
  } catch {
    return { ok: false, error: `${url}: not JSON` };
  }
}

async function readText(res: Response, maxBytes: number): Promise<string | null> {
  if (!res.body) return "";
  const bytes = await readCapped(res.body, maxBytes);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === "https:" || u.protocol === "http:";
  } catch {
    return false;
  }
}
