/**
 * byte[], base64, Encoding, Guid, Uri and WebUtility through the interpreter. Expected values are what .NET
 * produces for the same calls (the documents cited in codecs.ts; the GUID byte order from Guid.ToByteArray's
 * documented example layout).
 */
import { describe, expect, it } from "vitest";
import { failure, run, runText } from "./test-context";


describe("Convert base64 and Encoding", () => {
  it.each([
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")))`, "dXNlcjpwYXNz"],
    [`@(Encoding.UTF8.GetString(Convert.FromBase64String("dXNlcjpwYXNz")))`, "user:pass"],
    [`@(Encoding.UTF8.GetString(Convert.FromBase64String(" dXNl\\r\\ncjpw YXNz\\t")))`, "user:pass"],
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("a")))`, "YQ=="],
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("ab")))`, "YWI="],
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("")))`, ""],
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("héllo"), 1, 3))`, "w6ls"],
    [`@(string.Join(",", Encoding.UTF8.GetBytes("é€")))`, "195,169,226,130,172"],
    [`@(string.Join(",", Encoding.ASCII.GetBytes("aé")))`, "97,63"],
    [`@(Encoding.ASCII.GetString(Convert.FromBase64String("YcOp")))`, "a??"],
    [`@(Encoding.UTF8.GetString(Convert.FromBase64String("/w==")))`, "\uFFFD"],
    [`@(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("abcdef"), 2, 3))`, "cde"],
    [`@(Convert.FromBase64String("AAEC").Length)`, "3"],
    [`@(Convert.FromBase64String("AAEC")[2])`, "2"],
    [`@(Encoding.UTF8.GetBytes("a").ToString())`, "System.Byte[]"],
    [`@{ var b = new byte[3]; b[0] = 255; b[2] = 1; return Convert.ToBase64String(b); }`, "/wAB"],
    [`@(new byte[4].Length + new byte[0].Length)`, "4"],
    [`@(new byte[2].ToString() + "/" + ((new string[2])[0] == null))`, "System.Byte[]/True"],
    // The usual Basic-authentication split, as policies write it.
    [`@(Encoding.UTF8.GetString(Convert.FromBase64String("Basic dXNlcjpwYXNz".Substring(6))).Split(':')[0])`, "user"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it.each([
    [`@(Convert.FromBase64String("dXNlcjpwYXN"))`, "FormatException"],
    [`@(Convert.FromBase64String("dXNl*jpw"))`, "FormatException"],
    [`@(Convert.FromBase64String("YQ===="))`, "FormatException"],
    [`@(Convert.FromBase64String("YQ==YQ=="))`, "FormatException"],
    [`@(Convert.FromBase64String(null))`, "ArgumentNullException"],
    [`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("abc"), 2, 5))`, "ArgumentOutOfRangeException"],
    [`@(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes("abc"), 2, 5))`, "ArgumentOutOfRangeException"],
    [`@(Convert.ToBase64String("abc"))`, "RuntimeBinderException"],
    [`@(new byte[-1])`, "OverflowException"],
    [`@(new byte[200000])`, "LimitExceeded"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });
});

describe("Guid", () => {
  const g = `Guid.Parse("{0F8FAD5B-D9CB-469F-A165-70867728950E}")`;
  it.each([
    [`@(${g}.ToString())`, "0f8fad5b-d9cb-469f-a165-70867728950e"],
    [`@(${g})`, "0f8fad5b-d9cb-469f-a165-70867728950e"],
    [`@(${g}.ToString("N"))`, "0f8fad5bd9cb469fa16570867728950e"],
    [`@(${g}.ToString("B"))`, "{0f8fad5b-d9cb-469f-a165-70867728950e}"],
    [`@(${g}.ToString("P"))`, "(0f8fad5b-d9cb-469f-a165-70867728950e)"],
    [`@(${g}.ToString("X"))`, "{0x0f8fad5b,0xd9cb,0x469f,{0xa1,0x65,0x70,0x86,0x77,0x28,0x95,0x0e}}"],
    [`@(string.Join(",", ${g}.ToByteArray()))`, "91,173,143,15,203,217,159,70,161,101,112,134,119,40,149,14"],
    [`@(Guid.Parse("0f8fad5bd9cb469fa16570867728950e") == ${g})`, "True"],
    [`@(Guid.Parse("  (0F8FAD5B-D9CB-469F-A165-70867728950E) ") == ${g})`, "True"],
    [`@(Guid.Parse("{0x0f8fad5b,0xd9cb,0x469f,{0xa1,0x65,0x70,0x86,0x77,0x28,0x95,0xe}}") == ${g})`, "True"],
    [`@(Guid.Empty.ToString())`, "00000000-0000-0000-0000-000000000000"],
    [`@(Guid.NewGuid() == Guid.NewGuid())`, "False"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("NewGuid is a random (version 4) GUID", () => {
    expect(runText(`@(Guid.NewGuid().ToString())`)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it.each([
    [`@(Guid.Parse("not-a-guid"))`, "FormatException"],
    [`@(Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950"))`, "FormatException"],
    [`@(Guid.Parse(null))`, "ArgumentNullException"],
    [`@(Guid.NewGuid().ToString("Z"))`, "FormatException"],
  ])("%s fails with %s", (source, reason) => {
    expect(failure(source).reason).toBe(reason);
  });
});

describe("Uri and WebUtility", () => {
  it.each([
    [`@(Uri.EscapeDataString("a b&c=d/é~!*'()"))`, "a%20b%26c%3Dd%2F%C3%A9~%21%2A%27%28%29"],
    [`@(Uri.EscapeDataString("😀"))`, "%F0%9F%98%80"],
    [`@(Uri.UnescapeDataString("a%20b%zz%C3%A9%C3+%"))`, "a b%zzé%C3+%"],
    [`@(Uri.UnescapeDataString("%e2%82%ac"))`, "€"],
    [`@(WebUtility.UrlEncode("a b&é!*()~'"))`, "a+b%26%C3%A9!*()%7E%27"],
    [`@(WebUtility.UrlDecode("a+b%26%C3%A9%zz"))`, "a b&é%zz"],
    [`@(WebUtility.HtmlEncode("<a href='x'>&\\"é😀"))`, "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&#233;&#128512;"],
    [`@(WebUtility.UrlEncode(null) == null)`, "True"],
    [`@(System.Net.WebUtility.UrlEncode("x y"))`, "x+y"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("Uri.EscapeDataString(null) is an ArgumentNullException", () => {
    expect(failure(`@(Uri.EscapeDataString(null))`).reason).toBe("ArgumentNullException");
  });
});

describe("DateTimeOffset (at offset zero)", () => {
  it.each([
    [`@(DateTimeOffset.FromUnixTimeSeconds(1700000000).ToString("o"))`, "2023-11-14T22:13:20.0000000+00:00"],
    [`@(DateTimeOffset.FromUnixTimeMilliseconds(1700000000123).ToUnixTimeMilliseconds())`, "1700000000123"],
    [`@(DateTimeOffset.FromUnixTimeMilliseconds(-1500).ToUnixTimeSeconds())`, "-2"], // rounded down, as .NET
    [`@(DateTimeOffset.FromUnixTimeSeconds(1700000000).ToString())`, "11/14/2023 10:13:20 PM +00:00"],
    [`@(DateTimeOffset.FromUnixTimeSeconds(1700000000).AddHours(2).Hour)`, "0"],
    [`@(DateTimeOffset.FromUnixTimeSeconds(0) == DateTimeOffset.UnixEpoch)`, "True"],
    [`@(DateTimeOffset.UtcNow.ToUnixTimeSeconds() == (long)(context.Timestamp - new DateTime(1970, 1, 1)).TotalSeconds)`, "True"],
    [`@(DateTimeOffset.UtcNow.UtcDateTime == context.Timestamp)`, "True"],
    [`@(DateTimeOffset.UtcNow.Offset == TimeSpan.Zero)`, "True"],
    [`@(DateTimeOffset.FromUnixTimeSeconds(1) > DateTimeOffset.UnixEpoch)`, "True"],
    [`@((DateTimeOffset.FromUnixTimeSeconds(90) - DateTimeOffset.UnixEpoch).TotalMinutes)`, "1.5"],
    [`@((DateTimeOffset.UnixEpoch + TimeSpan.FromDays(1)).ToUnixTimeSeconds())`, "86400"],
    // new DateTimeOffset(DateTime): the DateTime's instant at offset zero (the edge's zone is UTC).
    [`@(new DateTimeOffset(new DateTime(2023, 11, 14, 22, 13, 20)).ToUnixTimeSeconds())`, "1700000000"],
    [`@(new DateTimeOffset(DateTime.UtcNow) == DateTimeOffset.UtcNow)`, "True"],
    [`@(new DateTimeOffset(new DateTime(1970, 1, 1)).Offset == TimeSpan.Zero)`, "True"],
    [`@(new System.DateTimeOffset(new DateTime(2023, 11, 14)).ToString("o"))`, "2023-11-14T00:00:00.0000000+00:00"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("outside .NET's range is an ArgumentOutOfRangeException", () => {
    expect(failure(`@(DateTimeOffset.FromUnixTimeSeconds(253402300800))`).reason).toBe("ArgumentOutOfRangeException");
  });
});
