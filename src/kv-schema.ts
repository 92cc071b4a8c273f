/**
 * The one home of docs/kv-schema.md's contract: key names, name rules and value encodings. The reader
 * (src/pki/trust-store.ts), the scheduled job (src/scheduled/) and every tool that writes trust material to KV
 * (`kv sync`, the demo seed, scripts/kv/) build keys and values through here, so reader and writers cannot drift.
 *
 * Contract: pure (no I/O, no clock). Values are what the reader expects: store records as JSON with PEM
 * bundles, CRLs as DER bytes, registered certificates as JSON `{id: PEM}`, named values as JSON
 * `{name: value}`, `active` as JSON `{version, activatedAt}`.
 */
import { encodeBase64 } from "./cert/decode";
import { MAX_STORE_BUNDLE_BYTES } from "./limits";
import { refreshRecordFields, type RefreshSettings } from "./scheduled/refresh-settings";

/** KV key of the active-version pointer. */
export const ACTIVE_KEY = "active";

/** Version ids the reader accepts (src/pki/trust-store.ts readActive). */
export const VERSION_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
/** Store names (docs/kv-schema.md). */
export const STORE_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
/** Ids of registered certificates and names of named values: the store-name alphabet, up to 128 characters. */
export const ITEM_NAME_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;
/** Most CRLs per store: the reader's MAX_CRLS_PER_STORE (one KV read each on load). */
export const MAX_CRLS_PER_STORE = 64;
/** Longest store record and `registered` record the reader accepts, in characters (3 × its PEM bundle cap). */
export const MAX_RECORD_CHARS = 3 * MAX_STORE_BUNDLE_BYTES;
/** Longest `values` record the reader accepts, in characters (1 MiB: named values are short strings). */
export const MAX_VALUES_CHARS = 1024 * 1024;

export const versionPrefix = (version: string) => `v/${version}/`;
export const storeKey = (version: string, name: string) => `v/${version}/store/${name}`;
export const crlKey = (version: string, name: string, index: number) => `v/${version}/crl/${name}/${index}`;
export const registeredKey = (version: string) => `v/${version}/registered`;
export const valuesKey = (version: string) => `v/${version}/values`;

/**
 * The KV namespace POLICY_CACHE (caching-type="external", src/policy/response-cache.ts) — a namespace of its own,
 * never TRUST: `value/<sha256 hex of the cache-*-value key>` and `response/<sha256 hex of the response key>`, each a
 * JSON `{exp, text}` with its own expiry (docs/kv-schema.md, "POLICY_CACHE").
 */
export const POLICY_CACHE_PREFIXES = { value: "value", response: "response" } as const;
export const policyCacheKey = (kind: keyof typeof POLICY_CACHE_PREFIXES, sha256Hex: string) => `${POLICY_CACHE_PREFIXES[kind]}/${sha256Hex}`;

/** One KV write: text (JSON, PEM) or bytes (DER CRLs). */
export interface KvWrite {
  readonly key: string;
  readonly value: string | Uint8Array;
}

/** The `active` record. */
export interface ActiveRecord {
  readonly version: string;
  readonly activatedAt: string;
}

/** What one version holds, as DER: the input of encodeVersion. Lists are written in the order given. */
export interface VersionContent {
  readonly stores: ReadonlyMap<string, {
    readonly anchors: readonly Uint8Array[];
    readonly intermediates: readonly Uint8Array[];
    readonly pinned: readonly Uint8Array[];
    readonly crls: readonly Uint8Array[];
    /** CRL refresh settings, written into the store record (`refreshCrls`, `crlUrls`); absent: off. */
    readonly refresh?: RefreshSettings;
  }>;
  /** Registered client certificates by id. */
  readonly registered: ReadonlyMap<string, Uint8Array>;
  /** Named values by name. */
  readonly values: ReadonlyMap<string, string>;
}

/** PEM (RFC 7468) of DER certificates, 64-character lines, each block newline-terminated. */
export function certificatesToPem(ders: readonly Uint8Array[]): string {
  return ders.map((der) => {
    const b64 = encodeBase64(der);
    const lines: string[] = [];
    for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
    return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
  }).join("");
}

/**
 * Every key of `version`, stores first (sorted by name), each store's CRLs after its record, then
 * `registered` and `values`. Empty bundles are written as "" and empty maps as `{}`, so a version is complete
 * on its own and never falls back to anything.
 */
export function encodeVersion(version: string, content: VersionContent): KvWrite[] {
  const writes: KvWrite[] = [];
  for (const name of [...content.stores.keys()].sort()) {
    const s = content.stores.get(name)!;
    writes.push({
      key: storeKey(version, name),
      value: JSON.stringify({
        anchors: certificatesToPem(s.anchors),
        intermediates: certificatesToPem(s.intermediates),
        pinned: certificatesToPem(s.pinned),
        crls: s.crls.length,
        ...(s.refresh ? refreshRecordFields(s.refresh) : {}),
      }),
    });
    s.crls.forEach((der, i) => writes.push({ key: crlKey(version, name, i), value: der }));
  }
  const registered: Record<string, string> = {};
  for (const id of [...content.registered.keys()].sort()) registered[id] = certificatesToPem([content.registered.get(id)!]);
  writes.push({ key: registeredKey(version), value: JSON.stringify(registered) });
  const values: Record<string, string> = {};
  for (const name of [...content.values.keys()].sort()) values[name] = content.values.get(name)!;
  writes.push({ key: valuesKey(version), value: JSON.stringify(values) });
  return writes;
}

/** The `active` write that switches readers to `version`. */
export function encodeActive(version: string, activatedAt: Date): KvWrite {
  const record: ActiveRecord = { version, activatedAt: activatedAt.toISOString() };
  return { key: ACTIVE_KEY, value: JSON.stringify(record) };
}

/** Size of a write's value in bytes (UTF-8 for text). */
export function valueBytes(write: KvWrite): number {
  return typeof write.value === "string" ? new TextEncoder().encode(write.value).length : write.value.length;
}
