/**
 * cert CLI — where results go, and what the exit status means. The commands write through `Output` (never to
 * `process` directly), so they can be driven in-process as well as from main.ts.
 */

/** Line sinks: `out` for results (stdout), `err` for diagnostics (stderr). A line carries no newline. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Every certificate read (inspect) or every leaf valid (verify). */
export const EXIT_OK = 0;
/** verify: at least one leaf is invalid. */
export const EXIT_INVALID = 1;
/** Bad arguments, or a file that cannot be read, decoded or parsed. Wins over EXIT_INVALID. */
export const EXIT_USAGE = 2;

/** The exit status of several outcomes: the worst one. */
export function worstExit(...codes: number[]): number {
  return Math.max(EXIT_OK, ...codes);
}
