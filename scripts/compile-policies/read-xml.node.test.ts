/**
 * read-xml: positions in the ORIGINAL file survive everything the reader does before saxes — entity
 * decoding inside code spans, unescaped quotes, CRLF line ends, a BOM, tabs, private-use characters the
 * placeholders must avoid — and the code text handed to the parser is the decoded one.
 */
import { describe, expect, it } from "vitest";
import { compileSingleDocument } from "./compile";
import { readXml, textOffset, type XmlDocument, type XmlElement, type XmlText } from "./read-xml";
import { Diagnostics, formatDiagnostics, SourceFile } from "./source";

type XmlNode = XmlElement | XmlText;

function read(text: string): { doc: XmlDocument | null; diags: Diagnostics; file: SourceFile } {
  const diags = new Diagnostics();
  const file = new SourceFile("p.xml", text);
  return { doc: readXml(file, diags), diags, file };
}
const find = (el: XmlElement, name: string): XmlElement | undefined => {
  if (el.name === name) return el;
  for (const c of el.children) if (c.kind === "element") {
    const f = find(c, name);
    if (f) return f;
  }
  return undefined;
};
const errors = (xml: string) => {
  const r = compileSingleDocument(xml, "p.xml");
  return "errors" in r ? formatDiagnostics(r.errors) : "";
};

describe("read-xml", () => {
  it("keeps code spans aside with their decoded text and file positions", () => {
    const text = '<policies>\n  <inbound>\n    <x a="@(b == &quot;c&quot; &amp;&amp; d != "e")" t="@{ return 1; }" />\n  </inbound>\n</policies>';
    const { doc, file } = read(text);
    const x = find(doc!.root, "x")!;
    const pieces = x.attributes.map((a) => doc!.pieces.get(a.value)!);
    expect(pieces.map((p) => p.kind === "code" && p.source)).toEqual(['@(b == "c" && d != "e")', "@{ return 1; }"]);
    expect(pieces.map((p) => file.position(p.start))).toEqual([{ line: 3, col: 11 }, { line: 3, col: 57 }]);
    expect(file.position(x.attributes[1]!.start)).toEqual({ line: 3, col: 54 });
    expect(file.position(x.attributes[1]!.valueStart)).toEqual({ line: 3, col: 57 });
  });

  it("reports positions in files with a BOM, CRLF line ends and tabs", () => {
    const xml = "\uFEFF<policies>\r\n\t<inbound>\r\n\t\t<set-variable name=\"a\" value=\"@(\r\n\t\t\t1 +\r\n\t\t\t* 2)\" />\r\n\t</inbound>\r\n</policies>\r\n";
    expect(errors(xml)).toBe("p.xml:5:4: unsupported construct: pointer\n\t\t\t* 2)\" />\n\t\t\t^\n");
  });

  it("points XML errors at the original text after replaced code spans", () => {
    const xml = (value: string) => `<policies>\n  <inbound>\n    <set-variable name="a" value="${value}" extra=oops />\n  </inbound>\n</policies>`;
    const withCode = errors(xml('@("x" + "y")'));
    expect(withCode).toMatch(/^p\.xml:3:\d+: invalid XML: /);
    expect(withCode).toBe(errors(xml("abcdefghijkl")).replace("abcdefghijkl", '@("x" + "y")'));
  });

  it("never uses a private-use character of the document as a placeholder", () => {
    const text = '<policies><inbound><set-header name="X-\uE000" exists-action="override"><value>@("\uE001")</value></set-header></inbound></policies>';
    const { doc } = read(text);
    const h = find(doc!.root, "set-header")!;
    expect(h.attributes[0]!.value).toBe("X-\uE000");
    expect(doc!.pieces.has("\uE000")).toBe(false);
    const value = find(h, "value")!;
    const t = value.children[0]!;
    expect(t.kind === "text" && doc!.pieces.get(t.value)).toMatchObject({ kind: "code", source: '@("\uE001")' });
  });

  it("locates text runs and CDATA", () => {
    const text = "<policies>\n  <inbound>\n    <set-body>\n      hello <![CDATA[@(1 < 2)]]>\n    </set-body>\n  </inbound>\n</policies>";
    const { doc, file } = read(text);
    const body = find(doc!.root, "set-body")!;
    const [first, cdata] = body.children as [XmlNode, XmlNode];
    expect(first.kind === "text" && file.position(textOffset(doc!, first))).toEqual({ line: 4, col: 7 });
    expect(cdata.kind === "text" && doc!.pieces.get(cdata.value)).toMatchObject({ kind: "code", source: "@(1 < 2)" });
  });

  it("reports an unterminated expression once, at its start, and reads on", () => {
    const xml = '<policies>\n  <inbound>\n    <set-body>@{ return "x"; </set-body>\n    <set-variable name="a" value="@(1 + 2" />\n    <set-header name="X" exists-action="never" />\n  </inbound>\n</policies>';
    expect(errors(xml)).toBe([
      "p.xml:3:15: unterminated expression: no '}' closes this '@{'",
      '    <set-body>@{ return "x"; </set-body>',
      "              ^~",
      "p.xml:4:35: unterminated expression: no ')' closes this '@('",
      '    <set-variable name="a" value="@(1 + 2" />',
      "                                  ^~",
      'p.xml:5:41: exists-action must be one of override, skip, append, delete, not "never"',
      '    <set-header name="X" exists-action="never" />',
      "                                        ^~~~~",
      "",
    ].join("\n"));
  });

  it("refuses DOCTYPE (no entity expansion)", () => {
    const { doc, diags } = read('<!DOCTYPE p [<!ENTITY x "y">]><policies />');
    expect(doc).toBeNull();
    expect(diags.list[0]!.message).toMatch(/DOCTYPE/);
  });
});
