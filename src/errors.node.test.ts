/**
 * docs/troubleshooting.md covers every problem code certgate can put on the wire (errors.ts), each in a table
 * row with the status http/problem.ts gives it — the document cannot fall behind a new code.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CERT_ERROR_CODES, GATEWAY_ERROR_CODES } from "./errors";
import { statusOf } from "./http/problem";

const doc = readFileSync(new URL("../docs/troubleshooting.md", import.meta.url), "utf8");

describe("docs/troubleshooting.md", () => {
  it("has a row for every code, with the status the gateway answers", () => {
    const missing: string[] = [];
    for (const code of [...CERT_ERROR_CODES, ...GATEWAY_ERROR_CODES]) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${code}\` |`));
      if (!row) {
        missing.push(code);
        continue;
      }
      const status = statusOf(code, 403);
      const cell = row.split("|")[2]!.trim();
      expect(cell === String(status) || (status === 403 && cell.startsWith("deny")), `${code}: ${cell} vs ${status}`).toBe(true);
    }
    expect(missing).toEqual([]);
  });
});
