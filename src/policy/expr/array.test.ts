/** Array.Exists(array, match) as learn.microsoft.com/dotnet/api/system.array.exists documents it. */
import { describe, expect, it } from "vitest";
import { failureReason, runText } from "./test-context";

describe("Array.Exists", () => {
  it("is true when some element matches, false otherwise (and for an empty array)", () => {
    expect(runText(`@(Array.Exists(new[] { "read", "sendEmail" }, element => element == "sendEmail"))`)).toBe("True");
    expect(runText(`@(Array.Exists("a,b".Split(','), s => s.Length > 1))`)).toBe("False");
    expect(runText(`@(Array.Exists(new string[0], s => true))`)).toBe("False");
    expect(runText(`@(System.Array.Exists(new[] { 1, 5, 9 }, n => n > 4))`)).toBe("True");
  });

  it("a null array or predicate is an ArgumentNullException", () => {
    expect(failureReason(`@(Array.Exists((string[])null, s => true))`)).toBe("ArgumentNullException");
  });
});
