/**
 * The Worker's `scheduled` handler (cron, wrangler.toml `[triggers]`): the expiry watch, then the CRL
 * refresh, then one alert webhook POST with everything the run found.
 *
 * Contract: I/O at the edges (KV, the injected `fetch`); `now` and `fetch` are parameters so tests drive it
 * with fixed times. Never throws: every failure is a log line (and an alert when a webhook is configured).
 * Log events: `expiry_warning` (warn), `crl_refreshed` / `trust_version_published` (info),
 * `crl_refresh_failed`, `scheduled_failed`, `alert_webhook_failed`, `configuration_invalid` (error).
 */
import type { Env } from "../env";
import { log } from "../log";
import { postAlert, WEBHOOK_TIMEOUT_MS } from "./alerts";
import { refreshCrls, type CrlAlert, type RefreshOptions, type RefreshOutcome } from "./crl-refresh";
import { checkExpiry, DEFAULT_EXPIRY_WARN_DAYS, parseWarnDays, type ExpiryFinding } from "./expiry";
import { readSnapshot } from "./snapshot";

export interface ScheduledOptions extends Partial<Omit<RefreshOptions, "now" | "fetch">> {
  readonly now: Date;
  readonly fetch?: typeof fetch;
  readonly webhookTimeoutMs?: number;
}

export interface ScheduledReport {
  readonly version: string | null;
  readonly findings: readonly ExpiryFinding[];
  readonly refresh: RefreshOutcome | null;
  readonly failures: ReadonlyArray<ScheduledFailure>;
  /** Null when no webhook is configured or there was nothing to send. */
  readonly webhookDelivered: boolean | null;
}

/** What a run reports to the webhook besides expiry findings. */
export type ScheduledFailure = CrlAlert | { event: "scheduled_failed"; detail: string } | { event: "configuration_invalid"; detail: string };

/** One scheduled run. */
export async function runScheduled(env: Env, options: ScheduledOptions): Promise<ScheduledReport> {
  const f = options.fetch ?? ((input, init) => fetch(input, init));
  const failures: ScheduledFailure[] = [];
  let thresholds = parseWarnDays(env.EXPIRY_WARN_DAYS);
  if (thresholds === null) {
    // The cron runs where nobody watches the logs: the webhook hears of a bad setting too.
    const detail = `EXPIRY_WARN_DAYS must be positive whole days separated by commas, got ${JSON.stringify(env.EXPIRY_WARN_DAYS)}; using ${DEFAULT_EXPIRY_WARN_DAYS.join(",")}`;
    log("error", "configuration_invalid", { problems: [detail] });
    failures.push({ event: "configuration_invalid", detail });
    thresholds = DEFAULT_EXPIRY_WARN_DAYS;
  }
  let findings: ExpiryFinding[] = [];
  let refresh: RefreshOutcome | null = null;
  let version: string | null = null;
  try {
    const snapshot = await readSnapshot(env.TRUST);
    version = snapshot.version;
    for (const p of snapshot.problems) log("warn", "scheduled_item_unreadable", { version, internal: p });
    findings = checkExpiry(snapshot, options.now, thresholds);
    for (const x of findings) log("warn", "expiry_warning", { ...x });
    refresh = await refreshCrls(env.TRUST, snapshot, { ...options, fetch: f });
    for (const r of refresh.replacements) log("info", "crl_refreshed", { ...r });
    if (refresh.version) log("info", "trust_version_published", { from: version, version: refresh.version, reason: "crl_refresh" });
    for (const a of refresh.alerts) {
      log("error", "crl_refresh_failed", { ...a });
      failures.push(a);
    }
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    log("error", "scheduled_failed", { internal: detail });
    failures.push({ event: "scheduled_failed", detail });
  }

  let webhookDelivered: boolean | null = null;
  if (env.ALERT_WEBHOOK_URL && (findings.length > 0 || failures.length > 0)) {
    webhookDelivered = await postAlert(
      { url: env.ALERT_WEBHOOK_URL, token: env.ALERT_WEBHOOK_TOKEN, fetch: f, timeoutMs: options.webhookTimeoutMs ?? WEBHOOK_TIMEOUT_MS },
      {
        source: "certgate",
        at: options.now.toISOString(),
        version,
        published: refresh?.version ?? null,
        expiry: findings,
        failures,
      },
    );
  }
  return { version, findings, refresh, failures, webhookDelivered };
}
