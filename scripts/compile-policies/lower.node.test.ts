/**
 * Lowering, checked on emitted Programs: scopes and `<base/>` (APIM semantics), fragments, named values,
 * route order, `needs`, origins, determinism. Policies are built in memory; each step is named by its
 * set-variable name (or kind) so a section reads as a list.
 */
import { describe, expect, it } from "vitest";
import type { PolicyBundle, Program, Step, Template } from "../../src/policy/schema";
import { compilePolicies, compileSingleDocument, type CompileResult } from "./compile";
import { emitBundle } from "./emit";
import { formatDiagnostics } from "./source";

const v = (name: string) => `<set-variable name="${name}" value="1" />`;
const doc = (sections: Partial<Record<"inbound" | "backend" | "outbound" | "on-error", string>>) =>
  `<policies>\n${Object.entries(sections).map(([s, body]) => `  <${s}>${body}</${s}>`).join("\n")}\n</policies>\n`;
const api = (ops: object[], extra: object = {}) => JSON.stringify({ name: "Cars", path: "/cars", operations: ops, ...extra });

function bundle(r: CompileResult): PolicyBundle {
  if (!("bundle" in r)) throw new Error(formatDiagnostics([...r.errors, ...r.warnings]));
  return r.bundle;
}
function compile(files: Record<string, string>, values = {}): PolicyBundle {
  return bundle(compilePolicies(new Map(Object.entries(files)), values));
}
const names = (steps: readonly Step[]) => steps.map((s) => (s.k === "set-variable" ? s.name : s.k));

describe("scopes and <base/>", () => {
  const files = {
    "global.xml": doc({ inbound: v("g-in"), backend: v("g-back"), outbound: v("g-out"), "on-error": v("g-err") }),
    "apis/cars/api.json": api([
      { id: "get", method: "GET", urlTemplate: "/{id}", policy: "get.xml" },
      { id: "list", method: "GET", urlTemplate: "/" },
    ]),
    // inbound: base in the middle; outbound: no base (parent not run); backend and on-error absent (inherit).
    "apis/cars/policy.xml": doc({ inbound: v("a-in-1") + "<base />" + v("a-in-2"), outbound: v("a-out") }),
    "apis/cars/get.xml": doc({ inbound: "<base />" + v("o-in"), outbound: v("o-out") + "<base/>", backend: v("o-back"), "on-error": "<base/>" }),
  };
  const b = compile(files);
  const get = b.operations["cars/get"]!;
  const list = b.operations["cars/list"]!;

  it("inlines the parent's section where <base/> stands", () => {
    expect(names(get.inbound)).toEqual(["a-in-1", "g-in", "a-in-2", "o-in"]);
    expect(names(get.outbound)).toEqual(["o-out", "a-out"]);
  });
  it("does not run the parent's section when a section has no <base/> (APIM)", () => {
    expect(names(list.outbound)).toEqual(["a-out"]);
    expect(names(get.backend)).toEqual(["o-back"]);
  });
  it("treats an absent section or document as <base/>", () => {
    expect(names(list.backend)).toEqual(["g-back"]);
    expect(names(list.inbound)).toEqual(["a-in-1", "g-in", "a-in-2"]);
    expect(names(get.onError)).toEqual(["g-err"]);
  });
  it("gives unmatched requests the global scope only", () => {
    const star = b.operations["*"]!;
    expect([star.inbound, star.backend, star.outbound, star.onError].map(names)).toEqual([["g-in"], ["g-back"], ["g-out"], ["g-err"]]);
    expect(star.api).toBeNull();
    expect(star.operation).toBeNull();
  });
  it("tags every step with its origin", () => {
    const [a1, g, , o] = get.inbound;
    expect(a1!.at).toEqual({ file: "apis/cars/policy.xml", line: 2, col: 12, scope: "api", policyId: "api:cars" });
    expect(g!.at).toEqual({ file: "global.xml", line: 2, col: 12, scope: "global", policyId: "global" });
    expect(o!.at).toMatchObject({ file: "apis/cars/get.xml", scope: "operation", policyId: "operation:cars/get" });
  });
  it("carries the manifest's names", () => {
    expect(get.api).toEqual({ id: "cars", name: "Cars", path: "/cars" });
    expect(get.operation).toEqual({ id: "get", name: "get", method: "GET", urlTemplate: "/{id}" });
    expect(get.origin).toBeNull();
  });
});

describe("fragments", () => {
  const files = {
    "global.xml": doc({ inbound: v("before") + '<include-fragment fragment-id="common" />' + v("after"), outbound: '<include-fragment fragment-id="common" />' }),
    "fragments/common.xml": `<fragment>\n  ${v("f1")}\n  <include-fragment fragment-id="inner" />\n</fragment>\n`,
    "fragments/inner.xml": `<fragment>${v("f2")}</fragment>`,
  };
  const b = compile(files);
  it("inlines fragments (nested) in every section that includes them", () => {
    expect(names(b.operations["*"]!.inbound)).toEqual(["before", "f1", "f2", "after"]);
    expect(names(b.operations["*"]!.outbound)).toEqual(["f1", "f2"]);
  });
  it("tags fragment steps with the fragment's file and policy id", () => {
    expect(b.operations["*"]!.inbound[1]!.at).toEqual({ file: "fragments/common.xml", line: 2, col: 3, scope: "fragment", policyId: "fragment:common" });
  });
  it("checks a fragment against the section that includes it", () => {
    const r = compilePolicies(new Map(Object.entries({
      "global.xml": doc({ outbound: '<include-fragment fragment-id="v" />' }),
      "fragments/v.xml": "<fragment><validate-client-certificate /></fragment>",
    })));
    expect("errors" in r && r.errors.map((e) => `${e.file}:${e.line}:${e.col}`)).toEqual(["fragments/v.xml:1:11"]);
  });
});

describe("named values", () => {
  const files = {
    "values.json": JSON.stringify({ env: "prod", token: { secret: true }, year: '@(DateTime.UtcNow.Year.ToString())' }),
    "global.xml": doc({
      inbound: [
        '<set-header name="X-Env-{{env}}" exists-action="override"><value>env={{env}}</value></set-header>',
        '<set-header name="Authorization" exists-action="override"><value>Bearer {{token}}</value></set-header>',
        '<set-variable name="e" value="@(&quot;{{env}}&quot;.ToUpper())" />',
        '<set-variable name="y" value="{{year}}" />',
      ].join("\n"),
    }),
  };
  const b = compile(files, { env: "test" });
  const inbound = b.operations["*"]!.inbound;
  const header = (i: number) => inbound[i] as Extract<Step, { k: "set-header" }>;
  const variable = (i: number) => (inbound[i] as Extract<Step, { k: "set-variable" }>).value;

  it("substitutes compile-time values (the in-process values override values.json)", () => {
    expect(header(0).name).toEqual({ t: "text", v: "X-Env-test" });
    expect(header(0).values).toEqual([{ t: "text", v: "env=test" }]);
  });
  it("keeps secret values as runtime parts and lists them", () => {
    expect(header(1).values).toEqual([{ t: "parts", parts: [{ text: "Bearer " }, { value: "token" }] }]);
    expect(b.runtimeValues).toEqual(["token"]);
  });
  it("substitutes inside expressions, keeping positions in the file", () => {
    const t = variable(2) as Extract<Template, { t: "code" }>;
    expect(t.code.src).toBe('@("test".ToUpper())');
    expect(t.code.node.at[0]).toBe(4);
  });
  it("compiles a named value holding an expression", () => {
    expect(variable(3)).toMatchObject({ t: "code", code: { kind: "expr", src: "@(DateTime.UtcNow.Year.ToString())" } });
  });
});

describe("routes, needs, determinism", () => {
  const files = {
    "apis/cars/api.json": api([
      { id: "any", method: "*", urlTemplate: "/{id}" },
      { id: "rest", method: "GET", urlTemplate: "/{*rest}" },
      { id: "get", method: "GET", urlTemplate: "/{id}" },
      { id: "new", method: "GET", urlTemplate: "/new" },
      { id: "root", method: "GET", urlTemplate: "/" },
    ]),
    "apis/admin/api.json": api([{ id: "all", method: "*", urlTemplate: "/{*rest}", policy: "p.xml" }], { path: "", host: "admin.example.com", origin: "https://admin.internal" }),
    "apis/admin/p.xml": doc({ inbound: '<choose><when condition="@(context.Request.Certificate.VerifyNoRevocation() || context.Request.Certificate.Verify())" /></choose>' }),
  };
  const b = compile(files);
  it("orders routes most specific first", () => {
    expect(b.routes.map((r) => r.operation)).toEqual(["admin/all", "cars/root", "cars/new", "cars/get", "cars/any", "cars/rest"]);
    expect(b.routes[0]).toEqual({ operation: "admin/all", host: "admin.example.com", method: "*", segments: ["{*rest}"] });
  });
  it("computes needs from Verify() / VerifyNoRevocation() calls", () => {
    expect(b.operations["admin/all"]!.needs).toEqual(["verify", "verifyNoRevocation"]);
    expect(b.operations["cars/get"]!.needs).toEqual([]);
    expect(b.operations["admin/all"]!.origin).toBe("https://admin.internal");
  });
  it("emits the same bytes for the same input, another hash for other values", () => {
    const again = compile(Object.fromEntries(Object.entries(files).reverse()));
    expect(emitBundle(again)).toBe(emitBundle(b));
    expect(compile(files, { x: "1" }).source).not.toBe(b.source);
    expect(b.source).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe("compileSingleDocument", () => {
  it("applies one document to every request; <base/> runs nothing", () => {
    const b = bundle(compileSingleDocument(doc({ inbound: "<base />" + v("only") }), "paste.xml"));
    expect(b.routes).toEqual([]);
    expect(Object.keys(b.operations)).toEqual(["*"]);
    const p: Program = b.operations["*"]!;
    expect(names(p.inbound)).toEqual(["only"]);
    expect(p.inbound[0]!.at.file).toBe("paste.xml");
  });
});
