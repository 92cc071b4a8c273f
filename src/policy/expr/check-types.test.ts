import { describe, expect, it } from "vitest";
import { checkTypes, unknownType } from "./check-types";
import { parseCode } from "./parse";

function errors(source: string): string[] {
  const r = parseCode(source, "t.xml", [1, 1]);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("; "));
  return checkTypes(r.code).map((e) => `${e.at[0]}:${e.at[1]} ${e.message}`);
}

describe("checkTypes", () => {
  it("accepts the members of context's types, values of run-time type and LINQ", () => {
    expect(errors(`@(context.Request.Certificate?.GetNameInfo(X509NameType.SimpleName, false) ?? context.Request.Url.Host)`)).toEqual([]);
    expect(errors(`@(context.Variables["x"].ToString().Split(',').Where(s => s.Length > 1).Count())`)).toEqual([]);
    expect(errors(`@(((JObject)context.Variables["j"])["a"]["b"].Value<string>())`)).toEqual([]);
    expect(errors(`@{ var d = context.Timestamp - DateTime.UtcNow; return d.TotalDays; }`)).toEqual([]);
  });

  it("rejects a member the known type does not have, at the member", () => {
    expect(errors(`@(context.Request.Content)`)).toEqual(["1:19 unsupported member: IRequest.Content"]);
    expect(errors(`@(context.Response.Body.As<string>().Lenght)`)).toEqual(["1:38 unsupported member: string.Lenght"]);
    expect(errors(`@(context.Request.Certificate.Thumbprint())`)).toEqual(["1:31 'X509Certificate2.Thumbprint' is a property, not a method"]);
  });

  it("knows what common static members return", () => {
    expect(errors(`@(DateTime.UtcNow.Lenght)`)).toEqual(["1:19 unsupported member: DateTime.Lenght"]);
    expect(errors(`@(Guid.NewGuid().ToByteArray().Length + Encoding.UTF8.GetBytes("a").Length)`)).toEqual([]);
    expect(errors(`@(Convert.FromBase64String("AA==").Substring(1))`)).toEqual(["1:36 unsupported member: byte[].Substring"]);
  });

  it("takes new DateTimeOffset(DateTime) and refuses the overloads with an offset, at compile time", () => {
    expect(errors(`@(new DateTimeOffset(DateTime.Now.AddMinutes(10)).ToUnixTimeSeconds())`)).toEqual([]);
    expect(errors(`@(new DateTimeOffset(DateTime.UtcNow, TimeSpan.FromHours(2)))`)).toEqual([
      "1:3 unsupported constructor: new DateTimeOffset takes one DateTime here (certgate's DateTimeOffset is always at offset zero)",
    ]);
    expect(errors(`@(new DateTimeOffset(DateTime.UtcNow).Lenght)`)).toEqual(["1:39 unsupported member: DateTimeOffset.Lenght"]);
  });

  it("rejects an argument of a known type a common static does not take", () => {
    expect(errors(`@(Convert.ToBase64String("user:pass"))`)).toEqual(["1:26 Convert.ToBase64String takes a byte[] here, not a string"]);
    expect(errors(`@(Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass")))`)).toEqual([]);
    expect(errors(`@(Convert.ToBase64String((byte[])context.Variables["b"]) + Uri.EscapeDataString(context.Variables["s"].ToString()))`)).toEqual([]);
    expect(errors(`@(Uri.EscapeDataString(context.Request.Url.Port))`)).toEqual(["1:44 Uri.EscapeDataString takes a string here, not an int"]);
  });

  it("knows APIM's members of the values certgate always has as null (User, Subscription, Product)", () => {
    expect(errors(`@(context.User?.Email ?? context.Subscription?.Name ?? context.Product?.Name)`)).toEqual([]);
    expect(errors(`@(context.Subscription?.Owner)`)).toEqual(["1:25 unsupported member: ISubscription.Owner"]);
    // A "." member would throw on every request: a compile error, not a run-time 500.
    expect(errors(`@(context.Product.Name)`)).toEqual(["1:19 context.Product is always null in certgate (no subscriptions): '.Name' would fail on every request; write '?.Name' (null)"]);
    expect(errors(`@(String.Concat(context.Subscription.Id, "TPM"))`)).toEqual([
      "1:38 context.Subscription is always null in certgate (no subscriptions): '.Id' would fail on every request; write '?.Id' (null)",
    ]);
    expect(errors(`@(context.User.Email.Length)`)).toEqual(["1:16 context.User is always null in certgate (no subscriptions): '.Email' would fail on every request; write '?.Email' (null)"]);
    expect(errors(`@(context.User?.Email?.Length)`)).toEqual([]);
  });

  it("rejects a member no type has, whatever the value's type", () => {
    expect(errors(`@(context.Variables["a"].AsBasic())`)).toEqual(["1:26 unsupported member: AsBasic (no type certgate knows has a method AsBasic)"]);
    expect(errors(`@(context.Variables["a"].Verify)`)).toEqual(["1:26 'Verify' is a method, not a property"]);
  });

  it("checks the type arguments of a generic member that takes only some", () => {
    expect(errors(`@(context.Request.Body.As<JObject>(preserveContent: true)["a"])`)).toEqual([]);
    expect(errors(`@(context.Request.Body.As<XDocument>())`)).toEqual(["1:24 unsupported type: XDocument (type argument)"]);
    expect(errors(`@(context.Request.Body.As<int>())`)).toEqual(["1:24 unsupported type argument: IMessageBody.As<int> (certgate runs As<string>, As<JObject>, As<JArray>, As<JToken>)"]);
    expect(errors(`@(context.Request.Body.As())`)).toEqual(["1:24 unsupported type argument: IMessageBody.As<> (certgate runs As<string>, As<JObject>, As<JArray>, As<JToken>)"]);
  });

  it("follows locals, lambda parameters and pattern variables", () => {
    expect(errors(`@{ var r = context.Request; return r.Bdy; }`)).toEqual(["1:38 unsupported member: IRequest.Bdy"]);
    // A lambda parameter shadows nothing it does not name; its type is known at run time only.
    expect(errors(`@(new[] { "a" }.Select(x => x.Length).Sum())`)).toEqual([]);
    expect(errors(`@(context.Variables["c"] is X509Certificate2 c ? c.Subjet : "")`)).toEqual(["1:52 unsupported member: X509Certificate2.Subjet"]);
  });

  it("rejects types the interpreter does not know in casts, as, is, locals and type arguments", () => {
    expect(errors(`@((Foo)context.Variables["a"])`)).toEqual(["1:3 unsupported type: Foo (cast)"]);
    expect(errors(`@(context.Variables.GetValueOrDefault<BasicAuthCredentials>("a"))`)).toEqual(["1:21 unsupported type: BasicAuthCredentials (type argument)"]);
    expect(unknownType("Dictionary<string, List<int[]>>")).toBeNull();
    expect(unknownType("IEnumerable<Claim>")).toBe("Claim");
    expect(unknownType("IResponse")).toBeNull();
  });
});
