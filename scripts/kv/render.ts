/**
 * Text and JSON renderings of problems, plans and the deployed state, for `kv sync` and `kv status`.
 *
 * Contract: pure; lines carry no newline. Certificates show subject, SHA-256 (whole in status, the first 16
 * hex digits in plans) and notAfter; CRLs show issuer, thisUpdate, nextUpdate and the number of revoked entries; named values show
 * names only (they may be secrets). Times are ISO 8601 UTC to the second.
 */
import { describeRefreshSettings, NO_REFRESH } from "../../src/scheduled/refresh-settings";
import {
  CERTIFICATE_FIELDS,
  summarizeCertificate,
  summarizeCrl,
  type CertificateSummary,
  type CrlSummary,
} from "./content";
import type { DeployedState } from "./deployed";
import type { Plan } from "./plan";
import { valueBytes } from "../../src/kv-schema";
import type { Problem } from "./source";

/** Hex digits of a SHA-256 shown in text output (64 bits: collisions are not a concern between a few files). */
export const SHORT_SHA256 = 16;

const MARK = { added: "+", removed: "-", replaced: "~", changed: "~" } as const;

const time = (iso: string | null) => (iso === null ? "none" : iso.replace(/\.\d{3}Z$/, "Z"));
const short = (sha256: string) => sha256.slice(0, SHORT_SHA256);
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** `full`: the whole SHA-256 (status, an inventory to compare fingerprints against); else the short form (plans). */
function certText(c: CertificateSummary, full = false): string {
  return `${c.subject}  sha256 ${full ? c.sha256 : short(c.sha256)}  notAfter ${time(c.notAfter)}`;
}

function crlText(c: CrlSummary): string {
  return `${c.delta ? "delta " : ""}CRL of ${c.issuer}  thisUpdate ${time(c.thisUpdate)}  nextUpdate ${time(c.nextUpdate)}  revoked ${c.revoked}`;
}

/** `a → b`, or `a` when equal. */
const arrow = (a: string, b: string) => (a === b ? a : `${a} → ${b}`);

/** Problems, one per line, the forceable ones marked. */
export function renderProblems(problems: readonly Problem[]): string[] {
  return problems.map((p) => `  ${p.path}: ${p.message} [${p.code}${p.forceable ? ", --force overrides" : ""}]`);
}

/** The plan as text. */
export function renderPlan(plan: Plan): string[] {
  const lines: string[] = [];
  const d = plan.deployed;
  lines.push(d.version === null ? "Deployed: nothing (no readable `active` key)" : `Deployed: version ${d.version} (activated ${time(d.activatedAt)})`);
  for (const issue of d.issues) lines.push(`  ! unreadable, will be rewritten: ${issue}`);
  for (const s of plan.stores) {
    const certs = s.unchanged.certificates + s.certificates.filter((c) => c.kind !== "added").length;
    if (s.status === "unchanged") {
      lines.push(`store ${s.name}: unchanged (${plural(certs, "certificate")}, ${plural(s.unchanged.crls, "CRL")})`);
      continue;
    }
    lines.push(`store ${s.name}: ${s.status}`);
    if (s.issue) lines.push(`  ! deployed copy unreadable (${s.issue}); rewritten whole`);
    for (const c of s.certificates) {
      const label = c.field.padEnd(13);
      if (c.kind === "replaced") {
        lines.push(`  ${label} ~ ${c.after!.subject}  sha256 ${short(c.before!.sha256)} → ${short(c.after!.sha256)}  notAfter ${arrow(time(c.before!.notAfter), time(c.after!.notAfter))}`);
      } else {
        lines.push(`  ${label} ${MARK[c.kind]} ${certText((c.after ?? c.before)!)}`);
      }
    }
    for (const c of s.crls) {
      const label = "crls".padEnd(13);
      if (c.kind === "replaced") {
        const b = c.before!;
        const a = c.after!;
        lines.push(`  ${label} ~ ${a.delta ? "delta " : ""}CRL of ${a.issuer}  thisUpdate ${arrow(time(b.thisUpdate), time(a.thisUpdate))}  nextUpdate ${arrow(time(b.nextUpdate), time(a.nextUpdate))}  revoked ${arrow(String(b.revoked), String(a.revoked))}${c.older ? "  ! OLDER than the deployed CRL" : ""}`);
      } else {
        lines.push(`  ${label} ${MARK[c.kind]} ${crlText((c.after ?? c.before)!)}`);
      }
    }
    if (s.refresh) {
      const { before, after } = s.refresh;
      const dropped = before.refreshCrls && !after.refreshCrls;
      lines.push(`  ${"refresh".padEnd(13)} ~ ${describeRefreshSettings(before)} → ${describeRefreshSettings(after)}${dropped ? "  (the scheduled CRL refresh stops for this store; add stores/" + s.name + "/refresh.json to keep it)" : ""}`);
    }
    if (s.status === "changed" && (s.unchanged.certificates > 0 || s.unchanged.crls > 0)) {
      lines.push(`  unchanged: ${plural(s.unchanged.certificates, "certificate")}, ${plural(s.unchanged.crls, "CRL")}`);
    }
  }
  if (plan.registered.issue) lines.push(`registered: ! deployed copy unreadable (${plan.registered.issue}); rewritten whole`);
  for (const r of plan.registered.changes) {
    if (r.kind === "replaced") {
      lines.push(`registered ~ ${r.id}  ${r.after!.subject}  sha256 ${short(r.before!.sha256)} → ${short(r.after!.sha256)}  notAfter ${arrow(time(r.before!.notAfter), time(r.after!.notAfter))}`);
    } else {
      lines.push(`registered ${MARK[r.kind]} ${r.id}  ${certText((r.after ?? r.before)!)}`);
    }
  }
  lines.push(`registered: ${plural(plan.registered.changes.length, "change")}, ${plan.registered.unchanged} unchanged`);
  if (plan.values.issue) lines.push(`values: ! deployed copy unreadable (${plan.values.issue}); rewritten whole`);
  const valueChanges = plan.values.changes.map((v) => `${MARK[v.kind]} ${v.name}`);
  lines.push(`values: ${valueChanges.length > 0 ? `${valueChanges.join(", ")}; ` : ""}${plan.values.unchanged} unchanged (names only)`);
  if (plan.forced.length > 0) {
    lines.push(`Published despite (--force):`);
    lines.push(...renderProblems(plan.forced));
  }
  if (!plan.changed) {
    lines.push(`Nothing to change: version ${d.version} already holds this content.`);
  } else {
    lines.push(`Plan: write ${plural(plan.writes.length, "key")} under the new version ${plan.version}, then switch \`active\` to it (one write).`);
  }
  return lines;
}

/** The plan as JSON: changes, and the keys written with their sizes (not their values). */
export function planJson(plan: Plan): unknown {
  return {
    ...plan,
    writes: plan.writes.map((w) => ({ key: w.key, bytes: valueBytes(w) })),
    flip: plan.flip ? { key: plan.flip.key, value: plan.flip.value } : null,
  };
}

/** The deployed state as text. */
export function renderStatus(state: DeployedState, where: string): string[] {
  const lines: string[] = [];
  if (state.version === null) {
    lines.push(`${where}: nothing deployed (no readable \`active\` key)`);
  } else {
    lines.push(`${where}: active version ${state.version} (activated ${time(state.activatedAt)})`);
  }
  for (const [name, store] of [...state.content.stores].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const counts = CERTIFICATE_FIELDS.map((f) => `${store[f].length} ${f}`).join(", ");
    lines.push(`store ${name} (${counts}, ${plural(store.crls.length, "CRL")})`);
    if (store.refresh?.refreshCrls) lines.push(`  ${"refresh".padEnd(13)} ${describeRefreshSettings(store.refresh)}`);
    for (const field of CERTIFICATE_FIELDS) {
      for (const c of store[field]) lines.push(`  ${field.padEnd(13)} ${certText(summarizeCertificate(c), true)}`);
    }
    for (const c of store.crls) lines.push(`  ${"crls".padEnd(13)} ${crlText(summarizeCrl(c))}`);
  }
  const registered = [...state.content.registered].sort(([a], [b]) => (a < b ? -1 : 1));
  lines.push(`registered (${registered.length})`);
  for (const [id, c] of registered) lines.push(`  ${id}  ${certText(summarizeCertificate(c), true)}`);
  const values = [...state.content.values.keys()].sort();
  lines.push(`values (${values.length})${values.length > 0 ? `: ${values.join(", ")}` : ""}`);
  for (const issue of state.issues) lines.push(`! unreadable: ${issue.key}: ${issue.message}`);
  return lines;
}

/** The deployed state as JSON (value names only). */
export function statusJson(state: DeployedState): unknown {
  const stores: Record<string, unknown> = {};
  for (const [name, s] of state.content.stores) {
    stores[name] = {
      anchors: s.anchors.map(summarizeCertificate),
      intermediates: s.intermediates.map(summarizeCertificate),
      pinned: s.pinned.map(summarizeCertificate),
      crls: s.crls.map(summarizeCrl),
      refresh: s.refresh ?? NO_REFRESH,
    };
  }
  return {
    version: state.version,
    activatedAt: state.activatedAt,
    stores,
    registered: Object.fromEntries([...state.content.registered].map(([id, c]) => [id, summarizeCertificate(c)])),
    values: [...state.content.values.keys()].sort(),
    issues: state.issues.map((i) => `${i.key}: ${i.message}`),
  };
}
