/**
 * The boundary between the expression interpreter and the objects policies can see (`context` and what
 * hangs off it). The interpreter has no other access to the host: an expression can reach only what a
 * HostObject exposes by name.
 *
 * Contract: synchronous and pure from the interpreter's point of view (anything that needs I/O — path
 * validation for `Verify()` — is computed by the policy runner before evaluation and served from here).
 *
 * Values crossing the boundary:
 * - `null`, `boolean`, `string`;
 * - `number`: an integer (C# int/long) from hosts (Port, Length, Count, Version…);
 * - `Date`: a DateTime (always UTC at the edge);
 * - `readonly Value[]`: an IEnumerable / array;
 * - `ReadonlyMap<string, Value>`: a dictionary (`.Key`/`.Value` entries when enumerated);
 * - `HostObject`: anything else.
 * The interpreter adds its own runtime values on top (doubles, TimeSpan, JObject, anonymous objects…).
 */

export type Value = null | boolean | string | number | Date | readonly Value[] | ReadonlyMap<string, Value> | HostObject | InterpreterValue;

/** Marker for values the interpreter creates (it defines the concrete classes). */
export interface InterpreterValue {
  readonly __interpreterValue: true;
}

/** Raised by hosts for C#-style runtime failures (goes to `on-error` as context.LastError). */
export class HostError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/** An object exposed to expressions. */
export interface HostObject {
  /** The C# type name shown in errors and used by casts / `is` (e.g. "X509Certificate2"). */
  readonly typeName: string;
  /** Property read; `undefined` when there is no such property (a compile-time-unknown member → runtime error). */
  get(name: string): Value | undefined;
  /** Method call; `undefined` when there is no such method. `typeArgs` for generic calls (`GetValueOrDefault<string>`). */
  call?(name: string, args: readonly Value[], typeArgs?: readonly string[]): Value | undefined;
  /** Indexer `obj[key]`. */
  index?(key: Value): Value;
  /** `ToString()` and string conversion. */
  toString(): string;
}

/** A mutable dictionary host (context.Variables): set-variable and assignments write through it. */
export interface MutableDictionary extends HostObject {
  set(name: string, value: Value): void;
}

export function isHostObject(v: unknown): v is HostObject {
  return typeof v === "object" && v !== null && typeof (v as HostObject).get === "function" && typeof (v as HostObject).typeName === "string";
}
