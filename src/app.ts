/**
 * The request path, in order:
 *   config → policy bundle → trust boundary → certificate sources → validation → policies → origin
 *                                                                           ↘ deny → http/problem (RFC 9457)
 * Each stage is a function that sets one typed variable (env.ts) or throws a DenyException; the one route
 * calls them in order, and `app.onError` is the one place an error becomes a response. The policies stage
 * (policy/run.ts) runs the compiled program of the matched operation, and calls the origin itself between
 * backend and outbound.
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { describeCertificate } from "./cert/model";
import { counterCall } from "./policy/state/counters";
import { AzureTokenCache, azureCredentialFrom } from "./policy/managed-identity";
import { openIdKeySource } from "./policy/openid";
import { workersValueCache } from "./policy/value-cache";
import { cacheApiStore, kvStore, textResponseCache, textValueCache } from "./policy/response-cache";
import type { PresentedCertificate } from "./cert/sources/source";
import { configOf, TRACE_HEADER, TRACE_SECRET_HEADER, type Config } from "./config";
import { GATEWAY_BINDINGS, type AppEnv, type Env, type Verification } from "./env";
import { gatewayError, type GatewayError } from "./errors";
import { isReserved, upstreamHeaders } from "./forward/headers";
import { identityHeaders } from "./forward/identity";
import { sendToOrigin } from "./forward/origin";
import { problemResponse } from "./http/problem";
import { secretsEqual, terminatorCheck } from "./http/trust-boundary";
import { log, logRequest, newRequestRecord, serverTiming, type RequestRecord } from "./log";
import { TrustStore } from "./pki/trust-store";
import { CertificateVerifier } from "./pki/verifier";
import { equalBytes } from "./bytes";
import { policyBindingNames, prepareBundle, rateLimitingBindings, selectProgram } from "./policy/bundle";
import { DEFAULT_BUNDLE } from "./policy/built-bundle";
import { traceHeader } from "./policy/trace-header";
import { runProgram, type RunServices } from "./policy/run";
import type { PolicyBundle } from "./policy/schema";
import { err, ok } from "./result";

/** A denial or failure on the request path; turned into problem+json by onError. */
export class DenyException extends Error {
  constructor(
    readonly error: GatewayError,
    /** Overrides the code's status (a policy's failed-validation-httpcode). */
    readonly status?: number,
    /** Extra response headers (a policy's on-error set-header, the trace). */
    readonly headers?: Headers,
  ) {
    super(error.code);
  }
}

/** Isolate-wide state: one verifier (result cache) and one trust-store cache per env (one per isolate). */
const verifier = new CertificateVerifier();
const stores = new WeakMap<Env, TrustStore>();

function trustStoreOf(env: Env, config: Config): TrustStore {
  let s = stores.get(env);
  if (!s) {
    s = new TrustStore(env.TRUST, { refreshMs: config.trustRefreshMs, kvTimeoutMs: config.kvTimeoutMs });
    stores.set(env, s);
  }
  return s;
}

export interface AppOptions {
  /** The compiled policy bundle (default: the one built into the Worker). Checked once, here. */
  readonly bundle?: PolicyBundle | unknown;
}

/**
 * Every problem of the deployment's configuration, as the first request would find it: the Worker entry logs
 * them at start-up (wrangler dev, a new isolate), not on the first request. (A bad bundle is logged by
 * createApp itself.)
 */
export function configurationProblems(env: Env, bundle: unknown = DEFAULT_BUNDLE): string[] {
  const policies = prepareBundle(bundle);
  const config = configOf(env, { policyBindings: policies.ok ? new Set([...policyBindingNames(policies.value), ...rateLimitingBindings(policies.value).keys()]) : new Set() });
  return config.ok ? [] : config.error;
}

export function createApp(options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // Compile once, evaluate per request: a bad bundle is found at startup and fails every request closed.
  const policies = prepareBundle(options.bundle ?? DEFAULT_BUNDLE);
  if (!policies.ok) log("error", "policy_bundle_invalid", { problems: policies.error });
  const configOptions = { policyBindings: policies.ok ? new Set([...policyBindingNames(policies.value), ...rateLimitingBindings(policies.value).keys()]) : new Set<string>() };

  // 1. Configuration, parsed once per isolate.
  const configure = (c: Context<AppEnv>): void => {
    const config = configOf(c.env, configOptions);
    if (!config.ok) {
      log("error", "configuration_invalid", { problems: config.error });
      throw new DenyException(gatewayError("configuration_invalid",
        "The gateway is misconfigured; its operator's log names the problem.", undefined, config.error.join("; ")));
    }
    c.set("config", config.value);
    c.set("now", new Date());
    if (!policies.ok) {
      log("error", "policy_bundle_invalid", { problems: policies.error.slice(0, 20) });
      throw new DenyException(gatewayError("policy_bundle_invalid", "The gateway's policies could not be loaded.", undefined, policies.error.join("; ")));
    }
  };

  // 2. Trust boundary: header sources count only from the authenticated terminator.
  const authenticate = (c: Context<AppEnv>): void => {
    const config = c.get("config");
    const failed = terminatorCheck(c.req.raw.headers, config);
    const trusted = failed === null;
    if (!trusted) {
      const present = config.sources.filter((s) => s.fromTerminator).flatMap((s) => s.headers).find((h) => c.req.raw.headers.has(h));
      if (present && config.terminator.rejectUntrustedHeaders) {
        throw new DenyException(gatewayError("certificate_header_untrusted",
          "A certificate header was sent by a client that is not the configured TLS terminator.", { header: present },
          `certificate header ${present} from a peer that failed the terminator check: ${failed}`));
      }
      // Ignored, which looks like "no certificate" to the client: the operator's log says why.
      if (present) (c.get("record").notes ??= []).push(`certificate header ${present} ignored: ${failed}`);
    }
    c.set("terminator", trusted);
  };

  // 3. Certificate sources, in configured order; two different certificates are ambiguous.
  const extract = (c: Context<AppEnv>): void => {
    const config = c.get("config");
    const raw = c.req.raw as Request & { cf?: unknown };
    // `cf` is materialized on access; only the cloudflare source reads it.
    const input = { headers: raw.headers, get cf() { return raw.cf; } };
    let found: PresentedCertificate | null = null;
    for (const source of config.sources) {
      if (source.fromTerminator && !c.get("terminator")) continue;
      const r = source.extract(input);
      if (r.kind === "none") continue;
      if (r.kind === "error") throw new DenyException({ ...r.error, context: { ...r.error.context, source: source.name } });
      if (found && !equalBytes(found.leaf, r.certificate.leaf)) {
        throw new DenyException(gatewayError("certificate_ambiguous", "Two certificate sources carry different client certificates.",
          { sources: [found.source, r.certificate.source] }));
      }
      found ??= r.certificate;
    }
    c.set("presented", found);
    if (found) c.get("record").source = found.source;
  };

  // 4. Validation against the configured trust store.
  const validate = async (c: Context<AppEnv>): Promise<void> => {
    const presented = c.get("presented");
    if (!presented) {
      c.set("verification", { status: "none" });
      return;
    }
    const config = c.get("config");
    const record = c.get("record");
    const started = Date.now();
    record.store = config.trustStore;
    const material = await trustStoreOf(c.env, config).material(config.trustStore);
    if (!material.ok) {
      log("error", "trust_store_unavailable", { store: config.trustStore, internal: material.error.internal });
      throw new DenyException(material.error);
    }
    const verdict = await verifier.verify(material.value, presented.leaf, presented.chain, c.get("now"), config.validation);
    const model = verdict.leaf ? await describeCertificate(verdict.leaf, verdict.leafSha256) : null;
    record.validateMs = Date.now() - started;
    record.cached = verdict.cached;
    record.sha256 = verdict.leafSha256;
    record.subject = model ? model.subject.rfc4514 : null;
    record.issuer = model ? model.issuer.rfc4514 : null;
    const verification: Verification = verdict.result.ok && model
      ? { status: "valid", path: verdict.result.value, model, presented }
      : { status: "invalid", error: verdict.result.ok ? gatewayError("internal_error", "no model") : verdict.result.error, leaf: verdict.leaf, model, presented };
    c.set("verification", verification);
  };

  // 5. Policies: the REQUIRE_CERTIFICATE floor, then the matched operation's program (which calls the origin).
  const runPolicies = async (c: Context<AppEnv>): Promise<Response> => {
    const config = c.get("config");
    const v = c.get("verification");
    if (config.requireCertificate && v.status === "invalid") throw new DenyException(v.error);
    if (config.requireCertificate && v.status === "none") {
      throw new DenyException(gatewayError("certificate_missing", "A client certificate is required."));
    }
    if (!policies.ok) throw new Error("unreachable: the bundle stage lets no request through");
    const raw = c.req.raw as Request & { cf?: { colo?: unknown } };
    const url = new URL(c.req.url);
    const tracing = config.traceSecret !== null && secretsEqual(c.req.header(TRACE_SECRET_HEADER) ?? "", config.traceSecret);
    const record = c.get("record");
    const requestIdOf = () => (record.requestId ??= crypto.randomUUID());
    const clientIp = raw.headers.get("cf-connecting-ip");
    const headers = upstreamHeaders(raw.headers, config, {}, {
      clientIp,
      proto: url.protocol.replace(":", ""),
      host: url.host,
      fromTerminator: c.get("terminator"),
    });
    const selection = selectProgram(policies.value, url, raw.method);
    record.operation = selection.program.key;
    const result = await runProgram(policies.value, selection, {
      method: raw.method,
      url,
      headers,
      body: raw.body,
      ipAddress: clientIp ?? "",
      // Read only when a policy or a log line asks for them (`request.cf` is materialized on access).
      get requestId() { return requestIdOf(); },
      get region() { return typeof raw.cf?.colo === "string" ? raw.cf.colo : ""; },
      timestamp: c.get("now"),
      verification: v,
    }, {
      denyStatus: config.denyStatus,
      trustStore: config.trustStore,
      validation: config.validation,
      defaultOrigin: config.origin.url ?? new URL("http://origin.invalid"),
      isOwnedHeader: (name) => isReserved(name, config),
      isIdentityHeader: (name) => name === "client-cert" || name === "client-cert-chain" || name.startsWith(config.identityHeaders.prefix.toLowerCase()),
    }, policyServices(c.env, config, c.get("presented"), c.get("now"), record, waitUntilOf(c)));
    if (result.kind === "problem") {
      const extra = result.headers ?? new Headers();
      if (tracing) extra.set(TRACE_HEADER, traceHeader(result.record.traces));
      throw new DenyException(result.error, result.status ?? undefined, extra);
    }
    let response = result.response;
    // The trace header is the gateway's: never passed through from the origin, set only for a proven secret.
    // (A WebSocket upgrade, 101, cannot be copied; it carries neither trace nor timing.)
    if ((tracing || config.serverTiming || response.headers.has(TRACE_HEADER)) && response.status !== 101) {
      response = new Response(response.body, response);
      if (tracing) response.headers.set(TRACE_HEADER, traceHeader(result.record.traces));
      else response.headers.delete(TRACE_HEADER);
      if (config.serverTiming) response.headers.append("server-timing", serverTiming(record));
    }
    if (result.answer !== null) {
      // A policy answered instead of the origin: its own decision, with the scope and (4xx/5xx) a code.
      const a = result.answer;
      if (config.logRequests === "all" || (config.logRequests === "denied" && response.status >= 400)) {
        logRequest(record, "respond", response.status, a.code, undefined, { policy: a.policyId, policyAt: a.at });
      }
    } else if (config.logRequests === "all") {
      logRequest(record, "allow", response.status, null);
    }
    return response;
  };

  // The request path, in order. (Plain calls rather than one Hono middleware per stage: each middleware layer
  // costs an async hop on every request.)
  app.all("*", async (c) => {
    c.set("record", newRequestRecord(c.req.method, c.req.path, c.req.header("cf-ray") ?? null, Date.now()));
    configure(c);
    authenticate(c);
    extract(c);
    await validate(c);
    return runPolicies(c);
  });

  app.onError((e, c) => {
    const path = new URL(c.req.url).pathname;
    // Unset (undefined) when the failure came before the stage that sets it.
    const config = c.get("config") as Config | undefined;
    const record = c.get("record") as RequestRecord | undefined;
    const options = { denyStatus: config?.denyStatus ?? 403, typeBase: config?.problemTypeBase ?? "urn:certgate:problem:" };
    let response: Response;
    let internal: string | undefined;
    let code: string | null;
    if (e instanceof DenyException) {
      response = problemResponse(e.error, path, options, e.headers, e.status);
      code = e.error.code;
      internal = e.error.internal;
    } else if (e instanceof HTTPException) {
      response = e.getResponse();
      code = null;
    } else {
      log("error", "internal_error", { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
      response = problemResponse(gatewayError("internal_error", "An unexpected error occurred."), path, options);
      code = "internal_error";
    }
    // The request line, unless the failure came before the record existed.
    if (record) {
      if (config?.serverTiming && e instanceof DenyException) response.headers.set("server-timing", serverTiming(record));
      if (!config || config.logRequests !== "off") logRequest(record, response.status >= 500 ? "error" : "deny", response.status, code, internal);
    }
    return response;
  });

  return app;
}

/** authentication-managed-identity's tokens, cached per isolate (policy/managed-identity.ts). */
const azureTokens = new AzureTokenCache();

/** validate-jwt's openid-config keys, cached per isolate (policy/openid.ts). */
const openIdKeys = openIdKeySource((url, init) => fetch(url, init));

/** The request's ctx.waitUntil (absent when the app runs without an execution context, as `app.request` in tests). */
function waitUntilOf(c: Context<AppEnv>): ((p: Promise<unknown>) => void) | undefined {
  try {
    const ctx = c.executionCtx;
    return (p) => ctx.waitUntil(p);
  } catch {
    return undefined;
  }
}

type FetchFn = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The fetch of the origin call or of a policy's outbound call (`who`: "the origin" / "a policy's call"): through the
 * `mtls_certificates` binding `certificateId`, else `direct`.
 */
function mtlsFetcher(bindings: Record<string, unknown>, certificateId: string | null, who: string, direct: FetchFn): FetchFn | GatewayError {
  if (certificateId === null) return direct;
  const binding = GATEWAY_BINDINGS.has(certificateId) ? undefined : bindings[certificateId];
  if (typeof binding !== "object" || binding === null || typeof (binding as Fetcher).fetch !== "function") {
    return gatewayError("mtls_certificate_unavailable", `The client certificate ${who} requires is not configured on this gateway.`,
      { certificateId }, `authentication-certificate names ${certificateId}, but the Worker has no mtls_certificates binding of that name ([[mtls_certificates]] binding = "${certificateId}" in wrangler.toml)`);
  }
  return (url, init) => (binding as Fetcher).fetch(url, init);
}

/** The runner's services in the Worker: the trust store and verifier, KV values and secrets, the bindings. */
function policyServices(env: Env, config: Config, presented: PresentedCertificate | null, now: Date, record: RequestRecord, waitUntil?: (p: Promise<unknown>) => void): RunServices {
  const store = trustStoreOf(env, config);
  const bindings = env as unknown as Record<string, unknown>;
  return {
    async validate(name, options) {
      if (!presented) return { kind: "invalid", error: gatewayError("certificate_missing", "A client certificate is required.") };
      const started = Date.now();
      const material = await store.material(name);
      if (!material.ok) {
        log("error", "trust_store_unavailable", { store: name, internal: material.error.internal });
        return { kind: "unavailable", error: material.error };
      }
      const verdict = await verifier.verify(material.value, presented.leaf, presented.chain, now, options);
      record.validateMs = (record.validateMs ?? 0) + Date.now() - started;
      return verdict.result.ok ? { kind: "valid", path: verdict.result.value } : { kind: "invalid", error: verdict.result.error };
    },
    async registered() {
      const r = await store.registered();
      if (!r.ok) log("error", "trust_store_unavailable", { key: "registered", internal: r.error.internal });
      return r;
    },
    async namedValue(name) {
      const values = await store.values();
      if (!values.ok) {
        log("error", "trust_store_unavailable", { key: "values", internal: values.error.internal });
        return values;
      }
      const fromKv = values.value.get(name);
      if (fromKv !== undefined) return { ok: true, value: fromKv };
      // A Worker secret of that name, but never one of certgate's own bindings (TERMINATOR_SECRET, TRACE_SECRET…).
      const secret = GATEWAY_BINDINGS.has(name) ? undefined : bindings[name];
      return { ok: true, value: typeof secret === "string" ? secret : null };
    },
    identityHeaders: (path, model) => identityHeaders(path, model, config.identityHeaders),
    async fetchOrigin(call, certificateId) {
      const fetcher = mtlsFetcher(bindings, certificateId, "the origin", env.ORIGIN ? (url, init) => env.ORIGIN!.fetch(url, init) : (url, init) => fetch(url, init));
      if (typeof fetcher !== "function") {
        log("error", "mtls_certificate_unavailable", { certificateId, internal: fetcher.internal });
        return err(fetcher);
      }
      const started = Date.now();
      const res = await sendToOrigin(call, { timeoutMs: config.origin.timeoutMs, fetcher });
      record.originMs = Date.now() - started;
      if (!res.ok) log("warn", res.error.code, { internal: res.error.internal });
      return res;
    },
    log,
    counter: counterCall(env.COUNTERS),
    openIdKeys,
    valueCache: workersValueCache(caches.default, (event, fields) => log("warn", event, fields)),
    async fetchOutbound(url, init, certificateId) {
      const fetcher = mtlsFetcher(bindings, certificateId, "a policy's call", (u, i) => fetch(u, i));
      if (typeof fetcher !== "function") {
        log("error", "mtls_certificate_unavailable", { certificateId, internal: fetcher.internal });
        return err(fetcher);
      }
      try {
        return ok(await fetcher(url, init));
      } catch (e) {
        return err(gatewayError("origin_unreachable", "The host could not be reached.", undefined, e instanceof Error ? e.message : String(e)));
      }
    },
    ...(waitUntil ? { waitUntil } : {}),
    // authentication-managed-identity: the Entra ID application credential from Worker secrets (read per request, so
    // a `wrangler secret put` takes effect with the next deployment's isolates); tokens cached per isolate.
    managedIdentity: { credential: () => azureCredentialFrom(bindings), cache: azureTokens },
    ...policyCaches(env, (event, fields) => log("warn", event, fields)),
    // rate-limiting-binding="NAME": a [[ratelimits]] binding, never one of certgate's own.
    rateLimiter: (name) => {
      const b = GATEWAY_BINDINGS.has(name) ? undefined : bindings[name];
      return typeof b === "object" && b !== null && typeof (b as RateLimit).limit === "function" ? (b as RateLimit) : null;
    },
  };
}

/** cache-lookup / cache-store's caches and the external (KV POLICY_CACHE) value cache (policy/response-cache.ts). */
function policyCaches(env: Env, log: (event: string, fields: Record<string, unknown>) => void) {
  const kv = env.POLICY_CACHE;
  return {
    externalValueCache: kv ? textValueCache(kvStore(kv, "value", log)) : undefined,
    responseCache: {
      internal: textResponseCache(cacheApiStore(caches.default, "response-cache", log)),
      external: kv ? textResponseCache(kvStore(kv, "response", log)) : undefined,
    },
  };
}
