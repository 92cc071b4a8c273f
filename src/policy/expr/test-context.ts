/**
 * policy/expr/test-context — a small fake `context` for the expression tests (not used by the Worker): a fixed
 * Timestamp, a mutable Variables dictionary, Request.Headers (case-insensitive), Request.Certificate with a
 * thumbprint and names, and a `Throws` member that raises a HostError.
 */
import { parseCode } from "./parse";
import { evaluate, PolicyRuntimeError, toText, type StepBudget } from "./interpret";
import { HostError, type HostObject, type MutableDictionary, type Value } from "./host";

/** 2024-01-31T10:20:30.456Z: the end of a month, to exercise AddMonths and friends. */
export const FIXED_NOW = new Date(Date.UTC(2024, 0, 31, 10, 20, 30, 456));

function dictionary(typeName: string, entries: Map<string, Value>, caseInsensitive = false): MutableDictionary {
  const key = (k: string): string => (caseInsensitive ? k.toLowerCase() : k);
  const find = (k: Value): Value | undefined => (typeof k === "string" ? entries.get(key(k)) : undefined);
  return {
    typeName,
    get: (name) => (name === "Count" ? entries.size : name === "Keys" ? [...entries.keys()] : undefined),
    call: (name, args, typeArgs) => {
      if (name === "ContainsKey") return typeof args[0] === "string" && entries.has(key(args[0]));
      if (name === "GetValueOrDefault") {
        const v = find(args[0] ?? null);
        if (v === undefined) return args[1] ?? (typeArgs?.[0] === "int" ? 0 : null);
        return v;
      }
      return undefined;
    },
    index: (k) => {
      const v = find(k);
      if (v === undefined) throw new HostError("KeyNotFoundException", `The given key '${String(k)}' was not present in the dictionary.`);
      return v;
    },
    set: (name, value) => {
      entries.set(key(name), value);
    },
    toString: () => typeName,
  };
}

function object(typeName: string, props: Record<string, Value>, methods: Record<string, (args: readonly Value[]) => Value> = {}): HostObject {
  return {
    typeName,
    get: (name) => (Object.hasOwn(props, name) ? props[name] : undefined),
    call: (name, args) => (Object.hasOwn(methods, name) ? methods[name]!(args) : undefined),
    toString: () => typeName,
  };
}

export interface FakeContext {
  readonly context: HostObject;
  readonly variables: Map<string, Value>;
}

export function makeContext(vars: Record<string, Value> = {}): FakeContext {
  const variables = new Map<string, Value>(Object.entries(vars));
  const headers = new Map<string, Value>([
    ["authorization", "Bearer abc"],
    ["x-client-id", "client-7"],
  ]);
  const certificate = object(
    "X509Certificate2",
    {
      Thumbprint: "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678",
      Subject: "CN=client.example.com, O=Contoso",
      SubjectName: object("X500DistinguishedName", { Name: "CN=client.example.com, O=Contoso" }),
      NotAfter: new Date(Date.UTC(2024, 2, 1)),
      NotBefore: new Date(Date.UTC(2023, 2, 1)),
    },
    {
      GetNameInfo: ([type, forIssuer]) => (type === "SimpleName" ? (forIssuer === true ? "Contoso CA" : "client.example.com") : type === "DnsName" ? "client.example.com" : null),
      Verify: () => true,
    },
  );
  const request = object("IRequest", {
    Method: "GET",
    Headers: dictionary("IReadOnlyDictionary`2", headers, true),
    Certificate: certificate,
    IpAddress: "203.0.113.9",
  });
  const context = object("IProxyRequestContext", {
    Timestamp: FIXED_NOW,
    Variables: dictionary("IReadOnlyDictionary`2", variables),
    Request: request,
    RequestId: "00000000-0000-0000-0000-000000000001",
    Empty: object("IEmpty", {}),
    Throws: null,
  }, {
    Fail: () => {
      throw new HostError("HostFailure", "the host refused");
    },
  });
  return { context, variables };
}

/** Parses (throwing on parse errors) and evaluates source against a fresh fake context. */
export function run(source: string, budget: StepBudget = { remaining: 100_000 }, ctx: FakeContext = makeContext()): Value {
  const parsed = parseCode(source, "test.xml", [1, 1]);
  if (!parsed.ok) throw new Error(`parse failed: ${parsed.errors.map((e) => `${e.line}:${e.col} ${e.message}`).join("; ")}`);
  return evaluate(parsed.code, { context: ctx.context }, budget);
}

/** run() then toText(). */
export function runText(source: string, ctx?: FakeContext): string {
  return toText(run(source, undefined, ctx));
}

/** The PolicyRuntimeError `source` fails with; throws when it does not fail. */
export function failure(source: string): PolicyRuntimeError {
  try {
    run(source);
  } catch (e) {
    if (e instanceof PolicyRuntimeError) return e;
    throw e;
  }
  throw new Error(`${source}: expected a PolicyRuntimeError`);
}

/** The .NET exception name `source` fails with, or `none` when it runs through. */
export function failureReason(source: string): string {
  try {
    run(source);
  } catch (e) {
    if (e instanceof PolicyRuntimeError) return e.reason;
    throw e;
  }
  return "none";
}
