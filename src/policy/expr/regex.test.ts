/**
 * Regex through the interpreter, with .NET's results for the same calls (.NET's group numbering, `$` before a
 * final newline, Unicode `\d`/`\w`, replacement patterns — regex.ts cites the language reference), the compile-time
 * check of patterns and options, and the step budget holding on patterns that make backtracking engines explode.
 */
import { describe, expect, it } from "vitest";
import { checkTypes } from "./check-types";
import { PolicyRuntimeError, StepLimitExceeded } from "./interpret";
import { parseCode } from "./parse";
import { compileRegex } from "./regex";
import { run, runText } from "./test-context";

describe("Regex in expressions", () => {
  it.each([
    [`@(Regex.IsMatch("abc-123", "^[a-z]+-\\\\d{3}$"))`, "True"],
    [`@(Regex.IsMatch("abc-123\\n", "^[a-z]+-\\\\d{3}$"))`, "True"], // $ also matches before a final \n
    [`@(Regex.IsMatch("abc-123\\n", "^[a-z]+-\\\\d{3}\\\\z"))`, "False"],
    [`@(Regex.IsMatch("٣", "^\\\\d$"))`, "True"], // Arabic-Indic three: \d is any Unicode digit in .NET
    [`@(Regex.IsMatch("é", "^\\\\w$"))`, "True"],
    [`@(Regex.IsMatch("ABC", "abc", RegexOptions.IgnoreCase))`, "True"],
    [`@(Regex.IsMatch("ABC", "abc"))`, "False"],
    [`@(Regex.Match("Bearer abc.def", "^Bearer (?<token>\\\\S+)$").Groups["token"].Value)`, "abc.def"],
    [`@(Regex.Match("k=v", "(?<key>\\\\w+)=(\\\\w+)").Groups[1].Value)`, "v"], // named groups are numbered last
    [`@(Regex.Match("k=v", "(?<key>\\\\w+)=(\\\\w+)").Groups[2].Value)`, "k"],
    [`@(Regex.Match("abcd", "(a|ab)(c|bcd)(d*)").Groups[2].Value)`, "bcd"],
    [`@(Regex.Match("xyz", "a").Success)`, "False"],
    [`@(Regex.Match("xyz", "a").Value == "")`, "True"],
    [`@(Regex.Match("x123y", "\\\\d+").Index)`, "1"],
    [`@(Regex.Match("ab", "(x)?b").Groups[1].Success)`, "False"],
    [`@(Regex.Match("ab", "b").Groups["nope"].Success)`, "False"],
    [`@(Regex.Matches("a1b22c333", "\\\\d+").Count())`, "3"],
    [`@(string.Join(",", Regex.Matches("a1b22c333", "\\\\d+").Select(m => m.Value)))`, "1,22,333"],
    [`@(Regex.Replace("2024-01-31", "(\\\\d+)-(\\\\d+)-(\\\\d+)", "$3/$2/$1"))`, "31/01/2024"],
    [`@(Regex.Replace("john smith", "(?<first>\\\\w+) (?<last>\\\\w+)", "\${last}, \${first}"))`, "smith, john"],
    [`@(Regex.Replace("a.b", "\\\\.", "$$"))`, "a$b"],
    [`@(Regex.Replace("abc", "b", "[$&|$\`|$']"))`, "a[b|a|c]c"],
    [`@(Regex.Replace("abc", "x*", "-"))`, "-a-b-c-"],
    [`@(Regex.Replace("aaa", "a", "$9"))`, "$9$9$9"],
    [`@(Regex.Replace("Secret123", "[0-9]", "*", RegexOptions.None))`, "Secret***"],
    [`@(Regex.Matches("a1\\nb2\\nc3", "^[a-z]\\\\d$", RegexOptions.Multiline).Count())`, "3"],
    [`@(Regex.Matches("a1\\nb2\\nc3", "^[a-z]\\\\d$").Count())`, "0"],
    [`@(Regex.IsMatch("a\\nb", "a.b"))`, "False"],
    [`@(Regex.IsMatch(" foo", "\\\\bfoo"))`, "True"], // an attempt that fails at once does not end the search
    [`@(Regex.Match("ab\\nxy", "^x", RegexOptions.Multiline).Index)`, "3"],
    [`@(Regex.IsMatch("a\\nb", "a.b", RegexOptions.Singleline))`, "True"],
    [`@(Regex.Escape("a.b*c (d)"))`, "a\\.b\\*c\\ \\(d\\)"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("a pattern that backtracking engines take exponential time on runs in linear time, within the step budget", () => {
    const input = "a".repeat(5000) + "!";
    expect(runText(`@(Regex.IsMatch("${input}", "^(a|a)*$"))`)).toBe("False");
    // A budget too small for the input stops it, as any expression is stopped.
    expect(() => run(`@(Regex.IsMatch("${input}", "^(a|a)*$"))`, { remaining: 2000 })).toThrow(StepLimitExceeded);
  });

  it("fails with .NET's exceptions at run time", () => {
    const failure = (source: string) => {
      try {
        run(source);
      } catch (e) {
        if (e instanceof PolicyRuntimeError) return e.reason;
        throw e;
      }
      return "no failure";
    };
    expect(failure(`@(Regex.IsMatch(null, "a"))`)).toBe("ArgumentNullException");
    expect(failure(`@(Regex.Replace("a", "a", null))`)).toBe("ArgumentNullException");
  });
});

describe("compile-time check of patterns and options", () => {
  const errors = (source: string) => {
    const r = parseCode(source, "t.xml", [1, 1]);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
    return checkTypes(r.code).map((e) => `${e.at[1]} ${e.message}`);
  };

  it("accepts literal patterns it can run", () => {
    expect(errors(`@(Regex.IsMatch(context.Request.Url.Path, "^/api/v[0-9]+/", RegexOptions.IgnoreCase))`)).toEqual([]);
  });

  it.each([
    [`@(Regex.IsMatch("a", "(?<=x)a"))`, "22 unsupported regex pattern \"(?<=x)a\" at offset 0: lookaround (?<=…) is not supported"],
    [`@(Regex.IsMatch("a", "(a)\\\\1"))`, "22 unsupported regex pattern \"(a)\\\\1\" at offset 3: \\1 is not supported"],
    [`@(Regex.IsMatch("a", "\\\\p{L}"))`, "22 unsupported regex pattern \"\\\\p{L}\" at offset 0: \\p{…} Unicode categories are not supported"],
    [`@(Regex.IsMatch("a", "(a"))`, "22 unsupported regex pattern \"(a\" at offset 0: Not enough )'s"],
    [`@(Regex.IsMatch("a", "a**"))`, "22 unsupported regex pattern \"a**\" at offset 2: Nested quantifier"],
    [`@(Regex.IsMatch("a", context.Request.Method))`, "38 a Regex pattern must be a string literal (certgate checks it when compiling the policy)"],
    [`@(Regex.IsMatch("a", "a", RegexOptions.RightToLeft))`, "40 unsupported regex options: certgate runs RegexOptions.None, RegexOptions.IgnoreCase, RegexOptions.Multiline, RegexOptions.Singleline, RegexOptions.CultureInvariant, RegexOptions.Compiled, written out (not combined or computed)"],
  ])("%s", (source, expected) => {
    expect(errors(source)).toEqual([expected]);
  });

  it("bounds the program a pattern compiles to", () => {
    expect(compileRegex("(a{1000}){1000}")).toMatchObject({ ok: false, message: expect.stringContaining("too complex") });
  });
});
