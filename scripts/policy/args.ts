/**
 * policy CLI — command-line parsing. Pure: argv in, typed options or every usage error out; no I/O, no clock.
 *
 * Rules (the cert CLI's, scripts/cert/args.ts): `--name=value` and `--name value`; a separate value may not
 * start with "-" (use `--name=-value`); a single-valued option given twice, an unknown option, a value for a
 * flag or a missing required option is an error; every error is collected, so one run shows everything to fix.
 * `NAME=VALUE` options split at the first "=".
 */
import { parseIsoTime } from "../cert/args";
import { err, ok, type Result } from "../../src/result";
import { GATEWAY_BINDINGS } from "../../src/env";

/** Options of `policy explain`. */
export interface ExplainOptions {
  /** A policies folder, or one document applied as the only scope (exactly one is set). */
  readonly policies: string | null;
  readonly policy: string | null;
  /** Named-value files (values.json format), in order; later ones override earlier ones. */
  readonly values: readonly string[];
  /** `--named-value NAME=VALUE`: compile-time values, or run-time values of names declared secret. */
  readonly namedValues: ReadonlyMap<string, string>;
  /** Trust anchors of the deployment store; empty: the demo PKI (.dev/pki). */
  readonly anchors: readonly string[];
  readonly untrusted: readonly string[];
  readonly crls: readonly string[];
  /** Registered certificates: id → file. */
  readonly registered: ReadonlyMap<string, string>;
  /** Other trust stores (validate-client-certificate trust-store="NAME"): name → file. */
  readonly stores: ReadonlyMap<string, string>;
  /** The demo PKI folder used when no --ca is given. */
  readonly pkiDir: string;
  /** Worker variables (docs/configuration.md), over explain's defaults. */
  readonly vars: ReadonlyMap<string, string>;
  /** The request. */
  readonly cert: string | null;
  readonly chain: string | null;
  readonly method: string;
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string | null;
  /** Request time; null = now. */
  readonly at: Date | null;
  /** Status of the synthetic origin response outbound runs on. */
  readonly originStatus: number;
  /** Stub for rate-limit-by-key / quota-by-key: calls every counter already holds in its window (null: 0). */
  readonly counterUsed: number;
  /** Stub for cache-lookup-value: the entries the value cache holds (key → text). */
  readonly cache: ReadonlyMap<string, string>;
  readonly json: boolean;
}

export type Command =
  | { readonly command: "help"; readonly topic: "main" | "explain" }
  | { readonly command: "explain"; readonly options: ExplainOptions };

export interface UsageError {
  readonly messages: readonly string[];
  readonly topic: "main" | "explain";
}

type OptionKind = { readonly kind: "flag" } | { readonly kind: "value"; readonly repeatable: boolean };

const EXPLAIN_OPTIONS: Readonly<Record<string, OptionKind>> = {
  help: { kind: "flag" },
  h: { kind: "flag" },
  json: { kind: "flag" },
  policies: { kind: "value", repeatable: false },
  policy: { kind: "value", repeatable: false },
  values: { kind: "value", repeatable: true },
  "named-value": { kind: "value", repeatable: true },
  ca: { kind: "value", repeatable: true },
  untrusted: { kind: "value", repeatable: true },
  crl: { kind: "value", repeatable: true },
  registered: { kind: "value", repeatable: true },
  store: { kind: "value", repeatable: true },
  pki: { kind: "value", repeatable: false },
  var: { kind: "value", repeatable: true },
  cert: { kind: "value", repeatable: false },
  chain: { kind: "value", repeatable: false },
  method: { kind: "value", repeatable: false },
  url: { kind: "value", repeatable: false },
  header: { kind: "value", repeatable: true },
  body: { kind: "value", repeatable: false },
  at: { kind: "value", repeatable: false },
  "origin-status": { kind: "value", repeatable: false },
  "counter-used": { kind: "value", repeatable: false },
  cache: { kind: "value", repeatable: true },
};

/** The host of a request given as a path (`--url /hello`). */
export const DEFAULT_HOST = "https://gateway.example";

/** Variables explain does not take: bindings, not settings (the trust material comes from files). */
const NOT_VARS = new Set(["TRUST", "ORIGIN"]);
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_NAME = METHOD;

/** Parses the arguments after the program name. */
export function parseCommandLine(argv: readonly string[]): Result<Command, UsageError> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      return err({ messages: ["no command given"], topic: "main" });
    case "-h":
    case "--help":
      return ok({ command: "help", topic: "main" });
    case "help":
      if (rest[0] === undefined) return ok({ command: "help", topic: "main" });
      if (rest[0] === "explain") return ok({ command: "help", topic: "explain" });
      return err({ messages: [`unknown command "${rest[0]}"`], topic: "main" });
    case "explain":
      return parseExplain(rest);
    default:
      return err({ messages: [first.startsWith("-") ? `unknown option ${first} (a command comes first)` : `unknown command "${first}"`], topic: "main" });
  }
}

function parseExplain(argv: readonly string[]): Result<Command, UsageError> {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const messages: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      messages.push(`unexpected argument ${JSON.stringify(arg)} (options start with --)`);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(arg.startsWith("--") ? 2 : 1, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const spec = EXPLAIN_OPTIONS[name];
    if (!spec || (name.length === 1) === arg.startsWith("--")) {
      messages.push(`unknown option ${eq === -1 ? arg : arg.slice(0, eq)}`);
      continue;
    }
    if (spec.kind === "flag") {
      if (inline !== undefined) messages.push(`--${name} takes no value`);
      else flags.add(name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("-")) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value === "") {
      messages.push(`--${name} needs a value`);
      continue;
    }
    const list = values.get(name);
    if (!list) values.set(name, [value]);
    else if (spec.repeatable) list.push(value);
    else messages.push(`--${name} given more than once`);
  }
  if (flags.has("help") || flags.has("h")) return ok({ command: "help", topic: "explain" });

  const one = (name: string) => values.get(name)?.[0] ?? null;
  const all = (name: string) => values.get(name) ?? [];
  const pairs = (name: string, what: string, check?: (key: string) => string | null) => {
    const out = new Map<string, string>();
    for (const v of all(name)) {
      const eq = v.indexOf("=");
      if (eq <= 0) {
        messages.push(`--${name} ${JSON.stringify(v)}: expected ${what}`);
        continue;
      }
      const key = v.slice(0, eq);
      const problem = check?.(key) ?? null;
      if (problem !== null) messages.push(`--${name} ${key}: ${problem}`);
      else if (out.has(key)) messages.push(`--${name} ${key} given more than once`);
      else out.set(key, v.slice(eq + 1));
    }
    return out;
  };

  const policies = one("policies");
  const policy = one("policy");
  if (policies !== null && policy !== null) messages.push("--policies and --policy exclude each other");

  const urlText = one("url");
  let url: URL | null = null;
  if (urlText === null) messages.push("--url URL is required (an absolute http(s) URL, or a path such as /hello)");
  else {
    try {
      url = new URL(urlText.startsWith("/") ? `${DEFAULT_HOST}${urlText}` : urlText);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        messages.push(`--url: ${JSON.stringify(urlText)} is not an http(s) URL`);
        url = null;
      }
    } catch {
      messages.push(`--url: ${JSON.stringify(urlText)} is not a URL`);
    }
  }
  const method = one("method") ?? "GET";
  if (!METHOD.test(method)) messages.push(`--method: ${JSON.stringify(method)} is not an HTTP method`);

  const headers: Array<[string, string]> = [];
  for (const h of all("header")) {
    const colon = h.indexOf(":");
    const name = colon === -1 ? "" : h.slice(0, colon).trim();
    if (!HEADER_NAME.test(name)) messages.push(`--header ${JSON.stringify(h)}: expected 'Name: value'`);
    else headers.push([name, h.slice(colon + 1).trim()]);
  }

  let at: Date | null = null;
  const atText = one("at");
  if (atText !== null) {
    at = parseIsoTime(atText);
    if (!at) messages.push(`--at: "${atText}" is not an ISO 8601 time (e.g. 2026-06-01 or 2026-06-01T12:00:00Z)`);
  }
  let originStatus = 200;
  const statusText = one("origin-status");
  if (statusText !== null) {
    originStatus = /^\d{3}$/.test(statusText) ? Number(statusText) : NaN;
    if (!(originStatus >= 200 && originStatus <= 599)) messages.push(`--origin-status: ${JSON.stringify(statusText)} is not a status from 200 to 599`);
  }
  let counterUsed = 0;
  const usedText = one("counter-used");
  if (usedText !== null) {
    counterUsed = /^\d{1,12}$/.test(usedText) ? Number(usedText) : NaN;
    if (Number.isNaN(counterUsed)) messages.push(`--counter-used: ${JSON.stringify(usedText)} is not a whole number`);
  }
  const vars = pairs("var", "NAME=VALUE (a Worker variable, docs/configuration.md)", (key) =>
    !GATEWAY_BINDINGS.has(key) || NOT_VARS.has(key) ? "not a certgate variable (docs/configuration.md lists them; named values go in --named-value)" : null);
  const namedValues = pairs("named-value", "NAME=VALUE");
  const cache = pairs("cache", "KEY=VALUE");
  const registered = pairs("registered", "ID=CERT.pem");
  const stores = pairs("store", "NAME=FILE.pem", (key) => (/^[A-Za-z0-9._-]{1,64}$/.test(key) ? null : "a store name is 1–64 of A–Z a–z 0–9 . _ -"));

  if (messages.length > 0 || url === null) return err({ messages, topic: "explain" });
  return ok({
    command: "explain",
    options: {
      policies: policy === null ? (policies ?? "policies") : null,
      policy,
      values: all("values"),
      namedValues,
      anchors: all("ca"),
      untrusted: all("untrusted"),
      crls: all("crl"),
      registered,
      stores,
      pkiDir: one("pki") ?? ".dev/pki",
      vars,
      cert: one("cert"),
      chain: one("chain"),
      method: normalizeMethod(method),
      url,
      headers,
      body: one("body"),
      at,
      originStatus,
      counterUsed,
      cache,
      json: flags.has("json"),
    },
  });
}

/** Fetch's method normalization (the Worker sees methods this way): only these six are uppercased. */
function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(upper) ? upper : method;
}
