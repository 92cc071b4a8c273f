import { describe, expect, it } from "vitest";
import type { Code } from "./ast";
import { HostError, type Value } from "./host";
import { PolicyRuntimeError, StepLimitExceeded, evaluate, toCondition, toText } from "./interpret";
import { parseJsonForHost } from "./json";
import { parseCode } from "./parse";
import { failure, makeContext, run, runText } from "./test-context";
import { CsDouble, JObject, JValue } from "./values";


describe("evaluate: operators with C# semantics", () => {
  it.each([
    ["@(1 + 2 * 3)", "7"],
    ["@((1 + 2) * 3)", "9"],
    ["@(7 / 2)", "3"],
    ["@(-7 / 2)", "-3"],
    ["@(7 % 3)", "1"],
    ["@(-7 % 3)", "-1"],
    ["@(7.0 / 2)", "3.5"],
    ["@(7 / 2.0)", "3.5"],
    ["@(1 / 2 * 2.0)", "0"],
    ["@(1.0 / 0)", "Infinity"],
    ["@(0.1 + 0.2)", "0.30000000000000004"],
    ["@(2.0 * 3)", "6"],
    ["@(1e15)", "1E+15"],
    ["@(123456789012345.0)", "123456789012345"],
    ["@(0.00001)", "1E-05"],
    ["@(0.0001)", "0.0001"],
    ["@(-(5))", "-5"],
    ["@(!true)", "False"],
    ["@(true && false || true)", "True"],
    ["@(1 < 2 && 2 <= 2 && 3 > 2 && 3 >= 4)", "False"],
    ["@(1 == 1.0)", "True"],
    ["@('a' == 'a')", "True"],
    ["@('a' + 1)", "98"],
    ["@(\"x\" + 'a')", "xa"],
    ["@(\"a\" == \"a\")", "True"],
    ["@(\"a\" != \"A\")", "True"],
    ["@(\"n=\" + 1 + 2)", "n=12"],
    ["@(1 + 2 + \"=n\")", "3=n"],
    ["@(\"a\" + null + \"b\")", "ab"],
    ["@(\"v:\" + true)", "v:True"],
    ["@(\"d:\" + 1.5)", "d:1.5"],
    ["@(null ?? \"d\")", "d"],
    ["@(\"x\" ?? \"d\")", "x"],
    ["@(null == null)", "True"],
    ["@(\"a\" == null)", "False"],
    ["@(1 < 2 ? \"y\" : \"n\")", "y"],
    ["@((int?)null + 1)", ""],
    ["@((int?)null < 1)", "False"],
    ["@(context.Variables[\"role\"] == \"admin\")", "True"],
    ["@(context.Variables[\"n\"] == 5)", "True"],
    ["@(-2147483648 - 1)", "-2147483649"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source, makeContext({ role: "admin", n: 5 }))).toBe(expected);
  });

  it("short-circuits && and || (the right side would throw)", () => {
    expect(runText("@(false && ((string)null).Length > 0)")).toBe("False");
    expect(runText("@(true || ((string)null).Length > 0)")).toBe("True");
    expect(runText("@(\"x\" ?? ((string)null).ToString())")).toBe("x");
  });

  it.each([
    ["@(1 / 0)", "DivideByZeroException"],
    ["@(1 % 0)", "DivideByZeroException"],
    ["@(9007199254740991 + 1)", "OverflowException"],
    ["@(\"a\" < \"b\")", "RuntimeBinderException"],
    ["@(\"a\" - 1)", "RuntimeBinderException"],
    ["@(1 && true)", "RuntimeBinderException"],
    ["@(!\"x\")", "RuntimeBinderException"],
    ["@(1 ? 2 : 3)", "InvalidCastException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });
});

describe("evaluate: null semantics", () => {
  it.each([
    ["@(((string)null)?.Length)", ""],
    ["@(((string)null)?.Length ?? -1)", "-1"],
    ["@(((string)null)?.ToUpper().ToLower())", ""],
    ["@(((string[])null)?[0])", ""],
    ["@(context.Variables.GetValueOrDefault<string>(\"missing\")?.Length ?? 0)", "0"],
    ["@(((int?)null).HasValue)", "False"],
    ["@(((int?)5).HasValue)", "True"],
    ["@(((int?)5).Value)", "5"],
    ["@(((object)null) is null)", "True"],
    ["@(\"x\" is not null)", "True"],
    ["@(((object)\"x\") is string)", "True"],
    ["@(((object)1) is string)", "False"],
    ["@(((object)null) is string)", "False"],
    ["@(((object)\"abc\") as string)", "abc"],
    ["@(((object)1) as string ?? \"not a string\")", "not a string"],
    ["@(context.Variables.GetValueOrDefault(\"role\", \"admin\") is string r && r.StartsWith(\"ad\") ? r : \"-\")", "admin"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("member access on null is a NullReferenceException at the member", () => {
    const e = failure("@(\n  ((string)null)\n    .Length)");
    expect(e).toMatchObject({ reason: "NullReferenceException", at: [3, 6], file: "test.xml" });
    expect(failure("@(((string)null).ToUpper())").reason).toBe("NullReferenceException");
    expect(failure("@(((string[])null)[0])").reason).toBe("NullReferenceException");
  });
});

describe("evaluate: casts", () => {
  it.each([
    ["@((string)(object)\"a\")", "a"],
    ["@((int)3.9)", "3"],
    ["@((int)-3.9)", "-3"],
    ["@((double)1 / 2)", "0.5"],
    ["@((long)5)", "5"],
    ["@((char)65)", "A"],
    ["@((int)'A')", "65"],
    ["@((bool)(object)true)", "True"],
    ["@((string)null ?? \"n\")", "n"],
    ["@((int?)null ?? 7)", "7"],
    ["@((JObject)JObject.Parse(\"{}\"))", "{}"],
    ["@((string)JObject.Parse(\"{\\\"a\\\":\\\"x\\\"}\")[\"a\"])", "x"],
    ["@((int)JObject.Parse(\"{\\\"a\\\":\\\"42\\\"}\")[\"a\"] + 1)", "43"],
    ["@((bool)JObject.Parse(\"{\\\"a\\\":true}\")[\"a\"])", "True"],
    ["@((string)JObject.Parse(\"{\\\"a\\\":1}\")[\"b\"] ?? \"none\")", "none"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    ["@((string)(object)1)", "InvalidCastException", "Unable to cast object of type 'System.Int32' to type 'System.String'."],
    ["@((int)(object)\"1\")", "InvalidCastException", "Unable to cast object of type 'System.String' to type 'System.Int32'."],
    ["@((bool)(object)\"true\")", "InvalidCastException", "Unable to cast object of type 'System.String' to type 'System.Boolean'."],
    ["@((JObject)(object)\"{}\")", "InvalidCastException", "Unable to cast object of type 'System.String' to type 'Newtonsoft.Json.Linq.JObject'."],
    ["@((int)(object)null)", "NullReferenceException", "Object reference not set to an instance of an object."],
    ["@((int)JObject.Parse(\"{\\\"a\\\":\\\"x\\\"}\")[\"a\"])", "FormatException", "Input string was not in a correct format."],
    ["@((string)JObject.Parse(\"{\\\"a\\\":{}}\")[\"a\"])", "ArgumentException", "Can not convert Object to String."],
    ["@((int)JObject.Parse(\"{\\\"a\\\":null}\")[\"a\"])", "ArgumentException", "Can not convert Null to Int32."],
    ["@((X509Certificate2)(object)\"x\")", "InvalidCastException", "Unable to cast object of type 'System.String' to type 'X509Certificate2'."],
  ])("%s fails: %s", (source, reason, message) => {
    expect(failure(source)).toMatchObject({ reason, message });
  });

  it("casts host objects by their type name", () => {
    expect(runText("@(((X509Certificate2)context.Request.Certificate).Thumbprint)")).toBe("A1B2C3D4E5F60718293A4B5C6D7E8F9012345678");
    expect(runText("@(context.Request.Certificate is X509Certificate2)")).toBe("True");
    expect(runText("@((context.Request.Certificate as JObject) == null)")).toBe("True");
  });
});

describe("evaluate: strings", () => {
  it.each([
    ["@(\"Hello\".Length)", "5"],
    ["@(\"Hello\".ToUpper() + \"Hello\".ToLower() + \"i\".ToUpperInvariant() + \"I\".ToLowerInvariant())", "HELLOhelloIi"],
    ["@(\"Hello\".Contains(\"ell\"))", "True"],
    ["@(\"Hello\".Contains(\"ELL\"))", "False"],
    ["@(\"Hello\".Contains(\"ELL\", StringComparison.OrdinalIgnoreCase))", "True"],
    ["@(\"Hello\".Contains('H'))", "True"],
    ["@(\"Hello\".StartsWith(\"he\", StringComparison.OrdinalIgnoreCase))", "True"],
    ["@(\"Hello\".StartsWith(\"he\"))", "False"],
    ["@(\"Hello\".EndsWith(\"LO\", StringComparison.InvariantCultureIgnoreCase))", "True"],
    ["@(\"abc\".Equals(\"ABC\"))", "False"],
    ["@(\"abc\".Equals(\"ABC\", StringComparison.OrdinalIgnoreCase))", "True"],
    ["@(string.Equals(\"abc\", \"ABC\", StringComparison.OrdinalIgnoreCase))", "True"],
    ["@(string.Equals(null, null))", "True"],
    ["@(\"a-b-c\".IndexOf('-'))", "1"],
    ["@(\"a-b-c\".IndexOf(\"-\", 2))", "3"],
    ["@(\"a-b-c\".IndexOf(\"B\", StringComparison.OrdinalIgnoreCase))", "2"],
    ["@(\"a-b-c\".LastIndexOf(\"-\"))", "3"],
    ["@(\"a-b-c\".IndexOf(\"x\"))", "-1"],
    ["@(\"Hello\".Substring(1))", "ello"],
    ["@(\"Hello\".Substring(1, 3))", "ell"],
    ["@(\"Hello\".Substring(5))", ""],
    ["@(\"a.b.c\".Replace(\".\", \"::\"))", "a::b::c"],
    ["@(\"a.b.c\".Replace('.', '/'))", "a/b/c"],
    ["@(\"aXbx\".Replace(\"x\", \"-\", StringComparison.OrdinalIgnoreCase))", "a-b-"],
    ["@(\"a.b\".Replace(\".\", null))", "ab"],
    ["@(\"  x  \".Trim() + \"|\" + \"  x  \".TrimStart() + \"|\" + \"  x  \".TrimEnd() + \"|\")", "x|x  |  x|"],
    ["@(\"--x--\".Trim('-'))", "x"],
    ["@(\"/path/\".TrimEnd('/', '\\\\'))", "/path"],
    ["@(string.Join(\"|\", \"a,b;c\".Split(',', ';')))", "a|b|c"],
    ["@(string.Join(\"|\", \"a, b,,c\".Split(new[] { \", \", \",\" }, StringSplitOptions.None)))", "a|b||c"],
    ["@(string.Join(\"|\", \"a,,b\".Split(new[] { ',' }, StringSplitOptions.RemoveEmptyEntries)))", "a|b"],
    ["@(string.Join(\"|\", \"a::b\".Split(\"::\")))", "a|b"],
    ["@(string.Join(\"|\", \"a b\\tc\".Split()))", "a|b|c"],
    ["@(string.Join(\"|\", \"a,b,c\".Split(new[] { ',' }, 2)))", "a|b,c"],
    ["@(string.Join(\"|\", \" a , b \".Split(',', StringSplitOptions.TrimEntries)))", "a|b"],
    ["@(\"7\".PadLeft(3, '0') + \"|\" + \"7\".PadLeft(3) + \"|\" + \"7\".PadRight(2) + \"|\")", "007|  7|7 |"],
    ["@(\"abc\"[1])", "b"],
    ["@(\"abc\"[1] == 'b')", "True"],
    ["@(\"abc\".ToString())", "abc"],
    ["@(\"abc\".Insert(1, \"X\") + \"abc\".Remove(1) + \"abc\".Remove(0, 1))", "aXbcabc"],
    ["@(string.IsNullOrEmpty(\"\") && string.IsNullOrEmpty(null) && !string.IsNullOrEmpty(\" \"))", "True"],
    ["@(string.IsNullOrWhiteSpace(\" \\t\") && string.IsNullOrWhiteSpace(null) && !string.IsNullOrWhiteSpace(\"x\"))", "True"],
    ["@(string.Join(\", \", new[] { \"a\", \"b\" }))", "a, b"],
    ["@(string.Join(\",\", 1, true, null, 'c'))", "1,True,,c"],
    ["@(string.Join(\",\", new List<int> { 1, 2 }))", "1,2"],
    ["@(string.Concat(\"a\", 1, null))", "a1"],
    ["@(string.Format(\"{0}-{1:D3}-{0}\", \"x\", 7))", "x-007-x"],
    ["@(string.Format(\"{0,5}|{0,-5}|{{}}\", \"ab\"))", "   ab|ab   |{}"],
    ["@(string.Empty.Length)", "0"],
    ["@(\"abc\".Any(c => c == 'b'))", "True"],
    ["@(\"abc\".Count())", "3"],
    ["@(\"a1b2\".Count(char.IsDigit))", "2"],
    ["@(\"abc\".All(char.IsLetter))", "True"],
    ["@(\"abc\".First())", "a"],
    ["@(\"ab\".ToCharArray().Length)", "2"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    ["@(\"abc\".Substring(4))", "ArgumentOutOfRangeException"],
    ["@(\"abc\".Substring(1, 5))", "ArgumentOutOfRangeException"],
    ["@(\"abc\"[3])", "IndexOutOfRangeException"],
    ["@(\"abc\".Replace(\"\", \"x\"))", "ArgumentException"],
    ["@(\"abc\".Contains(null))", "ArgumentNullException"],
    ["@(\"abc\".Foo())", "RuntimeBinderException"],
    ["@(\"abc\".Substring(\"1\"))", "RuntimeBinderException"],
    ["@(string.Format(\"{1}\", \"a\"))", "FormatException"],
    ["@(string.Format(\"{0\", \"a\"))", "FormatException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });

  it("names the unknown member and its type", () => {
    expect(failure("@(\"abc\".Foo)").message).toBe("unknown member Foo on type String");
    expect(failure("@(context.Request.Nope)").message).toBe("unknown member Nope on type IRequest");
  });
});

describe("evaluate: numbers and formats", () => {
  it.each([
    ["@(5.ToString(\"D3\"))", "005"],
    ["@(255.ToString(\"X\") + 255.ToString(\"x4\"))", "FF00ff"],
    ["@((-1).ToString(\"X\"))", "FFFFFFFF"],
    ["@(1234567.891.ToString(\"N2\"))", "1,234,567.89"],
    ["@(1234567.ToString(\"N0\"))", "1,234,567"],
    ["@(2.5.ToString(\"F3\"))", "2.500"],
    ["@(0.5.ToString(\"P1\"))", "50.0 %"],
    ["@(1234.5.ToString(\"0.00\"))", "1234.50"],
    ["@(1234.5.ToString(\"#,##0.0\"))", "1,234.5"],
    ["@(7.ToString(\"000\"))", "007"],
    ["@(12345.678.ToString(\"E2\"))", "1.23E+004"],
    ["@(int.Parse(\" 42 \") + 1)", "43"],
    ["@(int.Parse(\"-7\"))", "-7"],
    ["@(long.Parse(\"9007199254740991\"))", "9007199254740991"],
    ["@(double.Parse(\"1,234.5\"))", "1234.5"],
    ["@(bool.Parse(\"TRUE\"))", "True"],
    ["@(Convert.ToInt32(\"12\") + Convert.ToInt32(2.5) + Convert.ToInt32(3.5) + Convert.ToInt32(true) + Convert.ToInt32(null))", "19"],
    ["@(Convert.ToString(12) + Convert.ToString(null) + Convert.ToString(false))", "12False"],
    ["@(Convert.ToBoolean(\"false\"))", "False"],
    ["@(Convert.ToDouble(\"1.5\") * 2)", "3"],
    ["@(Math.Min(3, 4) + Math.Max(3, 4) + Math.Abs(-5))", "12"],
    ["@(Math.Max(1, 2.5))", "2.5"],
    ["@(Math.Round(2.5) + Math.Round(3.5) + Math.Floor(1.7) + Math.Ceiling(1.2))", "9"],
    ["@(Math.Round(1.2345, 2))", "1.23"],
    ["@(int.MaxValue)", "2147483647"],
    ["@($\"{3.14159:F2}|{42:D5}|{255:X2}|{1234:N0}\")", "3.14|00042|FF|1,234"],
    ["@($\"[{42,6}][{42,-6}]\")", "[    42][42    ]"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    ["@(int.Parse(\"1.5\"))", "FormatException"],
    ["@(int.Parse(\"99999999999\"))", "OverflowException"],
    ["@(int.Parse(null))", "ArgumentNullException"],
    ["@(Convert.ToInt32(\"x\"))", "FormatException"],
    ["@(bool.Parse(\"yes\"))", "FormatException"],
    ["@(1.5.ToString(\"D2\"))", "FormatException"],
    ["@(1.ToString(\"Q\"))", "FormatException"],
    ["@(Math.Abs(int.MinValue))", "OverflowException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });
});

describe("evaluate: DateTime and TimeSpan (now = context.Timestamp, 2024-01-31T10:20:30.456Z)", () => {
  it.each([
    ["@(DateTime.UtcNow)", "1/31/2024 10:20:30 AM"],
    ["@(DateTime.Now == DateTime.UtcNow)", "True"],
    ["@(DateTime.UtcNow == context.Timestamp)", "True"],
    ["@(DateTime.UtcNow.ToString(\"o\"))", "2024-01-31T10:20:30.4560000Z"],
    ["@(DateTime.UtcNow.ToString(\"s\"))", "2024-01-31T10:20:30"],
    ["@(DateTime.UtcNow.ToString(\"u\"))", "2024-01-31 10:20:30Z"],
    ["@(DateTime.UtcNow.ToString(\"r\"))", "Wed, 31 Jan 2024 10:20:30 GMT"],
    ["@(DateTime.UtcNow.ToString(\"yyyy-MM-dd\"))", "2024-01-31"],
    ["@(DateTime.UtcNow.ToString(\"yyyy-MM-ddTHH:mm:ss.fffK\"))", "2024-01-31T10:20:30.456Z"],
    ["@(DateTime.UtcNow.ToString(\"dddd, MMMM d, yyyy h:mm tt\"))", "Wednesday, January 31, 2024 10:20 AM"],
    ["@(DateTime.UtcNow.ToString(\"d\") + \" \" + DateTime.UtcNow.ToString(\"T\"))", "1/31/2024 10:20:30 AM"],
    ["@($\"{DateTime.UtcNow:yyyyMMdd}\")", "20240131"],
    ["@(DateTime.UtcNow.AddMonths(1).ToString(\"yyyy-MM-dd\"))", "2024-02-29"],
    ["@(DateTime.UtcNow.AddMonths(13).ToString(\"yyyy-MM-dd\"))", "2025-02-28"],
    ["@(DateTime.UtcNow.AddMonths(-2).ToString(\"yyyy-MM-dd\"))", "2023-11-30"],
    ["@(DateTime.UtcNow.AddYears(1).Year)", "2025"],
    ["@(DateTime.Parse(\"2024-02-29\").AddYears(1).ToString(\"yyyy-MM-dd\"))", "2025-02-28"],
    ["@(DateTime.UtcNow.AddDays(1).ToString(\"yyyy-MM-dd HH:mm\"))", "2024-02-01 10:20"],
    ["@(DateTime.UtcNow.AddDays(-31).ToString(\"yyyy-MM-dd\"))", "2023-12-31"],
    ["@(DateTime.UtcNow.AddHours(14).Day)", "1"],
    ["@(DateTime.UtcNow.AddMinutes(-20).Minute + DateTime.UtcNow.AddSeconds(30).Second)", "0"],
    ["@(DateTime.UtcNow.AddDays(0.5).Hour)", "22"],
    ["@(DateTime.UtcNow.Year * 10000 + DateTime.UtcNow.Month * 100 + DateTime.UtcNow.Day)", "20240131"],
    ["@(DateTime.UtcNow.DayOfWeek)", "Wednesday"],
    ["@(DateTime.UtcNow.DayOfWeek == DayOfWeek.Wednesday)", "True"],
    ["@(DateTime.UtcNow.DayOfYear)", "31"],
    ["@(DateTime.UtcNow.Date.ToString(\"o\"))", "2024-01-31T00:00:00.0000000Z"],
    ["@(DateTime.Today == DateTime.UtcNow.Date)", "True"],
    ["@(DateTime.UtcNow.TimeOfDay.TotalMinutes > 620)", "True"],
    ["@((DateTime.Parse(\"2024-03-01\") - DateTime.Parse(\"2024-02-01\")).TotalDays)", "29"],
    ["@((DateTime.Parse(\"2023-03-01\") - DateTime.Parse(\"2023-02-01\")).Days)", "28"],
    ["@(DateTime.Parse(\"2024-03-01\").Subtract(DateTime.Parse(\"2024-02-29T12:00:00Z\")).TotalHours)", "12"],
    ["@(DateTime.Parse(\"2024-03-01\").Subtract(TimeSpan.FromDays(1)).ToString(\"yyyy-MM-dd\"))", "2024-02-29"],
    ["@(DateTime.Parse(\"2024-01-31T12:00:00+02:00\").ToString(\"HH:mm\"))", "10:00"],
    ["@(DateTime.Parse(\"1/31/2024 3:04:05 PM\").ToString(\"s\"))", "2024-01-31T15:04:05"],
    ["@(DateTime.Parse(\"Wed, 31 Jan 2024 10:00:00 GMT\").Hour)", "10"],
    ["@(DateTime.UtcNow > DateTime.Parse(\"2024-01-01\") && DateTime.UtcNow <= DateTime.MaxValue)", "True"],
    ["@(DateTime.UtcNow + TimeSpan.FromHours(1) > DateTime.UtcNow)", "True"],
    ["@((DateTime.UtcNow - TimeSpan.FromMinutes(30)).Minute)", "50"],
    ["@(context.Request.Certificate.NotAfter < DateTime.UtcNow.AddDays(30))", "True"],
    ["@((context.Request.Certificate.NotAfter - DateTime.UtcNow).Days)", "29"],
    ["@(new DateTime(2024, 2, 29).AddDays(1).ToString(\"yyyy-MM-dd\"))", "2024-03-01"],
    ["@(DateTime.DaysInMonth(2023, 2) + DateTime.DaysInMonth(2024, 2))", "57"],
    ["@(DateTime.IsLeapYear(1900) || DateTime.IsLeapYear(2000))", "True"],
    ["@(DateTime.Compare(DateTime.UtcNow, DateTime.MinValue))", "1"],
    ["@(TimeSpan.FromDays(1.5))", "1.12:00:00"],
    ["@(TimeSpan.FromMinutes(90).TotalHours)", "1.5"],
    ["@(TimeSpan.FromSeconds(3661).Hours + TimeSpan.FromSeconds(3661).Minutes + TimeSpan.FromSeconds(3661).Seconds)", "3"],
    ["@(TimeSpan.FromMilliseconds(1500))", "00:00:01.5000000"],
    ["@(TimeSpan.FromHours(-2))", "-02:00:00"],
    ["@(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1))", "01:01:00"],
    ["@(TimeSpan.FromHours(1) > TimeSpan.FromMinutes(59))", "True"],
    ["@(TimeSpan.FromHours(25).ToString(@\"hh\\:mm\"))", "01:00"],
    ["@(new TimeSpan(1, 2, 3).TotalSeconds)", "3723"],
    ["@(TimeSpan.Zero.Ticks)", "0"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    ["@(DateTime.Parse(\"not a date\"))", "FormatException"],
    ["@(DateTime.Parse(\"2023-02-29\"))", "FormatException"],
    ["@(DateTime.MaxValue.AddDays(1))", "ArgumentOutOfRangeException"],
    ["@(new DateTime(2023, 2, 29))", "ArgumentOutOfRangeException"],
    ["@(DateTime.UtcNow.ToString(\"Q\"))", "FormatException"],
    ["@(DateTime.UtcNow < \"2024\")", "RuntimeBinderException"],
    ["@(TimeSpan.FromDays(1e300))", "OverflowException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });

  it("takes now from the host, never the JS clock", () => {
    const ctx = makeContext();
    const shifted = { ...ctx.context, get: (n: string) => (n === "Timestamp" ? new Date(Date.UTC(2001, 8, 9, 1, 46, 40)) : ctx.context.get(n)), toString: () => "ctx" };
    expect(runText("@(DateTime.UtcNow.ToString(\"o\"))", { context: shifted, variables: ctx.variables })).toBe("2001-09-09T01:46:40.0000000Z");
  });
});

describe("evaluate: collections and LINQ", () => {
  it.each([
    ["@(new[] { 1, 2, 3 }.Length)", "3"],
    ["@(new[] { 1, 2, 3 }.Any())", "True"],
    ["@(new string[] { }.Any())", "False"],
    ["@(new[] { 1, 2, 3 }.Any(x => x > 2))", "True"],
    ["@(new[] { 1, 2, 3 }.All(x => x > 0))", "True"],
    ["@(new[] { 1, 2, 3 }.Count(x => x % 2 == 1))", "2"],
    ["@(new[] { 1, 2, 3 }.Contains(2))", "True"],
    ["@(new[] { \"a\", \"b\" }.Contains(\"c\"))", "False"],
    ["@(string.Join(\",\", new[] { 1, 2, 3, 4 }.Where(x => x % 2 == 0).Select(x => x * 10)))", "20,40"],
    ["@(string.Join(\",\", new[] { \"a\", \"b\" }.Select((x, i) => x + i)))", "a0,b1"],
    ["@(new[] { 1, 2, 3 }.First())", "1"],
    ["@(new[] { 1, 2, 3 }.First(x => x > 1))", "2"],
    ["@(new[] { 1, 2, 3 }.FirstOrDefault(x => x > 5) ?? -1)", "-1"],
    ["@(new[] { 1, 2, 3 }.Last())", "3"],
    ["@(new[] { 1, 2, 3 }.ToArray().Length + new[] { 1 }.ToList().Count)", "4"],
    ["@(new[] { 1, 2, 3 }.Sum() + new[] { 1.5, 2 }.Sum())", "9.5"],
    ["@(new[] { 3, 1, 2 }.Max() * 10 + new[] { 3, 1, 2 }.Min())", "31"],
    ["@(string.Join(\",\", new[] { \"b\", \"a\", \"b\" }.Distinct()))", "b,a"],
    ["@(string.Join(\",\", new[] { \"b\", \"C\", \"a\" }.OrderBy(x => x)))", "a,b,C"],
    ["@(string.Join(\",\", new[] { 1, 2, 3, 4 }.Skip(1).Take(2)))", "2,3"],
    ["@(string.Join(\",\", new[] { 1, 2 }.Concat(new[] { 3 }).Reverse()))", "3,2,1"],
    ["@(new[] { new[] { 1, 2 }, new[] { 3 } }.SelectMany(x => x).Count())", "3"],
    ["@(new object[] { 1, \"a\", 2 }.OfType<int>().Sum())", "3"],
    ["@(new List<string> { \"a\" }.Count)", "1"],
    ["@{ var l = new List<string>(); l.Add(\"x\"); l.Add(\"y\"); l[0] = \"z\"; return string.Join(\",\", l) + l.Count; }", "z,y2"],
    ["@{ var a = new[] { 1, 2 }; a[1] = 5; return a[1]; }", "5"],
    ["@(context.Request.Headers.ContainsKey(\"Authorization\"))", "True"],
    ["@(context.Request.Headers.GetValueOrDefault(\"X-Client-Id\", \"\"))", "client-7"],
    ["@(context.Request.Headers[\"authorization\"])", "Bearer abc"],
    ["@(new[] { 1, 2 }.Select(x => new { V = x }).First().V)", "1"],
    ["@(new[] { \"a\", \"bb\" }.Where(s => s.Length > 1).Select(s => s.ToUpper()).FirstOrDefault())", "BB"],
    ["@(new[] { 1, 2, 3 }.Where(x => x > 1).Count(x => x < 3))", "1"],
    ["@(new[] { \"x\" }.Any(s => new[] { \"X\" }.Any(t => t.Equals(s, StringComparison.OrdinalIgnoreCase))))", "True"],
    ["@(new[] { 1, 2, 3 }.ElementAt(1))", "2"],
    ["@(new[] { 1, 2, 3 }.Average())", "2"],
    ["@(new[] { \"CLIENT.example.com\" }.Contains(\"client.EXAMPLE.com\", StringComparer.OrdinalIgnoreCase))", "True"],
    ["@(new[] { \"CLIENT.example.com\" }.Contains(\"client.EXAMPLE.com\", StringComparer.Ordinal))", "False"],
    ["@(string.Join(\",\", new[] { \"a\", \"A\", \"b\" }.Distinct(StringComparer.OrdinalIgnoreCase)))", "a,b"],
    ["@(new[] { \"k=v\", \"x=y\" }.Select(p => p.Split('=')).ToDictionary(kv => kv[0], kv => kv[1])[\"x\"])", "y"],
    ["@(JsonConvert.SerializeObject(new[] { 1, 2 }.ToDictionary(n => \"n\" + n)))", '{"n1":1,"n2":2}'],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("runs LINQ over dictionaries as Key/Value entries", () => {
    const ctx = makeContext({ m: new Map<string, Value>([["a", 1], ["b", 2]]) as Value });
    expect(runText("@(((IReadOnlyDictionary<string, object>)context.Variables[\"m\"]).Where(kv => (int)kv.Value > 1).Select(kv => kv.Key).First())", ctx)).toBe("b");
    expect(runText("@(((Dictionary<string, object>)context.Variables[\"m\"]).Count)", ctx)).toBe("2");
    expect(runText("@(string.Join(\",\", ((Dictionary<string, object>)context.Variables[\"m\"]).Keys))", ctx)).toBe("a,b");
    expect(runText("@(((Dictionary<string, object>)context.Variables[\"m\"])[\"b\"])", ctx)).toBe("2");
    expect(runText("@(((Dictionary<string, object>)context.Variables[\"m\"]).ContainsKey(\"z\"))", ctx)).toBe("False");
    expect(runText("@(((Dictionary<string, object>)context.Variables[\"m\"]).GetValueOrDefault(\"z\", 9))", ctx)).toBe("9");
    expect(runText("@(((Dictionary<string, object>)context.Variables[\"m\"]).First())", ctx)).toBe("[a, 1]");
  });

  it("is lazy, as C#: Select runs only for the elements pulled", () => {
    expect(runText("@(new[] { \"1\", \"x\" }.Select(s => int.Parse(s)).First())")).toBe("1");
    expect(failure("@(new[] { \"1\", \"x\" }.Select(s => int.Parse(s)).Last())").reason).toBe("FormatException");
  });

  it.each([
    ["@(new int[] { }.First())", "InvalidOperationException", "Sequence contains no elements"],
    ["@(new[] { 1 }.First(x => x > 1))", "InvalidOperationException", "Sequence contains no matching element"],
    ["@(new[] { 1, 2 }.Single())", "InvalidOperationException", "Sequence contains more than one element"],
    ["@(new[] { 1 }[1])", "IndexOutOfRangeException", "Index was outside the bounds of the array."],
    ["@(new[] { 1 }.Any(x => 1))", "InvalidCastException", "Cannot implicitly convert type 'Int32' to 'bool'"],
    ["@(context.Request.Headers[\"nope\"])", "KeyNotFoundException", "The given key 'nope' was not present in the dictionary."],
    ["@(new[] { 1 }.Where(1))", "RuntimeBinderException", "no overload of Enumerable.Where takes these arguments"],
    ["@(new[] { 1, 1 }.ToDictionary(n => n))", "ArgumentException", "An item with the same key has already been added. Key: 1"],
    ["@(new[] { \"a\" }.Contains(\"a\", StringComparison.Ordinal))", "RuntimeBinderException", "no overload of Enumerable.Contains takes these arguments"],
  ])("%s fails: %s", (source, reason, message) => {
    expect(failure(source)).toMatchObject({ reason, message });
  });
});

describe("evaluate: JSON (Newtonsoft's output, byte for byte)", () => {
  it.each([
    ["@(new JObject(new JProperty(\"a\", 1)).ToString())", "{\r\n  \"a\": 1\r\n}"],
    ["@(new JObject().ToString())", "{}"],
    ["@(new JArray().ToString())", "[]"],
    [
      "@(new JObject(new JProperty(\"s\", \"x\\\"y\"), new JProperty(\"n\", null), new JProperty(\"d\", 1.0), new JProperty(\"b\", true), new JProperty(\"arr\", new JArray(1, \"two\", new JObject())), new JProperty(\"o\", new JObject(new JProperty(\"k\", 2.5)))).ToString())",
      '{\r\n  "s": "x\\"y",\r\n  "n": null,\r\n  "d": 1.0,\r\n  "b": true,\r\n  "arr": [\r\n    1,\r\n    "two",\r\n    {}\r\n  ],\r\n  "o": {\r\n    "k": 2.5\r\n  }\r\n}',
    ],
    ["@(new JObject(new JProperty(\"a\", new JArray(1, 2))).ToString(Formatting.None))", '{"a":[1,2]}'],
    ["@(new JObject(new JProperty(\"when\", DateTime.UtcNow)).ToString(Formatting.None))", '{"when":"2024-01-31T10:20:30.456Z"}'],
    ["@(new JObject(new JProperty(\"t\", TimeSpan.FromMinutes(90))).ToString(Formatting.None))", '{"t":"01:30:00"}'],
    ["@(new JObject(new JProperty(\"c\", \"\\u0001\\n\\u2028</>\")).ToString(Formatting.None))", '{"c":"\\u0001\\n\\u2028</>"}'],
    ["@(new JProperty(\"list\", new[] { \"a\", \"b\" }).ToString())", '"list": [\r\n  "a",\r\n  "b"\r\n]'],
    ["@{ var o = new JObject(); o[\"b\"] = 2; o[\"a\"] = \"x\"; o[\"b\"] = 3; return o.ToString(Formatting.None); }", '{"b":3,"a":"x"}'],
    ["@{ var o = new JObject(); o.Add(\"k\", new JArray { 1, 2 }); return o.ToString(Formatting.None); }", '{"k":[1,2]}'],
    ["@(new JObject { { \"k\", \"v\" } }.ToString(Formatting.None))", '{"k":"v"}'],
    ["@{ var inner = new JObject(); var o = new JObject(new JProperty(\"a\", inner), new JProperty(\"b\", inner)); inner[\"x\"] = 1; return o.ToString(Formatting.None); }", '{"a":{"x":1},"b":{}}'],
    ["@{ var o = new JObject(); o[\"self\"] = o; return o.ToString(Formatting.None); }", '{"self":{}}'],
    ["@(JObject.Parse(\"{ \\\"a\\\": { \\\"b\\\": [1, 2.0, \\\"x\\\"] } }\").ToString(Formatting.None))", '{"a":{"b":[1,2.0,"x"]}}'],
    ["@(JObject.Parse(\"{\\\"a\\\":{\\\"b\\\":[10,20]}}\")[\"a\"][\"b\"][1])", "20"],
    ["@((string)JObject.Parse(\"{\\\"d\\\":\\\"2024-01-02T03:04:05Z\\\"}\")[\"d\"])", "01/02/2024 03:04:05"],
    ["@(JObject.Parse(\"{\\\"d\\\":\\\"2024-01-02T03:04:05Z\\\"}\")[\"d\"].ToString())", "1/2/2024 3:04:05 AM"],
    ["@(JObject.Parse(\"{\\\"d\\\":\\\"2024-01-02T03:04:05\\\"}\").ToString(Formatting.None))", '{"d":"2024-01-02T03:04:05"}'],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\")[\"missing\"] == null)", "True"],
    ["@(JObject.Parse(\"{\\\"a\\\":null}\")[\"a\"] == null)", "False"],
    ["@(JObject.Parse(\"{\\\"a\\\":\\\"x\\\"}\")[\"a\"] == \"x\")", "True"],
    ["@(JObject.Parse(\"{\\\"a\\\":\\\"x\\\"}\")[\"a\"] + \"!\")", "x!"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\").Value<int>(\"a\") + JObject.Parse(\"{}\").Value<int>(\"a\"))", "1"],
    ["@(JObject.Parse(\"{\\\"a\\\":{\\\"b\\\":[{\\\"c\\\":7}]}}\").SelectToken(\"a.b[0].c\"))", "7"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\").SelectToken(\"$.x.y\") == null)", "True"],
    ["@(string.Join(\",\", JObject.Parse(\"{\\\"a\\\":1,\\\"b\\\":2}\").Properties().Select(p => p.Name + \"=\" + p.Value)))", "a=1,b=2"],
    ["@(JObject.Parse(\"{\\\"a\\\":[1,2,3]}\")[\"a\"].Count())", "3"],
    ["@(((JArray)JObject.Parse(\"{\\\"a\\\":[1,2,3]}\")[\"a\"]).Count)", "3"],
    ["@(JArray.Parse(\"[1, 2]\").Any(t => (int)t == 2))", "True"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\").ContainsKey(\"a\"))", "True"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\")[\"a\"].Type)", "Integer"],
    ["@(JObject.Parse(\"{\\\"A\\\":1}\").GetValue(\"a\", StringComparison.OrdinalIgnoreCase))", "1"],
    ["@{ var o = JObject.Parse(\"{\\\"a\\\":1,\\\"b\\\":2}\"); o.Remove(\"a\"); return o.ToString(Formatting.None); }", '{"b":2}'],
    ["@(JsonConvert.SerializeObject(new { id = 1, name = \"x\", tags = new[] { \"a\" }, at = DateTime.UtcNow, none = (string)null }))", '{"id":1,"name":"x","tags":["a"],"at":"2024-01-31T10:20:30.456Z","none":null}'],
    ["@(JsonConvert.SerializeObject(new { a = 1 }, Formatting.Indented))", '{\r\n  "a": 1\r\n}'],
    ["@(JsonConvert.SerializeObject(JObject.Parse(\"{\\\"a\\\":1}\")))", '{"a":1}'],
    ["@(JsonConvert.SerializeObject(\"x\"))", '"x"'],
    ["@(JsonConvert.DeserializeObject<JObject>(\"{\\\"a\\\":2}\")[\"a\"])", "2"],
    ["@(JObject.FromObject(new { a = 1, b = new { c = \"d\" } }).ToString(Formatting.None))", '{"a":1,"b":{"c":"d"}}'],
    ["@(new { A = 1, B = \"x\" })", '{"A":1,"B":"x"}'],
    ["@(new { A = 1, B = \"x\" }.B)", "x"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    ["@(JObject.Parse(\"[1]\"))", "JsonReaderException"],
    ["@(JObject.Parse(\"{\\\"a\\\":}\"))", "JsonReaderException"],
    ["@(JObject.Parse(\"{} x\"))", "JsonReaderException"],
    ["@(JObject.Parse(\"" + "[".repeat(70) + "\"))", "JsonReaderException"],
    ["@(new JObject(new JProperty(\"a\", 1), new JProperty(\"a\", 2)))", "ArgumentException"],
    ["@(new JObject(1))", "ArgumentException"],
    ["@(new JProperty(\"a\", new { x = 1 }))", "ArgumentException"],
    ["@(new JArray(new JProperty(\"a\", 1)))", "ArgumentException"],
    ["@(JObject.Parse(\"{}\")[0])", "ArgumentException"],
    ["@(JArray.Parse(\"[]\")[\"a\"])", "ArgumentException"],
    ["@(JArray.Parse(\"[]\")[0])", "ArgumentOutOfRangeException"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\")[\"a\"][\"b\"])", "InvalidOperationException"],
    ["@(JObject.Parse(\"{\\\"a\\\":1}\").SelectToken(\"$..a\"))", "ArgumentException"],
    ["@(JsonConvert.SerializeObject(context))", "JsonSerializationException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });

  it("exports a JSON reader for hosts (a body's As<JObject>()) with the same semantics and caps", () => {
    const t = parseJsonForHost('{"n":1,"f":1.5,"s":"x"}');
    expect(t).toBeInstanceOf(JObject);
    expect(((t as JObject).props.get("f")!.value as JValue).value).toBeInstanceOf(CsDouble);
    expect(() => parseJsonForHost("{")).toThrow(HostError);
    expect(() => parseJsonForHost("[".repeat(100) + "]".repeat(100))).toThrow(/MaxDepth/);
  });
});

describe("evaluate: blocks, locals, assignment", () => {
  it.each([
    ["@{ var x = 1; x += 2; x *= 3; x -= 1; x /= 2; return x; }", "4"],
    ["@{ double d = 5; return d / 2; }", "2.5"],
    ["@{ int n = 5; return n / 2; }", "2"],
    ["@{ string s = null; s += \"a\"; s ??= \"b\"; return s; }", "a"],
    ["@{ string s = null; s ??= \"b\"; return s; }", "b"],
    ["@{ var n = 1; n++; ++n; n--; return n; }", "2"],
    ["@{ var x = 1; if (x > 0) { return \"pos\"; } else if (x < 0) { return \"neg\"; } else { return \"zero\"; } }", "pos"],
    ["@{ var x = -1; if (x > 0) return \"pos\"; else if (x < 0) return \"neg\"; return \"zero\"; }", "neg"],
    ["@{ var r = \"\"; { var t = \"a\"; r += t; } { var t = \"b\"; r += t; } return r; }", "ab"],
    ["@{ if (context.Variables.GetValueOrDefault<string>(\"role\") is string role) { return role.ToUpper(); } return \"none\"; }", "ADMIN"],
    ["@{ var items = new[] { 1, 2, 3 }; var limit = 1; return items.Count(i => i > limit); }", "2"],
    ["@{ return new[] { 1, 2 }.Select(x => { var y = x * 2; return y + 1; }).Sum(); }", "8"],
    ["@{ string[] parts = \"a/b\".Split('/'); return parts[parts.Length - 1]; }", "b"],
    ["@{ string[] allowed = { \"client.example.com\", \"other\" }; return allowed.Contains(context.Request.Certificate.GetNameInfo(X509NameType.SimpleName, false)); }", "True"],
    ["@{ double[] ds = { 1, 2 }; return ds[0] / 2; }", "0.5"],
    ["@{ return; }", ""],
  ])("%s → %s", (source, expected) => {
    expect(runText(source, makeContext({ role: "admin" }))).toBe(expected);
  });

  it("writes context.Variables through the MutableDictionary", () => {
    const ctx = makeContext({ n: 1 });
    expect(runText('@{ context.Variables["seen"] = true; context.Variables["n"] += 41; return context.Variables["n"]; }', ctx)).toBe("42");
    expect(ctx.variables.get("seen")).toBe(true);
    expect(ctx.variables.get("n")).toBe(42);
  });

  it.each([
    ["@{ int n = \"x\"; return n; }", "InvalidCastException"],
    ["@{ int n = 1.5; return n; }", "InvalidCastException"],
    ["@{ int n = null; return n; }", "InvalidCastException"],
    ["@{ var a = new { X = 1 }; a.X = 2; return a; }", "RuntimeBinderException"],
    ["@{ context.Request.Method = \"POST\"; return 1; }", "RuntimeBinderException"],
    ["@{ \"abc\"[0] = 'x'; return 1; }", "RuntimeBinderException"],
    ["@{ context.Request.Certificate.GetNameInfo(X509NameType.SimpleName, false)[\"x\"] = 1; return 1; }", "RuntimeBinderException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });
});

describe("evaluate: host objects", () => {
  it.each([
    ["@(context.Request.Method)", "GET"],
    ["@(context.Request.Certificate.Thumbprint.ToLower().Substring(0, 4))", "a1b2"],
    ["@(context.Request.Certificate.GetNameInfo(X509NameType.SimpleName, false))", "client.example.com"],
    ["@(context.Request.Certificate.GetNameInfo(X509NameType.SimpleName, true))", "Contoso CA"],
    ["@(context.Request.Certificate.GetNameInfo(X509NameType.DnsName, false))", "client.example.com"],
    ["@(context.Request.Certificate.Verify())", "True"],
    ["@(context.Request.Certificate.SubjectName.Name.Contains(\"O=Contoso\"))", "True"],
    ["@(context.Request.Certificate.ToString())", "X509Certificate2"],
    ["@(context.Request.Certificate?.Thumbprint ?? \"none\")", "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"],
    ["@(context.Throws?.Thumbprint ?? \"none\")", "none"],
    ["@(context.Variables.GetValueOrDefault<string>(\"missing\", \"fallback\"))", "fallback"],
    ["@(context.Variables.ContainsKey(\"missing\"))", "False"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("turns a HostError into a PolicyRuntimeError with the host's reason, at the call", () => {
    expect(failure("@(\n context.Fail())")).toMatchObject({ reason: "HostFailure", message: "the host refused", at: [2, 10] });
  });

  it("reaches nothing but the explicit tables: prototype names are unknown members", () => {
    for (const name of ["constructor", "__proto__", "prototype", "toString", "valueOf", "hasOwnProperty"]) {
      expect(failure(`@("x".${name})`).reason).toBe("RuntimeBinderException");
      expect(failure(`@(new { A = 1 }.${name})`).reason).toBe("RuntimeBinderException");
      expect(failure(`@(JObject.Parse("{}").${name})`).reason).toBe("RuntimeBinderException");
      expect(failure(`@(context.${name})`).reason).toBe("RuntimeBinderException");
    }
    expect(runText('@(JObject.Parse("{\\"__proto__\\":1,\\"constructor\\":2}")["__proto__"])')).toBe("1");
  });
});

describe("toText and toCondition", () => {
  it.each<[Value, string]>([
    [null, ""],
    [true, "True"],
    [false, "False"],
    ["s", "s"],
    [42, "42"],
    [new CsDouble(2.5), "2.5"],
    [new CsDouble(-0), "-0"],
    [new Date(Date.UTC(2024, 6, 4, 15, 0, 9)), "7/4/2024 3:00:09 PM"],
    [["a", "b"], "System.String[]"],
    [[1, "b"], "System.Object[]"],
  ])("toText(%o) = %s", (v, text) => {
    expect(toText(v)).toBe(text);
  });

  it("accepts only bools as conditions", () => {
    expect(toCondition(true, [1, 1], "f")).toBe(true);
    expect(toCondition(false, [1, 1], "f")).toBe(false);
    for (const v of [null, "true", 1, new CsDouble(1)] as Value[]) {
      expect(() => toCondition(v, [3, 4], "f.xml")).toThrow(PolicyRuntimeError);
    }
    try {
      toCondition("true", [3, 4], "f.xml");
    } catch (e) {
      expect(e).toMatchObject({ reason: "InvalidCastException", at: [3, 4], file: "f.xml", message: "Cannot implicitly convert type 'String' to 'bool'." });
    }
  });
});

describe("the step limit and the caps stop runaway expressions, quickly", () => {
  const code = (source: string): Code => {
    const r = parseCode(source, "runaway.xml", [1, 1]);
    if (!r.ok) throw new Error(r.errors[0]!.message);
    return r.code;
  };

  it("spends one step per node and stops when the budget is gone", () => {
    const budget = { remaining: 100 };
    evaluate(code("@(1 + 2)"), { context: makeContext().context }, budget);
    expect(budget.remaining).toBe(97);
    expect(() => evaluate(code("@(1 + 2 + 3)"), { context: makeContext().context }, { remaining: 3 })).toThrow(StepLimitExceeded);
    expect(() => evaluate(code("@(1)"), { context: makeContext().context }, { remaining: 0 })).toThrow(StepLimitExceeded);
  });

  it("stops a huge LINQ chain", () => {
    const start = Date.now();
    const ctx = makeContext({ big: "a,".repeat(90_000), huge: "a,".repeat(500_000) });
    expect(() => evaluate(code("@(((string)context.Variables[\"huge\"]).Split(',').Length)"), { context: ctx.context }, { remaining: 10_000_000 })).toThrow(/collection larger than/);
    const big = "@(((string)context.Variables[\"big\"]).Split(',').Select(x => x + x).Select(x => x + x).Where(x => x.Length > 0).Count())";
    const err = (() => {
      try {
        evaluate(code(big), { context: ctx.context }, { remaining: 100_000 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(StepLimitExceeded);
    expect((err as StepLimitExceeded).file).toBe("runaway.xml");
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it("stops string doubling by the length cap", () => {
    const start = Date.now();
    const source = "@{ var s = \"xxxxxxxx\"; " + "s = s + s; ".repeat(40) + "return s; }";
    const err = (() => {
      try {
        evaluate(code(source), { context: makeContext().context }, { remaining: 1_000_000 });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toMatchObject({ reason: "LimitExceeded" });
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it("charges string work to the budget (doubling under the cap still spends steps)", () => {
    const source = "@{ var s = \"xxxxxxxx\"; " + "s = s + s; ".repeat(16) + "return s.Length; }";
    const budget = { remaining: 1_000_000 };
    expect(evaluate(code(source), { context: makeContext().context }, budget)).toBe(8 * 2 ** 16);
    expect(1_000_000 - budget.remaining).toBeGreaterThan(2 * 8 * 2 ** 16 / 256);
    expect(() => evaluate(code(source), { context: makeContext().context }, { remaining: 1000 })).toThrow(StepLimitExceeded);
  });

  it("charges honest linear work linearly: a Join over 20,000 items fits the default budget", () => {
    const ctx = makeContext({ csv: Array.from({ length: 20_000 }, (_, i) => `item-${i}`).join(",") });
    const budget = { remaining: 100_000 };
    const out = evaluate(code("@(string.Join(\";\", ((string)context.Variables[\"csv\"]).Split(',')))"), { context: ctx.context }, budget);
    expect((out as string).split(";").length).toBe(20_000);
    expect(budget.remaining).toBeGreaterThan(40_000);
  });

  it.each([
    ["@(\"x\".PadLeft(1000000000))"],
    ["@(\"x\".PadRight(2000000))"],
    ["@(new string[] { }.Length.ToString(\"D200\"))"],
    ["@(string.Format(\"{0,2000000}\", 1))"],
  ])("caps allocation before it happens: %s", (source) => {
    expect(() => evaluate(code(source), { context: makeContext().context }, { remaining: 100_000 })).toThrow(PolicyRuntimeError);
  });

  it("stops exponential JSON from shared anonymous objects", () => {
    const source = "@{ var a = new { x = \"0123456789\" }; " + Array.from({ length: 30 }, () => "a = new { l = a, r = a }; ").join("") + "return JsonConvert.SerializeObject(a); }";
    const start = Date.now();
    expect(() => evaluate(code(source), { context: makeContext().context }, { remaining: 100_000 })).toThrow(/LimitExceeded|longer than|step limit/);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  it("stops exponential JSON trees built by cloning (JContainer copies a parented token)", () => {
    const source = "@{ var a = new JObject(new JProperty(\"x\", 1)); " + Array.from({ length: 30 }, () => "a = new JObject(new JProperty(\"l\", a), new JProperty(\"r\", a)); ").join("") + "return a; }";
    expect(() => evaluate(code(source), { context: makeContext().context }, { remaining: 100_000 })).toThrow(StepLimitExceeded);
  });

  it("bounds recursion by construction: the deepest parsable tree evaluates", () => {
    const deep = "@(" + "(".repeat(95) + "1" + ")".repeat(95) + ")";
    expect(evaluate(code(deep), { context: makeContext().context }, { remaining: 1000 })).toBe(1);
    const chain = "@(\"a\"" + ".ToString()".repeat(95) + ")";
    expect(evaluate(code(chain), { context: makeContext().context }, { remaining: 1000 })).toBe("a");
    const lambdas = "@(new[] { 1 }" + ".Select(x => x + 1)".repeat(40) + ".First())";
    expect(evaluate(code(lambdas), { context: makeContext().context }, { remaining: 10_000 })).toBe(41);
  });
});
