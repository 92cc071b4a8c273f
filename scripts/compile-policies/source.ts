/**
 * compile-policies/source — source files and diagnostics.
 *
 * Contract: pure. A SourceFile turns offsets into 1-based line:col (columns in UTF-16 units, as JavaScript
 * strings and most editors count them; `\n`, `\r\n` and `\r` end a line). Every diagnostic carries its
 * file, position, message, the source line and the length of the offending text, so it can be printed
 * without the file (`formatDiagnostics`): `file:line:col: message`, the line, a caret line.
 */

export type Severity = "error" | "warning";

export interface Diagnostic {
  readonly severity: Severity;
  /** Path as the compiler was given it (relative to the policies folder). */
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly message: string;
  /** The source line holding the position ("" when the position is not in a text file). */
  readonly lineText: string;
  /** Length of the offending text, at least 1 (clamped to the line when printed). */
  readonly length: number;
}

export class SourceFile {
  private readonly lineStarts: number[] = [0];

  constructor(readonly path: string, readonly text: string) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10 /* \n */) this.lineStarts.push(i + 1);
      else if (c === 13 /* \r */) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.lineStarts.push(i + 1);
      }
    }
  }

  /** 1-based line and column of `offset` (clamped to the text). */
  position(offset: number): { line: number; col: number } {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - this.lineStarts[lo]! + 1 };
  }

  /** Offset of a 1-based line:col (the inverse of `position`). */
  offset(line: number, col: number): number {
    const start = this.lineStarts[Math.max(0, Math.min(line - 1, this.lineStarts.length - 1))]!;
    return Math.min(start + col - 1, this.text.length);
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1];
    if (start === undefined) return "";
    const next = this.lineStarts[line];
    let end = next ?? this.text.length;
    while (end > start && (this.text[end - 1] === "\n" || this.text[end - 1] === "\r")) end--;
    return this.text.slice(start, end);
  }

  diagnostic(severity: Severity, offset: number, message: string, length = 1): Diagnostic {
    const { line, col } = this.position(offset);
    return { severity, file: this.path, line, col, message, lineText: this.lineText(line), length: Math.max(1, length) };
  }
}

/** Collects diagnostics; `error` / `warning` at an offset of a file. Duplicates (same text) are kept once. */
export class Diagnostics {
  private readonly seen = new Set<string>();
  readonly list: Diagnostic[] = [];

  add(d: Diagnostic): void {
    const key = `${d.severity}\0${d.file}\0${d.line}\0${d.col}\0${d.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(d);
  }

  error(file: SourceFile, offset: number, message: string, length = 1): void {
    this.add(file.diagnostic("error", offset, message, length));
  }

  warning(file: SourceFile, offset: number, message: string, length = 1): void {
    this.add(file.diagnostic("warning", offset, message, length));
  }

  /** A diagnostic about a file as a whole (line 1, column 1). */
  fileError(path: string, message: string): void {
    this.add({ severity: "error", file: path, line: 1, col: 1, message, lineText: "", length: 1 });
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }

  errors(): Diagnostic[] {
    return sortDiagnostics(this.list.filter((d) => d.severity === "error"));
  }

  warnings(): Diagnostic[] {
    return sortDiagnostics(this.list.filter((d) => d.severity === "warning"));
  }
}

/** File, line, column, then errors before warnings, then message: a stable order for golden files. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...list].sort((a, b) =>
    cmp(a.file, b.file) || a.line - b.line || a.col - b.col || cmp(a.severity, b.severity) || cmp(a.message, b.message));
}

/** Longest source line shown; longer lines are shown as a window around the column. */
const MAX_SHOWN_LINE = 120;

/**
 * `file:line:col: message` (warnings: `file:line:col: warning: message`), then the source line and a caret
 * line (`^` under the column, `~` under the rest of the offending text). `pathPrefix` is joined before each
 * file (the CLI prints paths from the working directory; tests print them relative to the case folder).
 */
export function formatDiagnostic(d: Diagnostic, pathPrefix = ""): string {
  const head = `${pathPrefix}${d.file}:${d.line}:${d.col}: ${d.severity === "warning" ? "warning: " : ""}${d.message}`;
  if (d.lineText === "") return head;
  let line = d.lineText;
  let col = d.col - 1;
  if (line.length > MAX_SHOWN_LINE) {
    const from = Math.max(0, Math.min(col - 40, line.length - MAX_SHOWN_LINE));
    const shown = line.slice(from, from + MAX_SHOWN_LINE);
    line = (from > 0 ? "…" : "") + shown + (from + MAX_SHOWN_LINE < d.lineText.length ? "…" : "");
    col = col - from + (from > 0 ? 1 : 0);
  }
  col = Math.min(col, line.length);
  // Tabs stay tabs under the line, so the caret lines up in any terminal.
  const pad = line.slice(0, col).replace(/[^\t]/g, " ");
  const length = Math.max(1, Math.min(d.length, line.length - col));
  return `${head}\n${line}\n${pad}^${"~".repeat(length - 1)}`;
}

export function formatDiagnostics(list: readonly Diagnostic[], pathPrefix = ""): string {
  return sortDiagnostics(list).map((d) => formatDiagnostic(d, pathPrefix) + "\n").join("");
}
