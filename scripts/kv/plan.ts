/**
 * The plan of `kv sync`: what changes between the deployed version and the source folder, and the KV writes
 * that publish the folder as a new version.
 *
 * Contract: pure (no I/O; `now` is a parameter; WebCrypto digests only). Comparison is by content, not by
 * file: a certificate is the same when its DER's SHA-256 is, wherever it sits in the folder; a certificate
 * whose SHA-256 left a field while another with the same subject arrived is "replaced" (a renewal), CRLs pair
 * by issuer (and delta-ness). When nothing differs the plan is a no-op: no version, no writes.
 * Otherwise every key is written under a NEW version id (`<UTC time>-<content hash>`) and `active` is a
 * separate last write (`flip`): a reader sees the old version or the complete new one, never a mix — the
 * version's keys are names no reader has asked for before, so no edge cache holds a stale or negative answer
 * for them either.
 */
import {
  CERTIFICATE_FIELDS,
  EMPTY_STORE,
  summarizeCertificate,
  summarizeCrl,
  type CertificateField,
  type CertificateItem,
  type CertificateSummary,
  type CrlItem,
  type CrlSummary,
  type StoreContent,
  type TrustContent,
} from "./content";
import type { DeployedState } from "./deployed";
import { NO_REFRESH, sameRefreshSettings, type RefreshSettings } from "../../src/scheduled/refresh-settings";
import { encodeActive, encodeVersion, type KvWrite } from "../../src/kv-schema";
import type { Problem } from "./source";

export type ChangeKind = "added" | "removed" | "replaced";

export interface CertificateChange {
  readonly kind: ChangeKind;
  readonly field: CertificateField;
  readonly before?: CertificateSummary;
  readonly after?: CertificateSummary;
}

export interface CrlChange {
  readonly kind: ChangeKind;
  readonly before?: CrlSummary;
  readonly after?: CrlSummary;
  /**
   * A replacement by an OLDER CRL of the same issuer (lower cRLNumber, else an earlier thisUpdate): typically
   * the folder's copy replacing one the scheduled refresh published. Publishing it would lift revocations the
   * deployed CRL lists, so `kv sync` refuses it without --force (crlRollbacks).
   */
  readonly older?: true;
}

export interface StoreDiff {
  readonly name: string;
  readonly status: "added" | "removed" | "changed" | "unchanged";
  readonly certificates: readonly CertificateChange[];
  readonly crls: readonly CrlChange[];
  readonly unchanged: { readonly certificates: number; readonly crls: number };
  /** The CRL refresh settings, when they change (a store added or removed counts as off ↔ its settings). */
  readonly refresh?: { readonly before: RefreshSettings; readonly after: RefreshSettings };
  /** Why the deployed copy is rewritten even where it looks equal: it could not be read. */
  readonly issue?: string;
}

export interface RegisteredChange {
  readonly id: string;
  readonly kind: ChangeKind;
  readonly before?: CertificateSummary;
  readonly after?: CertificateSummary;
}

export interface ValueChange {
  readonly name: string;
  readonly kind: "added" | "removed" | "changed";
}

export interface Plan {
  readonly deployed: { readonly version: string | null; readonly activatedAt: string | null; readonly issues: readonly string[] };
  readonly stores: readonly StoreDiff[];
  readonly registered: { readonly changes: readonly RegisteredChange[]; readonly unchanged: number; readonly issue?: string };
  /** Names only: values may be secrets. */
  readonly values: { readonly changes: readonly ValueChange[]; readonly unchanged: number; readonly issue?: string };
  /** Problems published anyway because of --force. */
  readonly forced: readonly Problem[];
  /** False: the deployed version already holds the folder's content; nothing is written. */
  readonly changed: boolean;
  /** The new version id (null when unchanged). */
  readonly version: string | null;
  /** The version's keys, written first. */
  readonly writes: readonly KvWrite[];
  /** The `active` write, last. */
  readonly flip: KvWrite | null;
}

export interface PlanOptions {
  readonly now: Date;
  readonly forced?: readonly Problem[];
}

/** Compares `source` with `deployed` and plans the writes. */
export async function planSync(source: TrustContent, deployed: DeployedState, options: PlanOptions): Promise<Plan> {
  const storeIssues = new Map<string, string>();
  let registeredIssue: string | undefined;
  let valuesIssue: string | undefined;
  for (const issue of deployed.issues) {
    const text = `${issue.key}: ${issue.message}`;
    if (issue.part.kind === "store") storeIssues.set(issue.part.name, text);
    else if (issue.part.kind === "registered") registeredIssue = text;
    else if (issue.part.kind === "values") valuesIssue = text;
  }

  const names = [...new Set([...source.stores.keys(), ...deployed.content.stores.keys()])].sort();
  const stores = names.map((name) => diffStore(name, deployed.content.stores.get(name), source.stores.get(name), storeIssues.get(name)));

  const registered = diffRegistered(deployed.content.registered, source.registered);
  const values = diffValues(deployed.content.values, source.values);

  const changed =
    deployed.version === null ||
    stores.some((s) => s.status !== "unchanged") ||
    registered.changes.length > 0 || registeredIssue !== undefined ||
    values.changes.length > 0 || valuesIssue !== undefined;

  const base = {
    deployed: { version: deployed.version, activatedAt: deployed.activatedAt, issues: deployed.issues.map((i) => `${i.key}: ${i.message}`) },
    stores,
    registered: { ...registered, ...(registeredIssue === undefined ? {} : { issue: registeredIssue }) },
    values: { ...values, ...(valuesIssue === undefined ? {} : { issue: valuesIssue }) },
    forced: options.forced ?? [],
  };
  if (!changed) return { ...base, changed: false, version: null, writes: [], flip: null };

  const version = `${timestamp(options.now)}-${(await contentHash(source)).slice(0, 12)}`;
  const writes = encodeVersion(version, {
    stores: new Map([...source.stores].map(([n, s]) => [n, {
      anchors: s.anchors.map((c) => c.der),
      intermediates: s.intermediates.map((c) => c.der),
      pinned: s.pinned.map((c) => c.der),
      crls: s.crls.map((c) => c.der),
      ...(s.refresh ? { refresh: s.refresh } : {}),
    }])),
    registered: new Map([...source.registered].map(([id, c]) => [id, c.der])),
    values: source.values,
  });
  return { ...base, changed: true, version, writes, flip: encodeActive(version, options.now) };
}

function diffStore(name: string, before: StoreContent | undefined, after: StoreContent | undefined, issue: string | undefined): StoreDiff {
  const b = before ?? EMPTY_STORE;
  const a = after ?? EMPTY_STORE;
  const certificates: CertificateChange[] = [];
  let unchangedCerts = 0;
  for (const field of CERTIFICATE_FIELDS) {
    const d = diffItems(b[field], a[field], (c) => c.parsed.subjectKey);
    unchangedCerts += d.unchanged;
    for (const [kind, x, y] of d.changes) {
      certificates.push({ kind, field, ...(x ? { before: summarizeCertificate(x) } : {}), ...(y ? { after: summarizeCertificate(y) } : {}) });
    }
  }
  const crlDiff = diffItems(b.crls, a.crls, (c) => `${c.parsed.issuerKey}${c.parsed.deltaBase === null ? "" : "\u0000delta"}`);
  const crls: CrlChange[] = crlDiff.changes.map(([kind, x, y]) => ({
    kind, ...(x ? { before: summarizeCrl(x) } : {}), ...(y ? { after: summarizeCrl(y) } : {}),
    ...(kind === "replaced" && x && y && isOlderCrl(y, x) ? { older: true as const } : {}),
  }));
  // A refresh setting is never dropped or changed without a plan line (a sync rewrites the store record).
  const refreshBefore = b.refresh ?? NO_REFRESH;
  const refreshAfter = a.refresh ?? NO_REFRESH;
  const refreshChanged = !sameRefreshSettings(refreshBefore, refreshAfter);
  const status =
    after === undefined ? "removed"
    : before === undefined && issue === undefined ? "added"
    : certificates.length > 0 || crls.length > 0 || refreshChanged || issue !== undefined ? "changed"
    : "unchanged";
  return {
    name, status, certificates, crls, unchanged: { certificates: unchangedCerts, crls: crlDiff.unchanged },
    ...(refreshChanged ? { refresh: { before: refreshBefore, after: refreshAfter } } : {}),
    ...(issue === undefined ? {} : { issue }),
  };
}

/**
 * Items by SHA-256: those on both sides are unchanged; of the rest, one leaving and one arriving with the same
 * pairing key are a replacement, the others plain removals and additions.
 */
function diffItems<T extends CertificateItem | CrlItem>(
  before: readonly T[],
  after: readonly T[],
  pairKey: (item: T) => string,
): { unchanged: number; changes: Array<[ChangeKind, T | undefined, T | undefined]> } {
  const beforeBy = new Map(before.map((c) => [c.sha256, c] as const));
  const afterBy = new Map(after.map((c) => [c.sha256, c] as const));
  const gone = [...beforeBy.values()].filter((c) => !afterBy.has(c.sha256));
  const arrived = [...afterBy.values()].filter((c) => !beforeBy.has(c.sha256));
  const unchanged = [...afterBy.keys()].filter((k) => beforeBy.has(k)).length;
  const changes: Array<[ChangeKind, T | undefined, T | undefined]> = [];
  const count = (list: readonly T[], key: string) => list.filter((c) => pairKey(c) === key).length;
  const paired = new Set<T>();
  for (const g of gone) {
    const key = pairKey(g);
    if (count(gone, key) !== 1 || count(arrived, key) !== 1) continue;
    const n = arrived.find((c) => pairKey(c) === key)!;
    changes.push(["replaced", g, n]);
    paired.add(g).add(n);
  }
  for (const g of gone) if (!paired.has(g)) changes.push(["removed", g, undefined]);
  for (const n of arrived) if (!paired.has(n)) changes.push(["added", undefined, n]);
  return { unchanged, changes };
}

function diffRegistered(before: ReadonlyMap<string, CertificateItem>, after: ReadonlyMap<string, CertificateItem>): { changes: RegisteredChange[]; unchanged: number } {
  const changes: RegisteredChange[] = [];
  let unchanged = 0;
  for (const id of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(id);
    const a = after.get(id);
    if (b && a && b.sha256 === a.sha256) unchanged++;
    else if (b && a) changes.push({ id, kind: "replaced", before: summarizeCertificate(b), after: summarizeCertificate(a) });
    else if (a) changes.push({ id, kind: "added", after: summarizeCertificate(a) });
    else if (b) changes.push({ id, kind: "removed", before: summarizeCertificate(b) });
  }
  return { changes, unchanged };
}

function diffValues(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): { changes: ValueChange[]; unchanged: number } {
  const changes: ValueChange[] = [];
  let unchanged = 0;
  for (const name of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(name);
    const a = after.get(name);
    if (b !== undefined && a !== undefined) {
      if (a === b) unchanged++;
      else changes.push({ name, kind: "changed" });
    } else changes.push({ name, kind: a === undefined ? "removed" : "added" });
  }
  return { changes, unchanged };
}

/** `20260601T120000Z`: sortable, and in the reader's version alphabet. */
function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}

/** SHA-256 (hex) of a canonical description of the content: what the version id's suffix names. */
async function contentHash(content: TrustContent): Promise<string> {
  const canonical = {
    stores: [...content.stores].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, s]) => [
      name,
      s.anchors.map((c) => c.sha256),
      s.intermediates.map((c) => c.sha256),
      s.pinned.map((c) => c.sha256),
      s.crls.map((c) => c.sha256),
      s.refresh ?? NO_REFRESH,
    ]),
    registered: [...content.registered].sort(([a], [b]) => (a < b ? -1 : 1)).map(([id, c]) => [id, c.sha256]),
    values: [...content.values].sort(([a], [b]) => (a < b ? -1 : 1)),
  };
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(JSON.stringify(canonical)));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** `a` is older than `b` (same issuer): lower cRLNumber when both carry one, else an earlier thisUpdate. */
function isOlderCrl(a: CrlItem, b: CrlItem): boolean {
  const x = a.parsed.crlNumber;
  const y = b.parsed.crlNumber;
  return x !== null && y !== null ? x < y : a.parsed.thisUpdate.getTime() < b.parsed.thisUpdate.getTime();
}

/**
 * The plan's CRL replacements that would go back in time, as problems (`crl_older_than_deployed`, forceable):
 * the deployed CRL — often one the scheduled refresh fetched after the folder's — is newer than the folder's.
 */
export function crlRollbacks(plan: Plan): Problem[] {
  const out: Problem[] = [];
  for (const s of plan.stores) {
    for (const c of s.crls) {
      if (!c.older) continue;
      out.push({
        code: "crl_older_than_deployed",
        path: `stores/${s.name}/crls`,
        message: `the folder's CRL of ${c.after!.issuer} (thisUpdate ${c.after!.thisUpdate}) is older than the deployed one (thisUpdate ${c.before!.thisUpdate}, perhaps fetched by the scheduled refresh): publishing it would lift revocations the deployed one lists; put the newer CRL in the folder`,
        forceable: true,
      });
    }
  }
  return out;
}
