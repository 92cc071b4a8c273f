/**
 * Golden tests of the policy compiler: every folder `test/policies/<case>/` holding an `errors.txt` is a case.
 * The folder is a policies layout (global.xml, apis/…, fragments/…, values.json), or a single `policy.xml`
 * (compiled with compileSingleDocument). `errors.txt` is the exact diagnostic output, paths relative to the
 * case folder; an empty `errors.txt` means the case must compile (and then a bundle must come out).
 *
 * `CERTGATE_UPDATE_GOLDEN=1` rewrites the errors.txt files from the compiler's output (review the diff!).
 * Folders without errors.txt (runtime cases with cases.json) are not this harness's.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compilePolicies, compileSingleDocument, type CompileResult } from "./compile";
import { emitBundle } from "./emit";
import { readPolicyFiles } from "./main";
import { formatDiagnostics } from "./source";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../../test/policies");
const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), "../dev/policies");
/** The shipped, neutral policies/ (the REQUIRE_CERTIFICATE floor only). */
const SHIPPED = join(dirname(fileURLToPath(import.meta.url)), "../../policies");
const UPDATE = process.env.CERTGATE_UPDATE_GOLDEN === "1";

function compileCase(dir: string): CompileResult {
  const files = readPolicyFiles(dir);
  files.delete("cases.json");
  const single = files.get("policy.xml");
  if (single !== undefined && files.size === 1) return compileSingleDocument(single, "policy.xml");
  return compilePolicies(files);
}

const cases = existsSync(ROOT) ? readdirSync(ROOT).filter((c) => existsSync(join(ROOT, c, "errors.txt"))).sort() : [];

describe("policy compiler golden cases (test/policies/<case>/errors.txt)", () => {
  it("has cases", () => expect(cases.length).toBeGreaterThan(10));

  for (const name of cases) {
    it(name, () => {
      const dir = join(ROOT, name);
      const result = compileCase(dir);
      const output = formatDiagnostics("errors" in result ? [...result.errors, ...result.warnings] : result.warnings);
      const goldenPath = join(dir, "errors.txt");
      if (UPDATE) writeFileSync(goldenPath, output);
      const expected = readFileSync(goldenPath, "utf8");
      expect(output).toBe(expected);
      const expectsErrors = expected.split("\n").some((l) => /^[^ \t].*:\d+:\d+: (?!warning: )/.test(l));
      expect("bundle" in result).toBe(!expectsErrors);
      // Deterministic: a second compilation gives the same bytes.
      const again = compileCase(dir);
      if ("bundle" in result && "bundle" in again) expect(emitBundle(again.bundle)).toBe(emitBundle(result.bundle));
    });
  }
});

describe("the demo's set (scripts/dev/policies, used by npm start)", () => {
  it("compiles with no errors and no warnings", () => {
    const result = compilePolicies(readPolicyFiles(EXAMPLES));
    expect(formatDiagnostics("errors" in result ? [...result.errors, ...result.warnings] : result.warnings)).toBe("");
    expect("bundle" in result && Object.keys(result.bundle.operations).sort()).toEqual(["*", "demo/create-order", "demo/hello", "demo/limited", "demo/other", "demo/public"]);
  });
});

describe("the shipped policies/ are neutral", () => {
  it("compile to one `*` program with no steps but the forward: the REQUIRE_CERTIFICATE floor decides alone", () => {
    const result = compilePolicies(readPolicyFiles(SHIPPED));
    expect(formatDiagnostics("errors" in result ? [...result.errors, ...result.warnings] : result.warnings)).toBe("");
    if (!("bundle" in result)) throw new Error("no bundle");
    expect(Object.keys(result.bundle.operations)).toEqual(["*"]);
    expect(result.bundle.routes).toEqual([]);
    const program = result.bundle.operations["*"]!;
    expect([...program.inbound, ...program.backend, ...program.outbound, ...program.onError]).toEqual([]);
    expect(result.bundle.runtimeValues).toEqual([]);
  });
});
