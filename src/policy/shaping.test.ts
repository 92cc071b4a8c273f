import { describe, expect, it } from "vitest";
import { checkHeaderFailure, editQuery, replaceAll, rewriteTarget } from "./shaping";

describe("request-shaping decisions", () => {
  it("replaceAll counts, replaces ordinally, and refuses a result over the cap before building it", () => {
    expect(replaceAll("a.b.c", ".", "::", 100)).toEqual({ text: "a::b::c", count: 2 });
    expect(replaceAll("Aa", "a", "x", 100)).toEqual({ text: "Ax", count: 1 });
    expect(replaceAll("a".repeat(1000), "a", "bb", 1999)).toBeNull();
    expect(replaceAll("a".repeat(1000), "a", "bb", 2000)?.count).toBe(1000);
  });

  it("rewriteTarget fills, encodes and copies; names what is wrong", () => {
    const params = new Map([["id", "a/b c"]]);
    const r = rewriteTarget("/v2/{id}?x=1", params, new URLSearchParams("x=9&y=2"), true);
    expect("error" in r ? r.error : `${r.path}?${r.query}`).toBe("/v2/a%2Fb%20c?x=1&y=2");
    expect(rewriteTarget("/v2/{nope}", params, new URLSearchParams(), true)).toEqual({ error: "template parameter {nope} is not in the operation's URL template" });
    // Without a leading "/" it is the same path under the base URL; empty is the base URL itself; a URL is refused.
    const target = (t: string) => { const x = rewriteTarget(t, params, new URLSearchParams("k=1"), false); return "error" in x ? x.error : `${x.path}|${x.query}`; };
    expect(target("sap/odata/{id}?f=json")).toBe("/sap/odata/a%2Fb%20c|f=json");
    expect(target("/sap/odata")).toBe("/sap/odata|");
    expect(target("")).toBe("|");
    expect(target("?a=1")).toBe("|a=1");
    expect(target("https://other.example/x")).toBe('template "https://other.example/x" is an absolute URL, not a path under the backend\'s base URL');
  });

  it("editQuery: override without values sets an empty value; skip keeps an existing one", () => {
    const q = new URLSearchParams("a=1&b=2");
    editQuery(q, "override", "a", [], false);
    editQuery(q, "skip", "b", ["3"], true);
    editQuery(q, "override", "c", [], true); // every value was null: left as it is
    expect(q.toString()).toBe("b=2&a=");
  });

  it("checkHeaderFailure: APIM's reasons and messages", () => {
    expect(checkHeaderFailure("X-K", null, [], false)?.reason).toBe("HeaderNotFound");
    expect(checkHeaderFailure("X-K", "v", [], false)).toBeNull();
    expect(checkHeaderFailure("X-K", "V", ["v"], true)).toBeNull();
    expect(checkHeaderFailure("X-K", "V", ["v"], false)).toEqual({ reason: "HeaderValueNotAllowed", message: "Header X-K value of V is not allowed. Access denied." });
  });
});
