/**
 * `policy corpus` on a tiny corpus written for this test (no third-party policy text): one document of each
 * verdict and shape, through the command in-process; then the pieces the measurement depends on.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { countReasons, firstElement, reasonOf, shapeOf, snippetSection, type CorpusReport, type DocumentOutcome } from "./corpus";
import { main } from "./main";

const EMPTY = "<backend><forward-request /></backend><outbound /><on-error />";
const dir = mkdtempSync(join(tmpdir(), "certgate-corpus-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

mkdirSync(join(dir, "nested"));
const files: Record<string, string> = {
  // Compiles and forwards, with a header from the client certificate.
  "runs.xml": `<policies><inbound><set-header name="X-Subject" exists-action="override"><value>@(context.Request.Certificate.Subject)</value></set-header></inbound>${EMPTY}</policies>`,
  // Compiles, then fails on every request: the variable it reads is never set (APIM: KeyNotFoundException).
  "fails.xml": `<policies><inbound><set-header name="X-Missing" exists-action="override"><value>@((string)context.Variables["never-set"])</value></set-header></inbound>${EMPTY}</policies>`,
  // Rejected twice over: an undefined named value and an element APIM does not have.
  "nested/rejected.xml": `<policies><inbound><set-header name="X-Key" exists-action="override"><value>{{undefined-name}}</value></set-header><frobnicate /></inbound>${EMPTY}</policies>`,
  // A snippet meant for outbound, denied there by its own return-response? No: it answers 418 itself.
  "snippet.xml": `<!-- Paste this into the outbound section. -->\n<return-response><set-status code="418" reason="Teapot" /></return-response>`,
  // Answers 503 itself, without any error: the policy ran (a 5xx of its own choosing is not a failure).
  "own-503.xml": `<policies><inbound><return-response><set-status code="503" reason="Maintenance" /></return-response></inbound>${EMPTY}</policies>`,
  // A send-request the corpus cannot answer (no outbound calls), ignore-error: the variable is null, `.Body` throws —
  // what APIM does when that service is down, so "a service unreachable", not a compile-then-fail.
  "needs-service.xml": `<policies><inbound><send-request mode="new" response-variable-name="answer" timeout="5" ignore-error="true"><set-url>https://auth.example.net/check</set-url><set-method>GET</set-method></send-request><set-header name="X-Answer" exists-action="override"><value>@(((IResponse)context.Variables["answer"]).Body.As<string>())</value></set-header></inbound>${EMPTY}</policies>`,
  // A snippet reading a variable some other policy sets: needs context, not a defect.
  "needs-context.xml": `<set-header name="X-User" exists-action="override"><value>@((string)context.Variables["user-id"])</value></set-header>`,
  // A rewrite-uri naming an operation's template parameter: the operation is defined in APIM, not in the document.
  "needs-operation.xml": `<rewrite-uri template="items/{id}" />`,
  "needs-parameter.xml": `<set-header name="X-Id" exists-action="override"><value>@(context.Request.MatchedParameters["id"])</value></set-header>`,
  // A document including a fragment that is a file beside it (`<id>-fragment.xml`): compiled with it.
  "uses-fragment.xml": `<policies><inbound><include-fragment fragment-id="shared" /></inbound>${EMPTY}</policies>`,
  "shared-fragment.xml": `<fragment><set-header name="X-Shared" exists-action="override"><value>yes</value></set-header></fragment>`,
  // Not XML APIM would accept: "--" inside a comment.
  "broken.xml": `<!-- a comment <!-- inside a comment -->\n<policies><inbound /></policies>`,
};
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

async function run(argv: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("policy corpus DIR", () => {
  it("gives every document a verdict, with its shape and why", async () => {
    const r = await run(["corpus", dir, "--json"]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out.join("\n")) as CorpusReport;
    const by = Object.fromEntries(report.documents.map((d) => [d.file, d])) as Record<string, DocumentOutcome>;
    expect(Object.keys(by).sort()).toEqual(["broken.xml", "fails.xml", "needs-context.xml", "needs-operation.xml", "needs-parameter.xml", "needs-service.xml", join("nested", "rejected.xml"), "own-503.xml", "runs.xml", "shared-fragment.xml", "snippet.xml", "uses-fragment.xml"]);

    expect(by["runs.xml"]).toMatchObject({ shape: "policies", compiledAs: "as is", verdict: "runs", status: 200 });
    expect(by["fails.xml"]).toMatchObject({ verdict: "fails", status: 500 });
    expect(by["needs-service.xml"]).toMatchObject({ verdict: "unreachable", status: 500 });
    expect(by["needs-service.xml"]!.detail).toContain("needs a service: send-request answer unanswered");
    expect(by["needs-context.xml"]).toMatchObject({ shape: "snippet", verdict: "context", status: 500 });
    expect(by["needs-context.xml"]!.detail).toContain('variable "user-id" is read but never set');
    expect(by["needs-operation.xml"]).toMatchObject({ verdict: "context", status: 500 });
    expect(by["needs-operation.xml"]!.detail).toContain("needs context: the operation whose URL template has {id}");
    expect(by["needs-parameter.xml"]).toMatchObject({ verdict: "context", status: 500 });
    expect(by["needs-parameter.xml"]!.detail).toContain("needs context: the operation whose URL template has {id}");
    expect(by["uses-fragment.xml"]).toMatchObject({ verdict: "runs", compiledAs: "as is, with the fragment beside it (shared)" });
    expect(by["shared-fragment.xml"]).toMatchObject({ shape: "fragment", verdict: "runs" });
    expect(by["own-503.xml"]).toMatchObject({ verdict: "runs", status: 503 });
    expect(by["fails.xml"]!.detail).toContain("never-set");
    expect(by["snippet.xml"]).toMatchObject({ shape: "snippet", compiledAs: "wrapped in <outbound>", verdict: "denies", status: 418 });
    expect(by["broken.xml"]).toMatchObject({ shape: "policies", verdict: "rejected", reasons: ["invalid XML"] });
    expect(by["broken.xml"]!.detail).toMatch(/^1:\d+ invalid XML/);

    const rejected = by[join("nested", "rejected.xml")]!;
    expect(rejected.verdict).toBe("rejected");
    expect(rejected.detail).toMatch(/^1:\d+ unknown named value \{\{undefined-name\}\}/);
    expect(rejected.reasons).toHaveLength(2);
    expect(rejected.reasons[0]).toBe("named value not defined");
    expect(rejected.reasons[1]).toContain("frobnicate");
  });

  it("takes named values from --values, as a user would supply them", async () => {
    const values = join(dir, "..", `corpus-values-${process.pid}.json`);
    writeFileSync(values, JSON.stringify({ "undefined-name": "now-defined" }));
    try {
      const r = await run(["corpus", dir, "--values", values, "--json"]);
      const report = JSON.parse(r.out.join("\n")) as CorpusReport;
      const rejected = report.documents.find((d) => d.file.endsWith("rejected.xml"))!;
      expect(rejected.reasons).toHaveLength(1);
      expect(rejected.reasons[0]).toContain("frobnicate");
    } finally {
      rmSync(values, { force: true });
    }
  });

  it("prints totals, the compile-then-fails and the reasons as text", async () => {
    const r = await run(["corpus", dir]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`12 documents in ${dir}`);
    expect(r.out[1]).toBe("  compiled: 10 (runs 4, denies cleanly 1, a service unreachable 1, needs context 3, compile-then-fail 1); rejected: 2");
    const fails = r.out.indexOf("Compile-then-fail:");
    expect(r.out[fails + 1]).toMatch(/^ {2}fails\.xml: answered 500 after /);
    expect(r.out).toContain("    1   1  invalid XML");
  });

  it("refuses a missing folder and a bad values file with usage errors", async () => {
    const missing = await run(["corpus", join(dir, "no-such-folder")]);
    expect(missing.code).toBe(2);
    expect(missing.err[0]).toContain("is not a folder");
    const bad = join(dir, "nested", "values.txt");
    writeFileSync(bad, "{ not json");
    const r = await run(["corpus", dir, "--values", bad]);
    expect(r.code).toBe(2);
    expect(r.err[0]).toContain("invalid JSON");
    expect((await run(["corpus"])).err[0]).toContain("DIR is required");
  });
});

describe("what a file is", () => {
  it("finds the first element past the prolog, leaving well-formedness to the compiler", () => {
    expect(firstElement(`<?xml version="1.0"?>\n<!-- c --><policies><inbound /></policies>`)).toBe("policies");
    expect(firstElement(`<!-- a -- b --><set-header name="a" /><choose />`)).toBe("set-header");
    expect(firstElement("<!-- never closed <policies />")).toBeNull();
    expect(firstElement("no markup")).toBeNull();
  });

  it("tells documents, sections, fragments and snippets apart", () => {
    expect(shapeOf("<policies><inbound /></policies>")).toBe("policies");
    expect(shapeOf("<on-error><base /></on-error>")).toBe("section");
    expect(shapeOf("<fragment><set-variable name=\"a\" value=\"b\" /></fragment>")).toBe("fragment");
    expect(shapeOf("<set-header name=\"a\" exists-action=\"delete\" />")).toBe("snippet");
    expect(shapeOf("just text")).toBe("invalid-xml");
    expect(shapeOf("<!-- a <!-- b -->\n<policies />")).toBe("policies");
    expect(snippetSection("<!-- Copy the following snippet into the on-error section. -->")).toBe("on-error");
    expect(snippetSection("<!-- no hint -->")).toBe("inbound");
  });
});

describe("reasons", () => {
  it("reduces a compiler message to the construct it names", () => {
    expect(reasonOf("<send-request> is an APIM policy certgate does not support; allowed in <inbound>: base, choose")).toBe("policy <send-request>");
    expect(reasonOf("unknown attribute template on <set-body>; <set-body> takes no attributes")).toBe("attribute template on <set-body>");
    expect(reasonOf("unsupported member: byte[].Encrypt")).toBe("member byte[].Encrypt");
    expect(reasonOf("unknown named value {{x}} (no named values are defined; add it to values.json or pass --values)")).toBe("named value not defined");
    expect(reasonOf('base-url must be an absolute http(s) URL, not ""')).toBe("base-url must be an absolute http");
  });

  it("counts each reason once per document, and how many documents it alone blocks", () => {
    const doc = (file: string, reasons: string[]): DocumentOutcome => ({ file, shape: "policies", compiledAs: "as is", verdict: "rejected", detail: "", reasons, status: 0 });
    expect(countReasons([doc("a", ["x"]), doc("b", ["x", "y"]), doc("c", ["y"]), doc("d", ["x"])])).toEqual([
      { reason: "x", documents: 3, only: 2 },
      { reason: "y", documents: 2, only: 1 },
    ]);
  });
});
