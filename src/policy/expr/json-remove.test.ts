/** JToken.Remove() (Newtonsoft.Json.Linq): a property out of its object, an item out of its array. */
import { describe, expect, it } from "vitest";
import { failure, runText } from "./test-context";

describe("JToken.Remove()", () => {
  it("removes a property from its object, as the APIM reference's content-filtering example does", () => {
    expect(runText(`@{ var o = JObject.Parse("{\\"a\\":1,\\"secret\\":2,\\"b\\":3}"); o.Property("secret").Remove(); return o.ToString(Formatting.None); }`)).toBe('{"a":1,"b":3}');
  });

  it("removes an item from its array; the removed token has no parent", () => {
    expect(runText(`@{ var a = JArray.Parse("[1,2,3]"); var t = a[1]; t.Remove(); return a.ToString(Formatting.None) + " " + (t.Parent == null); }`)).toBe("[1,3] True");
  });

  it("a token without a parent, or a property's value, cannot be removed (InvalidOperationException)", () => {
    expect(failure(`@{ var p = new JProperty("a", 1); p.Remove(); return "x"; }`).message).toBe("The parent is missing.");
    expect(failure(`@{ var o = JObject.Parse("{\\"a\\":1}"); o["a"].Remove(); return "x"; }`).reason).toBe("InvalidOperationException");
  });
});
