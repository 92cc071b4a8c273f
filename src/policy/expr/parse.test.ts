import { describe, expect, it } from "vitest";
import type { Block, Code, Expr, Stmt } from "./ast";
import { findCodeEnd, parseCode } from "./parse";

function parseOk(source: string, at: readonly [number, number] = [1, 1]): Code {
  const r = parseCode(source, "p.xml", at);
  if (!r.ok) throw new Error(`${source}: ${r.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("; ")}`);
  return r.code;
}

function errorsOf(source: string, at: readonly [number, number] = [1, 1]): string[] {
  const r = parseCode(source, "p.xml", at);
  if (r.ok) throw new Error(`${source}: expected a parse error`);
  return r.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

/** Fully parenthesized rendering of an expression, to pin precedence and associativity. */
function show(e: Expr): string {
  switch (e.t) {
    case "lit":
      return e.k === "string" ? JSON.stringify(e.v) : e.k === "char" ? `'${String(e.v)}'` : e.k === "double" ? `${String(e.v)}d` : String(e.v);
    case "id":
      return e.name;
    case "member":
      return `${show(e.obj)}${e.nullCond ? "?." : "."}${e.name}`;
    case "index":
      return `${show(e.obj)}${e.nullCond ? "?[" : "["}${show(e.index)}]`;
    case "call":
      return `${show(e.callee)}${e.typeArgs ? `<${e.typeArgs.join(",")}>` : ""}(${e.args.map(show).join(", ")})`;
    case "unary":
      return `(${e.op}${show(e.e)})`;
    case "binary":
      return `(${show(e.l)} ${e.op} ${show(e.r)})`;
    case "cond":
      return `(${show(e.c)} ? ${show(e.a)} : ${show(e.b)})`;
    case "cast":
      return e.as ? `(${show(e.e)} as ${e.type})` : `((${e.type})${show(e.e)})`;
    case "is":
      return `(${show(e.e)} is ${e.negated ? "not " : ""}${e.type ?? "null"}${e.bind ? " " + e.bind : ""})`;
    case "lambda":
      return `((${e.params.join(", ")}) => ${e.body.t === "block" ? "{…}" : show(e.body)})`;
    case "new":
      return `new ${e.type}(${e.args.map(show).join(", ")})${e.items ? `{${e.items.map((i) => i.map(show).join(", ")).join("; ")}}` : ""}`;
    case "anon":
      return `new {${e.props.map(([k, v]) => `${k} = ${show(v)}`).join(", ")}}`;
    case "array":
      return `new ${e.type ?? ""}[] {${e.items.map(show).join(", ")}}`;
    case "out":
      return `out ${e.type === null ? "" : `${e.type} `}${e.name}`;
    case "interp":
      return `$"${e.parts.map((p) => (typeof p === "string" ? p : `{${show(p.e)}${p.align !== undefined ? "," + p.align : ""}${p.format !== undefined ? ":" + p.format : ""}}`)).join("")}"`;
  }
}

const LOCALS = "var a = true; var b = true; var c = true; var d = 1; var e = 2; var x = 3; var y = 4; var s = \"s\"; var o = (object)null;";

/** The expression of `return …;` in a block that declares a, b, c, d, e, x, y, s, o. */
function expr(source: string): string {
  const code = parseOk(`@{ ${LOCALS} return ${source}; }`);
  const ret = (code.node as Block).body.at(-1) as Extract<Stmt, { t: "return" }>;
  return show(ret.e!);
}

describe("parseCode: expressions", () => {
  it.each([
    ["a || b && c", "(a || (b && c))"],
    ["a && b || c", "((a && b) || c)"],
    ["d + e * x", "(d + (e * x))"],
    ["d - e - x", "((d - e) - x)"],
    ["d / e % x", "((d / e) % x)"],
    ["o ?? s ?? \"z\"", "(o ?? (s ?? \"z\"))"],
    ["a || b ?? c", "((a || b) ?? c)"],
    ["a ? d : b ? e : x", "(a ? d : (b ? e : x))"],
    ["a ? b ? d : e : x", "(a ? (b ? d : e) : x)"],
    ["d == 1 && e != 2", "((d == 1) && (e != 2))"],
    ["d < e == a", "((d < e) == a)"],
    ["d + e < x * y", "((d + e) < (x * y))"],
    ["!a && b", "((!a) && b)"],
    ["-d * e", "((-d) * e)"],
    ["-1 * e", "(-1 * e)"],
    ["-(d) * e", "((-d) * e)"],
    ["- -d", "(-(-d))"],
    ["(string)o + \"a\"", "(((string)o) + \"a\")"],
    ["(int)-d", "((int)(-d))"],
    ["(d) - e", "(d - e)"],
    ["(d)", "d"],
    ["o as string ?? \"d\"", "((o as string) ?? \"d\")"],
    ["o as int? ?? 0", "((o as int?) ?? 0)"],
    ["o is null || a", "((o is null) || a)"],
    ["o is not null && a", "((o is not null) && a)"],
    ["o is string && a", "((o is string) && a)"],
    ["o is JObject j && j.HasValues", "((o is JObject j) && j.HasValues)"],
    ["s?.Length ?? 0", "(s?.Length ?? 0)"],
    ["s?[0]", "s?[0]"],
    ["context.Variables[\"k\"]", "context.Variables[\"k\"]"],
    ["context.Variables.GetValueOrDefault<string>(\"k\", \"d\")", "context.Variables.GetValueOrDefault<string>(\"k\", \"d\")"],
    ["d < e && x > y", "((d < e) && (x > y))"],
    ["s.Split(',').Where(p => p != \"\").Select((p, i) => p + i).ToArray()", "s.Split(',').Where(((p) => (p != \"\"))).Select(((p, i) => (p + i))).ToArray()"],
    ["s.All(char.IsDigit)", "s.All(char.IsDigit)"],
    ["o is string t && t.Length > 0", "((o is string t) && (t.Length > 0))"],
    ["new JObject(new JProperty(\"a\", 1))", "new JObject(new JProperty(\"a\", 1))"],
    ["new List<string> { \"a\", s }", "new List<string>(){\"a\"; s}"],
    ["new JObject { { \"k\", 1 } }", "new JObject(){\"k\", 1}"],
    ["new { A = 1, s.Length, d }", "new {A = 1, Length = s.Length, d = d}"],
    ["new[] { 1, 2 }", "new [] {1, 2}"],
    ["new string[] { \"a\" }", "new string[] {\"a\"}"],
    ["$\"x{d,5:D3}y{{z}}\"", "$\"x{d,5:D3}y{z}\""],
    ["$@\"a\"\"{s}\"", "$\"a\"{s}\""],
    ["@$\"{s}\"", "$\"{s}\""],
    ["string.IsNullOrEmpty(s)", "string.IsNullOrEmpty(s)"],
    ["String.IsNullOrEmpty(s)", "string.IsNullOrEmpty(s)"],
    ["System.String.Empty", "string.Empty"],
    ["Newtonsoft.Json.Formatting.None", "Formatting.None"],
    ["StringComparison.OrdinalIgnoreCase", "StringComparison.OrdinalIgnoreCase"],
    ["X509NameType.SimpleName", "X509NameType.SimpleName"],
    ["DateTime.UtcNow.AddDays(-1)", "DateTime.UtcNow.AddDays(-1)"],
    ["TimeSpan.FromMinutes(5)", "TimeSpan.FromMinutes(5)"],
    ["Int32.Parse(s)", "int.Parse(s)"],
    ["s!.Length", "s.Length"],
    ["(d + e) * x", "((d + e) * x)"],
    ["1.ToString()", "1.ToString()"],
    ["d.ToString(\"N2\")", "d.ToString(\"N2\")"],
    ["JsonConvert.DeserializeObject<JObject>(s)", "JsonConvert.DeserializeObject<JObject>(s)"],
    ["s.Where(c => { return c == 'a'; }).Count()", "s.Where(((c) => {…})).Count()"],
  ])("%s → %s", (source, expected) => {
    expect(expr(source)).toBe(expected);
  });

  it.each([
    ["\"a\\tb\\u0041\\x41\\\\\"", "a\tbAA\\"],
    ["@\"C:\\dir\"\"x\"\"\"", 'C:\\dir"x"'],
    ["\"\\U0001F600\"", "😀"],
  ])("string literal %s", (source, value) => {
    const node = parseOk(`@(${source})`).node as Extract<Expr, { t: "lit" }>;
    expect(node).toMatchObject({ t: "lit", k: "string", v: value });
  });

  it.each([
    ["42", "int", 42],
    ["0x1F", "int", 31],
    ["0b101", "int", 5],
    ["1_000_000", "int", 1000000],
    ["10L", "int", 10],
    ["7u", "int", 7],
    ["3UL", "int", 3],
    ["2.5", "double", 2.5],
    ["2.5f", "double", 2.5],
    ["2d", "double", 2],
    ["1.5m", "double", 1.5],
    ["1e3", "double", 1000],
    [".5", "double", 0.5],
    ["'x'", "char", "x"],
    ["'\\n'", "char", "\n"],
    ["'\\''", "char", "'"],
    ["true", "bool", true],
    ["null", "null", null],
    ["-5", "int", -5],
  ])("literal %s", (source, k, v) => {
    expect(parseOk(`@(${source})`).node).toMatchObject({ t: "lit", k, v });
  });

  it("scopes pattern variables in a single expression (regression: found by the token-soup property)", () => {
    expect(show(parseOk("@(context.Variables[\"x\"] is string s && s.Length > 0)").node as Expr)).toBe("((context.Variables[\"x\"] is string s) && (s.Length > 0))");
    expect(parseCode("@(Request is Match None)", "p.xml", [1, 1]).ok).toBe(false);
  });

  it("keeps the source and file, and numbers positions from the @", () => {
    const code = parseOk("@(1 + 2)", [7, 20]);
    expect(code).toMatchObject({ kind: "expr", file: "p.xml", src: "@(1 + 2)" });
    expect(code.node).toMatchObject({ t: "binary", at: [7, 24], l: { at: [7, 22] }, r: { at: [7, 26] } });
  });
});

describe("parseCode: statements", () => {
  it("parses a block with declarations, if/else if/else, assignments and return, with absolute positions", () => {
    const source = [
      "@{",
      "    string id = context.Request.Headers.GetValueOrDefault(\"x-id\", \"\");",
      "    int n = 0, m;",
      "    if (id.Length > 3) { n += 2; }",
      "    else if (id == \"\") n = 1;",
      "    else { context.Variables[\"seen\"] = true; n++; }",
      "    return n;",
      "}",
    ].join("\n");
    const code = parseOk(source, [12, 9]);
    expect(code.kind).toBe("block");
    const block = code.node as Block;
    expect(block.at).toEqual([12, 10]);
    expect(block.body.map((s) => s.t)).toEqual(["decl", "decl", "decl", "if", "return"]);
    expect(block.body[0]).toMatchObject({ t: "decl", type: "string", name: "id", at: [13, 12] });
    expect(block.body[1]).toMatchObject({ t: "decl", type: "int", name: "n", init: { v: 0 } });
    expect(block.body[2]).toMatchObject({ t: "decl", type: "int", name: "m", init: null });
    const ifs = block.body[3] as Extract<Stmt, { t: "if" }>;
    expect(ifs.at).toEqual([15, 5]);
    expect(ifs.then).toMatchObject({ t: "block", body: [{ t: "assign", op: "+=", at: [15, 28] }] });
    expect(ifs.else).toMatchObject({ t: "if", at: [16, 10], then: { t: "assign", op: "=" } });
    const last = (ifs.else as Extract<Stmt, { t: "if" }>).else as Block;
    expect(last.body[0]).toMatchObject({ t: "assign", op: "=", target: { t: "index" }, value: { v: true } });
    expect(last.body[1]).toMatchObject({ t: "assign", op: "+=", target: { t: "id", name: "n" }, value: { v: 1 } });
    expect(block.body[4]).toMatchObject({ t: "return", at: [18, 5], e: { t: "id", name: "n", at: [18, 12] } });
  });

  it.each([
    "@{ var x = 1; x -= 2; x *= 3; x /= 4; return x; }",
    "@{ string s = null; s ??= \"d\"; return s; }",
    "@{ DateTime d = DateTime.UtcNow; TimeSpan t = d - d; return t; }",
    "@{ string[] parts = \"a,b\".Split(','); return parts[0]; }",
    "@{ JObject o = new JObject(); o[\"a\"] = 1; return o; }",
    "@{ int? n = null; return n; }",
    "@{ List<string> l = new List<string>(); l.Add(\"a\"); return l; }",
    "@{ IEnumerable<string> xs = new[] { \"a\" }; return xs; }",
    "@{ const string k = \"a\"; return k; }",
    "@{ if (true) return 1; else return 2; }",
    "@{ { var x = 1; } { var x = 2; return x; } }",
    "@{ ; return null; }",
    "@{ return; }",
    "@{ var x = new JArray(); x.Add(1); return x; }",
    "@{ --context.Variables[\"n\"]; return 1; }",
    "@{ if (context.Variables[\"x\"] is string v) { return v; } return \"\"; }",
    "@{ /* comment */ return 1; // trailing\n }",
    "@{ string[] xs = { \"a\", \"b\" }; return xs; }",
  ])("accepts %s", (source) => {
    expect(parseOk(source).kind).toBe("block");
  });
});

describe("parseCode: errors name the construct, at line:col", () => {
  it.each([
    ["@{ checked { } return 1; }", "1:4 unsupported construct: checked"],
    ["@{ for (var i = 0; i < 3; i++) { } return 1; }", "1:4 unsupported construct: for loop"],
    ["@{ while (true) { } }", "1:4 unsupported construct: while loop"],
    ["@{ do { } while (true); }", "1:4 unsupported construct: do-while loop"],
    ["@{ switch (1) { } }", "1:4 unsupported construct: switch"],
    ["@{ lock (context) { } return 1; }", "1:4 unsupported construct: lock statement"],
    ["@{ throw new Exception(); }", "1:4 unsupported construct: throw"],
    ["@{ goto end; }", "1:4 unsupported construct: goto"],
    ["@{ using (var x = y) { } }", "1:4 unsupported construct: using statement"],
    ["@(from x in context.Variables select x)", "1:3 unsupported construct: LINQ query syntax"],
    ["@(Regex.Split(\"a\", \"b\"))", "1:9 unsupported method: Regex.Split"],
    ["@(Encoding.Unicode.GetString(x))", "1:12 unsupported member: Encoding.Unicode"],
    ["@(TimeSpan.TryParse(\"a\", out var t))", "1:12 unsupported method: TimeSpan.TryParse"],
    ["@(HttpUtility.UrlEncode(\"a\"))", "1:3 unsupported method: HttpUtility.UrlEncode"],
    ["@(Math.Pow(2, 3))", "1:8 unsupported method: Math.Pow"],
    ["@(DateTime.Foo)", "1:12 unsupported member: DateTime.Foo"],
    ["@(typeof(string))", "1:3 unsupported construct: typeof"],
    ["@(nameof(x))", "1:3 unsupported construct: nameof"],
    ["@(default(int))", "1:3 unsupported construct: default"],
    ["@(await x)", "1:3 unsupported construct: await"],
    ["@(this.x)", "1:3 unsupported construct: this"],
    ["@(x => x)", "1:3 unsupported construct: lambda outside a method argument"],
    ["@{ var x = 1; x++ ; return x++; }", "1:29 unsupported construct: ++ inside an expression (write x += 1; as a statement)"],
    ["@(1 & 2)", "1:5 unsupported operator: & (use && or ||)"],
    ["@(1 << 2)", "1:5 unsupported operator: << (shift)"],
    ["@(~1)", "1:3 unsupported operator: ~"],
    ["@(string.Join(separator: \",\", values: x))", "1:15 unsupported construct: named argument"],
    ["@{ int f(int x) { return x; } return f(1); }", "1:4 unsupported construct: local function"],
    ["@(\"\"\"raw\"\"\")", "1:3 unsupported construct: raw string literal"],
    ["@(new string[3] { \"a\", \"b\", \"c\" })", "1:17 unsupported construct: sized array with an initializer (write new string[] { … })"],
    ["@(new Exception(\"x\"))", "1:7 unsupported type: new Exception"],
    ["@(x switch { _ => 1 })", "1:3 unknown identifier: x"],
    ["@(1 switch { _ => 1 })", "1:5 unsupported construct: switch expression"],
    ["@(context.Variables is { Count: 1 })", "1:24 unsupported construct: pattern (only 'is null', 'is not null', 'is Type' and 'is Type name' are supported)"],
    ["@(new List<int> { Capacity = 1 })", "1:19 unsupported construct: object initializer"],
    ["@(context.Variables[^1])", "1:21 unsupported construct: index from end (^)"],
    ["@([1, 2])", "1:3 unsupported construct: collection expression"],
    ["@(foo)", "1:3 unknown identifier: foo"],
    ["@(string)", "1:3 'string' is a type, not a value"],
    ["@(DateTime)", "1:3 'DateTime' is a type, not a value"],
    ["@(1 + )", "1:7 expected an expression, found the end of the code"],
    ["@()", "1:3 expected an expression inside @( )"],
    ["@(1; 2)", "1:4 unexpected ';': @( ) holds a single expression; use @{ … } for statements"],
    ["@(context.Variables[\"a\"] = 1)", "1:26 unsupported construct: assignment inside an expression"],
    ["@{ return 1 }", "1:13 expected ';' after return, found the end of the code"],
    ["@{ var x = 1; }", "1:15 not all code paths return a value: a @{ } block must end with a return statement"],
    ["@{ if (true) return 1; }", "1:24 not all code paths return a value: a @{ } block must end with a return statement"],
    ["@{ 1 + 2; return 1; }", "1:4 only assignment, call, increment, decrement and new expressions can be used as a statement"],
    ["@{ var x = 1; var x = 2; return x; }", "1:19 a local named 'x' is already defined in this scope"],
    ["@{ string s = { \"a\" }; return s; }", "1:15 unsupported construct: array initializer without new (write new[] { … })"],
    ["@{ if (true) var x = 1; return 1; }", "1:14 a declaration is not allowed as the body of if/else (wrap it in { })"],
    ["@{ var context = 1; return 1; }", "1:8 a local named 'context' would hide the context parameter"],
    ["@{ return x; var x = 1; }", "1:11 unknown identifier: x"],
    ["@(\"abc)", "1:3 unterminated string literal"],
    ["@(\"a\nb\")", "1:3 newline in string literal"],
    ["@('ab')", "1:3 character literal must contain exactly one character"],
    ["@(\"\\q\")", "1:4 invalid escape sequence '\\q'"],
    ["@($\"a}b\")", "1:6 unescaped '}' in interpolated string (write '}}')"],
    ["@($\"{}\")", "1:5 empty interpolation hole"],
    ["@(1 + 2", "1:1 unterminated expression: no ')' closes '@('"],
    ["@(1) x", "1:5 unexpected text after the end of the expression"],
    ["(1)", "1:1 an expression starts with @( or @{"],
    ["@(99999999999999999999)", "1:3 integer literal too large"],
    ["@(1.5L)", "1:3 invalid number suffix 'l'"],
    ["@(1 § 2)", "1:5 unexpected character '§'"],
    ["@(#)", "1:3 expected an expression, found '#'"],
    ["@(s.x + 1)", "1:3 unknown identifier: s"],
  ])("%s → %s", (source, expected) => {
    expect(errorsOf(source)[0]).toBe(expected);
  });

  it("collects independent errors, with absolute positions in multi-line code", () => {
    const source = "@{\n  var a = foo;\n  var b = Random.Shared(a) + bar;\n  return a;\n}";
    expect(errorsOf(source, [40, 17])).toEqual(["41:11 unknown identifier: foo", "42:11 unsupported method: Random.Shared", "42:30 unknown identifier: bar"]);
  });

  it("reports the offending text", () => {
    const r = parseCode("@(Math.Pow(2, 3))", "p.xml", [1, 1]);
    expect(r).toMatchObject({ ok: false, errors: [{ text: "Pow" }] });
  });

  it("caps nesting instead of overflowing the stack", () => {
    const deep = "@(" + "(".repeat(5000) + "1" + ")".repeat(5000) + ")";
    expect(errorsOf(deep)[0]).toMatch(/nested more than 100 levels deep/);
    const chain = "@(\"a\"" + ".ToString()".repeat(5000) + ")";
    expect(errorsOf(chain)[0]).toMatch(/nested more than 100 levels deep/);
    const sum = "@(1" + " + 1".repeat(5000) + ")";
    expect(errorsOf(sum)[0]).toMatch(/nested more than 100 levels deep/);
    const ifs = "@{ " + "if (true) ".repeat(5000) + "return 1; return 2; }";
    expect(errorsOf(ifs)[0]).toMatch(/nested more than 100 levels deep/);
    expect(parseOk("@(" + "(".repeat(90) + "1" + ")".repeat(90) + ")").kind).toBe("expr");
  });
});

describe("findCodeEnd", () => {
  it.each([
    ["@(a)", 0, 4],
    ["x=\"@(a)\" y", 3, 7],
    ['@("a)b")', 0, 8],
    ['@("a\\")b")', 0, 10],
    ['@(@"a\\" + ")")', 0, 14],
    ['@(@"a "")" + ")")', 0, 17],
    ['@($"{(a ? ")" : "(")}")', 0, 23],
    ['@($"{{)")', 0, 9],
    ["@(')')", 0, 6],
    ["@('\\'')", 0, 7],
    ['@{ if (x) { return "}"; } return "{"; }', 0, 39],
    ["@(a // )\n)", 0, 10],
    ["@(a /* ) */ )", 0, 13],
    ['@{ var s = $@"a{b}""}}"; return s; }', 0, 36],
    ['@{ var s = $@"a{b}""}"; return s; }', 0, null],
    ['@($"{x:yyyy}")', 0, 14],
    ["@((a)(b)) tail", 0, 9],
  ])("%s from %i → %s", (text, start, end) => {
    expect(findCodeEnd(text, start)).toBe(end);
  });

  it.each([["@(a", 0], ['@("abc)', 0], ["@x", 0], ["(a)", 0], ['@($"{a")', 0], ["@(a /* )", 0], ["@", 0]])("%s → null", (text, start) => {
    expect(findCodeEnd(text, start)).toBeNull();
  });
});
