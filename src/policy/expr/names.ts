/**
 * policy/expr/names — the static types an expression may name, and their members. One table shared by the parser
 * (which rejects everything else at compile time, naming it) and the interpreter (which implements exactly these;
 * a test checks the two agree).
 *
 * Contract: data only. Type names are canonical: C# keywords for the built-in types (`string`, `int` …), the short
 * name otherwise (`DateTime`, `JObject`); TYPE_ALIASES maps the other spellings (`String`, `Int32`, `System.String`).
 */

export interface StaticTypeMembers {
  /** Static properties and fields (`DateTime.UtcNow`, `string.Empty`, enum members). */
  readonly props: ReadonlySet<string>;
  /** Static methods (`string.IsNullOrEmpty`, `TimeSpan.FromDays`). */
  readonly methods: ReadonlySet<string>;
}

const t = (props: readonly string[], methods: readonly string[]): StaticTypeMembers => ({ props: new Set(props), methods: new Set(methods) });

/**
 * Enum types: each member evaluates to an enum value (passed to hosts as its name, e.g. "SimpleName"). CultureInfo
 * and StringComparer are not enums in .NET, but their static members are only ever passed as arguments: cultures as
 * format providers, which we accept and ignore (numbers are formatted invariant, dates en-US, either way), and
 * comparers to Contains / Distinct, where the *IgnoreCase ones compare case-insensitively.
 */
export const ENUM_MEMBERS: ReadonlyMap<string, readonly string[]> = new Map([
  ["StringComparison", ["CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase"]],
  ["StringSplitOptions", ["None", "RemoveEmptyEntries", "TrimEntries"]],
  ["X509NameType", ["SimpleName", "EmailName", "UpnName", "DnsName", "DnsFromAlternativeName", "UrlName"]],
  ["Formatting", ["None", "Indented"]],
  ["DayOfWeek", ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]],
  ["CultureInfo", ["InvariantCulture", "CurrentCulture"]],
  ["StringComparer", ["CurrentCulture", "CurrentCultureIgnoreCase", "InvariantCulture", "InvariantCultureIgnoreCase", "Ordinal", "OrdinalIgnoreCase"]],
  ["RegexOptions", ["None", "IgnoreCase", "Multiline", "ExplicitCapture", "Compiled", "Singleline", "IgnorePatternWhitespace", "RightToLeft", "ECMAScript", "CultureInvariant", "NonBacktracking"]],
  ["JTokenType", ["None", "Object", "Array", "Constructor", "Property", "Comment", "Integer", "Float", "String", "Boolean", "Null", "Undefined", "Date", "Raw", "Bytes", "Guid", "Uri", "TimeSpan"]],
]);

export const STATIC_TYPES: ReadonlyMap<string, StaticTypeMembers> = new Map([
  ["string", t(["Empty"], ["IsNullOrEmpty", "IsNullOrWhiteSpace", "Join", "Format", "Equals", "Concat", "Compare"])],
  ["int", t(["MaxValue", "MinValue"], ["Parse", "TryParse"])],
  ["long", t(["MaxValue", "MinValue"], ["Parse", "TryParse"])],
  ["double", t([], ["Parse", "TryParse", "IsNaN"])],
  ["bool", t([], ["Parse", "TryParse"])],
  ["char", t([], ["IsDigit", "IsLetter", "IsLetterOrDigit", "IsWhiteSpace", "IsUpper", "IsLower", "ToUpper", "ToLower"])],
  ["DateTime", t(["Now", "UtcNow", "Today", "MinValue", "MaxValue"], ["Parse", "TryParse", "Compare", "DaysInMonth", "IsLeapYear"])],
  ["DateTimeOffset", t(["UtcNow", "Now", "MinValue", "MaxValue", "UnixEpoch"], ["FromUnixTimeSeconds", "FromUnixTimeMilliseconds"])],
  ["TimeSpan", t(["Zero"], ["FromDays", "FromHours", "FromMinutes", "FromSeconds", "FromMilliseconds"])],
  ["Math", t([], ["Min", "Max", "Abs", "Floor", "Ceiling", "Round"])],
  ["Convert", t([], ["ToInt32", "ToInt64", "ToString", "ToBoolean", "ToDouble", "ToDateTime", "ToBase64String", "FromBase64String", "ToHexString"])],
  ["Guid", t(["Empty"], ["NewGuid", "Parse", "TryParse"])],
  ["Encoding", t(["UTF8", "ASCII"], [])],
  ["Uri", t([], ["EscapeDataString", "UnescapeDataString"])],
  ["WebUtility", t([], ["UrlEncode", "UrlDecode", "HtmlEncode"])],
  ["Regex", t([], ["IsMatch", "Match", "Matches", "Replace", "Escape"])],
  ["SHA1", t([], ["Create", "HashData"])],
  ["SHA256", t([], ["Create", "HashData"])],
  ["SHA384", t([], ["Create", "HashData"])],
  ["SHA512", t([], ["Create", "HashData"])],
  ["JObject", t([], ["Parse", "FromObject"])],
  ["JArray", t([], ["Parse", "FromObject"])],
  ["JToken", t([], ["Parse", "FromObject"])],
  ["JsonConvert", t([], ["SerializeObject", "DeserializeObject"])],
  ["Array", t([], ["Exists"])],
  ...[...ENUM_MEMBERS].map(([name, members]) => [name, t(members, [])] as const),
]);

/** Other spellings of the canonical type names (the BCL names and the `float`/`decimal` keywords we run as double). */
export const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ["String", "string"],
  ["Int32", "int"],
  ["Int64", "long"],
  ["Double", "double"],
  ["Boolean", "bool"],
  ["Char", "char"],
  ["Object", "object"],
]);

/** C# keywords that name types (always a type where they appear). */
export const TYPE_KEYWORDS: ReadonlySet<string> = new Set([
  "string", "int", "long", "bool", "double", "float", "decimal", "object", "char", "byte", "sbyte", "short", "ushort", "uint", "ulong", "dynamic",
]);

/** Namespaces a qualified name may start with (`System.String`, `Newtonsoft.Json.Linq.JObject`): dropped when resolving. */
export const NAMESPACE_ROOTS: ReadonlySet<string> = new Set(["System", "Newtonsoft"]);

/** Types `new T(…)` may construct; `List<T>` is matched by its generic name and arrays by their `[]`. */
export const CONSTRUCTIBLE: ReadonlySet<string> = new Set([
  "JObject", "JArray", "JProperty", "JValue", "TimeSpan", "DateTime", "List", "HMACSHA1", "HMACSHA256", "HMACSHA384", "HMACSHA512",
  "DateTimeOffset", "Random", "Uri",
]);

/**
 * The exception types a `catch` may name, each with its base class (.NET's hierarchy, as far as expressions can
 * raise them): a catch of a type also catches its subclasses. The runtime reasons (PolicyRuntimeError.reason) are
 * these names; any other reason (a host's, LimitExceeded) is caught only by `Exception` or a bare `catch`.
 */
export const EXCEPTION_TYPES: ReadonlyMap<string, string | null> = new Map([
  ["Exception", null],
  ["SystemException", "Exception"],
  ["ArgumentException", "SystemException"],
  ["ArgumentNullException", "ArgumentException"],
  ["ArgumentOutOfRangeException", "ArgumentException"],
  ["FormatException", "SystemException"],
  ["UriFormatException", "FormatException"],
  ["InvalidCastException", "SystemException"],
  ["InvalidOperationException", "SystemException"],
  ["NotSupportedException", "SystemException"],
  ["NullReferenceException", "SystemException"],
  ["KeyNotFoundException", "SystemException"],
  ["IndexOutOfRangeException", "SystemException"],
  ["ArithmeticException", "SystemException"],
  ["OverflowException", "ArithmeticException"],
  ["DivideByZeroException", "ArithmeticException"],
  ["RuntimeBinderException", "Exception"],
  ["RegexParseException", "ArgumentException"],
  ["JsonException", "Exception"],
  ["JsonReaderException", "JsonException"],
  ["JsonSerializationException", "JsonException"],
  ["CryptographicException", "SystemException"],
]);

/** Whether a failure with `reason` is caught by `catch (type)`. */
export function catches(type: string, reason: string): boolean {
  if (type === "Exception") return true;
  for (let t: string | null | undefined = reason; t !== null && t !== undefined; t = EXCEPTION_TYPES.get(t)) {
    if (t === type) return true;
  }
  return false;
}

/** C# keywords that are not supported anywhere, and the construct each one introduces. */
export const UNSUPPORTED_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ["for", "for loop"],
  ["while", "while loop"],
  ["do", "do-while loop"],
  ["switch", "switch"],
  ["throw", "throw"],
  ["using", "using statement"],
  ["goto", "goto"],
  ["lock", "lock statement"],
  ["yield", "yield"],
  ["fixed", "fixed statement"],
  ["unsafe", "unsafe code"],
  ["checked", "checked"],
  ["unchecked", "unchecked"],
  ["typeof", "typeof"],
  ["nameof", "nameof"],
  ["sizeof", "sizeof"],
  ["default", "default"],
  ["stackalloc", "stackalloc"],
  ["delegate", "anonymous method (delegate)"],
  ["await", "await"],
  ["async", "async"],
  ["this", "this"],
  ["base", "base"],
  ["ref", "ref"],
  ["class", "type declaration"],
  ["struct", "type declaration"],
  ["interface", "type declaration"],
  ["enum", "type declaration"],
  ["record", "type declaration"],
  ["static", "static declaration"],
  ["operator", "operator declaration"],
  ["event", "event"],
  ["with", "with expression"],
]);

/** Canonical name of a type as written: aliases resolved, namespace qualification dropped. */
export function canonicalTypeName(written: string): string {
  const last = written.includes(".") && !written.includes("<") ? written.slice(written.lastIndexOf(".") + 1) : written;
  return TYPE_ALIASES.get(last) ?? last;
}
