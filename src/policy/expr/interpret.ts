/**
 * policy/expr/interpret — runs a compiled expression (`@( … )`) or block (`@{ … }`) against the host objects of
 * one request. Workers cannot `eval`: this is a tree-walking interpreter over ast.ts.
 *
 * Contract: synchronous; no I/O, no clock (DateTime.Now/UtcNow read `context.Timestamp` from the host), no globals:
 * an expression reaches only `scope.context` and what it exposes (host.ts), and members of every other value are
 * resolved through the explicit tables of members.ts, statics.ts and linq.ts. Evaluation ends with a Value, a
 * PolicyRuntimeError (C#'s exception, for on-error) or StepLimitExceeded (the budget is spent) — nothing else,
 * whatever the tree holds.
 *
 * Budget: every node evaluated, every element a LINQ operator pulls, every lambda call and every chunk of string
 * work spends from `budget.remaining` (the same object across the evaluations of one request, if the runner wants
 * a per-request budget). Strings and collections are capped (limits.ts), so memory is bounded with time.
 * Recursion is bounded by the tree's depth (the parser caps nesting; MAX_EVAL_DEPTH guards hand-made trees).
 */
import type { Block, Code, Expr, Pos, Stmt } from "./ast";
import type { HostObject, Value } from "./host";
import { callMember, defaultOf, getMember, indexGet, indexSet } from "./members";
import { MethodGroup, callStatic, construct, getStatic, makeArray } from "./statics";
import { TextBuilder, align, formatValue } from "./text";
import { asCast, compareValues, csEquals, explicitCast, implicitConvert, isEnumerable, isOfType, iterate, numeric, shortTypeName, toText as convertToText, typeName } from "./convert";
import { inDateRange } from "./format";
import { parseJwtValue } from "./jwt-value";
import type { Meter } from "./json";
import { CHARS_PER_STEP, MAX_COLLECTION_ITEMS, MAX_NESTING, MAX_STRING_CHARS } from "./limits";
import { STATIC_TYPES, catches } from "./names";
import { Fn, PolicyRuntimeError, StepLimitExceeded, type Arg, type Rt, type RuntimeReason } from "./runtime";
import { AnonObject, byteArrays, CsChar, CsDateTimeOffset, CsDouble, CsException, TimeSpan } from "./values";
import { ownArray } from "./linq";

export { PolicyRuntimeError, StepLimitExceeded } from "./runtime";
export type { RuntimeReason } from "./runtime";

export interface StepBudget {
  remaining: number;
}

export interface EvalScope {
  readonly context: HostObject;
}

/**
 * Evaluation depth limit: a parsed tree is at most a few nodes deep per parser nesting level (MAX_NESTING), and
 * lambdas add their body's depth; 4 × MAX_NESTING covers every parsed tree and keeps JS recursion shallow.
 */
const MAX_EVAL_DEPTH = 4 * MAX_NESTING;

/** Evaluates an expression, or runs a block until `return` (no return → null). Synchronous. */
export function evaluate(code: Code, scope: EvalScope, budget: StepBudget): Value {
  const ev = new Evaluator(typeof code?.file === "string" ? code.file : "", scope.context, budget);
  if (code?.kind === "expr") return ev.expr(code.node);
  if (code?.kind === "block") {
    const r = ev.exec(code.node as Stmt);
    return typeof r === "object" ? r.value : null;
  }
  return ev.fail("InvalidProgram", "malformed compiled code");
}

/**
 * C# string conversion as APIM does it when an expression's value is used as text (bool → "True"/"False",
 * null → "", DateTime → en-US "G", JObject → indented JSON, anonymous object → compact JSON, double → invariant
 * round-trip). A value too large to print (a JSON over MAX_STRING_CHARS) is a PolicyRuntimeError at [0, 0].
 */
export function toText(v: Value): string {
  return convertToText(v, standaloneMeter());
}

/** C# truthiness is strict: only bool is a condition; anything else is a PolicyRuntimeError (for <when condition>). */
export function toCondition(v: Value, at: Pos, file: string): boolean {
  if (typeof v === "boolean") return v;
  throw new PolicyRuntimeError("InvalidCastException", `Cannot implicitly convert type '${v === null ? "null" : shortTypeName(v)}' to 'bool'.`, at, file);
}

/** A meter for text conversion outside an evaluation: output is capped, steps are bounded by that cap. */
function standaloneMeter(): Meter {
  let steps = 0;
  const meter: Meter = {
    step: (n = 1) => {
      steps += n;
      if (steps > MAX_STRING_CHARS) meter.fail("LimitExceeded", "value too large to convert to text");
    },
    chars: () => {},
    fail: (reason, message) => {
      throw new PolicyRuntimeError(reason, message, [0, 0], "");
    },
  };
  return meter;
}

// ── the evaluator ──────────────────────────────────────────────────────────────────────────────────────────

interface Slot {
  value: Value;
  readonly type: string;
}

/** Lexical environment: one per block and per lambda call. */
class Env {
  readonly vars = new Map<string, Slot>();
  constructor(readonly parent: Env | null) {}
  find(name: string): Slot | undefined {
    for (let e: Env | null = this; e !== null; e = e.parent) {
      const s = e.vars.get(name);
      if (s !== undefined) return s;
    }
    return undefined;
  }
}

class Closure extends Fn {
  readonly arity: number;
  constructor(readonly params: readonly string[], readonly body: Expr | Block, readonly env: Env) {
    super();
    this.arity = params.length;
  }
}

/** Returned by `exec` when a `return` ran. */
interface Returned {
  readonly value: Value;
}

/** What a statement did besides completing: returned, or a break / continue for the enclosing foreach. */
const BREAK = Symbol("break");
const CONTINUE = Symbol("continue");
type Flow = Returned | typeof BREAK | typeof CONTINUE | undefined;

/** A null-conditional (`?.`, `?[`) met null: the rest of the postfix chain is skipped and the chain is null. */
const SHORT = Symbol("short-circuit");
type Chained = Value | typeof SHORT;

const isPos = (p: unknown): p is Pos => Array.isArray(p) && p.length === 2 && typeof p[0] === "number" && typeof p[1] === "number";

class Evaluator implements Rt {
  private at: Pos = [0, 0];
  private depth = 0;
  private env = new Env(null);

  constructor(
    private readonly file: string,
    private readonly context: HostObject,
    private readonly budget: StepBudget,
  ) {}

  // ── Rt ──

  step(n = 1): void {
    this.budget.remaining -= n;
    if (!(this.budget.remaining >= 0)) throw new StepLimitExceeded(this.at, this.file);
  }

  chars(n: number): void {
    if (n >= CHARS_PER_STEP) this.step(Math.floor(n / CHARS_PER_STEP));
  }

  str(s: string): string {
    if (s.length > MAX_STRING_CHARS) this.fail("LimitExceeded", `string longer than ${MAX_STRING_CHARS} characters`);
    this.chars(s.length);
    return s;
  }

  items(n: number): void {
    if (n > MAX_COLLECTION_ITEMS) this.fail("LimitExceeded", `collection larger than ${MAX_COLLECTION_ITEMS} items`);
  }

  fail(reason: RuntimeReason, message: string): never {
    throw new PolicyRuntimeError(reason, message, this.at, this.file);
  }

  now(): Date {
    const ts = getMember(this, this.context, "Timestamp");
    if (!(ts instanceof Date) || !inDateRange(ts.getTime())) this.fail("InvalidOperationException", "context.Timestamp is not a DateTime");
    return ts as Date;
  }

  invoke(fn: Fn, args: readonly Value[]): Value {
    this.step();
    if (fn instanceof MethodGroup) return callStatic(this, fn.type, fn.name, args, undefined);
    if (!(fn instanceof Closure)) return this.fail("InvalidProgram", "not a function");
    const saved = this.env;
    this.enter();
    try {
      this.env = new Env(fn.env);
      fn.params.forEach((p, i) => this.env.vars.set(p, { value: args[i] ?? null, type: "var" }));
      if (fn.body?.t === "block") {
        const r = this.exec(fn.body);
        return typeof r === "object" ? r.value : null;
      }
      return this.expr(fn.body as Expr);
    } finally {
      this.env = saved;
      this.depth--;
    }
  }

  // ── helpers ──

  private enter(): void {
    if (++this.depth > MAX_EVAL_DEPTH) {
      this.depth--;
      this.fail("InvalidProgram", `expression nested more than ${MAX_EVAL_DEPTH} levels deep`);
    }
  }

  private locate(n: { at?: unknown }): void {
    if (isPos(n.at)) this.at = n.at;
  }

  private invalid(what: string): never {
    return this.fail("InvalidProgram", `malformed compiled code: ${what}`);
  }

  /** Is `n` an identifier naming a static type (not shadowed by a local)? */
  private staticType(n: Expr): string | null {
    if (n.t !== "id" || typeof n.name !== "string" || this.env.find(n.name) !== undefined) return null;
    return STATIC_TYPES.has(n.name) ? n.name : null;
  }

  // ── expressions ──

  expr(n: Expr): Value {
    const v = this.eval(n, false);
    return v === SHORT ? null : v;
  }

  private eval(n: Expr, chain: boolean): Chained {
    if (typeof n !== "object" || n === null) return this.invalid("expression");
    this.locate(n);
    this.step();
    this.enter();
    try {
      const v = this.evalNode(n);
      return v === SHORT && !chain ? null : v;
    } finally {
      this.depth--;
    }
  }

  private evalNode(n: Expr): Chained {
    switch (n.t) {
      case "lit":
        return this.literal(n);
      case "id": {
        const slot = typeof n.name === "string" ? this.env.find(n.name) : undefined;
        if (slot !== undefined) return slot.value;
        if (n.name === "context") return this.context;
        if (typeof n.name === "string" && STATIC_TYPES.has(n.name)) return this.fail("RuntimeBinderException", `'${n.name}' is a type, which is not valid in the given context`);
        return this.invalid(`unknown identifier ${String(n.name)}`);
      }
      case "member": {
        if (typeof n.name !== "string") return this.invalid("member name");
        const type = this.staticType(n.obj);
        if (type !== null) return getStatic(this, type, n.name);
        const o = this.eval(n.obj, true);
        if (o === SHORT) return SHORT;
        this.locate(n);
        if (o === null) {
          if (n.nullCond) return SHORT;
          // Nullable<T>.HasValue on null is false, not a NullReferenceException.
          if (n.name === "HasValue") return false;
          return this.nullReference(n.name);
        }
        return getMember(this, o, n.name);
      }
      case "index": {
        const o = this.eval(n.obj, true);
        if (o === SHORT) return SHORT;
        if (o === null) {
          if (n.nullCond) return SHORT;
          this.locate(n);
          return this.nullReference("[]");
        }
        const key = this.expr(n.index);
        this.locate(n);
        return indexGet(this, o, key);
      }
      case "call":
        return this.call(n);
      case "unary":
        return this.unary(n.op, this.expr(n.e), n);
      case "binary":
        return this.binary(n);
      case "cond": {
        const c = this.expr(n.c);
        this.locate(n);
        return this.condition(c) ? this.expr(n.a) : this.expr(n.b);
      }
      case "cast": {
        const v = this.expr(n.e);
        this.locate(n);
        if (typeof n.type !== "string") return this.invalid("cast type");
        if (n.as) return asCast(n.type, v);
        const r = explicitCast(n.type, v);
        return r.ok ? r.v : this.fail(r.reason, r.message);
      }
      case "is": {
        const v = this.expr(n.e);
        const match = n.type === null ? v === null : typeof n.type === "string" ? isOfType(n.type, v) : this.invalid("is type");
        if (match && typeof n.bind === "string") this.env.vars.set(n.bind, { value: v, type: n.type ?? "var" });
        return n.negated ? !match : match;
      }
      case "lambda":
        return this.fail("InvalidProgram", "a lambda can only be a method argument");
      case "new": {
        if (typeof n.type !== "string" || !Array.isArray(n.args)) return this.invalid("new");
        const args = n.args.map((a) => this.argument(a));
        const items = Array.isArray(n.items) ? n.items.map((entry) => (Array.isArray(entry) ? entry.map((e) => this.expr(e)) : this.invalid("initializer"))) : undefined;
        if (n.init !== undefined && n.init.length > 0) return this.fail("RuntimeBinderException", `object initializers are not supported on ${n.type}`);
        this.locate(n);
        return construct(this, n.type, args, items);
      }
      case "anon": {
        if (!Array.isArray(n.props)) return this.invalid("anonymous object");
        const props = new Map<string, Value>();
        for (const p of n.props) {
          if (!Array.isArray(p) || typeof p[0] !== "string") return this.invalid("anonymous member");
          props.set(p[0], this.expr(p[1]));
        }
        return new AnonObject(props);
      }
      case "array": {
        if (n.size !== undefined && n.size !== null) return this.sizedArray(n.type, n.size);
        if (!Array.isArray(n.items)) return this.invalid("array");
        this.items(n.items.length);
        const items = n.items.map((e) => this.expr(e));
        this.locate(n);
        return makeArray(this, typeof n.type === "string" ? n.type : null, items);
      }
      case "interp": {
        if (!Array.isArray(n.parts)) return this.invalid("interpolated string");
        const out = new TextBuilder(this);
        for (const part of n.parts) {
          if (typeof part === "string") {
            out.add(part);
            continue;
          }
          if (typeof part !== "object" || part === null) return this.invalid("interpolation part");
          const v = this.expr(part.e);
          this.locate(n);
          let piece = formatValue(this, v, typeof part.format === "string" ? part.format : null);
          if (typeof part.align === "number" && Number.isInteger(part.align)) piece = align(this, piece, part.align);
          out.add(piece);
        }
        return out.done();
      }
      default:
        return this.invalid(`node type ${String((n as { t?: unknown }).t)}`);
    }
  }

  private literal(n: Extract<Expr, { t: "lit" }>): Value {
    const v = n.v;
    switch (n.k) {
      case "string":
        return typeof v === "string" ? v : this.invalid("string literal");
      case "int":
        return typeof v === "number" && Number.isSafeInteger(v) ? v || 0 : this.invalid("int literal");
      case "double":
        return typeof v === "number" ? new CsDouble(v) : this.invalid("double literal");
      case "bool":
        return typeof v === "boolean" ? v : this.invalid("bool literal");
      case "null":
        return null;
      case "char":
        return typeof v === "string" && v.length === 1 ? new CsChar(v.charCodeAt(0)) : this.invalid("char literal");
      default:
        return this.invalid("literal kind");
    }
  }

  private nullReference(member: string): never {
    return this.fail("NullReferenceException", `Object reference not set to an instance of an object. (accessing '${member}' on null)`);
  }

  private condition(v: Value): boolean {
    if (typeof v === "boolean") return v;
    return this.fail("InvalidCastException", `Cannot implicitly convert type '${v === null ? "null" : shortTypeName(v)}' to 'bool'.`);
  }

  /** A call argument: lambdas become closures, `Type.Method` method groups become functions. */
  private argument(a: Expr): Arg {
    if (typeof a === "object" && a !== null) {
      if (a.t === "lambda") {
        if (!Array.isArray(a.params) || !a.params.every((p) => typeof p === "string")) return this.invalid("lambda parameters");
        return new Closure(a.params, a.body, this.env);
      }
      if (a.t === "member") {
        const type = this.staticType(a.obj);
        if (type !== null && STATIC_TYPES.get(type)!.methods.has(a.name)) return new MethodGroup(type, a.name);
      }
    }
    return this.expr(a);
  }

  private call(n: Extract<Expr, { t: "call" }>): Chained {
    const callee = n.callee;
    if (typeof callee !== "object" || callee === null || callee.t !== "member" || typeof callee.name !== "string" || !Array.isArray(n.args)) {
      return this.fail("InvalidProgram", "only methods can be called");
    }
    const typeArgs = Array.isArray(n.typeArgs) && n.typeArgs.every((t) => typeof t === "string") ? n.typeArgs : undefined;
    const type = this.staticType(callee.obj);
    if (type !== null && callee.name === "TryParse") return this.tryParse(n, type);
    if (type !== null) {
      const args = n.args.map((a) => this.argument(a));
      this.locate(n);
      return callStatic(this, type, callee.name, args, typeArgs);
    }
    if (callee.name === "TryParseJwt") return this.tryParseJwt(n, callee.obj);
    const target = this.eval(callee.obj, true);
    if (target === SHORT) return SHORT;
    if (target === null) {
      if (callee.nullCond) return SHORT;
      this.locate(n);
      if (callee.name === "GetValueOrDefault" && n.args.length <= 1) return n.args.length === 1 ? this.expr(n.args[0]!) : null;
      return this.nullReference(callee.name);
    }
    const args = n.args.map((a) => this.argument(a));
    this.locate(n);
    return callMember(this, target, callee.name, args, typeArgs);
  }

  /**
   * `T.TryParse(s, out x)`: T.Parse's result, or false and default(T) where Parse throws FormatException,
   * OverflowException or ArgumentNullException (.NET's TryParse contract); the out local is declared or assigned.
   */
  private tryParse(n: Extract<Expr, { t: "call" }>, type: string): Value {
    const out = n.args[1];
    if (n.args.length !== 2 || typeof out !== "object" || out === null || out.t !== "out" || typeof out.name !== "string") {
      return this.fail("RuntimeBinderException", `no overload of ${type}.TryParse takes these arguments`);
    }
    const input = this.expr(n.args[0]!);
    this.locate(n);
    let value: Value;
    let ok = true;
    try {
      value = callStatic(this, type, "Parse", [input], undefined);
    } catch (e) {
      if (!(e instanceof PolicyRuntimeError) || !["FormatException", "OverflowException", "ArgumentNullException"].includes(e.reason)) throw e;
      value = defaultOf(type === "Guid" ? "Guid" : type);
      ok = false;
    }
    if (out.type !== null) this.env.vars.set(out.name, { value, type: out.type === "var" ? type : out.type });
    else {
      const slot = this.env.find(out.name);
      if (slot === undefined) return this.invalid(`out to unknown local ${out.name}`);
      const r = implicitConvert(slot.type, value);
      if (!r.ok) return this.fail(r.reason, r.message);
      slot.value = r.v;
    }
    return ok;
  }

  /**
   * APIM's `s.TryParseJwt(out Jwt jwt)`: true and the parsed token (not validated, jwt-value.ts), or false and null;
   * a null string gives false.
   */
  private tryParseJwt(n: Extract<Expr, { t: "call" }>, obj: Expr): Value {
    const out = n.args[0];
    if (n.args.length !== 1 || typeof out !== "object" || out === null || out.t !== "out" || typeof out.name !== "string") {
      return this.fail("RuntimeBinderException", "no overload of String.TryParseJwt takes these arguments");
    }
    const input = this.expr(obj);
    this.locate(n);
    if (input !== null && typeof input !== "string") return this.fail("RuntimeBinderException", `'${shortTypeName(input)}' does not contain a definition for 'TryParseJwt'`);
    const value = input === null ? null : parseJwtValue(input);
    if (out.type !== null) this.env.vars.set(out.name, { value, type: out.type === "var" ? "Jwt" : out.type });
    else {
      const slot = this.env.find(out.name);
      if (slot === undefined) return this.invalid(`out to unknown local ${out.name}`);
      slot.value = value;
    }
    return value !== null;
  }

  private unary(op: string, v: Value, n: Expr): Value {
    this.locate(n);
    if (v === null) return null;
    switch (op) {
      case "!":
        if (typeof v === "boolean") return !v;
        break;
      case "-":
        if (typeof v === "number") return this.intResult(0 - v);
        if (v instanceof CsChar) return -v.code;
        if (v instanceof CsDouble) return new CsDouble(-v.value);
        if (v instanceof TimeSpan) return new TimeSpan(-v.ms || 0);
        break;
      case "+":
        if (typeof v === "number" || v instanceof CsDouble || v instanceof TimeSpan) return v;
        if (v instanceof CsChar) return v.code;
        break;
    }
    return this.fail("RuntimeBinderException", `Operator '${op}' cannot be applied to operand of type '${shortTypeName(v)}'`);
  }

  private binary(n: Extract<Expr, { t: "binary" }>): Value {
    const op = n.op;
    if (op === "&&" || op === "||") {
      const l = this.expr(n.l);
      this.locate(n);
      if (typeof l !== "boolean") return this.badOperands(op, l, null);
      if (op === "&&" ? !l : l) return l;
      const r = this.expr(n.r);
      this.locate(n);
      if (typeof r !== "boolean") return this.badOperands(op, l, r);
      return r;
    }
    if (op === "??") {
      const l = this.expr(n.l);
      return l !== null ? l : this.expr(n.r);
    }
    const l = this.expr(n.l);
    const r = this.expr(n.r);
    this.locate(n);
    return this.operate(op, l, r);
  }

  /** A binary operator on evaluated operands (also compound assignment). */
  private operate(op: string, l: Value, r: Value): Value {
    switch (op) {
      case "==":
        return csEquals(l, r);
      case "!=":
        return !csEquals(l, r);
      case "<":
      case "<=":
      case ">":
      case ">=": {
        if (l === null || r === null) return false;
        const c = compareValues(l, r);
        if (c === null) return this.badOperands(op, l, r);
        return op === "<" ? c < 0 : op === "<=" ? c <= 0 : op === ">" ? c > 0 : c >= 0;
      }
      case "+":
        if (typeof l === "string" || typeof r === "string") return this.str(convertToText(l, this) + convertToText(r, this));
        return this.arithmetic(op, l, r);
      case "-":
      case "*":
      case "/":
      case "%":
        return this.arithmetic(op, l, r);
      default:
        return this.invalid(`operator ${String(op)}`);
    }
  }

  private arithmetic(op: string, l: Value, r: Value): Value {
    // Lifted operators: null with a value-typed operand is null.
    if (l === null || r === null) {
      const other = l === null ? r : l;
      if (other === null || numeric(other) !== null || other instanceof Date || other instanceof TimeSpan || other instanceof CsDateTimeOffset) return null;
      return this.badOperands(op, l, r);
    }
    const x = numeric(l);
    const y = numeric(r);
    if (x !== null && y !== null) {
      const ints = !(l instanceof CsDouble) && !(r instanceof CsDouble);
      if (ints) {
        switch (op) {
          case "+":
            return this.intResult(x + y);
          case "-":
            return this.intResult(x - y);
          case "*":
            return this.intResult(x * y);
          case "/":
            if (y === 0) return this.fail("DivideByZeroException", "Attempted to divide by zero.");
            return this.intResult(Math.trunc(x / y));
          case "%":
            if (y === 0) return this.fail("DivideByZeroException", "Attempted to divide by zero.");
            return this.intResult(x % y);
        }
      }
      switch (op) {
        case "+":
          return new CsDouble(x + y);
        case "-":
          return new CsDouble(x - y);
        case "*":
          return new CsDouble(x * y);
        case "/":
          return new CsDouble(x / y);
        case "%":
          return new CsDouble(x % y);
      }
    }
    if (l instanceof Date) {
      if (op === "-" && r instanceof Date) return new TimeSpan(l.getTime() - r.getTime());
      if ((op === "+" || op === "-") && r instanceof TimeSpan) {
        const t = l.getTime() + (op === "+" ? r.ms : -r.ms);
        if (!inDateRange(t)) return this.fail("ArgumentOutOfRangeException", "The added or subtracted value results in an un-representable DateTime. (Parameter 'value')");
        return new Date(t);
      }
    }
    if (l instanceof CsDateTimeOffset) {
      // DateTimeOffset's operators, as DateTime's (offset zero on both sides).
      if (op === "-" && r instanceof CsDateTimeOffset) return new TimeSpan(l.date.getTime() - r.date.getTime());
      if ((op === "+" || op === "-") && r instanceof TimeSpan) {
        const t = l.date.getTime() + (op === "+" ? r.ms : -r.ms);
        if (!inDateRange(t)) return this.fail("ArgumentOutOfRangeException", "The UTC time represented when the offset is applied must be between year 0 and 10,000. (Parameter 'offset')");
        return new CsDateTimeOffset(new Date(t));
      }
    }
    if (l instanceof TimeSpan) {
      if ((op === "+" || op === "-") && r instanceof TimeSpan) return this.timeSpan(op === "+" ? l.ms + r.ms : l.ms - r.ms);
      if ((op === "*" || op === "/") && y !== null && !(r instanceof CsChar)) return this.timeSpan(op === "*" ? l.ms * y : l.ms / y);
      if (op === "/" && r instanceof TimeSpan) return new CsDouble(l.ms / r.ms);
    }
    if (r instanceof TimeSpan && op === "*" && x !== null && !(l instanceof CsChar)) return this.timeSpan(r.ms * x);
    return this.badOperands(op, l, r);
  }

  /** `new T[n]`: n default(T) values (C#: a negative size is an OverflowException); counted against the item cap. */
  private sizedArray(type: string | null, sizeExpr: Expr): Value {
    if (typeof type !== "string") return this.invalid("array type");
    const size = this.expr(sizeExpr);
    this.locate(sizeExpr);
    if (typeof size !== "number" || !Number.isInteger(size)) return this.fail("RuntimeBinderException", `an array size must be an int, not ${size === null ? "null" : shortTypeName(size)}`);
    if (size < 0) return this.fail("OverflowException", "Arithmetic operation resulted in an overflow.");
    this.items(size);
    this.step(Math.ceil(size / CHARS_PER_STEP));
    const fill = defaultOf(type);
    const out = ownArray(new Array<Value>(size).fill(fill));
    if (type === "byte") byteArrays.add(out);
    return out;
  }

  private timeSpan(ms: number): TimeSpan {
    if (Number.isNaN(ms)) this.fail("ArgumentException", "TimeSpan does not accept floating point Not-a-Number values.");
    if (!Number.isFinite(ms) || Math.abs(ms) > 922_337_203_685_477) this.fail("OverflowException", "TimeSpan overflowed because the duration is too long.");
    return new TimeSpan(ms || 0);
  }

  /** Integer results stay exact: beyond 2^53 we cannot represent them, so that is an overflow (C# long would wrap at 2^63). */
  private intResult(v: number): number {
    if (!Number.isSafeInteger(v)) return this.fail("OverflowException", "Arithmetic operation resulted in an overflow.");
    return v || 0;
  }

  private badOperands(op: string, l: Value, r: Value | null): never {
    const types = r === null && (op === "&&" || op === "||") ? `'${l === null ? "null" : shortTypeName(l)}'` : `'${l === null ? "null" : shortTypeName(l)}' and '${r === null ? "null" : shortTypeName(r)}'`;
    return this.fail("RuntimeBinderException", `Operator '${op}' cannot be applied to operands of type ${types}`);
  }

  // ── statements ──

  exec(s: Stmt): Flow {
    if (typeof s !== "object" || s === null) return this.invalid("statement");
    this.locate(s);
    this.step();
    this.enter();
    try {
      switch (s.t) {
        case "block": {
          if (!Array.isArray(s.body)) return this.invalid("block");
          const saved = this.env;
          this.env = new Env(saved);
          try {
            for (const stmt of s.body) {
              const r = this.exec(stmt);
              if (r !== undefined) return r;
            }
            return undefined;
          } finally {
            this.env = saved;
          }
        }
        case "decl": {
          if (typeof s.name !== "string" || typeof s.type !== "string") return this.invalid("declaration");
          // A local declared without a value (`int n;`, then `out n`) holds default(T) until assigned.
          if (s.init === null || s.init === undefined) {
            this.env.vars.set(s.name, { value: s.type === "var" ? null : defaultOf(s.type), type: s.type });
            return undefined;
          }
          const v = this.expr(s.init);
          this.locate(s);
          const r = implicitConvert(s.type, v);
          if (!r.ok) return this.fail(r.reason, r.message);
          this.env.vars.set(s.name, { value: r.v, type: s.type });
          return undefined;
        }
        case "assign":
          this.assign(s);
          return undefined;
        case "if": {
          const c = this.expr(s.c);
          this.locate(s);
          if (this.condition(c)) return this.exec(s.then);
          return s.else === null || s.else === undefined ? undefined : this.exec(s.else);
        }
        case "return":
          return { value: s.e === null || s.e === undefined ? null : this.expr(s.e) };
        case "expr":
          this.expr(s.e);
          return undefined;
        case "break":
          return BREAK;
        case "continue":
          return CONTINUE;
        case "foreach":
          return this.foreach(s);
        case "try":
          return this.tryStatement(s);
        default:
          return this.invalid(`statement type ${String((s as { t?: unknown }).t)}`);
      }
    } finally {
      this.depth--;
    }
  }

  /** `foreach`: C#'s explicit conversion of each item to a written type; every iteration costs a step. */
  private foreach(s: Extract<Stmt, { t: "foreach" }>): Flow {
    if (typeof s.name !== "string" || typeof s.type !== "string") return this.invalid("foreach");
    const source = this.expr(s.e);
    this.locate(s);
    if (source === null) return this.nullReference("GetEnumerator");
    if (!isEnumerable(source)) return this.fail("RuntimeBinderException", `foreach statement cannot operate on variables of type '${typeName(source)}'`);
    const saved = this.env;
    try {
      for (const item of iterate(source)) {
        this.step();
        let v = item;
        if (s.type !== "var") {
          const r = explicitCast(s.type, item);
          if (!r.ok) return this.fail(r.reason, r.message);
          v = r.v;
        }
        this.env = new Env(saved);
        this.env.vars.set(s.name, { value: v, type: s.type });
        const r = this.exec(s.body);
        this.env = saved;
        if (r === BREAK) break;
        if (typeof r === "object") return r;
      }
    } finally {
      this.env = saved;
    }
    return undefined;
  }

  /**
   * `try`/`catch`/`finally`: a catch whose type matches the failure's reason (names.ts `catches`) runs with the
   * exception; a StepLimitExceeded is never caught, so the budget holds whatever the policy catches.
   */
  private tryStatement(s: Extract<Stmt, { t: "try" }>): Flow {
    if (!Array.isArray(s.catches)) return this.invalid("try");
    const saved = this.env;
    const depth = this.depth;
    let flow: Flow;
    try {
      flow = this.exec(s.body);
    } catch (e) {
      if (!(e instanceof PolicyRuntimeError)) throw e;
      this.env = saved;
      this.depth = depth;
      const handler = s.catches.find((c) => c.type === null || catches(c.type, e.reason));
      if (handler === undefined) throw e;
      this.env = new Env(saved);
      if (handler.name !== null) this.env.vars.set(handler.name, { value: new CsException(e.reason, e.message), type: "var" });
      try {
        flow = this.exec(handler.body);
      } finally {
        this.env = saved;
      }
    } finally {
      if (s.fin !== null && s.fin !== undefined) {
        this.env = saved;
        const f = this.exec(s.fin);
        if (f !== undefined) flow = f;
      }
    }
    return flow;
  }

  private assign(s: Extract<Stmt, { t: "assign" }>): void {
    const target = s.target;
    const op = s.op;
    if (!["=", "+=", "-=", "*=", "/=", "??="].includes(op)) this.invalid("assignment operator");
    const combine = (current: () => Value): Value => {
      if (op === "=") return this.expr(s.value);
      const cur = current();
      if (op === "??=") return cur !== null ? cur : this.expr(s.value);
      const v = this.expr(s.value);
      this.locate(s);
      return this.operate(op.slice(0, 1), cur, v);
    };
    if (typeof target !== "object" || target === null) return void this.invalid("assignment target");
    if (target.t === "id") {
      const slot = typeof target.name === "string" ? this.env.find(target.name) : undefined;
      if (slot === undefined) return void this.invalid(`assignment to unknown local ${String(target.name)}`);
      const v = combine(() => slot.value);
      this.locate(s);
      const r = implicitConvert(slot.type, v);
      if (!r.ok) this.fail(r.reason, r.message);
      slot.value = r.v;
      return;
    }
    if (target.t === "index") {
      const o = this.expr(target.obj);
      this.locate(target);
      if (o === null) this.nullReference("[]");
      const key = this.expr(target.index);
      const v = combine(() => {
        this.locate(target);
        return indexGet(this, o, key);
      });
      this.locate(s);
      indexSet(this, o, key, v);
      return;
    }
    if (target.t === "member") {
      const o = this.expr(target.obj);
      this.locate(target);
      if (o === null) this.nullReference(String(target.name));
      this.fail("RuntimeBinderException", `Property or indexer '${shortTypeName(o)}.${String(target.name)}' cannot be assigned to -- it is read only`);
    }
    this.invalid("assignment target");
  }
}
