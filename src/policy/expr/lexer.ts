/**
 * policy/expr/lexer — C# tokens of an APIM policy expression.
 *
 * Contract: pure, total over any input: a malformed literal is a LexError (offset + message), never another
 * exception. Offsets are indexes into the whole `@(…)` / `@{…}` source; parse.ts maps them to file positions.
 * Also exports the literal skipper that findCodeEnd uses, so that "where does the code end" and "what are its
 * tokens" agree on every string form: regular `"…"`, verbatim `@"…"` (`""` escapes a quote), interpolated
 * `$"…{e}…"` / `$@"…"` / `@$"…"` (holes are code, `{{`/`}}` escape braces) and char literals `'x'`.
 */
import { MAX_NESTING } from "./limits";

export type Tok =
  | { readonly k: "id"; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "int" | "double"; readonly v: number; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "str"; readonly v: string; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "chr"; readonly v: string; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "interp"; readonly parts: readonly InterpPart[]; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "op"; readonly s: string; readonly start: number; readonly end: number }
  | { readonly k: "eof"; readonly s: ""; readonly start: number; readonly end: number };

/** A piece of an interpolated string: literal text, or a hole (code range, optional alignment range and format). */
export type InterpPart =
  | { readonly text: string }
  | { readonly hole: readonly [number, number]; readonly align: readonly [number, number] | null; readonly format: string | null; readonly formatAt: number };

export class LexError {
  constructor(readonly offset: number, readonly message: string, readonly length = 1) {}
}

/** Operators, longest first (`>>` is deliberately absent: `List<List<T>>` needs two `>`; the parser spots shifts). */
const OPERATORS = [
  "??=", "<<=", "...", "?.", "?[", "??", "=>", "==", "!=", "<=", ">=", "&&", "||", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
  "++", "--", "->", "::", "..", "(", ")", "[", "]", "{", "}", ".", ",", ";", ":", "?", "+", "-", "*", "/", "%", "=", "<", ">", "!", "~",
  "&", "|", "^", "#", "`",
];

const isIdentStart = (c: string): boolean => /^[\p{L}_]$/u.test(c);
const isIdentPart = (c: string): boolean => /^[\p{L}\p{Nd}_\p{Mn}\p{Mc}\p{Pc}]$/u.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

/** Tokenizes src[from, to). Throws LexError. */
export function lex(src: string, from: number, to: number): Tok[] {
  const toks: Tok[] = [];
  let i = from;
  while (true) {
    i = skipTrivia(src, i, to);
    if (i >= to) {
      toks.push({ k: "eof", s: "", start: to, end: to });
      return toks;
    }
    const c = src[i]!;
    const start = i;
    if (c === '"' || c === "'" || ((c === "@" || c === "$") && literalStartLength(src, i, to) > 0)) {
      toks.push(lexLiteral(src, i, to, 0));
      i = toks[toks.length - 1]!.end;
      continue;
    }
    if (c === "@" && i + 1 < to && isIdentStart(src[i + 1]!)) {
      // Verbatim identifier `@class`.
      let j = i + 2;
      while (j < to && isIdentPart(src[j]!)) j++;
      toks.push({ k: "id", s: src.slice(i + 1, j), start, end: j });
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      while (j < to && isIdentPart(src[j]!)) j++;
      toks.push({ k: "id", s: src.slice(i, j), start, end: j });
      i = j;
      continue;
    }
    if (isDigit(c) || (c === "." && isDigit(src[i + 1]) && i + 1 < to)) {
      const t = lexNumber(src, i, to);
      toks.push(t);
      i = t.end;
      continue;
    }
    let op: string | undefined;
    for (const o of OPERATORS) {
      if (i + o.length <= to && src.startsWith(o, i)) {
        op = o;
        break;
      }
    }
    // `a?.5:b` is a conditional with a number, not a null-conditional member access.
    if (op === "?." && isDigit(src[i + 2])) op = "?";
    if (op === undefined) throw new LexError(i, `unexpected character '${c}'`);
    toks.push({ k: "op", s: op, start, end: i + op.length });
    i += op.length;
  }
}

/** Skips whitespace and comments; an unterminated block comment is a LexError. */
function skipTrivia(src: string, i: number, to: number): number {
  while (i < to) {
    const c = src[i]!;
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v" || c === "\u00a0" || c === "\ufeff") {
      i++;
    } else if (c === "/" && src[i + 1] === "/" && i + 1 < to) {
      while (i < to && src[i] !== "\n") i++;
    } else if (c === "/" && src[i + 1] === "*" && i + 1 < to) {
      const end = src.indexOf("*/", i + 2);
      if (end < 0 || end + 2 > to) throw new LexError(i, "unterminated comment", 2);
      i = end + 2;
    } else {
      break;
    }
  }
  return i;
}

/** Length of a string-literal opener at i (`"`, `@"`, `$"`, `$@"`, `@$"`), or 0. Chars (`'`) are handled apart. */
function literalStartLength(src: string, i: number, to: number): number {
  const c = src[i];
  if (c === '"') return 1;
  if (c === "@" || c === "$") {
    if (i + 1 < to && src[i + 1] === '"') return 2;
    const d = src[i + 1];
    if (i + 2 < to && ((c === "@" && d === "$") || (c === "$" && d === "@")) && src[i + 2] === '"') return 3;
  }
  return 0;
}

const SIMPLE_ESCAPES: ReadonlyMap<string, string> = new Map([
  ["'", "'"], ['"', '"'], ["\\", "\\"], ["0", "\0"], ["a", "\x07"], ["b", "\b"], ["f", "\f"], ["n", "\n"], ["r", "\r"], ["t", "\t"], ["v", "\v"],
]);

/** Decodes the escape sequence at src[i] === "\\"; returns [text, next index]. */
function readEscape(src: string, i: number, to: number): [string, number] {
  const e = src[i + 1];
  if (e === undefined || i + 1 >= to) throw new LexError(i, "unterminated escape sequence");
  const simple = SIMPLE_ESCAPES.get(e);
  if (simple !== undefined) return [simple, i + 2];
  const hexRun = (from: number, min: number, max: number): [number, number] => {
    let j = from;
    while (j < to && j - from < max && /^[0-9a-fA-F]$/.test(src[j]!)) j++;
    if (j - from < min) throw new LexError(i, "invalid escape sequence", j - i);
    return [parseInt(src.slice(from, j), 16), j];
  };
  if (e === "u") {
    const [v, j] = hexRun(i + 2, 4, 4);
    return [String.fromCharCode(v), j];
  }
  if (e === "U") {
    const [v, j] = hexRun(i + 2, 8, 8);
    if (v > 0x10ffff) throw new LexError(i, "invalid escape sequence", j - i);
    return [String.fromCodePoint(v), j];
  }
  if (e === "x") {
    const [v, j] = hexRun(i + 2, 1, 4);
    return [String.fromCharCode(v), j];
  }
  throw new LexError(i, `invalid escape sequence '\\${e}'`, 2);
}

/** Lexes the string or char literal starting at i. */
function lexLiteral(src: string, i: number, to: number, depth: number): Tok {
  if (depth > MAX_NESTING) throw new LexError(i, "interpolated strings nested too deeply");
  const start = i;
  if (src[i] === "'") {
    let j = i + 1;
    let v: string;
    if (src[j] === "\\" && j < to) {
      [v, j] = readEscape(src, j, to);
    } else {
      if (j >= to || src[j] === "'" || src[j] === "\n") throw new LexError(i, "empty or unterminated character literal");
      v = src[j]!;
      j++;
    }
    if (j >= to || src[j] !== "'") throw new LexError(i, "character literal must contain exactly one character", Math.max(1, j - i));
    return { k: "chr", v, s: src.slice(start, j + 1), start, end: j + 1 };
  }
  const n = literalStartLength(src, i, to);
  const prefix = src.slice(i, i + n - 1);
  const verbatim = prefix.includes("@");
  const interpolated = prefix.includes("$");
  if (n === 1 && src.startsWith('"""', i) && i + 3 <= to) throw new LexError(i, "unsupported construct: raw string literal", 3);
  let j = i + n;
  let text = "";
  const parts: InterpPart[] = [];
  while (true) {
    if (j >= to) throw new LexError(start, "unterminated string literal", Math.min(20, to - start));
    const c = src[j]!;
    if (c === '"') {
      if (verbatim && src[j + 1] === '"' && j + 1 < to) {
        text += '"';
        j += 2;
        continue;
      }
      j++;
      break;
    }
    if (!verbatim && c === "\n") throw new LexError(start, "newline in string literal", Math.max(1, j - start));
    if (!verbatim && c === "\\") {
      const [v, next] = readEscape(src, j, to);
      text += v;
      j = next;
      continue;
    }
    if (interpolated && (c === "{" || c === "}")) {
      if (src[j + 1] === c && j + 1 < to) {
        text += c;
        j += 2;
        continue;
      }
      if (c === "}") throw new LexError(j, "unescaped '}' in interpolated string (write '}}')");
      if (text !== "") parts.push({ text });
      text = "";
      const hole = scanHole(src, j + 1, to, depth, verbatim);
      parts.push(hole.part);
      j = hole.end + 1;
      continue;
    }
    text += c;
    j++;
  }
  const s = src.slice(start, j);
  if (interpolated) {
    if (text !== "") parts.push({ text });
    return { k: "interp", parts, s, start, end: j };
  }
  return { k: "str", v: text, s, start, end: j };
}

/**
 * Scans an interpolation hole starting just after its `{`: code up to `,` (alignment), `:` (format) or `}` at
 * nesting depth 0. Returns the part and the index of the closing `}`.
 */
function scanHole(src: string, i: number, to: number, depth: number, verbatim: boolean): { part: InterpPart; end: number } {
  const holeStart = i;
  let nest = 0;
  let j = i;
  let codeEnd = -1;
  let alignStart = -1;
  let alignEnd = -1;
  while (true) {
    if (j >= to) throw new LexError(holeStart - 1, "unterminated interpolation hole");
    const c = src[j]!;
    if (c === '"' || c === "'" || ((c === "@" || c === "$") && literalStartLength(src, j, to) > 0)) {
      j = lexLiteral(src, j, to, depth + 1).end;
      continue;
    }
    if (c === "/" && (src[j + 1] === "/" || src[j + 1] === "*")) throw new LexError(j, "comment inside an interpolation hole", 2);
    if (c === "(" || c === "[" || c === "{") nest++;
    else if ((c === ")" || c === "]") && nest > 0) nest--;
    else if (c === "}" && nest > 0) nest--;
    else if (nest === 0 && (c === "}" || c === ":" || c === ",")) {
      if (c === "," && alignStart < 0 && codeEnd < 0) {
        codeEnd = j;
        alignStart = j + 1;
      } else if (c === ":" || c === "}") {
        if (codeEnd < 0) codeEnd = j;
        else if (alignStart >= 0 && alignEnd < 0) alignEnd = j;
        if (c === "}") return { part: { hole: [holeStart, codeEnd], align: alignStart >= 0 ? [alignStart, alignEnd] : null, format: null, formatAt: j }, end: j };
        // Format: literal text to the closing brace (escapes still apply in a regular string).
        let format = "";
        let k = j + 1;
        while (true) {
          if (k >= to) throw new LexError(holeStart - 1, "unterminated interpolation hole");
          const f = src[k]!;
          if (f === "}") break;
          if (f === "{" || f === '"' || (f === "\n" && !verbatim)) throw new LexError(k, `unexpected '${f === "\n" ? "\\n" : f}' in interpolation format`);
          if (f === "\\" && !verbatim) {
            const [v, next] = readEscape(src, k, to);
            format += v;
            k = next;
            continue;
          }
          format += f;
          k++;
        }
        return { part: { hole: [holeStart, codeEnd], align: alignStart >= 0 ? [alignStart, alignEnd] : null, format, formatAt: j + 1 }, end: k };
      }
    }
    j++;
  }
}

/** Lexes a number literal (decimal, hex, binary; suffixes U L UL F D M; `_` separators). */
function lexNumber(src: string, i: number, to: number): Tok {
  const start = i;
  let j = i;
  const run = (re: RegExp): string => {
    const from = j;
    while (j < to && re.test(src[j]!)) j++;
    return src.slice(from, j).replaceAll("_", "");
  };
  let kind: "int" | "double" = "int";
  let v: number;
  if (src[j] === "0" && (src[j + 1] === "x" || src[j + 1] === "X" || src[j + 1] === "b" || src[j + 1] === "B") && j + 2 < to) {
    const hex = src[j + 1] === "x" || src[j + 1] === "X";
    j += 2;
    const digits = run(hex ? /^[0-9a-fA-F_]$/ : /^[01_]$/);
    if (digits === "") throw new LexError(start, "invalid number literal", j - start);
    const big = BigInt((hex ? "0x" : "0b") + digits);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new LexError(start, "integer literal too large", j - start);
    v = Number(big);
  } else {
    let text = run(/^[0-9_]$/);
    if (src[j] === "." && isDigit(src[j + 1]) && j + 1 < to) {
      j++;
      text += "." + run(/^[0-9_]$/);
      kind = "double";
    }
    if ((src[j] === "e" || src[j] === "E") && j < to) {
      const save = j;
      j++;
      let exp = "e";
      if ((src[j] === "+" || src[j] === "-") && j < to) exp += src[j++];
      const digits = run(/^[0-9_]$/);
      if (digits === "") j = save;
      else {
        text += exp + digits;
        kind = "double";
      }
    }
    v = Number(text);
    if (kind === "int" && !Number.isSafeInteger(v)) throw new LexError(start, "integer literal too large", j - start);
  }
  // Suffixes.
  const suffix = run(/^[uUlLfFdDmM]$/).toLowerCase();
  if (suffix !== "") {
    if (suffix === "f" || suffix === "d" || suffix === "m") kind = "double";
    else if (!["u", "l", "ul", "lu"].includes(suffix) || kind === "double") throw new LexError(start, `invalid number suffix '${suffix}'`, j - start);
  }
  if (j < to && isIdentPart(src[j]!)) throw new LexError(start, "invalid number literal", j - start + 1);
  return { k: kind, v, s: src.slice(start, j), start, end: j };
}

/**
 * Index of the delimiter closing code that starts at `i` (just after `@(` or `@{`), honouring literals and
 * comments; only the outer delimiter pair is counted. Null when unterminated. Never throws.
 */
export function scanCodeEnd(src: string, i: number, open: string, close: string): number | null {
  const to = src.length;
  let depth = 0;
  try {
    while (i < to) {
      const c = src[i]!;
      if (c === "/" && src[i + 1] === "/") {
        while (i < to && src[i] !== "\n") i++;
        continue;
      }
      if (c === "/" && src[i + 1] === "*") {
        const end = src.indexOf("*/", i + 2);
        if (end < 0) return null;
        i = end + 2;
        continue;
      }
      if (c === '"' || c === "'" || ((c === "@" || c === "$") && literalStartLength(src, i, to) > 0)) {
        i = c === "'" ? skipCharLiteral(src, i, to) : lexLiteral(src, i, to, 0).end;
        continue;
      }
      if (c === open) depth++;
      else if (c === close) {
        if (depth === 0) return i;
        depth--;
      }
      i++;
    }
    return null;
  } catch (e) {
    if (e instanceof LexError) return null;
    throw e;
  }
}

/**
 * Skips a char literal leniently (findCodeEnd must find the end even around a malformed one): to the next
 * unescaped `'` on the same line.
 */
function skipCharLiteral(src: string, i: number, to: number): number {
  let j = i + 1;
  while (j < to) {
    const c = src[j]!;
    if (c === "\\") j += 2;
    else if (c === "'") return j + 1;
    else if (c === "\n") break;
    else j++;
  }
  throw new LexError(i, "unterminated character literal");
}
