/**
 * Structured log lines (one JSON object per line, as Workers Logs and `wrangler tail` index them).
 * Internal detail (KV keys, exception text) goes here and never to the client.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
