/**
 * The alert webhook: one JSON POST per scheduled run carrying every finding and failure of that run.
 *
 * Contract: I/O (the injected `fetch`); never throws — a failure (network error, non-2xx, timeout) is
 * logged as `alert_webhook_failed` and returned, because an alerting outage must not stop the CRL refresh
 * or hide the log lines, which are the primary record.
 */
import { log } from "../log";

/** Webhook timeout: long enough for a slow chat/incident API, short enough to leave the run its budget. */
export const WEBHOOK_TIMEOUT_MS = 5_000;

export interface WebhookTarget {
  readonly url: string;
  readonly token?: string;
  readonly fetch: typeof fetch;
  readonly timeoutMs?: number;
}

/** POSTs `body` as JSON. Resolves to true when the webhook answered 2xx. */
export async function postAlert(target: WebhookTarget, body: unknown): Promise<boolean> {
  const controller = new AbortController();
  const timeoutMs = target.timeoutMs ?? WEBHOOK_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (target.token) headers.authorization = `Bearer ${target.token}`;
    const send = target.fetch(target.url, { method: "POST", headers, body: JSON.stringify(body), signal: controller.signal });
    // Race as well as abort: a fetch that ignores its signal still cannot hold the run.
    const res = await Promise.race([send, timeout]);
    if (res === "timeout") {
      send.catch(() => {});
      log("error", "alert_webhook_failed", { reason: "timeout", timeoutMs });
      return false;
    }
    await res.body?.cancel();
    if (!res.ok) {
      log("error", "alert_webhook_failed", { reason: "status", status: res.status });
      return false;
    }
    return true;
  } catch (e) {
    log("error", "alert_webhook_failed", { reason: "error", internal: e instanceof Error ? e.message : String(e) });
    return false;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
