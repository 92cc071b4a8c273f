/**
 * policy/expr/convert — C#'s conversions between runtime values: string conversion (`ToString()` / text use),
 * equality, ordering, casts (`(T)x`, `x as T`), type tests (`x is T`), the implicit conversions of typed locals
 * (`double d = 5;`), and enumeration of anything IEnumerable.
 *
 * Contract: pure. Values carry their runtime type, not C#'s static type, so where C# decides at compile time we
 * decide on the value: e.g. `(double)x` converts an int, and `==` on `object` operands compares values (C# would
 * compare references — and surprise the policy author). Failures go through the Meter with .NET's exception type.
 */
import { isHostObject, type Value } from "./host";
import { formatDate, formatDateOffset, formatDouble, formatTimeSpan, parseDate } from "./format";
import { enumOrdinal, jvalueText, writeJson, type Meter } from "./json";
import { MAX_STRING_CHARS } from "./limits";
import { catches } from "./names";
import { CsRandom } from "./random";
import { CsUri } from "./uri";
import { AnonObject, byteArrays, CsChar, CsDateTimeOffset, CsDouble, CsEncoding, CsEnum, CsException, CsGroup, CsHasher, CsGroups, CsGuid, CsList, CsMatch, JArray, JObject, JProperty, JValue, KeyValue, LazySeq, TimeSpan, isJToken, type JToken } from "./values";

// ── enumeration ────────────────────────────────────────────────────────────────────────────────────────────

/** Is `v` IEnumerable (as LINQ and string.Join see it)? */
export function isEnumerable(v: Value): boolean {
  return Array.isArray(v) || v instanceof CsList || v instanceof Map || v instanceof LazySeq || typeof v === "string" || v instanceof JArray || v instanceof JObject;
}

/** Enumerates an IEnumerable: array/list items, dictionary entries (KeyValue), string chars, JArray items, JObject properties. */
export function iterate(v: Value): Iterable<Value> {
  if (Array.isArray(v)) return v as readonly Value[];
  if (v instanceof CsList) return v.items;
  if (v instanceof JArray) return v.items;
  if (v instanceof JObject) return v.props.values();
  if (v instanceof LazySeq) return { [Symbol.iterator]: v.iterate };
  if (v instanceof Map) {
    const map = v as ReadonlyMap<string, Value>;
    return (function* () {
      for (const [k, x] of map) yield new KeyValue(k, x);
    })();
  }
  if (typeof v === "string") {
    return (function* () {
      for (let i = 0; i < v.length; i++) yield new CsChar(v.charCodeAt(i));
    })();
  }
  return [];
}

/** Simple case folding per UTF-16 unit (OrdinalIgnoreCase): keeps the length, so indexes stay valid. */
export function foldCase(s: string): string {
  const upper = s.toUpperCase();
  if (upper.length === s.length) return upper;
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const u = c.toUpperCase();
    out += u.length === 1 ? u : c;
  }
  return out;
}

// ── type names and text ────────────────────────────────────────────────────────────────────────────────────

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The .NET type name of a value (for messages, and object.ToString() of types without their own). */
export function typeName(v: Value): string {
  if (v === null) return "null";
  if (typeof v === "string") return "System.String";
  if (typeof v === "boolean") return "System.Boolean";
  if (typeof v === "number") return v >= INT32_MIN && v <= INT32_MAX ? "System.Int32" : "System.Int64";
  if (v instanceof Date) return "System.DateTime";
  if (v instanceof CsDouble) return "System.Double";
  if (v instanceof CsChar) return "System.Char";
  if (v instanceof TimeSpan) return "System.TimeSpan";
  if (v instanceof CsEnum) return v.type === "X509NameType" ? "System.Security.Cryptography.X509Certificates.X509NameType" : v.type.startsWith("J") || v.type === "Formatting" ? `Newtonsoft.Json.${v.type === "Formatting" ? "" : "Linq."}${v.type}` : `System.${v.type}`;
  if (v instanceof CsGuid) return "System.Guid";
  if (v instanceof CsDateTimeOffset) return "System.DateTimeOffset";
  if (v instanceof CsEncoding) return v.name === "UTF8" ? "System.Text.UTF8Encoding" : "System.Text.ASCIIEncoding";
  if (Array.isArray(v)) return byteArrays.has(v) ? "System.Byte[]" : (v as readonly Value[]).every((x) => typeof x === "string") ? "System.String[]" : "System.Object[]";
  if (v instanceof CsList) return `System.Collections.Generic.List\`1[${clrElement(v.elementType)}]`;
  if (v instanceof Map) return "System.Collections.Generic.Dictionary`2[System.String,System.Object]";
  if (v instanceof KeyValue) return "System.Collections.Generic.KeyValuePair`2[System.String,System.Object]";
  if (v instanceof CsException) return exceptionTypeName(v.type);
  if (v instanceof CsHasher) return `System.Security.Cryptography.${v.key === null ? "" : "HMAC"}${v.algorithm}${v.key === null ? "+Implementation" : ""}`;
  if (v instanceof CsRandom) return "System.Random";
  if (v instanceof CsUri) return "System.Uri";
  if (v instanceof CsMatch) return "System.Text.RegularExpressions.Match";
  if (v instanceof CsGroup) return "System.Text.RegularExpressions.Group";
  if (v instanceof CsGroups) return "System.Text.RegularExpressions.GroupCollection";
  if (v instanceof LazySeq) return "System.Linq.Enumerable+Iterator`1[System.Object]";
  if (v instanceof AnonObject) return "<>f__AnonymousType0";
  if (v instanceof JObject) return "Newtonsoft.Json.Linq.JObject";
  if (v instanceof JArray) return "Newtonsoft.Json.Linq.JArray";
  if (v instanceof JValue) return "Newtonsoft.Json.Linq.JValue";
  if (v instanceof JProperty) return "Newtonsoft.Json.Linq.JProperty";
  if (isHostObject(v)) return v.typeName;
  return "System.Object";
}

/** The full .NET name of an exception type a policy can catch. */
function exceptionTypeName(type: string): string {
  if (type.startsWith("Json")) return `Newtonsoft.Json.${type}`;
  if (type === "RuntimeBinderException") return "Microsoft.CSharp.RuntimeBinder.RuntimeBinderException";
  if (type === "KeyNotFoundException") return "System.Collections.Generic.KeyNotFoundException";
  if (type === "RegexParseException") return "System.Text.RegularExpressions.RegexParseException";
  return `System.${type}`;
}

/** Short type name for messages ("String", "Int32", "JObject", a host's typeName). */
export function shortTypeName(v: Value): string {
  const full = typeName(v);
  if (isHostObject(v)) return full;
  const generic = full.indexOf("`");
  const base = generic >= 0 ? full.slice(0, generic) : full;
  return base.slice(base.lastIndexOf(".") + 1);
}

function clrElement(t: string): string {
  const known: Record<string, string> = { string: "System.String", int: "System.Int32", object: "System.Object", bool: "System.Boolean", double: "System.Double" };
  return Object.hasOwn(known, t) ? known[t]! : t;
}

/**
 * C# string conversion as APIM applies it when a value is used as text: null → "", bool → "True"/"False",
 * double → invariant round-trip, DateTime → en-US "G", JObject/JArray → indented JSON, anonymous objects and
 * dictionaries-in-them → compact JSON, other objects → their type name (as object.ToString()).
 */
export function toText(v: Value, m: Meter): string {
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return Number.isSafeInteger(v) ? String(v) : Number.isFinite(v) ? BigInt(Math.trunc(v)).toString() : formatDouble(v);
  if (v instanceof CsDouble) return formatDouble(v.value);
  if (v instanceof CsChar) return v.text;
  if (v instanceof Date) return formatDate(v, null) ?? "";
  if (v instanceof TimeSpan) return formatTimeSpan(v.ms);
  if (v instanceof CsEnum) return v.name;
  if (v instanceof CsDateTimeOffset) return formatDateOffset(v.date, null) ?? "";
  if (v instanceof CsGuid) return `${v.hex.slice(0, 8)}-${v.hex.slice(8, 12)}-${v.hex.slice(12, 16)}-${v.hex.slice(16, 20)}-${v.hex.slice(20)}`;
  if (v instanceof JValue) return jvalueText(v);
  if (v instanceof JObject || v instanceof JArray || v instanceof JProperty) return writeJson(v, true, m, iterate);
  if (v instanceof AnonObject) return writeJson(v, false, m, iterate);
  if (v instanceof KeyValue) return checkLength(`[${toText(v.key, m)}, ${toText(v.value, m)}]`, m);
  if (v instanceof CsGroup) return v.value;
  if (v instanceof CsException) return checkLength(`${exceptionTypeName(v.type)}: ${v.message}`, m);
  if (isHostObject(v)) return v.toString();
  return typeName(v);
}

function checkLength(s: string, m: Meter): string {
  if (s.length > MAX_STRING_CHARS) m.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
  return s;
}

// ── equality and order ─────────────────────────────────────────────────────────────────────────────────────

/** A numeric value of any C# numeric kind (int, double, char), or null. */
export function numeric(v: Value): number | null {
  if (typeof v === "number") return v;
  if (v instanceof CsDouble) return v.value;
  if (v instanceof CsChar) return v.code;
  return null;
}

/** The primitive a JValue holds (for comparisons), or the value itself. */
function unwrap(v: Value): Value {
  return v instanceof JValue ? v.value : v;
}

/**
 * `==`: value equality for strings, numbers (across int/double/char), bools, DateTime, TimeSpan, enums and JValues
 * (by their value — C# would compare JToken references); reference equality for everything else. A JValue holding
 * JSON null is not C# null (`obj["x"] != null` is true when "x" is present with a null value, as in C#).
 */
export function csEquals(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (a instanceof JValue || b instanceof JValue) {
    const x = unwrap(a);
    const y = unwrap(b);
    if (x === null || y === null) return x === y;
    return csEquals(x, y);
  }
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null && y !== null) return x === y;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a instanceof TimeSpan && b instanceof TimeSpan) return a.ms === b.ms;
  if (a instanceof CsEnum && b instanceof CsEnum) return a.type === b.type && a.name === b.name;
  if (a instanceof CsGuid && b instanceof CsGuid) return a.hex === b.hex;
  if (a instanceof CsDateTimeOffset && b instanceof CsDateTimeOffset) return a.date.getTime() === b.date.getTime();
  return false;
}

/** Order of two values for `<`, `>`, Math.Min …: numbers, DateTime, TimeSpan; null when C# has no such operator. */
export function compareValues(a: Value, b: Value): number | null {
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (a instanceof TimeSpan && b instanceof TimeSpan) return Math.sign(a.ms - b.ms);
  if (a instanceof CsDateTimeOffset && b instanceof CsDateTimeOffset) return Math.sign(a.date.getTime() - b.date.getTime());
  return null;
}

// ── casts and type tests ───────────────────────────────────────────────────────────────────────────────────

const INT_TYPES: ReadonlySet<string> = new Set(["int", "long", "short", "byte", "sbyte", "uint", "ulong", "ushort"]);
const DOUBLE_TYPES: ReadonlySet<string> = new Set(["double", "float", "decimal"]);
const ENUMERABLE_TYPES = /^(IEnumerable|ICollection|IList|IReadOnlyList|IReadOnlyCollection|List|Array)(<|$)/;
const DICTIONARY_TYPES = /^(IDictionary|IReadOnlyDictionary|Dictionary)(<|$)/;

/** The payload of a value for conversions: a JValue's primitive, otherwise the value. */
function jvaluePayload(v: Value): Value {
  return v instanceof JValue ? (v.value as Value) : v;
}

/** `x is T` (no conversions; null is never any type). */
export function isOfType(type: string, v: Value): boolean {
  if (v === null) return false;
  const t = type.endsWith("?") ? type.slice(0, -1) : type;
  if (t === "object" || t === "dynamic") return true;
  if (t === "string") return typeof v === "string";
  if (INT_TYPES.has(t)) return typeof v === "number";
  if (DOUBLE_TYPES.has(t)) return v instanceof CsDouble;
  if (t === "bool") return typeof v === "boolean";
  if (t === "char") return v instanceof CsChar;
  if (t === "DateTime") return v instanceof Date;
  if (t === "TimeSpan") return v instanceof TimeSpan;
  if (t === "Guid") return v instanceof CsGuid;
  if (t === "DateTimeOffset") return v instanceof CsDateTimeOffset;
  if (t === "Match") return v instanceof CsMatch;
  if (t === "Random") return v instanceof CsRandom;
  if (t === "Uri") return v instanceof CsUri;
  if (t === "Group") return v instanceof CsGroup;
  if (t === "GroupCollection") return v instanceof CsGroups;
  if (v instanceof CsHasher) return t === "HashAlgorithm" || t === (v.key === null ? v.algorithm : `HMACSHA${v.algorithm.slice(3)}`) || (v.key !== null && t === "HMAC");
  if (v instanceof CsException) return catches(t, v.type);
  if (t === "Encoding") return v instanceof CsEncoding;
  if (t === "JToken") return isJToken(v);
  if (t === "JContainer") return v instanceof JObject || v instanceof JArray || v instanceof JProperty;
  if (t === "JObject") return v instanceof JObject;
  if (t === "JArray") return v instanceof JArray;
  if (t === "JValue") return v instanceof JValue;
  if (t === "JProperty") return v instanceof JProperty;
  if (t.endsWith("[]")) {
    if (!Array.isArray(v)) return false;
    const element = t.slice(0, -2);
    return element === "object" || (v as readonly Value[]).every((x) => x === null || isOfType(element, x));
  }
  if (t.startsWith("List<")) return v instanceof CsList;
  if (ENUMERABLE_TYPES.test(t)) return isEnumerable(v) && typeof v !== "string";
  if (DICTIONARY_TYPES.test(t)) return v instanceof Map;
  if (v instanceof CsEnum) return v.type === t;
  // X509SubjectAlternativeNameExtension is an X509Extension, as in .NET.
  if (isHostObject(v)) return v.typeName === t || v.typeName.endsWith("." + t) || (t === "X509Extension" && v.typeName === "X509SubjectAlternativeNameExtension");
  return false;
}

/** Result of a conversion attempt: the value, or why not. */
export type Converted = { ok: true; v: Value } | { ok: false; reason: string; message: string };

const invalidCast = (v: Value, type: string): Converted => ({
  ok: false,
  reason: "InvalidCastException",
  message: `Unable to cast object of type '${typeName(v)}' to type '${type}'.`,
});

/**
 * `(T)x` — explicit conversion. Numeric conversions truncate (double → int) as C#; JValues convert as
 * Newtonsoft's explicit operators do (invariant culture); null to a non-nullable value type is a
 * NullReferenceException (unboxing null).
 */
export function explicitCast(type: string, v: Value): Converted {
  const nullable = type.endsWith("?");
  const t = nullable ? type.slice(0, -1) : type;
  if (t === "object" || t === "dynamic") return { ok: true, v };
  if (v instanceof JValue && !(t === "JValue" || t === "JToken")) return fromJValue(t, nullable, v);
  if (v instanceof JObject || v instanceof JArray || v instanceof JProperty) {
    const error = jsonContainerCastError(v, type);
    if (error !== null) return error;
  }
  if (v === null) {
    if (INT_TYPES.has(t) || DOUBLE_TYPES.has(t) || t === "bool" || t === "char" || t === "DateTime" || t === "TimeSpan") {
      return nullable ? { ok: true, v: null } : { ok: false, reason: "NullReferenceException", message: "Object reference not set to an instance of an object." };
    }
    return { ok: true, v: null };
  }
  if (INT_TYPES.has(t)) {
    const n = numeric(v) ?? (v instanceof CsEnum ? enumOrdinal(v) : null);
    if (n === null) return invalidCast(v, clrName(t));
    if (!Number.isFinite(n)) return { ok: false, reason: "OverflowException", message: "Arithmetic operation resulted in an overflow." };
    const truncated = Math.trunc(n);
    if (t === "int") return { ok: true, v: Number(BigInt.asIntN(32, BigInt(truncated))) };
    if (!Number.isSafeInteger(truncated)) return { ok: false, reason: "OverflowException", message: "Arithmetic operation resulted in an overflow." };
    return { ok: true, v: truncated };
  }
  if (DOUBLE_TYPES.has(t)) {
    const n = numeric(v);
    return n === null ? invalidCast(v, clrName(t)) : { ok: true, v: new CsDouble(n) };
  }
  if (t === "char") {
    if (v instanceof CsChar) return { ok: true, v };
    if (typeof v === "number") return { ok: true, v: new CsChar(v & 0xffff) };
    return invalidCast(v, "System.Char");
  }
  return isOfType(t, v) ? { ok: true, v } : invalidCast(v, clrName(t));
}

/** `x as T`: the value if it is a T, else null (for reference and nullable types). */
export function asCast(type: string, v: Value): Value {
  return isOfType(type, v) ? v : null;
}

/**
 * The implicit conversion of assigning to a typed local (`double d = 5;` makes 5.0; `long n = 'a';`).
 * Where C# needs an explicit cast, a mismatched runtime type is an InvalidCastException (C# would not compile).
 */
export function implicitConvert(type: string, v: Value): Converted {
  const nullable = type.endsWith("?");
  const t = nullable ? type.slice(0, -1) : type;
  if (t === "var" || t === "object" || t === "dynamic") return { ok: true, v };
  if (v === null) {
    if (!nullable && (INT_TYPES.has(t) || DOUBLE_TYPES.has(t) || t === "bool" || t === "char" || t === "DateTime" || t === "TimeSpan")) {
      return { ok: false, reason: "InvalidCastException", message: `Cannot convert null to '${clrName(t)}' because it is a non-nullable value type.` };
    }
    return { ok: true, v };
  }
  if (DOUBLE_TYPES.has(t)) {
    const n = numeric(v);
    return n === null ? cannotConvert(v, t) : { ok: true, v: new CsDouble(n) };
  }
  if (INT_TYPES.has(t)) {
    if (typeof v === "number") return { ok: true, v };
    if (v instanceof CsChar) return { ok: true, v: v.code };
    return cannotConvert(v, t);
  }
  if ((t === "JToken" || t === "JValue") && (typeof v === "string" || typeof v === "number" || typeof v === "boolean" || v instanceof CsDouble || v instanceof Date)) {
    return { ok: true, v: new JValue(v) };
  }
  if (KNOWN_TYPES.has(t) || t.endsWith("[]") || t.startsWith("List<")) return isOfType(t, v) ? { ok: true, v } : cannotConvert(v, t);
  // Interfaces and host types: the value is used as is.
  return { ok: true, v };
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(["string", "bool", "char", "DateTime", "TimeSpan", "JToken", "JObject", "JArray", "JValue", "JProperty", "JContainer"]);

function cannotConvert(v: Value, t: string): Converted {
  return { ok: false, reason: "InvalidCastException", message: `Cannot implicitly convert type '${typeName(v)}' to '${clrName(t)}'.` };
}

function clrName(t: string): string {
  const names: Record<string, string> = {
    string: "System.String", int: "System.Int32", long: "System.Int64", short: "System.Int16", byte: "System.Byte", sbyte: "System.SByte", uint: "System.UInt32",
    ulong: "System.UInt64", ushort: "System.UInt16", double: "System.Double", float: "System.Single", decimal: "System.Decimal", bool: "System.Boolean",
    char: "System.Char", object: "System.Object", DateTime: "System.DateTime", TimeSpan: "System.TimeSpan",
  };
  if (Object.hasOwn(names, t)) return names[t]!;
  if (t.startsWith("J")) return `Newtonsoft.Json.Linq.${t}`;
  return t;
}

/** Newtonsoft's explicit conversions from a JValue (`(string)obj["a"]`, `(int)obj["n"]`, `obj.Value<bool>("b")`). */
function fromJValue(t: string, nullable: boolean, jv: JValue): Converted {
  const x = jvaluePayload(jv);
  const target = clrName(t).replace("System.", "");
  if (t === "string") {
    if (x === null) return { ok: true, v: null };
    if (x instanceof Date) return { ok: true, v: formatDate(x, "MM/dd/yyyy HH:mm:ss") };
    return { ok: true, v: jvalueText(jv) };
  }
  if (x === null) {
    if (nullable || !(INT_TYPES.has(t) || DOUBLE_TYPES.has(t) || t === "bool" || t === "char" || t === "DateTime" || t === "TimeSpan")) return { ok: true, v: null };
    return { ok: false, reason: "ArgumentException", message: `Can not convert Null to ${target}.` };
  }
  if (INT_TYPES.has(t) || DOUBLE_TYPES.has(t)) {
    let n: number | null = null;
    if (typeof x === "boolean") n = x ? 1 : 0;
    else if (typeof x === "string") {
      const s = x.trim();
      if (INT_TYPES.has(t) ? /^[+-]?\d+$/.test(s) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) n = Number(s);
      else return { ok: false, reason: "FormatException", message: "Input string was not in a correct format." };
    } else n = numeric(x);
    if (n === null) return { ok: false, reason: "ArgumentException", message: `Can not convert ${jsonTypeOf(x)} to ${target}.` };
    if (DOUBLE_TYPES.has(t)) return { ok: true, v: new CsDouble(n) };
    // Convert.ToInt32(double) rounds half to even.
    const rounded = x instanceof CsDouble ? roundHalfEven(n) : n;
    if (!Number.isSafeInteger(rounded) || (t === "int" && (rounded < INT32_MIN || rounded > INT32_MAX))) {
      return { ok: false, reason: "OverflowException", message: `Value was either too large or too small for an ${target}.` };
    }
    return { ok: true, v: rounded };
  }
  if (t === "bool") {
    if (typeof x === "boolean") return { ok: true, v: x };
    if (typeof x === "string") {
      const s = x.trim().toLowerCase();
      if (s === "true" || s === "false") return { ok: true, v: s === "true" };
      return { ok: false, reason: "FormatException", message: `String '${x}' was not recognized as a valid Boolean.` };
    }
    const n = numeric(x);
    if (n !== null) return { ok: true, v: n !== 0 };
  }
  if (t === "DateTime") {
    if (x instanceof Date) return { ok: true, v: x };
    if (typeof x === "string") {
      const d = parseDate(x);
      return d === null ? { ok: false, reason: "FormatException", message: `String '${x}' was not recognized as a valid DateTime.` } : { ok: true, v: d };
    }
  }
  if (t === "TimeSpan" && x instanceof TimeSpan) return { ok: true, v: x };
  if (t === "char" && typeof x === "string" && x.length === 1) return { ok: true, v: new CsChar(x.charCodeAt(0)) };
  if (t === "JToken" || t === "JValue" || t === "object") return { ok: true, v: jv };
  return { ok: false, reason: "ArgumentException", message: `Can not convert ${jsonTypeOf(x)} to ${target}.` };
}

function jsonTypeOf(x: Value): string {
  if (typeof x === "string") return "String";
  if (typeof x === "boolean") return "Boolean";
  if (typeof x === "number") return "Integer";
  if (x instanceof CsDouble) return "Float";
  if (x instanceof Date) return "Date";
  return "TimeSpan";
}

/** Math.Round / Convert.ToInt32 rounding (MidpointRounding.ToEven). */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff > 0.5) return f + 1;
  if (diff < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** `(string)token` and the other value conversions of a JObject/JArray/JProperty: Newtonsoft's ArgumentException. */
function jsonContainerCastError(t: JToken, type: string): Converted | null {
  if ((t instanceof JObject || t instanceof JArray || t instanceof JProperty) && (type === "string" || INT_TYPES.has(type.replace("?", "")) || DOUBLE_TYPES.has(type.replace("?", "")) || type.replace("?", "") === "bool" || type.replace("?", "") === "DateTime")) {
    const kind = t instanceof JObject ? "Object" : t instanceof JArray ? "Array" : "Property";
    return { ok: false, reason: "ArgumentException", message: `Can not convert ${kind} to ${clrName(type.replace("?", "")).replace("System.", "")}.` };
  }
  return null;
}
