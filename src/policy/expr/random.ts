/**
 * policy/expr/random — System.Random for expressions: `new Random()` and `new Random(seed)` with `Next()`,
 * `Next(maxValue)`, `Next(minValue, maxValue)` and `NextDouble()`
 * (https://learn.microsoft.com/dotnet/api/system.random, .next, .nextdouble, .-ctor).
 *
 * - `new Random()`: .NET documents no sequence for it (since .NET 6 it is an unspecified algorithm, seeded
 *   randomly), only the ranges: Next() in [0, Int32.MaxValue), Next(max) in [0, max) (0 when max is 0), Next(min,
 *   max) in [min, max) (min when they are equal), NextDouble() in [0.0, 1.0). Here: the platform's CSPRNG
 *   (crypto.getRandomValues), integers drawn by rejection so every value of the range is equally likely.
 * - `new Random(seed)`: .NET keeps, for a seeded Random, the sequence of .NET Framework's subtractive generator
 *   (Knuth, The Art of Computer Programming vol. 2, §3.6; the docs' "Random(Int32)" remarks: the same seed gives
 *   the same sequence across versions). It is written here from that algorithm's description, and the test pins it
 *   to the values .NET's own Random tests list for seeds 0, 1 and 2 (random.test.ts).
 * - Errors as .NET's: Next(max) with max < 0, Next(min, max) with min > max → ArgumentOutOfRangeException.
 *
 * Hand-written, not a library: the seeded sequence must be .NET's exactly, and the rest is a few lines over
 * crypto.getRandomValues. Contract: no I/O; the unseeded generator reads the CSPRNG, nothing else.
 */
import type { InterpreterValue, Value } from "./host";
import { int, noOverload } from "./arguments";
import type { Arg, Rt } from "./runtime";
import { CsDouble } from "./values";

const INT32_MAX = 2147483647;
/** The subtractive generator's modulus and seed constant (Knuth's MBIG / MSEED). */
const MBIG = INT32_MAX;
const MSEED = 161803398;

/** A Random object: `seeded` is null for `new Random()`. */
export class CsRandom implements InterpreterValue {
  readonly __interpreterValue = true as const;
  private readonly seeded: SubtractiveGenerator | null;

  constructor(seed: number | null) {
    this.seeded = seed === null ? null : new SubtractiveGenerator(seed);
  }

  /** A sample in [0, 1): the seeded generator's, or 53 random bits. */
  sample(): number {
    if (this.seeded) return this.seeded.next() * (1.0 / MBIG);
    const w = crypto.getRandomValues(new Uint32Array(2));
    return ((w[0]! >>> 5) * 67108864 + (w[1]! >>> 6)) / 9007199254740992;
  }

  /** An integer in [0, n), 0 < n ≤ 2^32. */
  private uniform(n: number): number {
    // Rejection: draw 32 bits, keep those below the largest multiple of n.
    const limit = 4294967296 - (4294967296 % n);
    const w = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(w);
      if (w[0]! < limit) return w[0]! % n;
    }
  }

  /** Next(): [0, Int32.MaxValue). */
  next(): number {
    return this.seeded ? this.seeded.next() : this.uniform(INT32_MAX);
  }

  /** Next(maxValue): [0, maxValue), 0 when maxValue is 0. */
  nextBelow(max: number): number {
    if (this.seeded) return Math.trunc(this.sample() * max);
    return max === 0 ? 0 : this.uniform(max);
  }

  /** Next(minValue, maxValue): [minValue, maxValue), minValue when they are equal. */
  nextBetween(min: number, max: number): number {
    const range = max - min;
    if (this.seeded) {
      if (range <= INT32_MAX) return Math.trunc(this.sample() * range) + min;
      // A range over Int32.MaxValue: .NET's large-range sample (two draws: a value and a sign).
      let r = this.seeded.next();
      if (this.seeded.next() % 2 === 0) r = -r;
      const d = (r + (INT32_MAX - 1)) / (2 * INT32_MAX - 1);
      return Math.trunc(d * range) + min;
    }
    return range === 0 ? min : min + this.uniform(range);
  }
}

/** Knuth's subtractive generator, seeded as .NET seeds it (55 words; the second index starts 21 ahead). */
class SubtractiveGenerator {
  private readonly a = new Int32Array(56);
  private i = 0;
  private j = 21;

  constructor(seed: number) {
    const a = this.a;
    const s = seed === -2147483648 ? INT32_MAX : Math.abs(seed);
    let mj = MSEED - s;
    a[55] = mj;
    let mk = 1;
    for (let i = 1; i < 55; i++) {
      const ii = (21 * i) % 55;
      a[ii] = mk;
      mk = mj - mk;
      if (mk < 0) mk += MBIG;
      mj = a[ii]!;
    }
    for (let k = 1; k < 5; k++) {
      for (let i = 1; i < 56; i++) {
        let v = a[i]! - a[1 + ((i + 30) % 55)]!;
        if (v < 0) v += MBIG;
        a[i] = v;
      }
    }
  }

  /** The next value in [0, MBIG). */
  next(): number {
    if (++this.i >= 56) this.i = 1;
    if (++this.j >= 56) this.j = 1;
    let v = this.a[this.i]! - this.a[this.j]!;
    if (v === MBIG) v--;
    if (v < 0) v += MBIG;
    this.a[this.i] = v;
    return v;
  }
}

/** `new Random()` / `new Random(seed)`. */
export function newRandom(rt: Rt, args: readonly Value[]): CsRandom {
  if (args.length === 0) return new CsRandom(null);
  if (args.length === 1) return new CsRandom(int(rt, args[0], "new Random"));
  return noOverload(rt, "new Random");
}

/** Random's instance methods; undefined when `name` is not one (the caller reports the member). */
export function randomMember(rt: Rt, r: CsRandom, name: string, args: readonly Arg[] | null): Value | undefined {
  if (args === null) return undefined;
  const what = `Random.${name}`;
  if (name === "NextDouble") {
    if (args.length !== 0) noOverload(rt, what);
    return new CsDouble(r.sample());
  }
  if (name !== "Next") return undefined;
  if (args.length === 0) return r.next();
  if (args.length === 1) {
    const max = int(rt, args[0], what);
    if (max < 0) rt.fail("ArgumentOutOfRangeException", `maxValue ('${max}') must be a non-negative value. (Parameter 'maxValue')\nActual value was ${max}.`);
    return r.nextBelow(max);
  }
  if (args.length === 2) {
    const min = int(rt, args[0], what);
    const max = int(rt, args[1], what);
    if (min > max) rt.fail("ArgumentOutOfRangeException", `'minValue' cannot be greater than maxValue. (Parameter 'minValue')\nActual value was ${min}.`);
    return r.nextBetween(min, max);
  }
  return noOverload(rt, what);
}
