import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Block, Code, Expr, Pos, Stmt } from "./ast";
import { PolicyRuntimeError, StepLimitExceeded, evaluate, toText } from "./interpret";
import { ENUM_MEMBERS, STATIC_TYPES } from "./names";
import { findCodeEnd, parseCode } from "./parse";
import { makeContext } from "./test-context";

/** Evaluation may end in a value, a PolicyRuntimeError or StepLimitExceeded — nothing else. */
function evaluatesSafely(code: Code): void {
  try {
    const v = evaluate(code, { context: makeContext().context }, { remaining: 3000 });
    toText(v);
  } catch (e) {
    if (e instanceof PolicyRuntimeError || e instanceof StepLimitExceeded) return;
    throw new Error(`escaped: ${e instanceof Error ? e.stack : String(e)}\n${JSON.stringify(code).slice(0, 2000)}`);
  }
}

// ── token soups ────────────────────────────────────────────────────────────────────────────────────────────

const TOKENS = [
  "(", ")", "[", "]", "{", "}", ".", "?.", "?[", ",", ";", ":", "?", "??", "??=", "=>", "=", "==", "!=", "<", ">", "<=", ">=", "&&", "||", "!", "+", "-", "*", "/",
  "%", "+=", "++", "--", "&", "|", "^", "~", "<<", "@", "$", "#", "\\", "\"", "'", "$\"", "@\"", "$@\"", "\"a\"", "\"\\n\"", "'c'", "'\\''", "$\"{x}\"",
  "$\"{1:D2}\"", "@\"a\"\"b\"", "\"{\"", "\"}\"", "/*", "*/", "//", "\n", "0", "1", "42L", "1.5", "1e3", "0x1F", "2.5m", "true", "false", "null", "x", "y",
  "context", "Variables", "Request", "Headers", "Certificate", "Timestamp", "string", "int", "var", "new", "if", "else", "return", "is", "as", "not", "foreach",
  "while", "typeof", "from", "in", "select", "DateTime", "UtcNow", "AddDays", "TimeSpan", "JObject", "JProperty", "Regex", "Match", "Length", "Split", "Select",
  "Where", "Any", "First", "ToString", "GetValueOrDefault", "StringComparison", "OrdinalIgnoreCase", "X509NameType", "SimpleName", "Math", "Max", "System",
  "Newtonsoft", "Json", "Formatting", "None", "constructor", "__proto__", "List", "<string>", "out", "ref", "default", "switch", "case", "=>", " ", "  ",
];

const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(" "));
const tightSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(""));
const wrapped = fc.tuple(fc.constantFrom("@(", "@{", "@", "(", ""), fc.oneof(soup, tightSoup, fc.string({ maxLength: 60 })), fc.constantFrom(")", "}", "", "))", ")}")).map(([a, b, c]) => a + b + c);

describe("property: the parser is total", () => {
  it("never throws on token soups: ok with a Code, or errors with positions", () => {
    fc.assert(
      fc.property(wrapped, fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 200 }), (source, line, col) => {
        const r = parseCode(source, "soup.xml", [line, col]);
        if (r.ok) {
          expect(r.code.src).toBe(source);
          return;
        }
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) {
          expect(e.line).toBeGreaterThanOrEqual(line);
          expect(e.col).toBeGreaterThanOrEqual(1);
          expect(typeof e.message).toBe("string");
        }
      }),
      { numRuns: 1500 },
    );
  });

  it("findCodeEnd never throws and returns an index inside the text", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), wrapped, fc.string({ maxLength: 10 }), (before, code, after) => {
        const text = before + code + after;
        const end = findCodeEnd(text, before.length);
        if (end !== null) {
          expect(end).toBeGreaterThan(before.length + 1);
          expect(end).toBeLessThanOrEqual(text.length);
          expect(parseCode(text.slice(before.length, end), "f", [1, 1])).toHaveProperty("ok");
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("whatever parses from a soup evaluates safely", () => {
    let parsed = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS.filter((t) => !["\n", "/*", "//"].includes(t))), { maxLength: 12 }), (ts) => {
        const r = parseCode(`@(${ts.join(" ")})`, "soup.xml", [1, 1]);
        if (!r.ok) return;
        parsed++;
        evaluatesSafely(r.code);
      }),
      { numRuns: 1500 },
    );
    expect(parsed).toBeGreaterThan(0);
  });
});

// ── valid-looking expressions ──────────────────────────────────────────────────────────────────────────────

const atom = fc.constantFrom(
  "1", "0", "-3", "2.5", "\"abc\"", "\"\"", "null", "true", "'c'", "context.Timestamp", "DateTime.UtcNow", "context.Variables", "context.Request.Headers",
  "context.Request.Certificate", "context.Request.Certificate.Thumbprint", "new[] { 1, 2, 3 }", "new[] { \"a\", \"b\" }", "JObject.Parse(\"{\\\"a\\\":[1,{}]}\")",
  "new JObject(new JProperty(\"k\", 1))", "TimeSpan.FromHours(1)", "new { A = 1 }", "string.Empty", "StringComparison.OrdinalIgnoreCase", "new List<string> { \"x\" }",
  "context.Variables[\"role\"]", "X509NameType.SimpleName", "int.MaxValue", "context.Throws",
);
const postfix = fc.constantFrom(
  ".Length", ".Count", ".ToString()", ".ToUpper()", "?.ToString()", "[0]", "[\"a\"]", ".Any()", ".First()", ".Select(x => x)", ".Where(x => x != null)",
  ".Split(',')", ".AddDays(1)", ".TotalHours", ".Year", ".Contains(\"a\")", ".Value", ".Key", ".Properties()", ".ToString(\"o\")", ".Substring(1)", ".Trim()",
  ".GetValueOrDefault(\"k\", \"d\")", ".Count()", ".ToArray()", ".ToList()", ".Distinct()", ".Sum()", ".Max()", ".Skip(1)", ".HasValue", ".Type",
);
const binop = fc.constantFrom(" + ", " - ", " * ", " / ", " % ", " == ", " != ", " < ", " >= ", " && ", " || ", " ?? ");
const castTo = fc.constantFrom("(string)", "(int)", "(double)", "(bool)", "(JObject)", "(object)", "(string[])", "(int?)");

const term = fc.tuple(fc.option(castTo), atom, fc.array(postfix, { maxLength: 3 })).map(([c, a, ps]) => `${c ?? ""}(${a}${ps.join("")})`);
const expression = fc.tuple(term, fc.array(fc.tuple(binop, term), { maxLength: 3 }), fc.boolean(), fc.boolean()).map(([t, rest, interp, cond]) => {
  let e = t + rest.map(([o, x]) => o + x).join("");
  if (interp) e = `$"[{${e}}]"`;
  if (cond) e = `(${t} == null ? ${e} : ${t})`;
  return e;
});

describe("property: generated expressions fail only as C# would", () => {
  it("evaluates to a value, a PolicyRuntimeError or StepLimitExceeded", () => {
    let ran = 0;
    fc.assert(
      fc.property(expression, (source) => {
        const r = parseCode(`@(${source})`, "gen.xml", [1, 1]);
        if (!r.ok) return;
        ran++;
        evaluatesSafely(r.code);
      }),
      { numRuns: 1000 },
    );
    expect(ran).toBeGreaterThan(500);
  });
});

// ── random trees ───────────────────────────────────────────────────────────────────────────────────────────

const pos: fc.Arbitrary<Pos> = fc.tuple(fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 99 }));
const name = fc.constantFrom(
  "x", "y", "context", "DateTime", "string", "Math", "JObject", "JsonConvert", "char", "StringComparison", "X509NameType", "constructor", "__proto__", "toString",
  "valueOf", "prototype", "Length", "Variables", "Request", "Certificate", "Timestamp", "Parse", "Select", "Where", "First", "Count", "Any", "ToString", "Split",
  "Add", "Value", "Key", "Thumbprint", "GetNameInfo", "UtcNow", "AddDays", "FromDays", "Keys", "Empty", "IsNullOrEmpty", "Join", "Format", "OrdinalIgnoreCase",
  "SimpleName", "Properties", "SelectToken", "Throws", "Fail", "Headers", "IsDigit", "SerializeObject", "Max", "HasValue", "GetValueOrDefault", "",
);
const typeName = fc.constantFrom(
  "string", "int", "long", "double", "bool", "char", "object", "DateTime", "TimeSpan", "JObject", "JArray", "JToken", "JValue", "JProperty", "string[]", "int?",
  "List<string>", "IEnumerable<string>", "X509Certificate2", "Foo", "var", "dynamic", "Dictionary<string,object>", "List", "",
);
const anything = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 2 }));

const literal: fc.Arbitrary<Expr> = fc.oneof(
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("string" as const), v: fc.string({ maxLength: 12 }) }),
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("int" as const), v: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.maxSafeInteger(), fc.constant(2 ** 31)) }),
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("double" as const), v: fc.double() }),
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("bool" as const), v: fc.boolean() }),
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("null" as const), v: fc.constant(null) }),
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constant("char" as const), v: fc.string({ minLength: 1, maxLength: 1 }) }),
  // Malformed literals: the interpreter must reject them as InvalidProgram, not crash.
  fc.record({ t: fc.constant("lit" as const), at: pos, k: fc.constantFrom("string", "int", "double", "bool", "char", "weird") as fc.Arbitrary<"string">, v: anything as fc.Arbitrary<string> }),
);

const { expr: randomExpr, stmt: randomStmt } = fc.letrec<{ expr: Expr; stmt: Stmt; block: Block }>((tie) => {
  const e = tie("expr") as fc.Arbitrary<Expr>;
  const args = fc.array(e, { maxLength: 3 });
  return {
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      literal,
      fc.record({ t: fc.constant("id" as const), at: pos, name }),
      fc.record({ t: fc.constant("member" as const), at: pos, obj: e, name, nullCond: fc.boolean() }),
      fc.record({ t: fc.constant("index" as const), at: pos, obj: e, index: e, nullCond: fc.boolean() }),
      fc.record({ t: fc.constant("call" as const), at: pos, callee: e, args, typeArgs: fc.option(fc.array(typeName, { maxLength: 2 }), { nil: undefined }) }),
      fc.record({ t: fc.constant("unary" as const), at: pos, op: fc.constantFrom("!", "-", "+") as fc.Arbitrary<"!">, e }),
      fc.record({
        t: fc.constant("binary" as const),
        at: pos,
        op: fc.constantFrom("&&", "||", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "??", "<<") as fc.Arbitrary<"+">,
        l: e,
        r: e,
      }),
      fc.record({ t: fc.constant("cond" as const), at: pos, c: e, a: e, b: e }),
      fc.record({ t: fc.constant("cast" as const), at: pos, type: typeName, e, as: fc.option(fc.boolean(), { nil: undefined }) }),
      fc.record({ t: fc.constant("is" as const), at: pos, e, type: fc.option(typeName), negated: fc.boolean(), bind: fc.option(name, { nil: undefined }) }),
      fc.record({ t: fc.constant("lambda" as const), at: pos, params: fc.array(name, { maxLength: 2 }), body: fc.oneof(e, tie("block") as fc.Arbitrary<Block>) }),
      fc.record({ t: fc.constant("new" as const), at: pos, type: typeName, args, items: fc.option(fc.array(args, { maxLength: 2 }), { nil: undefined }) }),
      fc.record({ t: fc.constant("anon" as const), at: pos, props: fc.array(fc.tuple(name, e), { maxLength: 3 }) }),
      fc.record({ t: fc.constant("array" as const), at: pos, type: fc.option(typeName), items: args }),
      fc.record({
        t: fc.constant("interp" as const),
        at: pos,
        parts: fc.array(fc.oneof(fc.string({ maxLength: 5 }), fc.record({ e, format: fc.option(fc.constantFrom("o", "N2", "D3", "X", "yyyy", "c", "zz", ""), { nil: undefined }), align: fc.option(fc.integer({ min: -20, max: 20 }), { nil: undefined }) })), { maxLength: 3 }),
      }),
    ),
    stmt: fc.oneof(
      { depthSize: "small" },
      fc.record({ t: fc.constant("decl" as const), at: pos, type: typeName, name, init: fc.option(e) }),
      fc.record({ t: fc.constant("assign" as const), at: pos, target: e, op: fc.constantFrom("=", "+=", "-=", "*=", "/=", "??=") as fc.Arbitrary<"=">, value: e }),
      fc.record({ t: fc.constant("if" as const), at: pos, c: e, then: tie("stmt") as fc.Arbitrary<Stmt>, else: fc.option(tie("stmt") as fc.Arbitrary<Stmt>) }),
      fc.record({ t: fc.constant("return" as const), at: pos, e: fc.option(e) }),
      fc.record({ t: fc.constant("expr" as const), at: pos, e }),
      tie("block") as fc.Arbitrary<Stmt>,
    ),
    block: fc.record({ t: fc.constant("block" as const), at: pos, body: fc.array(tie("stmt") as fc.Arbitrary<Stmt>, { maxLength: 4 }) }),
  };
});

describe("property: random trees never escape", () => {
  it("expressions", () => {
    fc.assert(
      fc.property(randomExpr, (node) => {
        evaluatesSafely({ kind: "expr", file: "random.xml", src: "", node });
      }),
      { numRuns: 1500 },
    );
  });

  it("blocks", () => {
    fc.assert(
      fc.property(fc.array(randomStmt, { maxLength: 6 }), (body) => {
        evaluatesSafely({ kind: "block", file: "random.xml", src: "", node: { t: "block", at: [1, 1], body } });
      }),
      { numRuns: 800 },
    );
  });

  it("even malformed code objects", () => {
    for (const code of [null, {}, { kind: "expr" }, { kind: "block", node: null }, { kind: "expr", node: { t: "nope", at: "x" } }, { kind: "expr", node: [] }]) {
      expect(() => evaluate(code as unknown as Code, { context: makeContext().context }, { remaining: 100 })).toThrow(PolicyRuntimeError);
    }
  });
});

describe("names.ts and the interpreter agree", () => {
  it("every static property and enum member the parser accepts evaluates", () => {
    for (const [type, members] of STATIC_TYPES) {
      for (const prop of members.props) {
        const r = parseCode(`@(${type}.${prop})`, "n.xml", [1, 1]);
        expect(r.ok, `${type}.${prop} parses`).toBe(true);
        if (!r.ok) continue;
        const v = evaluate(r.code, { context: makeContext().context }, { remaining: 100 });
        if (ENUM_MEMBERS.has(type)) expect(toText(v)).toBe(prop);
      }
    }
  });

  it("every static method the parser accepts is implemented (no arguments is an overload error, never an unknown member)", () => {
    for (const [type, members] of STATIC_TYPES) {
      for (const method of members.methods) {
        const r = parseCode(`@(${type}.${method}())`, "n.xml", [1, 1]);
        expect(r.ok, `${type}.${method} parses`).toBe(true);
        if (!r.ok) continue;
        try {
          evaluate(r.code, { context: makeContext().context }, { remaining: 100 });
        } catch (e) {
          expect(e).toBeInstanceOf(PolicyRuntimeError);
          expect((e as PolicyRuntimeError).message, `${type}.${method}`).not.toMatch(/unknown member/);
        }
      }
    }
  });
});
