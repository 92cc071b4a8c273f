/**
 * The `X-Certgate-Trace` header value: the request's trace lines as a JSON array, non-ASCII escaped as
 * \uXXXX (header values are Latin-1), lines dropped past 8 KiB with a `{"truncated": n}` marker. Shared by the
 * Worker (src/app.ts) and `policy explain`, whose outputs the policy cases compare.
 */
import type { TraceLine } from "./run";

/** Largest trace header: proxies commonly cap a header line at 8 KiB. */
export const MAX_TRACE_HEADER_CHARS = 8 * 1024;

export function traceHeader(traces: readonly TraceLine[]): string {
  const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const kept: string[] = [];
  let size = 2;
  for (const [i, t] of traces.entries()) {
    const line = ascii(JSON.stringify(t));
    if (size + line.length + 1 > MAX_TRACE_HEADER_CHARS - 32) {
      kept.push(JSON.stringify({ truncated: traces.length - i }));
      break;
    }
    kept.push(line);
    size += line.length + 1;
  }
  return `[${kept.join(",")}]`;
}
