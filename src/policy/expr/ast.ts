/**
 * The expression AST: what the compiler (scripts/compile-policies) produces from APIM's C# policy
 * expressions `@( … )` and `@{ … }`, and what the Worker's interpreter (policy/expr/interpret.ts) runs.
 * Workers cannot `eval`, so expressions travel as this JSON.
 *
 * Contract: plain JSON data (no classes, no functions), stable: it is part of the compiled bundle's schema
 * (policy/schema.ts SCHEMA_VERSION). Every node carries `at`: [line, column] in the policy file (1-based), for
 * runtime error logs. Short keys keep the bundle small.
 */

/** [line, column], 1-based, in the source file of the expression. */
export type Pos = readonly [line: number, column: number];

export type Expr =
  /** Literal. `k` tells C#'s type: "string" | "int" | "double" | "bool" | "null" | "char". */
  | { readonly t: "lit"; readonly at: Pos; readonly k: "string" | "int" | "double" | "bool" | "null" | "char"; readonly v: string | number | boolean | null }
  /** Identifier: `context`, a local variable, a lambda parameter, or a type name used statically (`DateTime`, `string`, `StringComparison`, `X509NameType`, `TimeSpan`, `Math`, `JObject`…). */
  | { readonly t: "id"; readonly at: Pos; readonly name: string }
  /** `obj.name` / `obj?.name`. */
  | { readonly t: "member"; readonly at: Pos; readonly obj: Expr; readonly name: string; readonly nullCond: boolean }
  /** `obj[index]` / `obj?[index]`. */
  | { readonly t: "index"; readonly at: Pos; readonly obj: Expr; readonly index: Expr; readonly nullCond: boolean }
  /** A method call `callee(args)`; callee is a member (`s.ToUpper`) or id; generic type arguments (`GetValueOrDefault<string>`) in `typeArgs`. */
  | { readonly t: "call"; readonly at: Pos; readonly callee: Expr; readonly args: readonly Expr[]; readonly typeArgs?: readonly string[] }
  | { readonly t: "unary"; readonly at: Pos; readonly op: "!" | "-" | "+"; readonly e: Expr }
  | { readonly t: "binary"; readonly at: Pos; readonly op: "&&" | "||" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "+" | "-" | "*" | "/" | "%" | "??"; readonly l: Expr; readonly r: Expr }
  | { readonly t: "cond"; readonly at: Pos; readonly c: Expr; readonly a: Expr; readonly b: Expr }
  /** `(type)e`, and `e as type`. */
  | { readonly t: "cast"; readonly at: Pos; readonly type: string; readonly e: Expr; readonly as?: boolean }
  /**
   * `e is null` / `e is not null`; `e is Type` is `type`. `bind` (added for the declaration pattern `e is Type name`):
   * when the test succeeds, the value is assigned to the local `name`, declared in the enclosing scope.
   */
  | { readonly t: "is"; readonly at: Pos; readonly e: Expr; readonly type: string | null; readonly negated: boolean; readonly bind?: string }
  /**
   * `out var n` / `out int n` / `out n` (added): an argument of `T.TryParse(s, out …)` only (the compiler's check).
   * `type` is the declared type ("var" when inferred), or null when it names an existing local.
   */
  | { readonly t: "out"; readonly at: Pos; readonly name: string; readonly type: string | null }
  /** `x => body`, `(x, y) => body`; body is an expression or a block. */
  | { readonly t: "lambda"; readonly at: Pos; readonly params: readonly string[]; readonly body: Expr | Block }
  /**
   * `new T(args) { Prop = v, … }`: JObject, JProperty, JArray, TimeSpan, DateTime, string[] … (type as written).
   * `items` (added for collection initializers `new List<string> { a, b }`, `new JObject { { "k", v } }`): the
   * arguments of one `Add` call per entry, run in order after construction. (The parser never emits `init`.)
   */
  | { readonly t: "new"; readonly at: Pos; readonly type: string; readonly args: readonly Expr[]; readonly init?: ReadonlyArray<readonly [string, Expr]>; readonly items?: ReadonlyArray<readonly Expr[]> }
  /** `new { A = …, B }` (anonymous object; serialized as JSON where a string is needed). */
  | { readonly t: "anon"; readonly at: Pos; readonly props: ReadonlyArray<readonly [string, Expr]> }
  /** `new[] { … }` / `new string[] { … }`; `new byte[n]` (added) has `size` and no items: n default values. */
  | { readonly t: "array"; readonly at: Pos; readonly type: string | null; readonly items: readonly Expr[]; readonly size?: Expr }
  /**
   * `$"…{e}…"`: literal parts and expressions (with an optional format string `{e:yyyy}`, and — added — an optional
   * alignment `{e,10}` / `{e,-10}`: pad left / right to that width).
   */
  | { readonly t: "interp"; readonly at: Pos; readonly parts: ReadonlyArray<string | { readonly e: Expr; readonly format?: string; readonly align?: number }> };

export type Stmt =
  /** `var x = e;` / `string x = e;` (type kept for casts; "var" when inferred). */
  | { readonly t: "decl"; readonly at: Pos; readonly type: string; readonly name: string; readonly init: Expr | null }
  /** `target = e;` and compound `+=` … (op "="/"+="/"-="…). */
  | { readonly t: "assign"; readonly at: Pos; readonly target: Expr; readonly op: "=" | "+=" | "-=" | "*=" | "/=" | "??="; readonly value: Expr }
  | { readonly t: "if"; readonly at: Pos; readonly c: Expr; readonly then: Stmt; readonly else: Stmt | null }
  | { readonly t: "return"; readonly at: Pos; readonly e: Expr | null }
  | { readonly t: "expr"; readonly at: Pos; readonly e: Expr }
  /** `foreach (var x in e) body` / `foreach (string x in e)` (added; `type` "var" when inferred). */
  | { readonly t: "foreach"; readonly at: Pos; readonly type: string; readonly name: string; readonly e: Expr; readonly body: Stmt }
  /** `break;` / `continue;` inside a foreach (added). */
  | { readonly t: "break" | "continue"; readonly at: Pos }
  /**
   * `try { } catch (T name) { } … finally { }` (added): `type` null for a bare `catch`, `name` null when the exception
   * is not named. A catch matches names.ts EXCEPTION_TYPES by .NET's hierarchy.
   */
  | { readonly t: "try"; readonly at: Pos; readonly body: Block; readonly catches: ReadonlyArray<{ readonly type: string | null; readonly name: string | null; readonly body: Block }>; readonly fin: Block | null }
  | Block;

export interface Block {
  readonly t: "block";
  readonly at: Pos;
  readonly body: readonly Stmt[];
}

/** A compiled `@( … )` (an expression) or `@{ … }` (a block that returns a value). */
export type Code = { readonly kind: "expr"; readonly file: string; readonly src: string; readonly node: Expr } | { readonly kind: "block"; readonly file: string; readonly src: string; readonly node: Block };
