/**
 * The `context` object policy expressions see: APIM's IProxyRequestContext, as HostObjects (expr/host.ts).
 *
 * Contract: synchronous and I/O-free. Everything that needs I/O or the clock — the request's time, its id,
 * Verify() / VerifyNoRevocation() results, the registered certificates — is computed by the runner before
 * evaluation and handed in (`ContextInput`). The objects read the runner's live state (`PipelineState`), so
 * `set-header`, `set-variable` and the response seen in outbound are what later expressions observe.
 *
 * What is exposed (APIM names; anything else is "no such member", a runtime error):
 * - context: Request, Response (null before the origin answered, outside on-error), Operation, Api (null for
 *   the `*` program), Variables, Deployment, RequestId, Timestamp, LastError (null outside on-error),
 *   User / Subscription / Product (always null: certgate has no subscriptions), Tracing (false).
 * - Request: Method, Url, Headers, IpAddress, Certificate, MatchedParameters.
 *   Request.Headers are the headers the origin will receive (certgate's own and certificate-carrying headers
 *   stripped, forward/headers.ts), so no expression can read the terminator's or the tracing secret.
 * - Url: Scheme, Host, Port, Path, Query, QueryString ("" or "?…"), ToString().
 * - Headers / Query: GetValueOrDefault(name[, default]) (values joined with ","), ContainsKey, indexer
 *   (string[]; a missing key is KeyNotFoundException), Count, Keys. Header names are case-insensitive, query
 *   names case-sensitive.
 * - Certificate (X509Certificate2): Thumbprint, SerialNumber, Subject, Issuer (.NET renderings),
 *   SubjectName.Name, IssuerName.Name, NotBefore, NotAfter, FriendlyName (""), Version, HasPrivateKey
 *   (false), GetNameInfo(X509NameType, forIssuer), Verify(), VerifyNoRevocation(), ToString(), Extensions (Oid,
 *   Critical; the subjectAltName one an X509SubjectAlternativeNameExtension with EnumerateDnsNames(),
 *   EnumerateIPAddresses() and the certgate extensions EnumerateUris(), EnumerateEmails()).
 *   GetNameInfo follows .NET's managed implementation (dotnet/runtime, X509Certificate2 on Unix):
 *   SimpleName → the most specific CN, else OU, O, E, else the most specific other attribute, else the
 *   first rfc822 SAN; EmailName → the first rfc822 SAN, else E=; UpnName → the first UPN otherName SAN
 *   (1.3.6.1.4.1.311.20.2.3); DnsName → the first DNS SAN, else CN; DnsFromAlternativeName → the first DNS
 *   SAN; UrlName → the first URI SAN; "" when there is none. `forIssuer` reads the issuer name and the
 *   issuerAltName extension instead.
 * - Request.Body / Response.Body (IMessageBody, null when there is none): As<T>([preserveContent]) with T string,
 *   JObject, JArray or JToken. As APIM's set-body reference says, reading without preserveContent: true takes
 *   the content away: later reads see an empty body, and so does the origin (or the client) unless a set-body
 *   gives one. The runner buffers the body before the section runs (run.ts), up to MAX_BODY_BYTES.
 * - Response: StatusCode, StatusReason, Headers, Body.
 * - Operation: Id, Name, Method, UrlTemplate. Api: Id, Name, Path.
 * - Variables: GetValueOrDefault<T>(name[, default]), ContainsKey, indexer, Count, Keys.
 * - Deployment: Certificates (registered certificates by id, each an X509Certificate2 whose Verify() is not
 *   available), Region (the Cloudflare colo, or ""), ServiceName ("certgate").
 * - LastError: Source, Reason, Message, Scope, Section, Path, PolicyId.
 */
import type { CertificateModel } from "../cert/model";
import type { ParsedCertificate } from "../cert/parse";
import { latin1 } from "../bytes";
import { DerReader, TAG, decodeOid } from "../cert/der";
import type { DerElement } from "../cert/decode";
import type { RegisteredCertificate } from "../pki/trust-store";
import { HostError, type HostObject, type MutableDictionary, type Value } from "./expr/host";
import { formatDate } from "./expr/format";
import { parseJsonForHost } from "./expr/json";
import { MAX_BODY_BYTES } from "./expr/limits";
import { argCount, MultiValueDictionary, stringArg } from "./expr/multi-value";
import { JArray, JObject } from "./expr/values";
import { parseFormData } from "./expr/form";
import type { Program } from "./schema";

/** The pipeline sections, as APIM names them in LastError.Section. */
export type SectionName = "inbound" | "backend" | "outbound" | "on-error";

/** The response as policies see and edit it (outbound, on-error). */
export interface ResponseState {
  status: number;
  reason: string;
  readonly headers: Headers;
  /** The origin's body, buffered when the program reads context.Response.Body (else undefined). */
  body?: BufferedBody | null;
}

/** A message body buffered for expressions (run.ts reads it when the program reads `Body`). */
export interface BufferedBody {
  /** The content as UTF-8 text, or null when it is larger than the cap (reading it is a LimitExceeded). */
  readonly text: string | null;
  /** A read without preserveContent: true emptied it. */
  consumed: boolean;
}

/** APIM's context.LastError. */
export interface LastError {
  readonly source: string;
  readonly reason: string;
  readonly message: string;
  readonly scope: string;
  readonly section: SectionName;
  readonly path: string;
  readonly policyId: string;
}

/** The runner's live state that `context` reads. */
export interface PipelineState {
  section: SectionName;
  response: ResponseState | null;
  lastError: LastError | null;
}

/** A certificate with its model (policy/run.ts builds them once per request). */
export interface CertificateFacts {
  readonly cert: ParsedCertificate;
  readonly model: CertificateModel;
}

/** Everything `context` exposes that is not live pipeline state. */
export interface ContextInput {
  readonly method: string;
  readonly url: URL;
  /** The request headers policies see and edit (the ones sent upstream, without the identity). */
  readonly headers: Headers;
  readonly ipAddress: string;
  readonly params: ReadonlyMap<string, string>;
  /** The presented client certificate, when one was presented and parsed (valid or not). */
  readonly certificate: CertificateFacts | null;
  /** Verify() / VerifyNoRevocation() of the request certificate, when the program needs them. */
  readonly verified: { readonly verify?: boolean; readonly verifyNoRevocation?: boolean };
  readonly program: Program;
  /** Registered certificates, when the program needs them (else null: context.Deployment.Certificates is empty). */
  readonly registered: ReadonlyMap<string, RegisteredCertificate> | null;
  readonly requestId: string;
  readonly timestamp: Date;
  readonly region: string;
  /** The request body for context.Request.Body: null when there is none; undefined when the program does not read it. */
  readonly body?: BufferedBody | null;
  /** The origin used when the API sets none (the Worker's ORIGIN_URL): context.Api.ServiceUrl of such an API. */
  readonly defaultOrigin?: URL;
  /**
   * context.Request.Url: the current full backend URL (the runner's, as set-backend-service, rewrite-uri and
   * set-query-parameter leave it); absent: the client's URL (OriginalUrl).
   */
  readonly backendUrl?: () => string;
}

/** Builds the `context` object of one request and its Variables. */
export function createContext(input: ContextInput, state: PipelineState): { context: HostObject; variables: VariablesHost } {
  const variables = new VariablesHost();
  return { context: new ContextHost(input, state, variables), variables };
}

function noSuchMethod(): undefined {
  return undefined;
}

class ContextHost implements HostObject {
  readonly typeName = "IProxyRequestContext";
  private request: RequestHost | undefined;
  private deployment: DeploymentHost | undefined;

  constructor(private readonly input: ContextInput, private readonly state: PipelineState, private readonly variables: VariablesHost) {}

  get(name: string): Value | undefined {
    switch (name) {
      case "Request":
        return (this.request ??= new RequestHost(this.input));
      case "Response":
        return this.state.response ? new ResponseHost(this.state.response) : null;
      case "Operation":
        return this.input.program.operation ? new RecordHost("IOperation", {
          Id: this.input.program.operation.id,
          Name: this.input.program.operation.name,
          Method: this.input.program.operation.method,
          UrlTemplate: this.input.program.operation.urlTemplate,
        }) : null;
      case "Api": {
        if (!this.input.program.api) return null;
        // APIM's IApi.ServiceUrl: the API's backend URL as configured — api.json's origin, else the Worker's
        // ORIGIN_URL — not what a set-backend-service changes for this request.
        const origin = this.input.program.origin ?? this.input.defaultOrigin?.href ?? null;
        return new RecordHost("IApi", {
          Id: this.input.program.api.id,
          Name: this.input.program.api.name,
          Path: this.input.program.api.path,
          ServiceUrl: origin === null ? null : new UrlHost(withoutCredentials(new URL(origin))),
        });
      }
      case "Variables":
        return this.variables;
      case "Deployment":
        return (this.deployment ??= new DeploymentHost(this.input));
      case "RequestId":
        return this.input.requestId;
      case "Timestamp":
        return this.input.timestamp;
      case "LastError": {
        const e = this.state.lastError;
        return e ? new RecordHost("ILastError", {
          Source: e.source, Reason: e.reason, Message: e.message, Scope: e.scope, Section: e.section, Path: e.path, PolicyId: e.policyId,
        }) : null;
      }
      case "User":
      case "Subscription":
      case "Product":
        return null;
      case "Tracing":
        return false;
      default:
        return undefined;
    }
  }

  call = noSuchMethod;

  toString(): string {
    return this.typeName;
  }
}

/** A read-only object of fixed properties. */
class RecordHost implements HostObject {
  constructor(readonly typeName: string, private readonly props: Readonly<Record<string, Value>>) {}

  get(name: string): Value | undefined {
    return Object.hasOwn(this.props, name) ? this.props[name] : undefined;
  }

  call = noSuchMethod;

  toString(): string {
    return this.typeName;
  }
}

class RequestHost implements HostObject {
  readonly typeName = "IRequest";
  private originalUrl: UrlHost | undefined;
  private backend: { readonly href: string; readonly host: UrlHost } | undefined;
  private headers: MultiValueDictionary | undefined;
  private certificate: CertificateHost | null | undefined;

  constructor(private readonly input: ContextInput) {}

  get(name: string): Value | undefined {
    switch (name) {
      case "Method":
        return this.input.method;
      case "Url": {
        const href = this.input.backendUrl?.();
        if (href === undefined) return (this.originalUrl ??= new UrlHost(this.input.url));
        if (this.backend?.href !== href) this.backend = { href, host: new UrlHost(new URL(href)) };
        return this.backend.host;
      }
      case "OriginalUrl":
        return (this.originalUrl ??= new UrlHost(this.input.url));
      case "Headers":
        return (this.headers ??= headerDictionary(this.input.headers));
      case "IpAddress":
        return this.input.ipAddress;
      case "Certificate":
        if (this.certificate === undefined) {
          const c = this.input.certificate;
          this.certificate = c ? new CertificateHost(c.cert, c.model, this.input.verified) : null;
        }
        return this.certificate;
      case "MatchedParameters":
        return this.input.params;
      case "Body":
        return this.input.body ? new MessageBodyHost(this.input.body) : null;
      default:
        return undefined;
    }
  }

  call = noSuchMethod;

  toString(): string {
    return this.typeName;
  }
}

/** A URL without user:password (an origin may hold them; APIM's IUrl has no such part). */
function withoutCredentials(u: URL): URL {
  u.username = "";
  u.password = "";
  return u;
}

class UrlHost implements HostObject {
  readonly typeName = "IUrl";
  private query: MultiValueDictionary | undefined;

  constructor(private readonly url: URL) {}

  get(name: string): Value | undefined {
    switch (name) {
      case "Scheme":
        return this.url.protocol.replace(/:$/, "");
      case "Host":
        return this.url.hostname;
      case "Port":
        return this.url.port !== "" ? Number(this.url.port) : this.url.protocol === "https:" ? 443 : 80;
      case "Path":
        return this.url.pathname;
      case "QueryString":
        return this.url.search;
      case "Query":
        return (this.query ??= queryDictionary(this.url.searchParams));
      default:
        return undefined;
    }
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    if (name === "ToString") {
      argCount(name, args, 0, 0);
      return this.toString();
    }
    return undefined;
  }

  toString(): string {
    return this.url.toString();
  }
}

function headerDictionary(headers: Headers): MultiValueDictionary {
  return new MultiValueDictionary(
    (name) => {
      let v: string | null;
      try {
        v = headers.get(name);
      } catch {
        return null; // not a valid header name: not present
      }
      return v === null ? null : [v];
    },
    () => [...headers.keys()],
  );
}

function queryDictionary(params: URLSearchParams): MultiValueDictionary {
  return new MultiValueDictionary(
    (name) => (params.has(name) ? params.getAll(name) : null),
    () => [...new Set(params.keys())],
  );
}

class ResponseHost implements HostObject {
  readonly typeName = "IResponse";

  constructor(private readonly response: ResponseState) {}

  get(name: string): Value | undefined {
    switch (name) {
      case "StatusCode":
        return this.response.status;
      case "StatusReason":
        return this.response.reason;
      case "Headers":
        return headerDictionary(this.response.headers);
      case "Body":
        return this.response.body ? new MessageBodyHost(this.response.body) : null;
      default:
        return undefined;
    }
  }

  call = noSuchMethod;

  toString(): string {
    return this.typeName;
  }
}

/** IMessageBody: `As<T>([preserveContent])`. */
class MessageBodyHost implements HostObject {
  readonly typeName = "IMessageBody";

  constructor(private readonly body: BufferedBody) {}

  get(): undefined {
    return undefined;
  }

  call(name: string, args: readonly Value[], typeArgs?: readonly string[]): Value | undefined {
    if (name === "AsFormUrlEncodedContent") {
      // expr/form.ts: the body's form data, consumed as As<T> consumes it unless preserveContent is true.
      argCount(name, args, 0, 1);
      if (args.length === 1 && typeof args[0] !== "boolean") throw new HostError("ArgumentException", "AsFormUrlEncodedContent: preserveContent must be a bool");
      if (this.body.text === null) throw new HostError("LimitExceeded", `the body is larger than ${MAX_BODY_BYTES} bytes`);
      const text = this.body.consumed ? "" : this.body.text;
      if (args[0] !== true) this.body.consumed = true;
      return parseFormData(text);
    }
    if (name !== "As") return undefined;
    argCount(name, args, 0, 1);
    if (args.length === 1 && typeof args[0] !== "boolean") throw new HostError("ArgumentException", "As: preserveContent must be a bool");
    const type = typeArgs?.length === 1 ? typeArgs[0]! : null;
    if (type !== "string" && type !== "JObject" && type !== "JArray" && type !== "JToken") {
      throw new HostError("NotSupportedException", `As<${type ?? ""}>: certgate reads a body as string, JObject, JArray or JToken`);
    }
    if (this.body.text === null) throw new HostError("LimitExceeded", `the body is larger than ${MAX_BODY_BYTES} bytes`);
    const text = this.body.consumed ? "" : this.body.text;
    if (args[0] !== true) this.body.consumed = true;
    if (type === "string") return text;
    // Newtonsoft reads an empty document as no token at all.
    if (text.trim() === "") return null;
    const token = parseJsonForHost(text);
    if (type === "JObject" && !(token instanceof JObject)) throw new HostError("JsonReaderException", "Error reading JObject from JsonReader. Current JsonReader item is not an object.");
    if (type === "JArray" && !(token instanceof JArray)) throw new HostError("JsonReaderException", "Error reading JArray from JsonReader. Current JsonReader item is not an array.");
    return token as unknown as Value;
  }

  toString(): string {
    return this.typeName;
  }
}

/** context.Variables: set-variable writes here; values keep their expression types. */
export class VariablesHost implements MutableDictionary {
  readonly typeName = "IReadOnlyDictionary<string, object>";
  private readonly values = new Map<string, Value>();

  set(name: string, value: Value): void {
    this.values.set(name, value);
  }

  get(name: string): Value | undefined {
    if (name === "Count") return this.values.size;
    if (name === "Keys") return [...this.values.keys()];
    return undefined;
  }

  call(name: string, args: readonly Value[], typeArgs?: readonly string[]): Value | undefined {
    switch (name) {
      case "GetValueOrDefault": {
        argCount(name, args, 1, 2);
        const key = stringArg(name, args[0]);
        const type = typeArgs?.[0];
        if (!this.values.has(key)) return args.length > 1 ? args[1]! : defaultOf(type);
        const v = this.values.get(key)!;
        if (type !== undefined) checkCast(v, type, key);
        return v;
      }
      case "ContainsKey":
        argCount(name, args, 1, 1);
        return this.values.has(stringArg(name, args[0]));
      default:
        return undefined;
    }
  }

  index(key: Value): Value {
    const name = stringArg("indexer", key);
    if (!this.values.has(name)) throw new HostError("KeyNotFoundException", `The given key '${name}' was not present in the dictionary.`);
    return this.values.get(name)!;
  }

  toString(): string {
    return this.typeName;
  }
}

const INTEGER_TYPES = new Set(["int", "long", "short", "byte", "uint", "ulong", "Int32", "Int64", "System.Int32", "System.Int64"]);
const BOOL_TYPES = new Set(["bool", "Boolean", "System.Boolean"]);
const STRING_TYPES = new Set(["string", "String", "System.String"]);

/** C#'s default(T) for the value types expressions use; null for reference types. */
function defaultOf(type: string | undefined): Value {
  if (type === undefined) return null;
  if (INTEGER_TYPES.has(type) || type === "double" || type === "float" || type === "decimal") return 0;
  if (BOOL_TYPES.has(type)) return false;
  return null;
}

/** GetValueOrDefault<T> casts: a value of another type is an InvalidCastException, as in .NET. */
function checkCast(v: Value, type: string, key: string): void {
  const bad =
    (STRING_TYPES.has(type) && v !== null && typeof v !== "string") ||
    (BOOL_TYPES.has(type) && typeof v !== "boolean") ||
    (INTEGER_TYPES.has(type) && !(typeof v === "number" && Number.isInteger(v))) ||
    (type === "DateTime" && !(v instanceof Date));
  if (bad) throw new HostError("InvalidCastException", `Variable '${key}' is not a ${type}.`);
}

class DeploymentHost implements HostObject {
  readonly typeName = "IDeployment";
  private certificates: ReadonlyMap<string, Value> | undefined;

  constructor(private readonly input: ContextInput) {}

  get(name: string): Value | undefined {
    switch (name) {
      case "Certificates":
        if (!this.certificates) {
          const m = new Map<string, Value>();
          for (const [id, r] of this.input.registered ?? []) m.set(id, new CertificateHost(r.cert, r.model, null));
          this.certificates = m;
        }
        return this.certificates;
      case "Region":
        return this.input.region;
      case "ServiceName":
        return "certgate";
      default:
        return undefined;
    }
  }

  call = noSuchMethod;

  toString(): string {
    return this.typeName;
  }
}

/** X509NameType, by value (0–5) or name. */
const NAME_TYPES = ["SimpleName", "EmailName", "UpnName", "DnsName", "DnsFromAlternativeName", "UrlName"] as const;
type NameType = (typeof NAME_TYPES)[number];

function nameTypeOf(v: Value | undefined): NameType {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < NAME_TYPES.length) return NAME_TYPES[v]!;
  const text = typeof v === "string" ? v : v !== null && typeof v === "object" && !(v instanceof Date) && !Array.isArray(v) && !(v instanceof Map) ? String(v) : "";
  const bare = text.replace(/^(System\.Security\.Cryptography\.X509Certificates\.)?X509NameType\./, "");
  const found = NAME_TYPES.find((n) => n === bare);
  if (!found) throw new HostError("ArgumentException", `GetNameInfo: ${JSON.stringify(text)} is not an X509NameType`);
  return found;
}

/** X509Certificate2. `verified` is null for certificates whose Verify() is not prepared (registered ones). */
class CertificateHost implements HostObject {
  readonly typeName = "X509Certificate2";
  private extensions: Value[] | undefined;

  constructor(
    private readonly cert: ParsedCertificate,
    private readonly model: CertificateModel,
    private readonly verified: ContextInput["verified"] | null,
  ) {}

  get(name: string): Value | undefined {
    const m = this.model;
    switch (name) {
      case "Thumbprint":
        return m.thumbprint;
      case "SerialNumber":
        return m.serialNumber;
      case "Subject":
        return m.subject.dotnet;
      case "Issuer":
        return m.issuer.dotnet;
      case "SubjectName":
        return new X500NameHost(m.subject.dotnet);
      case "IssuerName":
        return new X500NameHost(m.issuer.dotnet);
      case "NotBefore":
        return this.cert.notBefore;
      case "NotAfter":
        return this.cert.notAfter;
      case "FriendlyName":
        return "";
      case "Version":
        return m.version;
      case "HasPrivateKey":
        return false;
      case "Extensions":
        return (this.extensions ??= readExtensions(this.cert.der).map((e) =>
          e.oid === OID_SAN ? new SanExtensionHost(e.critical, this.model.subjectAltNames) : new RecordHost("X509Extension", { Oid: oidHost(e.oid), Critical: e.critical })));
      default:
        return undefined;
    }
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    switch (name) {
      case "GetNameInfo": {
        argCount(name, args, 2, 2);
        if (typeof args[1] !== "boolean") throw new HostError("ArgumentException", "GetNameInfo: forIssuer must be a bool");
        return nameInfo(this.cert, nameTypeOf(args[0]), args[1]);
      }
      case "Verify":
      case "VerifyNoRevocation": {
        argCount(name, args, 0, 0);
        const r = name === "Verify" ? this.verified?.verify : this.verified?.verifyNoRevocation;
        if (r === undefined) {
          throw new HostError("NotSupportedException", this.verified === null
            ? `${name}() is available on context.Request.Certificate only`
            : `${name}() was not prepared for this program (a bundle compiled without it in needs)`);
        }
        return r;
      }
      case "ToString":
        argCount(name, args, 0, 1);
        return this.toString();
      case "GetCertHashString":
        argCount(name, args, 0, 0);
        return this.model.thumbprint;
      case "GetSerialNumberString":
        argCount(name, args, 0, 0);
        return this.model.serialNumber;
      default:
        return undefined;
    }
  }

  toString(): string {
    // .NET X509Certificate.ToString(): "[Subject]\r\n  …\r\n\r\n[Issuer]\r\n  …" and so on, with the dates as
    // DateTime.ToString() prints them (en-US "G", `12/3/2027 8:00:12 AM`; UTC here: the edge has no local zone)
    // and Environment.NewLine of APIM's Windows hosts (CRLF).
    const date = (d: Date) => formatDate(d, null) ?? "";
    return `[Subject]\r\n  ${this.model.subject.dotnet}\r\n\r\n[Issuer]\r\n  ${this.model.issuer.dotnet}\r\n\r\n` +
      `[Serial Number]\r\n  ${this.model.serialNumber}\r\n\r\n[Not Before]\r\n  ${date(this.cert.notBefore)}\r\n\r\n` +
      `[Not After]\r\n  ${date(this.cert.notAfter)}\r\n\r\n[Thumbprint]\r\n  ${this.model.thumbprint}\r\n`;
  }
}

/** System.Security.Cryptography.Oid: `Value` (dotted), `FriendlyName` null (certgate keeps no OID name table). */
function oidHost(oid: string): HostObject {
  return new RecordHost("Oid", { Value: oid, FriendlyName: null });
}

/**
 * X509SubjectAlternativeNameExtension (.NET 7): EnumerateDnsNames(), EnumerateIPAddresses() (as text, IPAddress's
 * ToString() form), and — certgate extensions in the same style — EnumerateUris(), EnumerateEmails(); every
 * name of the kind, in the certificate's order (GetNameInfo sees only the first).
 */
class SanExtensionHost implements HostObject {
  readonly typeName = "X509SubjectAlternativeNameExtension";

  constructor(private readonly critical: boolean, private readonly names: CertificateModel["subjectAltNames"]) {}

  get(name: string): Value | undefined {
    if (name === "Oid") return oidHost(OID_SAN);
    if (name === "Critical") return this.critical;
    return undefined;
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    const list = name === "EnumerateDnsNames" ? this.names.dns : name === "EnumerateIPAddresses" ? this.names.ip
      : name === "EnumerateUris" ? this.names.uri : name === "EnumerateEmails" ? this.names.email : undefined;
    if (list === undefined) return undefined;
    argCount(name, args, 0, 0);
    return [...list];
  }

  toString(): string {
    return this.typeName;
  }
}

/**
 * The certificate's extensions in order: OID, criticality and the extnValue element (RFC 5280 §4.1: Extension ::=
 * SEQUENCE { extnID, critical DEFAULT FALSE, extnValue }). Throws DerError on malformed input (callers catch).
 */
function extensionsOf(der: Uint8Array): Array<{ oid: string; critical: boolean; value: DerElement }> {
  const cert = DerReader.of(der, new DerReader(der).expect(TAG.SEQUENCE, "Certificate"));
  const tbs = DerReader.of(der, cert.expect(TAG.SEQUENCE, "TBSCertificate"));
  while (!tbs.done) {
    const el = tbs.next();
    if (el.tagClass !== 2 || el.tagNumber !== 3) continue;
    const exts = DerReader.of(der, DerReader.of(der, el).expect(TAG.SEQUENCE, "Extensions"));
    const out: Array<{ oid: string; critical: boolean; value: DerElement }> = [];
    while (!exts.done) {
      const ext = DerReader.of(der, exts.expect(TAG.SEQUENCE, "Extension"));
      const oid = decodeOid(ext.content(ext.expect(TAG.OID, "extnID")));
      let value = ext.next();
      const critical = value.tagClass === 0 && value.tagNumber === TAG.BOOLEAN && der[value.contentStart] !== 0;
      if (value.tagClass === 0 && value.tagNumber === TAG.BOOLEAN) value = ext.next();
      out.push({ oid, critical, value });
    }
    return out;
  }
  return [];
}

/** The certificate's extensions in order: OID and criticality. */
function readExtensions(der: Uint8Array): Array<{ oid: string; critical: boolean }> {
  try {
    return extensionsOf(der).map(({ oid, critical }) => ({ oid, critical }));
  } catch {
    return [];
  }
}

class X500NameHost implements HostObject {
  readonly typeName = "X500DistinguishedName";

  constructor(private readonly name: string) {}

  get(name: string): Value | undefined {
    return name === "Name" ? this.name : undefined;
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    if (name === "ToString") {
      argCount(name, args, 0, 0);
      return this.name;
    }
    return undefined;
  }

  toString(): string {
    return this.name;
  }
}

// ---------------------------------------------------------------------------------------------------------
// GetNameInfo: the name attributes and alternative names .NET reads (cert/parse.ts keeps neither the
// attribute values nor otherName / issuerAltName contents, so they are read here from the DER, once per
// certificate).

const OID_CN = "2.5.4.3";
const OID_OU = "2.5.4.11";
const OID_O = "2.5.4.10";
const OID_EMAIL = "1.2.840.113549.1.9.1";
const OID_SAN = "2.5.29.17";
const OID_IAN = "2.5.29.18";
const OID_UPN = "1.3.6.1.4.1.311.20.2.3";

interface AltName {
  /** GeneralName tag: 0 otherName, 1 rfc822Name, 2 dNSName, 6 URI. */
  readonly tag: number;
  readonly value: string;
  /** otherName type id. */
  readonly otherOid?: string;
}

interface NameFacts {
  /** String attributes of the name, most specific RDN first (.NET ReadReverseRdns). */
  readonly attributes: ReadonlyArray<{ readonly oid: string; readonly value: string }>;
  readonly altNames: readonly AltName[];
}

const nameFacts = new WeakMap<ParsedCertificate, { subject: NameFacts; issuer: NameFacts }>();

function factsOf(cert: ParsedCertificate, forIssuer: boolean): NameFacts {
  let f = nameFacts.get(cert);
  if (!f) {
    f = {
      subject: { attributes: readAttributes(cert.subject), altNames: readAltNames(cert.der, OID_SAN) },
      issuer: { attributes: readAttributes(cert.issuer), altNames: readAltNames(cert.der, OID_IAN) },
    };
    nameFacts.set(cert, f);
  }
  return forIssuer ? f.issuer : f.subject;
}

/** X509Certificate2.GetNameInfo, as .NET's managed implementation answers it. */
export function nameInfo(cert: ParsedCertificate, type: NameType, forIssuer: boolean): string {
  const f = factsOf(cert, forIssuer);
  const attr = (oid: string) => f.attributes.find((a) => a.oid === oid)?.value;
  const alt = (tag: number, otherOid?: string) => f.altNames.find((n) => n.tag === tag && (otherOid === undefined || n.otherOid === otherOid))?.value;
  switch (type) {
    case "SimpleName": {
      let ou: string | undefined, o: string | undefined, e: string | undefined, other: string | undefined;
      for (const a of f.attributes) {
        if (a.oid === OID_CN) return a.value;
        if (a.oid === OID_OU) ou = a.value;
        else if (a.oid === OID_O) o = a.value;
        else if (a.oid === OID_EMAIL) e = a.value;
        else other ??= a.value;
      }
      return ou ?? o ?? e ?? other ?? alt(1) ?? "";
    }
    case "EmailName":
      return alt(1) ?? attr(OID_EMAIL) ?? "";
    case "UpnName":
      return alt(0, OID_UPN) ?? "";
    case "DnsName":
      return alt(2) ?? attr(OID_CN) ?? "";
    case "DnsFromAlternativeName":
      return alt(2) ?? "";
    case "UrlName":
      return alt(6) ?? "";
  }
}

const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const UTF8_LENIENT = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });


/** The string types .NET reads in names (ReadReverseRdns): BMP, IA5, Printable, UTF8, T61. */
function decodeNameString(tag: number, content: Uint8Array): string | null {
  switch (tag) {
    case TAG.UTF8:
      return UTF8_LENIENT.decode(content);
    case TAG.PRINTABLE:
    case TAG.IA5:
      return latin1(content);
    case TAG.T61:
      try {
        return UTF8.decode(content);
      } catch {
        return latin1(content);
      }
    case TAG.BMP: {
      let s = "";
      for (let i = 0; i + 1 < content.length; i += 2) s += String.fromCharCode((content[i]! << 8) | content[i + 1]!);
      return s;
    }
    default:
      return null;
  }
}

function readAttributes(name: Uint8Array): NameFacts["attributes"] {
  try {
    const top = new DerReader(name);
    const seq = DerReader.of(name, top.expect(TAG.SEQUENCE, "Name"));
    const rdns: Array<Array<{ oid: string; value: string }>> = [];
    while (!seq.done) {
      const set = DerReader.of(name, seq.expect(TAG.SET, "RDN"));
      const rdn: Array<{ oid: string; value: string }> = [];
      while (!set.done) {
        const atv = DerReader.of(name, set.expect(TAG.SEQUENCE, "AttributeTypeAndValue"));
        const oid = decodeOid(atv.content(atv.expect(TAG.OID, "type")));
        const v = atv.next();
        const text = v.tagClass === 0 ? decodeNameString(v.tagNumber, name.subarray(v.contentStart, v.end)) : null;
        if (text !== null) rdn.push({ oid, value: text });
      }
      rdns.push(rdn);
    }
    return rdns.reverse().flat();
  } catch {
    return [];
  }
}

/** GeneralNames of the extension `oid` (SAN or IAN) of a certificate, in order. */
function readAltNames(der: Uint8Array, oid: string): AltName[] {
  try {
    for (const { oid: id, value } of extensionsOf(der)) {
      if (id !== oid) continue;
      const names = DerReader.of(der, DerReader.of(der, value).expect(TAG.SEQUENCE, "GeneralNames"));
      const out: AltName[] = [];
      while (!names.done) {
        const n = names.next();
        if (n.tagClass !== 2) continue;
        const content = der.subarray(n.contentStart, n.end);
        if (n.tagNumber === 1 || n.tagNumber === 2 || n.tagNumber === 6) {
          out.push({ tag: n.tagNumber, value: latin1(content) });
        } else if (n.tagNumber === 0) {
          const other = DerReader.of(der, n);
          const typeId = decodeOid(other.content(other.expect(TAG.OID, "type-id")));
          const explicit = other.next();
          const inner = DerReader.of(der, explicit).next();
          const text = inner.tagClass === 0 ? decodeNameString(inner.tagNumber, der.subarray(inner.contentStart, inner.end)) : null;
          if (text !== null) out.push({ tag: 0, value: text, otherOid: typeId });
        }
      }
      return out;
    }
    return [];
  } catch {
    return [];
  }
}

/** An IResponse over `state`: send-request's response variable (policy/outbound.ts) reads as context.Response does. */
export function responseHost(state: ResponseState): HostObject {
  return new ResponseHost(state);
}
