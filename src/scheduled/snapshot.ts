/**
 * Reads the active version's trust material for the scheduled jobs: every store (with its raw record, so
 * unknown fields such as `refreshCrls` survive a rewrite), its CA and pinned certificates, its CRLs, and the
 * registered certificates. Keys and formats: docs/kv-schema.md (the request path reads them through
 * src/pki/trust-store.ts; this is the scheduled job's read of the same keys, with no cache: it runs once per
 * cron tick and needs the list of stores, which the request path never does).
 *
 * Contract: I/O (KV list + get) at the edge; an item that does not parse is reported in `problems`, never
 * thrown, and the rest of the snapshot is still usable (an expiry watch should not go blind because one
 * registered certificate is malformed).
 */
import { decodeCertificate, decodeCertificates, decodePemBlocks } from "../cert/decode";
import { renderName } from "../cert/dn";
import { parseCertificate, parseCrl, type ParsedCertificate, type ParsedCrl } from "../cert/parse";
import { MAX_CRL_BYTES, MAX_STORE_BUNDLE_BYTES, MAX_STORE_CERTIFICATES } from "../limits";
import { sha256Hex } from "../pki/crypto";
import { NO_REFRESH, parseRefreshSettings } from "./refresh-settings";
import { ACTIVE_KEY, VERSION_PATTERN, crlKey, registeredKey, versionPrefix } from "../kv-schema";

/** Most keys one version may hold that the job will list (stores × (1 + 64 CRLs) + 2, far above any real store set). */
export const MAX_VERSION_KEYS = 10_000;

export interface SnapshotCertificate {
  readonly cert: ParsedCertificate;
  readonly sha256: string;
  readonly subject: string;
}

export interface SnapshotCrl {
  readonly index: number;
  readonly crl: ParsedCrl;
  readonly sha256: string;
  readonly issuer: string;
}

export interface StoreSnapshot {
  readonly name: string;
  /** The store record as stored (JSON object), rewritten with only `crls` changed when a CRL is added. */
  readonly record: Record<string, unknown>;
  readonly refreshCrls: boolean;
  /** CRL URLs the operator named for this store (refresh-settings.ts), fetched besides distribution points. */
  readonly crlUrls: readonly string[];
  readonly anchors: readonly SnapshotCertificate[];
  readonly intermediates: readonly SnapshotCertificate[];
  readonly pinned: readonly SnapshotCertificate[];
  readonly crls: readonly SnapshotCrl[];
}

export interface TrustSnapshot {
  readonly version: string;
  readonly stores: readonly StoreSnapshot[];
  readonly registered: ReadonlyArray<SnapshotCertificate & { readonly id: string }>;
  /** Every key of the version (what a copy must write). */
  readonly keys: readonly string[];
  /** Items that could not be read or parsed, as "<key>: <why>". */
  readonly problems: readonly string[];
}

/** The active version id, or a reason it cannot be read. */
export async function readActiveVersion(kv: KVNamespace): Promise<{ version: string } | { problem: string }> {
  const raw = await kv.get(ACTIVE_KEY, "text");
  if (raw === null) return { problem: "KV key `active` is missing" };
  let version: unknown;
  try {
    version = (JSON.parse(raw) as { version?: unknown }).version;
  } catch {
    return { problem: "KV key `active` is not JSON" };
  }
  if (typeof version !== "string" || !VERSION_PATTERN.test(version)) return { problem: "KV key `active` has no valid version" };
  return { version };
}

/** Every key under `v/<version>/`, following list cursors, capped at MAX_VERSION_KEYS. */
export async function listVersionKeys(kv: KVNamespace, version: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await kv.list({ prefix: versionPrefix(version), ...(cursor ? { cursor } : {}) });
    for (const k of page.keys) keys.push(k.name);
    if (keys.length > MAX_VERSION_KEYS) throw new Error(`version ${version} has more than ${MAX_VERSION_KEYS} keys`);
    if (page.list_complete) return keys;
    cursor = page.cursor;
  }
}

async function describe(cert: ParsedCertificate): Promise<SnapshotCertificate> {
  return { cert, sha256: await sha256Hex(cert.der), subject: renderName(cert.subject).rfc4514 };
}

/** DER or PEM bytes of one CRL value → DER, or null. */
export function crlDer(bytes: Uint8Array): Uint8Array | null {
  if (bytes[0] === 0x30) return bytes;
  const pem = decodePemBlocks(new TextDecoder().decode(bytes), "X509 CRL", { maxBytes: MAX_CRL_BYTES * 2, maxCount: 1, maxBlockBytes: MAX_CRL_BYTES });
  return pem.ok && pem.value.length === 1 ? pem.value[0]! : null;
}

/** Reads the active version. Throws only when KV itself fails or `active` is unusable. */
export async function readSnapshot(kv: KVNamespace): Promise<TrustSnapshot> {
  const active = await readActiveVersion(kv);
  if ("problem" in active) throw new Error(active.problem);
  const version = active.version;
  const keys = await listVersionKeys(kv, version);
  const problems: string[] = [];
  const storePrefix = `${versionPrefix(version)}store/`;
  const stores: StoreSnapshot[] = [];
  for (const key of keys.filter((k) => k.startsWith(storePrefix)).sort()) {
    const name = key.slice(storePrefix.length);
    const text = await kv.get(key, "text");
    let record: unknown;
    try {
      record = JSON.parse(text ?? "");
    } catch {
      problems.push(`${key}: not JSON`);
      continue;
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      problems.push(`${key}: not a JSON object`);
      continue;
    }
    const r = record as Record<string, unknown>;
    const bundle = async (field: string): Promise<SnapshotCertificate[]> => {
      const pem = r[field];
      if (typeof pem !== "string" || pem === "") return [];
      const ders = decodeCertificates(pem, { maxBytes: MAX_STORE_BUNDLE_BYTES, maxCount: MAX_STORE_CERTIFICATES });
      if (!ders.ok) {
        problems.push(`${key}: ${field}: ${ders.error.detail}`);
        return [];
      }
      const out: SnapshotCertificate[] = [];
      for (const [i, der] of ders.value.entries()) {
        const c = parseCertificate(der);
        if (c.ok) out.push(await describe(c.value));
        else problems.push(`${key}: ${field}[${i}]: ${c.error.detail}`);
      }
      return out;
    };
    const crls: SnapshotCrl[] = [];
    const count = typeof r.crls === "number" && Number.isInteger(r.crls) && r.crls >= 0 && r.crls <= 64 ? r.crls : 0;
    for (let i = 0; i < count; i++) {
      const k = crlKey(version, name, i);
      const bytes = await kv.get(k, "arrayBuffer");
      const der = bytes === null ? null : crlDer(new Uint8Array(bytes));
      const parsed = der === null ? null : parseCrl(der);
      if (!parsed || !parsed.ok) {
        problems.push(`${k}: ${parsed ? parsed.error.detail : "missing or not a DER/PEM CRL"}`);
        continue;
      }
      crls.push({ index: i, crl: parsed.value, sha256: await sha256Hex(parsed.value.der), issuer: renderName(parsed.value.issuer).rfc4514 });
    }
    // Malformed refresh settings refresh nothing (and say so): never a guess at what the operator meant.
    const refresh = parseRefreshSettings(r);
    if (!refresh.ok) problems.push(`${key}: refresh settings: ${refresh.error}`);
    const settings = refresh.ok ? refresh.value : NO_REFRESH;
    stores.push({
      name,
      record: r,
      refreshCrls: settings.refreshCrls,
      crlUrls: settings.crlUrls,
      anchors: await bundle("anchors"),
      intermediates: await bundle("intermediates"),
      pinned: await bundle("pinned"),
      crls,
    });
  }
  const registered: Array<SnapshotCertificate & { id: string }> = [];
  const regKey = registeredKey(version);
  if (keys.includes(regKey)) {
    let record: unknown = null;
    try {
      record = JSON.parse((await kv.get(regKey, "text")) ?? "");
    } catch {
      problems.push(`${regKey}: not JSON`);
    }
    if (record && typeof record === "object" && !Array.isArray(record)) {
      for (const [id, pem] of Object.entries(record as Record<string, unknown>)) {
        const der = typeof pem === "string" ? decodeCertificate(pem) : null;
        const c = der?.ok ? parseCertificate(der.value) : null;
        if (c?.ok) registered.push({ id, ...(await describe(c.value)) });
        else problems.push(`${regKey}: ${id}: not a certificate`);
      }
    }
  }
  return { version, stores, registered, keys, problems };
}

