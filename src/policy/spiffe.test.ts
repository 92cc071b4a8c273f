import { describe, expect, it } from "vitest";
import { matchesSpiffeClaim, parseSpiffeClaim, parseSpiffeId } from "./spiffe";

describe("SPIFFE IDs (SPIFFE-ID.md §2)", () => {
  it.each([
    ["spiffe://example.org", { trustDomain: "example.org", path: "" }],
    ["spiffe://example.org/ns/prod/sa/web", { trustDomain: "example.org", path: "/ns/prod/sa/web" }],
    ["spiffe://td-1_x.example/a.b-c_d", { trustDomain: "td-1_x.example", path: "/a.b-c_d" }],
  ])("%s parses", (text, id) => {
    expect(parseSpiffeId(text)).toEqual(id);
  });

  it.each([
    "SPIFFE://example.org/a", "spiffe://Example.org/a", "spiffe://example.org/", "spiffe://example.org//a", "spiffe://example.org/a/./b",
    "spiffe://example.org/a/../b", "spiffe://example.org/a?x=1", "spiffe://example.org/a#f", "spiffe://example.org:443/a", "spiffe://user@example.org/a",
    "spiffe:///a", "https://example.org/a", `spiffe://example.org/${"a".repeat(2048)}`,
  ])("%s is not a SPIFFE ID", (text) => {
    expect(parseSpiffeId(text)).toBeNull();
  });

  it("a claim matches an SVID's only URI SAN: trust domain exactly, path exactly or under a /* prefix by whole segments", () => {
    const exact = parseSpiffeClaim("spiffe://example.org/ns/prod/web")!;
    const prefix = parseSpiffeClaim("spiffe://example.org/ns/prod/*")!;
    expect(matchesSpiffeClaim(exact, ["spiffe://example.org/ns/prod/web"])).toBe(true);
    expect(matchesSpiffeClaim(exact, ["spiffe://example.org/ns/prod/web/x"])).toBe(false);
    expect(matchesSpiffeClaim(exact, ["spiffe://other.org/ns/prod/web"])).toBe(false);
    expect(matchesSpiffeClaim(prefix, ["spiffe://example.org/ns/prod/web"])).toBe(true);
    expect(matchesSpiffeClaim(prefix, ["spiffe://example.org/ns/production"])).toBe(false);
    // not an SVID: none, or more than one URI SAN
    expect(matchesSpiffeClaim(exact, [])).toBe(false);
    expect(matchesSpiffeClaim(exact, ["spiffe://example.org/ns/prod/web", "https://example.org"])).toBe(false);
    expect(parseSpiffeClaim("spiffe://example.org/*")).toEqual({ trustDomain: "example.org", path: "", prefix: true });
  });
});
