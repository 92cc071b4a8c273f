/**
 * policy CLI — command-line parsing. Pure: argv in, typed options or every usage error out; no I/O, no clock.
 *
 * Rules: every certgate tool's (scripts/lib/cli.ts); explain takes no operands. `NAME=VALUE` options split at
 * the first "=".
 */
import { parseIsoTime } from "../cert/args";
import { dispatch, FLAG, parseOptions, REPEATABLE, VALUE, type OptionTable } from "../lib/cli";
import { err, ok, type Result } from "../../src/result";
import { closestName } from "../../src/edit-distance";
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
  /** Stub for send-request: the answer for a response variable (VAR=STATUS[:BODY]). */
  readonly sendResponses: ReadonlyMap<string, { readonly status: number; readonly body: string }>;
  /** Stub for cache-lookup: every lookup hits with a 200 of this body (null: the stub cache is empty, every lookup misses). */
  readonly cachedResponse: string | null;
  /** Stub for authentication-managed-identity: the token every such step gets (null: not configured, 503). */
  readonly managedIdentityToken: string | null;
  readonly json: boolean;
}

export type Command =
  | { readonly command: "help"; readonly topic: "main" | "explain" }
  | { readonly command: "explain"; readonly options: ExplainOptions };

export interface UsageError {
  readonly messages: readonly string[];
  readonly topic: "main" | "explain";
}

const EXPLAIN_OPTIONS: OptionTable = {
  json: FLAG,
  policies: VALUE,
  policy: VALUE,
  values: REPEATABLE,
  "named-value": REPEATABLE,
  ca: REPEATABLE,
  untrusted: REPEATABLE,
  crl: REPEATABLE,
  registered: REPEATABLE,
  store: REPEATABLE,
  pki: VALUE,
  var: REPEATABLE,
  cert: VALUE,
  chain: VALUE,
  method: VALUE,
  url: VALUE,
  header: REPEATABLE,
  body: VALUE,
  at: VALUE,
  "origin-status": VALUE,
  "counter-used": VALUE,
  cache: REPEATABLE,
  "send-response": REPEATABLE,
  "cached-response": VALUE,
  "managed-identity-token": VALUE,
};

/** The host of a request given as a path (`--url /hello`). */
export const DEFAULT_HOST = "https://gateway.example";

/** Variables explain does not take: bindings, not settings (the trust material comes from files). */
const NOT_VARS = new Set(["TRUST", "ORIGIN"]);
const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_NAME = METHOD;

/** Parses the arguments after the program name. */
export function parseCommandLine(argv: readonly string[]): Result<Command, UsageError> {
  const d = dispatch(argv, ["explain"] as const);
  switch (d.kind) {
    case "error":
      return err({ messages: [d.message], topic: "main" });
    case "help":
      return ok({ command: "help", topic: d.topic });
    case "command":
      return parseExplain(d.rest);
  }
}

function parseExplain(argv: readonly string[]): Result<Command, UsageError> {
  const args = parseOptions(argv, EXPLAIN_OPTIONS);
  if (args.help) return ok({ command: "help", topic: "explain" });
  const { values, flags } = args;
  const messages = [...args.errors];
  for (const operand of args.operands) messages.push(`unexpected argument ${JSON.stringify(operand)} (options start with --)`);

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
  const vars = pairs("var", "NAME=VALUE (a Worker variable, docs/configuration.md)", (key) => {
    if (GATEWAY_BINDINGS.has(key) && !NOT_VARS.has(key)) return null;
    const near = NOT_VARS.has(key) ? null : closestName(key, [...GATEWAY_BINDINGS].filter((n) => !NOT_VARS.has(n)));
    return `not a certgate variable${near ? ` (did you mean ${near}?)` : ""} (docs/configuration.md lists them; named values go in --named-value)`;
  });
  const namedValues = pairs("named-value", "NAME=VALUE");
  const cache = pairs("cache", "KEY=VALUE");
  const registered = pairs("registered", "ID=CERT.pem");
  const sendResponses = new Map<string, { status: number; body: string }>();
  for (const [variable, answer] of pairs("send-response", "VAR=STATUS[:BODY]")) {
    const m = /^(\d{3})(?::([\s\S]*))?$/.exec(answer);
    const status = m ? Number(m[1]) : NaN;
    if (!(status >= 200 && status <= 599)) messages.push(`--send-response ${variable}: ${JSON.stringify(answer)} is not STATUS[:BODY] with a status from 200 to 599`);
    else sendResponses.set(variable, { status, body: m![2] ?? "" });
  }
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
      sendResponses,
      cachedResponse: one("cached-response"),
      managedIdentityToken: one("managed-identity-token"),
      json: flags.has("json"),
    },
  });
}

/** Fetch's method normalization (the Worker sees methods this way): only these six are uppercased. */
function normalizeMethod(method: string): string {
  const upper = method.toUpperCase();
  return ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"].includes(upper) ? upper : method;
}
