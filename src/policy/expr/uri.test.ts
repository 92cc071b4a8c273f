/**
 * new Uri(string) through the interpreter, against the member values .NET's System.Uri documentation gives
 * (learn.microsoft.com/dotnet/api/system.uri: its example `http://www.contoso.com/catalog/shownew.htm?date=today`
 * and the member pages: Port defaults by scheme, Query keeps its "?", ToString() unescapes what AbsoluteUri keeps).
 */
import { describe, expect, it } from "vitest";
import { failure, runText } from "./test-context";

const uri = (s: string) => `new Uri("${s}")`;

describe("System.Uri", () => {
  it.each([
    [`@(${uri("http://www.contoso.com/catalog/shownew.htm?date=today")}.Host)`, "www.contoso.com"],
    [`@(${uri("http://www.contoso.com/catalog/shownew.htm?date=today")}.AbsolutePath)`, "/catalog/shownew.htm"],
    [`@(${uri("http://www.contoso.com/catalog/shownew.htm?date=today")}.Query)`, "?date=today"],
    [`@(${uri("http://www.contoso.com/catalog/shownew.htm?date=today")}.PathAndQuery)`, "/catalog/shownew.htm?date=today"],
    [`@(${uri("http://www.contoso.com/catalog/shownew.htm?date=today")}.Port)`, "80"],
    [`@(${uri("HTTPS://Example.COM:8443")}.Scheme + " " + ${uri("HTTPS://Example.COM:8443")}.Host + " " + ${uri("HTTPS://Example.COM:8443")}.Port)`, "https example.com 8443"],
    [`@(${uri("https://example.com")}.AbsoluteUri + " " + ${uri("https://example.com")}.AbsolutePath + " [" + ${uri("https://example.com")}.Query + "]")`, "https://example.com/ / []"],
    [`@(${uri("https://example.com:443/a")}.AbsoluteUri + " " + ${uri("https://example.com:443/a")}.IsDefaultPort)`, "https://example.com/a True"],
    // AbsoluteUri keeps escapes; ToString() unescapes all but #, ? and %.
    [`@(${uri("https://example.com/a%20b/%C3%A9?x=%3F%25%23")}.AbsoluteUri)`, "https://example.com/a%20b/%C3%A9?x=%3F%25%23"],
    [`@(${uri("https://example.com/a%20b/%C3%A9?x=%3F%25%23")}.ToString())`, "https://example.com/a b/é?x=%3F%25%23"],
    [`@(${uri("https://example.com/x#frag")}.Fragment)`, "#frag"],
    [`@(new System.Uri("https://example.com/oauth/cb").AbsolutePath.StartsWith("/oauth", StringComparison.InvariantCultureIgnoreCase))`, "True"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("a relative or malformed URI is a UriFormatException; null an ArgumentNullException", () => {
    expect(failure(`@(${uri("/relative/path")})`).reason).toBe("UriFormatException");
    expect(failure(`@(${uri("/relative/path")})`).message).toBe("Invalid URI: The format of the URI could not be determined.");
    expect(failure(`@(${uri("http://exa mple.com")})`).reason).toBe("UriFormatException");
    expect(failure(`@(new Uri((string)null))`).reason).toBe("ArgumentNullException");
  });
});
