/**
 * policy/expr/values — the runtime values the interpreter adds to host.ts's `Value`: the C# types JavaScript has no
 * twin for. Hosts see them only as `InterpreterValue`; hosts that hand JSON to expressions (a request body's
 * `As<JObject>()`) build it with `fromJson` in json.ts.
 *
 * Contract: plain classes, no behaviour beyond construction and the Newtonsoft parent link (a token that already
 * has a parent is copied when added elsewhere, as JContainer does, so JSON trees can never contain cycles).
 *
 * Representation of C# values:
 * - int / long: a JS integer `number` (the host convention); double / float / decimal: `CsDouble`;
 * - char: `CsChar`; string, bool, null: themselves; DateTime: `Date` (UTC); TimeSpan: `TimeSpan`;
 * - arrays (`string[]`, `new[] {…}`, Split, ToArray): JS arrays; `List<T>`: `CsList`;
 * - dictionaries: `ReadonlyMap` (host) enumerated as `KeyValue`; lazy LINQ results: `LazySeq`;
 * - enum members (`StringComparison.Ordinal`): `CsEnum`; anonymous objects: `AnonObject`;
 * - Newtonsoft JSON: `JObject`, `JArray`, `JValue`, `JProperty`.
 */
import type { InterpreterValue, Value } from "./host";

abstract class Base implements InterpreterValue {
  readonly __interpreterValue = true as const;
}

/** A C# double (float and decimal literals run as double too). */
export class CsDouble extends Base {
  constructor(readonly value: number) {
    super();
  }
}

/** A C# char: one UTF-16 code unit. */
export class CsChar extends Base {
  constructor(readonly code: number) {
    super();
  }
  get text(): string {
    return String.fromCharCode(this.code);
  }
}

/** System.TimeSpan, in (possibly fractional) milliseconds. */
export class TimeSpan extends Base {
  constructor(readonly ms: number) {
    super();
  }
}

/** A member of one of names.ts ENUM_MEMBERS. */
export class CsEnum extends Base {
  constructor(readonly type: string, readonly name: string) {
    super();
  }
}

/** byte[] values the interpreter made (codecs.ts): arrays of integers 0–255 whose .NET type is System.Byte[]. */
export const byteArrays = new WeakSet<readonly Value[]>();

/** System.DateTimeOffset, always at offset zero (the edge has no local time zone): its instant. */
export class CsDateTimeOffset extends Base {
  constructor(readonly date: Date) {
    super();
  }
}

/** System.Guid: 32 lowercase hex digits in the order of its "D" text (codecs.ts). */
export class CsGuid extends Base {
  constructor(readonly hex: string) {
    super();
  }
}

/** A Regex match or one of its groups (regex.ts): `start` -1 when it did not participate (Success false). */
export class CsGroup extends Base {
  constructor(readonly input: string, readonly start: number, readonly end: number, readonly name: string) {
    super();
  }
  get success(): boolean {
    return this.start >= 0;
  }
  get value(): string {
    return this.start >= 0 ? this.input.slice(this.start, this.end) : "";
  }
}

/** System.Text.RegularExpressions.Match: group 0 plus every group by number and name. */
export class CsMatch extends CsGroup {
  constructor(input: string, readonly groups: readonly CsGroup[]) {
    super(input, groups[0]!.start, groups[0]!.end, "0");
  }
}

/** Match.Groups. */
export class CsGroups extends Base {
  constructor(readonly match: CsMatch) {
    super();
  }
}

/** A caught exception (`catch (FormatException e)`): its .NET type name and message. */
export class CsException extends Base {
  constructor(readonly type: string, readonly message: string) {
    super();
  }
}

/** A hash algorithm object (`SHA256.Create()`, `new HMACSHA256(key)`): key null for a plain hash (hashes.ts). */
export class CsHasher extends Base {
  constructor(readonly algorithm: "SHA1" | "SHA256" | "SHA384" | "SHA512", readonly key: Uint8Array | null) {
    super();
  }
}

/** System.Text.Encoding.UTF8 / .ASCII (codecs.ts). */
export class CsEncoding extends Base {
  constructor(readonly name: "UTF8" | "ASCII") {
    super();
  }
}

/** `new { A = …, B = … }`: read-only, ordered members. */
export class AnonObject extends Base {
  constructor(readonly props: ReadonlyMap<string, Value>) {
    super();
  }
}

/** System.Collections.Generic.List<T>. */
export class CsList extends Base {
  constructor(readonly items: Value[], readonly elementType: string) {
    super();
  }
}

/** KeyValuePair<TKey, TValue>: what enumerating a dictionary yields. */
export class KeyValue extends Base {
  constructor(readonly key: Value, readonly value: Value) {
    super();
  }
}

/** A deferred LINQ sequence (Where, Select …): re-runs its pipeline each time it is enumerated, as C# does. */
export class LazySeq extends Base {
  constructor(readonly iterate: () => Iterator<Value>) {
    super();
  }
}

// ── Newtonsoft.Json.Linq ─────────────────────────────────────────────────────────────────────────────────────

export type JToken = JObject | JArray | JValue | JProperty;

/** What a JValue holds. Dates remember Newtonsoft's DateTimeKind for serialization ("Z", "+00:00" or nothing). */
export type JPrimitive = null | string | number | CsDouble | boolean | Date | TimeSpan;

export type DateKind = "utc" | "local" | "unspecified";

abstract class JBase extends Base {
  parent: JObject | JArray | JProperty | null = null;
}

export class JValue extends JBase {
  constructor(readonly value: JPrimitive, readonly dateKind: DateKind = "utc") {
    super();
  }
}

export class JProperty extends JBase {
  constructor(readonly name: string, public value: JToken) {
    super();
  }
}

export class JObject extends JBase {
  /** Properties by name, in insertion order (replacing a value keeps the position, as Newtonsoft does). */
  readonly props = new Map<string, JProperty>();
}

export class JArray extends JBase {
  readonly items: JToken[] = [];
}

export function isJToken(v: unknown): v is JToken {
  return v instanceof JObject || v instanceof JArray || v instanceof JValue || v instanceof JProperty;
}
