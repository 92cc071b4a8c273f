/**
 * What is deployed: the active version's trust content, read the way src/pki/trust-store.ts reads it.
 *
 * Contract: `fetchDeployed` does the KV reads (through a KvStore: `active` and a listing, then the version's
 * text keys and CRLs); `parseDeployed` is pure and turns those values into trust content. Nothing here fails
 * on bad deployed data: what cannot be read is an `issue` naming the KV key and the part it spoils, so the
 * plan replaces that part and says why.
 */
import { NO_REFRESH, parseRefreshSettings } from "../../src/scheduled/refresh-settings";
import {
  CERTIFICATE_FIELDS,
  describeCertificateBundle,
  describeCrlBundle,
  describeCrlDer,
  EMPTY_STORE,
  type CertificateItem,
  type CrlItem,
  type StoreContent,
  type TrustContent,
} from "./content";
import type { KvStore } from "./kv-store";
import { ACTIVE_KEY, crlKey, MAX_CRLS_PER_STORE, registeredKey, storeKey, valuesKey, VERSION_PATTERN, versionPrefix } from "../../src/kv-schema";

/** A part of the deployed content that could not be read. */
export interface DeployedIssue {
  readonly key: string;
  readonly message: string;
  readonly part: { readonly kind: "active" } | { readonly kind: "store"; readonly name: string } | { readonly kind: "registered" } | { readonly kind: "values" };
}

export interface DeployedState {
  /** The active version; null when nothing (readable) is published. */
  readonly version: string | null;
  readonly activatedAt: string | null;
  readonly content: TrustContent;
  readonly issues: readonly DeployedIssue[];
}

/** The raw values fetchDeployed read. */
export interface DeployedRaw {
  readonly active: string | null;
  /** Key names under `v/<version>/`. */
  readonly keys: readonly string[];
  /** Text values by key (store records, registered, values). */
  readonly texts: ReadonlyMap<string, string | null>;
  /** CRL bytes by key. */
  readonly crls: ReadonlyMap<string, Uint8Array | null>;
}

const EMPTY_CONTENT: TrustContent = { stores: new Map(), registered: new Map(), values: new Map() };

/** How many CRL reads run at once (through wrangler's CLI each is a process). */
const CRL_READ_CONCURRENCY = 4;
/** Keys per batch read (Cloudflare's bulk-get API takes at most 100). */
const TEXT_BATCH = 100;

/** The version named by an `active` value, or why there is none. */
export function parseActive(text: string | null): { version: string; activatedAt: string | null } | { issue: string } | null {
  if (text === null) return null;
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return { issue: "`active` is not JSON" };
  }
  const { version, activatedAt } = (record ?? {}) as { version?: unknown; activatedAt?: unknown };
  if (typeof version !== "string" || !VERSION_PATTERN.test(version)) return { issue: "`active` has no valid version" };
  return { version, activatedAt: typeof activatedAt === "string" ? activatedAt : null };
}

/**
 * Reads the active version's keys from `kv` in two rounds (through wrangler's CLI each read is a process that
 * takes seconds): `active` with a listing of every version's keys, then the version's text keys together with
 * every CRL key the listing holds (parseDeployed uses those below each store record's `crls` count).
 */
export async function fetchDeployed(kv: KvStore): Promise<DeployedRaw> {
  const [activeTexts, allKeys] = await Promise.all([kv.getText([ACTIVE_KEY]), kv.list("v/")]);
  const active = activeTexts.get(ACTIVE_KEY) ?? null;
  const parsed = parseActive(active);
  if (parsed === null || "issue" in parsed) return { active, keys: [], texts: new Map(), crls: new Map() };
  const prefix = versionPrefix(parsed.version);
  const keys = allKeys.filter((k) => k.startsWith(prefix));
  const textKeys = keys.filter((k) => k.startsWith(`${prefix}store/`) || k === registeredKey(parsed.version) || k === valuesKey(parsed.version));
  const crlKeys = keys.filter((k) => k.startsWith(`${prefix}crl/`));
  const texts = new Map<string, string | null>();
  const crls = new Map<string, Uint8Array | null>();
  const readTexts = async () => {
    for (let i = 0; i < textKeys.length; i += TEXT_BATCH) {
      for (const [k, v] of await kv.getText(textKeys.slice(i, i + TEXT_BATCH))) texts.set(k, v);
    }
  };
  let next = 0;
  const readCrls = async () => {
    while (next < crlKeys.length) {
      const key = crlKeys[next++]!;
      crls.set(key, await kv.getBytes(key));
    }
  };
  await Promise.all([readTexts(), ...Array.from({ length: Math.min(CRL_READ_CONCURRENCY, crlKeys.length) }, readCrls)]);
  return { active, keys, texts, crls };
}

/** Turns what fetchDeployed read into content and issues. */
export async function parseDeployed(raw: DeployedRaw): Promise<DeployedState> {
  const active = parseActive(raw.active);
  if (active === null) return { version: null, activatedAt: null, content: EMPTY_CONTENT, issues: [] };
  if ("issue" in active) {
    return { version: null, activatedAt: null, content: EMPTY_CONTENT, issues: [{ key: ACTIVE_KEY, message: active.issue, part: { kind: "active" } }] };
  }
  const { version } = active;
  const issues: DeployedIssue[] = [];
  const stores = new Map<string, StoreContent>();
  const storePrefix = `v/${version}/store/`;
  for (const key of [...raw.texts.keys()].filter((k) => k.startsWith(storePrefix)).sort()) {
    const name = key.slice(storePrefix.length);
    const r = await parseStoreRecord(version, name, raw);
    if ("issue" in r) {
      issues.push({ key: r.key, message: r.issue, part: { kind: "store", name } });
      stores.set(name, r.partial);
    } else {
      stores.set(name, r.store);
    }
  }

  const registered = new Map<string, CertificateItem>();
  const regText = raw.texts.get(registeredKey(version)) ?? null;
  // Absent `registered` / `values` mean none (the reader's rule: versions published before policies used them).
  if (regText !== null) {
    const map = parseStringMap(regText);
    if (typeof map === "string") issues.push({ key: registeredKey(version), message: map, part: { kind: "registered" } });
    else {
      for (const [id, pem] of map) {
        const items = await describeCertificateBundle(pem, `${registeredKey(version)}[${id}]`);
        if (items.ok && items.value.length === 1) registered.set(id, items.value[0]!);
        else issues.push({ key: registeredKey(version), message: `"${id}" is not one certificate`, part: { kind: "registered" } });
      }
    }
  }

  const values = new Map<string, string>();
  const valText = raw.texts.get(valuesKey(version)) ?? null;
  if (valText !== null) {
    const map = parseStringMap(valText);
    if (typeof map === "string") issues.push({ key: valuesKey(version), message: map, part: { kind: "values" } });
    else for (const [k, v] of map) values.set(k, v);
  }
  return { version, activatedAt: active.activatedAt, content: { stores, registered, values }, issues };
}

async function parseStoreRecord(
  version: string,
  name: string,
  raw: DeployedRaw,
): Promise<{ store: StoreContent } | { issue: string; key: string; partial: StoreContent }> {
  const key = storeKey(version, name);
  const text = raw.texts.get(key) ?? null;
  if (text === null) return { issue: "missing", key, partial: EMPTY_STORE };
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
    if (record === null || typeof record !== "object") throw new Error();
  } catch {
    return { issue: "not a JSON object", key, partial: EMPTY_STORE };
  }
  const fields: Record<string, CertificateItem[]> = {};
  let issue: string | null = null;
  for (const field of CERTIFICATE_FIELDS) {
    const pem = record[field];
    fields[field] = [];
    if (pem === undefined || pem === "") continue;
    if (typeof pem !== "string") {
      issue ??= `${field} is not a PEM string`;
      continue;
    }
    const items = await describeCertificateBundle(pem, `${key} ${field}`);
    if (items.ok) fields[field] = items.value;
    else issue ??= `${field}: ${items.error}`;
  }
  const crls: CrlItem[] = [];
  const count = record.crls ?? 0;
  if (!Number.isInteger(count) || (count as number) < 0 || (count as number) > MAX_CRLS_PER_STORE) {
    issue ??= `crls is not a count from 0 to ${MAX_CRLS_PER_STORE}`;
  } else {
    for (let i = 0; i < (count as number); i++) {
      const ck = crlKey(version, name, i);
      const bytes = raw.crls.get(ck) ?? null;
      if (bytes === null) {
        issue ??= `\`${ck}\` is missing`;
        continue;
      }
      // The reader takes one DER CRL, or PEM holding one or more (another writer may have used PEM).
      if (bytes[0] === 0x30) {
        const item = await describeCrlDer(bytes, ck);
        if (item.ok) crls.push(item.value);
        else issue ??= `\`${ck}\`: ${item.error}`;
      } else {
        const items = await describeCrlBundle(bytes, ck);
        if (items.ok) crls.push(...items.value);
        else issue ??= `\`${ck}\`: ${items.error}`;
      }
    }
  }
  const refresh = parseRefreshSettings(record);
  if (!refresh.ok) issue ??= `refresh settings: ${refresh.error}`;
  const store: StoreContent = { anchors: fields.anchors!, intermediates: fields.intermediates!, pinned: fields.pinned!, crls, refresh: refresh.ok ? refresh.value : NO_REFRESH };
  return issue === null ? { store } : { issue, key, partial: store };
}

function parseStringMap(text: string): Map<string, string> | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return "not a JSON object";
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(json)) {
    if (typeof v !== "string") return `"${k}" is not a string`;
    out.set(k, v);
  }
  return out;
}

/** Reads and parses the deployed state. */
export async function readDeployed(kv: KvStore): Promise<DeployedState> {
  return parseDeployed(await fetchDeployed(kv));
}
