/**
 * policy/expr/check-types — the compile-time member and type check over a parsed expression (parse.ts output):
 * every `x.Name` / `x.Name(…)` on an instance must be declared in types.ts, and every type written in a cast,
 * `as`, `is`, a typed local or a generic argument must be one the interpreter knows. What passes here runs (the
 * interpreter implements every member of types.ts: types.test.ts walks it); what does not is a compile error at
 * the member's position, instead of a RuntimeBinderException on every request.
 *
 * Contract: pure, no I/O; never throws on a well-formed AST; returns every error found (position + message).
 * Types are inferred only where they are certain (context's members, literals, string members …); elsewhere the
 * type is "?" and a member is accepted when some type declares it with that kind (types.ts ANY_MEMBER).
 */
import { isAesName } from "./crypt";
import type { Block, Code, Expr, Pos, Stmt } from "./ast";
import { ENUM_MEMBERS, EXCEPTION_TYPES, STATIC_TYPES, TYPE_KEYWORDS } from "./names";
import { ANY_MEMBER, INSTANCE_TYPES, JTOKEN_TYPES, NULL_ONLY_TYPES, NULLABLE_MEMBERS, OBJECT_MEMBERS, typeDecl, type MemberDecl, type MemberKind } from "./types";
import { LINQ_METHODS } from "./linq";
import { compileRegex, regexFlags, REGEX_OPTIONS } from "./regex";

export interface TypeError {
  readonly at: Pos;
  readonly message: string;
  /** Characters to underline (the member's name, else 1). */
  readonly length: number;
}

const UNKNOWN = "?";
/** The type of an expression already reported: its members are not reported again. */
const REPORTED = "!";

/** Generic and interface collection types the interpreter's casts and `is` understand (convert.ts isOfType). */
const COLLECTION_TYPES = /^(IEnumerable|ICollection|IList|IReadOnlyList|IReadOnlyCollection|List|Array|IDictionary|IReadOnlyDictionary|Dictionary|KeyValuePair)$/;
const OTHER_TYPES = new Set([
  "object", "dynamic", "var", "JToken", "JContainer", "JObject", "JArray", "JValue", "JProperty", "DateTime", "TimeSpan",
  "HMAC", "HMACSHA1", "HMACSHA256", "HMACSHA384", "HMACSHA512",
]);

/** Splits `A<B,C<D>>` into its top-level generic arguments. */
function genericArgs(inner: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === "<") depth++;
    else if (c === ">") depth--;
    else if (c === "," && depth === 0) {
      out.push(inner.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(inner.slice(start).trim());
  return out;
}

/** The first type name in `type` that the interpreter does not know, or null when it knows all of them. */
export function unknownType(type: string): string | null {
  let t = type.trim();
  while (t.endsWith("?") || t.endsWith("]")) t = t.endsWith("?") ? t.slice(0, -1) : t.slice(0, t.lastIndexOf("["));
  const lt = t.indexOf("<");
  if (lt > 0 && t.endsWith(">")) {
    const base = t.slice(0, lt);
    if (!COLLECTION_TYPES.test(base)) return base;
    for (const a of genericArgs(t.slice(lt + 1, -1))) {
      const bad = unknownType(a);
      if (bad !== null) return bad;
    }
    return null;
  }
  if (TYPE_KEYWORDS.has(t) || OTHER_TYPES.has(t) || EXCEPTION_TYPES.has(t) || STATIC_TYPES.has(t) || INSTANCE_TYPES.has(t) || COLLECTION_TYPES.test(t)) return null;
  return t;
}

/** The inferred type of a value written as `type` (a cast, a typed local). */
function declaredType(type: string): string {
  const t = type.endsWith("?") ? type.slice(0, -1) : type;
  if (t === "object" || t === "dynamic" || t === "var") return UNKNOWN;
  if (t === "JToken" || t === "JContainer") return "JToken";
  if (t.endsWith("]")) return t;
  return typeDecl(t) !== null || ENUM_MEMBERS.has(t) ? t : UNKNOWN;
}

/** The members `type` has, or null when it is unknown. */
function membersOf(type: string): ((name: string, kind: MemberKind) => MemberDecl | null) | null {
  if (type === UNKNOWN) return null;
  if (type === "JToken") {
    return (name, kind) => {
      for (const t of JTOKEN_TYPES) {
        const m = INSTANCE_TYPES.get(t)!.members.get(name);
        if (m?.kind === kind) return { kind, returns: UNKNOWN };
      }
      return fallback(name, kind, true, false);
    };
  }
  if (ENUM_MEMBERS.has(type)) return (name, kind) => fallback(name, kind, false, true);
  const d = typeDecl(type);
  if (d === null) return null;
  return (name, kind) => {
    const m = d.members.get(name);
    if (m?.kind === kind) return m;
    return fallback(name, kind, d.enumerable, d.valueType === true);
  };
}

function fallback(name: string, kind: MemberKind, enumerable: boolean, valueType: boolean): MemberDecl | null {
  const o = OBJECT_MEMBERS.get(name);
  if (o?.kind === kind) return o;
  if (valueType) {
    const n = NULLABLE_MEMBERS.get(name);
    if (n?.kind === kind) return n;
  }
  if (enumerable && kind === "method" && LINQ_METHODS.has(name)) return { kind, returns: UNKNOWN };
  return null;
}

/**
 * The result types of static members the checker can be sure of (statics.ts), so `DateTime.UtcNow.Lenght` is an
 * error at compile time too; a static not listed here gives a value of run-time type ("?").
 */
const STATIC_RESULTS: ReadonlyMap<string, string> = new Map([
  ["DateTime.UtcNow", "DateTime"], ["DateTime.Now", "DateTime"], ["DateTime.Today", "DateTime"], ["DateTime.Parse", "DateTime"],
  ["DateTimeOffset.UtcNow", "DateTimeOffset"], ["DateTimeOffset.Now", "DateTimeOffset"], ["DateTimeOffset.UnixEpoch", "DateTimeOffset"],
  ["DateTimeOffset.FromUnixTimeSeconds", "DateTimeOffset"], ["DateTimeOffset.FromUnixTimeMilliseconds", "DateTimeOffset"],
  ["Guid.NewGuid", "Guid"], ["Guid.Parse", "Guid"], ["Guid.Empty", "Guid"],
  ["Encoding.UTF8", "Encoding"], ["Encoding.ASCII", "Encoding"],
  ["Convert.ToBase64String", "string"], ["Convert.ToHexString", "string"], ["Convert.FromBase64String", "byte[]"],
  ["Uri.EscapeDataString", "string"], ["Uri.UnescapeDataString", "string"],
  ["WebUtility.HtmlEncode", "string"], ["WebUtility.UrlEncode", "string"], ["WebUtility.UrlDecode", "string"],
  ["string.Join", "string"], ["string.Format", "string"], ["string.Concat", "string"], ["string.Empty", "string"],
  ["string.IsNullOrEmpty", "bool"], ["string.IsNullOrWhiteSpace", "bool"], ["Array.Exists", "bool"],
  ["int.Parse", "int"], ["long.Parse", "long"], ["double.Parse", "double"], ["bool.Parse", "bool"],
  ["JObject.Parse", "JObject"], ["JArray.Parse", "JArray"], ["JObject.FromObject", "JObject"],
  ["TimeSpan.FromDays", "TimeSpan"], ["TimeSpan.FromHours", "TimeSpan"], ["TimeSpan.FromMinutes", "TimeSpan"],
  ["TimeSpan.FromSeconds", "TimeSpan"], ["TimeSpan.FromMilliseconds", "TimeSpan"], ["TimeSpan.Zero", "TimeSpan"],
  ["SHA1.Create", "HashAlgorithm"], ["SHA256.Create", "HashAlgorithm"], ["SHA384.Create", "HashAlgorithm"], ["SHA512.Create", "HashAlgorithm"],
  ["SHA1.HashData", "byte[]"], ["SHA256.HashData", "byte[]"], ["SHA384.HashData", "byte[]"], ["SHA512.HashData", "byte[]"],
]);

/**
 * Parameter types of static methods whose arguments are commonly mixed up (a string where bytes go): an argument
 * whose type the checker knows and that cannot be passed is a compile error (C# would not compile it either).
 */
const STATIC_PARAMS: ReadonlyMap<string, readonly string[]> = new Map([
  ["Convert.ToBase64String", ["byte[]"]], ["Convert.ToHexString", ["byte[]"]], ["Convert.FromBase64String", ["string"]],
  ["SHA1.HashData", ["byte[]"]], ["SHA256.HashData", ["byte[]"]], ["SHA384.HashData", ["byte[]"]], ["SHA512.HashData", ["byte[]"]],
  ["Uri.EscapeDataString", ["string"]], ["Uri.UnescapeDataString", ["string"]], ["Guid.Parse", ["string"]],
  ["WebUtility.UrlEncode", ["string"]], ["WebUtility.UrlDecode", ["string"]], ["WebUtility.HtmlEncode", ["string"]],
]);

/** Whether a value of inferred type `arg` can be passed where `param` is expected ("?" always can). */
function passes(arg: string, param: string): boolean {
  if (arg === UNKNOWN || arg === REPORTED) return true;
  if (param === "byte[]") return arg.endsWith("[]");
  return arg === param;
}

const article = (kind: MemberKind) => (kind === "prop" ? "property" : "method");

/** Scopes of local variables: name → inferred type. */
class Scope {
  private readonly vars = new Map<string, string>();
  constructor(private readonly parent: Scope | null) {}
  find(name: string): string | undefined {
    return this.vars.get(name) ?? this.parent?.find(name);
  }
  declare(name: string, type: string): void {
    this.vars.set(name, type);
  }
}

class TypeChecker {
  readonly errors: TypeError[] = [];

  error(at: Pos, message: string, length = 1): void {
    this.errors.push({ at, message, length });
  }

  /**
   * A `.` member of context.User / Subscription / Product, which are always null in certgate (no subscriptions):
   * it would throw a NullReferenceException on every request, so it is a compile error (`?.` gives null, as in
   * APIM without a subscription). Reported when the member exists; an unknown one gets the usual error.
   */
  alwaysNull(at: Pos, type: string, name: string): boolean {
    const decl = NULL_ONLY_TYPES.get(type);
    if (decl === undefined || !decl.members.has(name)) return false;
    const owner = { IUser: "User", ISubscription: "Subscription", IProduct: "Product" }[type] ?? type;
    this.error(at, `context.${owner} is always null in certgate (no subscriptions): '.${name}' would fail on every request; write '?.${name}' (null)`);
    return true;
  }

  checkType(at: Pos, type: string, what: string): void {
    const bad = unknownType(type);
    if (bad !== null) this.error(at, `unsupported type: ${bad} (${what})`);
  }

  block(b: Block, scope: Scope): void {
    const inner = new Scope(scope);
    for (const s of b.body) this.stmt(s, inner);
  }

  stmt(s: Stmt, scope: Scope): void {
    switch (s.t) {
      case "decl": {
        if (s.type !== "var") this.checkType(s.at, s.type, `local ${s.name}`);
        const init = s.init ? this.expr(s.init, scope) : UNKNOWN;
        scope.declare(s.name, s.type === "var" ? init : declaredType(s.type));
        return;
      }
      case "assign":
        this.expr(s.target, scope);
        this.expr(s.value, scope);
        return;
      case "if":
        this.expr(s.c, scope);
        this.stmt(s.then, new Scope(scope));
        if (s.else) this.stmt(s.else, new Scope(scope));
        return;
      case "return":
        if (s.e) this.expr(s.e, scope);
        return;
      case "expr":
        this.expr(s.e, scope);
        return;
      case "block":
        this.block(s, scope);
        return;
      case "break":
      case "continue":
        return;
      case "foreach": {
        if (s.type !== "var") this.checkType(s.at, s.type, `loop variable ${s.name}`);
        const source = this.expr(s.e, scope);
        const d = source === UNKNOWN || source === REPORTED ? null : typeDecl(source);
        if (d !== null && !d.enumerable) this.error(s.e.at, `foreach cannot enumerate ${source}${d.members.has("Keys") ? " (enumerate its Keys)" : ""}`);
        const inner = new Scope(scope);
        const element = s.type !== "var" ? declaredType(s.type) : source === "string" ? "char" : source.endsWith("[]") ? declaredType(source.slice(0, -2)) : UNKNOWN;
        inner.declare(s.name, element);
        this.stmt(s.body, inner);
        return;
      }
      case "try":
        this.block(s.body, scope);
        for (const c of s.catches) {
          const inner = new Scope(scope);
          if (c.name !== null) inner.declare(c.name, "Exception");
          this.block(c.body, inner);
        }
        if (s.fin) this.block(s.fin, scope);
        return;
    }
  }

  /** Whether `e` names a static type here (interpret.ts staticType). */
  private isStatic(e: Expr, scope: Scope): boolean {
    return e.t === "id" && scope.find(e.name) === undefined && STATIC_TYPES.has(e.name);
  }

  private member(at: Pos, objType: string, name: string, kind: MemberKind, typeArgs?: readonly string[]): string {
    if (objType === REPORTED) return REPORTED;
    const lookup = membersOf(objType);
    if (lookup === null) {
      if (!ANY_MEMBER[kind].has(name) && !(kind === "method" && LINQ_METHODS.has(name))) {
        const other = ANY_MEMBER[kind === "prop" ? "method" : "prop"].has(name);
        this.error(at, other ? `'${name}' is a ${article(kind === "prop" ? "method" : "prop")}, not a ${article(kind)}` : `unsupported member: ${name} (no type certgate knows has a ${article(kind)} ${name})`, name.length);
        return REPORTED;
      }
      return UNKNOWN;
    }
    const m = lookup(name, kind);
    if (m === null) {
      const other = lookup(name, kind === "prop" ? "method" : "prop");
      this.error(at, other ? `'${objType}.${name}' is a ${article(other.kind)}, not a ${article(kind)}` : `unsupported member: ${objType}.${name}`, name.length);
      return REPORTED;
    }
    if (m.typeArgs !== undefined) {
      const given = typeArgs ?? [];
      if (given.length !== 1 || !m.typeArgs.includes(given[0]!)) {
        this.error(at, `unsupported type argument: ${objType}.${name}<${given.join(", ")}> (certgate runs ${m.typeArgs.map((t) => `${name}<${t}>`).join(", ")})`, name.length);
        return REPORTED;
      }
      return given[0] === "JToken" || given[0] === "JObject" || given[0] === "JArray" || given[0] === "string" ? given[0]! : m.returns;
    }
    return m.returns;
  }

  /**
   * `Regex.IsMatch/Match/Matches/Replace(input, pattern[, replacement][, options])`: the pattern must be a string
   * literal that regex.ts can run with .NET's meaning, and the options ones it honours — checked here so that a
   * pattern that would fail (or mean something else) is a compile error, not a failure on every request.
   */
  private regexCall(name: string, e: Extract<Expr, { t: "call" }>): string {
    if (name === "Escape") return "string";
    const pattern = e.args[1];
    const options = e.args[name === "Replace" ? 3 : 2];
    let option: string | null = null;
    if (options !== undefined) {
      const known = options.t === "member" && options.obj.t === "id" && options.obj.name === "RegexOptions";
      if (!known || !REGEX_OPTIONS.has(options.name)) {
        this.error(options.at, `unsupported regex options: certgate runs ${[...REGEX_OPTIONS].map((o) => `RegexOptions.${o}`).join(", ")}, written out (not combined or computed)`);
        return REPORTED;
      }
      option = options.name;
    }
    if (pattern === undefined) return UNKNOWN;
    if (pattern.t !== "lit" || pattern.k !== "string" || typeof pattern.v !== "string") {
      this.error(pattern.at, "a Regex pattern must be a string literal (certgate checks it when compiling the policy)");
      return REPORTED;
    }
    const r = compileRegex(pattern.v, regexFlags(option));
    if (!r.ok) {
      this.error(pattern.at, `unsupported regex pattern ${JSON.stringify(pattern.v)} at offset ${r.index}: ${r.message}`);
      return REPORTED;
    }
    return name === "IsMatch" ? "bool" : name === "Match" ? "Match" : name === "Replace" ? "string" : "Match[]";
  }

  /** `T.TryParse(s, out x)`: the out local has type T (or the one written). */
  private tryParseCall(e: Extract<Expr, { t: "call" }>, scope: Scope): string {
    const type = (e.callee as Extract<Expr, { t: "member" }>).obj as Extract<Expr, { t: "id" }>;
    const out = e.args[1];
    if (e.args.length !== 2 || out?.t !== "out") {
      this.error(e.at, `${type.name}.TryParse takes (string, out ${type.name} result)`);
      return REPORTED;
    }
    this.expr(e.args[0]!, scope);
    if (out.type !== null && out.type !== "var") this.checkType(out.at, out.type, `out ${out.name}`);
    if (out.type !== null) scope.declare(out.name, out.type === "var" ? type.name : declaredType(out.type));
    return "bool";
  }

  /** `s.TryParseJwt(out Jwt jwt)` (APIM's string extension): the out local is a Jwt. */
  private tryParseJwtCall(e: Extract<Expr, { t: "call" }>, scope: Scope): string {
    const callee = e.callee as Extract<Expr, { t: "member" }>;
    const out = e.args[0];
    const on = this.expr(callee.obj, scope);
    if (on !== "string" && on !== UNKNOWN && on !== REPORTED) {
      this.error(callee.at, `TryParseJwt is a string method, not one of ${on}`);
      return REPORTED;
    }
    if (e.args.length !== 1 || out?.t !== "out") {
      this.error(e.at, "TryParseJwt takes (out Jwt result)");
      return REPORTED;
    }
    if (out.type !== null && out.type !== "var" && out.type !== "Jwt") this.error(out.at, `out ${out.name}: TryParseJwt gives a Jwt, not ${out.type}`);
    if (out.type !== null) scope.declare(out.name, "Jwt");
    return "bool";
  }

  expr(e: Expr, scope: Scope): string {
    switch (e.t) {
      case "lit":
        return e.k === "null" ? UNKNOWN : e.k;
      case "id":
        if (e.name === "context" && scope.find(e.name) === undefined) return "IProxyRequestContext";
        return scope.find(e.name) ?? UNKNOWN;
      case "member": {
        // The parser checked static members (names.ts).
        if (this.isStatic(e.obj, scope)) return STATIC_RESULTS.get(`${(e.obj as Extract<Expr, { t: "id" }>).name}.${e.name}`) ?? UNKNOWN;
        const t = this.expr(e.obj, scope);
        if (!e.nullCond && this.alwaysNull(e.at, t, e.name)) return REPORTED;
        return this.member(e.at, t, e.name, "prop");
      }
      case "index": {
        const t = this.expr(e.obj, scope);
        this.expr(e.index, scope);
        if (t === "string") return "char";
        if (t.endsWith("[]")) return declaredType(t.slice(0, -2));
        if (t === "IReadOnlyDictionary<string, string[]>") return "string[]";
        if (t === "JObject" || t === "JArray") return "JToken";
        if (t === "GroupCollection") return "Group";
        return UNKNOWN;
      }
      case "call": {
        if (e.callee.t === "member" && e.callee.name === "TryParse" && this.isStatic(e.callee.obj, scope)) return this.tryParseCall(e, scope);
        if (e.callee.t === "member" && e.callee.name === "TryParseJwt" && !this.isStatic(e.callee.obj, scope)) return this.tryParseJwtCall(e, scope);
        const argTypes = e.args.map((a) => this.expr(a, scope));
        const callee = e.callee;
        const before = this.errors.length;
        for (const t of e.typeArgs ?? []) this.checkType(callee.t === "member" ? callee.at : e.at, t, "type argument");
        if (callee.t !== "member") return UNKNOWN;
        if (this.isStatic(callee.obj, scope)) {
          const type = (callee.obj as Extract<Expr, { t: "id" }>).name;
          if (type === "Regex") return this.regexCall(callee.name, e);
          const params = STATIC_PARAMS.get(`${type}.${callee.name}`);
          if (params !== undefined) {
            const bad = argTypes.findIndex((t, k) => k < params.length && !passes(t, params[k]!));
            if (bad >= 0) {
              const an = (t: string) => `${/^[aeiouAEIOU]/.test(t) ? "an" : "a"} ${t}`;
              this.error(e.args[bad]!.at, `${type}.${callee.name} takes ${an(params[bad]!)} here, not ${an(argTypes[bad]!)}`);
              return REPORTED;
            }
          }
          return STATIC_RESULTS.get(`${type}.${callee.name}`) ?? UNKNOWN;
        }
        const t = this.expr(callee.obj, scope);
        if (this.errors.length > before) return REPORTED;
        if (!callee.nullCond && this.alwaysNull(callee.at, t, callee.name)) return REPORTED;
        // byte[].Encrypt / Decrypt (crypt.ts): a literal algorithm name must be AES's.
        const alg = (callee.name === "Encrypt" || callee.name === "Decrypt") ? e.args[0] : undefined;
        if (alg?.t === "lit" && alg.k === "string" && typeof alg.v === "string" && !isAesName(alg.v)) {
          this.error(alg.at, `unsupported algorithm: ${callee.name} runs AES only here (Aes, AesManaged, AesCryptoServiceProvider), not "${alg.v}"`);
          return REPORTED;
        }
        return this.member(callee.at, t, callee.name, "method", e.typeArgs);
      }
      case "unary": {
        const t = this.expr(e.e, scope);
        return e.op === "!" ? "bool" : t;
      }
      case "binary": {
        const l = this.expr(e.l, scope);
        const r = this.expr(e.r, scope);
        if (["&&", "||", "==", "!=", "<", "<=", ">", ">="].includes(e.op)) return "bool";
        if (e.op === "+" && (l === "string" || r === "string")) return "string";
        if (e.op === "??") return l === r ? l : UNKNOWN;
        return l === r && (l === "int" || l === "long" || l === "double") ? l : UNKNOWN;
      }
      case "cond": {
        this.expr(e.c, scope);
        const a = this.expr(e.a, scope);
        const b = this.expr(e.b, scope);
        return a === b ? a : UNKNOWN;
      }
      case "cast":
        this.expr(e.e, scope);
        this.checkType(e.at, e.type, e.as ? "as" : "cast");
        return declaredType(e.type);
      case "is":
        this.expr(e.e, scope);
        if (e.type !== null) this.checkType(e.at, e.type, "is");
        if (e.bind !== undefined) scope.declare(e.bind, e.type === null ? UNKNOWN : declaredType(e.type));
        return "bool";
      case "lambda": {
        const inner = new Scope(scope);
        for (const p of e.params) inner.declare(p, UNKNOWN);
        if (e.body.t === "block") this.block(e.body, inner);
        else this.expr(e.body, inner);
        return UNKNOWN;
      }
      case "new":
        for (const a of e.args) this.expr(a, scope);
        for (const [, v] of e.init ?? []) this.expr(v, scope);
        for (const item of e.items ?? []) for (const a of item) this.expr(a, scope);
        this.checkType(e.at, e.type, "new");
        // certgate's DateTimeOffset is always at offset zero: only new DateTimeOffset(DateTime) is supported.
        if (e.type === "Uri" && e.args.length !== 1) this.error(e.at, "unsupported constructor: new Uri takes one absolute URI string here", 3);
        if (e.type === "Random" && e.args.length > 1) this.error(e.at, "unsupported constructor: new Random takes no argument or one int seed", 3);
        if (e.type === "DateTimeOffset" && e.args.length !== 1) this.error(e.at, "unsupported constructor: new DateTimeOffset takes one DateTime here (certgate's DateTimeOffset is always at offset zero)");
        return e.type.startsWith("List<") ? e.type : declaredType(e.type);
      case "anon":
        for (const [, v] of e.props) this.expr(v, scope);
        return UNKNOWN;
      case "array":
        if (e.size) this.expr(e.size, scope);
        for (const item of e.items) this.expr(item, scope);
        if (e.type !== null) this.checkType(e.at, e.type, "array");
        return `${e.type ?? "object"}[]`;
      case "interp":
        for (const p of e.parts) if (typeof p !== "string") this.expr(p.e, scope);
        return "string";
      case "out":
        this.error(e.at, "unsupported construct: out argument (certgate runs out only in T.TryParse(s, out x) and s.TryParseJwt(out x))", 3);
        return REPORTED;
    }
  }
}

/** Every member and type error in `code` (empty when it can run). */
export function checkTypes(code: Code): TypeError[] {
  const c = new TypeChecker();
  const scope = new Scope(null);
  if (code.kind === "expr") c.expr(code.node, scope);
  else c.block(code.node, scope);
  return c.errors;
}
