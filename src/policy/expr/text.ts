/**
 * policy/expr/text — building text under the caps: the string builder every loop that produces a string uses,
 * `{x:format}` / `ToString(format)` formatting, composite formatting (string.Format) and alignment.
 *
 * Contract: every piece is charged once to the Rt and the total is checked against MAX_STRING_CHARS as it grows.
 */
import type { Value } from "./host";
import { shortTypeName, toText } from "./convert";
import { formatDate, formatNumber, formatTimeSpanWith } from "./format";
import { enumOrdinal } from "./json";
import { MAX_STRING_CHARS } from "./limits";
import type { Rt } from "./runtime";
import { CsDouble, CsEnum, JValue, TimeSpan } from "./values";

/**
 * Builds a string from pieces, charging each piece once (appending to a growing string and re-checking its whole
 * length each time would charge quadratically) and failing as soon as the total passes MAX_STRING_CHARS.
 */
export class TextBuilder {
  private readonly parts: string[] = [];
  private length = 0;
  constructor(private readonly rt: Rt) {}
  add(s: string): void {
    this.length += s.length;
    if (this.length > MAX_STRING_CHARS) this.rt.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
    this.rt.chars(s.length);
    this.parts.push(s);
  }
  done(): string {
    return this.parts.join("");
  }
}

/** A value formatted as `{x:format}` / `x.ToString(format)` would (IFormattable types honour it; others ignore it). */
export function formatValue(rt: Rt, v: Value, format: string | null): string {
  if (format === null) return toText(v, rt);
  const x = v instanceof JValue ? (v.value as Value) : v;
  let out: string | null;
  if (typeof x === "number") out = formatNumber(x, true, format);
  else if (x instanceof CsDouble) out = formatNumber(x.value, false, format);
  else if (x instanceof Date) out = formatDate(x, format);
  else if (x instanceof TimeSpan) out = formatTimeSpanWith(x.ms, format);
  else if (x instanceof CsEnum) out = format === "G" || format === "g" || format === "F" || format === "f" ? x.name : format === "D" || format === "d" ? String(enumOrdinal(x)) : null;
  else return toText(v, rt);
  if (out === null) rt.fail("FormatException", `Format string '${format}' is invalid or not supported for ${shortTypeName(x)}.`);
  return rt.str(out!);
}

/** string.Format: `{index[,alignment][:format]}`, `{{` and `}}`. */
export function formatComposite(rt: Rt, format: string, args: readonly Value[]): string {
  const bad = (): never => rt.fail("FormatException", "Input string was not in a correct format.");
  const out = new TextBuilder(rt);
  let i = 0;
  rt.chars(format.length);
  while (i < format.length) {
    const c = format[i]!;
    if (c === "}") {
      if (format[i + 1] !== "}") bad();
      out.add("}");
      i += 2;
      continue;
    }
    if (c !== "{") {
      const next = format.slice(i).search(/[{}]/);
      const end = next < 0 ? format.length : i + next;
      out.add(format.slice(i, end));
      i = end;
      continue;
    }
    if (format[i + 1] === "{") {
      out.add("{");
      i += 2;
      continue;
    }
    const close = format.indexOf("}", i);
    if (close < 0) bad();
    const m = /^\s*(\d+)\s*(?:,\s*(-?\d+)\s*)?(?::(.*))?$/s.exec(format.slice(i + 1, close));
    if (!m) bad();
    const index = Number(m![1]);
    if (index >= args.length) rt.fail("FormatException", "Index (zero based) must be greater than or equal to zero and less than the size of the argument list.");
    let piece = formatValue(rt, args[index]!, m![3] ?? null);
    if (m![2] !== undefined) piece = align(rt, piece, Number(m![2]));
    out.add(piece);
    i = close + 1;
  }
  return out.done();
}

/** Alignment `{x,10}` (right) / `{x,-10}` (left). */
export function align(rt: Rt, s: string, width: number): string {
  const w = Math.abs(width);
  if (w > MAX_STRING_CHARS) rt.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
  if (s.length >= w) return s;
  return rt.str(width < 0 ? s.padEnd(w) : s.padStart(w));
}

