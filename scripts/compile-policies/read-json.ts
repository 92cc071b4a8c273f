/**
 * compile-policies/read-json — JSON (RFC 8259) with the offset of every value and key, so manifest errors
 * point at the offending key or value. Strict: no comments, no trailing commas, no duplicate keys.
 *
 * Contract: pure. Returns the located tree, or one syntax error (offset + message): after a syntax error
 * nothing more in the file can be trusted.
 */

export type JsonNode =
  | { readonly kind: "object"; readonly at: number; readonly end: number; readonly members: readonly JsonMember[] }
  | { readonly kind: "array"; readonly at: number; readonly end: number; readonly items: readonly JsonNode[] }
  | { readonly kind: "string"; readonly at: number; readonly end: number; readonly value: string }
  | { readonly kind: "number"; readonly at: number; readonly end: number; readonly value: number }
  | { readonly kind: "boolean"; readonly at: number; readonly end: number; readonly value: boolean }
  | { readonly kind: "null"; readonly at: number; readonly end: number };

export interface JsonMember {
  readonly key: string;
  readonly keyAt: number;
  readonly keyEnd: number;
  readonly value: JsonNode;
}

export interface JsonSyntaxError {
  readonly offset: number;
  readonly message: string;
}

/** Most nesting a manifest needs is 4; this only stops runaway input from overflowing the stack. */
const MAX_DEPTH = 64;

class Fail {
  constructor(readonly offset: number, readonly message: string) {}
}

export function readJson(text: string): { ok: true; node: JsonNode } | { ok: false; error: JsonSyntaxError } {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const ws = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const describe = (at: number) => (at >= text.length ? "end of file" : JSON.stringify(text[at]));

  const string = (): { value: string; at: number; end: number } => {
    const at = i;
    i++; // opening quote
    let out = "";
    while (true) {
      if (i >= text.length) throw new Fail(at, "unterminated string");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return { value: out, at, end: i };
      }
      if (c === "\\") {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
        if (e !== undefined && simple[e] !== undefined) {
          out += simple[e];
          i += 2;
        } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
        } else throw new Fail(i, "invalid escape in string");
        continue;
      }
      if (c.charCodeAt(0) < 0x20) throw new Fail(i, "control character in string (escape it)");
      out += c;
      i++;
    }
  };

  const value = (depth: number): JsonNode => {
    if (depth > MAX_DEPTH) throw new Fail(i, "nesting too deep");
    ws();
    const at = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const members: JsonMember[] = [];
      const keys = new Set<string>();
      ws();
      if (text[i] === "}") {
        i++;
        return { kind: "object", at, end: i, members };
      }
      while (true) {
        ws();
        if (text[i] !== '"') throw new Fail(i, `expected a key in quotes, found ${describe(i)}`);
        const key = string();
        if (keys.has(key.value)) throw new Fail(key.at, `duplicate key "${key.value}"`);
        keys.add(key.value);
        ws();
        if (text[i] !== ":") throw new Fail(i, `expected ':' after the key, found ${describe(i)}`);
        i++;
        members.push({ key: key.value, keyAt: key.at, keyEnd: key.end, value: value(depth + 1) });
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          if (text[i] === "}") throw new Fail(i - 1, "trailing comma");
          continue;
        }
        if (text[i] === "}") {
          i++;
          return { kind: "object", at, end: i, members };
        }
        throw new Fail(i, `expected ',' or '}', found ${describe(i)}`);
      }
    }
    if (c === "[") {
      i++;
      const items: JsonNode[] = [];
      ws();
      if (text[i] === "]") {
        i++;
        return { kind: "array", at, end: i, items };
      }
      while (true) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ",") {
          i++;
          ws();
          if (text[i] === "]") throw new Fail(i - 1, "trailing comma");
          continue;
        }
        if (text[i] === "]") {
          i++;
          return { kind: "array", at, end: i, items };
        }
        throw new Fail(i, `expected ',' or ']', found ${describe(i)}`);
      }
    }
    if (c === '"') {
      const s = string();
      return { kind: "string", at, end: s.end, value: s.value };
    }
    for (const [word, node] of [["true", true], ["false", false], ["null", null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return node === null ? { kind: "null", at, end: i } : { kind: "boolean", at, end: i, value: node };
      }
    }
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 64));
    if (m) {
      i += m[0].length;
      return { kind: "number", at, end: i, value: Number(m[0]) };
    }
    throw new Fail(i, `expected a value, found ${describe(i)}`);
  };

  try {
    const node = value(0);
    ws();
    if (i < text.length) throw new Fail(i, `unexpected ${describe(i)} after the value`);
    return { ok: true, node };
  } catch (e) {
    if (e instanceof Fail) return { ok: false, error: { offset: e.offset, message: e.message } };
    throw e;
  }
}

/** The JSON type name used in messages ("a string", "an object" …). */
export function jsonKind(node: JsonNode): string {
  return { object: "an object", array: "an array", string: "a string", number: "a number", boolean: "a boolean", null: "null" }[node.kind];
}
