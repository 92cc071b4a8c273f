/**
 * policy/liquid in workerd: the compile-time check, APIM's filter names with DotLiquid's .NET semantics, the body
 * and context bindings, and the render budgets. Expected values are what .NET / APIM produce for these inputs
 * (DateTime custom formats, C# integer `/` and `%`, WebUtility encoders, en-US currency).
 */
import { describe, expect, it } from "vitest";
import { checkLiquid, LIQUID_FILTERS, LIQUID_OUTPUT_CHARS, LIQUID_RENDER_STEPS, renderLiquid, type LiquidInput } from "./liquid";

const NOW = new Date("2026-12-03T08:00:12Z");

function input(body: unknown, over: Partial<LiquidInput> = {}): LiquidInput {
  return {
    body: typeof body === "string" ? body : JSON.stringify(body),
    contentType: "application/json",
    parseDate: true,
    request: {
      method: "POST", originalMethod: "POST",
      url: new URL("https://gw.test/orders/7?tag=a&tag=b"), originalUrl: new URL("https://gw.test/orders/7?tag=a&tag=b"),
      ipAddress: "192.0.2.1", params: new Map([["id", "7"]]), headers: new Headers({ "X-Caller": "batch", Accept: "a/b" }), hasBody: true,
    },
    response: null,
    now: NOW,
    ...over,
  };
}

function render(template: string, body: unknown = {}, over: Partial<LiquidInput> = {}): string {
  expect(checkLiquid(template)).toEqual([]);
  const r = renderLiquid(template, input(body, over));
  if (!r.ok) throw new Error(`${r.reason}: ${r.message}`);
  return r.text;
}

function failure(template: string, body: unknown = {}, over: Partial<LiquidInput> = {}): string {
  const r = renderLiquid(template, input(body, over));
  return r.ok ? `rendered ${JSON.stringify(r.text.slice(0, 40))}` : r.reason;
}

describe("compile-time check", () => {
  it("accepts every APIM filter name and rejects the snake_case and unknown ones, with positions", () => {
    for (const f of LIQUID_FILTERS) expect(checkLiquid(`{{ body.x | ${f}: 1 }}`).map((p) => p.message)).toEqual([]);
    expect(LIQUID_FILTERS).toHaveLength(43);
    expect(checkLiquid("a\n  {{ body.x | at_least: 1 }}")).toEqual([{ line: 2, col: 3, message: expect.stringMatching(/^unsupported filter at_least: APIM's filters are Abs, /) }]);
    expect(checkLiquid("{{ body.x | Sha256 }}")[0]!.message).toMatch(/^unsupported filter Sha256/);
  });

  it("rejects file tags and unknown context members; locals and body paths are fine", () => {
    expect(checkLiquid("{% render 'x' %}")[0]!.message).toMatch(/^unsupported tag {% render %}/);
    expect(checkLiquid("{% layout 'x' %}")[0]!.message).toMatch(/^unsupported tag {% layout %}/);
    expect(checkLiquid("{{ context.Request.Url.Hots }}")).toEqual([{ line: 1, col: 4, message: "context.Request.Url.Hots is not available to liquid templates in certgate" }]);
    expect(checkLiquid("{{ context.Response.Method }}")[0]!.message).toMatch(/context\.Response\.Method is not available/);
    expect(checkLiquid("{% assign n = body.items | Size %}{% for i in body.items %}{{ forloop.index }}{{ i.id }}{% endfor %}{{ n }}{{ context.Request.Headers.Accept }}")).toEqual([]);
    expect(checkLiquid("{{ user }}")[0]!.message).toMatch(/^unknown variable user/);
  });
});

describe(".NET semantics of the filters", () => {
  it("Date formats DateTime values with .NET custom and standard formats; unparseable input passes through", () => {
    expect(render('{{ body.d | Date: "yyyyMMddTHH:mm:ssZ" }}|{{ body.d | Date: "ddd, dd MMM yyyy" }}|{{ body.d | Date: "o" }}', { d: "2012-03-21T05:40Z" }))
      .toBe("20120321T05:40:00Z|Wed, 21 Mar 2012|2012-03-21T05:40:00.0000000Z");
    expect(render('{{ "now" | Date: "yyyy-MM-dd HH:mm" }}|{{ "soon" | Date: "yyyy" }}')).toBe("2026-12-03 08:00|soon");
    expect(failure('{{ "2020-01-01" | Date: "%" }}')).toBe("FormatException");
  });

  it("parse-date: Json.NET's date forms become DateTime (offsets to UTC); false copies the text", () => {
    const body = { a: "2012-03-21T05:40:00+02:00", b: "/Date(0)/", c: "2012-03-21", d: "not a date" };
    expect(render("{{ body.a }}|{{ body.b }}|{{ body.c }}|{{ body.d }}", body)).toBe("3/21/2012 3:40:00 AM|1/1/1970 12:00:00 AM|2012-03-21|not a date");
    expect(render("{{ body.a }}|{{ body.b }}", body, { parseDate: false })).toBe("2012-03-21T05:40:00+02:00|/Date(0)/");
  });

  it("arithmetic as C#: integer division toward zero, remainder with the dividend's sign, division by zero fails", () => {
    expect(render("{{ 7 | DividedBy: 2 }} {{ -7 | DividedBy: 2 }} {{ 7.5 | DividedBy: 2 }} {{ -7 | Modulo: 3 }} {{ 7 | Modulo: -3 }} {{ 2 | Times: 3 }} {{ 5 | Minus: 7 }}"))
      .toBe("3 -3 3.75 -1 1 6 -2");
    expect(failure("{{ 1 | DividedBy: 0 }}")).toBe("DivideByZeroException");
  });

  it("Currency is en-US; Escape/H are WebUtility.HtmlEncode; UrlEncode/UrlDecode are WebUtility's", () => {
    expect(render("{{ 1234.5 | Currency }} {{ -0.5 | Currency }}")).toBe("$1,234.50 -$0.50");
    expect(failure('{{ 1 | Currency: "de-DE" }}')).toBe("CultureNotFoundException");
    expect(render(`{{ body.s | Escape }}|{{ body.s | H }}`, { s: `<a href="x">Tom & Jerry's café</a>` }))
      .toBe("&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s caf&#233;&lt;/a&gt;|&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s caf&#233;&lt;/a&gt;");
    expect(render(`{{ "a b/ü?" | UrlEncode }}|{{ "a+b%2F%zz" | UrlDecode }}`)).toBe("a+b%2F%C3%BC%3F|a b/%zz");
  });

  it("DotLiquid's own rules: half-to-even Round, Split without empties, Default on blank text, Size of objects", () => {
    expect(render("{{ 2.5 | Round }} {{ 3.5 | Round }} {{ 2.675 | Round: 2 }} {{ -1.5 | Round }} {{ 1.23456 | Round: 3 }} [{{ \"x\" | Round }}]")).toBe("2 4 2.68 -2 1.235 []");
    expect(render('{{ "a,,b," | Split: "," | Join: "|" }} {{ "abc" | Split: "" | Join: "." }}')).toBe("a|b a.b.c");
    expect(render('{{ body.blank | Default: "d" }} {{ body.missing | Default: "d" }} {{ body.zero | Default: "d" }}', { blank: "  ", zero: 0 })).toBe("d d 0");
    expect(render("{{ body.o | Size }} {{ body.s | Size }} {{ 5 | Size }}", { o: { a: 1, b: 2 }, s: "abc" })).toBe("2 3 0");
    expect(render('{{ "  hELLO there" | Capitalize }}|{{ "one  two three" | TruncateWords: 2 }}|{{ "a b" | TruncateWords: 0 }}')).toBe("  Hello there|one ...|...");
    expect(render('{{ "$1,234.5" | Currency }} {{ "n/a" | Currency }} {{ "x" | Abs }} {{ "x" | AtLeast: 3 }} {{ 1 | AtLeast: 3 }}')).toBe("$1,234.50 n/a 0 x 3");
    expect(render('{{ 0 | Date: "yyyy-MM-dd HH:mm" }} {{ "2020-01-02" | Date }} {{ "a b a" | Replace: "a", "x" }} {{ "abc" | Replace: "", "x" }} {{ "a b a" | RemoveFirst: "a " }}'))
      .toBe("1970-01-01 00:00 2020-01-02 x b x abc b a");
  });

  it("string and array filters keep Shopify's meaning under APIM's names", () => {
    expect(render('{{ "hello world" | Capitalize }}|{{ "abcdefghij" | Truncate: 6 }}|{{ "one two three" | TruncateWords: 2 }}|{{ body.xs | Sort | Uniq | Join: "-" }}|{{ body.xs | First }}{{ body.xs | Last }}|{{ "  x " | Strip }}|{{ "a,b" | Split: "," | Size }}', { xs: [3, 1, 3, 2] }))
      .toBe("Hello world|abc...|one two...|1-2-3|32|x|2");
  });
});

describe("bindings", () => {
  it("context: the request's URL, method, headers (any case), matched parameters, query", () => {
    expect(render('{{ context.Request.Url }}|{{ context.Request.Url.Host }}:{{ context.Request.Url.Port }}{{ context.Request.Url.Path }}|{{ context.Request.Url.Query.tag }}|{{ context.Request.Headers["x-CALLER"] }}|{{ context.Request.MatchedParameters.id }}|{{ context.Request.IpAddress }}|{{ context.Request.HasBody }}|{{ context.Response.StatusCode }}'))
      .toBe("https://gw.test/orders/7?tag=a&tag=b|gw.test:443/orders/7|a,b|batch|7|192.0.2.1|true|");
  });

  it("body: JSON by content type (+json, charset); other types unbound; a bad JSON body fails", () => {
    expect(render("{{ body.a }}", { a: 1 }, { contentType: "application/problem+json; charset=utf-8" })).toBe("1");
    expect(render("[{{ body.a }}]", { a: 1 }, { contentType: "text/plain" })).toBe("[]");
    expect(render("[{{ body.a }}]", "", { contentType: "application/json" })).toBe("[]");
    expect(failure("{{ body.a }}", "{", {})).toBe("JsonReaderException");
    expect(failure("{{ body.a }}", "<a/>", { contentType: "text/xml" })).toBe("XmlNotSupported");
  });

  it("no prototype reaches a template: inherited members read as nothing, a __proto__ key is data", () => {
    const body = JSON.parse('{"a": {}, "__proto__": {"x": 1}}');
    expect(render("[{{ body.constructor }}{{ body.a.toString }}{{ body.a.hasOwnProperty }}][{{ body.__proto__.x }}]", body)).toBe("[][1]");
    expect(render("{% assign u = context.Request.Url %}{% assign h = context.Request.Headers %}[{{ u.constructor }}{{ u.toString }}{{ h.constructor }}{{ h.hasOwnProperty }}]"))
      .toBe("[https://gw.test/orders/7?tag=a&tag=b]");
  });
});

describe("budgets", () => {
  it("render steps: a loop over its budget fails, one under it renders", () => {
    expect(render(`{% for i in (1..${LIQUID_RENDER_STEPS / 2 - 10}) %}{{ i | Modulo: 10 }}{% endfor %}`).length).toBe(LIQUID_RENDER_STEPS / 2 - 10);
    expect(failure("{% for i in (1..3000) %}{% for j in (1..3000) %}{% endfor %}{% endfor %}")).toBe("LimitExceeded");
  });

  it("output: everything written, captures included, is capped before the string grows past it", () => {
    const chunk = "x".repeat(1000);
    expect(failure(`{% capture c %}{% for i in (1..${LIQUID_OUTPUT_CHARS / 1000 + 1}) %}{{ body.s }}{% endfor %}{% endcapture %}`, { s: chunk })).toBe("LimitExceeded");
    expect(render(`{% for i in (1..100) %}{{ body.s }}{% endfor %}`, { s: chunk }).length).toBe(100_000);
  });

  it("memory: filters that build strings are charged", () => {
    expect(failure('{% assign s = body.s %}{% for i in (1..30) %}{% assign s = s | Append: s %}{% endfor %}{{ s | Size }}', { s: "xy" })).toBe("LimitExceeded");
  });
});
