/**
 * policy/expr/json — Newtonsoft.Json as policies see it: building JObject/JArray trees, JSON text out (exactly as
 * Newtonsoft writes it: `{\r\n  "a": 1\r\n}` indented, `{"a":1}` compact), JSON text in (JObject.Parse,
 * JsonConvert.DeserializeObject, and `parseJsonForHost` for hosts), JValue conversions and a SelectToken subset.
 *
 * Contract: every function that walks or builds a tree takes a `Meter` and charges one step per node and the
 * string caps on output, so a crafted document or a shared (DAG) structure cannot outrun the budget; depth is
 * capped (MAX_JSON_DEPTH, Newtonsoft's reader MaxDepth). Failures go through `meter.fail` with Newtonsoft's
 * exception type as the reason.
 */
import { HostError, isHostObject, type Value } from "./host";
import { formatDate, formatDouble, formatJsonDate, formatTimeSpan, inDateRange, makeDate } from "./format";
import { MAX_COLLECTION_ITEMS, MAX_STRING_CHARS } from "./limits";
import { ENUM_MEMBERS } from "./names";
import type { RuntimeReason } from "./runtime";
import { AnonObject, CsChar, CsDouble, CsEnum, CsList, JArray, JObject, JProperty, JValue, KeyValue, LazySeq, TimeSpan, isJToken, type DateKind, type JPrimitive, type JToken } from "./values";

/** Newtonsoft's JsonReader.MaxDepth default (13.0+); also bounds our recursion when writing and cloning. */
export const MAX_JSON_DEPTH = 64;

/** The budget side of the runtime (a subset of Rt, so hosts can parse JSON without an evaluation). */
export interface Meter {
  step(n?: number): void;
  chars(n: number): void;
  fail(reason: RuntimeReason, message: string): never;
}

// ── building trees ─────────────────────────────────────────────────────────────────────────────────────────

/** Newtonsoft's "Can not add X to Y" family. */
function tokenTypeName(t: JToken): string {
  return t instanceof JObject ? "Newtonsoft.Json.Linq.JObject" : t instanceof JArray ? "Newtonsoft.Json.Linq.JArray" : t instanceof JProperty ? "Newtonsoft.Json.Linq.JProperty" : "Newtonsoft.Json.Linq.JValue";
}

/** Deep copy (JToken.DeepClone). */
export function cloneToken(t: JToken, m: Meter, depth = 0): JToken {
  m.step();
  if (depth > MAX_JSON_DEPTH * 4) m.fail("JsonSerializationException", "JSON nested too deeply");
  if (t instanceof JValue) return new JValue(t.value, t.dateKind);
  if (t instanceof JProperty) {
    const p = new JProperty(t.name, cloneToken(t.value, m, depth + 1));
    p.value.parent = p;
    return p;
  }
  if (t instanceof JArray) {
    const a = new JArray();
    for (const item of t.items) {
      const c = cloneToken(item, m, depth + 1);
      c.parent = a;
      a.items.push(c);
    }
    return a;
  }
  const o = new JObject();
  for (const [name, prop] of t.props) {
    const c = cloneToken(prop, m, depth + 1) as JProperty;
    c.parent = o;
    o.props.set(name, c);
  }
  return o;
}

/** Is `a` the container `b` or one of b's ancestors? */
function isAncestorOrSelf(a: JToken, b: JToken): boolean {
  for (let x: JToken | null = b; x !== null; x = x.parent) if (x === a) return true;
  return false;
}

/** The token to insert under `parent`: itself, or a copy if it already has a parent or contains `parent` (JContainer.EnsureParentToken). */
export function adopt(t: JToken, parent: JObject | JArray | JProperty, m: Meter): JToken {
  const token = t.parent !== null || isAncestorOrSelf(t, parent) ? cloneToken(t, m) : t;
  token.parent = parent;
  return token;
}

/** Is `v` "multi content" for a JContainer constructor (an IEnumerable that is not a string or a token)? */
export function isMultiContent(v: Value): boolean {
  return Array.isArray(v) || v instanceof CsList || v instanceof LazySeq;
}

/** `new JValue(x)` / CreateFromContent for a single value. */
export function toJToken(v: Value, m: Meter, iterate: (v: Value) => Iterable<Value>): JToken {
  if (isJToken(v)) return v;
  if (isMultiContent(v)) return newJArray([v], m, iterate);
  const prim = toJPrimitive(v);
  if (prim === undefined) m.fail("ArgumentException", `Could not determine JSON object type for type ${describeClr(v)}.`);
  return new JValue(prim);
}

/** The JValue payload for a plain value, or undefined when Newtonsoft has no JSON type for it. */
export function toJPrimitive(v: Value): JPrimitive | undefined {
  if (v === null || typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v instanceof Date || v instanceof CsDouble || v instanceof TimeSpan) return v;
  if (v instanceof CsChar) return v.text;
  if (v instanceof CsEnum) return enumOrdinal(v);
  return undefined;
}

export function enumOrdinal(v: CsEnum): number {
  return Math.max(0, ENUM_MEMBERS.get(v.type)?.indexOf(v.name) ?? 0);
}

function describeClr(v: Value): string {
  if (v instanceof AnonObject) return "<>f__AnonymousType";
  if (v instanceof Map) return "System.Collections.Generic.Dictionary`2[System.String,System.Object]";
  if (v instanceof KeyValue) return "System.Collections.Generic.KeyValuePair`2";
  if (isHostObject(v)) return v.typeName;
  return "System.Object";
}

/** `new JObject(content…)`: JProperty items (flattening enumerables); anything else is an ArgumentException. */
export function newJObject(content: readonly Value[], m: Meter, iterate: (v: Value) => Iterable<Value>): JObject {
  if (content.length === 1 && content[0] instanceof JObject) return cloneToken(content[0], m) as JObject;
  const o = new JObject();
  const add = (c: Value): void => {
    m.step();
    if (isMultiContent(c)) {
      for (const item of iterate(c)) add(item);
      return;
    }
    if (c === null) return;
    if (!(c instanceof JProperty)) {
      const what = isJToken(c) ? tokenTypeName(c) : "Newtonsoft.Json.Linq.JValue";
      m.fail("ArgumentException", `Can not add ${what} to Newtonsoft.Json.Linq.JObject.`);
    }
    addProperty(o, c, m);
  };
  for (const c of content) add(c);
  return o;
}

/** JObject.Add(JProperty): a duplicate name is an ArgumentException. */
export function addProperty(o: JObject, p: JProperty, m: Meter): void {
  if (o.props.has(p.name)) m.fail("ArgumentException", `Can not add property ${p.name} to Newtonsoft.Json.Linq.JObject. Property with the same name already exists on object.`);
  if (o.props.size >= MAX_COLLECTION_ITEMS) m.fail("LimitExceeded", `JSON object larger than ${MAX_COLLECTION_ITEMS} properties`);
  o.props.set(p.name, adopt(p, o, m) as JProperty);
}

/** `obj[name] = value`: replaces in place or appends. */
export function setProperty(o: JObject, name: string, value: Value, m: Meter, iterate: (v: Value) => Iterable<Value>): void {
  const existing = o.props.get(name);
  if (existing !== undefined) {
    const old = existing.value;
    setPropertyValue(existing, value, m, iterate);
    if (old !== existing.value) old.parent = null;
    return;
  }
  const p = new JProperty(name, new JValue(null));
  setPropertyValue(p, value, m, iterate);
  addProperty(o, p, m);
}

/** `new JProperty(name, content…)`: several or enumerable content becomes a JArray. */
export function newJProperty(name: string, content: readonly Value[], m: Meter, iterate: (v: Value) => Iterable<Value>): JProperty {
  const p = new JProperty(name, new JValue(null));
  p.value.parent = p;
  if (content.length === 1) setPropertyValue(p, content[0]!, m, iterate);
  else setPropertyValue(p, newJArray(content, m, iterate), m, iterate);
  return p;
}

function setPropertyValue(p: JProperty, value: Value, m: Meter, iterate: (v: Value) => Iterable<Value>): void {
  const token = isMultiContent(value) ? newJArray([value], m, iterate) : toJToken(value, m, iterate);
  if (token instanceof JProperty) m.fail("ArgumentException", "Can not add Newtonsoft.Json.Linq.JProperty to Newtonsoft.Json.Linq.JProperty.");
  p.value = adopt(token, p, m);
}

/** `new JArray(content…)`: enumerables are flattened one level; a JProperty cannot be an item. */
export function newJArray(content: readonly Value[], m: Meter, iterate: (v: Value) => Iterable<Value>): JArray {
  if (content.length === 1 && content[0] instanceof JArray) return cloneToken(content[0], m) as JArray;
  const a = new JArray();
  for (const c of content) {
    if (isMultiContent(c)) {
      for (const item of iterate(c)) addArrayItem(a, item, m, iterate);
    } else {
      addArrayItem(a, c, m, iterate);
    }
  }
  return a;
}

export function addArrayItem(a: JArray, v: Value, m: Meter, iterate: (v: Value) => Iterable<Value>): void {
  m.step();
  const token = toJToken(v, m, iterate);
  if (token instanceof JProperty) m.fail("ArgumentException", "Can not add Newtonsoft.Json.Linq.JProperty to Newtonsoft.Json.Linq.JArray.");
  if (a.items.length >= MAX_COLLECTION_ITEMS) m.fail("LimitExceeded", `JSON array larger than ${MAX_COLLECTION_ITEMS} items`);
  a.items.push(adopt(token, a, m));
}

/** JToken.FromObject: anonymous objects and dictionaries become JObjects, enumerables JArrays. */
export function fromObject(v: Value, m: Meter, iterate: (v: Value) => Iterable<Value>, depth = 0): JToken {
  m.step();
  if (depth > MAX_JSON_DEPTH) m.fail("JsonSerializationException", `Self referencing loop or nesting deeper than ${MAX_JSON_DEPTH} levels.`);
  if (isJToken(v)) return cloneToken(v, m);
  if (v instanceof AnonObject || v instanceof Map || v instanceof KeyValue) {
    const o = new JObject();
    const entries: Array<[string, Value]> = v instanceof AnonObject ? [...v.props] : v instanceof KeyValue ? [["Key", v.key], ["Value", v.value]] : [...(v as ReadonlyMap<string, Value>)];
    for (const [k, item] of entries) {
      const p = new JProperty(k, fromObject(item, m, iterate, depth + 1));
      p.value.parent = p;
      addProperty(o, p, m);
    }
    return o;
  }
  if (isMultiContent(v) || v instanceof JArray) {
    const a = new JArray();
    for (const item of iterate(v)) {
      const t = fromObject(item, m, iterate, depth + 1);
      t.parent = a;
      if (a.items.length >= MAX_COLLECTION_ITEMS) m.fail("LimitExceeded", `JSON array larger than ${MAX_COLLECTION_ITEMS} items`);
      a.items.push(t);
    }
    return a;
  }
  const prim = toJPrimitive(v);
  if (prim === undefined) m.fail("JsonSerializationException", `Cannot serialize a value of type ${describeClr(v)}.`);
  return new JValue(prim);
}

// ── writing JSON ───────────────────────────────────────────────────────────────────────────────────────────

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '\\"'], ["\\", "\\\\"], ["\b", "\\b"], ["\t", "\\t"], ["\n", "\\n"], ["\f", "\\f"], ["\r", "\\r"],
]);

/** Newtonsoft's default string escaping: quotes, backslash, control characters, U+0085, U+2028, U+2029. */
export function quoteJson(s: string): string {
  // eslint-disable-next-line no-control-regex
  return '"' + s.replace(/[\u0000-\u001f"\\\u0085\u2028\u2029]/g, (c) => ESCAPES.get(c) ?? "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0")) + '"';
}

/** A double as Newtonsoft writes it: round-trip digits with a ".0" kept on integral values; NaN/Infinity quoted. */
export function jsonDouble(x: number): string {
  if (!Number.isFinite(x)) return `"${formatDouble(x)}"`;
  const s = formatDouble(x);
  return /[.E]/.test(s) ? s : s + ".0";
}

function jsonPrimitive(v: JPrimitive, kind: DateKind): string {
  if (v === null) return "null";
  if (typeof v === "string") return quoteJson(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "number") return Number.isSafeInteger(v) ? String(v) : Number.isFinite(v) ? BigInt(Math.trunc(v)).toString() : jsonDouble(v);
  if (v instanceof CsDouble) return jsonDouble(v.value);
  if (v instanceof Date) return quoteJson(formatJsonDate(v, kind));
  return quoteJson(formatTimeSpan(v.ms));
}

/**
 * JSON text of any value, Newtonsoft-style: JTokens as JToken.ToString(formatting) writes them, other values as
 * JsonConvert.SerializeObject would (anonymous objects and dictionaries as objects, enumerables as arrays, enums
 * as numbers). Output is capped at MAX_STRING_CHARS.
 */
export function writeJson(v: Value, indented: boolean, m: Meter, iterate: (v: Value) => Iterable<Value>): string {
  const out: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    length += s.length;
    if (length > MAX_STRING_CHARS) m.fail("LimitExceeded", `JSON text longer than ${MAX_STRING_CHARS} characters`);
    out.push(s);
  };
  // Newtonsoft indents with the writer's NewLine, Environment.NewLine: CRLF on APIM's Windows hosts — the line end
  // certificate ToString() uses too (context.ts), so the two .NET renderings agree (docs/policies.md, "Types").
  const newline = (level: number): void => {
    if (indented) emit("\r\n" + "  ".repeat(level));
  };
  const write = (x: Value, level: number): void => {
    m.step();
    if (level > MAX_JSON_DEPTH * 4) m.fail("JsonSerializationException", "JSON nested too deeply");
    if (x instanceof JValue) return emit(jsonPrimitive(x.value, x.dateKind));
    if (x instanceof JProperty) {
      emit(quoteJson(x.name) + (indented ? ": " : ":"));
      return write(x.value, level);
    }
    const entries: Array<[string, Value]> | null =
      x instanceof JObject ? [...x.props].map(([k, p]) => [k, p.value]) : x instanceof AnonObject ? [...x.props] : x instanceof Map ? [...(x as ReadonlyMap<string, Value>)] : x instanceof KeyValue ? [["Key", x.key], ["Value", x.value]] : null;
    if (entries !== null) {
      if (entries.length === 0) return emit("{}");
      emit("{");
      entries.forEach(([k, item], i) => {
        if (i > 0) emit(",");
        newline(level + 1);
        emit(quoteJson(k) + (indented ? ": " : ":"));
        write(item, level + 1);
      });
      newline(level);
      return emit("}");
    }
    if (x instanceof JArray || isMultiContent(x)) {
      const items = x instanceof JArray ? x.items : iterate(x);
      let n = 0;
      emit("[");
      for (const item of items) {
        if (n++ > 0) emit(",");
        newline(level + 1);
        write(item, level + 1);
      }
      if (n === 0) return emit("]");
      newline(level);
      return emit("]");
    }
    const prim = toJPrimitive(x);
    if (prim === undefined) m.fail("JsonSerializationException", `Cannot serialize a value of type ${describeClr(x)}.`);
    emit(jsonPrimitive(prim, "utc"));
  };
  write(v, 0);
  m.chars(length);
  return out.join("");
}

/** JValue.ToString(): the value's own text (a string unquoted, null empty, bool "True"). */
export function jvalueText(v: JValue): string {
  const x = v.value;
  if (x === null) return "";
  if (typeof x === "string") return x;
  if (typeof x === "boolean") return x ? "True" : "False";
  if (typeof x === "number") return String(x);
  if (x instanceof CsDouble) return formatDouble(x.value);
  if (x instanceof Date) return formatDate(x, null) ?? "";
  return formatTimeSpan(x.ms);
}

/** Newtonsoft's JTokenType name of a token. */
export function tokenType(t: JToken): string {
  if (t instanceof JObject) return "Object";
  if (t instanceof JArray) return "Array";
  if (t instanceof JProperty) return "Property";
  const x = t.value;
  if (x === null) return "Null";
  if (typeof x === "string") return "String";
  if (typeof x === "boolean") return "Boolean";
  if (typeof x === "number") return "Integer";
  if (x instanceof CsDouble) return "Float";
  if (x instanceof Date) return "Date";
  return "TimeSpan";
}

// ── reading JSON ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * JSON text → tokens, as JToken.Parse reads it with default settings: integers stay integers, numbers with a
 * fraction or exponent are doubles, ISO-8601 strings become dates (DateParseHandling.DateTime), duplicate names
 * keep the last value, and the text after the value may only be whitespace. Strict JSON otherwise.
 */
export function parseJson(text: string, m: Meter): JToken {
  m.chars(text.length);
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (message: string): never => m.fail("JsonReaderException", `${message} Path '', line ${line}, position ${i - lineStart}.`);
  const ws = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === "\n") {
        line++;
        lineStart = i + 1;
      } else if (c !== " " && c !== "\t" && c !== "\r") break;
      i++;
    }
  };
  const value = (depth: number): JToken => {
    m.step();
    if (depth > MAX_JSON_DEPTH) fail(`The reader's MaxDepth of ${MAX_JSON_DEPTH} has been exceeded.`);
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const o = new JObject();
      ws();
      if (text[i] === "}") {
        i++;
        return o;
      }
      while (true) {
        ws();
        if (text[i] !== '"') fail(`Invalid property identifier character: ${text[i] ?? "end of input"}.`);
        const name = str();
        ws();
        if (text[i] !== ":") fail(`Invalid character after parsing property name. Expected ':' but got: ${text[i] ?? "end of input"}.`);
        i++;
        const v = value(depth + 1);
        const existing = o.props.get(name);
        if (existing !== undefined) {
          v.parent = existing;
          existing.value = v;
        } else {
          const p = new JProperty(name, v);
          v.parent = p;
          p.parent = o;
          if (o.props.size >= MAX_COLLECTION_ITEMS) m.fail("LimitExceeded", `JSON object larger than ${MAX_COLLECTION_ITEMS} properties`);
          o.props.set(name, p);
        }
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return o;
        }
        fail(`After parsing a value an unexpected character was encountered: ${text[i] ?? "end of input"}.`);
      }
    }
    if (c === "[") {
      i++;
      const a = new JArray();
      ws();
      if (text[i] === "]") {
        i++;
        return a;
      }
      while (true) {
        const v = value(depth + 1);
        v.parent = a;
        if (a.items.length >= MAX_COLLECTION_ITEMS) m.fail("LimitExceeded", `JSON array larger than ${MAX_COLLECTION_ITEMS} items`);
        a.items.push(v);
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return a;
        }
        fail(`After parsing a value an unexpected character was encountered: ${text[i] ?? "end of input"}.`);
      }
    }
    if (c === '"') {
      const s = str();
      const date = isoDate(s);
      return date === null ? new JValue(s) : new JValue(date.date, date.kind);
    }
    const lit = /^(?:true|false|null|-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!lit) fail(`Unexpected character encountered while parsing value: ${c ?? "end of input"}.`);
    const word = lit![0];
    i += word.length;
    if (word === "true" || word === "false") return new JValue(word === "true");
    if (word === "null") return new JValue(null);
    const n = Number(word);
    if (lit![1] === undefined && lit![2] === undefined && Number.isSafeInteger(n)) return new JValue(n);
    return new JValue(new CsDouble(n));
  };
  const str = (): string => {
    i++;
    let out = "";
    while (true) {
      const j = i;
      while (i < text.length && text[i] !== '"' && text[i] !== "\\" && text[i]! >= " ") i++;
      out += text.slice(j, i);
      if (i >= text.length) fail("Unterminated string. Expected delimiter: \".");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c < " ") fail("Invalid character in string.");
      const e = text[i + 1];
      const simple = e === undefined ? undefined : JSON_ESCAPES.get(e);
      if (simple !== undefined) {
        out += simple;
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        fail(`Bad JSON escape sequence: \\${e ?? ""}.`);
      }
    }
  };
  const result = value(0);
  ws();
  if (i < text.length) fail(`Additional text encountered after finished reading JSON content: ${text[i]}.`);
  return result;
}

const JSON_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['"', '"'], ["\\", "\\"], ["/", "/"], ["b", "\b"], ["f", "\f"], ["n", "\n"], ["r", "\r"], ["t", "\t"],
]);

/** Newtonsoft's ISO date detection on strings (DateTimeUtils.TryParseDateTimeIso). */
function isoDate(s: string): { date: Date; kind: DateKind } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m) return null;
  const ms = m[7] === undefined ? 0 : Math.min(999, Math.round(Number(`0.${m[7]}`) * 1000));
  const d = makeDate(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
  if (d === null) return null;
  if (m[8] === undefined) return { date: d, kind: "unspecified" };
  if (m[8] === "Z") return { date: d, kind: "utc" };
  const sign = m[8][0] === "+" ? 1 : -1;
  const offset = sign * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60_000;
  const t = d.getTime() - offset;
  // An offset date becomes a Local DateTime: the edge's local zone is UTC.
  return inDateRange(t) ? { date: new Date(t), kind: "local" } : null;
}

/**
 * For hosts (a request body's `As<JObject>()`, `As<JArray>()`): JSON text → tokens, with the interpreter's caps.
 * Throws HostError("JsonReaderException" | "LimitExceeded", …) on bad or oversized input.
 */
export function parseJsonForHost(text: string, maxSteps = 1_000_000): JToken {
  let remaining = maxSteps;
  const meter: Meter = {
    step: (n = 1) => {
      remaining -= n;
      if (remaining < 0) throw new HostError("LimitExceeded", "JSON document too large");
    },
    chars: (n) => meter.step(Math.ceil(n / 256)),
    fail: (reason, message) => {
      throw new HostError(reason, message);
    },
  };
  return parseJson(text, meter);
}

// ── SelectToken ────────────────────────────────────────────────────────────────────────────────────────────

/**
 * JToken.SelectToken for plain paths: `a.b`, `a['b']`, `a[0]`, `$.a`; null when nothing matches. Wildcards,
 * filters, slices and recursive descent are JSONPath features beyond this subset: an ArgumentException.
 */
export function selectToken(t: JToken, path: string, m: Meter): JToken | null {
  m.chars(path.length);
  const steps: Array<string | number> = [];
  let i = 0;
  if (path.startsWith("$")) i = 1;
  while (i < path.length) {
    m.step();
    const c = path[i]!;
    if (c === ".") {
      i++;
      if (path[i] === ".") m.fail("ArgumentException", "Unsupported JSONPath in SelectToken: recursive descent (..)");
      continue;
    }
    if (c === "[") {
      const close = path.indexOf("]", i);
      if (close < 0) m.fail("JsonException", `Path ended with an open indexer.`);
      const inner = path.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else if (/^'[^']*'$/.test(inner) || /^"[^"]*"$/.test(inner)) steps.push(inner.slice(1, -1));
      else m.fail("ArgumentException", `Unsupported JSONPath in SelectToken: [${inner}]`);
      i = close + 1;
      continue;
    }
    let j = i;
    while (j < path.length && path[j] !== "." && path[j] !== "[") j++;
    const name = path.slice(i, j);
    if (name === "*") m.fail("ArgumentException", "Unsupported JSONPath in SelectToken: wildcard");
    steps.push(name);
    i = j;
  }
  let cur: JToken | null = t;
  for (const s of steps) {
    if (cur instanceof JProperty) cur = cur.value;
    if (cur === null) return null;
    if (typeof s === "number") cur = cur instanceof JArray ? (cur.items[s] ?? null) : null;
    else cur = cur instanceof JObject ? (cur.props.get(s)?.value ?? null) : null;
  }
  return cur;
}
