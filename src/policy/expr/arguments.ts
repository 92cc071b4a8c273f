/**
 * policy/expr/arguments — checking the arguments of built-in methods, C#-style: a wrong count or type is a
 * RuntimeBinderException ("no overload of X takes these arguments"), as a C# `dynamic` call would raise.
 *
 * Contract: helpers only, each returns the argument as the JS type its caller needs or fails through the Rt.
 */
import type { Value } from "./host";
import { foldCase, numeric } from "./convert";
import { MAX_COLLECTION_ITEMS } from "./limits";
import { Fn, type Arg, type Rt } from "./runtime";
import { CsChar, CsEnum } from "./values";

export function noOverload(rt: Rt, what: string): never {
  return rt.fail("RuntimeBinderException", `no overload of ${what} takes these arguments`);
}

export function isValue(a: Arg | undefined): a is Value {
  return a !== undefined && !(a instanceof Fn);
}

export function str(rt: Rt, a: Arg | undefined, what: string): string {
  if (typeof a !== "string") noOverload(rt, what);
  return a as string;
}

export function int(rt: Rt, a: Arg | undefined, what: string): number {
  if (typeof a === "number") return a;
  if (a instanceof CsChar) return a.code;
  return noOverload(rt, what);
}

export function num(rt: Rt, a: Arg | undefined, what: string): number {
  const n = isValue(a) ? numeric(a) : null;
  if (n === null) noOverload(rt, what);
  return n!;
}

/** A string or char argument as text. */
export function text(rt: Rt, a: Arg | undefined, what: string): string {
  if (typeof a === "string") return a;
  if (a instanceof CsChar) return a.text;
  if (a === null) rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'value')");
  return noOverload(rt, what);
}

/** A StringComparison argument: true for the *IgnoreCase members. */
export function ignoreCase(rt: Rt, a: Arg | undefined, what: string): boolean {
  if (a instanceof CsEnum && a.type === "StringComparison") return a.name.endsWith("IgnoreCase");
  return noOverload(rt, what);
}

export const isComparison = (a: Arg | undefined): boolean => a instanceof CsEnum && a.type === "StringComparison";
export const isCulture = (a: Arg | undefined): boolean => a instanceof CsEnum && a.type === "CultureInfo";

/** Drops a trailing IFormatProvider (CultureInfo.InvariantCulture …): formatting is fixed (format.ts). */
export function withoutCulture(args: readonly Arg[]): readonly Arg[] {
  return args.length > 0 && isCulture(args[args.length - 1]) ? args.slice(0, -1) : args;
}

/** OrdinalIgnoreCase folding, charged. */
export function fold(rt: Rt, s: string): string {
  rt.chars(s.length);
  return foldCase(s);
}

export const WHITESPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;
export const isWhite = (c: string): boolean => WHITESPACE.test(c);

export function outOfRange(rt: Rt, param: string, message = "Index was out of range. Must be non-negative and less than the size of the collection."): never {
  return rt.fail("ArgumentOutOfRangeException", `${message} (Parameter '${param}')`);
}

export function checkItems(rt: Rt, n: number): void {
  if (n > MAX_COLLECTION_ITEMS) rt.fail("LimitExceeded", `collection larger than ${MAX_COLLECTION_ITEMS} items`);
}


/** Comparison of strings by culture (en-US), for CompareTo, string.Compare and OrderBy. */
export const collator = new Intl.Collator("en-US");
