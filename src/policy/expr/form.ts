/**
 * policy/expr/form — APIM's form-data extensions: `IMessageBody.AsFormUrlEncodedContent([preserveContent])` and
 * `ToFormUrlEncodedContent()` on what it returns.
 *
 * APIM's reference (https://learn.microsoft.com/azure/api-management/api-management-policy-expressions, IMessageBody):
 * AsFormUrlEncodedContent reads URL-encoded form data in a body and returns an `IDictionary<string, IList<string>>`
 * that supports IDictionary operations, `JsonConvert.SerializeObject()` and `ToFormUrlEncodedContent()`; like
 * `As<T>`, it consumes the body unless `preserveContent` is true. What the reference does not spell out, and what
 * certgate does:
 * - parsing is application/x-www-form-urlencoded as WHATWG URL §5.1 defines it (URLSearchParams): pairs split on
 *   `&`, name and value on the first `=` (a pair without one is a name with an empty value), `+` is a space,
 *   percent-escapes are UTF-8; a name given twice keeps every value, in order; names are case-sensitive (.NET's
 *   default dictionary comparer);
 * - `form["name"]` of a name the form lacks is a new empty list, added to the form (formField: APIM's own set-body
 *   example adds a field that way);
 * - ToFormUrlEncodedContent() gives the form back as text (what set-body writes), encoded as .NET's
 *   FormUrlEncodedContent encodes (https://learn.microsoft.com/dotnet/api/system.net.http.formurlencodedcontent):
 *   each name and value as Uri.EscapeDataString does, then `%20` as `+`, pairs `name=value` joined with `&`, one
 *   pair per value. `ToQueryString()`, whose result (with a leading `?` or not) the reference does not give, is not
 *   supported (a compile error).
 *
 * Contract: pure; no I/O.
 */
import type { Value } from "./host";
import { escapeDataString } from "./codecs";
import { CsList } from "./values";

/** The IDictionary<string, IList<string>> AsFormUrlEncodedContent returns: a dictionary (a Map) of string lists. */
export class FormData extends Map<string, Value> {
  readonly formTypeName = "IDictionary<string, IList<string>>";
}

/** Form data from a body's text. */
export function parseFormData(text: string): FormData {
  const out = new FormData();
  for (const [name, value] of new URLSearchParams(text)) {
    const list = out.get(name);
    if (list instanceof CsList) list.items.push(value);
    else out.set(name, new CsList([value], "string"));
  }
  return out;
}

/**
 * `form["name"]`: the field's list; a name the form does not have gets a new empty list, kept in the form. APIM's
 * set-body reference adds a field exactly so (`body["newKey"].Add("newValue")`, then ToFormUrlEncodedContent()),
 * which a plain Dictionary's KeyNotFoundException would break; the reference says no more than that.
 */
export function formField(form: FormData, name: string): Value {
  const found = form.get(name);
  if (found !== undefined) return found;
  const list = new CsList([], "string");
  form.set(name, list);
  return list;
}

/** ToFormUrlEncodedContent(): the form as application/x-www-form-urlencoded text; null values are skipped. */
export function formUrlEncode(form: ReadonlyMap<string, Value>): string {
  const enc = (s: string) => escapeDataString(s).replace(/%20/g, "+");
  const pairs: string[] = [];
  for (const [name, values] of form) {
    const items = values instanceof CsList ? values.items : Array.isArray(values) ? (values as readonly Value[]) : [values];
    for (const v of items) if (v !== null) pairs.push(`${enc(name)}=${enc(String(v))}`);
  }
  return pairs.join("&");
}
