/**
 * compile-policies/template — attribute values and element text as a schema Template or a literal.
 *
 * Contract: pure. Input is a value from read-xml (pieces as placeholder characters). Named values: a
 * compile-time one is substituted (when its text itself holds `@( … )`, that is compiled as an expression,
 * as APIM does, and errors in it are reported at the `{{name}}`); a secret one becomes a runtime part of a
 * Template; an unknown one is an error. Where certgate needs the value at compile time (booleans, enums,
 * names, ids) `toLiteral` rejects expressions and secret values.
 */
import type { Code } from "../../src/policy/expr/ast";
import type { Template } from "../../src/policy/schema";
import { compileCode, findCodeEnd, type CodeContext } from "./code";
import type { CodePiece, XmlDocument } from "./read-xml";

export interface ValueContext extends CodeContext {
  readonly doc: XmlDocument;
}

type Part = { text: string } | { value: string } | { code: Code };

/**
 * Compiled code per piece: a document shared by several operations (one operation policy file named by
 * many operations) is checked once per operation, its expressions parsed once. A piece belongs to one
 * document of one compilation, so the cache cannot serve another compilation's values.
 */
const compiled = new WeakMap<CodePiece, Code | null>();

function compilePiece(piece: CodePiece, ctx: ValueContext): Code | null {
  if (piece.broken) return null;
  if (!compiled.has(piece)) compiled.set(piece, compileCode(piece, ctx));
  return compiled.get(piece)!;
}

/** Splits a named value's text into literal text and code spans (`@(`/`@{`); null parts: unterminated. */
function splitCode(text: string): Array<{ text: string } | { source: string }> | null {
  const out: Array<{ text: string } | { source: string }> = [];
  let literal = "";
  for (let i = 0; i < text.length;) {
    if (text[i] === "@" && (text[i + 1] === "(" || text[i + 1] === "{")) {
      const end = findCodeEnd(text, i);
      if (end === null) return null;
      if (literal) out.push({ text: literal });
      literal = "";
      out.push({ source: text.slice(i, end) });
      i = end;
    } else literal += text[i++];
  }
  if (literal) out.push({ text: literal });
  return out;
}

const hasCode = (s: string) => s.includes("@(") || s.includes("@{");

/** The value as parts; null after reporting errors. */
function toParts(ctx: ValueContext, value: string): Part[] | null {
  const parts: Part[] = [];
  let ok = true;
  const text = (s: string) => {
    const last = parts[parts.length - 1];
    if (last && "text" in last) parts[parts.length - 1] = { text: last.text + s };
    else parts.push({ text: s });
  };
  for (const ch of value) {
    const piece = ctx.doc.pieces.get(ch);
    if (!piece) {
      text(ch);
      continue;
    }
    if (piece.kind === "code") {
      const code = compilePiece(piece, ctx);
      if (code) parts.push({ code });
      else ok = false;
      continue;
    }
    const length = piece.end - piece.start;
    const v = ctx.values.lookup(piece.name);
    if (v === undefined) {
      ctx.diags.error(ctx.file, piece.start, ctx.values.unknown(piece.name), length);
      ok = false;
    } else if (v.kind === "secret") {
      parts.push({ value: piece.name });
    } else if (!hasCode(v.value)) {
      text(v.value);
    } else {
      const split = splitCode(v.value);
      if (split === null) {
        ctx.diags.error(ctx.file, piece.start, `named value {{${piece.name}}} holds an unterminated expression`, length);
        ok = false;
        continue;
      }
      for (const s of split) {
        if ("text" in s) {
          text(s.text);
          continue;
        }
        const map = Array.from({ length: s.source.length + 1 }, () => piece.start);
        const code = compileCode({ source: s.source, map }, ctx, `in named value {{${piece.name}}}: `);
        if (code) parts.push({ code });
        else ok = false;
      }
    }
  }
  return ok ? parts : null;
}

/**
 * A Template. Element text (`trim`) loses its surrounding whitespace; a value that is one expression with
 * only whitespace around it is that expression.
 */
export function toTemplate(ctx: ValueContext, value: string, trim: boolean): Template | null {
  const raw = toParts(ctx, value);
  if (raw === null) return null;
  const trimmed = raw.map((p, i) => {
    if (!("text" in p)) return p;
    let t = p.text;
    if (i === 0) t = t.trimStart();
    if (i === raw.length - 1) t = t.trimEnd();
    return { text: t };
  }).filter((p) => !("text" in p) || p.text !== "");
  const only = trimmed.length === 1 ? trimmed[0]! : undefined;
  if (only && "code" in only) return { t: "code", code: only.code };
  const parts = trim ? trimmed : raw;
  if (parts.every((p) => "text" in p)) return { t: "text", v: parts.map((p) => (p as { text: string }).text).join("") };
  return { t: "parts", parts };
}

/**
 * A value certgate needs at compile time: compile-time named values are substituted; expressions and secret
 * values are errors naming `what` (e.g. "exists-action").
 */
export function toLiteral(ctx: ValueContext, value: string, what: string): string | null {
  let out = "";
  let ok = true;
  for (const ch of value) {
    const piece = ctx.doc.pieces.get(ch);
    if (!piece) {
      out += ch;
      continue;
    }
    const length = piece.end - piece.start;
    if (piece.kind === "code" && piece.broken) {
      ok = false;
      continue;
    }
    if (piece.kind === "code") {
      const firstLine = piece.source.indexOf("\n");
      ctx.diags.error(ctx.file, piece.start, `policy expressions are not allowed in ${what}`, firstLine < 0 ? length : firstLine);
      ok = false;
      continue;
    }
    const v = ctx.values.lookup(piece.name);
    if (v === undefined) {
      ctx.diags.error(ctx.file, piece.start, ctx.values.unknown(piece.name), length);
      ok = false;
    } else if (v.kind === "secret") {
      ctx.diags.error(ctx.file, piece.start, `secret named value {{${piece.name}}} cannot be used in ${what}: the value must be known at compile time`, length);
      ok = false;
    } else if (hasCode(v.value)) {
      ctx.diags.error(ctx.file, piece.start, `named value {{${piece.name}}} holds a policy expression, which is not allowed in ${what}`, length);
      ok = false;
    } else out += v.value;
  }
  return ok ? out : null;
}
