/**
 * compile-policies/code — the compiler's side of the expression parser (src/policy/expr/parse.ts).
 *
 * Contract: pure. `compileCode` turns a code span (its source and the file offset of each character) into
 * a Code: `{{name}}` references inside it are substituted first (APIM substitutes named values textually
 * before compiling C#; a secret one cannot be, its value is known only at run time), then `parseCode` runs
 * on the result, and every position it reports — errors and the AST's `at` — is mapped back through the
 * substitutions and the span's map to the original file. The span's text may differ from the file's (decoded
 * entities, `\r\n` → `\n`, substituted values), so positions are never computed by adding to `at`: the parser
 * gets [1, 1] and each position is converted back here.
 */
import type { Code, Expr, Pos } from "../../src/policy/expr/ast";
import { checkTypes } from "../../src/policy/expr/check-types";
import { findCodeEnd as parserFindCodeEnd, parseCode } from "../../src/policy/expr/parse";
import type { Diagnostics, SourceFile } from "./source";
import { namedValueRefAt, type NamedValues } from "./values";

/** Index just past the `)` / `}` closing the `@(` / `@{` at `text[start]`; null when unterminated. */
export function findCodeEnd(text: string, start: number): number | null {
  return parserFindCodeEnd(text, start);
}

export interface CodeSpan {
  /** `@( … )` or `@{ … }`. */
  readonly source: string;
  /** File offset of each character of `source`, plus one for the end. */
  readonly map: readonly number[];
}

export interface CodeContext {
  readonly file: SourceFile;
  readonly values: NamedValues;
  readonly diags: Diagnostics;
}

/**
 * Compiles a code span; null after reporting its errors. `prefix` goes before each message (used for
 * expressions that come from a named value's text).
 */
export function compileCode(span: CodeSpan, ctx: CodeContext, prefix = ""): Code | null {
  const { file, diags } = ctx;
  // 1. Named values, substituted textually; `toSpan[i]` is the span index of source[i].
  let source = "";
  const toSpan: number[] = [];
  let ok = true;
  for (let i = 0; i < span.source.length;) {
    const ref = namedValueRefAt(span.source, i);
    if (!ref) {
      source += span.source[i];
      toSpan.push(i);
      i++;
      continue;
    }
    const at = span.map[i]!;
    const length = span.map[ref.end]! - at;
    const v = ctx.values.lookup(ref.name);
    if (v === undefined) {
      diags.error(file, at, prefix + ctx.values.unknown(ref.name), length);
      ok = false;
    } else if (v.kind === "secret") {
      diags.error(file, at, `${prefix}secret named value {{${ref.name}}} cannot be used inside an expression: its value is known only at run time (use it in attribute or element text outside @( ))`, length);
      ok = false;
    } else {
      source += v.value;
      for (let k = 0; k < v.value.length; k++) toSpan.push(i);
    }
    i = ref.end;
  }
  toSpan.push(span.source.length);
  if (!ok) return null;

  // 2. Parse, then map positions back to the file.
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") lineStarts.push(i + 1);
  const fileOffset = (line: number, col: number): number => {
    const start = lineStarts[Math.max(0, Math.min(line - 1, lineStarts.length - 1))]!;
    const index = Math.max(0, Math.min(start + col - 1, source.length));
    return span.map[toSpan[index]!]!;
  };
  const result = parseCode(source, file.path, [1, 1]);
  if (!result.ok) {
    for (const e of result.errors) {
      const at = fileOffset(e.line, e.col);
      diags.error(file, at, prefix + e.message, Math.max(1, e.text.length));
    }
    return null;
  }
  // 3. Members and types (check-types.ts): what the interpreter cannot run is an error here, not on every request.
  const typeErrors = checkTypes(result.code);
  if (typeErrors.length > 0) {
    for (const e of typeErrors) diags.error(file, fileOffset(e.at[0], e.at[1]), prefix + e.message, e.length);
    return null;
  }
  const toFilePos = (p: Pos): Pos => {
    const { line, col } = file.position(fileOffset(p[0], p[1]));
    return [line, col];
  };
  return { ...result.code, node: remapPositions(result.code.node, toFilePos) } as Code;
}

const isPos = (v: unknown): v is Pos => Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number";

/** A copy of an AST with every `at` mapped. */
function remapPositions<T>(node: T, map: (p: Pos) => Pos): T {
  if (Array.isArray(node)) return node.map((x) => remapPositions(x, map)) as T;
  if (node !== null && typeof node === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === "at" && isPos(v) ? map(v) : remapPositions(v, map);
    return out as T;
  }
  return node;
}

/** Which certificate verifications an AST calls for (`.Verify()`, `.VerifyNoRevocation()`). */
export function collectNeeds(node: unknown, into: Set<"verify" | "verifyNoRevocation">): void {
  if (Array.isArray(node)) {
    for (const x of node) collectNeeds(x, into);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const e = node as Partial<Extract<Expr, { t: "call" }>>;
  if (e.t === "call" && e.callee?.t === "member") {
    if (e.callee.name === "Verify") into.add("verify");
    else if (e.callee.name === "VerifyNoRevocation") into.add("verifyNoRevocation");
  }
  for (const v of Object.values(node)) collectNeeds(v, into);
}
