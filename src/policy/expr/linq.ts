/**
 * policy/expr/linq — System.Linq.Enumerable over anything IEnumerable (arrays, lists, dictionaries as KeyValue
 * entries, strings as chars, JArray items, JObject properties, and other LINQ results).
 *
 * Contract: C#'s semantics, including deferred execution (Where/Select/Skip/Take/Distinct/Concat/OfType/Cast return
 * a LazySeq that re-runs when enumerated, so `xs.Select(f).First()` calls f once). Every element an operator
 * pulls costs one step, every lambda call costs its body's steps; collections built here respect
 * MAX_COLLECTION_ITEMS. Returns NO_MEMBER for a name that is not a LINQ method.
 */
import type { Value } from "./host";
import { compareValues, csEquals, explicitCast, foldCase, isOfType, iterate, numeric, shortTypeName, toText } from "./convert";
import { MAX_COLLECTION_ITEMS } from "./limits";
import { Fn, type Arg, type Rt } from "./runtime";
import { CsChar, CsDouble, CsEnum, CsList, LazySeq, TimeSpan } from "./values";

export const NO_MEMBER: unique symbol = Symbol("no member");

/** Names this module implements (for error messages and the consistency test). */
export const LINQ_METHODS: ReadonlySet<string> = new Set([
  "Any", "All", "Count", "LongCount", "Where", "Select", "SelectMany", "First", "FirstOrDefault", "Last", "LastOrDefault", "Single", "SingleOrDefault",
  "ElementAt", "ElementAtOrDefault", "Contains", "Distinct", "Skip", "Take", "SkipWhile", "TakeWhile", "Concat", "Reverse", "ToArray", "ToList",
  "Sum", "Min", "Max", "Average", "OrderBy", "OrderByDescending", "Cast", "OfType", "ToDictionary",
]);

/** Interpreter-made arrays (mutable by indexer assignment); arrays from hosts are read-only. */
export const ownArrays = new WeakSet<readonly Value[]>();

export function ownArray(items: Value[]): Value[] {
  ownArrays.add(items);
  return items;
}

function bad(rt: Rt, name: string): never {
  return rt.fail("RuntimeBinderException", `no overload of Enumerable.${name} takes these arguments`);
}

function fnArg(rt: Rt, args: readonly Arg[], i: number, name: string): Fn {
  const a = args[i];
  if (!(a instanceof Fn)) bad(rt, name);
  return a as Fn;
}

function valueArg(rt: Rt, args: readonly Arg[], i: number, name: string): Value {
  const a = args[i];
  if (a === undefined || a instanceof Fn) bad(rt, name);
  return a as Value;
}

/** Calls a predicate; a non-bool result is an InvalidCastException (C# would not compile it). */
function test(rt: Rt, fn: Fn, x: Value, i: number): boolean {
  const r = rt.invoke(fn, fn.arity >= 2 ? [x, i] : [x]);
  if (typeof r !== "boolean") rt.fail("InvalidCastException", `Cannot implicitly convert type '${shortTypeName(r)}' to 'bool'`);
  return r;
}

function map(rt: Rt, fn: Fn, x: Value, i: number): Value {
  return rt.invoke(fn, fn.arity >= 2 ? [x, i] : [x]);
}

/** Enumerates with one step per element. */
function* pull(rt: Rt, src: Value): Generator<Value> {
  for (const x of iterate(src)) {
    rt.step();
    yield x;
  }
}

function lazy(gen: () => Generator<Value>): LazySeq {
  return new LazySeq(() => gen());
}

function collect(rt: Rt, src: Value): Value[] {
  const out: Value[] = [];
  for (const x of pull(rt, src)) {
    if (out.length >= MAX_COLLECTION_ITEMS) rt.fail("LimitExceeded", `collection larger than ${MAX_COLLECTION_ITEMS} items`);
    out.push(x);
  }
  return out;
}

function count(rt: Rt, a: Value): number {
  const n = numeric(a);
  if (typeof a !== "number" && !(a instanceof CsChar)) rt.fail("RuntimeBinderException", "an int argument was expected");
  return n!;
}

/** A StringComparer argument (`StringComparer.OrdinalIgnoreCase`): true when it ignores case; null when absent. */
function comparerArg(rt: Rt, a: Arg | undefined, name: string): boolean | null {
  if (a === undefined) return null;
  if (a instanceof CsEnum && a.type === "StringComparer") return a.name.endsWith("IgnoreCase");
  return bad(rt, name);
}

/** Equality under an optional case-insensitive string comparer. */
function equalsWith(ignoreCase: boolean | null, a: Value, b: Value): boolean {
  if (ignoreCase === true && typeof a === "string" && typeof b === "string") return a === b || foldCase(a) === foldCase(b);
  return csEquals(a, b);
}

/** A key for Distinct: primitives by value, everything else by identity. */
function distinctKey(v: Value, ignoreCase: boolean | null = null): unknown {
  if (v === null) return "n:";
  if (typeof v === "string") return "s:" + (ignoreCase === true ? foldCase(v) : v);
  if (typeof v === "boolean") return "b:" + v;
  const n = numeric(v);
  if (n !== null) return "d:" + n;
  if (v instanceof Date) return "t:" + v.getTime();
  if (v instanceof TimeSpan) return "ts:" + v.ms;
  return v;
}

const collator = new Intl.Collator("en-US");

/** Comparer<T>.Default: strings by culture (en-US), numbers, dates, time spans, bools; nulls first. */
function defaultCompare(rt: Rt, a: Value, b: Value): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (typeof a === "string" && typeof b === "string") return collator.compare(a, b);
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  const c = compareValues(a, b);
  if (c === null || Number.isNaN(c)) rt.fail("InvalidOperationException", "Failed to compare two elements in the array.");
  return c!;
}

/** Runs LINQ method `name` on `src`; NO_MEMBER if there is no such method. */
export function callLinq(rt: Rt, src: Value, name: string, args: readonly Arg[], typeArgs: readonly string[] | undefined): Value | typeof NO_MEMBER {
  const n = args.length;
  switch (name) {
    case "Any": {
      if (n > 1) bad(rt, name);
      const pred = n === 1 ? fnArg(rt, args, 0, name) : null;
      let i = 0;
      for (const x of pull(rt, src)) if (pred === null || test(rt, pred, x, i++)) return true;
      return false;
    }
    case "All": {
      if (n !== 1) bad(rt, name);
      const pred = fnArg(rt, args, 0, name);
      let i = 0;
      for (const x of pull(rt, src)) if (!test(rt, pred, x, i++)) return false;
      return true;
    }
    case "Count":
    case "LongCount": {
      if (n > 1) bad(rt, name);
      const pred = n === 1 ? fnArg(rt, args, 0, name) : null;
      let c = 0;
      let i = 0;
      for (const x of pull(rt, src)) if (pred === null || test(rt, pred, x, i++)) c++;
      return c;
    }
    case "Where":
    case "TakeWhile":
    case "SkipWhile": {
      if (n !== 1) bad(rt, name);
      const pred = fnArg(rt, args, 0, name);
      return lazy(function* () {
        let i = 0;
        let skipping = true;
        for (const x of pull(rt, src)) {
          const ok = name === "SkipWhile" && !skipping ? true : test(rt, pred, x, i);
          i++;
          if (name === "Where") {
            if (ok) yield x;
          } else if (name === "TakeWhile") {
            if (!ok) return;
            yield x;
          } else {
            if (skipping && ok) continue;
            skipping = false;
            yield x;
          }
        }
      });
    }
    case "Select": {
      if (n !== 1) bad(rt, name);
      const fn = fnArg(rt, args, 0, name);
      return lazy(function* () {
        let i = 0;
        for (const x of pull(rt, src)) yield map(rt, fn, x, i++);
      });
    }
    case "SelectMany": {
      if (n !== 1) bad(rt, name);
      const fn = fnArg(rt, args, 0, name);
      return lazy(function* () {
        let i = 0;
        for (const x of pull(rt, src)) {
          const inner = map(rt, fn, x, i++);
          if (inner === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'source')");
          for (const y of pull(rt, inner)) yield y;
        }
      });
    }
    case "First":
    case "FirstOrDefault":
    case "Single":
    case "SingleOrDefault":
    case "Last":
    case "LastOrDefault": {
      if (n > 1) bad(rt, name);
      const pred = n === 1 ? fnArg(rt, args, 0, name) : null;
      const orDefault = name.endsWith("OrDefault");
      const kind = name.replace("OrDefault", "");
      let found = false;
      let result: Value = null;
      let i = 0;
      for (const x of pull(rt, src)) {
        if (pred !== null && !test(rt, pred, x, i++)) continue;
        if (kind === "First") return x;
        if (kind === "Single" && found) rt.fail("InvalidOperationException", pred ? "Sequence contains more than one matching element" : "Sequence contains more than one element");
        found = true;
        result = x;
      }
      if (!found && !orDefault) rt.fail("InvalidOperationException", pred ? "Sequence contains no matching element" : "Sequence contains no elements");
      return result;
    }
    case "ElementAt":
    case "ElementAtOrDefault": {
      if (n !== 1) bad(rt, name);
      const index = count(rt, valueArg(rt, args, 0, name));
      let i = 0;
      for (const x of pull(rt, src)) if (i++ === index) return x;
      if (name === "ElementAt") rt.fail("ArgumentOutOfRangeException", "Index was out of range. Must be non-negative and less than the size of the collection. (Parameter 'index')");
      return null;
    }
    case "Contains": {
      if (n < 1 || n > 2) bad(rt, name);
      const needle = valueArg(rt, args, 0, name);
      const ignoreCase = comparerArg(rt, args[1], name);
      for (const x of pull(rt, src)) if (equalsWith(ignoreCase, x, needle)) return true;
      return false;
    }
    case "Distinct": {
      if (n > 1) bad(rt, name);
      const ignoreCase = comparerArg(rt, args[0], name);
      return lazy(function* () {
        const seen = new Set<unknown>();
        for (const x of pull(rt, src)) {
          const key = distinctKey(x, ignoreCase);
          if (seen.has(key)) continue;
          if (seen.size >= MAX_COLLECTION_ITEMS) rt.fail("LimitExceeded", `collection larger than ${MAX_COLLECTION_ITEMS} items`);
          seen.add(key);
          yield x;
        }
      });
    }
    case "Skip":
    case "Take": {
      if (n !== 1) bad(rt, name);
      const k = count(rt, valueArg(rt, args, 0, name));
      return lazy(function* () {
        let i = 0;
        if (name === "Take" && k <= 0) return;
        for (const x of pull(rt, src)) {
          i++;
          if (name === "Skip") {
            if (i > k) yield x;
          } else {
            yield x;
            if (i >= k) return;
          }
        }
      });
    }
    case "Concat": {
      if (n !== 1) bad(rt, name);
      const other = valueArg(rt, args, 0, name);
      if (other === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'second')");
      return lazy(function* () {
        yield* pull(rt, src);
        yield* pull(rt, other);
      });
    }
    case "Reverse": {
      if (n !== 0) bad(rt, name);
      return lazy(function* () {
        yield* collect(rt, src).reverse();
      });
    }
    case "ToArray":
      if (n !== 0) bad(rt, name);
      return ownArray(collect(rt, src));
    case "ToList":
      if (n !== 0) bad(rt, name);
      return new CsList(collect(rt, src), "object");
    case "Sum":
    case "Average":
    case "Min":
    case "Max": {
      if (n > 1) bad(rt, name);
      const sel = n === 1 ? fnArg(rt, args, 0, name) : null;
      let acc: Value = null;
      let total = 0;
      let c = 0;
      let seen = 0;
      let allInt = true;
      let i = 0;
      for (const raw of pull(rt, src)) {
        const x = sel === null ? raw : map(rt, sel, raw, i++);
        seen++;
        if (x === null) continue;
        if (name === "Sum" || name === "Average") {
          const v = numeric(x);
          if (v === null || x instanceof CsChar) rt.fail("RuntimeBinderException", `Enumerable.${name} needs numbers, not ${shortTypeName(x)}`);
          if (!(typeof x === "number")) allInt = false;
          total += v!;
          c++;
        } else {
          if (acc === null || (name === "Min" ? defaultCompare(rt, x, acc) < 0 : defaultCompare(rt, x, acc) > 0)) acc = x;
          c++;
        }
      }
      if (name === "Sum") {
        if (allInt && !Number.isSafeInteger(total)) rt.fail("OverflowException", "Arithmetic operation resulted in an overflow.");
        return allInt ? total : new CsDouble(total);
      }
      // An empty sequence has no minimum; a sequence of nulls (Nullable<T>) has a null one.
      if (seen === 0) rt.fail("InvalidOperationException", "Sequence contains no elements");
      if (c === 0) return null;
      if (name === "Average") return new CsDouble(total / c);
      return acc;
    }
    case "OrderBy":
    case "OrderByDescending": {
      if (n !== 1) bad(rt, name);
      const keyOf = fnArg(rt, args, 0, name);
      return lazy(function* () {
        const items = collect(rt, src);
        const keyed = items.map((x, i) => ({ x, key: map(rt, keyOf, x, i), i }));
        // Charge the sort's comparisons (n log n) before running it.
        rt.step(Math.ceil(keyed.length * Math.log2(keyed.length + 1)));
        const sign = name === "OrderBy" ? 1 : -1;
        keyed.sort((a, b) => sign * defaultCompare(rt, a.key, b.key) || a.i - b.i);
        for (const k of keyed) yield k.x;
      });
    }
    case "ToDictionary": {
      // Dictionary<TKey, TValue> with string keys (the only dictionaries a policy meets); other keys use their text.
      // (A comparer argument is not supported: our dictionaries look keys up ordinally.)
      if (n < 1 || n > 2) bad(rt, name);
      const keyOf = fnArg(rt, args, 0, name);
      const valueOf = n === 2 ? fnArg(rt, args, 1, name) : null;
      const out = new Map<string, Value>();
      let i = 0;
      for (const x of pull(rt, src)) {
        const k = map(rt, keyOf, x, i);
        if (k === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'key')");
        const key = typeof k === "string" ? k : toText(k, rt);
        if (out.has(key)) rt.fail("ArgumentException", `An item with the same key has already been added. Key: ${key}`);
        if (out.size >= MAX_COLLECTION_ITEMS) rt.fail("LimitExceeded", `collection larger than ${MAX_COLLECTION_ITEMS} items`);
        out.set(key, valueOf === null ? x : map(rt, valueOf, x, i));
        i++;
      }
      return out;
    }
    case "Cast":
    case "OfType": {
      const type = typeArgs?.[0];
      if (n !== 0 || type === undefined || typeArgs!.length !== 1) bad(rt, name);
      return lazy(function* () {
        for (const x of pull(rt, src)) {
          if (name === "OfType") {
            if (isOfType(type!, x)) yield x;
            continue;
          }
          const r = explicitCast(type!, x);
          if (!r.ok) rt.fail(r.reason, r.message);
          yield r.v;
        }
      });
    }
    default:
      return NO_MEMBER;
  }
}
