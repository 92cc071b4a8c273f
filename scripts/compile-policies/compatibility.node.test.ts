/**
 * The APIM-compatibility switch: the table of certgate extensions against the docs' marks, and what the switch
 * changes besides errors (unmatched requests under an API answer APIM's 404). Each extension's error text is pinned
 * by the golden case test/policies/apim-compatibility.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compilePolicies, compileSingleDocument, NOT_FOUND_OPERATION } from "./compile";
import { CERTGATE_EXTENSIONS, SETTINGS_FILE } from "./compatibility";

const DOCS = join(dirname(fileURLToPath(import.meta.url)), "../../docs");

/** Every `name` marked *(certgate…)* in the policy docs. */
function markedInDocs(): Set<string> {
  const names = new Set<string>();
  for (const file of ["policies.md", "policies-layout.md"]) {
    const text = readFileSync(join(DOCS, file), "utf8");
    for (const m of text.matchAll(/`([^`]+)`\s*\*\(certgate[,)]/g)) names.add(m[1]!.replace(/\(\)$/, ""));
  }
  return names;
}

describe("certgate extensions: one table, the docs' marks", () => {
  it("every extension the docs mark is in the table, and every row is marked in the docs", () => {
    const table = new Set(CERTGATE_EXTENSIONS.map((e) => e.name));
    const docs = markedInDocs();
    expect([...docs].filter((n) => !table.has(n)).sort()).toEqual([]);
    expect([...table].filter((n) => !docs.has(n)).sort()).toEqual([]);
    expect(table.size).toBeGreaterThanOrEqual(12);
  });
});

describe('"compatibility": "apim"', () => {
  const api = JSON.stringify({ name: "Cars", path: "/cars", operations: [{ id: "get", method: "GET", urlTemplate: "/{id}" }] });

  it("an API without unmatchedOperations answers APIM's 404 for what no operation matches", () => {
    const apim = compilePolicies(new Map([[SETTINGS_FILE, '{"compatibility": "apim"}'], ["apis/cars/api.json", api]]));
    expect("bundle" in apim && apim.bundle.routes.map((r) => r.operation)).toEqual(["cars/get", `cars/${NOT_FOUND_OPERATION}`]);
    const certgate = compilePolicies(new Map([["apis/cars/api.json", api]]));
    expect("bundle" in certgate && certgate.bundle.routes.map((r) => r.operation)).toEqual(["cars/get"]);
  });

  it("an APIM-only document compiles; the same with an extension does not; the default allows it", () => {
    const plain = `<policies><inbound><validate-client-certificate validate-revocation="false"><identities><identity dns-name="a.example" /></identities></validate-client-certificate></inbound></policies>`;
    expect("bundle" in compileSingleDocument(plain, "p.xml", {}, { compatibility: "apim" })).toBe(true);
    const extended = plain.replace('dns-name="a.example"', 'spiffe-id="spiffe://example.org/web"');
    const r = compileSingleDocument(extended, "p.xml", {}, { compatibility: "apim" });
    expect("errors" in r && r.errors.map((e) => `${e.line}:${e.col} ${e.message}`)).toEqual([
      expect.stringMatching(/^1:\d+ the attribute spiffe-id of <identity> is a certgate extension beyond APIM .*"compatibility": "apim"/),
    ]);
    expect("bundle" in compileSingleDocument(extended, "p.xml")).toBe(true);
  });

  it("certgate.json: only compatibility, certgate or apim", () => {
    const r = compilePolicies(new Map([[SETTINGS_FILE, '{"compatibility": "APIM", "strict": true}']]));
    const messages = "errors" in r ? r.errors.map((e) => e.message) : [];
    expect(messages.sort()).toEqual(['"compatibility" must be "certgate" (the default) or "apim"', 'unknown key "strict" (certgate.json has "compatibility")']);
  });
});
