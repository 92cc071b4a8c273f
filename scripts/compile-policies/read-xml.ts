/**
 * compile-policies/read-xml — an APIM policy document as a located XML tree.
 *
 * Contract: pure. `readXml(file, diags)` returns the tree (every element, attribute and text with its offset
 * in the ORIGINAL file), or null after reporting why the document cannot be read (one well-formedness error:
 * after it nothing in the file can be trusted).
 *
 * APIM documents as people paste them are not always well-formed XML: an expression in an attribute may hold
 * unescaped quotes (`condition="@(x != "ABC")"`), and expressions hold unescaped `&&`, `<`, `>`. So before the
 * XML parser (saxes) sees the text, a scanner finds every code span — `@(` or `@{` in an attribute value, in
 * element text or in CDATA, ending where `findCodeEnd` says, which honours C# strings and comments — and
 * every `{{name}}` reference, keeps each aside as a Piece with its original text and a per-character map to
 * file offsets, and puts a single private-use character (U+E000–U+F8FF, ones the file does not use) in its
 * place. saxes then parses plain, well-formed XML; the pieces come back inside attribute values and text.
 * Entities inside a code span are decoded before the span is delimited (`&quot;`, `&lt;`, `&amp;&amp;`
 * forms work as well as the raw ones); inside CDATA they are not (XML semantics).
 *
 * One more leniency, because APIM's own documentation shows it for `subject="… O="Contoso, Inc.", …"`: a
 * quote inside an attribute value that cannot be the closing one (the next character is not whitespace, `/`,
 * `>` or the start of another `name=`) is taken as text, with a warning.
 *
 * saxes reports structure (elements, decoded values); the scanner reports positions. They are joined by
 * offset: saxes's position just past an opening tag's `>` (or a text's ending `<`) maps back to the offset
 * the scanner recorded for that `>` (or `<`).
 */
import { SaxesParser } from "saxes";
import { findCodeEnd } from "./code";
import type { Diagnostics, SourceFile } from "./source";
import { namedValueRefAt } from "./values";

/** An `@( … )` / `@{ … }` span: `source` is its text with entities decoded and line ends as `\n`. */
export interface CodePiece {
  readonly kind: "code";
  readonly start: number;
  readonly end: number;
  readonly source: string;
  /** File offset of each character of `source`, plus one entry for the end. */
  readonly map: readonly number[];
  /** Unterminated: already reported, skipped up to where the reader resumed (compiled by no one). */
  readonly broken?: true;
}

/** A `{{name}}` reference outside code. */
export interface ValuePiece {
  readonly kind: "value";
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

export type Piece = CodePiece | ValuePiece;

export interface XmlAttribute {
  readonly name: string;
  /** Decoded value; pieces appear as their placeholder characters. */
  readonly value: string;
  /** Offset of the name. */
  readonly start: number;
  /** Offsets of the value's first character and just past its last (inside the quotes). */
  readonly valueStart: number;
  readonly valueEnd: number;
}

export interface XmlText {
  readonly kind: "text";
  readonly value: string;
  /** Offsets of the run in the file (for CDATA: its content). */
  readonly start: number;
  readonly end: number;
}

export interface XmlElement {
  readonly kind: "element";
  readonly name: string;
  /** Offset of the `<`. */
  readonly start: number;
  readonly attributes: readonly XmlAttribute[];
  readonly children: readonly (XmlElement | XmlText)[];
  /** Offsets of the content as written: just past the start tag's `>` to the end tag's `<` (absent: self-closing). */
  readonly inner?: { readonly start: number; readonly end: number };
}

export interface XmlDocument {
  readonly file: SourceFile;
  readonly root: XmlElement;
  /** Placeholder character → piece. */
  readonly pieces: ReadonlyMap<string, Piece>;
}

/** Offset of the first non-whitespace character of a text node (its start when it is all whitespace). */
export function textOffset(doc: XmlDocument, t: XmlText): number {
  let i = t.start;
  while (i < t.end && /\s/.test(doc.file.text[i]!)) i++;
  return i < t.end ? i : t.start;
}

/** The text with entities decoded (or not) and line ends normalized, mapped back to file offsets. */
interface View {
  readonly text: string;
  /** View index → file offset (length text.length + 1). */
  readonly toFile: Int32Array;
  /** File offset → view index (length file + 1). */
  readonly fromFile: Int32Array;
}

const PREDEFINED: Readonly<Record<string, string>> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function buildView(src: string, decodeEntities: boolean): View {
  let text = "";
  const toFile: number[] = [];
  const fromFile = new Int32Array(src.length + 1);
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    fromFile[i] = text.length;
    if (c === "\r") {
      text += "\n";
      toFile.push(i);
      if (src[i + 1] === "\n") {
        fromFile[i + 1] = text.length - 1;
        i++;
      }
      i++;
      continue;
    }
    if (decodeEntities && c === "&") {
      const m = /^&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));/.exec(src.slice(i, i + 12));
      const cp = m ? (m[1] ? PREDEFINED[m[1]]!.codePointAt(0)! : m[2] ? parseInt(m[2], 10) : parseInt(m[3]!, 16)) : -1;
      if (m && cp <= 0x10ffff) {
        const s = String.fromCodePoint(cp);
        for (let k = 0; k < s.length; k++) toFile.push(i);
        for (let k = 1; k < m[0].length; k++) fromFile[i + k] = text.length;
        text += s;
        i += m[0].length;
        continue;
      }
    }
    text += c;
    toFile.push(i);
    i++;
  }
  fromFile[src.length] = text.length;
  toFile.push(src.length);
  return { text, toFile: Int32Array.from(toFile), fromFile };
}

interface TagRecord {
  readonly start: number;
  readonly attributes: { name: string; start: number; valueStart: number; valueEnd: number }[];
}

interface Replacement {
  readonly escStart: number;
  readonly escEnd: number;
  readonly fileStart: number;
  readonly fileEnd: number;
}

interface Scan {
  readonly escaped: string;
  readonly replacements: readonly Replacement[];
  readonly pieces: Map<string, Piece>;
  /** Keyed by the offset of the tag's closing `>`. */
  readonly tags: Map<number, TagRecord>;
  /** Text runs keyed by their end (the `<` that ends them, or the file's length). */
  readonly texts: Map<number, { start: number; end: number }>;
  /** CDATA contents keyed by the offset of the `>` of `]]>`. */
  readonly cdatas: Map<number, { start: number; end: number }>;
  /** End tags keyed by the offset of their `>`, with the element they should close (messages for mismatches). */
  readonly closes: Map<number, { start: number; name: string; open: { start: number; name: string } | null }>;
}

/** Where a piece is: what its end must stay inside, and where to resume after an unterminated expression. */
type Where = { readonly kind: "text" } | { readonly kind: "cdata"; readonly limit: number } | { readonly kind: "attribute"; readonly quote: string };
const TEXT: Where = { kind: "text" };

const isSpace = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
const isNameChar = (c: string | undefined) => c !== undefined && !isSpace(c) && !"/>=<\"'".includes(c);

function scan(file: SourceFile, diags: Diagnostics): Scan | null {
  const src = file.text;
  const n = src.length;
  const out: string[] = [];
  let outLength = 0;
  let copied = 0;
  const replacements: Replacement[] = [];
  const pieces = new Map<string, Piece>();
  const tags = new Map<number, TagRecord>();
  const texts = new Map<number, { start: number; end: number }>();
  const cdatas = new Map<number, { start: number; end: number }>();
  const closes = new Map<number, { start: number; name: string; open: { start: number; name: string } | null }>();
  /** Open elements, as the scanner sees them. */
  const open: { start: number; name: string }[] = [];

  const replace = (from: number, to: number, text: string) => {
    const before = src.slice(copied, from);
    out.push(before, text);
    outLength += before.length;
    replacements.push({ escStart: outLength, escEnd: outLength + text.length, fileStart: from, fileEnd: to });
    outLength += text.length;
    copied = to;
  };

  // Placeholders: private-use characters this file does not contain.
  const used = new Set<number>();
  for (let i = 0; i < n; i++) {
    const c = src.charCodeAt(i);
    if (c >= 0xe000 && c <= 0xf8ff) used.add(c);
  }
  let next = 0xe000;
  const placeholder = (at: number): string | null => {
    while (used.has(next)) next++;
    if (next > 0xf8ff) {
      diags.error(file, at, "too many expressions and {{named values}} in one document (more than 6,400)");
      return null;
    }
    return String.fromCharCode(next++);
  };

  let decoded: View | undefined;
  let raw: View | undefined;
  /**
   * Code span at `at` (`@(` / `@{`); returns its end, or null after a fatal error. An unterminated span is
   * reported, and reading resumes where its context most likely ends (the attribute's closing quote, the
   * next end tag, the CDATA's end), so the rest of the file is still checked.
   */
  const code = (at: number, where: Where): number | null => {
    const inCdata = where.kind === "cdata";
    const view = inCdata ? (raw ??= buildView(src, false)) : (decoded ??= buildView(src, true));
    const from = view.fromFile[at]!;
    const close = src[at + 1] === "(" ? ")" : "}";
    const endView = findCodeEnd(view.text, from);
    const end = endView === null ? null : view.toFile[endView]!;
    if (end === null || (where.kind === "cdata" && end > where.limit)) {
      diags.error(file, at, `unterminated expression: no '${close}' closes this '@${src[at + 1]}'${inCdata && end !== null ? " before the end of the CDATA section" : ""}`, 2);
      let resume = -1;
      if (where.kind === "cdata") resume = where.limit;
      else if (where.kind === "text") resume = src.indexOf("</", at);
      else for (let j = at + 2; j < n && resume < 0; j++) if (src[j] === where.quote && closesValue(j)) resume = j;
      const ph = resume < 0 ? null : placeholder(at);
      if (ph === null) return null;
      pieces.set(ph, { kind: "code", start: at, end: resume, source: "", map: [at], broken: true });
      replace(at, resume, ph);
      return resume;
    }
    const ph = placeholder(at);
    if (ph === null) return null;
    pieces.set(ph, { kind: "code", start: at, end, source: view.text.slice(from, endView!), map: Array.from(view.toFile.subarray(from, endView! + 1)) });
    replace(at, end, ph);
    return end;
  };
  /** `{{name}}` at `at`: its end, `at` when there is none, null after a fatal error. */
  const valueRef = (at: number): number | null => {
    const ref = namedValueRefAt(src, at);
    if (!ref) return at;
    const ph = placeholder(at);
    if (ph === null) return null;
    pieces.set(ph, { kind: "value", start: at, end: ref.end, name: ref.name });
    replace(at, ref.end, ph);
    return ref.end;
  };
  /**
   * Handles what starts at `i` in text, an attribute value or CDATA: a code span, a named value, or (outside
   * CDATA) a bare `&` — reported here, where its position is exact, and escaped so the parse goes on.
   * Returns the next index, or null after a fatal error.
   */
  const piece = (i: number, where: Where): number | null => {
    const c = src[i];
    if (c === "@" && (src[i + 1] === "(" || src[i + 1] === "{")) return code(i, where);
    if (c === "{") {
      const e = valueRef(i);
      return e === null ? null : e === i ? i + 1 : e;
    }
    if (c === "&" && where.kind !== "cdata" && !/^&(?:[A-Za-z_:][A-Za-z0-9._:-]*|#[0-9]+|#x[0-9A-Fa-f]+);/.test(src.slice(i, i + 40))) {
      const length = src[i + 1] === "&" ? 2 : 1;
      diags.error(file, i, `unescaped ${"&".repeat(length)} (write ${"&amp;".repeat(length)}, or put the expression inside @( … ))`, length);
      replace(i, i + length, "&amp;".repeat(length));
      return i + length;
    }
    return i + 1;
  };

  /** Whether the quote at `i` closes an attribute value (see the module comment). */
  const closesValue = (i: number): boolean => {
    const c = src[i + 1];
    if (c === undefined || isSpace(c) || c === "/" || c === ">" || c === "?") return true;
    let j = i + 1;
    while (isNameChar(src[j])) j++;
    if (j === i + 1) return false;
    while (isSpace(src[j])) j++;
    return src[j] === "=";
  };

  let i = 0;
  if (src.charCodeAt(0) === 0xfeff) {
    replace(0, 1, "");
    i = 1;
  }
  let textStart = -1;
  while (i < n) {
    const c = src[i]!;
    if (c !== "<") {
      if (textStart < 0) textStart = i;
      const e = piece(i, TEXT);
      if (e === null) return null;
      i = e;
      continue;
    }
    if (textStart >= 0) {
      texts.set(i, { start: textStart, end: i });
      textStart = -1;
    }
    if (src.startsWith("<!--", i)) {
      const e = src.indexOf("-->", i + 4);
      i = e < 0 ? n : e + 3;
    } else if (src.startsWith("<![CDATA[", i)) {
      const start = i + 9;
      const found = src.indexOf("]]>", start);
      const end = found < 0 ? n : found;
      let j = start;
      while (j < end) {
        const e = piece(j, { kind: "cdata", limit: end });
        if (e === null) return null;
        j = e;
      }
      cdatas.set(end + 2, { start, end });
      i = found < 0 ? n : end + 3;
    } else if (src.startsWith("<?", i)) {
      const e = src.indexOf("?>", i + 2);
      i = e < 0 ? n : e + 2;
    } else if (src.startsWith("<!", i)) {
      diags.error(file, i, "DOCTYPE and other declarations are not allowed in a policy document", 2);
      return null;
    } else if (src[i + 1] === "/") {
      const e = src.indexOf(">", i);
      let j = i + 2;
      while (isNameChar(src[j])) j++;
      const name = src.slice(i + 2, j);
      if (e >= 0) closes.set(e, { start: i, name, open: open[open.length - 1] ?? null });
      if (open[open.length - 1]?.name === name) open.pop();
      i = e < 0 ? n : e + 1;
    } else {
      // A start tag: its name, then attributes until `>` or `/>`.
      const record: TagRecord = { start: i, attributes: [] };
      i++;
      while (isNameChar(src[i])) i++;
      const element = { start: record.start, name: src.slice(record.start + 1, i) };
      while (i < n) {
        while (isSpace(src[i])) i++;
        const t = src[i];
        if (t === ">") {
          tags.set(i, record);
          open.push(element);
          i++;
          break;
        }
        if (t === "/" && src[i + 1] === ">") {
          tags.set(i + 1, record);
          i += 2;
          break;
        }
        if (t === "<" || t === undefined) break; // malformed: saxes reports it
        if (!isNameChar(t)) {
          i++;
          continue;
        }
        const nameStart = i;
        while (isNameChar(src[i])) i++;
        const name = src.slice(nameStart, i);
        while (isSpace(src[i])) i++;
        if (src[i] !== "=") continue;
        i++;
        while (isSpace(src[i])) i++;
        const q = src[i];
        if (q !== '"' && q !== "'") continue;
        i++;
        const valueStart = i;
        const attribute: Where = { kind: "attribute", quote: q };
        let warned = false;
        while (i < n) {
          const v = src[i]!;
          if (v === q) {
            if (closesValue(i)) break;
            if (!warned) {
              diags.warning(file, i, `unescaped ${q} inside the value of ${name}: accepted, but strict XML tools reject it; write ${q === '"' ? "&quot;" : "&apos;"}`);
              warned = true;
            }
            replace(i, i + 1, q === '"' ? "&quot;" : "&apos;");
            i++;
            continue;
          }
          if (v === "<") {
            diags.error(file, i, "unescaped < in an attribute value (write &lt;, or check for a missing closing quote)");
            replace(i, i + 1, "&lt;");
            i++;
            continue;
          }
          const e = piece(i, attribute);
          if (e === null) return null;
          i = e;
        }
        record.attributes.push({ name, start: nameStart, valueStart, valueEnd: i });
        if (src[i] === q) i++;
      }
    }
  }
  if (textStart >= 0) texts.set(n, { start: textStart, end: n });
  out.push(src.slice(copied));
  return { escaped: out.join(""), replacements, pieces, tags, texts, cdatas, closes };
}

/** File offset of an offset in the escaped text (inside a replacement: the replacement's start). */
function toFileOffset(replacements: readonly Replacement[], esc: number): number {
  let lo = 0;
  let hi = replacements.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (replacements[mid]!.escStart <= esc) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found < 0) return esc;
  const r = replacements[found]!;
  if (esc < r.escEnd) return r.fileStart;
  return r.fileEnd + (esc - r.escEnd);
}

interface MutableElement {
  kind: "element";
  name: string;
  start: number;
  attributes: XmlAttribute[];
  children: (XmlElement | XmlText)[];
  inner?: { start: number; end: number };
}

/** Reads a policy document; null after reporting to `diags` why it cannot be read. */
export function readXml(file: SourceFile, diags: Diagnostics): XmlDocument | null {
  const s = scan(file, diags);
  if (s === null) return null;
  const at = (esc: number) => toFileOffset(s.replacements, esc);

  const parser = new SaxesParser({ position: true });
  let failure: { offset: number; message: string; length: number } | null = null;
  let root: MutableElement | null = null;
  const stack: MutableElement[] = [];

  parser.on("error", (e) => {
    if (failure) return;
    const message = e.message.replace(/^\d+:\d+: /, "").replace(/\.$/, "");
    const offset = at(Math.max(0, parser.position - 1));
    const open = stack[stack.length - 1];
    const close = s.closes.get(offset);
    if (close && /^(unexpected close tag|unmatched closing tag)/.test(message)) {
      const expected = close.open;
      const where = expected ? file.position(expected.start) : null;
      failure = { offset: close.start, message: expected && where ? `</${close.name}> does not close <${expected.name}> (opened at ${where.line}:${where.col})` : `</${close.name}> closes nothing`, length: close.name.length + 2 };
    } else if (message.startsWith("unclosed tag") && open) {
      failure = { offset: open.start, message: `<${open.name}> is never closed`, length: open.name.length + 1 };
    } else failure = { offset, message, length: 1 };
  });
  parser.on("opentag", (node) => {
    if (failure) return;
    const record = s.tags.get(at(parser.position - 1));
    const parent = stack[stack.length - 1];
    const start = record?.start ?? (parent?.start ?? 0);
    const attributes: XmlAttribute[] = [];
    const values = node.attributes as Record<string, string>;
    for (const a of record?.attributes ?? []) {
      const value = values[a.name];
      if (value !== undefined) attributes.push({ name: a.name, value, start: a.start, valueStart: a.valueStart, valueEnd: a.valueEnd });
    }
    // Should the scanner have missed one (it cannot for a document saxes accepts), keep it at the tag.
    for (const [name, value] of Object.entries(values)) {
      if (!attributes.some((a) => a.name === name)) attributes.push({ name, value, start, valueStart: start, valueEnd: start });
    }
    const el: MutableElement = { kind: "element", name: node.name, start, attributes, children: [] };
    if (parent) parent.children.push(el);
    else root ??= el;
    if (!node.isSelfClosing) {
      if (record) el.inner = { start: at(parser.position - 1) + 1, end: -1 };
      stack.push(el);
    }
  });
  parser.on("closetag", (node) => {
    if (failure || node.isSelfClosing) return;
    const el = stack.pop();
    const close = s.closes.get(at(parser.position - 1));
    if (el?.inner) {
      if (close) el.inner.end = close.start;
      else delete el.inner;
    }
  });
  parser.on("text", (value) => {
    const parent = stack[stack.length - 1];
    if (failure || !parent) return;
    const run = s.texts.get(at(parser.position - 1)) ?? { start: parent.start, end: parent.start };
    parent.children.push({ kind: "text", value, start: run.start, end: run.end });
  });
  parser.on("cdata", (value) => {
    const parent = stack[stack.length - 1];
    if (failure || !parent) return;
    const run = s.cdatas.get(at(parser.position - 1)) ?? { start: parent.start, end: parent.start };
    parent.children.push({ kind: "text", value, start: run.start, end: run.end });
  });
  parser.write(s.escaped).close();

  const f = failure as { offset: number; message: string; length: number } | null;
  if (f !== null) {
    diags.error(file, f.offset, `invalid XML: ${f.message}`, f.length);
    return null;
  }
  if (root === null) {
    diags.error(file, 0, "invalid XML: no root element");
    return null;
  }
  return { file, root, pieces: s.pieces };
}
