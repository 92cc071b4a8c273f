import { beforeAll, describe, expect, it } from "vitest";
import { der, type BuiltCertificate } from "../../scripts/pki/builder";
import { cert, parsed, root } from "../../test/support/chains";
import { program } from "../../test/support/policies";
import { describeCertificate } from "../cert/model";
import type { RegisteredCertificate } from "../pki/trust-store";
import { createContext, nameInfo, type CertificateFacts, type ContextInput, type PipelineState } from "./context";
import { HostError, isHostObject, type HostObject, type Value } from "./expr/host";
import { evaluate, toText } from "./expr/interpret";
import { parseCode } from "./expr/parse";

let issuer: BuiltCertificate, alice: BuiltCertificate, bare: BuiltCertificate, ouOnly: BuiltCertificate;

beforeAll(async () => {
  issuer = await root("Context CA");
  alice = await cert({
    subject: "CN=Alice, OU=Eng, O=Contoso, E=alice@subject.example, C=US",
    issuer,
    extensions: {
      // issuerAltName in the leaf: what GetNameInfo(…, forIssuer: true) reads.
      custom: [{ oid: "2.5.29.18", critical: false, value: der.sequence(der.contextPrimitive(2, new TextEncoder().encode("ca.example.com"))) }],
      subjectAltName: {
        names: [
          { email: "alice@san.example" },
          { otherName: { oid: "1.3.6.1.4.1.311.20.2.3", value: der.utf8String("alice@corp.example") } },
          { dns: "alice.example.com" },
          { dns: "second.example.com" },
          { uri: "spiffe://example/alice" },
        ],
      },
    },
  });
  bare = await cert({ subject: "O=Only Org, C=US", issuer });
  ouOnly = await cert({ subject: "OU=Unit A, OU=Unit B, O=Org, C=US", issuer, extensions: { subjectAltName: { names: [{ email: "x@y.example" }] } } });
});

async function facts(c: BuiltCertificate): Promise<CertificateFacts> {
  const p = parsed(c);
  return { cert: p, model: await describeCertificate(p) };
}

function obj(v: Value | undefined): HostObject {
  if (!isHostObject(v)) throw new Error(`not a host object: ${String(v)}`);
  return v;
}

async function contextFor(over: Partial<ContextInput> = {}, state: PipelineState = { section: "inbound", response: null, lastError: null }) {
  const input: ContextInput = {
    method: "POST",
    url: new URL("https://gw.example:8443/cars/7?color=red&color=blue&Size=L"),
    headers: new Headers({ "content-type": "application/json", "x-multi": "a, b" }),
    ipAddress: "192.0.2.7",
    params: new Map([["id", "7"]]),
    certificate: await facts(alice),
    verified: { verify: true },
    program: program({ api: { id: "cars", name: "Cars", path: "cars" }, operation: { id: "get", name: "Get car", method: "GET", urlTemplate: "/{id}" } }),
    registered: null,
    requestId: "req-1",
    timestamp: new Date("2026-06-01T12:00:00Z"),
    region: "FRA",
    ...over,
  };
  return { ...createContext(input, state), input, state };
}

describe("context", () => {
  it("exposes the request, URL, headers and query as APIM names them", async () => {
    const { context } = await contextFor();
    const req = obj(context.get("Request"));
    expect(req.get("Method")).toBe("POST");
    expect(req.get("IpAddress")).toBe("192.0.2.7");
    const url = obj(req.get("Url"));
    expect([url.get("Scheme"), url.get("Host"), url.get("Port"), url.get("Path"), url.get("QueryString")])
      .toEqual(["https", "gw.example", 8443, "/cars/7", "?color=red&color=blue&Size=L"]);
    expect(url.call!("ToString", [])).toBe("https://gw.example:8443/cars/7?color=red&color=blue&Size=L");
    const query = obj(url.get("Query"));
    expect(query.call!("GetValueOrDefault", ["color", ""])).toBe("red,blue");
    expect(query.call!("GetValueOrDefault", ["size", "none"])).toBe("none"); // query names are case-sensitive
    expect(query.index!("color")).toEqual(["red", "blue"]);
    const headers = obj(req.get("Headers"));
    expect(headers.call!("GetValueOrDefault", ["Content-Type", ""])).toBe("application/json");
    expect(headers.call!("GetValueOrDefault", ["missing"])).toBeNull();
    expect(headers.call!("ContainsKey", ["X-MULTI"])).toBe(true);
    expect(headers.index!("x-multi")).toEqual(["a, b"]);
    expect(() => headers.index!("nope")).toThrow(HostError);
    expect(headers.get("Count")).toBe(2);
    expect(Object.fromEntries(req.get("MatchedParameters") as Map<string, string>)).toEqual({ id: "7" });
    expect(req.get("Body")).toBeNull(); // no body buffered: the program does not read it, or there is none
  });

  it("exposes the operation, API, request id, time, deployment; null response outside outbound", async () => {
    const { context } = await contextFor();
    expect(obj(context.get("Operation")).get("UrlTemplate")).toBe("/{id}");
    expect(obj(context.get("Api")).get("Path")).toBe("cars");
    expect(context.get("RequestId")).toBe("req-1");
    expect(context.get("Timestamp")).toEqual(new Date("2026-06-01T12:00:00Z"));
    expect(context.get("Response")).toBeNull();
    expect(context.get("LastError")).toBeNull();
    expect(context.get("User")).toBeNull();
    expect(obj(context.get("Deployment")).get("Region")).toBe("FRA");
    expect(context.get("Nope")).toBeUndefined();
    const none = await contextFor({ program: program() });
    expect(none.context.get("Operation")).toBeNull();
    expect(none.context.get("Api")).toBeNull();
  });

  it("reads live state: response in outbound, LastError in on-error", async () => {
    const state: PipelineState = { section: "outbound", response: { status: 201, reason: "Created", headers: new Headers({ etag: "x" }) }, lastError: null };
    const { context } = await contextFor({}, state);
    const res = obj(context.get("Response"));
    expect(res.get("StatusCode")).toBe(201);
    expect(obj(res.get("Headers")).call!("GetValueOrDefault", ["ETag", ""])).toBe("x");
    state.response!.status = 418;
    expect(obj(context.get("Response")).get("StatusCode")).toBe(418);
    state.lastError = { source: "expression", reason: "NullReferenceException", message: "m", scope: "api", section: "inbound", path: "set-header[1]", policyId: "api:cars" };
    const e = obj(context.get("LastError"));
    expect([e.get("Source"), e.get("Reason"), e.get("Section"), e.get("Path"), e.get("PolicyId"), e.get("Scope")])
      .toEqual(["expression", "NullReferenceException", "inbound", "set-header[1]", "api:cars", "api"]);
  });

  it("Variables: typed GetValueOrDefault, ContainsKey, indexer", async () => {
    const { context, variables } = await contextFor();
    expect(context.get("Variables")).toBe(variables);
    variables.set("name", "alice");
    variables.set("ok", true);
    variables.set("n", 3);
    expect(variables.call("GetValueOrDefault", ["name"], ["string"])).toBe("alice");
    expect(variables.call("GetValueOrDefault", ["missing"], ["string"])).toBeNull();
    expect(variables.call("GetValueOrDefault", ["missing"], ["bool"])).toBe(false);
    expect(variables.call("GetValueOrDefault", ["missing"], ["int"])).toBe(0);
    expect(variables.call("GetValueOrDefault", ["missing", "dflt"], ["string"])).toBe("dflt");
    expect(variables.call("GetValueOrDefault", ["n"])).toBe(3);
    expect(() => variables.call("GetValueOrDefault", ["n"], ["string"])).toThrow(/InvalidCast|not a string/);
    expect(() => variables.call("GetValueOrDefault", ["name"], ["bool"])).toThrow(HostError);
    expect(variables.call("ContainsKey", ["ok"])).toBe(true);
    expect(variables.index("ok")).toBe(true);
    expect(() => variables.index("nope")).toThrow(/not present/);
  });

  it("Certificate: X509Certificate2's properties with .NET renderings", async () => {
    const { context } = await contextFor();
    const c = obj(obj(context.get("Request")).get("Certificate"));
    const model = (await facts(alice)).model;
    expect(c.typeName).toBe("X509Certificate2");
    expect(c.get("Thumbprint")).toMatch(/^[0-9A-F]{40}$/);
    expect(c.get("Thumbprint")).toBe(model.thumbprint);
    expect(c.get("SerialNumber")).toBe(alice.serialNumber);
    expect(c.get("Subject")).toBe("CN=Alice, OU=Eng, O=Contoso, E=alice@subject.example, C=US");
    expect(c.get("Issuer")).toBe("CN=Context CA");
    expect(obj(c.get("SubjectName")).get("Name")).toBe("CN=Alice, OU=Eng, O=Contoso, E=alice@subject.example, C=US");
    expect(obj(c.get("IssuerName")).get("Name")).toBe("CN=Context CA");
    expect(c.get("NotAfter")).toEqual(alice.spec.notAfter);
    expect(c.get("NotBefore")).toBeInstanceOf(Date);
    expect(c.get("FriendlyName")).toBe("");
    expect(c.get("Version")).toBe(3);
    expect(c.call!("Verify", [])).toBe(true);
    expect(() => c.call!("VerifyNoRevocation", [])).toThrow(/not prepared/);
    expect(String(c.call!("ToString", []))).toContain("[Subject]");
  });

  it("Certificate is null when none was presented", async () => {
    const { context } = await contextFor({ certificate: null });
    expect(obj(context.get("Request")).get("Certificate")).toBeNull();
  });

  it("GetNameInfo follows .NET's rules for every X509NameType", async () => {
    const a = parsed(alice);
    expect(nameInfo(a, "SimpleName", false)).toBe("Alice");
    expect(nameInfo(a, "EmailName", false)).toBe("alice@san.example");
    expect(nameInfo(a, "UpnName", false)).toBe("alice@corp.example");
    expect(nameInfo(a, "DnsName", false)).toBe("alice.example.com");
    expect(nameInfo(a, "DnsFromAlternativeName", false)).toBe("alice.example.com");
    expect(nameInfo(a, "UrlName", false)).toBe("spiffe://example/alice");
    expect(nameInfo(a, "SimpleName", true)).toBe("Context CA");
    expect(nameInfo(a, "DnsName", true)).toBe("ca.example.com"); // the issuer alternative name first
    expect(nameInfo(a, "EmailName", true)).toBe("");
    const b = parsed(bare);
    expect(nameInfo(b, "SimpleName", false)).toBe("Only Org");
    expect(nameInfo(b, "DnsName", false)).toBe("");
    expect(nameInfo(b, "EmailName", false)).toBe("");
    expect(nameInfo(b, "UpnName", false)).toBe("");
    // No CN: OU wins over O; of two OUs, .NET keeps the last one it reads (the least specific).
    expect(nameInfo(parsed(ouOnly), "SimpleName", false)).toBe("Unit B");
  });

  it("GetNameInfo takes X509NameType as the interpreter passes it, and rejects anything else", async () => {
    const { context } = await contextFor();
    const c = obj(obj(context.get("Request")).get("Certificate"));
    expect(c.call!("GetNameInfo", ["SimpleName", false])).toBe("Alice");
    expect(c.call!("GetNameInfo", [3, false])).toBe("alice.example.com");
    expect(c.call!("GetNameInfo", ["X509NameType.UrlName", false])).toBe("spiffe://example/alice");
    expect(() => c.call!("GetNameInfo", ["Nickname", false])).toThrow(HostError);
    expect(() => c.call!("GetNameInfo", ["SimpleName"])).toThrow(/2 argument/);
  });

  it("Deployment.Certificates: registered certificates by id; their Verify() is not available", async () => {
    const registered = new Map<string, RegisteredCertificate>([["alice", { id: "alice", ...(await facts(alice)) }]]);
    const { context } = await contextFor({ registered });
    const certs = obj(context.get("Deployment")).get("Certificates") as Map<string, Value>;
    expect([...certs.keys()]).toEqual(["alice"]);
    const c = obj(certs.get("alice"));
    expect(c.get("Thumbprint")).toBe(registered.get("alice")!.model.thumbprint);
    expect(() => c.call!("Verify", [])).toThrow(/context.Request.Certificate only/);
    const empty = await contextFor();
    expect((obj(empty.context.get("Deployment")).get("Certificates") as Map<string, Value>).size).toBe(0);
  });

  it("Request.Body.As<T>: preserveContent keeps the content; a read without it empties the body (APIM set-body reference)", async () => {
    const body = { text: '{"id": 7, "tags": ["a"]}', consumed: false };
    const { context } = await contextFor({ body });
    const b = obj(obj(context.get("Request")).get("Body"));
    expect(b.call!("As", [true], ["string"])).toBe('{"id": 7, "tags": ["a"]}');
    expect(body.consumed).toBe(false);
    expect(toText(b.call!("As", [true], ["JObject"])!)).toContain('"id": 7');
    expect(() => b.call!("As", [true], ["JArray"])).toThrow(/not an array/);
    expect(toText(b.call!("As", [], ["JToken"])!)).toContain('"tags"');
    expect(body.consumed).toBe(true);
    expect(b.call!("As", [true], ["string"])).toBe("");
    expect(b.call!("As", [true], ["JObject"])).toBeNull();
    expect(() => b.call!("As", [true], ["XDocument"])).toThrow(HostError);
  });

  it("Request.Body.AsFormUrlEncodedContent: form fields as lists, consumed unless preserveContent, written back by ToFormUrlEncodedContent", async () => {
    const body = { text: "code=a%2Bb+c&state=xyz&scope=openid&scope=email&flag", consumed: false };
    const { context } = await contextFor({ body });
    const run = (source: string) => {
      const r = parseCode(source, "t.xml", [1, 1]);
      if (!r.ok) throw new Error(r.errors[0]!.message);
      return toText(evaluate(r.code, { context }, { remaining: 10_000 }));
    };
    // `+` is a space and %2B a plus (WHATWG form parsing); a repeated name keeps both values; a bare name is "".
    expect(run(`@(context.Request.Body.AsFormUrlEncodedContent(preserveContent: true)["code"].Single())`)).toBe("a+b c");
    expect(run(`@(string.Join(",", context.Request.Body.AsFormUrlEncodedContent(true)["scope"]))`)).toBe("openid,email");
    expect(run(`@(context.Request.Body.AsFormUrlEncodedContent(true)["flag"].Single().Length)`)).toBe("0");
    expect(body.consumed).toBe(false);
    expect(run(`@(JsonConvert.SerializeObject(context.Request.Body.AsFormUrlEncodedContent(true)))`)).toBe('{"code":["a+b c"],"state":["xyz"],"scope":["openid","email"],"flag":[""]}');
    // FormUrlEncodedContent's encoding: EscapeDataString, then %20 as +.
    expect(run(`@{ var f = context.Request.Body.AsFormUrlEncodedContent(true); f["state"].Add("new value"); return f.ToFormUrlEncodedContent(); }`))
      .toBe("code=a%2Bb+c&state=xyz&state=new+value&scope=openid&scope=email&flag=");
    // A field the form lacks: a new empty list, kept (APIM's set-body example adds a field so).
    expect(run(`@{ var f = context.Request.Body.AsFormUrlEncodedContent(true); f["added"].Add("é&="); return f.ContainsKey("added") + " " + f.ToFormUrlEncodedContent(); }`))
      .toBe("True code=a%2Bb+c&state=xyz&scope=openid&scope=email&flag=&added=%C3%A9%26%3D");
    expect(run(`@(context.Request.Body.AsFormUrlEncodedContent().Count)`)).toBe("4");
    expect(body.consumed).toBe(true);
    expect(run(`@(context.Request.Body.AsFormUrlEncodedContent().Count)`)).toBe("0");
  });

  it("Api.ServiceUrl: the API's origin from api.json, else the Worker's ORIGIN_URL, as an IUrl; Api is null with no API", async () => {
    const api = { id: "cars", name: "Cars", path: "cars" };
    const own = await contextFor({ program: program({ api, origin: "https://cars.internal.example:8443/v2" }), defaultOrigin: new URL("https://fallback.example") });
    const url = obj(obj(own.context.get("Api")).get("ServiceUrl"));
    expect([url.get("Scheme"), url.get("Host"), url.get("Port"), url.get("Path"), url.call!("ToString", [])]).toEqual(["https", "cars.internal.example", 8443, "/v2", "https://cars.internal.example:8443/v2"]);
    const fallback = await contextFor({ program: program({ api }), defaultOrigin: new URL("https://fallback.example") });
    expect(obj(obj(fallback.context.get("Api")).get("ServiceUrl")).get("Host")).toBe("fallback.example");
    expect((await contextFor({ program: program() })).context.get("Api")).toBeNull();
  });

  it("Request.Body: null without a body; a body over the cap is a LimitExceeded when read", async () => {
    expect(obj((await contextFor({ body: null })).context.get("Request")).get("Body")).toBeNull();
    const big = obj(obj((await contextFor({ body: { text: null, consumed: false } })).context.get("Request")).get("Body"));
    expect(() => big.call!("As", [true], ["string"])).toThrow(expect.objectContaining({ reason: "LimitExceeded" }));
  });

  it("Certificate.ToString() prints dates as .NET's DateTime.ToString() does (en-US G), lines CRLF", async () => {
    const { context } = await contextFor();
    const c = obj(obj(context.get("Request")).get("Certificate"));
    const text = c.call!("ToString", []) as string;
    const p = parsed(alice);
    const g = (d: Date) => `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${d.getUTCHours() % 12 || 12}:${String(d.getUTCMinutes()).padStart(2, "0")}:${String(d.getUTCSeconds()).padStart(2, "0")} ${d.getUTCHours() < 12 ? "AM" : "PM"}`;
    expect(text).toContain(`[Not Before]\r\n  ${g(p.notBefore)}\r\n\r\n[Not After]\r\n  ${g(p.notAfter)}\r\n`);
    expect(text.startsWith("[Subject]\r\n  CN=Alice")).toBe(true);
  });

  it("Extensions: every SAN of a kind through X509SubjectAlternativeNameExtension, other extensions by Oid", async () => {
    const { context } = await contextFor();
    const run = (source: string) => {
      const r = parseCode(source, "t.xml", [1, 1]);
      if (!r.ok) throw new Error(r.errors[0]!.message);
      return toText(evaluate(r.code, { context }, { remaining: 10_000 }));
    };
    const san = "context.Request.Certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().First()";
    expect(run(`@(string.Join(",", ${san}.EnumerateDnsNames()))`)).toBe("alice.example.com,second.example.com");
    expect(run(`@(string.Join(",", ${san}.EnumerateUris()))`)).toBe("spiffe://example/alice");
    expect(run(`@(string.Join(",", ${san}.EnumerateEmails()))`)).toBe("alice@san.example");
    expect(run(`@(${san}.EnumerateIPAddresses().Count())`)).toBe("0");
    expect(run(`@(${san}.Oid.Value)`)).toBe("2.5.29.17");
    expect(run(`@(context.Request.Certificate.Extensions.Any(e => e.Oid.Value == "2.5.29.18" && !e.Critical))`)).toBe("True");
  });
});
