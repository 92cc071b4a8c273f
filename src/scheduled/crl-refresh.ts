/**
 * CRL refresh for stores that opt in (`"refreshCrls": true` in the store record, docs/kv-schema.md; written
 * from the trust folder's stores/<name>/refresh.json, refresh-settings.ts).
 *
 * Two kinds of URL are fetched. (1) For each CA certificate of such a store, the HTTP(S) URIs of its CRL
 * distribution points (RFC 5280 §4.2.1.13) name where the CRL covering that certificate is published; that
 * CRL must be issued by the certificate's issuer (for a root, itself). (2) The store's own `crlUrls`, which
 * the operator names — in a root → issuing CA → clients PKI, the issuing CA's CRL, the one that lists revoked
 * client certificates and that no CA certificate points to; that CRL may be issued by any CA of the store.
 * Either way the issuer must be a CA of the same store and the CRL's signature must verify with its key
 * (with cRLSign when keyUsage is present) before anything is staged. A fetched CRL replaces the stored one of
 * the same issuer only when it is acceptable (acceptCrl) and newer, or is added when the store holds none
 * for that issuer. Replacements are published
 * as a complete new version (every key copied, the new CRLs in place) and `active` is flipped last, so a
 * reader sees the old version or the new one, never a mix.
 *
 * Contract: `acceptCrl` is pure (`now` is a parameter); `fetchCrl` and `refreshCrls` do I/O through the
 * injected `fetch` and KV, with the budgets below. Failures are returned as alerts, never thrown.
 */
import { renderName } from "../cert/dn";
import { KEY_USAGE_BITS, parseCrl, type ParsedCertificate, type ParsedCrl } from "../cert/parse";
import { MAX_CRL_BYTES } from "../limits";
import { readCapped } from "../bytes";
import { sha256Hex, verifySignature } from "../pki/crypto";
import { encodeActive, crlKey, storeKey, versionPrefix } from "../kv-schema";
import { crlDer, readActiveVersion, type SnapshotCertificate, type StoreSnapshot, type TrustSnapshot } from "./snapshot";

/** Most CRL fetches per run: bounds the run's subrequests (Workers allow 50 on the free plan). */
export const MAX_CRL_FETCHES = 16;
/** Per-fetch timeout (headers and body). */
export const CRL_FETCH_TIMEOUT_MS = 10_000;
/** The whole refresh's budget: well inside a cron Worker's 15-minute wall-clock limit, and leaves room for KV. */
export const CRL_RUN_BUDGET_MS = 60_000;
const CRL_SIGN = 1 << KEY_USAGE_BITS.indexOf("cRLSign");
/** CRL signatures are held to the gateway's default algorithm policy (src/config.ts defaults). */
const POLICY = { allowSha1: false, minRsaBits: 2048 };

export type CrlRefusal =
  | "fetch_failed" | "http_status" | "timeout" | "too_large" | "malformed" | "wrong_issuer" | "no_signer"
  | "signature_invalid" | "not_yet_valid" | "expired" | "delta_or_critical" | "not_newer" | "conflict" | "budget_exceeded";

export interface CrlAlert {
  readonly event: "crl_refresh_failed";
  readonly store: string;
  readonly url: string;
  readonly reason: CrlRefusal;
  readonly detail: string;
}

export interface CrlReplacement {
  readonly store: string;
  readonly url: string;
  readonly issuer: string;
  /** Index of the replaced CRL key, or null when the CRL is added. */
  readonly index: number | null;
  readonly crlNumber: string | null;
  readonly sha256: string;
}

export interface RefreshOptions {
  readonly now: Date;
  readonly fetch: typeof fetch;
  /** Monotonic-enough clock for the budgets (default Date.now). */
  readonly clock?: () => number;
  readonly maxFetches?: number;
  readonly fetchTimeoutMs?: number;
  readonly runBudgetMs?: number;
  readonly maxBytes?: number;
}

export interface RefreshOutcome {
  readonly replacements: readonly CrlReplacement[];
  readonly alerts: readonly CrlAlert[];
  readonly fetches: number;
  /** The version published, or null when nothing changed. */
  readonly version: string | null;
}

type Fetched = { ok: true; bytes: Uint8Array } | { ok: false; reason: CrlRefusal; detail: string };

/** GETs `url` with a timeout, reading at most `maxBytes` of body (checked while streaming). */
export async function fetchCrl(url: string, f: typeof fetch, timeoutMs: number, maxBytes: number): Promise<Fetched> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  const read = async (): Promise<Fetched> => {
    const res = await f(url, { method: "GET", signal: controller.signal, redirect: "follow" });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, reason: "http_status", detail: `HTTP ${res.status}` };
    }
    const declared = Number(res.headers.get("content-length") ?? "NaN");
    if (declared > maxBytes) {
      await res.body?.cancel();
      return { ok: false, reason: "too_large", detail: `Content-Length ${declared} > ${maxBytes}` };
    }
    if (!res.body) return { ok: false, reason: "malformed", detail: "empty body" };
    const bytes = await readCapped(res.body, maxBytes);
    if (bytes === null) return { ok: false, reason: "too_large", detail: `body exceeds ${maxBytes} bytes` };
    return { ok: true, bytes };
  };
  const attempt = read();
  try {
    const r = await Promise.race([attempt, timeout]);
    if (r === "timeout") {
      attempt.catch(() => {});
      return { ok: false, reason: "timeout", detail: `no complete answer within ${timeoutMs} ms` };
    }
    return r;
  } catch (e) {
    return { ok: false, reason: "fetch_failed", detail: e instanceof Error ? e.message : String(e) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * Whether `crl` may replace `stored`: fetched from a distribution point of `subject`, issued by subject's
 * issuer (`subject` null: from a URL the operator named, any issuer); signed by a CA of the store with that
 * name (cRLSign when keyUsage is present); a complete CRL with no unknown critical extension (RFC 5280 §5.2);
 * thisUpdate ≤ now < nextUpdate; and newer than `stored` (higher cRLNumber, or a later thisUpdate when either
 * lacks one).
 */
export async function acceptCrl(
  crl: ParsedCrl,
  subject: ParsedCertificate | null,
  cas: readonly SnapshotCertificate[],
  stored: ParsedCrl | null,
  now: Date,
): Promise<{ ok: true } | { ok: false; reason: CrlRefusal; detail: string }> {
  if (subject !== null && crl.issuerKey !== subject.issuerKey) return { ok: false, reason: "wrong_issuer", detail: "the CRL's issuer is not the certificate's issuer" };
  if (crl.deltaBase !== null || crl.unknownCritical.length > 0 || crl.entries.some((e) => e.unknownCritical.length > 0)) {
    return { ok: false, reason: "delta_or_critical", detail: "a delta CRL, or an unknown critical extension" };
  }
  const signers = cas.filter((c) => c.cert.subjectKey === crl.issuerKey && (c.cert.extensions.keyUsage === undefined || (c.cert.extensions.keyUsage & CRL_SIGN) !== 0));
  if (signers.length === 0) return { ok: false, reason: "no_signer", detail: "no CA of the store with cRLSign has the CRL's issuer name" };
  let verified = false;
  for (const s of signers) {
    if ((await verifySignature(crl.signature, s.cert.publicKey, POLICY)).ok) {
      verified = true;
      break;
    }
  }
  if (!verified) return { ok: false, reason: "signature_invalid", detail: "the CRL's signature does not verify with the issuing CA's key" };
  if (crl.thisUpdate.getTime() > now.getTime()) return { ok: false, reason: "not_yet_valid", detail: `thisUpdate ${crl.thisUpdate.toISOString()} is in the future` };
  if (crl.nextUpdate === null || crl.nextUpdate.getTime() <= now.getTime()) {
    return { ok: false, reason: "expired", detail: `nextUpdate ${crl.nextUpdate?.toISOString() ?? "absent"} is not in the future` };
  }
  if (stored) {
    const newer = crl.crlNumber !== null && stored.crlNumber !== null
      ? crl.crlNumber > stored.crlNumber
      : crl.thisUpdate.getTime() > stored.thisUpdate.getTime();
    if (!newer) {
      return { ok: false, reason: "not_newer", detail: `cRLNumber ${crl.crlNumber ?? "-"} / thisUpdate ${crl.thisUpdate.toISOString()} is not newer than the stored ${stored.crlNumber ?? "-"} / ${stored.thisUpdate.toISOString()}` };
    }
  }
  return { ok: true };
}

/** HTTP(S) URIs of a certificate's distribution points that name no separate CRL issuer. */
function crlUrls(cert: ParsedCertificate): string[] {
  const urls: string[] = [];
  for (const dp of cert.extensions.crlDistributionPoints ?? []) {
    if (dp.crlIssuer !== null) continue; // indirect CRLs: not refreshed (their issuer need not be in the store)
    for (const n of dp.fullName ?? []) if (n.type === "uri" && /^https?:\/\//i.test(n.value)) urls.push(n.value);
  }
  return urls;
}

/** Fetches, checks and (when anything is newer) publishes a new version. */
export async function refreshCrls(kv: KVNamespace, snapshot: TrustSnapshot, options: RefreshOptions): Promise<RefreshOutcome> {
  const clock = options.clock ?? (() => Date.now());
  const started = clock();
  const maxFetches = options.maxFetches ?? MAX_CRL_FETCHES;
  const budgetMs = options.runBudgetMs ?? CRL_RUN_BUDGET_MS;
  const alerts: CrlAlert[] = [];
  const replacements: CrlReplacement[] = [];
  /** New CRL bytes by store: index → DER (index ≥ current count: appended). */
  const changes = new Map<string, Map<number, Uint8Array>>();
  let fetches = 0;

  for (const store of snapshot.stores.filter((s) => s.refreshCrls)) {
    const cas = [...store.anchors, ...store.intermediates];
    const seen = new Set<string>();
    const storeChanges = new Map<number, Uint8Array>();
    /** Issuers whose CRL this run already staged for the store (two URLs may publish the same CRL). */
    const staged = new Set<string>();
    let nextIndex = Number(store.record.crls ?? 0) || 0;
    // The operator's URLs first (the issuing CA's CRL revokes clients), then each CA's distribution points.
    const sources: Array<{ url: string; subject: ParsedCertificate | null }> = [
      ...store.crlUrls.map((url) => ({ url, subject: null })),
      ...cas.flatMap((ca) => crlUrls(ca.cert).map((url) => ({ url, subject: ca.cert as ParsedCertificate | null }))),
    ];
    for (const { url, subject } of sources) {
      if (seen.has(url)) continue;
      seen.add(url);
      const alert = (reason: CrlRefusal, detail: string) => alerts.push({ event: "crl_refresh_failed", store: store.name, url, reason, detail });
      const left = budgetMs - (clock() - started);
      if (fetches >= maxFetches || left <= 0) {
        alert("budget_exceeded", fetches >= maxFetches ? `at most ${maxFetches} CRL fetches per run` : `the run's ${budgetMs} ms budget is spent`);
        continue;
      }
      fetches++;
      const got = await fetchCrl(url, options.fetch, Math.min(options.fetchTimeoutMs ?? CRL_FETCH_TIMEOUT_MS, left), options.maxBytes ?? MAX_CRL_BYTES);
      if (!got.ok) {
        alert(got.reason, got.detail);
        continue;
      }
      const der = crlDer(got.bytes);
      const parsed = der === null ? null : parseCrl(der);
      if (!parsed?.ok) {
        alert("malformed", parsed ? parsed.error.detail : "not a DER or PEM CRL");
        continue;
      }
      const crl = parsed.value;
      const stored = currentCrl(store, crl.issuerKey);
      const sha256 = await sha256Hex(crl.der);
      if (stored && stored.sha256 === sha256) continue; // the CA still publishes what we hold
      if (staged.has(crl.issuerKey)) continue; // already taken from another URL this run
      const verdict = await acceptCrl(crl, subject, cas, stored?.crl ?? null, options.now);
      if (!verdict.ok) {
        alert(verdict.reason, verdict.detail);
        continue;
      }
      const index = stored ? stored.index : nextIndex++;
      storeChanges.set(index, crl.der);
      staged.add(crl.issuerKey);
      replacements.push({ store: store.name, url, issuer: renderName(crl.issuer).rfc4514, index: stored ? stored.index : null, crlNumber: crl.crlNumber?.toString() ?? null, sha256 });
    }
    if (storeChanges.size > 0) changes.set(store.name, storeChanges);
  }
  if (changes.size === 0) return { replacements, alerts, fetches, version: null };

  const version = await publishVersion(kv, snapshot, changes, options.now);
  if (version === null) {
    for (const r of replacements) alerts.push({ event: "crl_refresh_failed", store: r.store, url: r.url, reason: "conflict", detail: "`active` changed during the run; the new CRL was not published" });
    return { replacements: [], alerts, fetches, version: null };
  }
  return { replacements, alerts, fetches, version };
}

/** The stored complete CRL of `issuerKey` in `store` (the latest, if the operator stored several). */
function currentCrl(store: StoreSnapshot, issuerKey: string) {
  const mine = store.crls.filter((c) => c.crl.issuerKey === issuerKey && c.crl.deltaBase === null);
  return mine.sort((a, b) => b.crl.thisUpdate.getTime() - a.crl.thisUpdate.getTime())[0] ?? null;
}

/**
 * Copies every key of the snapshot's version to a new version with `changes` applied, then flips `active` —
 * unless `active` moved meanwhile (an operator's `kv sync`), in which case the staged copy is left unused
 * (an orphan version, deleted like any old one) and null is returned. KV has no compare-and-swap: a sync
 * landing between the re-read and the flip is still overwritten; the next run then refreshes on top of it.
 */
async function publishVersion(kv: KVNamespace, snapshot: TrustSnapshot, changes: ReadonlyMap<string, ReadonlyMap<number, Uint8Array>>, now: Date): Promise<string | null> {
  const suffix = (await sha256Hex(new TextEncoder().encode(`${snapshot.version}\u0000${[...changes].map(([s, m]) => `${s}:${[...m.keys()].join(",")}`).join(";")}\u0000${now.toISOString()}`))).slice(0, 12);
  const version = `${now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "")}-crl-${suffix}`;
  const from = versionPrefix(snapshot.version);
  for (const key of snapshot.keys) {
    const target = versionPrefix(version) + key.slice(from.length);
    const value = await kv.get(key, "arrayBuffer");
    if (value === null) throw new Error(`KV key ${key} vanished while copying version ${snapshot.version}`);
    await kv.put(target, value);
  }
  for (const [name, m] of changes) {
    const store = snapshot.stores.find((s) => s.name === name)!;
    const count = Math.max(Number(store.record.crls ?? 0) || 0, ...[...m.keys()].map((i) => i + 1));
    for (const [i, der] of m) await kv.put(crlKey(version, name, i), der);
    await kv.put(storeKey(version, name), JSON.stringify({ ...store.record, crls: count }));
  }
  const current = await readActiveVersion(kv);
  if (!("version" in current) || current.version !== snapshot.version) return null;
  const flip = encodeActive(version, now);
  await kv.put(flip.key, flip.value as string);
  return version;
}
