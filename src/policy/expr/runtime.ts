/**
 * policy/expr/runtime — what the interpreter's built-in members need from the evaluation in progress: the step
 * budget, the size caps, the clock, lambda invocation, and C#-style failures. Also the two exceptions evaluation
 * may end with (re-exported by interpret.ts, the public entry point).
 *
 * Contract: a built-in receives an `Rt` and must (1) charge steps for every loop it runs and every chunk of string
 * work (CHARS_PER_STEP), (2) check every string and collection it builds against the caps, and (3) fail only
 * through `rt.fail` — so that nothing but PolicyRuntimeError or StepLimitExceeded ever leaves `evaluate`.
 */
import type { Pos } from "./ast";
import type { Value } from "./host";

/**
 * Why an expression failed, as the .NET exception type APIM would have raised (the policy runner exposes it as
 * context.LastError; APIM reports these with Reason "ExpressionValueEvaluationFailure" and the exception's message).
 */
export type RuntimeReason =
  | "NullReferenceException"
  | "InvalidCastException"
  | "FormatException"
  | "OverflowException"
  | "DivideByZeroException"
  | "ArgumentException"
  | "ArgumentNullException"
  | "ArgumentOutOfRangeException"
  | "IndexOutOfRangeException"
  | "KeyNotFoundException"
  | "InvalidOperationException"
  | "JsonReaderException"
  | "JsonSerializationException"
  /**
   * A member the value's type does not have, or an operator its operands do not support: C# would not have
   * compiled it; we find out at run time, as C# `dynamic` does (hence its exception's name).
   */
  | "RuntimeBinderException"
  /** A string or collection past the caps of limits.ts. */
  | "LimitExceeded"
  /** The compiled tree is malformed (a compiler bug or a tampered bundle). */
  | "InvalidProgram"
  /** A reason raised by a host (HostError.reason), passed through. */
  | (string & {});

/** C#-style runtime failure (null dereference, bad cast, bad format, unknown member …): goes to on-error as context.LastError. */
export class PolicyRuntimeError extends Error {
  constructor(readonly reason: string, message: string, readonly at: Pos, readonly file: string) {
    super(message);
    this.name = "PolicyRuntimeError";
  }
}

/** The step limit ran out (runaway expression). */
export class StepLimitExceeded extends Error {
  constructor(readonly at: Pos, readonly file: string) {
    super(`expression step limit exceeded at ${file}:${at[0]}:${at[1]}`);
    this.name = "StepLimitExceeded";
  }
}

/**
 * A function argument: a lambda closure (interpret.ts) or a static method group such as `char.IsDigit`
 * (statics.ts). Never a Value: functions exist only as arguments of the methods that take them.
 */
export abstract class Fn {
  /** Parameter count (LINQ passes the element index as a second argument when a lambda takes two). */
  abstract readonly arity: number;
}

/** A method argument: a value, or a function for LINQ. */
export type Arg = Value | Fn;

export interface Rt {
  /** Spends `n` steps (default 1); throws StepLimitExceeded when the budget is gone. */
  step(n?: number): void;
  /** Spends the steps for `n` characters of string work. */
  chars(n: number): void;
  /** Checks a built string against MAX_STRING_CHARS (and charges for it); returns it. */
  str(s: string): string;
  /** Checks a collection size against MAX_COLLECTION_ITEMS. */
  items(n: number): void;
  /** Raises a PolicyRuntimeError at the current node. */
  fail(reason: RuntimeReason, message: string): never;
  /** "Now" from the host (context.Timestamp's clock). */
  now(): Date;
  /** Calls a lambda or method group. */
  invoke(fn: Fn, args: readonly Value[]): Value;
}
