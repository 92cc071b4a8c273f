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
    expect(rewriteTarget("v2", params, new URLSearchParams(), true)).toEqual({ error: 'template "v2" is not a path starting with /' });
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
