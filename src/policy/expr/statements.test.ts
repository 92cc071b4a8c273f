/**
 * foreach (with break / continue) and try / catch / finally in @{ } blocks, as C# runs them: the catch that matches
 * the exception's type or a base of it runs, a finally always runs, and the step budget is never caught.
 */
import { describe, expect, it } from "vitest";
import { PolicyRuntimeError, StepLimitExceeded } from "./interpret";
import { checkTypes } from "./check-types";
import { parseCode } from "./parse";
import { failureReason, makeContext, run, runText } from "./test-context";

function parseErrors(source: string): string[] {
  const r = parseCode(source, "t.xml", [1, 1]);
  return r.ok ? [] : r.errors.map((e) => `${e.line}:${e.col} ${e.message}`);
}

describe("foreach", () => {
  it.each([
    [`@{ var n = 0; foreach (var s in "a,b,c".Split(',')) { n += s.Length; } return n; }`, "3"],
    [`@{ var out = ""; foreach (char c in "abc") { out = c + out; } return out; }`, "cba"],
    [`@{ var keys = ""; foreach (var h in context.Request.Headers.Keys) { keys += h + ";"; } return keys; }`, "authorization;x-client-id;"],
    [`@{ var sum = 0; foreach (var p in JObject.Parse("{\\"a\\":1,\\"b\\":2}").Properties()) { sum += (int)p.Value; } return sum; }`, "3"],
    [`@{ var first = ""; foreach (var s in new[] { "x", "", "y" }) { if (s == "") { break; } first += s; } return first; }`, "x"],
    [`@{ var kept = ""; foreach (var s in new[] { "x", "", "y" }) { if (s == "") { continue; } kept += s; } return kept; }`, "xy"],
    [`@{ foreach (var s in new[] { "x", "y" }) { if (s == "y") { return "found"; } } return "none"; }`, "found"],
    [`@{ var n = 0; foreach (var kv in new JObject()) { n++; } return n; }`, "0"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("fails as C# does on null, a non-enumerable and a bad conversion", () => {
    const reason = failureReason;
    expect(reason(`@{ string[] a = null; foreach (var s in a) { } return 1; }`)).toBe("NullReferenceException");
    expect(reason(`@{ foreach (var s in 42) { } return 1; }`)).toBe("RuntimeBinderException");
    expect(reason(`@{ foreach (int s in new[] { "a" }) { } return 1; }`)).toBe("InvalidCastException");
  });

  it("every iteration is charged: a long loop runs out of steps", () => {
    expect(() => run(`@{ var n = 0; foreach (var c in "${"x".repeat(5000)}") { n++; } return n; }`, { remaining: 1000 })).toThrow(StepLimitExceeded);
  });

  it("break and continue only inside a loop, not from a lambda inside one", () => {
    expect(parseErrors(`@{ break; return 1; }`)).toEqual(["1:4 'break' outside a loop"]);
    expect(parseErrors(`@{ foreach (var x in "ab") { var f = "a".Any(c => { continue; return true; }); } return 1; }`)).toEqual(["1:53 'continue' outside a loop"]);
  });
});

describe("try / catch / finally", () => {
  it.each([
    [`@{ try { return int.Parse("x"); } catch (FormatException) { return -1; } }`, "-1"],
    [`@{ try { return int.Parse("x"); } catch (Exception e) { return e.Message; } }`, "The input string 'x' was not in a correct format."],
    [`@{ try { return JObject.Parse("{"); } catch (JsonException e) { return "bad json"; } }`, "bad json"],
    [`@{ try { return context.Request.Headers["missing"][0]; } catch (KeyNotFoundException) { return "none"; } }`, "none"],
    [`@{ try { string s = null; return s.Length; } catch { return -2; } }`, "-2"],
    [`@{ try { return "abc".Substring(5); } catch (ArgumentException) { return "arg"; } }`, "arg"], // ArgumentOutOfRange is an ArgumentException
    [`@{ try { return int.Parse("x"); } catch (NullReferenceException) { return 1; } catch (FormatException) { return 2; } }`, "2"],
    [`@{ var log = ""; try { log += "a"; } finally { log += "b"; } return log; }`, "ab"],
    [`@{ var log = ""; try { try { int.Parse("x"); } finally { log += "f"; } } catch (FormatException) { log += "c"; } return log; }`, "fc"],
    [`@{ try { int.Parse("x"); return "no"; } catch (Exception e) { return e.ToString(); } }`, "System.FormatException: The input string 'x' was not in a correct format."],
    [`@{ var n = 0; foreach (var s in new[] { "1", "x", "3" }) { try { n += int.Parse(s); } catch (FormatException) { continue; } } return n; }`, "4"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("a catch of another type lets the exception through; the finally still runs", () => {
    const ctx = makeContext();
    expect(() => run(`@{ try { int.Parse("x"); } catch (KeyNotFoundException) { } finally { context.Variables["f"] = true; } return 1; }`, undefined, ctx)).toThrow(PolicyRuntimeError);
    expect(ctx.variables.get("f")).toBe(true);
  });

  it("the step budget is not an exception a policy can catch", () => {
    expect(() => run(`@{ try { var n = 0; foreach (var c in "${"x".repeat(5000)}") { n++; } return n; } catch (Exception) { return -1; } }`, { remaining: 1000 })).toThrow(StepLimitExceeded);
  });

  it("rejects what it cannot run at compile time", () => {
    expect(parseErrors(`@{ try { return 1; } catch (MyException) { return 2; } }`)[0]).toMatch(/^1:29 unsupported exception type: MyException/);
    expect(parseErrors(`@{ try { return 1; } catch (Exception e) when (e.Message != "") { return 2; } }`)).toEqual(["1:42 unsupported construct: exception filter (catch … when)"]);
    expect(parseErrors(`@{ try { return 1; } }`)).toEqual(["1:4 a try needs a catch or a finally"]);
    expect(parseErrors(`@{ throw new Exception(); }`)).toEqual(["1:4 unsupported construct: throw"]);
  });

  it("a block whose try and catches all return needs no return after them", () => {
    expect(parseErrors(`@{ try { return 1; } catch { return 2; } }`)).toEqual([]);
    expect(parseErrors(`@{ try { return 1; } catch { } }`)).toEqual(["1:32 not all code paths return a value: a @{ } block must end with a return statement"]);
  });
});

describe("out arguments: T.TryParse(s, out x)", () => {
  it.each([
    [`@{ if (int.TryParse("42", out var n)) { return n + 1; } return -1; }`, "43"],
    [`@{ if (int.TryParse("4x", out var n)) { return n; } return n - 1; }`, "-1"], // default(int), visible after the if
    [`@{ int n; var ok = int.TryParse(" -7 ", out n); return ok + "/" + n; }`, "True/-7"],
    [`@(int.TryParse("99999999999", out int big))`, "False"], // OverflowException → false
    [`@(int.TryParse(null, out var n))`, "False"],
    [`@{ long.TryParse("9000000000", out var l); return l; }`, "9000000000"],
    [`@{ double.TryParse("1.5", out var d); return d * 2; }`, "3"],
    [`@{ bool.TryParse("TRUE", out var b); return b; }`, "True"],
    [`@{ DateTime.TryParse("2024-02-29T10:00:00Z", out var d); return d.Day; }`, "29"],
    [`@{ return Guid.TryParse("nope", out var g) ? "yes" : g.ToString(); }`, "00000000-0000-0000-0000-000000000000"],
    [`@{ var id = context.Request.Headers.GetValueOrDefault("X-Client-Id", ""); return Guid.TryParse(id, out var g); }`, "False"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("out is accepted only where it runs", () => {
    expect(parseErrors(`@(int.TryParse("1", ref x))`)).toEqual(["1:21 unsupported construct: ref argument"]);
    const checked = (source: string) => {
      const r = parseCode(source, "t.xml", [1, 1]);
      if (!r.ok) throw new Error(r.errors[0]!.message);
      return checkTypes(r.code).map((e) => `${e.at[1]} ${e.message}`);
    };
    expect(checked(`@(context.Variables.TryGetValue("a", out var v))`)).toEqual([
      "38 unsupported construct: out argument (certgate runs out only in T.TryParse(s, out x) and s.TryParseJwt(out x))",
      "21 unsupported member: IReadOnlyDictionary<string, object>.TryGetValue",
    ]);
    expect(checked(`@(int.TryParse("1"))`)).toEqual(["7 int.TryParse takes (string, out int result)"]);
  });
});
