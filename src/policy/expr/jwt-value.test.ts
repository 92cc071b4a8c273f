/**
 * APIM's Jwt in expressions (jwt-value.ts): AsJwt / TryParseJwt parse without validating, every member reads the
 * token's header or payload, the checker types the out local, and what is not a JWT gives null / false.
 */
import { describe, expect, it } from "vitest";
import { parseCode } from "./parse";
import { checkTypes } from "./check-types";
import { makeContext, runText } from "./test-context";
import { parseJwtValue } from "./jwt-value";

const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const token = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: "ES256", typ: "at+jwt" }) =>
  `${b64url(header)}.${b64url(payload)}.c2ln`;
const TOKEN = token({
  iss: "https://idp.example", sub: "alice", aud: "api://cars", exp: 1_800_000_000, nbf: 1_700_000_000, iat: 1_700_000_020,
  jti: "t-1", roles: ["reader", "writer"], tier: 3, cnf: { "x5t#S256": "abc" },
});

describe("Jwt (AsJwt, TryParseJwt)", () => {
  it.each([
    [`@("${TOKEN}".AsJwt().Algorithm)`, "ES256"],
    [`@("${TOKEN}".AsJwt().Type)`, "at+jwt"],
    [`@("${TOKEN}".AsJwt().Issuer)`, "https://idp.example"],
    [`@("${TOKEN}".AsJwt().Subject)`, "alice"],
    [`@("${TOKEN}".AsJwt().Id)`, "t-1"],
    [`@(string.Join("|", "${TOKEN}".AsJwt().Audiences))`, "api://cars"],
    [`@("${TOKEN}".AsJwt().ExpirationTime.Value.ToString("yyyy-MM-ddTHH:mm:ss"))`, "2027-01-15T08:00:00"],
    [`@("${TOKEN}".AsJwt().IssuedAt.Value.Second)`, "40"],
    [`@("${TOKEN}".AsJwt().NotBefore.HasValue)`, "True"],
    [`@("${TOKEN}".AsJwt().Claims.GetValueOrDefault("roles", "none"))`, "reader,writer"],
    [`@("${TOKEN}".AsJwt().Claims.GetValueOrDefault("missing", "none"))`, "none"],
    [`@("${TOKEN}".AsJwt().Claims["tier"][0])`, "3"],
    [`@("${TOKEN}".AsJwt().Claims["cnf"][0])`, `{"x5t#S256":"abc"}`],
    [`@("${TOKEN}".AsJwt().Claims.ContainsKey("sub"))`, "True"],
    [`@("${TOKEN}".AsJwt().ToString() == "${TOKEN}")`, "True"],
    // Not a JWT: null, TryParseJwt false.
    [`@("not.a.jwt".AsJwt() == null)`, "True"],
    [`@("abc".AsJwt() == null)`, "True"],
    [`@{ return "Bearer x".TryParseJwt(out var jwt) + "/" + (jwt == null); }`, "False/True"],
    [`@{ if ("${TOKEN}".TryParseJwt(out var jwt)) { return jwt.Subject; } return "no"; }`, "alice"],
    [`@{ Jwt j; "${TOKEN}".TryParseJwt(out j); return j.Issuer; }`, "https://idp.example"],
    [`@{ string s = null; return s.TryParseJwt(out Jwt j); }`, "False"],
    // A token without the optional claims: nulls and an empty audience list.
    [`@("${token({})}".AsJwt().Subject ?? "none")`, "none"],
    [`@("${token({})}".AsJwt().ExpirationTime.HasValue)`, "False"],
    [`@("${token({})}".AsJwt().Audiences.Count())`, "0"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("a Jwt in a variable (validate-jwt's output-token-variable-name) reads back by cast and GetValueOrDefault<Jwt>", () => {
    const ctx = makeContext({ jwt: parseJwtValue(TOKEN) });
    expect(runText(`@(((Jwt)context.Variables["jwt"]).Subject)`, ctx)).toBe("alice");
    expect(runText(`@(context.Variables.GetValueOrDefault<Jwt>("jwt").Issuer)`, ctx)).toBe("https://idp.example");
    expect(runText(`@(context.Variables["jwt"] is Jwt)`, ctx)).toBe("True");
  });

  it("the checker types TryParseJwt's out local as a Jwt and rejects other shapes", () => {
    const errors = (source: string) => {
      const r = parseCode(source, "t.xml", [1, 1]);
      if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
      return checkTypes(r.code).map((e) => e.message);
    };
    expect(errors(`@{ "x".TryParseJwt(out var j); return j.Subject; }`)).toEqual([]);
    expect(errors(`@{ "x".TryParseJwt(out var j); return j.Nope; }`)).toEqual([expect.stringContaining("Nope")]);
    expect(errors(`@("x".TryParseJwt())`)).toEqual(["TryParseJwt takes (out Jwt result)"]);
    expect(errors(`@{ "x".TryParseJwt(out int j); return j; }`)).toEqual([expect.stringContaining("gives a Jwt")]);
    expect(errors(`@((7).TryParseJwt(out var j))`)).toEqual([expect.stringContaining("string method")]);
  });
});
