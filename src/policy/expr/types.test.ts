/**
 * The member table (types.ts) against the runtime: every member the checker accepts on every declared type is
 * asked of a real value of that type — interpreter values and the real `context` (policy/context.ts) — and must
 * exist there (no "unknown member"); a property's value must be of the type the table says, since the checker
 * reasons from it. A type added to the table without a sample here fails the first test.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cert, parsed, root } from "../../../test/support/chains";
import { program } from "../../../test/support/policies";
import { describeCertificate } from "../../cert/model";
import { createContext, type ContextInput } from "../context";
import { checkTypes } from "./check-types";
import { isOfType } from "./convert";
import { isHostObject, type HostObject, type Value } from "./host";
import { evaluate, PolicyRuntimeError } from "./interpret";
import { parseCode } from "./parse";
import { INSTANCE_TYPES } from "./types";

/** A compact JWS with every claim the Jwt type reads (AsJwt parses without validating: the signature is a dummy). */
const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
const SAMPLE_JWT = `${b64url({ alg: "RS256", typ: "JWT" })}.${b64url({
  iss: "https://idp.example", sub: "alice", aud: ["api://cars", "api://trucks"], exp: 1_800_000_000, nbf: 1_700_000_000,
  iat: 1_700_000_000, jti: "id-1", roles: ["reader", "writer"],
})}.c2ln`;

/** An expression giving a value of each declared type. */
const SAMPLES: Readonly<Record<string, string>> = {
  string: `"a,b"`,
  int: "7",
  long: "(long)7",
  double: "1.5",
  bool: "true",
  char: "'c'",
  DateTime: "context.Timestamp",
  TimeSpan: "TimeSpan.FromHours(1)",
  Array: `new[] { "a", "b" }`,
  List: `new List<string> { "a" }`,
  Dictionary: "context.Request.MatchedParameters",
  KeyValuePair: "context.Request.MatchedParameters.First()",
  JObject: `JObject.Parse("{\\"a\\": 1}")`,
  JArray: `JArray.Parse("[1, 2]")`,
  JValue: `JObject.Parse("{\\"a\\": 1}")["a"]`,
  JProperty: `JObject.Parse("{\\"a\\": 1}").Property("a")`,
  IProxyRequestContext: "context",
  IRequest: "context.Request",
  IUrl: "context.Request.Url",
  IResponse: "context.Response",
  "IReadOnlyDictionary<string, string[]>": "context.Request.Headers",
  "IReadOnlyDictionary<string, object>": "context.Variables",
  IDeployment: "context.Deployment",
  IOperation: "context.Operation",
  IApi: "context.Api",
  ILastError: "context.LastError",
  X509Certificate2: "context.Request.Certificate",
  X500DistinguishedName: "context.Request.Certificate.SubjectName",
  X509Extension: "context.Request.Certificate.Extensions.First(e => !(e is X509SubjectAlternativeNameExtension))",
  X509SubjectAlternativeNameExtension: "context.Request.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().First()",
  Oid: "context.Request.Certificate.Extensions.First().Oid",
  Guid: "Guid.NewGuid()",
  DateTimeOffset: "DateTimeOffset.UtcNow",
  Encoding: "Encoding.UTF8",
  IMessageBody: "context.Request.Body",
  Exception: "e", // a caught exception: see codeFor
  HashAlgorithm: "SHA256.Create()",
  Match: `Regex.Match("a1", "(?<d>[0-9])")`,
  Group: `Regex.Match("a1", "(?<d>[0-9])").Groups["d"]`,
  GroupCollection: `Regex.Match("a1", "(?<d>[0-9])").Groups`,
  Jwt: `"${SAMPLE_JWT}".AsJwt()`,
  Random: "new Random(1)",
  Uri: `new Uri("https://a.example/p?q=1")`,
  "byte[]": `Encoding.UTF8.GetBytes("a")`,
  "IDictionary<string, IList<string>>": "context.Request.Body.AsFormUrlEncodedContent(true)",
};

let context: HostObject;

beforeAll(async () => {
  const issuer = await root("Types CA");
  const leaf = await cert({ subject: "CN=Types Client, O=Contoso", issuer, extensions: { subjectAltName: { names: [{ dns: "types.example" }] } } });
  const p = parsed(leaf);
  const input: ContextInput = {
    method: "POST",
    url: new URL("https://gw.example/cars/7?color=red"),
    headers: new Headers({ "content-type": "application/json" }),
    ipAddress: "192.0.2.7",
    params: new Map([["id", "7"]]),
    certificate: { cert: p, model: await describeCertificate(p) },
    verified: { verify: true, verifyNoRevocation: true },
    program: program({ api: { id: "cars", name: "Cars", path: "cars" }, operation: { id: "get", name: "Get car", method: "GET", urlTemplate: "/{id}" } }),
    registered: null,
    requestId: "req-1",
    timestamp: new Date("2026-06-01T12:00:00Z"),
    region: "FRA",
    body: { text: '{"a": 1}', consumed: false },
  };
  const lastError = { source: "set-header", reason: "x", message: "m", scope: "api", section: "on-error" as const, path: "p", policyId: "api:cars" };
  context = createContext(input, { section: "on-error", response: { status: 200, reason: "OK", headers: new Headers() }, lastError }).context;
});

/** A host object by its typeName (isOfType reads interface types as collections), anything else as a cast would. */
function hasType(type: string, v: Value): boolean {
  return isHostObject(v) ? v.typeName === type : type === "Dictionary" ? v instanceof Map : isOfType(type, v);
}

/** `sample.access` as code: an exception exists only inside its catch. */
function codeFor(type: string, access: string): string {
  return type === "Exception" ? `@{ try { int.Parse("x"); } catch (Exception e) { return e${access}; } return null; }` : `@((${SAMPLES[type]})${access})`;
}

function run(source: string): { ok: true; v: Value } | { ok: false; reason: string; message: string } {
  const r = parseCode(source.startsWith("@") ? source : `@(${source})`, "types.xml", [1, 1]);
  if (!r.ok) throw new Error(`${source}: ${r.errors.map((e) => e.message).join("; ")}`);
  try {
    return { ok: true, v: evaluate(r.code, { context }, { remaining: 10_000 }) };
  } catch (e) {
    if (e instanceof PolicyRuntimeError) return { ok: false, reason: e.reason, message: e.message };
    throw e;
  }
}

describe("types.ts member table against the runtime", () => {
  it("has a sample of every declared type, and each sample is of that type", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...INSTANCE_TYPES.keys()].sort());
    for (const [type, source] of Object.entries(SAMPLES)) {
      const r = run(codeFor(type, ""));
      expect(r.ok, `${type}: ${source}`).toBe(true);
      if (!r.ok) continue;
      if (isHostObject(r.v)) expect(r.v.typeName).toBe(type);
      else expect(r.v).not.toBeNull();
    }
  });

  for (const [type, decl] of INSTANCE_TYPES) {
    it(`${type}: every declared member exists at run time`, () => {
      const missing: string[] = [];
      const wrongType: string[] = [];
      for (const [name, m] of decl.members) {
        const source = codeFor(type, m.kind === "prop" ? `.${name}` : `.${name}()`);
        const r = run(source);
        // Any other failure (no overload for no arguments, a KeyNotFound …) means the member is there.
        if (!r.ok && r.message.startsWith("unknown member")) missing.push(name);
        if (r.ok && m.kind === "prop" && m.returns !== "?" && r.v !== null && !hasType(m.returns, r.v)) wrongType.push(`${name}: ${m.returns}`);
      }
      expect(missing).toEqual([]);
      expect(wrongType).toEqual([]);
    });
  }

  it("the checker accepts every declared member of a value whose type it knows", () => {
    for (const [type, decl] of INSTANCE_TYPES) {
      for (const [name, m] of decl.members) {
        const generic = m.typeArgs ? `<${m.typeArgs[0]}>` : "";
        const source = codeFor(type, `.${name}${m.kind === "method" ? `${generic}()` : ""}`);
        const r = parseCode(source, "types.xml", [1, 1]);
        if (!r.ok) throw new Error(source);
        expect(checkTypes(r.code), source).toEqual([]);
      }
    }
  });
});
