/**
 * The only KV reader: trust stores, CRLs, registered certificates and named values, by version.
 *
 * Contract: I/O at the edge of the engine. Keys and value formats are documented in docs/kv-schema.md:
 *   active                         {"version": "<id>", "activatedAt": "<ISO>"}
 *   v/<version>/store/<name>       {"anchors": "<PEM>", "intermediates": "<PEM>", "pinned": "<PEM>", "crls": <count>}
 *   v/<version>/crl/<name>/<i>     DER or PEM of CRL i of store <name>
 *   v/<version>/registered         {"<id>": "<PEM>", …}   (registered client certificates, for policies)
 *   v/<version>/values             {"<name>": "<value>", …} (named values, for policies)
 * Writers stage everything under a new version, then flip `active` in one write, so no reader ever sees
 * half an update.
 *
 * Caching, per isolate: the active version is re-read at most every `refreshMs` (TRUST_REFRESH_SECONDS,
 * default 15 s) with KV's minimum edge cache (30 s), so a rotation is picked up within 45 s of the write
 * reaching the edge; a store is parsed once per version and shared by every request (concurrent first
 * requests share one load). Fail closed: a KV error, a timeout, a missing active pointer, a missing or corrupt
 * store (any shape but the documented one, JSON `null` included) is a `trust_store_unavailable` error naming
 * the exact key in its internal detail — never an empty store, never a 500. No failed load is remembered: a
 * load that returns an error or throws is dropped, so the next request reads KV again.
 *
 * A transient failure to re-read `active` (KV error, timeout, an empty or garbled read while another writer
 * flips it) after a successful read keeps the last good version for a bounded time, ACTIVE_GRACE_MS past the
 * point where it would have been re-read (so at most refreshMs + ACTIVE_GRACE_MS after it was last
 * confirmed), logging `trust_active_unreadable`; past that bound every request fails closed (503). The bound
 * is the revocation trade-off: while `active` cannot be read, a newly published version (a revocation, a
 * removed root) cannot be picked up anyway, and the grace adds at most ACTIVE_GRACE_MS to the ≤ 45 s a
 * rotation already takes to reach an isolate. Likewise, when `active` names a new version whose store cannot
 * be loaded (its keys not yet visible where this isolate reads, a KV error), the store of the version served
 * before is kept within the same bound after it was last served (`trust_store_stale`), then 503.
 * `registered` and `values` are optional keys: absent means none (a version published before policies used
 * them); present but unreadable fails closed like a store. Both are read at most once per version, and only
 * when a policy needs them.
 */
import { decodeCertificate, decodeCertificates, decodePemBlocks } from "../cert/decode";
import { describeCertificate, type CertificateModel } from "../cert/model";
import { parseCertificate, type ParsedCertificate } from "../cert/parse";
import { gatewayError, type GatewayError } from "../errors";
import { MAX_CRL_BYTES, MAX_STORE_BUNDLE_BYTES, MAX_STORE_CERTIFICATES } from "../limits";
import { log } from "../log";
import { err, ok, type Result } from "../result";
import {
  ACTIVE_KEY, crlKey, ITEM_NAME_PATTERN, MAX_CRLS_PER_STORE, MAX_RECORD_CHARS, MAX_VALUES_CHARS, registeredKey, storeKey, valuesKey,
  VERSION_PATTERN,
} from "../kv-schema";
import { prepareTrustMaterial, type TrustMaterial } from "./trust-material";

/** KV's minimum edge cache TTL for reads, in seconds. */
const KV_MIN_CACHE_TTL = 30;
/**
 * How long past its re-read time the last good `active` version is kept while `active` cannot be read: as
 * long as KV's own edge cache (KV_MIN_CACHE_TTL), so an outage shorter than one cache period is invisible to
 * clients, and a revocation published during the outage is delayed by at most that much more.
 */
export const ACTIVE_GRACE_MS = KV_MIN_CACHE_TTL * 1000;

export interface TrustStoreOptions {
  readonly refreshMs: number;
  readonly kvTimeoutMs: number;
  /** Clock, injectable for tests. */
  readonly now?: () => number;
}

interface StoreRecord {
  readonly anchors?: string;
  readonly intermediates?: string;
  readonly pinned?: string;
  readonly crls?: number;
}

type Unavailable = GatewayError;

/** A registered client certificate (APIM `context.Deployment.Certificates[id]`). */
export interface RegisteredCertificate {
  readonly id: string;
  readonly cert: ParsedCertificate;
  readonly model: CertificateModel;
}


function unavailable(internal: string): Unavailable {
  return gatewayError("trust_store_unavailable", "The trust store could not be loaded; no certificate can be validated right now.", undefined, internal);
}

export class TrustStore {
  private version: string | null = null;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private versionRead: Promise<Result<string, Unavailable>> | null = null;
  private stores = new Map<string, Promise<Result<TrustMaterial, Unavailable>>>();
  /** Each store's last successfully served material, its version and when it was last served. */
  private readonly lastGood = new Map<string, { material: TrustMaterial; version: string; servedAt: number }>();
  private registeredLoad: Promise<Result<ReadonlyMap<string, RegisteredCertificate>, Unavailable>> | null = null;
  private valuesLoad: Promise<Result<ReadonlyMap<string, string>, Unavailable>> | null = null;
  private readonly now: () => number;

  constructor(private readonly kv: KVNamespace, private readonly options: TrustStoreOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * The active version, re-read from KV when older than refreshMs. A failed re-read keeps the last good
   * version until refreshMs + ACTIVE_GRACE_MS after it was last confirmed (see the module header).
   */
  async activeVersion(): Promise<Result<string, Unavailable>> {
    if (this.version !== null && this.now() - this.checkedAt < this.options.refreshMs) return ok(this.version);
    if (!this.versionRead) {
      this.versionRead = settle(this.readActive(), "reading KV key `active`").finally(() => {
        this.versionRead = null;
      });
    }
    const read = await this.versionRead;
    if (read.ok || this.version === null) return read;
    const age = this.now() - this.checkedAt;
    if (age >= this.options.refreshMs + ACTIVE_GRACE_MS) return read;
    log("warn", "trust_active_unreadable", { version: this.version, confirmedMsAgo: age, graceMs: ACTIVE_GRACE_MS, internal: read.error.internal });
    return ok(this.version);
  }

  private async readActive(): Promise<Result<string, Unavailable>> {
    const raw = await this.get(ACTIVE_KEY, "text");
    if (!raw.ok) return raw;
    if (raw.value === null) return err(unavailable("KV key `active` is missing: no trust material has been published"));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.value as string);
    } catch {
      return err(unavailable("KV key `active` is not JSON"));
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return err(unavailable("KV key `active` is not a JSON object"));
    const version = (parsed as { version?: unknown }).version;
    if (typeof version !== "string" || !VERSION_PATTERN.test(version)) {
      return err(unavailable("KV key `active` has no valid version"));
    }
    if (version !== this.version) {
      this.stores = new Map();
      this.registeredLoad = null;
      this.valuesLoad = null;
      this.version = version;
    }
    this.checkedAt = this.now();
    return ok(version);
  }

  /** The prepared trust material of store `name` in the active version. */
  async material(name: string): Promise<Result<TrustMaterial, Unavailable>> {
    const version = await this.activeVersion();
    if (!version.ok) return version;
    let p = this.stores.get(name);
    if (!p) {
      p = settle(this.load(version.value, name), `loading store ${name} of version ${version.value}`);
      this.stores.set(name, p);
      // A failed load is not kept: the next request tries again.
      p.then((r) => {
        if (!r.ok && this.stores.get(name) === p) this.stores.delete(name);
      });
    }
    const r = await p;
    const now = this.now();
    if (r.ok) {
      this.lastGood.set(name, { material: r.value, version: version.value, servedAt: now });
      return r;
    }
    // A newly active version whose store cannot be read yet (its keys not yet visible where this isolate
    // reads, a transient KV error): the previous version's store, within the same bound as `active`.
    const last = this.lastGood.get(name);
    if (last && last.version !== version.value && now - last.servedAt < this.options.refreshMs + ACTIVE_GRACE_MS) {
      log("warn", "trust_store_stale", { store: name, version: last.version, active: version.value, servedMsAgo: now - last.servedAt, graceMs: ACTIVE_GRACE_MS, internal: r.error.internal });
      return ok(last.material);
    }
    return r;
  }

  /** Registered certificates of the active version, by id (KV `v/<version>/registered`; absent → none). */
  async registered(): Promise<Result<ReadonlyMap<string, RegisteredCertificate>, Unavailable>> {
    const version = await this.activeVersion();
    if (!version.ok) return version;
    if (!this.registeredLoad) {
      const p = settle(this.loadRegistered(version.value), `loading registered certificates of version ${version.value}`);
      this.registeredLoad = p;
      p.then((r) => {
        if (!r.ok && this.registeredLoad === p) this.registeredLoad = null;
      });
    }
    return this.registeredLoad;
  }

  /** Named values of the active version (KV `v/<version>/values`; absent → none). */
  async values(): Promise<Result<ReadonlyMap<string, string>, Unavailable>> {
    const version = await this.activeVersion();
    if (!version.ok) return version;
    if (!this.valuesLoad) {
      const p = settle(this.loadValues(version.value), `loading named values of version ${version.value}`);
      this.valuesLoad = p;
      p.then((r) => {
        if (!r.ok && this.valuesLoad === p) this.valuesLoad = null;
      });
    }
    return this.valuesLoad;
  }

  private async loadRegistered(version: string): Promise<Result<ReadonlyMap<string, RegisteredCertificate>, Unavailable>> {
    const key = registeredKey(version);
    const record = await this.readRecord(key, MAX_RECORD_CHARS);
    if (!record.ok) return record;
    const out = new Map<string, RegisteredCertificate>();
    const entries = Object.entries(record.value);
    if (entries.length > MAX_STORE_CERTIFICATES) return err(unavailable(`KV key \`${key}\` has more than ${MAX_STORE_CERTIFICATES} certificates`));
    for (const [id, pem] of entries) {
      if (!ITEM_NAME_PATTERN.test(id)) return err(unavailable(`KV key \`${key}\`: ${JSON.stringify(id)} is not a valid certificate id`));
      if (typeof pem !== "string") return err(unavailable(`KV key \`${key}\`: ${id} is not a PEM string`));
      const der = decodeCertificate(pem);
      if (!der.ok) return err(unavailable(`KV key \`${key}\`: ${id}: ${der.error.detail}`));
      const cert = parseCertificate(der.value);
      if (!cert.ok) return err(unavailable(`KV key \`${key}\`: ${id}: ${cert.error.detail}`));
      out.set(id, { id, cert: cert.value, model: await describeCertificate(cert.value) });
    }
    return ok(out);
  }

  private async loadValues(version: string): Promise<Result<ReadonlyMap<string, string>, Unavailable>> {
    const key = valuesKey(version);
    const record = await this.readRecord(key, MAX_VALUES_CHARS);
    if (!record.ok) return record;
    const out = new Map<string, string>();
    for (const [name, value] of Object.entries(record.value)) {
      if (!ITEM_NAME_PATTERN.test(name)) return err(unavailable(`KV key \`${key}\`: ${JSON.stringify(name)} is not a valid value name`));
      if (typeof value !== "string") return err(unavailable(`KV key \`${key}\`: ${name} is not a string`));
      out.set(name, value);
    }
    return ok(out);
  }

  /** A JSON object record; absent → `{}`. */
  private async readRecord(key: string, maxChars: number): Promise<Result<Record<string, unknown>, Unavailable>> {
    const raw = await this.get(key, "text");
    if (!raw.ok) return raw;
    if (raw.value === null) return ok({});
    if ((raw.value as string).length > maxChars) return err(unavailable(`KV key \`${key}\` is too large`));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.value as string);
    } catch {
      return err(unavailable(`KV key \`${key}\` is not JSON`));
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return err(unavailable(`KV key \`${key}\` is not a JSON object`));
    return ok(parsed as Record<string, unknown>);
  }

  private async load(version: string, name: string): Promise<Result<TrustMaterial, Unavailable>> {
    const key = storeKey(version, name);
    const raw = await this.get(key, "text");
    if (!raw.ok) return raw;
    if (raw.value === null) return err(unavailable(`KV key \`${key}\` is missing`));
    if ((raw.value as string).length > MAX_RECORD_CHARS) return err(unavailable(`KV key \`${key}\` is too large`));
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.value as string);
    } catch {
      return err(unavailable(`KV key \`${key}\` is not JSON`));
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return err(unavailable(`KV key \`${key}\` is not a JSON object`));
    const record = parsed as StoreRecord;
    const limits = { maxBytes: MAX_STORE_BUNDLE_BYTES, maxCount: MAX_STORE_CERTIFICATES };
    const bundle = (field: keyof StoreRecord): Result<Uint8Array[], Unavailable> => {
      const text = record[field];
      if (text === undefined || text === "") return ok([]);
      if (typeof text !== "string") return err(unavailable(`KV key \`${key}\`: ${field} is not a PEM string`));
      const r = decodeCertificates(text, limits);
      return r.ok ? r : err(unavailable(`KV key \`${key}\`: ${field}: ${r.error.detail}`));
    };
    const anchors = bundle("anchors");
    if (!anchors.ok) return anchors;
    if (anchors.value.length === 0) return err(unavailable(`KV key \`${key}\` has no anchors`));
    const intermediates = bundle("intermediates");
    if (!intermediates.ok) return intermediates;
    const pinned = bundle("pinned");
    if (!pinned.ok) return pinned;
    const crlCount = record.crls ?? 0;
    if (!Number.isInteger(crlCount) || crlCount < 0 || crlCount > MAX_CRLS_PER_STORE) {
      return err(unavailable(`KV key \`${key}\`: crls must be a count from 0 to ${MAX_CRLS_PER_STORE}`));
    }
    const crls: Uint8Array[] = [];
    /** The KV key each entry of `crls` came from (a PEM value may hold several CRLs). */
    const crlSources: string[] = [];
    const reads = await Promise.all(Array.from({ length: crlCount }, (_, i) => this.get(crlKey(version, name, i), "arrayBuffer")));
    for (const [i, r] of reads.entries()) {
      const key = crlKey(version, name, i);
      if (!r.ok) return r;
      if (r.value === null) return err(unavailable(`KV key \`${key}\` is missing`));
      const bytes = new Uint8Array(r.value as ArrayBuffer);
      if (bytes.length > MAX_CRL_BYTES * 2) return err(unavailable(`KV key \`${key}\` is too large`));
      if (bytes[0] === 0x30) {
        crls.push(bytes);
        crlSources.push(key);
      } else {
        const pem = decodePemBlocks(new TextDecoder().decode(bytes), "X509 CRL", { maxBytes: MAX_CRL_BYTES * 2, maxCount: 16, maxBlockBytes: MAX_CRL_BYTES });
        if (!pem.ok) return err(unavailable(`KV key \`${key}\`: not a DER or PEM CRL`));
        crls.push(...pem.value);
        for (const _ of pem.value) crlSources.push(key);
      }
    }
    const material = await prepareTrustMaterial({
      version: `${version}/${name}`,
      anchors: anchors.value,
      intermediates: intermediates.value,
      crls,
      registeredSelfSigned: pinned.value,
    });
    if (!material.ok) {
      // Name the exact key that failed: a CRL's own key for `crls[i]`, else the store record.
      const item = material.error.context?.item;
      const crlIndex = typeof item === "string" ? /^crls\[(\d+)\]$/.exec(item)?.[1] : undefined;
      const failedKey = crlIndex !== undefined ? crlSources[Number(crlIndex)] ?? key : key;
      return err(unavailable(`KV key \`${failedKey}\`: ${material.error.detail} ${JSON.stringify(material.error.context ?? {})}`));
    }
    return material;
  }

  /** A KV read with a timeout; errors and timeouts become `trust_store_unavailable`. */
  private async get(key: string, type: "text" | "arrayBuffer"): Promise<Result<string | ArrayBuffer | null, Unavailable>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), this.options.kvTimeoutMs);
    });
    try {
      const read = type === "text"
        ? this.kv.get(key, { type: "text", cacheTtl: KV_MIN_CACHE_TTL })
        : this.kv.get(key, { type: "arrayBuffer", cacheTtl: KV_MIN_CACHE_TTL });
      const value = await Promise.race([read, timeout]);
      if (value === "timeout") return err(unavailable(`KV read of \`${key}\` timed out after ${this.options.kvTimeoutMs} ms`));
      return ok(value);
    } catch (e) {
      return err(unavailable(`KV read of \`${key}\` failed: ${e instanceof Error ? e.message : String(e)}`));
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}

/**
 * A load that throws (a bug, or a record shape no check foresaw) becomes a `trust_store_unavailable` result
 * like any other failure: answered as a typed 503, and dropped like any failed load, never remembered.
 */
async function settle<T>(load: Promise<Result<T, Unavailable>>, what: string): Promise<Result<T, Unavailable>> {
  try {
    return await load;
  } catch (e) {
    return err(unavailable(`${what} failed: ${e instanceof Error ? e.message : String(e)}`));
  }
}
