import { describe, expect, it } from "vitest";
import { bundle, operation, step } from "../../test/support/policies";
import { PASS_THROUGH_BUNDLE, prepareBundle, selectProgram } from "./bundle";
import { SCHEMA_VERSION } from "./schema";

describe("bundle checks", () => {
  it("accepts the pass-through bundle and a hand-written one", () => {
    expect(prepareBundle(PASS_THROUGH_BUNDLE).ok).toBe(true);
    const b = bundle({ inbound: [step.setHeader("x-a", ["1"])] }, [operation("cars", "get", "GET", "/{id}")]);
    const r = prepareBundle(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const sel = selectProgram(r.value, new URL("https://gw/cars/7"), "GET");
    expect(sel.program.key).toBe("cars/get");
    expect(Object.fromEntries(sel.params)).toEqual({ id: "7" });
    expect(selectProgram(r.value, new URL("https://gw/boats"), "GET").program.key).toBe("*");
  });

  it("is checked once per bundle object", () => {
    const b = bundle();
    expect(prepareBundle(b)).toBe(prepareBundle(b));
  });

  it("refuses another schema version, naming what to do", () => {
    const newer = prepareBundle({ ...PASS_THROUGH_BUNDLE, schema: SCHEMA_VERSION + 1 });
    expect(newer.ok ? [] : newer.error).toEqual([expect.stringMatching(new RegExp(`^schema is ${SCHEMA_VERSION + 1}, this gateway runs schema ${SCHEMA_VERSION} \\(a newer certgate's compiler built it\\): rebuild`))]);
    // Version 1 predates the request-shaping, JWT, limit, cache and liquid steps: refused, not half-run.
    const older = prepareBundle({ ...PASS_THROUGH_BUNDLE, schema: 1 });
    expect(older.ok ? [] : older.error).toEqual([expect.stringMatching(/^schema is 1, .*\(an older certgate's compiler built it\): rebuild the policies .*npm run policies:build/)]);
    const r = prepareBundle({ ...PASS_THROUGH_BUNDLE, schema: "2" });
    expect(r.ok).toBe(false);
    expect(prepareBundle(null).ok).toBe(false);
    expect(prepareBundle("{}").ok).toBe(false);
  });

  it("lists every structural problem", () => {
    const bad = {
      schema: SCHEMA_VERSION,
      source: "x",
      runtimeValues: [],
      routes: [{ operation: "nope", host: null, method: "GET", segments: ["a"] }, { operation: 3 }],
      operations: {
        "a/b": {
          api: null, operation: null, origin: "ftp://x", backend: [], outbound: [], onError: [], needs: ["everything"],
          inbound: [
            { k: "rate-limit", at: { file: "f", line: 1, col: 1, scope: "global", policyId: "global" } },
            { k: "rewrite-uri", at: { file: "f", line: 1, col: 1, scope: "global", policyId: "global" }, template: { t: "text", v: "/x" } },
            { k: "set-header", at: { file: "f", line: 2, col: 1, scope: "global", policyId: "global" }, name: { t: "text", v: "x" }, existsAction: "replace", values: [{ t: "weird" }] },
            { k: "choose", at: { file: "f", line: 3, col: 1, scope: "global", policyId: "global" }, whens: [{ condition: { kind: "expr" }, steps: [] }], otherwise: null },
          ],
        },
      },
    };
    const r = prepareBundle(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const all = r.error.join("\n");
    expect(all).toContain("unknown step \"rate-limit\"");
    expect(all).toContain("(rewrite-uri).copyUnmatchedParams: must be a boolean");
    expect(all).toContain("existsAction");
    expect(all).toContain("unknown template kind \"weird\"");
    expect(all).toContain("condition: must be compiled code");
    expect(all).toContain("origin: must be null or an http(s) URL");
    expect(all).toContain("needs");
    expect(all).toContain("no `*` program");
    expect(all).toContain("routes[1]");
    expect(all).toContain("\"nope\" is not in operations");
  });

  it("finds Verify(), VerifyNoRevocation() and context.Deployment even when `needs` does not list them", () => {
    const b = bundle({
      inbound: [
        step.choose([["@(context.Request.Certificate.Verify())", []]]),
        step.setVariable("x", "@(context.Deployment.Certificates.Count)"),
      ],
      onError: [step.setVariable("y", "@(context.Request.Certificate?.VerifyNoRevocation() ?? false)")],
    }, [
      operation("a", "plain", "GET", "/p"),
      operation("a", "issuer", "GET", "/i", { inbound: [step.validate({ identities: [{ issuerCertificateId: "ca" }] })] }),
    ]);
    const r = prepareBundle(b);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.fallback).toMatchObject({ needsVerify: true, needsVerifyNoRevocation: true, needsRegistered: true });
    expect(r.value.programs.get("a/plain")).toMatchObject({ needsVerify: false, needsVerifyNoRevocation: false, needsRegistered: false });
    expect(r.value.programs.get("a/issuer")!.needsRegistered).toBe(true);
  });
});

describe("liquid templates", () => {
  it("are parsed when the bundle loads: one this runtime cannot run is a load problem, not a request failure", () => {
    const at = { file: "t.xml", line: 3, col: 5, scope: "global", policyId: "global" } as const;
    const good = prepareBundle(bundle({ inbound: [{ k: "set-body-liquid", at, template: "{{ body.a | Upcase }}", parseDate: true }] }));
    expect(good.ok).toBe(true);
    const bad = prepareBundle(bundle({ inbound: [{ k: "set-body-liquid", at, template: "{{ body.a | upcase }}", parseDate: true }] }));
    expect(bad.ok ? [] : bad.error).toEqual([expect.stringMatching(/^operations\["\*"\]\.inbound\[0\] \(set-body-liquid\)\.template: liquid 1:1: unsupported filter upcase/)]);
  });
});
