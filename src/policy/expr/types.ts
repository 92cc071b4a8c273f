/**
 * policy/expr/types — the instance members of every type an expression can hold, declared once: read by the
 * compiler's type check (check-types.ts, which rejects any other member at `file:line:col`) and by the
 * interpreter (members.ts, context.ts), whose implementation of each entry is walked by types.test.ts. A member
 * that is not here does not exist, for either side. (names.ts is the same table for static members.)
 *
 * Contract: data only. Keys are the type names the checker infers and, for host objects, exactly their
 * `HostObject.typeName` (the walk test looks them up by it). A member's `returns` is another key, a type name
 * the checker understands (`string`, `int`, `bool` …), or "?" when the type is only known at run time
 * (`context.Variables["x"]`, a LINQ result, `JObject["a"]`). Where the checker does not know the type ("?"), a
 * member is accepted when some type declares it with that kind, so `.AsJwt()` or `.Body` on anything is still
 * an error; where it knows the type, only that type's members (and OBJECT_MEMBERS, NULLABLE_MEMBERS, LINQ) are.
 */

import { EXCEPTION_TYPES } from "./names";

export type MemberKind = "prop" | "method";

export interface MemberDecl {
  readonly kind: MemberKind;
  /** The result's type ("?": known at run time only). */
  readonly returns: string;
  /** The generic type arguments the member runs with, when it is generic and takes only some (`Body.As<T>`). */
  readonly typeArgs?: readonly string[];
}

export interface TypeDecl {
  readonly members: ReadonlyMap<string, MemberDecl>;
  /** LINQ's extension methods apply (linq.ts LINQ_METHODS). */
  readonly enumerable: boolean;
  /** A value type: Nullable<T>'s HasValue / Value / GetValueOrDefault apply. */
  readonly valueType?: boolean;
}

type Spec = Readonly<Record<string, string>>;

/** `props` and `methods` map a member name to its result type. */
const decl = (props: Spec, methods: Spec, enumerable = false, valueType = false): TypeDecl => ({
  members: new Map<string, MemberDecl>([
    ...Object.entries(props).map(([n, r]) => [n, { kind: "prop", returns: r }] as const),
    ...Object.entries(methods).map(([n, r]) => [n, { kind: "method", returns: r }] as const),
  ]),
  enumerable,
  valueType,
});

/** Members every value has (members.ts `member`'s fallbacks, context host objects' ToString/Equals). */
export const OBJECT_MEMBERS: ReadonlyMap<string, MemberDecl> = decl({}, { ToString: "string", Equals: "bool", CompareTo: "int" }).members;

/** Nullable<T> on a value type (members.ts isValueType). */
export const NULLABLE_MEMBERS: ReadonlyMap<string, MemberDecl> = decl({ HasValue: "bool", Value: "?" }, { GetValueOrDefault: "?" }).members;

const JTOKEN_COMMON: Spec = { ToString: "string", DeepClone: "JToken", SelectToken: "JToken", Value: "?", ToObject: "?" };
const JTOKEN_PROPS: Spec = { Type: "JTokenType", HasValues: "bool", Parent: "JToken" };
const JCONTAINER_PROPS: Spec = { ...JTOKEN_PROPS, Count: "int", First: "JToken", Last: "JToken" };
const JOBJECT_METHODS: Spec = { ...JTOKEN_COMMON, Properties: "JProperty[]", Property: "JProperty", GetValue: "JToken", ContainsKey: "bool", Remove: "bool", Add: "void" };
const JARRAY_METHODS: Spec = { ...JTOKEN_COMMON, Add: "void", RemoveAt: "void", Clear: "void" };

const DATE_TIME = decl(
  {
    Year: "int", Month: "int", Day: "int", Hour: "int", Minute: "int", Second: "int", Millisecond: "int",
    DayOfWeek: "DayOfWeek", DayOfYear: "int", Date: "DateTime", TimeOfDay: "TimeSpan",
  },
  {
    AddDays: "DateTime", AddHours: "DateTime", AddMinutes: "DateTime", AddSeconds: "DateTime", AddMilliseconds: "DateTime",
    AddMonths: "DateTime", AddYears: "DateTime", Add: "DateTime", Subtract: "?", ToString: "string",
    ToShortDateString: "string", ToLongDateString: "string", ToShortTimeString: "string", ToLongTimeString: "string",
    ToUniversalTime: "DateTime", ToLocalTime: "DateTime",
  },
  false,
  true,
);

const NUMBER = decl({}, { ToString: "string" }, false, true);
const DICTIONARY = decl({ Count: "int", Keys: "string[]", Values: "?" }, { ContainsKey: "bool", ContainsValue: "bool", GetValueOrDefault: "?" }, true);
const HEADERS = decl({ Count: "int", Keys: "string[]" }, { GetValueOrDefault: "string", ContainsKey: "bool" });

/** Instance types by name. */
export const INSTANCE_TYPES: ReadonlyMap<string, TypeDecl> = new Map<string, TypeDecl>([
  ["string", decl(
    { Length: "int" },
    {
      ToString: "string", ToUpper: "string", ToUpperInvariant: "string", ToLower: "string", ToLowerInvariant: "string",
      Trim: "string", TrimStart: "string", TrimEnd: "string", Contains: "bool", StartsWith: "bool", EndsWith: "bool",
      Equals: "bool", IndexOf: "int", LastIndexOf: "int", Substring: "string", Replace: "string", Split: "string[]",
      PadLeft: "string", PadRight: "string", Insert: "string", Remove: "string", ToCharArray: "char[]", CompareTo: "int",
      // APIM's string extension (jwt-value.ts). Its sibling s.TryParseJwt(out Jwt j) takes an out argument: like
      // T.TryParse it is a special form of the checker (tryParseJwtCall) and the interpreter (tryParseJwt).
      AsJwt: "Jwt",
    },
    true,
  )],
  ["int", NUMBER],
  ["long", NUMBER],
  ["double", NUMBER],
  ["bool", decl({}, {}, false, true)],
  ["char", decl({}, {}, false, true)],
  ["DateTime", DATE_TIME],
  ["TimeSpan", decl(
    {
      Days: "int", Hours: "int", Minutes: "int", Seconds: "int", Milliseconds: "int", Ticks: "long",
      TotalDays: "double", TotalHours: "double", TotalMinutes: "double", TotalSeconds: "double", TotalMilliseconds: "double",
    },
    { Add: "TimeSpan", Subtract: "TimeSpan", Negate: "TimeSpan", Duration: "TimeSpan", ToString: "string" },
    false,
    true,
  )],
  /** `T[]` (hosts' IEnumerables are arrays too, hence Count). */
  ["Array", decl({ Length: "int", Count: "int" }, {}, true)],
  ["List", decl(
    { Count: "int" },
    { Add: "void", AddRange: "void", Insert: "void", Remove: "bool", RemoveAt: "void", Clear: "void", IndexOf: "int" },
    true,
  )],
  ["Dictionary", DICTIONARY],
  ["KeyValuePair", decl({ Key: "string", Value: "?" }, {})],
  ["JObject", decl(JCONTAINER_PROPS, JOBJECT_METHODS, true)],
  ["JArray", decl(JCONTAINER_PROPS, JARRAY_METHODS, true)],
  ["JValue", decl({ ...JTOKEN_PROPS, Value: "?" }, { ...JTOKEN_COMMON, Remove: "void" })],
  ["JProperty", decl({ ...JTOKEN_PROPS, Name: "string", Value: "JToken" }, { ...JTOKEN_COMMON, Remove: "void" })],
  // context (src/policy/context.ts): keyed by HostObject.typeName.
  ["IProxyRequestContext", decl(
    {
      Request: "IRequest", Response: "IResponse", Operation: "IOperation", Api: "IApi", Variables: "IReadOnlyDictionary<string, object>",
      Deployment: "IDeployment", RequestId: "string", Timestamp: "DateTime", LastError: "ILastError",
      User: "IUser", Subscription: "ISubscription", Product: "IProduct", Tracing: "bool",
    },
    {},
  )],
  ["IRequest", decl(
    {
      Method: "string", Url: "IUrl", OriginalUrl: "IUrl", Headers: "IReadOnlyDictionary<string, string[]>", IpAddress: "string",
      Certificate: "X509Certificate2", MatchedParameters: "Dictionary", Body: "IMessageBody",
    },
    {},
  )],
  ["IMessageBody", { members: new Map([
    ["As", { kind: "method", returns: "?", typeArgs: ["string", "JObject", "JArray", "JToken"] }],
    ["AsFormUrlEncodedContent", { kind: "method", returns: "IDictionary<string, IList<string>>" }],
  ]), enumerable: false }],
  // form.ts: what AsFormUrlEncodedContent returns — a dictionary, plus ToFormUrlEncodedContent()
  ["IDictionary<string, IList<string>>", { members: new Map([...DICTIONARY.members, ["ToFormUrlEncodedContent", { kind: "method", returns: "string" }]]), enumerable: true }],
  ["IUrl", decl(
    { Scheme: "string", Host: "string", Port: "int", Path: "string", QueryString: "string", Query: "IReadOnlyDictionary<string, string[]>" },
    { ToString: "string" },
  )],
  ["IResponse", decl({ StatusCode: "int", StatusReason: "string", Headers: "IReadOnlyDictionary<string, string[]>", Body: "IMessageBody" }, {})],
  ["IReadOnlyDictionary<string, string[]>", HEADERS],
  ["IReadOnlyDictionary<string, object>", decl({ Count: "int", Keys: "string[]" }, { GetValueOrDefault: "?", ContainsKey: "bool" })],
  ["IDeployment", decl({ Certificates: "Dictionary", Region: "string", ServiceName: "string" }, {})],
  ["IOperation", decl({ Id: "string", Name: "string", Method: "string", UrlTemplate: "string" }, {})],
  ["IApi", decl({ Id: "string", Name: "string", Path: "string", ServiceUrl: "IUrl" }, {})],
  ["ILastError", decl(
    { Source: "string", Reason: "string", Message: "string", Scope: "string", Section: "string", Path: "string", PolicyId: "string" },
    {},
  )],
  ["X509Certificate2", decl(
    {
      Thumbprint: "string", SerialNumber: "string", Subject: "string", Issuer: "string", SubjectName: "X500DistinguishedName",
      IssuerName: "X500DistinguishedName", NotBefore: "DateTime", NotAfter: "DateTime", FriendlyName: "string", Version: "int",
      HasPrivateKey: "bool", Extensions: "X509Extension[]",
    },
    { GetNameInfo: "string", Verify: "bool", VerifyNoRevocation: "bool", ToString: "string", GetCertHashString: "string", GetSerialNumberString: "string" },
  )],
  ["X500DistinguishedName", decl({ Name: "string" }, { ToString: "string" })],
  ["X509Extension", decl({ Oid: "Oid", Critical: "bool" }, {})],
  ["X509SubjectAlternativeNameExtension", decl(
    { Oid: "Oid", Critical: "bool" },
    { EnumerateDnsNames: "string[]", EnumerateIPAddresses: "string[]", EnumerateUris: "string[]", EnumerateEmails: "string[]" },
  )],
  ["Oid", decl({ Value: "string", FriendlyName: "string" }, {})],
  ["DateTimeOffset", decl(
    {
      UtcDateTime: "DateTime", DateTime: "DateTime", LocalDateTime: "DateTime", Offset: "TimeSpan",
      Year: "int", Month: "int", Day: "int", Hour: "int", Minute: "int", Second: "int", Millisecond: "int", DayOfWeek: "DayOfWeek", DayOfYear: "int",
    },
    {
      ToUnixTimeSeconds: "long", ToUnixTimeMilliseconds: "long", ToUniversalTime: "DateTimeOffset", ToLocalTime: "DateTimeOffset", ToString: "string",
      AddDays: "DateTimeOffset", AddHours: "DateTimeOffset", AddMinutes: "DateTimeOffset", AddSeconds: "DateTimeOffset", AddMilliseconds: "DateTimeOffset",
      AddMonths: "DateTimeOffset", AddYears: "DateTimeOffset", Add: "DateTimeOffset",
    },
    false,
    true,
  )],
  // jwt-value.ts: APIM's Jwt (AsJwt, TryParseJwt, validate-jwt's output-token-variable-name); dates are DateTime?.
  ["Jwt", decl(
    {
      Algorithm: "string", Audiences: "string[]", Claims: "IReadOnlyDictionary<string, string[]>", ExpirationTime: "DateTime",
      Id: "string", Issuer: "string", IssuedAt: "DateTime", NotBefore: "DateTime", Subject: "string", Type: "string",
    },
    { ToString: "string" },
  )],
  // codecs.ts
  ["Guid", decl({}, { ToString: "string", ToByteArray: "byte[]" }, false, true)],
  ["Encoding", decl({}, { GetBytes: "byte[]", GetString: "string" })],
  // hashes.ts: SHA256.Create(), new HMACSHA256(key) …
  ["HashAlgorithm", decl({}, { ComputeHash: "byte[]" })],
  // `catch (FormatException e)`: any caught exception (names.ts EXCEPTION_TYPES)
  ["Exception", decl({ Message: "string" }, {})],
  // regex.ts; a GroupCollection's indexer gives a Group (check-types.ts)
  ["Match", decl({ Success: "bool", Value: "string", Index: "int", Length: "int", Name: "string", Groups: "GroupCollection" }, {})],
  ["Group", decl({ Success: "bool", Value: "string", Index: "int", Length: "int", Name: "string" }, {})],
  ["GroupCollection", decl({ Count: "int" }, {})],
  // crypt.ts: a byte[] is an array with APIM's Encrypt / Decrypt extensions
  ["byte[]", decl({ Length: "int", Count: "int" }, { Encrypt: "byte[]", Decrypt: "byte[]" }, true)],
  // uri.ts
  ["Uri", decl(
    { Scheme: "string", Host: "string", Port: "int", IsDefaultPort: "bool", AbsolutePath: "string", Query: "string", PathAndQuery: "string", Fragment: "string", AbsoluteUri: "string", OriginalString: "string" },
    { ToString: "string" },
  )],
  // random.ts
  ["Random", decl({}, { Next: "int", NextDouble: "double" })],
]);

/**
 * Types whose values are always null in certgate (context.User, Subscription, Product: certgate has no
 * subscriptions), declared with APIM's members so `context.User?.Email` compiles as in APIM; no member of them
 * ever runs (a `?.` gives null, a `.` a NullReferenceException), so types.test.ts has no sample of them.
 */
export const NULL_ONLY_TYPES: ReadonlyMap<string, TypeDecl> = new Map<string, TypeDecl>([
  ["IUser", decl({ Email: "string", FirstName: "string", LastName: "string", Id: "string", Note: "string", RegistrationDate: "DateTime", Groups: "?", Identities: "?" }, {})],
  ["ISubscription", decl({ Id: "string", Key: "string", Name: "string", PrimaryKey: "string", SecondaryKey: "string", CreatedDate: "DateTime", StartDate: "DateTime", EndDate: "DateTime" }, {})],
  ["IProduct", decl({ Id: "string", Name: "string", State: "?", Groups: "?", ApprovalRequired: "bool", SubscriptionRequired: "bool", SubscriptionLimit: "int" }, {})],
]);

/** JToken (what a JObject's indexer returns): any of the four token types. */
export const JTOKEN_TYPES: readonly string[] = ["JObject", "JArray", "JValue", "JProperty"];

/** Every member name of each kind declared anywhere: what a value of unknown type may be asked for. */
export const ANY_MEMBER: Readonly<Record<MemberKind, ReadonlySet<string>>> = (() => {
  const out = { prop: new Set<string>(), method: new Set<string>() };
  for (const t of [...INSTANCE_TYPES.values(), ...NULL_ONLY_TYPES.values(), { members: OBJECT_MEMBERS }, { members: NULLABLE_MEMBERS }]) {
    for (const [name, m] of t.members) out[m.kind].add(name);
  }
  return out;
})();

/** The declaration a type name refers to: arrays, generic collections and JToken resolved; null when it has none. */
export function typeDecl(type: string): TypeDecl | null {
  const t = type.endsWith("?") ? type.slice(0, -1) : type;
  if (t === "byte[]") return INSTANCE_TYPES.get("byte[]")!;
  if (t.endsWith("]")) return INSTANCE_TYPES.get("Array")!;
  const generic = t.indexOf("<");
  const direct = INSTANCE_TYPES.get(t) ?? NULL_ONLY_TYPES.get(t);
  if (direct) return direct;
  if (generic > 0) {
    const base = t.slice(0, generic);
    if (base === "List") return INSTANCE_TYPES.get("List")!;
    if (base === "Dictionary" || base === "IDictionary" || base === "IReadOnlyDictionary") return INSTANCE_TYPES.get("Dictionary")!;
  }
  if (EXCEPTION_TYPES.has(t)) return INSTANCE_TYPES.get("Exception")!;
  if (/^(HMAC)?SHA(1|256|384|512)$/.test(t) || t === "HMAC") return INSTANCE_TYPES.get("HashAlgorithm")!;
  if (t === "long" || t === "short" || t === "byte" || t === "float" || t === "decimal") return INSTANCE_TYPES.get("int")!;
  return null;
}
