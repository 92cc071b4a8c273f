/**
 * policy/expr/statics — the static side of names.ts: static properties and enum members (`DateTime.UtcNow`,
 * `StringComparison.Ordinal`), static methods (`string.Join`, `int.Parse`, `JObject.Parse`, `Math.Max` …) and
 * `new T(…)` with collection initializers.
 *
 * Contract: implements exactly the members names.ts lets the parser accept (fuzz.test.ts checks the two agree);
 * parsing follows .NET's invariant-culture rules; "now" comes from the Rt (the host's context.Timestamp).
 */
import type { Value } from "./host";
import {
  checkItems, collator, fold, ignoreCase, int, isCulture, isWhite, noOverload, num, outOfRange, str, text, withoutCulture, WHITESPACE,
} from "./arguments";
import { asCast, implicitConvert, isEnumerable, iterate, numeric, roundHalfEven, shortTypeName, toText, typeName } from "./convert";
import { dateMax, dateMin, daysInMonth, isLeapYear, makeDate, parseDate } from "./format";
import { cloneToken, fromObject, newJArray, newJObject, newJProperty, parseJson, tokenType, writeJson } from "./json";
import { ownArray } from "./linq";
import { ENUM_MEMBERS, STATIC_TYPES } from "./names";
import { Fn, type Arg, type Rt } from "./runtime";
import { MS_PER_DAY, callMember, convertToken, listMember, makeTimeSpan } from "./members";
import { TextBuilder, formatComposite } from "./text";
import { computeHash } from "./hashes";
import { newRandom } from "./random";
import { newUri } from "./uri";
import { CsChar, CsDateTimeOffset, CsDouble, CsEncoding, CsEnum, CsGroup, CsGuid, CsHasher, CsMatch, CsList, JArray, JObject, JProperty, JValue, TimeSpan, type JToken } from "./values";
import { compileRegex, execRegex, regexFlags, REGEX_OPTIONS, type CompiledRegex } from "./regex";
import { byteArray, bytesOf, escapeDataString, fromBase64, htmlEncode, newGuidHex, parseGuidHex, toBase64, unescapeDataString, urlDecode, urlEncode } from "./codecs";

/** A static method used as a function argument: `s.All(char.IsDigit)`. */
export class MethodGroup extends Fn {
  readonly arity = 1;
  constructor(readonly type: string, readonly name: string) {
    super();
  }
}

// ── static members ─────────────────────────────────────────────────────────────────────────────────────────

/** `Type.Name` (a static property, field or enum member of names.ts). */
export function getStatic(rt: Rt, type: string, name: string): Value {
  const enumMembers = ENUM_MEMBERS.get(type);
  if (enumMembers !== undefined) {
    if (enumMembers.includes(name)) return new CsEnum(type, name);
    return rt.fail("RuntimeBinderException", `unknown member ${name} on type ${type}`);
  }
  switch (`${type}.${name}`) {
    case "string.Empty":
      return "";
    case "int.MaxValue":
      return 2147483647;
    case "int.MinValue":
      return -2147483648;
    case "long.MaxValue":
      // Int64.MaxValue is not exactly representable here; the largest exact integer stands in for it.
      return Number.MAX_SAFE_INTEGER;
    case "long.MinValue":
      return Number.MIN_SAFE_INTEGER;
    case "DateTime.Now":
    case "DateTime.UtcNow":
      return rt.now();
    case "DateTime.Today": {
      const now = rt.now();
      return makeDate(now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate())!;
    }
    case "DateTime.MinValue":
      return dateMin();
    case "DateTime.MaxValue":
      return dateMax();
    case "TimeSpan.Zero":
      return new TimeSpan(0);
    case "DateTimeOffset.UtcNow":
    case "DateTimeOffset.Now":
      return new CsDateTimeOffset(rt.now());
    case "DateTimeOffset.MinValue":
      return new CsDateTimeOffset(dateMin());
    case "DateTimeOffset.MaxValue":
      return new CsDateTimeOffset(dateMax());
    case "DateTimeOffset.UnixEpoch":
      return new CsDateTimeOffset(new Date(0));
    case "Guid.Empty":
      return new CsGuid("0".repeat(32));
    case "Encoding.UTF8":
      return new CsEncoding("UTF8");
    case "Encoding.ASCII":
      return new CsEncoding("ASCII");
    default:
      return rt.fail("RuntimeBinderException", `unknown member ${name} on type ${type}`);
  }
}

const TIMESPAN_FACTORIES: ReadonlyMap<string, number> = new Map([
  ["FromDays", MS_PER_DAY],
  ["FromHours", 3_600_000],
  ["FromMinutes", 60_000],
  ["FromSeconds", 1000],
  ["FromMilliseconds", 1],
]);

/** Int32/Int64.Parse: optional whitespace and sign, decimal digits. */
function parseInteger(rt: Rt, s: Value, bits: 32 | 64): number {
  if (s === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 's')");
  if (typeof s !== "string") return noOverload(rt, bits === 32 ? "Int32.Parse" : "Int64.Parse");
  rt.chars(s.length);
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) rt.fail("FormatException", `The input string '${s.slice(0, 100)}' was not in a correct format.`);
  const v = Number(t);
  const ok = bits === 32 ? v >= -2147483648 && v <= 2147483647 : Number.isSafeInteger(v);
  if (!ok) rt.fail("OverflowException", `Value was either too large or too small for an ${bits === 32 ? "Int32" : "Int64"}.`);
  return v || 0;
}

/** double.Parse (invariant culture, NumberStyles.Float | AllowThousands). */
function parseDouble(rt: Rt, s: Value): CsDouble {
  if (s === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 's')");
  if (typeof s !== "string") return noOverload(rt, "Double.Parse");
  rt.chars(s.length);
  const t = s.trim();
  if (/^[+-]?(Infinity|∞)$/.test(t)) return new CsDouble(t.startsWith("-") ? -Infinity : Infinity);
  if (t === "NaN") return new CsDouble(NaN);
  if (!/^[+-]?(\d{1,3}(,\d{3})+|\d*)(\.\d*)?([eE][+-]?\d+)?$/.test(t) || !/\d/.test(t)) rt.fail("FormatException", `The input string '${s.slice(0, 100)}' was not in a correct format.`);
  return new CsDouble(Number(t.replaceAll(",", "")));
}

function parseBool(rt: Rt, s: Value): boolean {
  if (s === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'value')");
  if (typeof s !== "string") return noOverload(rt, "Boolean.Parse");
  const t = s.trim().toLowerCase();
  if (t === "true") return true;
  if (t === "false") return false;
  return rt.fail("FormatException", `String '${s.slice(0, 100)}' was not recognized as a valid Boolean.`);
}

function parseDateOrFail(rt: Rt, s: Value): Date {
  if (s === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 's')");
  if (typeof s !== "string") return noOverload(rt, "DateTime.Parse");
  rt.chars(s.length);
  return parseDate(s) ?? rt.fail("FormatException", `String '${s.slice(0, 100)}' was not recognized as a valid DateTime.`);
}

/** string.Join / Concat item text (null → ""). */
function joinItems(rt: Rt, items: Iterable<Value>, sep: string): string {
  const out = new TextBuilder(rt);
  let first = true;
  for (const x of items) {
    rt.step();
    if (!first) out.add(sep);
    out.add(toText(x, rt));
    first = false;
  }
  return out.done();
}

/** Params arguments: `f(a, b, c)`, or `f(array)` passing an array as the params array. */
function paramsItems(rest: readonly Value[]): Iterable<Value> {
  return rest.length === 1 && rest[0] !== null && typeof rest[0] !== "string" && isEnumerable(rest[0]!) ? iterate(rest[0]!) : rest;
}

const CHAR_TESTS: ReadonlyMap<string, RegExp> = new Map([
  ["IsDigit", /^\p{Nd}$/u],
  ["IsLetter", /^\p{L}$/u],
  ["IsLetterOrDigit", /^[\p{L}\p{Nd}]$/u],
  ["IsWhiteSpace", WHITESPACE],
  ["IsUpper", /^\p{Lu}$/u],
  ["IsLower", /^\p{Ll}$/u],
]);

/** `Type.Name(args)` for the static methods of names.ts. */
export function callStatic(rt: Rt, type: string, name: string, rawArgs: readonly Arg[], typeArgs: readonly string[] | undefined): Value {
  const what = `${type}.${name}`;
  if (type === "Array" && name === "Exists") return arrayExists(rt, rawArgs);
  for (const a of rawArgs) if (a instanceof Fn) noOverload(rt, what);
  let args = rawArgs as readonly Value[];
  if (!(type === "string" && name === "Join")) args = withoutCulture(args) as readonly Value[];
  const n = args.length;
  const a0 = args[0] ?? null;
  const a1 = args[1] ?? null;
  switch (type) {
    case "string":
      switch (name) {
        case "IsNullOrEmpty":
          if (n !== 1) noOverload(rt, what);
          return a0 === null || a0 === "" || (typeof a0 !== "string" && noOverload(rt, what));
        case "IsNullOrWhiteSpace":
          if (n !== 1) noOverload(rt, what);
          if (a0 === null) return true;
          return [...str(rt, a0, what)].every(isWhite);
        case "Join": {
          if (n < 1) noOverload(rt, what);
          const sep = a0 === null ? "" : text(rt, a0, what);
          return joinItems(rt, paramsItems(args.slice(1)), sep);
        }
        case "Concat":
          return joinItems(rt, paramsItems(args), "");
        case "Format": {
          const rest = isCulture(a0) ? args.slice(1) : args;
          if (rest.length < 1) noOverload(rt, what);
          if (rest[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'format')");
          const items = rest.length === 2 && Array.isArray(rest[1]) ? (rest[1] as readonly Value[]) : rest.slice(1);
          return formatComposite(rt, str(rt, rest[0], what), items);
        }
        case "Equals": {
          if (n < 2 || n > 3) noOverload(rt, what);
          if (a0 === null || a1 === null) return a0 === a1;
          const x = str(rt, a0, what);
          const y = str(rt, a1, what);
          return n === 3 && ignoreCase(rt, args[2], what) ? fold(rt, x) === fold(rt, y) : x === y;
        }
        case "Compare": {
          if (n < 2 || n > 3) noOverload(rt, what);
          if (a0 === null || a1 === null) return a0 === a1 ? 0 : a0 === null ? -1 : 1;
          const x = str(rt, a0, what);
          const y = str(rt, a1, what);
          const third = args[2];
          if (third === undefined) return collator.compare(x, y);
          if (typeof third === "boolean") return third ? collator.compare(fold(rt, x), fold(rt, y)) : collator.compare(x, y);
          const ic = ignoreCase(rt, third, what);
          const ordinal = (third as CsEnum).name.startsWith("Ordinal");
          const [p, q] = ic ? [fold(rt, x), fold(rt, y)] : [x, y];
          return ordinal ? (p < q ? -1 : p > q ? 1 : 0) : collator.compare(p, q);
        }
      }
      break;
    case "int":
    case "long":
      if (name === "Parse" && n === 1) return parseInteger(rt, a0, type === "int" ? 32 : 64);
      break;
    case "double":
      if (name === "Parse" && n === 1) return parseDouble(rt, a0);
      if (name === "IsNaN" && n === 1) return Number.isNaN(num(rt, a0, what));
      break;
    case "bool":
      if (name === "Parse" && n === 1) return parseBool(rt, a0);
      break;
    case "char": {
      const c = n === 1 && a0 instanceof CsChar ? a0.text : n === 2 && typeof a0 === "string" && typeof a1 === "number" ? (a0[a1] ?? outOfRange(rt, "index")) : noOverload(rt, what);
      const re = CHAR_TESTS.get(name);
      if (re !== undefined) return re.test(c);
      if (name === "ToUpper" || name === "ToLower") {
        if (n !== 1) noOverload(rt, what);
        const m = name === "ToUpper" ? c.toUpperCase() : c.toLowerCase();
        return new CsChar((m.length === 1 ? m : c).charCodeAt(0));
      }
      break;
    }
    case "DateTime":
      switch (name) {
        case "Parse":
          if (n !== 1) noOverload(rt, what);
          return parseDateOrFail(rt, a0);
        case "Compare": {
          if (n !== 2 || !(a0 instanceof Date) || !(a1 instanceof Date)) noOverload(rt, what);
          return Math.sign((a0 as Date).getTime() - (a1 as Date).getTime());
        }
        case "DaysInMonth": {
          if (n !== 2) noOverload(rt, what);
          const y = int(rt, a0, what);
          const m = int(rt, a1, what);
          if (m < 1 || m > 12) outOfRange(rt, "month", "Month must be between one and twelve.");
          if (y < 1 || y > 9999) outOfRange(rt, "year", "Year must be between 1 and 9999.");
          return daysInMonth(y, m);
        }
        case "IsLeapYear": {
          if (n !== 1) noOverload(rt, what);
          const y = int(rt, a0, what);
          if (y < 1 || y > 9999) outOfRange(rt, "year", "Year must be between 1 and 9999.");
          return isLeapYear(y);
        }
      }
      break;
    case "TimeSpan": {
      const scale = TIMESPAN_FACTORIES.get(name);
      if (scale !== undefined) {
        if (n !== 1) noOverload(rt, what);
        return makeTimeSpan(rt, num(rt, a0, what) * scale);
      }
      break;
    }
    case "Math":
      return callMath(rt, name, args, what);
    case "Convert":
      return callConvert(rt, name, args, what);
    case "Guid":
      if (name === "NewGuid") {
        if (n !== 0) noOverload(rt, what);
        return new CsGuid(newGuidHex());
      }
      if (name === "Parse") {
        if (n !== 1) noOverload(rt, what);
        if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'input')");
        const hex = parseGuidHex(str(rt, a0, what));
        return hex === null ? rt.fail("FormatException", "Unrecognized Guid format.") : new CsGuid(hex);
      }
      break;
    case "Regex":
      return callRegex(rt, name, args, what);
    case "DateTimeOffset": {
      // FromUnixTimeSeconds / -Milliseconds: ArgumentOutOfRange outside 0001-01-01 … 9999-12-31 (.NET's range).
      if (n !== 1) noOverload(rt, what);
      const scale = name === "FromUnixTimeSeconds" ? 1000 : name === "FromUnixTimeMilliseconds" ? 1 : null;
      if (scale === null) break;
      const ms = int(rt, a0, what) * scale;
      if (!(ms >= dateMin().getTime() && ms <= dateMax().getTime())) outOfRange(rt, name === "FromUnixTimeSeconds" ? "seconds" : "milliseconds", "Valid values are between -62135596800 and 253402300799, inclusive.");
      return new CsDateTimeOffset(new Date(ms));
    }
    case "SHA1":
    case "SHA256":
    case "SHA384":
    case "SHA512":
      if (name === "Create") {
        if (n !== 0) noOverload(rt, what);
        return new CsHasher(type, null);
      }
      if (name === "HashData") {
        if (n !== 1) noOverload(rt, what);
        if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'source')");
        const data = bytesOf(a0) ?? noOverload(rt, what);
        rt.chars(data.length);
        return byteArray(computeHash(type, null, data));
      }
      break;
    case "Uri":
    case "WebUtility": {
      if (n !== 1) noOverload(rt, what);
      // WebUtility answers null for null; Uri's methods throw.
      if (a0 === null) return type === "WebUtility" ? null : rt.fail("ArgumentNullException", `Value cannot be null. (Parameter '${name === "EscapeDataString" ? "stringToEscape" : "stringToUnescape"}')`);
      const s = str(rt, a0, what);
      rt.chars(s.length * 3);
      const codec = name === "EscapeDataString" ? escapeDataString : name === "UnescapeDataString" ? unescapeDataString : name === "UrlEncode" ? urlEncode : name === "UrlDecode" ? urlDecode : name === "HtmlEncode" ? htmlEncode : null;
      if (codec === null) break;
      return rt.str(codec(s));
    }
    case "JObject":
    case "JArray":
    case "JToken": {
      if (n !== 1) noOverload(rt, what);
      let token: JToken;
      if (name === "Parse") {
        if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'json')");
        token = parseJson(str(rt, a0, what), rt);
      } else if (name === "FromObject") {
        if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'o')");
        token = fromObject(a0, rt, iterate);
      } else break;
      if (type === "JObject" && !(token instanceof JObject)) {
        rt.fail(name === "Parse" ? "JsonReaderException" : "ArgumentException", name === "Parse" ? `Error reading JObject from JsonReader. Current JsonReader item is not an object: ${tokenType(token)}.` : `Object serialized to ${tokenType(token)}. JObject instance expected.`);
      }
      if (type === "JArray" && !(token instanceof JArray)) {
        rt.fail(name === "Parse" ? "JsonReaderException" : "ArgumentException", name === "Parse" ? `Error reading JArray from JsonReader. Current JsonReader item is not an array: ${tokenType(token)}.` : `Object serialized to ${tokenType(token)}. JArray instance expected.`);
      }
      return token;
    }
    case "JsonConvert":
      if (name === "SerializeObject") {
        if (n < 1 || n > 2) noOverload(rt, what);
        const indented = n === 2 ? a1 instanceof CsEnum && a1.type === "Formatting" ? a1.name === "Indented" : noOverload(rt, what) : false;
        return writeJson(a0, indented, rt, iterate);
      }
      if (name === "DeserializeObject") {
        if (n !== 1) noOverload(rt, what);
        if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'value')");
        const s = str(rt, a0, what);
        if (s.trim() === "") return null;
        const token = parseJson(s, rt);
        const t = typeArgs?.[0];
        if (t === undefined || t === "object" || t === "JToken") return token instanceof JValue ? (token.value as Value) : token;
        if (t === "JObject" || t === "JArray") {
          const r = asCast(t, token);
          if (r === null) rt.fail("InvalidCastException", `Unable to cast object of type '${typeName(token)}' to type 'Newtonsoft.Json.Linq.${t}'.`);
          return r;
        }
        if (token instanceof JValue) return convertToken(rt, token, t);
        return rt.fail("JsonSerializationException", `Cannot deserialize the current JSON ${tokenType(token).toLowerCase()} into type '${t}'.`);
      }
      break;
  }
  if (STATIC_TYPES.get(type)?.methods.has(name)) noOverload(rt, what);
  return rt.fail("RuntimeBinderException", `unknown member ${name} on type ${type}`);
}

function callMath(rt: Rt, name: string, args: readonly Value[], what: string): Value {
  const n = args.length;
  const allInt = args.every((a) => typeof a === "number" || a instanceof CsChar);
  const xs = args.map((a) => num(rt, a, what));
  switch (name) {
    case "Min":
    case "Max": {
      if (n !== 2) noOverload(rt, what);
      const [x, y] = xs as [number, number];
      const r = Number.isNaN(x) || Number.isNaN(y) ? NaN : name === "Min" ? Math.min(x, y) : Math.max(x, y);
      return allInt ? r : new CsDouble(r);
    }
    case "Abs":
      if (n !== 1) noOverload(rt, what);
      if (allInt && xs[0] === -2147483648 && typeof args[0] === "number") rt.fail("OverflowException", "Negating the minimum value of a twos complement number is invalid.");
      return allInt ? Math.abs(xs[0]!) : new CsDouble(Math.abs(xs[0]!));
    case "Floor":
    case "Ceiling":
      if (n !== 1) noOverload(rt, what);
      return new CsDouble(name === "Floor" ? Math.floor(xs[0]!) : Math.ceil(xs[0]!));
    case "Round": {
      if (n < 1 || n > 2) noOverload(rt, what);
      const digits = n === 2 ? int(rt, args[1], what) : 0;
      if (digits < 0 || digits > 15) outOfRange(rt, "digits", "Rounding digits must be between 0 and 15, inclusive.");
      const p = 10 ** digits;
      const x = xs[0]!;
      return new CsDouble(Number.isFinite(x) ? roundHalfEven(x * p) / p : x);
    }
  }
  return noOverload(rt, what);
}

function regexOf(rt: Rt, pattern: Value, options: Value | undefined, what: string): CompiledRegex {
  if (pattern === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'pattern')");
  let option: string | null = null;
  if (options !== undefined) {
    if (!(options instanceof CsEnum && options.type === "RegexOptions")) noOverload(rt, what);
    const o = options as CsEnum;
    if (!REGEX_OPTIONS.has(o.name)) rt.fail("NotSupportedException", `RegexOptions.${o.name} is not supported`);
    option = o.name;
  }
  const p = str(rt, pattern, what);
  const r = compileRegex(p, regexFlags(option));
  if (!r.ok) return rt.fail("RegexParseException", `Invalid pattern '${p}' at offset ${r.index}. ${r.message}`);
  return r.regex;
}

function matchAt(rt: Rt, re: CompiledRegex, input: string, from: number): CsMatch | null {
  const caps = execRegex(re, input, from, (n) => rt.step(n));
  if (caps === null) return null;
  const groups: CsGroup[] = [];
  for (let g = 0; g < re.groups; g++) groups.push(new CsGroup(input, caps[2 * g]!, caps[2 * g + 1]!, re.names[g]!));
  return new CsMatch(input, groups);
}

/** Every match, left to right; after an empty match the next attempt starts one character later (.NET). */
function allMatches(rt: Rt, re: CompiledRegex, input: string): CsMatch[] {
  const out: CsMatch[] = [];
  let at = 0;
  while (at <= input.length) {
    const m = matchAt(rt, re, input, at);
    if (m === null) break;
    out.push(m);
    rt.items(out.length);
    at = m.end > m.start ? m.end : m.end + 1;
  }
  return out;
}

/** .NET replacement patterns: $n, ${name}, $$, $&, $`, $', $+, $_; anything else is literal. */
function substitute(m: CsMatch, replacement: string): string {
  let out = "";
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    if (c !== "$" || i + 1 >= replacement.length) {
      out += c;
      continue;
    }
    const n = replacement[i + 1]!;
    const named = /^\{([A-Za-z0-9_]+)\}/.exec(replacement.slice(i + 1));
    const digits = /^[0-9]+/.exec(replacement.slice(i + 1));
    const group = (key: string) => m.groups.find((g) => g.name === key);
    if (n === "$") {
      out += "$";
      i++;
    } else if (n === "&") {
      out += m.value;
      i++;
    } else if (n === "`") {
      out += m.input.slice(0, m.start);
      i++;
    } else if (n === "'") {
      out += m.input.slice(m.end);
      i++;
    } else if (n === "+") {
      out += m.groups.length > 1 ? m.groups[m.groups.length - 1]!.value : "";
      i++;
    } else if (n === "_") {
      out += m.input;
      i++;
    } else if (named && group(named[1]!)) {
      out += group(named[1]!)!.value;
      i += named[0].length;
    } else if (digits) {
      // The longest run of digits that names a group (.NET reads $10 as group 10 only if it exists).
      let k = digits[0].length;
      while (k > 0 && !group(String(Number(digits[0].slice(0, k))))) k--;
      if (k === 0) out += c;
      else {
        out += group(String(Number(digits[0].slice(0, k))))!.value;
        i += k;
      }
    } else out += c;
  }
  return out;
}

function callRegex(rt: Rt, name: string, args: readonly Value[], what: string): Value {
  const n = args.length;
  if (name === "Escape") {
    if (n !== 1) noOverload(rt, what);
    if (args[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'str')");
    const s = str(rt, args[0], what);
    rt.chars(s.length);
    // Regex.Escape: \, *, +, ?, |, {, [, (, ), ^, $, ., #, space as escapes; \t \n \f \r as their escapes.
    return rt.str(s.replace(/[\\*+?|{[()^$.# \t\n\f\r]/g, (c) => (c === "\t" ? "\\t" : c === "\n" ? "\\n" : c === "\f" ? "\\f" : c === "\r" ? "\\r" : `\\${c}`)));
  }
  const replace = name === "Replace";
  if (n < (replace ? 3 : 2) || n > (replace ? 4 : 3)) noOverload(rt, what);
  if (args[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'input')");
  const input = str(rt, args[0], what);
  const re = regexOf(rt, args[1]!, args[replace ? 3 : 2], what);
  switch (name) {
    case "IsMatch":
      return matchAt(rt, re, input, 0) !== null;
    case "Match":
      return matchAt(rt, re, input, 0) ?? new CsMatch(input, [new CsGroup(input, -1, -1, "0")]);
    case "Matches":
      return ownArray(allMatches(rt, re, input));
    case "Replace": {
      if (args[2] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'replacement')");
      const replacement = str(rt, args[2], what);
      const out = new TextBuilder(rt);
      let at = 0;
      for (const m of allMatches(rt, re, input)) {
        out.add(input.slice(at, m.start));
        out.add(substitute(m, replacement));
        at = m.end;
      }
      out.add(input.slice(at));
      return out.done();
    }
  }
  return noOverload(rt, what);
}

/** Convert.ToBase64String(byte[] [, offset, length]) and Convert.FromBase64String(string) (codecs.ts). */
function callBase64(rt: Rt, name: string, args: readonly Value[], what: string): Value {
  const a0 = args[0] ?? null;
  if (name === "FromBase64String") {
    if (args.length !== 1) noOverload(rt, what);
    if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 's')");
    const s = str(rt, a0, what);
    rt.chars(s.length);
    const r = fromBase64(s);
    if (!(r instanceof Uint8Array)) return rt.fail(r.reason, r.message);
    rt.items(r.length);
    return byteArray(r);
  }
  if (args.length !== 1 && args.length !== 3) noOverload(rt, what);
  if (a0 === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'inArray')");
  let bytes = bytesOf(a0) ?? noOverload(rt, what);
  if (args.length === 3) {
    const offset = int(rt, args[1], what);
    const length = int(rt, args[2], what);
    if (offset < 0 || length < 0) outOfRange(rt, offset < 0 ? "offset" : "length", "Value must be positive.");
    if (offset > bytes.length - length) outOfRange(rt, "offset", "Offset and length must refer to a position in the string.");
    bytes = bytes.subarray(offset, offset + length);
  }
  rt.chars(bytes.length * 2);
  return rt.str(toBase64(bytes));
}

function callConvert(rt: Rt, name: string, args: readonly Value[], what: string): Value {
  if (name === "ToBase64String" || name === "FromBase64String") return callBase64(rt, name, args, what);
  if (name === "ToHexString") {
    // Convert.ToHexString(byte[]): uppercase hex, two digits a byte (.NET 5).
    if (args.length !== 1) noOverload(rt, what);
    if (args[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'inArray')");
    const bytes = bytesOf(args[0]!) ?? noOverload(rt, what);
    rt.chars(bytes.length * 2);
    let hex = "";
    for (const b of bytes) hex += (b < 16 ? "0" : "") + b.toString(16).toUpperCase();
    return rt.str(hex);
  }
  if (args.length !== 1) noOverload(rt, what);
  const v = args[0]!;
  switch (name) {
    case "ToInt32":
    case "ToInt64": {
      const bits = name === "ToInt32" ? 32 : 64;
      if (v === null) return 0;
      if (typeof v === "string") return parseInteger(rt, v, bits);
      if (typeof v === "boolean") return v ? 1 : 0;
      if (v instanceof JValue) return convertToken(rt, v, bits === 32 ? "int" : "long");
      const x = numeric(v);
      if (x === null) return rt.fail("InvalidCastException", `Unable to cast object of type '${typeName(v)}' to type 'System.IConvertible'.`);
      const r = v instanceof CsDouble ? roundHalfEven(x) : x;
      if (!Number.isFinite(r) || (bits === 32 ? r < -2147483648 || r > 2147483647 : !Number.isSafeInteger(r))) {
        rt.fail("OverflowException", `Value was either too large or too small for an Int${bits}.`);
      }
      return r;
    }
    case "ToDouble": {
      if (v === null) return new CsDouble(0);
      if (typeof v === "string") return parseDouble(rt, v);
      if (typeof v === "boolean") return new CsDouble(v ? 1 : 0);
      if (v instanceof JValue) return convertToken(rt, v, "double");
      const x = numeric(v);
      if (x === null || v instanceof CsChar) return rt.fail("InvalidCastException", `Invalid cast from '${shortTypeName(v)}' to 'Double'.`);
      return new CsDouble(x);
    }
    case "ToBoolean": {
      if (v === null) return false;
      if (typeof v === "boolean") return v;
      if (typeof v === "string") return parseBool(rt, v);
      if (v instanceof JValue) return convertToken(rt, v, "bool");
      const x = numeric(v);
      if (x === null || v instanceof CsChar) return rt.fail("InvalidCastException", `Invalid cast from '${shortTypeName(v)}' to 'Boolean'.`);
      return x !== 0;
    }
    case "ToString":
      return toText(v, rt);
    case "ToDateTime":
      if (v === null) return dateMin();
      if (v instanceof Date) return v;
      if (typeof v === "string") return parseDateOrFail(rt, v);
      if (v instanceof JValue) return convertToken(rt, v, "DateTime");
      return rt.fail("InvalidCastException", `Invalid cast from '${shortTypeName(v)}' to 'DateTime'.`);
  }
  return noOverload(rt, what);
}

// ── constructors ───────────────────────────────────────────────────────────────────────────────────────────

/** `new T(args)` then, for a collection initializer, one `Add(…)` per entry. */
export function construct(rt: Rt, type: string, args: readonly Arg[], items: ReadonlyArray<readonly Value[]> | undefined): Value {
  const what = `new ${type}`;
  for (const a of args) if (a instanceof Fn) noOverload(rt, what);
  const values = args as readonly Value[];
  const n = values.length;
  let made: Value;
  const generic = /^List<(.+)>$/.exec(type);
  if (generic) {
    const list = new CsList([], generic[1]!);
    if (n === 1 && values[0] !== null && typeof values[0] !== "number" && isEnumerable(values[0]!)) listMember(rt, list, "AddRange", [values[0]!]);
    else if (n > 1 || (n === 1 && typeof values[0] !== "number")) noOverload(rt, what);
    made = list;
  } else {
    switch (type) {
      case "JObject":
        made = newJObject(values, rt, iterate);
        break;
      case "JArray":
        made = newJArray(values, rt, iterate);
        break;
      case "JProperty":
        if (n < 1) noOverload(rt, what);
        if (values[0] instanceof JProperty && n === 1) made = cloneToken(values[0], rt);
        else made = newJProperty(str(rt, values[0], what), values.slice(1), rt, iterate);
        break;
      case "JValue": {
        if (n !== 1) noOverload(rt, what);
        const v = values[0]!;
        if (v instanceof JValue) made = new JValue(v.value, v.dateKind);
        else made = newJArray([v], rt, iterate).items[0] ?? noOverload(rt, what);
        if (!(made instanceof JValue)) noOverload(rt, what);
        break;
      }
      case "TimeSpan": {
        const xs = values.map((v) => int(rt, v, what));
        if (n === 1) made = makeTimeSpan(rt, xs[0]! / 10_000);
        else if (n === 3) made = makeTimeSpan(rt, ((xs[0]! * 60 + xs[1]!) * 60 + xs[2]!) * 1000);
        else if (n === 4 || n === 5) made = makeTimeSpan(rt, (((xs[0]! * 24 + xs[1]!) * 60 + xs[2]!) * 60 + xs[3]!) * 1000 + (xs[4] ?? 0));
        else noOverload(rt, what);
        break;
      }
      case "HMACSHA1":
      case "HMACSHA256":
      case "HMACSHA384":
      case "HMACSHA512": {
        // new HMACSHA256() would make a random key, which no policy can use: the key is required here.
        if (n !== 1) noOverload(rt, what);
        if (values[0] === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'key')");
        const key = bytesOf(values[0]!) ?? noOverload(rt, what);
        made = new CsHasher(type.slice(4) as CsHasher["algorithm"], key);
        break;
      }
      case "Random":
        made = newRandom(rt, values);
        break;
      case "Uri":
        made = newUri(rt, values);
        break;
      case "DateTimeOffset": {
        // new DateTimeOffset(DateTime) only (the checker refuses the other overloads): a Utc DateTime gets offset
        // zero, a Local or Unspecified one the local zone's offset — zero here, the edge's zone being UTC, so the
        // instant is the DateTime's (docs.microsoft.com/dotnet/api/system.datetimeoffset.-ctor, DateTimeOffset(DateTime)).
        if (n !== 1 || !(values[0] instanceof Date)) noOverload(rt, what);
        made = new CsDateTimeOffset(new Date((values[0] as Date).getTime()));
        break;
      }
      case "DateTime": {
        if (n !== 3 && n !== 6 && n !== 7) noOverload(rt, what);
        const xs = values.map((v) => int(rt, v, what));
        made = makeDate(xs[0]!, xs[1]!, xs[2]!, xs[3] ?? 0, xs[4] ?? 0, xs[5] ?? 0, xs[6] ?? 0) ?? outOfRange(rt, "year", "Year, Month, and Day parameters describe an un-representable DateTime.");
        break;
      }
      default:
        return rt.fail("RuntimeBinderException", `cannot construct type ${type}`);
    }
  }
  for (const entry of items ?? []) {
    rt.step();
    if (made instanceof CsList || made instanceof JArray || made instanceof JObject) callMember(rt, made, "Add", entry, undefined);
    else noOverload(rt, `${type} collection initializer`);
  }
  return made!;
}

/**
 * Array.Exists(array, match) (https://learn.microsoft.com/dotnet/api/system.array.exists): whether some element
 * matches the predicate, tested in order, stopping at the first; a null array or predicate is an
 * ArgumentNullException. One step per element tested.
 */
function arrayExists(rt: Rt, args: readonly Arg[]): boolean {
  if (args.length !== 2) noOverload(rt, "Array.Exists");
  const [array, match] = args;
  if (array === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'array')");
  if (match === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'match')");
  if (!(match instanceof Fn) || !Array.isArray(array)) return noOverload(rt, "Array.Exists");
  for (const x of array as readonly Value[]) {
    rt.step();
    const r = rt.invoke(match, [x]);
    if (typeof r !== "boolean") rt.fail("InvalidCastException", `Cannot implicitly convert type '${shortTypeName(r)}' to 'bool'`);
    if (r) return true;
  }
  return false;
}

/** Arrays from `new[] { … }` / `new T[] { … }`: items converted to the element type. */
export function makeArray(rt: Rt, element: string | null, items: readonly Value[]): Value[] {
  checkItems(rt, items.length);
  if (element === null) return ownArray([...items]);
  return ownArray(
    items.map((x) => {
      const r = implicitConvert(element, x);
      if (!r.ok) rt.fail(r.reason, r.message);
      return r.v;
    }),
  );
}

