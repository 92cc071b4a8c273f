/**
 * System.Random through the interpreter. Seeded: the first values .NET's own Random tests pin for seeds 0, 1 and 2
 * (dotnet/runtime, System.Runtime.Extensions tests, RandomTests.ExpectedValues: the same seed gives the same
 * sequence across .NET versions), and NextDouble as that sample over Int32.MaxValue. Unseeded: the documented
 * ranges (learn.microsoft.com/dotnet/api/system.random.next), and argument errors as .NET raises them.
 */
import { describe, expect, it } from "vitest";
import { checkTypes } from "./check-types";
import { parseCode } from "./parse";
import { failureReason, runText } from "./test-context";

describe("System.Random", () => {
  it.each([
    ["@{ var r = new Random(0); return r.Next() + \",\" + r.Next() + \",\" + r.Next(); }", "1559595546,1755192844,1649316166"],
    ["@{ var r = new Random(1); return r.Next() + \",\" + r.Next() + \",\" + r.Next(); }", "534011718,237820880,1002897798"],
    ["@{ var r = new System.Random(2); return r.Next() + \",\" + r.Next(); }", "1655911537,867932563"],
    // A negative seed is its absolute value.
    ["@(new Random(-1).Next())", "534011718"],
    // NextDouble is the same sample over Int32.MaxValue; Next(max) / Next(min, max) scale it, truncating.
    ["@(new Random(0).NextDouble().ToString(\"R\"))", String(1559595546 / 2147483647)],
    ["@(new Random(0).Next(100))", String(Math.trunc((1559595546 / 2147483647) * 100))],
    ["@(new Random(0).Next(10, 20))", String(10 + Math.trunc((1559595546 / 2147483647) * 10))],
    ["@(new Random(0).Next(5, 5))", "5"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("unseeded: every value in the documented range", () => {
    const draws = runText(`@{ var r = new Random(); var s = ""; foreach (var i in new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20 }) { s += r.Next(3) + ":" + r.Next(-2, 2) + ":" + (r.NextDouble() < 1.0 && r.NextDouble() >= 0.0) + ":" + (r.Next() >= 0) + ":" + r.Next(0) + ";"; } return s; }`);
    const rows = draws.split(";").filter((x) => x !== "").map((x) => x.split(":"));
    expect(rows).toHaveLength(20);
    for (const [below3, between, inUnit, nonNegative, zero] of rows) {
      expect(["0", "1", "2"]).toContain(below3);
      expect(["-2", "-1", "0", "1"]).toContain(between);
      expect([inUnit, nonNegative, zero]).toEqual(["True", "True", "0"]);
    }
    // Not constant: 20 draws of Next(3) are all equal with probability 3^-19.
    expect(new Set(rows.map((r) => r[0])).size).toBeGreaterThan(1);
  });

  it("a negative max or min over max is an ArgumentOutOfRangeException; other overloads do not exist", () => {
    expect(failureReason("@(new Random().Next(-1))")).toBe("ArgumentOutOfRangeException");
    expect(failureReason("@(new Random(3).Next(5, 4))")).toBe("ArgumentOutOfRangeException");
    expect(failureReason("@(new Random(1, 2))")).toBe("RuntimeBinderException");
    const parsed = parseCode("@(new Random(1, 2))", "t.xml", [1, 1]);
    if (!parsed.ok) throw new Error("does not parse");
    expect(checkTypes(parsed.code).map((e) => e.message)).toEqual(["unsupported constructor: new Random takes no argument or one int seed"]);
  });
});
