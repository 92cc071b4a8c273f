/**
 * The deployment's configuration, read from wrangler vars and secrets once per isolate.
 *
 * Contract: pure — `parseConfig(env)` returns the typed Config or every problem found. A bad
 * configuration fails the first request with 503 `configuration_invalid` (and says why in the log), never a
 * silently weaker gateway. Notably: a header source enabled without TERMINATOR_SECRET is an error — with no
 * proof its headers could come from anyone, and an address allow-list alone is no proof in every runtime
 * certgate documents (see the check below). So is a binding that looks like one of certgate's variables and is
 * not (`REVOCATON`, `CERT_SOURCE`): ignoring it would leave the intended setting at its default (see
 * `unknownVariables`).
 */
import { createSources, ALL_CERTIFICATE_HEADERS } from "./cert/sources/registry";
import type { CertificateSource, SourceOptions } from "./cert/sources/source";
import { closestName } from "./edit-distance";
import { GATEWAY_BINDINGS, type Env } from "./env";
import { DEFAULT_IDENTITY_FIELDS, IDENTITY_FIELDS, type IdentityField, type IdentityHeaderSpec } from "./forward/identity";
import { parseAddressList, type AddressRange } from "./http/addresses";
import {
  CLIENT_CERTIFICATE_FAMILIES, DEFAULT_IDENTITY_HEADER_PREFIX, DEFAULT_TERMINATOR_SECRET_HEADER, EMITTED, FORWARDING_FAMILIES,
  TRACE_SECRET_HEADER, headerMatcher, parseStripHeaders, type HeaderMatcher,
} from "./http/header-names";
import type { RevocationMode, ValidationOptions } from "./pki/validate";
import type { CertificateProfile } from "./pki/profile";
import { err, ok, type Result } from "./result";

export interface Config {
  readonly sources: readonly CertificateSource[];
  /**
   * Header names certgate owns (http/header-names.ts): every certificate-carrying header of every known source
   * format (under its configured name too), RFC 9440's, the identity prefix, the terminator and trace secrets.
   * Stripped from every request, and a policy's set-header cannot write them.
   */
  readonly ownedHeaders: HeaderMatcher;
  /** The client-certificate header families plus STRIP_HEADERS: stripped from every request (policies may set them). */
  readonly strippedHeaders: HeaderMatcher;
  /** Client address and scheme headers: passed on only from the authenticated terminator, in their `-` spelling. */
  readonly forwardingHeaders: HeaderMatcher;
  readonly terminator: {
    readonly secret: string | null;
    readonly secretHeader: string;
    readonly addresses: readonly AddressRange[] | null;
    /** A certificate header from an unauthenticated peer is a 400 instead of being ignored. */
    readonly rejectUntrustedHeaders: boolean;
  };
  readonly origin: { readonly url: URL | null; readonly timeoutMs: number };
  readonly requireCertificate: boolean;
  readonly trustStore: string;
  readonly validation: ValidationOptions;
  readonly denyStatus: number;
  /** IDENTITY_HEADERS and IDENTITY_HEADER_PREFIX: the identity headers sent to the origin. */
  readonly identityHeaders: IdentityHeaderSpec;
  readonly trustRefreshMs: number;
  readonly kvTimeoutMs: number;
  readonly problemTypeBase: string;
  /** TRACE_SECRET: a request carrying it in TRACE_SECRET_HEADER gets the policy trace back (null: never). */
  readonly traceSecret: string | null;
  /** LOG_REQUESTS: which requests get their one `request` log line. */
  readonly logRequests: "all" | "denied" | "off";
  /** SERVER_TIMING: answer with a Server-Timing header (validation, origin and total time). */
  readonly serverTiming: boolean;
}

export { TRACE_HEADER, TRACE_SECRET_HEADER } from "./http/header-names";

const DEFAULT_SOURCES = "cloudflare";

const cache = new WeakMap<object, Result<Config, string[]>>();

/** What else the deployment may bind besides certgate's own variables. */
export interface ConfigOptions {
  /**
   * Binding names the policies read by name, which may look like certgate's: the bundle's run-time named
   * values (Worker secrets) and its `authentication-certificate` ids (mtls_certificates bindings).
   */
  readonly policyBindings?: ReadonlySet<string>;
}

/** The parsed configuration of `env`, computed once per env object (once per isolate). */
export function configOf(env: Env, options: ConfigOptions = {}): Result<Config, string[]> {
  let c = cache.get(env);
  if (!c) {
    c = parseConfig(env, options);
    cache.set(env, c);
  }
  return c;
}

/**
 * The first word of certgate's variable names (`CERT_`, `TERMINATOR_`, …) and its own `CERTGATE_`: a binding
 * starting with one of these is taken for a certgate variable.
 */
export const VARIABLE_PREFIXES: readonly string[] = [...new Set([
  "CERTGATE_",
  // AZURE_ is the Azure SDKs' namespace, not certgate's: other AZURE_* secrets (named values) are not typos.
  ...[...GATEWAY_BINDINGS].filter((n) => n.includes("_") && !n.startsWith("AZURE_")).map((n) => n.slice(0, n.indexOf("_") + 1)),
  ...[...GATEWAY_BINDINGS].filter((n) => !n.includes("_") && n.length >= 8).map((n) => `${n}_`),
])].sort();

/**
 * Bindings of `env` that look like certgate variables and are not one: a name within a small edit distance of
 * a known one (`REVOCATON`), or starting with one of VARIABLE_PREFIXES (`CERT_SOURCE`, `TRUST_STORES`), in any
 * case. Each problem names the binding and, when there is one, the variable it was probably meant to be.
 * Names in `allowed` (the policies' own bindings) are not taken for typos.
 */
export function unknownVariables(env: object, allowed: ReadonlySet<string> = new Set()): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(env).sort()) {
    if (GATEWAY_BINDINGS.has(name) || allowed.has(name)) continue;
    const near = closestName(name, GATEWAY_BINDINGS);
    const upper = name.toUpperCase();
    if (near === null && !VARIABLE_PREFIXES.some((p) => upper.startsWith(p))) continue;
    problems.push(`${name} is not a certgate variable${near ? `: did you mean ${near}?` : ""} (docs/configuration.md lists them; ` +
      "a Worker secret or binding a policy reads by name is allowed when the compiled policies name it)");
  }
  return problems;
}

/** Vars are strings (CERT_SOURCE_HEADERS may be a JSON object); a TOML `true` or `5` is a mistake to name. */
function nonStringVariables(env: Env): string[] {
  const problems: string[] = [];
  const values = env as unknown as Record<string, unknown>;
  for (const name of GATEWAY_BINDINGS) {
    const v = values[name];
    // TRUST and POLICY_CACHE (KV), ORIGIN (service), COUNTERS (Durable Object) are bindings, not vars.
    if (v === undefined || typeof v === "string" || name === "TRUST" || name === "ORIGIN" || name === "COUNTERS" || name === "POLICY_CACHE") continue;
    if (name === "CERT_SOURCE_HEADERS" && typeof v === "object" && v !== null) continue;
    problems.push(`${name} must be a string (in wrangler.toml, quote it: ${name} = "${String(v)}")`);
  }
  return problems;
}

function bool(name: string, value: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (value === undefined || value === "") return fallback;
  const v = value.trim().toLowerCase();
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  problems.push(`${name} must be true or false, not ${JSON.stringify(value)}`);
  return fallback;
}

function int(name: string, value: string | undefined, fallback: number, min: number, max: number, problems: string[]): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`);
    return fallback;
  }
  return n;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses the configuration; all problems are reported together. */
export function parseConfig(env: Env, options: ConfigOptions = {}): Result<Config, string[]> {
  const problems: string[] = [...unknownVariables(env, options.policyBindings), ...nonStringVariables(env)];
  // Past this point every var read is a string or absent (a wrong type is a problem above, then ignored).
  if (problems.length > 0) env = stringVariablesOf(env);

  let headerOverrides: Record<string, string> = {};
  const rawHeaders = env.CERT_SOURCE_HEADERS;
  if (typeof rawHeaders === "string" && rawHeaders.trim() !== "") {
    try {
      const parsed: unknown = JSON.parse(rawHeaders);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      headerOverrides = parsed as Record<string, string>;
    } catch {
      problems.push("CERT_SOURCE_HEADERS must be a JSON object of source name to header name");
    }
  } else if (typeof rawHeaders === "object" && rawHeaders !== null) {
    headerOverrides = rawHeaders;
  }
  const sourceOptions: Record<string, SourceOptions> = {};
  for (const [name, header] of Object.entries(headerOverrides)) {
    if (typeof header !== "string" || !HEADER_NAME.test(header)) problems.push(`CERT_SOURCE_HEADERS.${name} is not a valid header name`);
    else sourceOptions[name] = { header };
  }
  const names = (env.CERT_SOURCES ?? DEFAULT_SOURCES).split(",").map((s) => s.trim()).filter(Boolean);
  const sources = createSources(names, sourceOptions);
  if (!sources.ok) problems.push(`CERT_SOURCES: ${sources.error}`);
  for (const name of Object.keys(sourceOptions)) {
    if (!names.includes(name)) problems.push(`CERT_SOURCE_HEADERS names ${name}, which is not in CERT_SOURCES`);
  }

  const secret = env.TERMINATOR_SECRET && env.TERMINATOR_SECRET.length > 0 ? env.TERMINATOR_SECRET : null;
  if (secret !== null && secret.length < 16) problems.push("TERMINATOR_SECRET must be at least 16 characters");
  const secretHeader = (env.TERMINATOR_SECRET_HEADER ?? DEFAULT_TERMINATOR_SECRET_HEADER).trim();
  if (!HEADER_NAME.test(secretHeader)) problems.push("TERMINATOR_SECRET_HEADER is not a valid header name");
  let addresses: AddressRange[] | null = null;
  if (env.TERMINATOR_ADDRESSES && env.TERMINATOR_ADDRESSES.trim() !== "") {
    const parsed = parseAddressList(env.TERMINATOR_ADDRESSES);
    if (!parsed.ok) problems.push(`TERMINATOR_ADDRESSES: ${parsed.error}`);
    else addresses = parsed.value;
  }
  // The address alone proves nothing off Cloudflare's edge: the peer address is CF-Connecting-IP, which the
  // edge overwrites but `wrangler dev` / miniflare and a self-hosted workerd take from the client, and no
  // runtime signal tells the two apart (request.cf is emulated locally). So a header source always needs the
  // secret; TERMINATOR_ADDRESSES only narrows it further (both must hold).
  if (sources.ok && sources.value.some((s) => s.fromTerminator) && secret === null) {
    problems.push(addresses === null
      ? "a header certificate source is enabled but TERMINATOR_SECRET is not set: its headers could come from anyone"
      : "a header certificate source is enabled with TERMINATOR_ADDRESSES but no TERMINATOR_SECRET: the address (CF-Connecting-IP) can be forged wherever Cloudflare's edge does not set it (wrangler dev, self-hosted workerd), so the secret is required; the address list only narrows it");
  }

  let originUrl: URL | null = null;
  if (env.ORIGIN_URL) {
    try {
      originUrl = new URL(env.ORIGIN_URL);
      if (originUrl.protocol !== "https:" && originUrl.protocol !== "http:") problems.push("ORIGIN_URL must be http(s)");
    } catch {
      problems.push("ORIGIN_URL is not a URL");
    }
  } else if (!env.ORIGIN) {
    problems.push("ORIGIN_URL is not set");
  }

  const revocation = (env.REVOCATION ?? "soft").trim() as RevocationMode;
  if (!["off", "soft", "strict"].includes(revocation)) problems.push("REVOCATION must be off, soft or strict");
  const denyStatus = int("DENY_STATUS", env.DENY_STATUS, 403, 400, 499, problems);
  const prefix = env.IDENTITY_HEADER_PREFIX ?? DEFAULT_IDENTITY_HEADER_PREFIX;
  if (!HEADER_NAME.test(prefix)) problems.push("IDENTITY_HEADER_PREFIX is not a valid header name prefix");
  const identityFields = parseIdentityFields(env.IDENTITY_HEADERS, problems);
  const trustStore = env.TRUST_STORE ?? "default";
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(trustStore)) problems.push("TRUST_STORE must be 1–64 characters of A–Z, a–z, 0–9, . _ -");

  const traceSecret = env.TRACE_SECRET && env.TRACE_SECRET.length > 0 ? env.TRACE_SECRET : null;
  if (traceSecret !== null && traceSecret.length < 16) problems.push("TRACE_SECRET must be at least 16 characters");

  const logRequests = (env.LOG_REQUESTS ?? "all").trim();
  function certProfile(value: string | undefined, out: string[]): CertificateProfile {
    const v = (value ?? "strict").trim();
    if (v === "strict" || v === "compatible") return v;
    out.push(`CERT_PROFILE must be strict or compatible, not "${v}"`);
    return "strict";
  }
  if (logRequests !== "all" && logRequests !== "denied" && logRequests !== "off") problems.push("LOG_REQUESTS must be all, denied or off");

  const extraStripped = parseStripHeaders(env.STRIP_HEADERS);
  if (!extraStripped.ok) problems.push(extraStripped.error);

  const validation: ValidationOptions = {
    revocation,
    requireClientAuthEku: bool("REQUIRE_CLIENT_AUTH_EKU", env.REQUIRE_CLIENT_AUTH_EKU, true, problems),
    allowSha1: bool("ALLOW_SHA1", env.ALLOW_SHA1, false, problems),
    minRsaBits: int("MIN_RSA_BITS", env.MIN_RSA_BITS, 2048, 1024, 16384, problems),
    allowPartialChain: bool("ALLOW_PARTIAL_CHAIN", env.ALLOW_PARTIAL_CHAIN, false, problems),
    profile: certProfile(env.CERT_PROFILE, problems),
  };
  const config: Config = {
    sources: sources.ok ? sources.value : [],
    ownedHeaders: headerMatcher([
      ...ALL_CERTIFICATE_HEADERS(sourceOptions), ...EMITTED, secretHeader, TRACE_SECRET_HEADER, `${prefix}*`,
    ]),
    strippedHeaders: headerMatcher([...CLIENT_CERTIFICATE_FAMILIES, ...(extraStripped.ok ? extraStripped.value : [])]),
    forwardingHeaders: headerMatcher(FORWARDING_FAMILIES),
    terminator: {
      secret,
      secretHeader: secretHeader.toLowerCase(),
      addresses,
      rejectUntrustedHeaders: bool("REJECT_UNTRUSTED_CERT_HEADERS", env.REJECT_UNTRUSTED_CERT_HEADERS, false, problems),
    },
    origin: { url: originUrl, timeoutMs: int("ORIGIN_TIMEOUT_MS", env.ORIGIN_TIMEOUT_MS, 30_000, 1, 600_000, problems) },
    requireCertificate: bool("REQUIRE_CERTIFICATE", env.REQUIRE_CERTIFICATE, true, problems),
    trustStore,
    validation,
    denyStatus,
    identityHeaders: { prefix, fields: identityFields },
    trustRefreshMs: int("TRUST_REFRESH_SECONDS", env.TRUST_REFRESH_SECONDS, 15, 0, 3600, problems) * 1000,
    kvTimeoutMs: int("KV_TIMEOUT_MS", env.KV_TIMEOUT_MS, 2000, 1, 60_000, problems),
    problemTypeBase: env.PROBLEM_TYPE_BASE ?? "urn:certgate:problem:",
    traceSecret,
    logRequests: logRequests as Config["logRequests"],
    serverTiming: bool("SERVER_TIMING", env.SERVER_TIMING, false, problems),
  };
  return problems.length > 0 ? err(problems) : ok(config);
}

/** `env` without its non-string vars (reported by nonStringVariables), so parsing can go on to find the rest. */
function stringVariablesOf(env: Env): Env {
  const copy: Record<string, unknown> = { ...env };
  for (const name of GATEWAY_BINDINGS) {
    const v = copy[name];
    if (v !== undefined && typeof v !== "string" && name !== "TRUST" && name !== "ORIGIN" && !(name === "CERT_SOURCE_HEADERS" && typeof v === "object")) delete copy[name];
  }
  return copy as unknown as Env;
}

/** IDENTITY_HEADERS: a comma-separated subset of IDENTITY_FIELDS, "none", or unset for the default set. */
function parseIdentityFields(value: string | undefined, problems: string[]): ReadonlySet<IdentityField> {
  if (value === undefined || value.trim() === "") return new Set(DEFAULT_IDENTITY_FIELDS);
  if (value.trim() === "none") return new Set();
  const fields = new Set<IdentityField>();
  for (const raw of value.split(",")) {
    const f = raw.trim().toLowerCase();
    if ((IDENTITY_FIELDS as readonly string[]).includes(f)) fields.add(f as IdentityField);
    else problems.push(`IDENTITY_HEADERS: unknown header "${raw.trim()}" (known: ${IDENTITY_FIELDS.join(", ")}, or none)`);
  }
  return fields;
}
