/**
 * policy explain — one request through compiled policies in Node, decided as the Worker decides it.
 *
 * Contract: no file I/O and no clock (the request's time comes in); the trust material, the bundle and the
 * settings come in prepared (inputs.ts). This is a Node wiring of the Worker's request path after the
 * certificate sources (src/app.ts, stages 4–5, and its `policyServices`), on the same modules: the
 * verifier and validation engine, the REQUIRE_CERTIFICATE floor, upstream header hygiene, route selection,
 * policy/run.ts, identity headers, problem+json. What differs, on purpose:
 * - the certificate is given (no source, no terminator): the request counts as coming from the
 *   authenticated terminator (its X-Forwarded-* headers are kept, as the Worker keeps a terminator's);
 * - trust stores, registered certificates and run-time named values come from files, not KV;
 * - the origin is NOT called: the request the Worker would send is recorded, and outbound runs on a
 *   synthetic origin response (`originStatus`, no headers, empty body);
 * - `authentication-certificate` is reported (the binding the call would go through), never missing: there
 *   are no Worker bindings here, so the Worker's 503 `mtls_certificate_unavailable` cannot happen;
 * - log lines are collected for the readable output instead of printed;
 * - send-request and send-one-way-request make no call: a send-request is answered by the stub given for its
 *   response variable (`sendResponses`, `--send-response VAR=STATUS[:BODY]`), or fails as unreachable; retry's waits
 *   are not waited (the trace shows them).
 * Everything the Worker answers is answered here: the decision is the same for the same inputs, which the
 * policy cases (test/policies/<case>/cases.json) check by running each case through both.
 */
import { applyHit, windowStartOf } from "../../src/policy/state/window";
import type { CachedValue, ValueCache } from "../../src/policy/value-cache";
import type { ResponseCache } from "../../src/policy/response-cache";
import { AzureTokenCache } from "../../src/policy/managed-identity";
import { encodeBase64 } from "../../src/cert/decode";
import { traceHeader } from "../../src/policy/trace-header";
import { describeCertificate, type CertificateModel } from "../../src/cert/model";
import { parseConfig, TRACE_HEADER, TRACE_SECRET_HEADER, type Config } from "../../src/config";
import type { Env, Verification } from "../../src/env";
import { gatewayError, type GatewayError } from "../../src/errors";
import { isReserved, upstreamHeaders } from "../../src/forward/headers";
import { identityHeaders } from "../../src/forward/identity";
import { sendToOrigin, type OriginCall } from "../../src/forward/origin";
import { problemResponse } from "../../src/http/problem";
import { newRequestRecord, requestLogFields } from "../../src/log";
import { secretsEqual } from "../../src/http/trust-boundary";
import type { TrustMaterial } from "../../src/pki/trust-material";
import type { RegisteredCertificate } from "../../src/pki/trust-store";
import { CertificateVerifier } from "../../src/pki/verifier";
import { selectProgram, type PreparedBundle, type Selection } from "../../src/policy/bundle";
import { runProgram, type PolicyAnswer, type RunRecord, type RunServices, type TraceLine } from "../../src/policy/run";
import type { Origin, Program, Step } from "../../src/policy/schema";
import { err, ok, type Result } from "../../src/result";

/** Worker variables explain starts from (wrangler.toml's ORIGIN_URL); `--var` overrides them. */
export const DEFAULT_VARS: Readonly<Record<string, string>> = { ORIGIN_URL: "https://origin.example.com" };

/** The Worker's configuration from variables (src/config.ts), or every problem. */
export function configFromVars(vars: ReadonlyMap<string, string>): Result<Config, string[]> {
  // TRUST is a binding explain does not use (trust material comes from files); config never reads it.
  return parseConfig({ ...DEFAULT_VARS, ...Object.fromEntries(vars), TRUST: {} as KVNamespace } as Env);
}

/** What explain runs: the prepared bundle, the settings and the trust material. */
export interface ExplainSetup {
  readonly prepared: PreparedBundle;
  readonly config: Config;
  /** Trust material by store name (the deployment's is config.trustStore). */
  readonly stores: ReadonlyMap<string, TrustMaterial>;
  readonly registered: ReadonlyMap<string, RegisteredCertificate>;
  /** Run-time named values (what the Worker reads from KV `values` or a Worker secret). */
  readonly runtimeValues: ReadonlyMap<string, string>;
  /** Status of the synthetic origin response (no headers, empty body). */
  readonly originStatus: number;
  /**
   * Stub counter of rate-limit-by-key / quota-by-key: the calls every counter holds before this request (absent: 0).
   * Explain never reads the Worker's Durable Objects; the step's note and this input say so.
   */
  readonly counterUsed?: number;
  /** Stub value cache of cache-*-value (absent: empty); never the Workers Cache API. */
  readonly cache?: ReadonlyMap<string, string>;
  /**
   * Stub answers of send-request, by response variable (absent: none). Explain makes no outbound call: a
   * send-request whose variable has no stub fails as unreachable (so ignore-error and on-error run as they would);
   * a send-one-way-request is recorded, never sent.
   */
  readonly sendResponses?: ReadonlyMap<string, { readonly status: number; readonly body: string }>;
  /**
   * Stub token of authentication-managed-identity (absent: not configured — the step answers 503
   * managed_identity_not_configured, as the Worker does without its secrets). Explain never calls Entra ID.
   */
  readonly managedIdentityToken?: string;
  /** Stub response cache of cache-lookup: every lookup hits with a 200 of this body (absent / null: every lookup misses). */
  readonly cachedResponse?: string | null;
}

/** One request. */
export interface ExplainRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string | null;
  /** The presented certificate (DER), or null; `chain` is what the client sent after it. */
  readonly leaf: Uint8Array | null;
  readonly chain: readonly Uint8Array[];
  /** The request's time. */
  readonly at: Date;
}

/** The decision, as `--json` prints it. */
export interface Decision {
  /** forward: the request reaches the origin; respond: the gateway answers (policy response or problem). */
  readonly effect: "forward" | "respond";
  /** The client's status for respond; 0 for forward. */
  readonly status: number;
  /** forward: the headers sent to the origin; respond: the response headers. Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** forward: the request body sent to the origin; respond: the response body; null when empty. */
  readonly body: string | null;
  /** forward: the URL the origin request goes to; respond: null. */
  readonly origin: string | null;
  /** The matched operation (`<api>/<operation>`), or null when no route matched (the global scope alone). */
  readonly operation: string | null;
  /** The `trace` policies' output (what X-Certgate-Trace carries for a caller with TRACE_SECRET). */
  readonly trace: readonly TraceLine[];
  /** forward: the mtls_certificates binding named by authentication-certificate, or null. */
  readonly mtlsCertificate: string | null;
  /** forward: what the client gets once outbound ran on the synthetic origin response; respond: null. */
  readonly response: { readonly status: number; readonly headers: Readonly<Record<string, string>>; readonly body: string | null } | null;
  /** The policy steps that ran, in order (the runner's record). */
  readonly steps: RunRecord["steps"];
  /** The error on-error ran for (APIM's context.LastError), or null. */
  readonly lastError: RunRecord["lastError"];
}

/** A log line the Worker would write. */
export interface LogLine {
  readonly level: "info" | "warn" | "error";
  readonly event: string;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Everything the readable output shows. */
export interface Explanation {
  readonly decision: Decision;
  readonly selection: Selection;
  /** The presented certificate's model and the request-level validation verdict, when one was presented. */
  readonly certificate: { readonly model: CertificateModel | null; readonly verdict: { readonly valid: true; readonly path: readonly string[]; readonly warnings: readonly string[] } | { readonly valid: false; readonly error: GatewayError } } | null;
  /** Set when the REQUIRE_CERTIFICATE floor denied the request before any policy ran. */
  readonly floor: GatewayError | null;
  readonly tracing: boolean;
  readonly log: readonly LogLine[];
  /** Where each executed step comes from (scope, policy id), by its `file:line:col`. */
  readonly origins: ReadonlyMap<string, Origin>;
  /** Response variables of the send-requests that had no stub answer (they failed as unreachable), in order. */
  readonly unansweredSends: readonly string[];
}


/** Runs one request and returns the decision with what led to it. */
export async function explainRequest(setup: ExplainSetup, req: ExplainRequest): Promise<Explanation> {
  const { config, prepared } = setup;
  const now = req.at;
  const log: LogLine[] = [];
  const write = (level: LogLine["level"], event: string, fields: Record<string, unknown>) => log.push({ level, event, fields });
  const url = req.url;
  const incoming = new Headers();
  for (const [name, value] of req.headers) incoming.append(name, value);
  const selection = selectProgram(prepared, url, req.method);
  const problemOptions = { denyStatus: config.denyStatus, typeBase: config.problemTypeBase };
  const verifier = new CertificateVerifier();
  // The Worker's `request` log line (src/log.ts), written by finish().
  const requestRecord = newRequestRecord(req.method, url.pathname, null, Date.now());
  requestRecord.operation = selection.program.key;
  let problem: { code: string; internal?: string } | null = null;
  let answer: PolicyAnswer | null = null;
  const unansweredSends: string[] = [];

  const finish = async (response: Response, floor: GatewayError | null, record: RunRecord | null, call: CapturedCall | null,
    certificate: Explanation["certificate"], tracing: boolean): Promise<Explanation> => {
    const final = { status: response.status, headers: Object.fromEntries(response.headers), body: emptyToNull(await response.text()) };
    if (answer !== null) {
      write("info", "request", requestLogFields(requestRecord, "respond", response.status, answer.code, undefined, { policy: answer.policyId, policyAt: answer.at }));
    } else {
      const verdict = problem === null ? "allow" : response.status >= 500 ? "error" : "deny";
      write(verdict === "error" ? "warn" : "info", "request", requestLogFields(requestRecord, verdict, response.status, problem?.code ?? null, problem?.internal));
    }
    const operation = selection.program.key === "*" ? null : selection.program.key;
    const trace = record?.traces ?? [];
    const rest = { steps: record?.steps ?? [], lastError: record?.lastError ?? null };
    const decision: Decision = call
      ? { effect: "forward", status: 0, headers: call.headers, body: call.body, origin: call.url, operation, trace, mtlsCertificate: call.certificateId, response: final, ...rest }
      : { effect: "respond", status: final.status, headers: final.headers, body: final.body, origin: null, operation, trace, mtlsCertificate: null, response: null, ...rest };
    return { decision, selection, certificate, floor, tracing, log, origins: stepOrigins(selection.program.program), unansweredSends };
  };

  // Stage 4: validation against the deployment's store (the trust store unavailable is a 503, as from KV).
  let verification: Verification = { status: "none" };
  let certificate: Explanation["certificate"] = null;
  const presented = req.leaf ? { source: "explain", leaf: req.leaf, chain: req.chain } : null;
  if (presented) {
    requestRecord.source = presented.source;
    requestRecord.store = config.trustStore;
    const material = setup.stores.get(config.trustStore);
    if (!material) {
      const e = storeUnavailable(config.trustStore);
      write("error", "trust_store_unavailable", { store: config.trustStore, internal: e.internal });
      problem = { code: e.code, internal: e.internal };
      return finish(problemResponse(e, url.pathname, problemOptions), null, null, null, null, false);
    }
    const verdict = await verifier.verify(material, presented.leaf, presented.chain, now, config.validation);
    const model = verdict.leaf ? await describeCertificate(verdict.leaf) : null;
    requestRecord.sha256 = verdict.leafSha256;
    requestRecord.subject = model ? model.subject.rfc4514 : null;
    requestRecord.issuer = model ? model.issuer.rfc4514 : null;
    requestRecord.cached = verdict.cached;
    verification = verdict.result.ok && model
      ? { status: "valid", path: verdict.result.value, model, presented }
      : { status: "invalid", error: verdict.result.ok ? gatewayError("internal_error", "no model") : verdict.result.error, leaf: verdict.leaf, model, presented };
    certificate = {
      model,
      verdict: verification.status === "valid"
        ? { valid: true, path: await Promise.all(verification.path.certificates.map(async (c) => (await describeCertificate(c)).subject.dotnet)), warnings: verification.path.warnings }
        : { valid: false, error: (verification as Extract<Verification, { status: "invalid" }>).error },
    };
  }

  // Stage 5: the REQUIRE_CERTIFICATE floor, then the program.
  if (config.requireCertificate && verification.status !== "valid") {
    const e = verification.status === "invalid" ? verification.error : gatewayError("certificate_missing", "A client certificate is required.");
    problem = { code: e.code, internal: e.internal };
    return finish(problemResponse(e, url.pathname, problemOptions), e, null, null, certificate, false);
  }
  const tracing = config.traceSecret !== null && secretsEqual(incoming.get(TRACE_SECRET_HEADER) ?? "", config.traceSecret);
  const requestId = incoming.get("cf-ray") ?? crypto.randomUUID();
  requestRecord.requestId = requestId;
  const headers = upstreamHeaders(incoming, config, {}, {
    clientIp: incoming.get("cf-connecting-ip"),
    proto: url.protocol.replace(":", ""),
    host: url.host,
    fromTerminator: true,
  });
  const body = req.body === null ? null : new Blob([req.body]).stream();
  let call: CapturedCall | null = null;
  const services: RunServices = {
    async validate(name, options) {
      if (!presented) return { kind: "invalid", error: gatewayError("certificate_missing", "A client certificate is required.") };
      const material = setup.stores.get(name);
      if (!material) {
        const e = storeUnavailable(name);
        write("error", "trust_store_unavailable", { store: name, internal: e.internal });
        return { kind: "unavailable", error: e };
      }
      const verdict = await verifier.verify(material, presented.leaf, presented.chain, now, options);
      return verdict.result.ok ? { kind: "valid", path: verdict.result.value } : { kind: "invalid", error: verdict.result.error };
    },
    registered: async () => ok(setup.registered),
    namedValue: async (name) => ok(setup.runtimeValues.get(name) ?? null),
    identityHeaders: (path, model) => identityHeaders(path, model, config.identityHeaders),
    async fetchOrigin(c, certificateId) {
      // Node's Request needs `duplex` for a stream body; the client's body is known text here.
      // A body the runner buffered (expressions read it) is a stream too: sent as the text it is.
      const sent: OriginCall = c.body === body && body !== null ? { ...c, body: req.body } : c.body instanceof ReadableStream ? { ...c, body: await new Response(c.body).text() } : c;
      return sendToOrigin(sent, {
        timeoutMs: config.origin.timeoutMs,
        fetcher: async (url, init) => {
          const r = new Request(url, init);
          call = { url: r.url, headers: Object.fromEntries(r.headers), body: emptyToNull(await r.text()), certificateId };
          return new Response(null, { status: setup.originStatus });
        },
      });
    },
    log: write,
    // A stub, not the Durable Objects: every counter starts this request holding `counterUsed` calls.
    counter: async (_name, r) => ok(applyHit({ windowStart: windowStartOf(r.nowMs, r.periodMs, r.anchorMs), calls: setup.counterUsed ?? 0, kilobytes: 0 }, r).answer),
    // A stub, not the Cache API: the entries given, changed by this request's stores and removals only.
    valueCache: stubCache(setup.cache),
    // A stub, not the network: the answer given for the response variable, else unreachable.
    async fetchOutbound(_url, _init, _certificateId, variable) {
      const stub = variable === null ? { status: 202, body: "" } : setup.sendResponses?.get(variable);
      if (!stub) {
        unansweredSends.push(variable ?? "");
        return err(gatewayError("origin_unreachable", "The host could not be reached.", undefined,
          `explain makes no outbound calls: give --send-response ${variable}=STATUS[:BODY]`));
      }
      return ok(new Response(stub.body === "" ? null : stub.body, { status: stub.status }));
    },
    sleep: async () => {},
    random: () => 0.5,
    // A stub of every Rate Limiting binding, like the counter stub: `counterUsed` calls made before this one.
    rateLimiter: (_binding, calls) => ({ limit: async () => ({ success: (setup.counterUsed ?? 0) < calls }) }),
    // caching-type="external" reads the same stub: explain never reads KV.
    externalValueCache: stubCache(setup.cache),
    managedIdentity: setup.managedIdentityToken !== undefined
      ? { credential: () => err("explain reads no secrets"), cache: new AzureTokenCache(), stubToken: setup.managedIdentityToken }
      : { credential: () => err("explain reads no Worker secrets: give --managed-identity-token TOKEN"), cache: new AzureTokenCache() },
    responseCache: { internal: stubResponseCache(setup.cachedResponse ?? null), external: stubResponseCache(setup.cachedResponse ?? null) },
  };
  let response: Response;
  let record: RunRecord | null = null;
  try {
    const result = await runProgram(prepared, selection, {
      method: req.method, url, headers, body, ipAddress: incoming.get("cf-connecting-ip") ?? "", requestId, timestamp: now, region: "", verification,
    }, {
      denyStatus: config.denyStatus,
      trustStore: config.trustStore,
      validation: config.validation,
      defaultOrigin: config.origin.url ?? new URL("http://origin.invalid"),
      isOwnedHeader: (name) => isReserved(name, config),
      isIdentityHeader: (name) => name === "client-cert" || name === "client-cert-chain" || name.startsWith(config.identityHeaders.prefix.toLowerCase()),
    }, services);
    record = result.record;
    if (result.kind === "problem") {
      problem = { code: result.error.code, internal: result.error.internal };
      const extra = result.headers ?? new Headers();
      if (tracing) extra.set(TRACE_HEADER, traceHeader(result.record.traces));
      response = problemResponse(result.error, url.pathname, problemOptions, extra, result.status ?? undefined);
    } else {
      response = result.response;
      answer = result.answer;
      if ((tracing || response.headers.has(TRACE_HEADER)) && response.status !== 101) {
        response = new Response(response.body, response);
        if (tracing) response.headers.set(TRACE_HEADER, traceHeader(result.record.traces));
        else response.headers.delete(TRACE_HEADER);
      }
    }
  } catch (e) {
    // app.onError: a bug in the runner is a 500 internal_error for the client, with the stack in the log.
    write("error", "internal_error", { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    response = problemResponse(gatewayError("internal_error", "An unexpected error occurred."), url.pathname, problemOptions);
    problem = { code: "internal_error" };
  }
  return finish(response, null, record, call, certificate, tracing);
}

interface CapturedCall {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string | null;
  readonly certificateId: string | null;
}

function emptyToNull(text: string): string | null {
  return text === "" ? null : text;
}

function storeUnavailable(name: string): GatewayError {
  return gatewayError("trust_store_unavailable", "The trust store could not be loaded; no certificate can be validated right now.", undefined,
    `no trust store ${JSON.stringify(name)} (explain: the deployment's comes from --ca / the demo PKI, others from --store NAME=FILE)`);
}


function stubCache(entries: ReadonlyMap<string, string> | undefined): ValueCache {
  const m = new Map<string, CachedValue>(entries ?? []);
  return {
    get: async (key) => m.get(key) ?? null,
    put: async (key, value) => void m.set(key, value),
    delete: async (key) => void m.delete(key),
  };
}

/** A response cache where every lookup misses (null) or hits with a 200 of `body`; stores are dropped. */
function stubResponseCache(body: string | null): ResponseCache {
  return {
    get: async () => (body === null ? null : { status: 200, statusText: "OK", headers: [["content-type", "text/plain; charset=utf-8"]], body: encodeBase64(new TextEncoder().encode(body)) }),
    put: async () => {},
  };
}

/** Every step of a program by its `file:line:col` (the runner's record names steps by position). */
function stepOrigins(program: Program): Map<string, Origin> {
  const out = new Map<string, Origin>();
  const walk = (steps: readonly Step[]) => {
    for (const s of steps) {
      out.set(`${s.at.file}:${s.at.line}:${s.at.col}`, s.at);
      if (s.k === "choose") {
        for (const w of s.whens) walk(w.steps);
        if (s.otherwise) walk(s.otherwise);
      }
      if (s.k === "retry") walk(s.steps);
    }
  };
  for (const section of [program.inbound, program.backend, program.outbound, program.onError]) walk(section);
  return out;
}
