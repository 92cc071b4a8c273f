import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "./edit-distance";

describe("editDistance", () => {
  it("counts insertions, deletions, substitutions and adjacent transpositions as 1", () => {
    expect(editDistance("REVOCATION", "REVOCATON")).toBe(1);
    expect(editDistance("REVOCATION", "REVOCATOIN")).toBe(1);
    expect(editDistance("REVOCATION", "REVOKATION")).toBe(1);
    expect(editDistance("REVOCATION", "REVOCATIONS")).toBe(1);
    expect(editDistance("persist-to", "PERSIST_TO")).toBe(0);
    expect(editDistance("abc", "xyz")).toBe(3);
  });
});

describe("closestName", () => {
  const known = ["REVOCATION", "TRUST_STORE", "CERT_SOURCES", "ORIGIN_URL"];
  it("finds the name a typo was meant to be, within a budget that grows with the name", () => {
    expect(closestName("REVOCATON", known)).toBe("REVOCATION");
    expect(closestName("TRUSTSTORE", known)).toBe("TRUST_STORE");
    expect(closestName("CERT_SOURCE", known)).toBe("CERT_SOURCES");
    expect(closestName("REVOCATION", known)).toBeNull();
    expect(closestName("DATABASE_URL", known)).toBeNull();
    expect(closestName("PATH", known)).toBeNull();
  });
});
