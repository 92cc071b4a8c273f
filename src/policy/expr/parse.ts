/**
 * policy/expr/parse — APIM policy expressions (`@( expr )`, `@{ statements }`) → the located AST of ast.ts.
 *
 * Contract: pure and total: any input yields `{ ok: true, code }` or `{ ok: false, errors }`, never an exception
 * (nesting is capped, so hostile input cannot exhaust the stack). Runs in Node (the policy compiler) and in workerd.
 * Positions are absolute in the policy file: `at` is where the `@` sits, and lines inside multi-line code count.
 *
 * The language is the C# subset APIM policies use; every other construct is rejected here, by name
 * ("unsupported construct: foreach loop", "unsupported method: Regex.Match"), so that a policy the gateway cannot
 * run fails the build instead of a request. Identifiers are resolved while parsing: locals (with C#'s scoping),
 * lambda parameters, `context`, and the static types of names.ts; static members are checked against that table.
 * Instance members cannot be checked without types: unknown ones are runtime errors (interpret.ts).
 */
import type { Block, Code, Expr, Pos, Stmt } from "./ast";
import { LexError, lex, scanCodeEnd, type Tok } from "./lexer";
import { MAX_NESTING, MAX_SOURCE_CHARS } from "./limits";
import { CONSTRUCTIBLE, EXCEPTION_TYPES, NAMESPACE_ROOTS, STATIC_TYPES, TYPE_ALIASES, TYPE_KEYWORDS, UNSUPPORTED_KEYWORDS, canonicalTypeName } from "./names";

/** A compile-time error in an expression, at an absolute file position. */
export interface CodeError {
  readonly message: string;
  readonly line: number;
  readonly col: number;
  /** The offending source text, short. */
  readonly text: string;
}

/**
 * Index just past the `)` / `}` closing the `@(` / `@{` that starts at `start` (text[start] === "@"), honouring
 * C# string, verbatim (@"…"), interpolated ($"…{…}…"), char literals, comments and nested parens/braces; null if
 * unterminated (or if text[start] does not open code). Used to find where an expression ends inside XML attribute
 * values that contain unescaped quotes.
 */
export function findCodeEnd(text: string, start: number): number | null {
  if (text[start] !== "@") return null;
  const open = text[start + 1];
  if (open !== "(" && open !== "{") return null;
  const end = scanCodeEnd(text, start + 2, open, open === "(" ? ")" : "}");
  return end === null ? null : end + 1;
}

/**
 * Parses `@( expr )` or `@{ statements }` (source includes the @ and delimiters). `at` is the position of the @ in
 * `file`; node positions are absolute in that file (multi-line code counts lines).
 */
export function parseCode(source: string, file: string, at: Pos): { ok: true; code: Code } | { ok: false; errors: CodeError[] } {
  const errors: CodeError[] = [];
  const positionOf = makePositionMapper(source, at);
  const errorAt = (offset: number, length: number, message: string): CodeError => {
    const [line, col] = positionOf(offset);
    return { message, line, col, text: source.slice(offset, offset + Math.max(1, Math.min(length, 40))) };
  };
  if (source.length > MAX_SOURCE_CHARS) return { ok: false, errors: [errorAt(0, 2, `expression longer than ${MAX_SOURCE_CHARS} characters`)] };
  const open = source[1];
  if (source[0] !== "@" || (open !== "(" && open !== "{")) return { ok: false, errors: [errorAt(0, 2, "an expression starts with @( or @{")] };
  const end = findCodeEnd(source, 0);
  if (end === null) {
    // Lex the body to name the literal or comment that never ends, if that is the cause.
    try {
      lex(source, 2, source.length);
    } catch (e) {
      if (e instanceof LexError) return { ok: false, errors: [errorAt(e.offset, e.length, e.message)] };
      throw e;
    }
    return { ok: false, errors: [errorAt(0, 2, `unterminated expression: no '${open === "(" ? ")" : "}"}' closes '@${open}'`)] };
  }
  if (end !== source.length) return { ok: false, errors: [errorAt(end, source.length - end, "unexpected text after the end of the expression")] };
  const parser = new Parser(source, positionOf, errorAt, errors);
  try {
    if (open === "(") {
      const node = parser.parseExpressionBody(2, end - 1);
      if (errors.length === 0) return { ok: true, code: { kind: "expr", file, src: source, node } };
    } else {
      const node = parser.parseBlockBody(2, end - 1, positionOf(1));
      if (errors.length === 0) return { ok: true, code: { kind: "block", file, src: source, node } };
    }
  } catch (e) {
    if (e instanceof LexError) errors.push(errorAt(e.offset, e.length, e.message));
    else if (e !== ABORT) throw e;
  }
  return { ok: false, errors };
}

/** Maps an offset in `source` to [line, col] in the file, given the file position of source[0]. */
function makePositionMapper(source: string, at: Pos): (offset: number) => Pos {
  const lineStarts = [0];
  for (let i = 0; i < source.length; i++) if (source[i] === "\n") lineStarts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo === 0 ? [at[0], at[1] + offset] : [at[0] + lo, offset - lineStarts[lo]! + 1];
  };
}

/** Thrown (after recording the error) to stop at a syntax error; everything after it would be noise. */
const ABORT = Symbol("abort");

const ASSIGN_OPS: ReadonlySet<string> = new Set(["=", "+=", "-=", "*=", "/=", "??="]);
const UNSUPPORTED_ASSIGN_OPS: ReadonlySet<string> = new Set(["%=", "&=", "|=", "^=", "<<="]);
/** Words that never start a type (so `new X();` or `return x;` is not taken for a declaration). */
const NON_TYPE_WORDS: ReadonlySet<string> = new Set(["true", "false", "null", "new", "if", "else", "return", "is", "as", "in", "const", "context", "var"]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Parser {
  private toks: Tok[] = [];
  private i = 0;
  private depth = 0;
  /** Visible locals, innermost last. */
  private readonly scopes: Set<string>[] = [];
  /** foreach loops around the current statement (break / continue need one). */
  private loops = 0;
  /** Token index where the current expression statement starts (postfix ++/-- is allowed only there). */
  private statementStart = -1;

  constructor(
    private readonly src: string,
    private readonly positionOf: (offset: number) => Pos,
    private readonly errorAt: (offset: number, length: number, message: string) => CodeError,
    private readonly errors: CodeError[],
  ) {}

  // ── entry points ──────────────────────────────────────────────────────────────────────────────────────

  parseExpressionBody(from: number, to: number): Expr {
    this.toks = lex(this.src, from, to);
    this.i = 0;
    if (this.peek().k === "eof") this.fail(this.peek(), "expected an expression inside @( )");
    // The scope of pattern variables (`x is string s && s.Length > 0`).
    this.scopes.push(new Set());
    const e = this.parseExpr();
    this.expectEof("expression");
    this.scopes.pop();
    return e;
  }

  parseBlockBody(from: number, to: number, at: Pos): Block {
    this.toks = lex(this.src, from, to);
    this.i = 0;
    this.scopes.push(new Set());
    const body: Stmt[] = [];
    while (this.peek().k !== "eof") body.push(...this.parseStatement());
    this.scopes.pop();
    const block: Block = { t: "block", at, body };
    if (!alwaysReturns(block)) {
      // APIM: "All code paths within multi-statement expressions must end with a return statement."
      this.errors.push(this.errorAt(to, 1, "not all code paths return a value: a @{ } block must end with a return statement"));
    }
    return block;
  }

  // ── token helpers ─────────────────────────────────────────────────────────────────────────────────────

  private peek(n = 0): Tok {
    return this.toks[Math.min(this.i + n, this.toks.length - 1)]!;
  }

  private next(): Tok {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  private isOp(s: string, n = 0): boolean {
    const t = this.peek(n);
    return t.k === "op" && t.s === s;
  }

  private isId(s?: string, n = 0): boolean {
    const t = this.peek(n);
    return t.k === "id" && (s === undefined || t.s === s);
  }

  private expectOp(s: string, context?: string): Tok {
    if (!this.isOp(s)) this.fail(this.peek(), `expected '${s}'${context ? ` ${context}` : ""}, found ${describe(this.peek())}`);
    return this.next();
  }

  private expectIdent(context: string): Tok {
    if (!this.isId()) this.fail(this.peek(), `expected ${context}, found ${describe(this.peek())}`);
    return this.next();
  }

  private expectEof(what: string): void {
    const t = this.peek();
    if (t.k === "eof") return;
    if (t.k === "op" && (t.s === "=" || t.s === "+=" || t.s === "-=" || t.s === "*=" || t.s === "/=" || t.s === "??=")) {
      this.fail(t, "unsupported construct: assignment inside an expression");
    }
    if (t.k === "op" && t.s === ";") this.fail(t, `unexpected ';': @( ) holds a single ${what}; use @{ … } for statements`);
    this.fail(t, `unexpected ${describe(t)} after the ${what}`);
  }

  private pos(t: Tok): Pos {
    return this.positionOf(t.start);
  }

  private report(t: Tok, message: string): void {
    this.errors.push(this.errorAt(t.start, t.end - t.start, message));
  }

  private fail(t: Tok, message: string): never {
    this.report(t, message);
    throw ABORT;
  }

  private enter(t: Tok): void {
    if (++this.depth > MAX_NESTING) this.fail(t, `expression nested more than ${MAX_NESTING} levels deep`);
  }

  private leave(): void {
    this.depth--;
  }

  private isLocal(name: string): boolean {
    return this.scopes.some((s) => s.has(name));
  }

  private declare(t: Tok, name: string): void {
    if (name === "context") this.report(t, "a local named 'context' would hide the context parameter");
    else if (name !== "_" && this.isLocal(name)) this.report(t, `a local named '${name}' is already defined in this scope`);
    this.scopes[this.scopes.length - 1]!.add(name);
  }

  // ── statements ────────────────────────────────────────────────────────────────────────────────────────

  private parseStatement(embedded = false): Stmt[] {
    const t = this.peek();
    this.enter(t);
    try {
      if (t.k === "op" && t.s === "{") return [this.parseBlock()];
      if (t.k === "op" && t.s === ";") {
        this.next();
        return [];
      }
      if (t.k === "id") {
        if (t.s === "if") return [this.parseIf()];
        if (t.s === "foreach" && !this.isLocal(t.s)) return [this.parseForeach()];
        if (t.s === "try" && !this.isLocal(t.s)) return [this.parseTry()];
        if ((t.s === "break" || t.s === "continue") && !this.isLocal(t.s)) {
          this.next();
          if (this.loops === 0) this.fail(t, `'${t.s}' outside a loop`);
          this.expectOp(";", `after ${t.s}`);
          return [{ t: t.s, at: this.pos(t) }];
        }
        if (t.s === "return") {
          this.next();
          const e = this.isOp(";") ? null : this.parseExpr();
          this.expectOp(";", "after return");
          return [{ t: "return", at: this.pos(t), e }];
        }
        if (t.s === "else") this.fail(t, "'else' without 'if'");
        const unsupported = UNSUPPORTED_KEYWORDS.get(t.s);
        if (unsupported !== undefined && !this.isLocal(t.s)) this.fail(t, `unsupported construct: ${unsupported}`);
        if (t.s === "const") {
          this.next();
          return this.parseDeclarationRest(t, embedded);
        }
        const decl = this.tryDeclaration(t, embedded);
        if (decl) return decl;
      }
      return [this.parseExpressionStatement()];
    } finally {
      this.leave();
    }
  }

  private parseBlock(): Block {
    const open = this.expectOp("{");
    this.scopes.push(new Set());
    const body: Stmt[] = [];
    while (!this.isOp("}")) {
      if (this.peek().k === "eof") this.fail(open, "'{' is never closed");
      body.push(...this.parseStatement());
    }
    this.next();
    this.scopes.pop();
    return { t: "block", at: this.pos(open), body };
  }

  private parseIf(): Stmt {
    const t = this.next();
    this.expectOp("(", "after 'if'");
    const c = this.parseExpr();
    this.expectOp(")", "to close the if condition");
    const then = this.parseEmbedded();
    let otherwise: Stmt | null = null;
    if (this.isId("else")) {
      this.next();
      otherwise = this.parseEmbedded();
    }
    return { t: "if", at: this.pos(t), c, then, else: otherwise };
  }

  /** `foreach (var x in e) body`. */
  private parseForeach(): Stmt {
    const t = this.next();
    this.expectOp("(", "after 'foreach'");
    let type: string | null;
    if (this.isId("var") && this.isId(undefined, 1)) {
      this.next();
      type = "var";
    } else type = this.tryType();
    if (type === null) this.fail(this.peek(), `expected a type (or var), found ${describe(this.peek())}`);
    const nameTok = this.expectIdent("the loop variable's name");
    if (!this.isId("in")) this.fail(this.peek(), `expected 'in', found ${describe(this.peek())}`);
    this.next();
    const e = this.parseExpr();
    this.expectOp(")", "to close the foreach header");
    this.scopes.push(new Set());
    this.declare(nameTok, nameTok.s);
    this.loops++;
    try {
      const body = this.parseEmbedded();
      return { t: "foreach", at: this.pos(t), type, name: nameTok.s, e, body };
    } finally {
      this.loops--;
      this.scopes.pop();
    }
  }

  /** `try { } catch (T x) { } … finally { }`. */
  private parseTry(): Stmt {
    const t = this.next();
    if (!this.isOp("{")) this.fail(this.peek(), `expected '{' after 'try', found ${describe(this.peek())}`);
    // A loop around the try still owns break/continue inside it.
    const body = this.parseBlock();
    const catches: Array<{ type: string | null; name: string | null; body: Block }> = [];
    while (this.isId("catch")) {
      const c = this.next();
      let type: string | null = null;
      let name: string | null = null;
      this.scopes.push(new Set());
      if (this.isOp("(")) {
        this.next();
        const typeTok = this.peek();
        const written = this.tryType();
        if (written === null) this.fail(this.peek(), `expected an exception type, found ${describe(this.peek())}`);
        type = written;
        if (!EXCEPTION_TYPES.has(type)) this.report(typeTok, `unsupported exception type: ${type} (catch one of ${[...EXCEPTION_TYPES.keys()].join(", ")})`);
        if (this.isId()) {
          const n = this.next();
          name = n.s;
          this.declare(n, n.s);
        }
        this.expectOp(")", "to close the catch clause");
      }
      if (this.isId("when")) this.fail(this.peek(), "unsupported construct: exception filter (catch … when)");
      if (!this.isOp("{")) this.fail(this.peek(), `expected '{' after ${describe(c)}, found ${describe(this.peek())}`);
      catches.push({ type, name, body: this.parseBlock() });
      this.scopes.pop();
    }
    let fin: Block | null = null;
    if (this.isId("finally")) {
      this.next();
      if (!this.isOp("{")) this.fail(this.peek(), `expected '{' after 'finally', found ${describe(this.peek())}`);
      fin = this.parseBlock();
    }
    if (catches.length === 0 && fin === null) this.fail(t, "a try needs a catch or a finally");
    return { t: "try", at: this.pos(t), body, catches, fin };
  }

  /** The body of an if/else: one statement, never a bare declaration. */
  private parseEmbedded(): Stmt {
    const start = this.peek();
    const stmts = this.parseStatement(true);
    if (stmts.length === 1) return stmts[0]!;
    return { t: "block", at: this.pos(start), body: stmts };
  }

  /** `var x = e;`, `string x = e, y;`, `int? n = …;` — or null (and no tokens consumed) if this is not a declaration. */
  private tryDeclaration(t: Tok, embedded: boolean): Stmt[] | null {
    const save = this.i;
    if (t.s === "var" && this.isId(undefined, 1) && !this.isLocal("var")) {
      this.next();
      return this.parseDeclarationRest(t, embedded, "var");
    }
    const type = this.tryType();
    if (type !== null && this.isId() && (this.isOp("=", 1) || this.isOp(";", 1) || this.isOp(",", 1) || this.isOp("(", 1))) {
      if (this.isOp("(", 1)) this.fail(t, "unsupported construct: local function");
      this.i = save;
      return this.parseDeclarationRest(t, embedded);
    }
    this.i = save;
    return null;
  }

  private parseDeclarationRest(t: Tok, embedded: boolean, knownType?: string): Stmt[] {
    if (embedded) this.fail(t, "a declaration is not allowed as the body of if/else (wrap it in { })");
    let type: string;
    if (knownType !== undefined) type = knownType;
    else if (this.isId("var")) {
      this.next();
      type = "var";
    } else {
      const written = this.tryType();
      if (written === null) this.fail(this.peek(), `expected a type, found ${describe(this.peek())}`);
      type = written;
    }
    const out: Stmt[] = [];
    while (true) {
      const name = this.expectIdent("a variable name");
      let init: Expr | null = null;
      if (this.isOp("=")) {
        this.next();
        if (this.isOp("{")) {
          // `string[] xs = { "a", "b" };` — an array initializer, allowed only in a declaration with an array type.
          if (!type.endsWith("[]") || type.endsWith("][]")) this.fail(this.peek(), "unsupported construct: array initializer without new (write new[] { … })");
          init = { t: "array", at: this.pos(this.peek()), type: type.slice(0, -2), items: this.parseArrayItems() };
        } else {
          init = this.parseExpr();
        }
      } else if (type === "var") {
        this.fail(name, "an implicitly typed variable (var) must be initialized");
      }
      this.declare(name, name.s);
      out.push({ t: "decl", at: this.pos(name), type, name: name.s, init });
      if (!this.isOp(",")) break;
      if (type === "var") this.fail(this.peek(), "an implicitly typed variable (var) cannot have multiple declarators");
      this.next();
    }
    this.expectOp(";", "after the declaration");
    return out;
  }

  private parseExpressionStatement(): Stmt {
    const start = this.peek();
    if (start.k === "op" && (start.s === "++" || start.s === "--")) {
      this.next();
      const target = this.parseUnary();
      this.checkAssignable(target, start);
      this.expectOp(";");
      return { t: "assign", at: this.pos(start), target, op: start.s === "++" ? "+=" : "-=", value: { t: "lit", at: this.pos(start), k: "int", v: 1 } };
    }
    this.statementStart = this.i;
    const e = this.parseConditional();
    const t = this.peek();
    if (t.k === "op" && (t.s === "++" || t.s === "--")) {
      this.next();
      this.checkAssignable(e, t);
      this.expectOp(";", "after the statement");
      return { t: "assign", at: this.pos(t), target: e, op: t.s === "++" ? "+=" : "-=", value: { t: "lit", at: this.pos(t), k: "int", v: 1 } };
    }
    if (t.k === "op" && ASSIGN_OPS.has(t.s)) {
      this.next();
      this.checkAssignable(e, t);
      const value = this.parseExpr();
      this.expectOp(";", "after the assignment");
      return { t: "assign", at: this.pos(t), target: e, op: t.s as "=" | "+=" | "-=" | "*=" | "/=" | "??=", value };
    }
    if (t.k === "op" && UNSUPPORTED_ASSIGN_OPS.has(t.s)) this.fail(t, `unsupported operator: ${t.s}`);
    if (e.t !== "call" && e.t !== "new") {
      this.report(start, "only assignment, call, increment, decrement and new expressions can be used as a statement");
    }
    if (!this.isOp(";")) this.fail(this.peek(), `expected ';' after the statement, found ${describe(this.peek())}`);
    this.next();
    return { t: "expr", at: e.at, e };
  }

  private checkAssignable(e: Expr, t: Tok): void {
    if (e.t === "id" && this.isLocal(e.name)) return;
    if ((e.t === "member" || e.t === "index") && !e.nullCond) return;
    this.report(t, "the left-hand side of an assignment must be a local variable, a property or an indexer");
  }

  // ── expressions ───────────────────────────────────────────────────────────────────────────────────────

  private parseExpr(): Expr {
    const t = this.peek();
    this.enter(t);
    try {
      if (this.lambdaAhead()) this.fail(t, "unsupported construct: lambda outside a method argument");
      const e = this.parseConditional();
      const n = this.peek();
      if (n.k === "op" && (ASSIGN_OPS.has(n.s) || UNSUPPORTED_ASSIGN_OPS.has(n.s))) this.fail(n, "unsupported construct: assignment inside an expression");
      return e;
    } finally {
      this.leave();
    }
  }

  private parseConditional(): Expr {
    const c = this.parseCoalesce();
    if (!this.isOp("?")) return c;
    const q = this.next();
    const a = this.parseExpr();
    this.expectOp(":", "in the conditional expression");
    const b = this.parseExpr();
    return { t: "cond", at: this.pos(q), c, a, b };
  }

  private parseCoalesce(): Expr {
    const l = this.parseBinary(0);
    if (!this.isOp("??")) return l;
    const op = this.next();
    this.enter(op);
    const r = this.parseCoalesce();
    this.leave();
    return { t: "binary", at: this.pos(op), op: "??", l, r };
  }

  /** Binary operators from `||` (level 0) to `*` (level 5), left-associative. */
  private parseBinary(level: number): Expr {
    if (level > 5) return this.parseUnary();
    const depthBefore = this.depth;
    try {
      return this.parseBinaryChain(level);
    } finally {
      this.depth = depthBefore;
    }
  }

  /** One precedence level, left-associative; each operator nests the tree one level deeper (counted). */
  private parseBinaryChain(level: number): Expr {
    let l = this.parseBinary(level + 1);
    while (true) {
      const t = this.peek();
      if (t.k === "id" && level === 0 && (t.s === "switch" || t.s === "with")) this.fail(t, `unsupported construct: ${t.s} expression`);
      if (t.k === "id" && level === 3 && (t.s === "is" || t.s === "as")) {
        this.enter(t);
        l = t.s === "is" ? this.parseIs(l) : this.parseAs(l);
        continue;
      }
      if (t.k !== "op") return l;
      if (level === 2 && (t.s === "&" || t.s === "|" || t.s === "^")) this.fail(t, `unsupported operator: ${t.s} (use && or ||)`);
      if (level === 3 && (t.s === "<" || t.s === ">") && this.isOp(t.s, 1) && this.peek(1).start === t.end) this.fail(t, `unsupported operator: ${t.s}${t.s} (shift)`);
      if (t.s === "..") this.fail(t, "unsupported construct: range");
      const op = BINARY_LEVELS[level]!.get(t.s);
      if (op === undefined) return l;
      this.next();
      this.enter(t);
      const r = this.parseBinary(level + 1);
      l = { t: "binary", at: this.pos(t), op, l, r };
    }
  }

  private parseIs(e: Expr): Expr {
    const t = this.next();
    let negated = false;
    if (this.isId("not")) {
      this.next();
      negated = true;
    }
    if (this.isId("null")) {
      this.next();
      return { t: "is", at: this.pos(t), e, type: null, negated };
    }
    const p = this.peek();
    if (p.k === "id" && p.s === "var") this.fail(p, "unsupported construct: var pattern");
    const type = p.k === "id" ? this.tryType(false) : null;
    if (type === null) this.fail(p, "unsupported construct: pattern (only 'is null', 'is not null', 'is Type' and 'is Type name' are supported)");
    if (this.isId("and") || this.isId("or")) this.fail(this.peek(), "unsupported construct: combined pattern");
    const node: Mutable<Extract<Expr, { t: "is" }>> = { t: "is", at: this.pos(t), e, type, negated };
    if (this.isId() && !negated && !KEYWORD_AFTER_TYPE.has(this.peek().s)) {
      const name = this.next();
      this.declare(name, name.s);
      node.bind = name.s;
    }
    return node;
  }

  private parseAs(e: Expr): Expr {
    const t = this.next();
    const type = this.tryType();
    if (type === null) this.fail(this.peek(), `expected a type after 'as', found ${describe(this.peek())}`);
    return { t: "cast", at: this.pos(t), type, e, as: true };
  }

  private parseUnary(): Expr {
    const t = this.peek();
    const depthBefore = this.depth;
    try {
      if (t.k === "op") {
        if (t.s === "!" || t.s === "-" || t.s === "+") {
          this.next();
          this.enter(t);
          const e = this.parseUnary();
          if (t.s === "-" && e.t === "lit" && (e.k === "int" || e.k === "double") && typeof e.v === "number") {
            return { t: "lit", at: this.pos(t), k: e.k, v: -e.v };
          }
          return { t: "unary", at: this.pos(t), op: t.s, e };
        }
        if (t.s === "~") this.fail(t, "unsupported operator: ~");
        if (t.s === "++" || t.s === "--") this.fail(t, `unsupported construct: ${t.s} inside an expression (write x ${t.s[0]}= 1; as a statement)`);
        if (t.s === "&" || t.s === "*") this.fail(t, "unsupported construct: pointer");
        if (t.s === "^") this.fail(t, "unsupported construct: index from end (^)");
        if (t.s === "..") this.fail(t, "unsupported construct: range");
        if (t.s === "(") {
          const cast = this.tryCast();
          if (cast) return cast;
        }
      }
      const start = this.i;
      const e = this.parsePostfix(this.parsePrimary());
      const n = this.peek();
      if (n.k === "op" && (n.s === "++" || n.s === "--") && start !== this.statementStart) {
        this.fail(n, `unsupported construct: ${n.s} inside an expression (write x ${n.s[0]}= 1; as a statement)`);
      }
      return e;
    } finally {
      this.depth = depthBefore;
    }
  }

  /** `(T)e` — C#'s rule: a keyword type always casts; a named type casts only if what follows can start an operand. */
  private tryCast(): Expr | null {
    const open = this.peek();
    const save = this.i;
    this.next();
    const type = this.tryType();
    if (type === null || !this.isOp(")")) {
      this.i = save;
      return null;
    }
    this.next();
    const after = this.peek();
    const keywordType = TYPE_KEYWORDS.has(type.replace(/[?[\]]+$/, "")) || /[?[\]]$/.test(type);
    const startsOperand =
      after.k === "id" ? !["is", "as", "switch", "with"].includes(after.s) : after.k !== "op" && after.k !== "eof" ? true : after.s === "(" || after.s === "!" || after.s === "~";
    const keywordOperand = keywordType && after.k === "op" && (after.s === "-" || after.s === "+");
    if (!startsOperand && !keywordOperand) {
      this.i = save;
      return null;
    }
    if (type === "var" || type === "dynamic") this.fail(open, `unsupported construct: cast to ${type}`);
    this.enter(open);
    const e = this.parseUnary();
    return { t: "cast", at: this.pos(open), type, e };
  }

  /**
   * A type as written: keyword or (qualified) name, generic arguments, `?`, array ranks. Returns the canonical
   * spelling (names.ts), or null with the position restored. `nullable` false leaves a `?` for the conditional.
   */
  private tryType(nullable = true): string | null {
    const save = this.i;
    const t = this.peek();
    if (t.k !== "id" || NON_TYPE_WORDS.has(t.s) || UNSUPPORTED_KEYWORDS.has(t.s)) return null;
    this.next();
    let name = t.s;
    while (this.isOp(".") && this.isId(undefined, 1)) {
      this.next();
      name += "." + this.next().s;
    }
    name = canonicalTypeName(name);
    if (this.isOp("<")) {
      const args = this.tryTypeArgs();
      if (args === null) {
        this.i = save;
        return null;
      }
      name += `<${args.join(",")}>`;
    }
    if (nullable && this.isOp("?") && !this.startsExpressionAfterQuestion()) {
      this.next();
      name += "?";
    }
    while (this.isOp("[") && (this.isOp("]", 1) || this.isOp(",", 1))) {
      this.next();
      let rank = "[";
      while (this.isOp(",")) {
        this.next();
        rank += ",";
      }
      if (!this.isOp("]")) {
        this.i = save;
        return null;
      }
      this.next();
      name += rank + "]";
    }
    return name;
  }

  /** After a type, does `?` begin a conditional (`x is T ? a : b`) rather than mark a nullable type? */
  private startsExpressionAfterQuestion(): boolean {
    const n = this.peek(1);
    if (n.k === "eof") return false;
    if (n.k === "op") return !(n.s === ")" || n.s === ";" || n.s === "," || n.s === "??" || n.s === "]" || n.s === "}" || n.s === "[" || n.s === ">");
    // `int? x = …` (a declaration) vs `c ? a : b`: an identifier followed by `=`, `;` or `,` is a declaration.
    if (n.k === "id") return !(this.isOp("=", 2) || this.isOp(";", 2) || this.isOp(",", 2) || this.isOp(")", 2));
    return true;
  }

  /** `<T, U>` generic arguments, or null (position restored) if the tokens are not a type argument list. */
  private tryTypeArgs(): string[] | null {
    const save = this.i;
    this.next();
    const args: string[] = [];
    while (true) {
      const type = this.tryType();
      if (type === null) {
        this.i = save;
        return null;
      }
      args.push(type);
      if (this.isOp(",")) {
        this.next();
        continue;
      }
      if (this.isOp(">")) {
        this.next();
        return args;
      }
      this.i = save;
      return null;
    }
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    const at = this.pos(t);
    switch (t.k) {
      case "int":
      case "double":
        this.next();
        return { t: "lit", at, k: t.k, v: t.v };
      case "str":
        this.next();
        return { t: "lit", at, k: "string", v: t.v };
      case "chr":
        this.next();
        return { t: "lit", at, k: "char", v: t.v };
      case "interp":
        this.next();
        return this.parseInterpolation(t);
      case "eof":
        return this.fail(t, "expected an expression, found the end of the code");
      case "op":
        if (t.s === "(") {
          this.next();
          const e = this.parseExpr();
          this.expectOp(")", "to close '('");
          return e;
        }
        if (t.s === "[") this.fail(t, "unsupported construct: collection expression");
        if (t.s === "=>") this.fail(t, "unsupported construct: lambda outside a method argument");
        return this.fail(t, `expected an expression, found ${describe(t)}`);
      case "id":
        return this.parseIdentifier(t, at);
    }
  }

  private parseIdentifier(t: Extract<Tok, { k: "id" }>, at: Pos): Expr {
    const name = t.s;
    if (name === "true" || name === "false") {
      this.next();
      return { t: "lit", at, k: "bool", v: name === "true" };
    }
    if (name === "null") {
      this.next();
      return { t: "lit", at, k: "null", v: null };
    }
    if (name === "new") return this.parseNew();
    if (this.isLocal(name)) {
      this.next();
      return { t: "id", at, name };
    }
    if (name === "context") {
      this.next();
      return { t: "id", at, name };
    }
    if (name === "from" && this.isId(undefined, 1) && (this.isId("in", 2) || this.isId(undefined, 2))) this.fail(t, "unsupported construct: LINQ query syntax");
    const unsupported = UNSUPPORTED_KEYWORDS.get(name);
    if (unsupported !== undefined) this.fail(t, `unsupported construct: ${unsupported}`);
    // Static types, possibly namespace-qualified (System.String, Newtonsoft.Json.Formatting).
    let typeName: string | null = null;
    let qualified = name;
    this.next();
    if (NAMESPACE_ROOTS.has(name)) {
      while (this.isOp(".") && this.isId(undefined, 1)) {
        const seg = this.peek(1) as Extract<Tok, { k: "id" }>;
        this.next();
        this.next();
        qualified += "." + seg.s;
        const canon = TYPE_ALIASES.get(seg.s) ?? seg.s;
        if (STATIC_TYPES.has(canon)) {
          typeName = canon;
          break;
        }
      }
    } else {
      const canon = TYPE_ALIASES.get(name) ?? name;
      if (STATIC_TYPES.has(canon)) typeName = canon;
    }
    if (typeName !== null) {
      if (!this.isOp(".")) this.fail(t, `'${qualified}' is a type, not a value`);
      return { t: "id", at, name: typeName };
    }
    // Unknown: name what was attempted, skip it, and keep parsing to find further errors.
    if (/^\p{Lu}/u.test(name) || TYPE_KEYWORDS.has(name)) {
      while (this.isOp(".") && this.isId(undefined, 1)) {
        this.next();
        qualified += "." + (this.next() as Extract<Tok, { k: "id" }>).s;
      }
    }
    if (qualified.includes(".")) {
      if (this.isOp("(") || this.isOp("<")) {
        this.report(t, `unsupported method: ${qualified}`);
        if (this.isOp("<")) this.tryTypeArgs();
        if (this.isOp("(")) this.parseArguments(this.next());
      } else {
        this.report(t, `unsupported type: ${qualified.slice(0, qualified.lastIndexOf("."))}`);
      }
      return { t: "id", at, name };
    }
    this.report(t, TYPE_KEYWORDS.has(name) || /^\p{Lu}/u.test(name) && this.isOp("(") ? `unsupported type: ${name}` : `unknown identifier: ${name}`);
    return { t: "id", at, name };
  }

  private parsePostfix(e: Expr): Expr {
    // Each `.m`, `(…)` or `[…]` nests the tree one level deeper: count them against MAX_NESTING too.
    const depthBefore = this.depth;
    try {
      return this.parsePostfixChain(e);
    } finally {
      this.depth = depthBefore;
    }
  }

  private parsePostfixChain(e: Expr): Expr {
    while (true) {
      const t = this.peek();
      if (t.k !== "op") return e;
      if (t.s === "." || t.s === "?." || t.s === "[" || t.s === "?[") this.enter(t);
      if (t.s === "." || t.s === "?.") {
        this.next();
        const name = this.expectIdent("a member name");
        const member: Expr = { t: "member", at: this.pos(name), obj: e, name: name.s, nullCond: t.s === "?." };
        let typeArgs: string[] | null = null;
        if (this.isOp("<")) {
          const save = this.i;
          typeArgs = this.tryTypeArgs();
          if (typeArgs !== null && !this.isOp("(")) {
            this.i = save;
            typeArgs = null;
          }
        }
        if (e.t === "id" && !this.isLocal(e.name) && e.name !== "context") this.checkStaticMember(e.name, name, this.isOp("("));
        if (this.isOp("(")) {
          const open = this.next();
          const args = this.parseArguments(open);
          e = typeArgs ? { t: "call", at: this.pos(name), callee: member, args, typeArgs } : { t: "call", at: this.pos(name), callee: member, args };
        } else {
          e = member;
        }
        continue;
      }
      if (t.s === "(") {
        this.fail(t, e.t === "id" ? `unsupported construct: calling '${e.name}' (only methods of values and types can be called)` : "unsupported construct: calling the result of an expression");
      }
      if (t.s === "[" || t.s === "?[") {
        this.next();
        this.enter(t);
        const index = this.parseExpr();
        this.leave();
        if (this.isOp(",")) this.fail(this.peek(), "unsupported construct: multi-dimensional indexer");
        this.expectOp("]", "to close the indexer");
        e = { t: "index", at: this.pos(t), obj: e, index, nullCond: t.s === "?[" };
        continue;
      }
      if (t.s === "!" && this.nullForgivingAhead()) {
        // `x!` only silences nullable warnings in C#: no run-time effect.
        this.next();
        continue;
      }
      if (t.s === "->") this.fail(t, "unsupported construct: pointer");
      return e;
    }
  }

  private nullForgivingAhead(): boolean {
    const n = this.peek(1);
    return n.k === "eof" || (n.k === "op" && [".", "?.", "[", ")", ";", ",", "]", "}"].includes(n.s));
  }

  /** `T.M` on a static type: the member must be in names.ts. */
  private checkStaticMember(type: string, name: Tok, called: boolean): void {
    const members = STATIC_TYPES.get(type);
    if (members === undefined) return;
    const display = type;
    if (called) {
      if (!members.methods.has(name.s)) this.report(name, members.props.has(name.s) ? `'${display}.${name.s}' is not a method` : `unsupported method: ${display}.${name.s}`);
      return;
    }
    if (members.props.has(name.s)) return;
    if (members.methods.has(name.s)) {
      // A method group is allowed only as an argument (`s.All(char.IsDigit)`).
      if (!(this.isOp(",") || this.isOp(")"))) this.report(name, `method '${display}.${name.s}' used without calling it`);
      return;
    }
    this.report(name, `unsupported member: ${display}.${name.s}`);
  }

  private parseArguments(open: Tok): Expr[] {
    const args: Expr[] = [];
    this.enter(open);
    if (!this.isOp(")")) {
      while (true) {
        args.push(this.parseArgument());
        if (this.isOp(",")) {
          this.next();
          continue;
        }
        break;
      }
    }
    this.expectOp(")", "to close the argument list");
    this.leave();
    return args;
  }

  private parseArgument(): Expr {
    const t = this.peek();
    if (t.k === "id" && t.s === "out" && this.isId(undefined, 1) && !this.isLocal("out")) {
      // `out var n`, `out int n` declare n in the enclosing scope (C# 7); `out n` assigns an existing local.
      this.next();
      if (this.isId(undefined, 0) && (this.isOp(")", 1) || this.isOp(",", 1))) {
        const n = this.next();
        if (!this.isLocal(n.s)) this.report(n, `unknown identifier: ${n.s}`);
        return { t: "out", at: this.pos(t), name: n.s, type: null };
      }
      let type: string | null = null;
      if (this.isId("var")) {
        this.next();
        type = "var";
      } else type = this.tryType();
      if (type === null) this.fail(this.peek(), `expected a type or var after 'out', found ${describe(this.peek())}`);
      const n = this.expectIdent("a variable name");
      this.declare(n, n.s);
      return { t: "out", at: this.pos(t), name: n.s, type };
    }
    if (t.k === "id" && (t.s === "ref" || t.s === "in") && this.isId(undefined, 1)) {
      this.fail(t, `unsupported construct: ${t.s} argument`);
    }
    if (t.k === "id" && this.isOp(":", 1) && !this.isOp(":", 2)) {
      // `Body.As<T>(preserveContent: true)`: the one named argument APIM policies use, on a method whose only
      // parameter it is, so naming it changes nothing and the name is dropped.
      if (t.s !== "preserveContent") this.fail(t, "unsupported construct: named argument");
      this.next();
      this.next();
    }
    if (t.k === "id" && t.s === "async") this.fail(t, "unsupported construct: async lambda");
    if (this.lambdaAhead()) return this.parseLambda();
    if (t.k === "id" && t.s === "delegate") this.fail(t, "unsupported construct: anonymous method (delegate)");
    return this.parseExpr();
  }

  /** Is a lambda next: `x =>`, `(x, y) =>`, `() =>`, `(string x) =>`? */
  private lambdaAhead(): boolean {
    if (this.isId() && this.isOp("=>", 1)) return true;
    if (!this.isOp("(")) return false;
    let depth = 0;
    for (let n = 0; ; n++) {
      const t = this.peek(n);
      if (t.k === "eof") return false;
      if (t.k !== "op" && t.k !== "id") return false;
      if (t.k === "op") {
        if (t.s === "(") depth++;
        else if (t.s === ")") {
          depth--;
          if (depth === 0) return this.isOp("=>", n + 1);
        } else if (t.s !== "," && t.s !== "<" && t.s !== ">" && t.s !== "?" && t.s !== "[" && t.s !== "]" && t.s !== ".") return false;
      }
    }
  }

  private parseLambda(): Expr {
    const start = this.peek();
    const params: string[] = [];
    const paramToks: Tok[] = [];
    if (this.isId()) {
      paramToks.push(this.next());
    } else {
      this.next();
      while (!this.isOp(")")) {
        const save = this.i;
        // `(string x)`: a typed parameter; `(x)`: untyped.
        if (this.isId() && !(this.isOp(",", 1) || this.isOp(")", 1))) {
          if (this.tryType() === null) this.i = save;
        }
        paramToks.push(this.expectIdent("a lambda parameter"));
        if (this.isOp(",")) this.next();
        else if (!this.isOp(")")) this.fail(this.peek(), `expected ',' or ')' in the lambda parameters, found ${describe(this.peek())}`);
      }
      this.next();
    }
    const arrow = this.expectOp("=>");
    this.scopes.push(new Set());
    for (const p of paramToks) {
      const name = (p as Extract<Tok, { k: "id" }>).s;
      if (params.includes(name) && name !== "_") this.report(p, `duplicate lambda parameter '${name}'`);
      if (name === "context") this.report(p, "a lambda parameter named 'context' would hide the context parameter");
      this.scopes[this.scopes.length - 1]!.add(name);
      params.push(name);
    }
    this.enter(arrow);
    // A lambda's body is a new function: loops around it do not own a break inside it.
    const loops = this.loops;
    this.loops = 0;
    const body = this.isOp("{") ? this.parseBlock() : this.parseExpr();
    this.loops = loops;
    this.leave();
    this.scopes.pop();
    return { t: "lambda", at: this.pos(start), params, body };
  }

  private parseNew(): Expr {
    const t = this.next();
    const at = this.pos(t);
    if (this.isOp("{")) {
      // Anonymous object: `new { A = e, x.B, C }`.
      const open = this.next();
      const props: Array<readonly [string, Expr]> = [];
      this.enter(open);
      while (!this.isOp("}")) {
        let name: string;
        let value: Expr;
        if (this.isId() && this.isOp("=", 1)) {
          name = (this.next() as Extract<Tok, { k: "id" }>).s;
          this.next();
          value = this.parseExpr();
        } else {
          const start = this.peek();
          value = this.parseExpr();
          if (value.t === "member") name = value.name;
          else if (value.t === "id") name = value.name;
          else this.fail(start, "an anonymous-object member needs a name (Name = value)");
        }
        if (props.some(([n]) => n === name)) this.report(t, `duplicate anonymous-object member '${name}'`);
        props.push([name, value]);
        if (this.isOp(",")) this.next();
        else if (!this.isOp("}")) this.fail(this.peek(), `expected ',' or '}' in the anonymous object, found ${describe(this.peek())}`);
      }
      this.next();
      this.leave();
      return { t: "anon", at, props };
    }
    if (this.isOp("[")) {
      this.next();
      this.expectOp("]", "in new[]");
      return { t: "array", at, type: null, items: this.parseArrayItems() };
    }
    if (this.isOp("(")) this.fail(this.peek(), "unsupported construct: target-typed new()");
    const typeTok = this.peek();
    const type = this.tryType(false);
    if (type === null) this.fail(typeTok, `expected a type after 'new', found ${describe(typeTok)}`);
    if (this.isOp("[")) {
      // `new byte[n]`: n default values (the only sized form; an initializer gives the size itself).
      const open = this.next();
      const size = this.parseExpr();
      this.expectOp("]", "to close the array size");
      if (this.isOp("[")) this.fail(this.peek(), "unsupported construct: multi-dimensional or jagged array");
      if (this.isOp("{")) this.fail(this.peek(), `unsupported construct: sized array with an initializer (write new ${type}[] { … })`);
      return { t: "array", at: this.pos(open), type, items: [], size };
    }
    if (type.endsWith("[]")) {
      const element = type.slice(0, -2);
      if (element.endsWith("]")) this.fail(typeTok, "unsupported construct: multi-dimensional or jagged array");
      return { t: "array", at, type: element, items: this.parseArrayItems() };
    }
    const generic = type.includes("<") ? type.slice(0, type.indexOf("<")) : type;
    if (!CONSTRUCTIBLE.has(generic) || (generic === "List") !== type.includes("<")) this.report(typeTok, `unsupported type: new ${type}`);
    let args: Expr[] = [];
    if (this.isOp("(")) {
      const open = this.next();
      args = this.parseArguments(open);
    } else if (!this.isOp("{")) {
      this.fail(this.peek(), `expected '(' after 'new ${type}', found ${describe(this.peek())}`);
    }
    if (!this.isOp("{")) return { t: "new", at, type, args };
    // Collection initializer `{ a, b }` / `{ { "k", v } }` (each entry is the arguments of one Add call).
    const open = this.next();
    this.enter(open);
    const items: Expr[][] = [];
    while (!this.isOp("}")) {
      if (this.isId() && this.isOp("=", 1)) this.fail(this.peek(), "unsupported construct: object initializer");
      if (this.isOp("[")) this.fail(this.peek(), "unsupported construct: index initializer");
      if (this.isOp("{")) {
        const inner = this.next();
        const group: Expr[] = [];
        while (!this.isOp("}")) {
          group.push(this.parseExpr());
          if (this.isOp(",")) this.next();
          else if (!this.isOp("}")) this.fail(this.peek(), `expected ',' or '}', found ${describe(this.peek())}`);
        }
        if (group.length === 0) this.fail(inner, "an initializer entry needs a value");
        this.next();
        items.push(group);
      } else {
        items.push([this.parseExpr()]);
      }
      if (this.isOp(",")) this.next();
      else if (!this.isOp("}")) this.fail(this.peek(), `expected ',' or '}' in the initializer, found ${describe(this.peek())}`);
    }
    this.next();
    this.leave();
    return { t: "new", at, type, args, items };
  }

  private parseArrayItems(): Expr[] {
    const open = this.expectOp("{", "to start the array items");
    this.enter(open);
    const items: Expr[] = [];
    while (!this.isOp("}")) {
      items.push(this.parseExpr());
      if (this.isOp(",")) this.next();
      else if (!this.isOp("}")) this.fail(this.peek(), `expected ',' or '}' in the array, found ${describe(this.peek())}`);
    }
    this.next();
    this.leave();
    return items;
  }

  private parseInterpolation(t: Extract<Tok, { k: "interp" }>): Expr {
    const parts: Array<string | { readonly e: Expr; readonly format?: string; readonly align?: number }> = [];
    for (const part of t.parts) {
      if ("text" in part) {
        parts.push(part.text);
        continue;
      }
      const e = this.parseSubExpression(part.hole, "interpolation hole");
      const hole: Mutable<{ e: Expr; format?: string; align?: number }> = { e };
      if (part.format !== null) hole.format = part.format;
      if (part.align !== null) {
        const text = this.src.slice(part.align[0], part.align[1]).trim();
        if (!/^-?\d{1,4}$/.test(text)) {
          this.errors.push(this.errorAt(part.align[0], part.align[1] - part.align[0], "interpolation alignment must be an integer constant"));
        } else {
          hole.align = Number(text);
        }
      }
      parts.push(hole);
    }
    return { t: "interp", at: this.pos(t), parts };
  }

  /** Parses the code of an interpolation hole with the same scopes. */
  private parseSubExpression(range: readonly [number, number], what: string): Expr {
    const saved = { toks: this.toks, i: this.i, statementStart: this.statementStart };
    this.toks = lex(this.src, range[0], range[1]);
    this.i = 0;
    this.statementStart = -1;
    if (this.peek().k === "eof") this.fail({ k: "eof", s: "", start: Math.max(0, range[0] - 1), end: range[0] }, `empty ${what}`);
    const e = this.parseExpr();
    this.expectEof(what);
    this.toks = saved.toks;
    this.i = saved.i;
    this.statementStart = saved.statementStart;
    return e;
  }
}

/** Identifiers that may follow a type in `x is T` without being a pattern variable. */
const KEYWORD_AFTER_TYPE: ReadonlySet<string> = new Set(["and", "or", "is", "as", "when", "switch", "with"]);

const BINARY_LEVELS: ReadonlyArray<ReadonlyMap<string, Extract<Expr, { t: "binary" }>["op"]>> = [
  new Map([["||", "||"]]),
  new Map([["&&", "&&"]]),
  new Map([["==", "=="], ["!=", "!="]]),
  new Map([["<", "<"], ["<=", "<="], [">", ">"], [">=", ">="]]),
  new Map([["+", "+"], ["-", "-"]]),
  new Map([["*", "*"], ["/", "/"], ["%", "%"]]),
];

function describe(t: Tok): string {
  if (t.k === "eof") return "the end of the code";
  const s = t.s.length > 20 ? t.s.slice(0, 20) + "…" : t.s;
  return `'${s}'`;
}

/** C#'s reachability, reduced to our statements: does every path through `s` end in a return? */
function alwaysReturns(s: Stmt): boolean {
  switch (s.t) {
    case "return":
      return true;
    case "block":
      return s.body.some(alwaysReturns);
    case "if":
      return s.else !== null && alwaysReturns(s.then) && alwaysReturns(s.else);
    case "try":
      return (alwaysReturns(s.body) && s.catches.every((c) => alwaysReturns(c.body))) || (s.fin !== null && alwaysReturns(s.fin));
    default:
      return false;
  }
}
