/**
 * policy/expr/members — the members of every value an expression can touch: string, numbers, bool, char, DateTime,
 * TimeSpan, arrays, List<T>, dictionaries, Newtonsoft's JObject/JArray/JValue/JProperty, anonymous objects, enums
 * (LINQ is linq.ts); and the host boundary (host.ts), the only way to reach `context`.
 *
 * Contract: explicit tables only. A member name is looked up in a `switch` or a Map for the value's runtime type —
 * never as a JS property — so `constructor`, `__proto__` or `toString` reach nothing. Every loop charges the Rt,
 * every string built is checked by the caps, every failure is `rt.fail` with .NET's exception type and message.
 */
import { HostError, isHostObject, type HostObject, type MutableDictionary, type Value } from "./host";
import {
  checkItems, collator, fold, ignoreCase, int, isComparison, isValue, isWhite, noOverload, num, outOfRange, str, text, withoutCulture,
} from "./arguments";
import { compareValues, csEquals, explicitCast, implicitConvert, isEnumerable, iterate, shortTypeName, toText, typeName } from "./convert";
import { dateMin, daysInMonth, formatDateOffset, inDateRange, makeDate } from "./format";
import { addArrayItem, addProperty, cloneToken, jvalueText, newJProperty, selectToken, setProperty, tokenType, writeJson } from "./json";
import { LINQ_METHODS, NO_MEMBER, callLinq, ownArray, ownArrays } from "./linq";
import { MAX_STRING_CHARS } from "./limits";
import { ENUM_MEMBERS } from "./names";
import { Fn, type Arg, type Rt } from "./runtime";
import { TextBuilder, formatValue } from "./text";
import { byteArray, bytesOf, decode, encode, formatGuid, guidBytes } from "./codecs";
import { computeHash } from "./hashes";
import { parseJwtValue } from "./jwt-value";
import { CsRandom, randomMember } from "./random";
import { CsUri, uriMember } from "./uri";
import { FormData, formField, formUrlEncode } from "./form";
import { symmetricCrypt } from "./crypt";
import { AnonObject, byteArrays, CsChar, CsDateTimeOffset, CsDouble, CsEncoding, CsEnum, CsException, CsGroup, CsHasher, CsGroups, CsGuid, CsList, CsMatch, JArray, JObject, JProperty, JValue, KeyValue, TimeSpan, type JToken } from "./values";

// ── host boundary ──────────────────────────────────────────────────────────────────────────────────────────

/** Runs a host operation, turning HostError into a PolicyRuntimeError and checking what comes back. */
function host<T>(rt: Rt, op: () => T): T {
  try {
    return op();
  } catch (e) {
    if (e instanceof HostError) rt.fail(e.reason, e.message);
    throw e;
  }
}

/** Values handed to hosts: enums as their names ("SimpleName"); functions are not allowed. */
function toHostArgs(rt: Rt, args: readonly Arg[], what: string): Value[] {
  return args.map((a) => {
    if (a instanceof Fn) return noOverload(rt, what);
    return a instanceof CsEnum ? a.name : a;
  });
}

function checkHostValue(rt: Rt, v: unknown, what: string): Value {
  if (v === undefined || typeof v === "function" || typeof v === "symbol" || typeof v === "bigint") rt.fail("InvalidProgram", `host returned an invalid value for ${what}`);
  return v as Value;
}

function unknownMember(rt: Rt, v: Value, name: string): never {
  return rt.fail("RuntimeBinderException", `unknown member ${name} on type ${shortTypeName(v)}`);
}

// ── members ────────────────────────────────────────────────────────────────────────────────────────────────

/** `v.name` (v not null). */
export function getMember(rt: Rt, v: Value, name: string): Value {
  const r = member(rt, v, name, null, undefined);
  if (r === NO_MEMBER) unknownMember(rt, v, name);
  return r as Value;
}

/** `v.name<typeArgs>(args)` (v not null). */
export function callMember(rt: Rt, v: Value, name: string, args: readonly Arg[], typeArgs: readonly string[] | undefined): Value {
  const r = member(rt, v, name, args, typeArgs);
  if (r === NO_MEMBER) unknownMember(rt, v, name);
  return r as Value;
}

type Result = Value | typeof NO_MEMBER;

/** Property (args null) or method lookup by the value's runtime type. */
function member(rt: Rt, v: Value, name: string, args: readonly Arg[] | null, typeArgs: readonly string[] | undefined): Result {
  if (isHostObject(v)) return hostMember(rt, v, name, args, typeArgs);
  let r: Result = NO_MEMBER;
  if (typeof v === "string") r = stringMember(rt, v, name, args);
  else if (typeof v === "number" || v instanceof CsDouble) r = numberMember(rt, v, name, args);
  else if (v instanceof Date) r = dateMember(rt, v, name, args);
  else if (v instanceof TimeSpan) r = timeSpanMember(rt, v, name, args);
  else if (v instanceof JObject || v instanceof JArray || v instanceof JValue || v instanceof JProperty) r = jsonMember(rt, v, name, args, typeArgs);
  else if (v instanceof CsList) r = listMember(rt, v, name, args);
  else if (Array.isArray(v) && args !== null && (name === "Encrypt" || name === "Decrypt") && byteArrays.has(v)) r = cryptMember(rt, v as readonly Value[], name, args);
  else if (Array.isArray(v)) r = arrayMember(v as readonly Value[], name, args);
  else if (v instanceof FormData && args?.length === 0 && name === "ToFormUrlEncodedContent") r = rt.str(formUrlEncode(v));
  else if (v instanceof Map) r = mapMember(rt, v as ReadonlyMap<string, Value>, name, args, typeArgs);
  else if (v instanceof KeyValue) r = args === null && name === "Key" ? v.key : args === null && name === "Value" ? v.value : NO_MEMBER;
  else if (v instanceof AnonObject) r = args === null && v.props.has(name) ? v.props.get(name)! : NO_MEMBER;
  else if (v instanceof CsGuid) r = guidMember(rt, v, name, args);
  else if (v instanceof CsDateTimeOffset) r = dateOffsetMember(rt, v, name, args);
  else if (v instanceof CsException) r = args === null && name === "Message" ? v.message : NO_MEMBER;
  else if (v instanceof CsGroup) r = args !== null ? NO_MEMBER : groupMember(v, name);
  else if (v instanceof CsGroups) r = args === null && name === "Count" ? v.match.groups.length : NO_MEMBER;
  else if (v instanceof CsEncoding) r = encodingMember(rt, v, name, args);
  else if (v instanceof CsHasher) r = hasherMember(rt, v, name, args);
  else if (v instanceof CsRandom) r = randomMember(rt, v, name, args) ?? NO_MEMBER;
  else if (v instanceof CsUri) r = uriMember(rt, v, name, args) ?? NO_MEMBER;
  if (r !== NO_MEMBER) return r;
  // Nullable<T> members on a value that has one (the null case is handled by the evaluator).
  if (args === null && name === "HasValue" && isValueType(v)) return true;
  if (args === null && name === "Value" && isValueType(v)) return v;
  if (args !== null) {
    if (name === "GetValueOrDefault" && args.length <= 1 && isValueType(v)) return v;
    if (name === "ToString" && args.length === 0) return toText(v, rt);
    if (name === "Equals" && args.length === 1 && isValue(args[0])) return csEquals(v, args[0]);
    if (name === "CompareTo" && args.length === 1 && isValue(args[0])) {
      const c = args[0] === null ? 1 : compareValues(v, args[0]);
      if (c === null) noOverload(rt, `${shortTypeName(v)}.CompareTo`);
      return Number.isNaN(c) ? 0 : c!;
    }
    if (isEnumerable(v) && LINQ_METHODS.has(name)) return callLinq(rt, v, name, args, typeArgs);
  }
  return NO_MEMBER;
}

function isValueType(v: Value): boolean {
  return typeof v === "number" || typeof v === "boolean" || v instanceof CsDouble || v instanceof CsChar || v instanceof Date || v instanceof TimeSpan || v instanceof CsEnum || v instanceof CsGuid || v instanceof CsDateTimeOffset;
}

/**
 * DateTimeOffset at offset zero (learn.microsoft.com/dotnet/api/system.datetimeoffset): the DateTime views are its
 * instant, Offset is TimeSpan.Zero, ToUnixTimeSeconds/-Milliseconds count from 1970-01-01T00:00:00Z (rounded
 * down, as .NET's tick division is), the date parts and Add* are DateTime's, returning DateTimeOffsets.
 */
function dateOffsetMember(rt: Rt, o: CsDateTimeOffset, name: string, rawArgs: readonly Arg[] | null): Result {
  const d = o.date;
  if (rawArgs === null) {
    switch (name) {
      case "UtcDateTime":
      case "DateTime":
      case "LocalDateTime":
        return d;
      case "Offset":
        return new TimeSpan(0);
    }
    const r = dateMember(rt, d, name, null);
    return r;
  }
  const args = withoutCulture(rawArgs);
  switch (name) {
    case "ToUnixTimeSeconds":
      if (args.length !== 0) noOverload(rt, `DateTimeOffset.${name}`);
      return Math.floor(d.getTime() / 1000);
    case "ToUnixTimeMilliseconds":
      if (args.length !== 0) noOverload(rt, `DateTimeOffset.${name}`);
      return d.getTime();
    case "ToUniversalTime":
    case "ToLocalTime":
      if (args.length !== 0) noOverload(rt, `DateTimeOffset.${name}`);
      return o;
    case "ToString": {
      if (args.length > 1) noOverload(rt, "DateTimeOffset.ToString");
      const f = args.length === 1 && args[0] !== null ? str(rt, args[0], "DateTimeOffset.ToString") : null;
      const out = formatDateOffset(d, f);
      return out === null ? rt.fail("FormatException", "Input string was not in a correct format.") : out;
    }
  }
  if (name.startsWith("Add")) {
    const r = dateMember(rt, d, name, rawArgs);
    return r instanceof Date ? new CsDateTimeOffset(r) : r;
  }
  return NO_MEMBER;
}

/** Match and Group properties (regex.ts). */
function groupMember(g: CsGroup, name: string): Result {
  switch (name) {
    case "Success":
      return g.success;
    case "Value":
      return g.value;
    case "Index":
      return Math.max(0, g.start);
    case "Length":
      return g.success ? g.end - g.start : 0;
    case "Name":
      return g.name;
    case "Groups":
      return g instanceof CsMatch ? new CsGroups(g) : NO_MEMBER;
    default:
      return NO_MEMBER;
  }
}

/** Guid: ToString([format]), ToByteArray() (codecs.ts). */
function guidMember(rt: Rt, g: CsGuid, name: string, rawArgs: readonly Arg[] | null): Result {
  if (rawArgs === null) return NO_MEMBER;
  const args = withoutCulture(rawArgs);
  const what = `Guid.${name}`;
  if (name === "ToString") {
    if (args.length > 1) noOverload(rt, what);
    const r = formatGuid(g.hex, args.length === 0 || args[0] === null ? "" : str(rt, args[0], what));
    return typeof r === "string" ? r : rt.fail(r.reason, r.message);
  }
  if (name === "ToByteArray") {
    if (args.length !== 0) noOverload(rt, what);
    return byteArray(guidBytes(g.hex));
  }
  return NO_MEMBER;
}

/** HashAlgorithm.ComputeHash(byte[] [, offset, count]) (hashes.ts); the hashing is charged per byte. */
function hasherMember(rt: Rt, h: CsHasher, name: string, args: readonly Arg[] | null): Result {
  if (args === null || name !== "ComputeHash") return NO_MEMBER;
  const what = `${h.key === null ? "" : "HMAC"}${h.algorithm}.ComputeHash`;
  if (args.length !== 1 && args.length !== 3) noOverload(rt, what);
  if (args[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'buffer')");
  let data = bytesOf(args[0] as Value) ?? noOverload(rt, what);
  if (args.length === 3) {
    const offset = int(rt, args[1], what);
    const count = int(rt, args[2], what);
    if (offset < 0 || count < 0 || offset > data.length - count) rt.fail("ArgumentException", "Offset and length were out of bounds for the array or count is greater than the number of elements from index to the end of the source collection.");
    data = data.subarray(offset, offset + count);
  }
  rt.chars(data.length);
  return byteArray(computeHash(h.algorithm, h.key, data));
}

/** byte[].Encrypt / Decrypt(string alg, byte[] key, byte[] iv) (crypt.ts); the work is charged per byte. */
function cryptMember(rt: Rt, input: readonly Value[], name: "Encrypt" | "Decrypt", args: readonly Arg[]): Result {
  const what = `byte[].${name}`;
  if (args.length !== 3) noOverload(rt, what);
  const [alg, key, iv] = args;
  if (alg === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'alg')");
  if (key === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'key')");
  if (iv === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'iv')");
  const keyBytes = bytesOf(key as Value) ?? noOverload(rt, what);
  const ivBytes = bytesOf(iv as Value) ?? noOverload(rt, what);
  const data = bytesOf(input as Value) ?? noOverload(rt, what);
  rt.chars(data.length);
  const r = symmetricCrypt(name === "Decrypt", str(rt, alg, what), data, keyBytes, ivBytes);
  if (!r.ok) rt.fail(r.reason, r.message);
  return byteArray(r.bytes);
}

/** Encoding.UTF8 / ASCII: GetBytes(string), GetString(byte[] [, index, count]) (codecs.ts). */
function encodingMember(rt: Rt, e: CsEncoding, name: string, args: readonly Arg[] | null): Result {
  if (args === null) return NO_MEMBER;
  const what = `Encoding.${name}`;
  const a0 = args[0] ?? null;
  if (name === "GetBytes") {
    if (args.length !== 1) noOverload(rt, what);
    if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 's')");
    const s = str(rt, a0, what);
    rt.chars(s.length);
    const bytes = encode(e.name, s);
    rt.items(bytes.length);
    return byteArray(bytes);
  }
  if (name === "GetString") {
    if (args.length !== 1 && args.length !== 3) noOverload(rt, what);
    if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'bytes')");
    let bytes = bytesOf(a0 as Value) ?? noOverload(rt, what);
    if (args.length === 3) {
      const index = int(rt, args[1], what);
      const count = int(rt, args[2], what);
      if (index < 0 || count < 0) outOfRange(rt, index < 0 ? "index" : "count", "Non-negative number required.");
      if (bytes.length - index < count) outOfRange(rt, "bytes", "Index and count must refer to a location within the buffer.");
      bytes = bytes.subarray(index, index + count);
    }
    rt.chars(bytes.length);
    return rt.str(decode(e.name, bytes));
  }
  return NO_MEMBER;
}

function hostMember(rt: Rt, v: HostObject, name: string, args: readonly Arg[] | null, typeArgs: readonly string[] | undefined): Result {
  if (args === null) {
    const r = host(rt, () => v.get(name));
    return r === undefined ? NO_MEMBER : checkHostValue(rt, r, name);
  }
  const hostArgs = toHostArgs(rt, args, `${v.typeName}.${name}`);
  const r = v.call === undefined ? undefined : host(rt, () => v.call!(name, hostArgs, typeArgs));
  if (r !== undefined) return checkHostValue(rt, r, name);
  if (name === "ToString" && args.length === 0) return rt.str(host(rt, () => String(v.toString())));
  if (name === "Equals" && args.length === 1) return args[0] === v;
  return NO_MEMBER;
}

/** `v[key]`. */
export function indexGet(rt: Rt, v: Value, key: Value): Value {
  if (isHostObject(v)) {
    if (v.index === undefined) rt.fail("RuntimeBinderException", `cannot apply indexing to type ${v.typeName}`);
    return checkHostValue(rt, host(rt, () => v.index!(key instanceof CsEnum ? key.name : key)), "indexer");
  }
  if (typeof v === "string") {
    const i = intIndex(rt, key, v);
    if (i < 0 || i >= v.length) rt.fail("IndexOutOfRangeException", "Index was outside the bounds of the array.");
    return new CsChar(v.charCodeAt(i));
  }
  if (Array.isArray(v)) {
    const i = intIndex(rt, key, v);
    const items = v as readonly Value[];
    if (i < 0 || i >= items.length) rt.fail("IndexOutOfRangeException", "Index was outside the bounds of the array.");
    return items[i]!;
  }
  if (v instanceof CsList) {
    const i = intIndex(rt, key, v);
    if (i < 0 || i >= v.items.length) outOfRange(rt, "index");
    return v.items[i]!;
  }
  if (v instanceof Map) {
    if (key === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'key')");
    const k = typeof key === "string" ? key : toText(key, rt);
    const map = v as ReadonlyMap<string, Value>;
    if (v instanceof FormData) return formField(v, k);
    if (!map.has(k)) rt.fail("KeyNotFoundException", `The given key '${k}' was not present in the dictionary.`);
    return map.get(k)!;
  }
  if (v instanceof JObject) {
    if (typeof key !== "string") rt.fail("ArgumentException", `Accessed JObject values with invalid key value: ${jsonKeyText(rt, key)}. Object property name expected.`);
    return v.props.get(key as string)?.value ?? null;
  }
  if (v instanceof JArray) {
    if (typeof key !== "number") rt.fail("ArgumentException", `Accessed JArray values with invalid key value: ${jsonKeyText(rt, key)}. Int32 array index expected.`);
    const i = key as number;
    if (i < 0 || i >= v.items.length) outOfRange(rt, "index");
    return v.items[i]!;
  }
  if (v instanceof JValue || v instanceof JProperty) rt.fail("InvalidOperationException", `Cannot access child value on ${typeName(v)}.`);
  if (v instanceof CsGroups) {
    // .NET: a group number or name that does not exist gives a Group whose Success is false.
    const groups = v.match.groups;
    const found = typeof key === "number" ? groups[key] : typeof key === "string" ? groups.find((g) => g.name === key) : undefined;
    if (typeof key !== "number" && typeof key !== "string") rt.fail("RuntimeBinderException", `cannot index GroupCollection with ${shortTypeName(key)}`);
    return found ?? new CsGroup(v.match.input, -1, -1, String(key));
  }
  return rt.fail("RuntimeBinderException", `cannot apply indexing to type ${shortTypeName(v)}`);
}

function jsonKeyText(rt: Rt, key: Value): string {
  return typeof key === "string" ? `"${key}"` : toText(key, rt);
}

function intIndex(rt: Rt, key: Value, v: Value): number {
  if (typeof key === "number") return key;
  if (key instanceof CsChar) return key.code;
  return rt.fail("RuntimeBinderException", `cannot index ${shortTypeName(v)} with ${shortTypeName(key)}`);
}

/** `v[key] = value`. */
export function indexSet(rt: Rt, v: Value, key: Value, value: Value): void {
  if (isHostObject(v)) {
    const dict = v as MutableDictionary;
    if (typeof dict.set !== "function") rt.fail("RuntimeBinderException", `the indexer of ${v.typeName} is read-only`);
    if (typeof key !== "string") rt.fail("RuntimeBinderException", `the indexer of ${v.typeName} takes a string key`);
    host(rt, () => dict.set(key as string, value));
    return;
  }
  if (v instanceof JObject) {
    if (typeof key !== "string") rt.fail("ArgumentException", `Set JObject values with invalid key value: ${jsonKeyText(rt, key)}. Object property name expected.`);
    setProperty(v, key as string, value, rt, iterate);
    return;
  }
  if (v instanceof JArray) {
    if (typeof key !== "number") rt.fail("ArgumentException", `Set JArray values with invalid key value: ${jsonKeyText(rt, key)}. Int32 array index expected.`);
    const i = key as number;
    if (i < 0 || i >= v.items.length) outOfRange(rt, "index");
    const replacement = new JArray();
    addArrayItem(replacement, value, rt, iterate);
    const token = replacement.items[0]!;
    token.parent = v;
    v.items[i]!.parent = null;
    v.items[i] = token;
    return;
  }
  if (v instanceof CsList || (Array.isArray(v) && ownArrays.has(v))) {
    const items = v instanceof CsList ? v.items : (v as Value[]);
    const i = intIndex(rt, key, v);
    if (i < 0 || i >= items.length) {
      if (v instanceof CsList) outOfRange(rt, "index");
      rt.fail("IndexOutOfRangeException", "Index was outside the bounds of the array.");
    }
    items[i] = value;
    return;
  }
  rt.fail("RuntimeBinderException", `the indexer of ${shortTypeName(v)} is read-only`);
}

// ── string ─────────────────────────────────────────────────────────────────────────────────────────────────

function stringMember(rt: Rt, s: string, name: string, rawArgs: readonly Arg[] | null): Result {
  if (rawArgs === null) return name === "Length" ? s.length : NO_MEMBER;
  const args = withoutCulture(rawArgs);
  const n = args.length;
  const what = `String.${name}`;
  switch (name) {
    case "ToString":
      return n === 0 ? s : NO_MEMBER;
    // APIM's string extension: the token parsed without validation, or null (jwt-value.ts).
    case "AsJwt":
      if (n !== 0) noOverload(rt, what);
      return parseJwtValue(s);
    case "ToUpper":
    case "ToUpperInvariant":
      if (n !== 0) noOverload(rt, what);
      rt.chars(s.length);
      return rt.str(s.toUpperCase());
    case "ToLower":
    case "ToLowerInvariant":
      if (n !== 0) noOverload(rt, what);
      rt.chars(s.length);
      return rt.str(s.toLowerCase());
    case "Trim":
    case "TrimStart":
    case "TrimEnd": {
      const chars = trimChars(rt, args, what);
      rt.chars(s.length);
      const strip = (c: string): boolean => (chars === null ? isWhite(c) : chars.includes(c));
      let a = 0;
      let b = s.length;
      if (name !== "TrimEnd") while (a < b && strip(s[a]!)) a++;
      if (name !== "TrimStart") while (b > a && strip(s[b - 1]!)) b--;
      return s.slice(a, b);
    }
    case "Contains":
    case "StartsWith":
    case "EndsWith": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const needle = text(rt, args[0], what);
      const ic = n === 2 ? ignoreCase(rt, args[1], what) : false;
      const hay = ic ? fold(rt, s) : s;
      const pin = ic ? fold(rt, needle) : needle;
      rt.chars(s.length);
      return name === "Contains" ? hay.includes(pin) : name === "StartsWith" ? hay.startsWith(pin) : hay.endsWith(pin);
    }
    case "Equals": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const other = args[0];
      if (n === 2) {
        const ic = ignoreCase(rt, args[1], what);
        if (other === null) return false;
        const o = str(rt, other, what);
        return ic ? fold(rt, s) === fold(rt, o) : s === o;
      }
      return isValue(other) && csEquals(s, other);
    }
    case "IndexOf":
    case "LastIndexOf": {
      if (n < 1 || n > 3) noOverload(rt, what);
      const needle = text(rt, args[0], what);
      let start: number | null = null;
      let ic = false;
      for (const a of args.slice(1)) {
        if (isComparison(a)) ic = ignoreCase(rt, a, what);
        else if (start === null) start = int(rt, a, what);
        else noOverload(rt, what);
      }
      if (start !== null && (start < 0 || start > s.length)) outOfRange(rt, "startIndex");
      const hay = ic ? fold(rt, s) : s;
      const pin = ic ? fold(rt, needle) : needle;
      rt.chars(s.length);
      if (name === "IndexOf") return hay.indexOf(pin, start ?? 0);
      return hay.lastIndexOf(pin, start ?? Infinity);
    }
    case "Substring": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const start = int(rt, args[0], what);
      if (start < 0 || start > s.length) outOfRange(rt, "startIndex", "startIndex cannot be larger than length of string.");
      if (n === 1) return s.slice(start);
      const length = int(rt, args[1], what);
      if (length < 0 || start + length > s.length) outOfRange(rt, "length", "Index and length must refer to a location within the string.");
      return s.slice(start, start + length);
    }
    case "Replace": {
      if (n < 2 || n > 3) noOverload(rt, what);
      const from = text(rt, args[0], what);
      if (from === "") rt.fail("ArgumentException", "String cannot be of zero length. (Parameter 'oldValue')");
      const to = args[1] === null ? "" : text(rt, args[1], what);
      const ic = n === 3 ? ignoreCase(rt, args[2], what) : false;
      rt.chars(s.length);
      if (!ic) {
        const parts = s.split(from);
        if (s.length + (parts.length - 1) * (to.length - from.length) > MAX_STRING_CHARS) rt.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
        rt.step(parts.length - 1);
        return rt.str(parts.join(to));
      }
      const hay = fold(rt, s);
      const pin = fold(rt, from);
      const out = new TextBuilder(rt);
      let i = 0;
      for (let j = hay.indexOf(pin); j >= 0; j = hay.indexOf(pin, i)) {
        rt.step();
        out.add(s.slice(i, j));
        out.add(to);
        i = j + from.length;
      }
      out.add(s.slice(i));
      return out.done();
    }
    case "Split":
      return ownArray(split(rt, s, args, what));
    case "PadLeft":
    case "PadRight": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const width = int(rt, args[0], what);
      if (width < 0) outOfRange(rt, "totalWidth", "Non-negative number required.");
      if (width > MAX_STRING_CHARS) rt.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
      const pad = n === 2 ? (args[1] instanceof CsChar ? args[1].text : noOverload(rt, what)) : " ";
      if (width <= s.length) return s;
      return rt.str(name === "PadLeft" ? pad.repeat(width - s.length) + s : s + pad.repeat(width - s.length));
    }
    case "Insert": {
      if (n !== 2) noOverload(rt, what);
      const at = int(rt, args[0], what);
      const add = str(rt, args[1], what);
      if (at < 0 || at > s.length) outOfRange(rt, "startIndex");
      return rt.str(s.slice(0, at) + add + s.slice(at));
    }
    case "Remove": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const start = int(rt, args[0], what);
      if (start < 0 || start > s.length) outOfRange(rt, "startIndex", "startIndex must be less than length of string.");
      if (n === 1) return s.slice(0, start);
      const count = int(rt, args[1], what);
      if (count < 0 || start + count > s.length) outOfRange(rt, "count", "Index and count must refer to a location within the string.");
      return s.slice(0, start) + s.slice(start + count);
    }
    case "ToCharArray":
      if (n !== 0) noOverload(rt, what);
      rt.chars(s.length);
      checkItems(rt, s.length);
      rt.step(s.length);
      return ownArray(Array.from({ length: s.length }, (_, i) => new CsChar(s.charCodeAt(i))));
    case "CompareTo":
      if (n !== 1) noOverload(rt, what);
      if (args[0] === null) return 1;
      return collator.compare(s, str(rt, args[0], what));
    default:
      return NO_MEMBER;
  }
}

/** Trim/TrimStart/TrimEnd arguments: none (whitespace), chars, or a char array. */
function trimChars(rt: Rt, args: readonly Arg[], what: string): string[] | null {
  if (args.length === 0) return null;
  const out: string[] = [];
  for (const a of args) {
    if (a instanceof CsChar) out.push(a.text);
    else if (Array.isArray(a) && args.length === 1) {
      for (const c of a as readonly Value[]) out.push(c instanceof CsChar ? c.text : noOverload(rt, what));
    } else noOverload(rt, what);
  }
  return out.length === 0 ? null : out;
}

/** string.Split, all overloads: separators (chars, strings, arrays of either, none = whitespace), count, options. */
function split(rt: Rt, s: string, args: readonly Arg[], what: string): Value[] {
  const rest = [...args];
  let removeEmpty = false;
  let trim = false;
  let count = Infinity;
  const last = rest[rest.length - 1];
  if (last instanceof CsEnum && last.type === "StringSplitOptions") {
    rest.pop();
    removeEmpty = last.name === "RemoveEmptyEntries";
    trim = last.name === "TrimEntries";
  }
  if (rest.length >= 2 && typeof rest[rest.length - 1] === "number") {
    count = rest.pop() as number;
    if (count < 0) outOfRange(rt, "count", "Count cannot be less than zero.");
  }
  const seps: string[] = [];
  for (const a of rest) {
    if (a === null) continue;
    if (a instanceof CsChar || typeof a === "string") seps.push(a instanceof CsChar ? a.text : a);
    else if (Array.isArray(a)) {
      for (const x of a as readonly Value[]) {
        if (x instanceof CsChar) seps.push(x.text);
        else if (typeof x === "string") seps.push(x);
        else if (x !== null) noOverload(rt, what);
      }
    } else noOverload(rt, what);
  }
  const separators = seps.filter((x) => x !== "");
  const whitespace = separators.length === 0;
  rt.chars(s.length * Math.max(1, separators.length));
  const parts: string[] = [];
  if (count === 0) return [];
  let start = 0;
  let i = 0;
  while (i < s.length && parts.length < count - 1) {
    let len = 0;
    if (whitespace) len = isWhite(s[i]!) ? 1 : 0;
    else for (const sep of separators) if (s.startsWith(sep, i)) {
      len = sep.length;
      break;
    }
    if (len === 0) {
      i++;
      continue;
    }
    parts.push(s.slice(start, i));
    checkItems(rt, parts.length);
    i += len;
    start = i;
  }
  parts.push(s.slice(start));
  rt.step(parts.length);
  let out = trim ? parts.map((p) => p.replace(/^[\s\u0085]+|[\s\u0085]+$/g, "")) : parts;
  if (removeEmpty) out = out.filter((p) => p !== "");
  return out;
}

// ── numbers, DateTime, TimeSpan ────────────────────────────────────────────────────────────────────────────

function numberMember(rt: Rt, v: number | CsDouble, name: string, rawArgs: readonly Arg[] | null): Result {
  if (rawArgs === null) return NO_MEMBER;
  const args = withoutCulture(rawArgs);
  if (name === "ToString" && args.length <= 1) {
    const format = args.length === 1 ? (args[0] === null ? null : str(rt, args[0], "Int32.ToString")) : null;
    return formatValue(rt, v, format);
  }
  return NO_MEMBER;
}

export const MS_PER_DAY = 86_400_000;

/** C#'s rounding of a scaled double to whole milliseconds in DateTime.Add* (half away from zero). */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function addMs(rt: Rt, d: Date, ms: number): Date {
  const t = d.getTime() + ms;
  if (!inDateRange(t)) outOfRange(rt, "value", "The added or subtracted value results in an un-representable DateTime.");
  return new Date(t);
}

function addMonths(rt: Rt, d: Date, months: number): Date {
  if (!Number.isInteger(months) || Math.abs(months) > 120_000) outOfRange(rt, "months", "Value must be between ±120000.");
  const total = d.getUTCFullYear() * 12 + d.getUTCMonth() + months;
  const y = Math.floor(total / 12);
  const m = total - y * 12 + 1;
  if (y < 1 || y > 9999) outOfRange(rt, "months", "The added or subtracted value results in an un-representable DateTime.");
  const day = Math.min(d.getUTCDate(), daysInMonth(y, m));
  const r = makeDate(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
  return r ?? outOfRange(rt, "months");
}

const DATE_SCALES: ReadonlyMap<string, number> = new Map([
  ["AddDays", MS_PER_DAY],
  ["AddHours", 3_600_000],
  ["AddMinutes", 60_000],
  ["AddSeconds", 1000],
  ["AddMilliseconds", 1],
]);

const DAY_NAMES = ENUM_MEMBERS.get("DayOfWeek")!;

function dateMember(rt: Rt, d: Date, name: string, rawArgs: readonly Arg[] | null): Result {
  if (rawArgs === null) {
    switch (name) {
      case "Year":
        return d.getUTCFullYear();
      case "Month":
        return d.getUTCMonth() + 1;
      case "Day":
        return d.getUTCDate();
      case "Hour":
        return d.getUTCHours();
      case "Minute":
        return d.getUTCMinutes();
      case "Second":
        return d.getUTCSeconds();
      case "Millisecond":
        return d.getUTCMilliseconds();
      case "DayOfWeek":
        return new CsEnum("DayOfWeek", DAY_NAMES[d.getUTCDay()]!);
      case "DayOfYear":
        return Math.floor((d.getTime() - makeDate(d.getUTCFullYear(), 1, 1)!.getTime()) / MS_PER_DAY) + 1;
      case "Date":
        return makeDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())!;
      case "TimeOfDay":
        return new TimeSpan(d.getTime() - makeDate(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())!.getTime());
      default:
        return NO_MEMBER;
    }
  }
  const args = withoutCulture(rawArgs);
  const n = args.length;
  const what = `DateTime.${name}`;
  const scale = DATE_SCALES.get(name);
  if (scale !== undefined) {
    if (n !== 1) noOverload(rt, what);
    return addMs(rt, d, roundAway(num(rt, args[0], what) * scale));
  }
  switch (name) {
    case "AddMonths":
      if (n !== 1) noOverload(rt, what);
      return addMonths(rt, d, int(rt, args[0], what));
    case "AddYears":
      if (n !== 1) noOverload(rt, what);
      return addMonths(rt, d, int(rt, args[0], what) * 12);
    case "Add":
      if (n !== 1 || !(args[0] instanceof TimeSpan)) noOverload(rt, what);
      return addMs(rt, d, (args[0] as TimeSpan).ms);
    case "Subtract":
      if (n !== 1) noOverload(rt, what);
      if (args[0] instanceof Date) return new TimeSpan(d.getTime() - args[0].getTime());
      if (args[0] instanceof TimeSpan) return addMs(rt, d, -args[0].ms);
      return noOverload(rt, what);
    case "ToString":
      if (n > 1) noOverload(rt, what);
      return formatValue(rt, d, n === 1 && args[0] !== null ? str(rt, args[0], what) : "G");
    case "ToShortDateString":
      return formatValue(rt, d, "d");
    case "ToLongDateString":
      return formatValue(rt, d, "D");
    case "ToShortTimeString":
      return formatValue(rt, d, "t");
    case "ToLongTimeString":
      return formatValue(rt, d, "T");
    case "ToUniversalTime":
    case "ToLocalTime":
      // The edge runs in UTC: both are the identity.
      return n === 0 ? d : noOverload(rt, what);
    default:
      return NO_MEMBER;
  }
}

/** TimeSpan.MaxValue in milliseconds (Int64.MaxValue ticks). */
const MAX_TIMESPAN_MS = 922_337_203_685_477;

export function makeTimeSpan(rt: Rt, ms: number): TimeSpan {
  if (Number.isNaN(ms)) rt.fail("ArgumentException", "TimeSpan does not accept floating point Not-a-Number values.");
  if (Math.abs(ms) > MAX_TIMESPAN_MS) rt.fail("OverflowException", "TimeSpan overflowed because the duration is too long.");
  return new TimeSpan(ms);
}

function timeSpanMember(rt: Rt, t: TimeSpan, name: string, args: readonly Arg[] | null): Result {
  const whole = (unit: number, mod: number): number => Math.trunc(t.ms / unit) % mod || 0;
  if (args === null) {
    switch (name) {
      case "Days":
        return Math.trunc(t.ms / MS_PER_DAY) || 0;
      case "Hours":
        return whole(3_600_000, 24);
      case "Minutes":
        return whole(60_000, 60);
      case "Seconds":
        return whole(1000, 60);
      case "Milliseconds":
        return Math.trunc(t.ms) % 1000 || 0;
      case "Ticks":
        return Math.round(t.ms * 10_000);
      case "TotalDays":
        return new CsDouble(t.ms / MS_PER_DAY);
      case "TotalHours":
        return new CsDouble(t.ms / 3_600_000);
      case "TotalMinutes":
        return new CsDouble(t.ms / 60_000);
      case "TotalSeconds":
        return new CsDouble(t.ms / 1000);
      case "TotalMilliseconds":
        return new CsDouble(t.ms);
      default:
        return NO_MEMBER;
    }
  }
  const what = `TimeSpan.${name}`;
  switch (name) {
    case "Add":
    case "Subtract":
      if (args.length !== 1 || !(args[0] instanceof TimeSpan)) noOverload(rt, what);
      return makeTimeSpan(rt, t.ms + (name === "Add" ? 1 : -1) * (args[0] as TimeSpan).ms);
    case "Negate":
      return args.length === 0 ? new TimeSpan(-t.ms || 0) : noOverload(rt, what);
    case "Duration":
      return args.length === 0 ? new TimeSpan(Math.abs(t.ms)) : noOverload(rt, what);
    case "ToString": {
      const a = withoutCulture(args);
      if (a.length > 1) noOverload(rt, what);
      return formatValue(rt, t, a.length === 1 && a[0] !== null ? str(rt, a[0], what) : "c");
    }
    default:
      return NO_MEMBER;
  }
}

// ── collections ────────────────────────────────────────────────────────────────────────────────────────────

function arrayMember(v: readonly Value[], name: string, args: readonly Arg[] | null): Result {
  // Arrays have Length; Count (ICollection) is accepted too, since hosts expose IEnumerables as arrays.
  if (args === null) return name === "Length" || name === "Count" ? v.length : NO_MEMBER;
  return NO_MEMBER;
}

export function listMember(rt: Rt, l: CsList, name: string, args: readonly Arg[] | null): Result {
  if (args === null) return name === "Count" ? l.items.length : NO_MEMBER;
  const what = `List.${name}`;
  const n = args.length;
  const element = (a: Arg | undefined): Value => {
    if (!isValue(a)) return noOverload(rt, what);
    const r = implicitConvert(l.elementType, a);
    if (!r.ok) rt.fail(r.reason, r.message);
    return r.v;
  };
  switch (name) {
    case "Add":
      if (n !== 1) noOverload(rt, what);
      checkItems(rt, l.items.length + 1);
      l.items.push(element(args[0]));
      return null;
    case "AddRange": {
      if (n !== 1 || !isValue(args[0]) || !isEnumerable(args[0])) noOverload(rt, what);
      const added: Value[] = [];
      for (const x of iterate(args[0] as Value)) {
        rt.step();
        checkItems(rt, l.items.length + added.length + 1);
        added.push(element(x));
      }
      l.items.push(...added);
      return null;
    }
    case "Insert": {
      if (n !== 2) noOverload(rt, what);
      const i = int(rt, args[0], what);
      if (i < 0 || i > l.items.length) outOfRange(rt, "index");
      checkItems(rt, l.items.length + 1);
      l.items.splice(i, 0, element(args[1]));
      return null;
    }
    case "Remove": {
      if (n !== 1 || !isValue(args[0])) noOverload(rt, what);
      rt.step(l.items.length);
      const i = l.items.findIndex((x) => csEquals(x, args[0] as Value));
      if (i < 0) return false;
      l.items.splice(i, 1);
      return true;
    }
    case "RemoveAt": {
      if (n !== 1) noOverload(rt, what);
      const i = int(rt, args[0], what);
      if (i < 0 || i >= l.items.length) outOfRange(rt, "index");
      l.items.splice(i, 1);
      return null;
    }
    case "Clear":
      if (n !== 0) noOverload(rt, what);
      l.items.length = 0;
      return null;
    case "IndexOf": {
      if (n !== 1 || !isValue(args[0])) noOverload(rt, what);
      rt.step(l.items.length);
      return l.items.findIndex((x) => csEquals(x, args[0] as Value));
    }
    default:
      return NO_MEMBER;
  }
}

function mapMember(rt: Rt, m: ReadonlyMap<string, Value>, name: string, args: readonly Arg[] | null, typeArgs: readonly string[] | undefined): Result {
  if (args === null) {
    switch (name) {
      case "Count":
        return m.size;
      case "Keys":
        rt.step(m.size);
        return ownArray([...m.keys()]);
      case "Values":
        rt.step(m.size);
        return ownArray([...m.values()]);
      default:
        return NO_MEMBER;
    }
  }
  const what = `Dictionary.${name}`;
  switch (name) {
    case "ContainsKey":
      if (args.length !== 1) noOverload(rt, what);
      if (args[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'key')");
      return m.has(str(rt, args[0], what));
    case "ContainsValue":
      if (args.length !== 1 || !isValue(args[0])) noOverload(rt, what);
      rt.step(m.size);
      return [...m.values()].some((x) => csEquals(x, args[0] as Value));
    case "GetValueOrDefault": {
      if (args.length < 1 || args.length > 2 || !isValue(args[1] ?? null)) noOverload(rt, what);
      const key = str(rt, args[0], what);
      if (!m.has(key)) return (args[1] as Value | undefined) ?? (typeArgs?.length === 1 ? defaultOf(typeArgs[0]!) : null);
      const found = m.get(key)!;
      if (typeArgs?.length !== 1) return found;
      const r = explicitCast(typeArgs[0]!, found);
      if (!r.ok) rt.fail(r.reason, r.message);
      return r.v;
    }
    default:
      return NO_MEMBER;
  }
}

/** default(T). */
export function defaultOf(type: string): Value {
  if (type.endsWith("?")) return null;
  switch (type) {
    case "int":
    case "long":
    case "short":
    case "byte":
    case "uint":
    case "ulong":
    case "ushort":
    case "sbyte":
      return 0;
    case "double":
    case "float":
    case "decimal":
      return new CsDouble(0);
    case "bool":
      return false;
    case "char":
      return new CsChar(0);
    case "DateTime":
      return dateMin();
    case "TimeSpan":
      return new TimeSpan(0);
    case "Guid":
      return new CsGuid("0".repeat(32));
    default:
      return null;
  }
}

// ── Newtonsoft.Json.Linq ───────────────────────────────────────────────────────────────────────────────────

function formattingArg(rt: Rt, args: readonly Arg[], what: string): boolean {
  if (args.length === 0) return true;
  const a = args[0];
  if (args.length === 1 && a instanceof CsEnum && a.type === "Formatting") return a.name === "Indented";
  return noOverload(rt, what);
}

/**
 * JToken.Remove() (https://www.newtonsoft.com/json/help/html/M_Newtonsoft_Json_Linq_JToken_Remove.htm): removes the
 * token from its parent — a property from its object, an item from its array; no parent is an
 * InvalidOperationException ("The parent is missing."), and a property's value cannot be removed from it
 * (JProperty holds exactly one value).
 */
function removeFromParent(rt: Rt, t: JToken): null {
  const p = t.parent;
  if (p === null) rt.fail("InvalidOperationException", "The parent is missing.");
  if (p instanceof JObject && t instanceof JProperty) {
    if (p.props.get(t.name) === t) p.props.delete(t.name);
  } else if (p instanceof JArray) {
    const i = p.items.indexOf(t);
    if (i >= 0) p.items.splice(i, 1);
  } else {
    rt.fail("InvalidOperationException", "Cannot add or remove items from Newtonsoft.Json.Linq.JProperty.");
  }
  t.parent = null;
  return null;
}

/** Value<T>() conversion: a missing token is default(T). */
export function convertToken(rt: Rt, token: Value, type: string | undefined): Value {
  if (type === undefined) return token;
  if (token === null) return defaultOf(type);
  const r = explicitCast(type, token);
  if (!r.ok) rt.fail(r.reason, r.message);
  return r.v;
}

function jsonMember(rt: Rt, t: JToken, name: string, args: readonly Arg[] | null, typeArgs: readonly string[] | undefined): Result {
  const what = `${shortTypeName(t)}.${name}`;
  if (args === null) {
    switch (name) {
      case "Type":
        return new CsEnum("JTokenType", tokenType(t));
      case "HasValues":
        return t instanceof JObject ? t.props.size > 0 : t instanceof JArray ? t.items.length > 0 : t instanceof JProperty;
      case "Parent":
        return t.parent;
    }
    if (t instanceof JValue) return name === "Value" ? (t.value as Value) : NO_MEMBER;
    if (t instanceof JProperty) return name === "Name" ? t.name : name === "Value" ? t.value : NO_MEMBER;
    if (name === "Count") return t instanceof JObject ? t.props.size : t.items.length;
    if (name === "First" || name === "Last") {
      const items: readonly JToken[] = t instanceof JObject ? [...t.props.values()] : t.items;
      return (name === "First" ? items[0] : items[items.length - 1]) ?? null;
    }
    return NO_MEMBER;
  }
  const n = args.length;
  switch (name) {
    case "ToString":
      if (n === 0 && t instanceof JValue) return jvalueText(t);
      return writeJson(t, formattingArg(rt, args, what), rt, iterate);
    case "DeepClone":
      if (n !== 0) noOverload(rt, what);
      return cloneToken(t, rt);
    case "SelectToken":
      if (n !== 1) noOverload(rt, what);
      return selectToken(t, str(rt, args[0], what), rt);
    case "Value": {
      if (typeArgs === undefined || typeArgs.length !== 1) noOverload(rt, what);
      if (n === 0) return convertToken(rt, t, typeArgs![0]);
      if (n !== 1 || !isValue(args[0])) noOverload(rt, what);
      return convertToken(rt, indexGet(rt, t, args[0] as Value), typeArgs![0]);
    }
    case "ToObject": {
      if (typeArgs === undefined || typeArgs.length !== 1 || n !== 0) noOverload(rt, what);
      return convertToken(rt, t, typeArgs![0]);
    }
    case "Remove":
      // JToken.Remove(): out of its parent (Newtonsoft.Json.Linq.JToken.Remove); JObject.Remove(name) is below.
      if (n === 0) return removeFromParent(rt, t);
      break;
  }
  if (t instanceof JObject) {
    switch (name) {
      case "Properties":
        if (n !== 0) noOverload(rt, what);
        return ownArray([...t.props.values()]);
      case "Property":
      case "GetValue": {
        if (n < 1 || n > 2) noOverload(rt, what);
        const key = str(rt, args[0], what);
        let p = t.props.get(key);
        if (p === undefined && n === 2 && ignoreCase(rt, args[1], what)) {
          const folded = fold(rt, key);
          for (const [k, prop] of t.props) {
            rt.step();
            if (fold(rt, k) === folded) {
              p = prop;
              break;
            }
          }
        }
        if (p === undefined) return null;
        return name === "Property" ? p : p.value;
      }
      case "ContainsKey":
        if (n !== 1) noOverload(rt, what);
        return t.props.has(str(rt, args[0], what));
      case "Remove": {
        if (n !== 1) noOverload(rt, what);
        const key = str(rt, args[0], what);
        const p = t.props.get(key);
        if (p === undefined) return false;
        p.parent = null;
        t.props.delete(key);
        return true;
      }
      case "Add":
        if (n === 1 && args[0] instanceof JProperty) {
          addProperty(t, args[0], rt);
          return null;
        }
        if (n !== 2 || !isValue(args[1])) noOverload(rt, what);
        addProperty(t, newJProperty(str(rt, args[0], what), [args[1] as Value], rt, iterate), rt);
        return null;
    }
  }
  if (t instanceof JArray) {
    switch (name) {
      case "Add":
        if (n !== 1 || !isValue(args[0])) noOverload(rt, what);
        addArrayItem(t, args[0] as Value, rt, iterate);
        return null;
      case "RemoveAt": {
        if (n !== 1) noOverload(rt, what);
        const i = int(rt, args[0], what);
        if (i < 0 || i >= t.items.length) outOfRange(rt, "index");
        t.items[i]!.parent = null;
        t.items.splice(i, 1);
        return null;
      }
      case "Clear":
        for (const x of t.items) x.parent = null;
        t.items.length = 0;
        return null;
    }
  }
  return NO_MEMBER;
}

