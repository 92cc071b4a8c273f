/**
 * Runs one request through a compiled program: inbound → backend → the origin → outbound, with on-error,
 * as APIM runs a policy pipeline.
 *
 * Contract: no I/O of its own and no clock. Everything outside — path validation (verifier + trust store),
 * registered certificates and named values (KV, secrets), the origin fetch (service / mTLS bindings), the
 * identity headers, logging — comes in through `RunServices`, and the request's time and id come in with
 * the request. The same code runs in the Worker (app.ts wires the services) and in Node (the `explain` CLI).
 * Expressions are evaluated synchronously by expr/interpret.ts against the `context` of context.ts; whatever
 * they need that takes I/O is prepared before the first section runs.
 *
 * Semantics (docs/configuration.md, "Policies", is the user's summary; the decisions are listed here):
 * - Sections: inbound, then backend, then the origin call (unless a `return-response` ended the pipeline),
 *   then outbound on the origin's response. `return-response` ends the pipeline wherever it runs; outbound
 *   does not run after it (APIM). With no children it answers 200 with an empty body (or the status of an
 *   earlier inbound `set-status`).
 * - Errors: a failed `validate-client-certificate` (without ignore-error), a runtime expression error, a
 *   missing named value or an unreachable origin sets context.LastError and runs on-error. on-error
 *   "returns a response" when it runs `return-response`, `set-status` or `set-body`; otherwise certgate
 *   answers problem+json for the error (set-header in on-error adds headers to it). A failure inside
 *   on-error is answered directly. Configuration failures (trust store or KV unavailable, a missing mTLS
 *   binding) are answered directly with 503: a policy cannot handle the gateway being broken.
 * - Expression errors: LastError.Source "expression", Reason the interpreter's reason ("step_limit" for an
 *   overrun of EXPRESSION_STEP_BUDGET); unhandled → 500 `policy_expression_failed`, whose problem says only
 *   the request id; the position (file:line:col) and the message go to the log. on-error has its own step
 *   budget, so it can still answer a request whose pipeline ran out.
 * - Headers: inbound/backend `set-header` edits the request headers the origin receives, outbound and
 *   on-error ones the response's. Several values are joined with "," (APIM); null values are dropped.
 *   The verified identity is added after inbound and backend ran; the identity headers (Client-Cert,
 *   Client-Cert-Chain, the identity prefix: RunSettings.isIdentityHeader) are the operator's to override, so a
 *   policy's set-header of one is applied on top of it then, traced and logged. The other headers the gateway
 *   owns on the way upstream (certificate-carrying headers of every format, the terminator and trace secret
 *   headers, hop-by-hop headers) cannot be set or deleted by a policy: the step is skipped with a warning in
 *   the log and the step record.
 * - validate-client-certificate: the attributes with APIM's meaning (trust, not-before, not-after,
 *   revocation), validated by the engine with the step's options and `trust-store` (default: the
 *   deployment's); the request's own validation is reused when they equal the deployment's. Without
 *   validate-trust only the leaf's validity dates are checked (and revocation when the path builds: a CRL
 *   needs the issuer). Revocation "on" means the deployment's REVOCATION mode, or `soft` when that is `off`.
 *   Identities: the claims of one identity are ANDed, identities ORed; subject/issuer are compared as DNs
 *   (cert/dn.ts dnEquals), thumbprints and serial numbers as hex (case, spaces and colons ignored, serials
 *   also leading zeros), dns-name against every DNS SAN case-insensitively, common-name exactly;
 *   issuer-thumbprint and issuer-certificate-id need the validated path (the issuer is path.certificates[1]).
 *   A failure's problem has `failed-validation-httpcode` (default DENY_STATUS), `code` = the failed check
 *   (an engine code, `certificate_missing` or `certificate_identity_mismatch`) and `detail` =
 *   `failed-validation-error-message` when given.
 * - Identity headers go upstream when the request's certificate validated against the deployment store,
 *   or else when a validate-client-certificate step of this request validated its path.
 * - Origin: set-backend-service, else the API's origin, else ORIGIN_URL. When the program belongs to an API,
 *   its path is removed from the request path before it is joined to the origin (APIM's API URL suffix).
 *   `authentication-certificate certificate-id="X"` sends the origin request through the Worker's
 *   `mtls_certificates` binding X.
 * - Request shaping (decisions in shaping.ts): set-query-parameter and rewrite-uri edit the origin URL,
 *   set-method its method, forward-request its timeout and redirects; check-header and ip-filter fail into
 *   on-error with APIM's reasons; cors answers preflights and adds its headers to the response; mock-response
 *   answers; find-and-replace edits the section's body, and a liquid set-body (liquid.ts) renders over it.
 *   Programs whose expressions read `Body` (or that run find-and-replace or a liquid set-body) buffer the
 *   bodies (body.ts, up to MAX_BODY_BYTES); all others stream them.
 * - send-request, send-one-way-request and retry run in outbound.ts (its header has their semantics) with the
 *   optional services `fetchOutbound` and `waitUntil`. A retry around forward-request calls the origin inside the
 *   retry, once per attempt (the request body is buffered, up to MAX_BODY_BYTES, to be sent again); the backend
 *   section then does not call it again. `return-response response-variable-name` answers with the IResponse a
 *   send-request stored (its status, headers and body, which the step's own set-status / set-header / set-body edit).
 * - validate-jwt, rate-limit-by-key / quota-by-key / rate-limit / quota and cache-*-value run in extension-steps.ts
 *   (its header has their semantics) through a StepHost, with the optional services `openIdKeys`, `counter`,
 *   `rateLimiter`, `valueCache` and `externalValueCache`; deferred limit increments run after outbound, only when the
 *   origin's response is sent. rate-limit / quota's subscription is the registered certificate's id, else the
 *   validated certificate's SHA-256 (`subscription`).
 * - cache-lookup / cache-store (response-cache-step.ts has the rules): a hit answers at once; a miss leaves the key
 *   for cache-store, which stores the final response after outbound (service `responseCache`).
 */
import type { CertificateModel } from "../cert/model";
import { describeCertificate } from "../cert/model";
import { dnEquals } from "../cert/dn";
import type { Verification } from "../env";
import { gatewayError, type GatewayError } from "../errors";
import type { OriginCall } from "../forward/origin";
import { upstreamUrl } from "../forward/origin";
import type { RegisteredCertificate } from "../pki/trust-store";
import { DEFAULT_OPTIONS, validationOptionsKey, type ValidatedPath, type ValidationOptions } from "../pki/validate";
import type { Result } from "../result";
import { bufferBody, type Buffered } from "./body";
import { parseIp } from "./ip";
import { renderLiquid } from "./liquid";
import { checkHeaderFailure, decideCors, editQuery, ipFilterAllows, replaceAll, rewriteTarget } from "./shaping";
import { matchesSpiffeClaim, parseSpiffeClaim } from "./spiffe";
import type { PreparedBundle, Selection } from "./bundle";
import { createContext, type BufferedBody, type CertificateFacts, type ContextInput, type LastError, type PipelineState, type SectionName } from "./context";
import type { Code } from "./expr/ast";
import { HostError, type Value } from "./expr/host";
import { MAX_BODY_BYTES } from "./expr/limits";
import { toBase64 } from "./expr/codecs";
import { evaluate, PolicyRuntimeError, StepLimitExceeded, toCondition, toText, type StepBudget } from "./expr/interpret";
import { pathSegments } from "./routes";
import type { Identity, Origin, SetHeader, Step, Template } from "./schema";
import { runExtensionStep, type ExtensionStep, type StepHost } from "./extension-steps";
import { lookupResponse, storeResponse, storeSettings, type PendingStore } from "./response-cache-step";
import type { ResponseCache } from "./response-cache";
import type { OpenIdKeySource } from "./openid";
import type { ValueCache } from "./value-cache";
import type { CounterCall } from "./state/counters";
import { managedIdentityToken, type ManagedIdentityHost, type ManagedIdentityService } from "./managed-identity";
import type { ManagedIdentityAuth } from "./managed-identity-schema";
import { OutboundResponse, runOutboundStep, type OutboundFetch, type OutboundHost } from "./outbound";
import type { OutboundStep } from "./outbound-schema";
import { readCapped } from "../bytes";

/**
 * Interpreter steps per request, shared by every expression of inbound, backend and outbound; on-error gets
 * a budget of the same size of its own, so that it can still report a request that ran out (LastError.Reason
 * "step_limit"). At most twice this per request, then. A typical APIM expression costs tens of steps; a
 * LINQ query over a few hundred registered certificates a few thousand: 100,000 is well above the largest
 * realistic policy. Measured in Node 22 on a LINQ Count over a 100,000-character string: about 0.5 µs per
 * step, so a runaway expression stops after about 50 ms of CPU (policy/expr/limits.ts DEFAULT_STEP_BUDGET
 * suggests the same figure per evaluation; certgate spends it per request).
 */
export const EXPRESSION_STEP_BUDGET = 100_000;

/** Trace lines kept per request: a policy tracing in a loop must not grow memory or log volume without bound. */
export const MAX_TRACE_LINES = 100;

/** The request as the runner sees it. */
export interface RunRequest {
  readonly method: string;
  readonly url: URL;
  /** The headers the origin will receive, without the identity (forward/headers.ts); the runner edits them. */
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  readonly ipAddress: string;
  readonly requestId: string;
  /** The request's time: one clock read, used by every check and by context.Timestamp. */
  readonly timestamp: Date;
  /** Cloudflare colo (context.Deployment.Region), or "". */
  readonly region: string;
  /** The request-level validation of the presented certificate (against the deployment store and options). */
  readonly verification: Verification;
}

/** The deployment settings the runner needs (from Config). */
export interface RunSettings {
  readonly denyStatus: number;
  readonly trustStore: string;
  readonly validation: ValidationOptions;
  /** ORIGIN_URL (or a placeholder when a service binding carries origin traffic). */
  readonly defaultOrigin: URL;
  /** True for a lower-case request header name the gateway owns (policies cannot set or delete it). */
  readonly isOwnedHeader: (name: string) => boolean;
  /**
   * True for a lower-case owned name that is one of the identity headers the gateway sends upstream (Client-Cert,
   * Client-Cert-Chain, the X-Client-Cert- prefix): the operator's policy may override those — after the gateway set
   * them — where every other owned header stays out of its reach. Absent: none (the policy's edit is skipped).
   */
  readonly isIdentityHeader?: (name: string) => boolean;
  /** send-request may call literal private / loopback addresses (tests and explain only; policy/outbound.ts). */
  readonly allowPrivateOutbound?: boolean;
}

/** A validation of the presented certificate with given options. */
export type ValidationOutcome =
  | { readonly kind: "valid"; readonly path: ValidatedPath }
  | { readonly kind: "invalid"; readonly error: GatewayError }
  /** The trust material could not be read: the request fails with this error (503). */
  | { readonly kind: "unavailable"; readonly error: GatewayError };

/** Everything the runner reaches outside itself. */
export interface RunServices {
  /** Validates the presented certificate against store `store` with `options` at the request's time. */
  validate(store: string, options: ValidationOptions): Promise<ValidationOutcome>;
  /** Registered certificates (KV `registered`). */
  registered(): Promise<Result<ReadonlyMap<string, RegisteredCertificate>, GatewayError>>;
  /** A runtime named value (KV `values`, then a Worker secret of that name); null when it does not exist. */
  namedValue(name: string): Promise<Result<string | null, GatewayError>>;
  /** The identity headers of a validated path. */
  identityHeaders(path: ValidatedPath, model: CertificateModel): Record<string, string>;
  /**
   * Sends the origin request; through the mTLS certificate binding `certificateId` when not null. Errors:
   * `origin_unreachable` / `origin_timeout` (go to on-error), anything else (e.g. `mtls_certificate_unavailable`)
   * is answered directly.
   */
  fetchOrigin(call: OriginCall, certificateId: string | null): Promise<Result<Response, GatewayError>>;
  log(level: "info" | "warn" | "error", event: string, fields: Record<string, unknown>): void;
  /** The counter store of rate-limit-by-key / quota-by-key (state/counters.ts); absent: unavailable. */
  readonly counter?: CounterCall;
  /** validate-jwt's openid-config keys (policy/openid.ts), cached per isolate; absent: unavailable. */
  readonly openIdKeys?: OpenIdKeySource;
  /** cache-*-value's cache (policy/value-cache.ts); absent: every lookup misses and stores do nothing. */
  readonly valueCache?: ValueCache;
  /** send-request / send-one-way-request's fetch (policy/outbound.ts); absent: every call fails as unreachable. */
  readonly fetchOutbound?: OutboundFetch;
  /** Keeps send-one-way-request's call alive after the answer (the Worker's ctx.waitUntil). */
  readonly waitUntil?: (p: Promise<unknown>) => void;
  /** retry's wait (default: a timer); tests and explain pass their own. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** retry's jitter, in [0, 1) (default Math.random). */
  readonly random?: () => number;
  /** caching-type="external": the KV namespace POLICY_CACHE (policy/response-cache.ts); absent: not bound (a miss, logged). */
  readonly externalValueCache?: ValueCache;
  /** rate-limiting-binding: the Workers Rate Limiting binding of that name (null: not bound). */
  readonly rateLimiter?: (binding: string, calls: number) => import("./state/limit-step").RateLimiter | null;
  /** authentication-managed-identity's Azure credential and token cache (policy/managed-identity.ts); absent: not configured. */
  readonly managedIdentity?: ManagedIdentityService;
  /** cache-lookup / cache-store's caches by store (policy/response-cache.ts); absent: every lookup is skipped. */
  readonly responseCache?: { readonly internal?: ResponseCache; readonly external?: ResponseCache };
}

/** One `trace` policy's output. */
export interface TraceLine {
  readonly source: string;
  readonly severity: "verbose" | "information" | "error";
  readonly message: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly section: SectionName;
  /** file:line:col of the trace element. */
  readonly at: string;
}

/** One executed step, for the explain tool. */
export interface StepRecord {
  readonly section: SectionName;
  /** APIM-style path inside the section: `choose[1]/when[2]/set-header[1]`. */
  readonly path: string;
  readonly step: Step["k"];
  readonly at: string;
  /** What happened, in a few words. */
  readonly note: string;
}

/** What the run did (returned in every outcome). */
export interface RunRecord {
  /** The operation key whose program ran (`*` when no route matched). */
  readonly operation: string;
  readonly steps: readonly StepRecord[];
  readonly traces: readonly TraceLine[];
  /** The error that ran on-error, if any. */
  readonly lastError: LastError | null;
  /** Expression steps used (pipeline and on-error). */
  readonly expressionSteps: number;
}

/**
 * Which policy answered instead of the origin (return-response, or a response on-error built), for the
 * request's log line: decision `respond`, with this scope, position and, for 4xx/5xx, a code.
 */
export interface PolicyAnswer {
  /** APIM's PolicyId of the scope (`operation:demo/create-order`), or of the failed step for on-error. */
  readonly policyId: string;
  /** `file:line:col` of the return-response step; null for a response on-error built from its steps. */
  readonly at: string | null;
  /**
   * For a 4xx/5xx: the `code` of the policy's problem+json body when it has one (a stable snake_case word),
   * the failure that ran on-error, else `policy_return_response`. Null below 400.
   */
  readonly code: string | null;
}

export type RunResult =
  /** A response to send as is: the origin's, possibly edited (`answer` null), or one a policy built. */
  | { readonly kind: "response"; readonly response: Response; readonly record: RunRecord; readonly answer: PolicyAnswer | null }
  /** A problem+json denial: `status` overrides the code's (failed-validation-httpcode); `headers` come from on-error. */
  | { readonly kind: "problem"; readonly error: GatewayError; readonly status: number | null; readonly headers: Headers | null; readonly record: RunRecord };

/** Runs the selected program for one request. */
export async function runProgram(bundle: PreparedBundle, selection: Selection, request: RunRequest, settings: RunSettings, services: RunServices): Promise<RunResult> {
  return new Run(bundle, selection, request, settings, services).run();
}

// ---------------------------------------------------------------------------------------------------------

/** A `return-response` (or the end of on-error): the response to send, ending the pipeline. */
class Stop {
  constructor(readonly response: Response, readonly answer: PolicyAnswer) {}
}

/** The PolicyAnswer of a response `step` built instead of the origin's. */
function answerOf(step: { readonly at: { readonly policyId: string; readonly file: string; readonly line: number; readonly col: number } }, status: number, body: string | null, headers: Headers | null): PolicyAnswer {
  return { policyId: step.at.policyId, at: `${step.at.file}:${step.at.line}:${step.at.col}`, code: answerCode(status, body, headers ?? new Headers()) };
}

/** The code a policy's 4xx/5xx answer is logged with (see PolicyAnswer.code). */
function answerCode(status: number, body: string | null, headers: Headers): string | null {
  if (status < 400) return null;
  if (body !== null && /json/i.test(headers.get("content-type") ?? "") && body.length <= 65_536) {
    try {
      const code = (JSON.parse(body) as { code?: unknown }).code;
      if (typeof code === "string" && /^[a-z][a-z0-9_]{0,63}$/.test(code)) return code;
    } catch {
      // not JSON: the generic code below
    }
  }
  return "policy_return_response";
}

/**
 * A failure on the pipeline. `lastError` set → it runs on-error (unless already there), and `error`
 * (with `status`) is the answer when on-error returns nothing. `lastError` null → answered directly.
 */
class Failure {
  constructor(readonly error: GatewayError, readonly status: number | null, readonly lastError: LastError | null, readonly headers: Headers | null = null) {}
}

interface Current {
  readonly step: Step;
  readonly path: string;
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/** RFC 5321 §2.4: the local part is case-sensitive, the domain is not. */
function sameEmail(a: string, b: string): boolean {
  const i = a.lastIndexOf("@");
  const j = b.lastIndexOf("@");
  return i > 0 && j > 0 && a.slice(0, i) === b.slice(0, j) && a.slice(i + 1).toLowerCase() === b.slice(j + 1).toLowerCase();
}

class Run {
  private readonly state: PipelineState = { section: "inbound", response: null, lastError: null };
  private readonly budget: StepBudget = { remaining: EXPRESSION_STEP_BUDGET };
  private readonly onErrorBudget: StepBudget = { remaining: EXPRESSION_STEP_BUDGET };
  private readonly steps: StepRecord[] = [];
  private readonly traces: TraceLine[] = [];
  private readonly validations = new Map<string, Promise<ValidationOutcome>>();
  private readonly namedValues = new Map<string, string>();
  /** Expressions' `context`, built on first use (a request whose policies evaluate nothing never builds it). */
  private created: ReturnType<typeof createContext> | null = null;
  private verified: { verify?: boolean; verifyNoRevocation?: boolean } = {};
  private certificate: CertificateFacts | null = null;
  private current: Current | null = null;
  private origin: URL;
  private certificateId: string | null = null;
  private requestBody: string | null = null;
  /** set-method. */
  private method: string;
  /** rewrite-uri's path (relative to the origin) and the query set-query-parameter / rewrite-uri edit (null: the client's). */
  private upstreamPath: string | null = null;
  private upstreamQuery: URLSearchParams | null = null;
  /** Policy edits of identity headers, applied after the gateway sets the identity (callOrigin). */
  private identityEdits: Array<{ readonly name: string; readonly action: SetHeader["existsAction"]; readonly values: readonly string[]; readonly empty: boolean }> = [];
  /** forward-request's attributes for the origin call. */
  private forward: { timeoutMs?: number; followRedirects?: boolean } = {};
  /** cors matched a cross-origin request: the headers its response gets (null: none). */
  private corsHeaders: Headers | null = null;
  /** A cors step with terminate-unmatched-request="false" let a preflight it did not match go on. */
  private corsPreflightDeclined = false;
  /** The client's body, buffered because expressions read context.Request.Body (null: not buffered). */
  private bufferedRequest: Buffered | null = null;
  private pendingStatus: { code: number; reason: string } | null = null;
  /** A response body set in outbound (null: the origin's). */
  private responseBody: string | null = null;
  /** on-error edited the response (set-status / set-body). */
  private draftBody: string | null = null;
  private draftTouched = false;
  /** The path whose identity goes upstream. */
  private identity: { path: ValidatedPath; model: CertificateModel } | null = null;
  private registered: ReadonlyMap<string, RegisteredCertificate> | null = null;
  /** cache-lookup missed: where cache-store stores (null: no lookup, a hit, or skipped). */
  private cacheMiss: PendingStore | null = null;
  /** cache-store ran (outbound): its evaluated attributes. */
  private cacheStore: { seconds: number; anyStatus: boolean; step: Step; path: string } | null = null;
  /** rate-limit-by-key / quota-by-key: response headers to add, and increments deferred to after outbound. */
  private readonly limits: { headers: Array<readonly [string, string]>; after: Array<(response: Response, requestBytes: number | null) => Promise<void>> } = { headers: [], after: [] };
  /** Outbound calls made (send-request, send-one-way-request: src/limits.ts MAX_OUTBOUND_CALLS). */
  private readonly outboundBudget = { calls: 0 };
  /** The origin's response when a retry around forward-request already called it. */
  private originResponse: Response | null = null;
  /** The client's body, read once so that a retry can send it again. */
  private replayBody: Uint8Array | null = null;

  constructor(
    private readonly bundle: PreparedBundle,
    private readonly selection: Selection,
    private readonly request: RunRequest,
    private readonly settings: RunSettings,
    private readonly services: RunServices,
  ) {
    const program = selection.program.program;
    this.method = request.method;
    this.origin = program.origin !== null ? new URL(program.origin) : settings.defaultOrigin;
    const v = request.verification;
    if (v.status === "valid") this.identity = { path: v.path, model: v.model };
  }

  private record(): RunRecord {
    return {
      operation: this.selection.program.key,
      steps: this.steps,
      traces: this.traces,
      lastError: this.state.lastError,
      expressionSteps: 2 * EXPRESSION_STEP_BUDGET - this.budget.remaining - this.onErrorBudget.remaining,
    };
  }

  async run(): Promise<RunResult> {
    const program = this.selection.program.program;
    try {
      try {
        const preparing = this.prepare();
        if (preparing) await preparing;
        this.state.section = "inbound";
        // Empty sections are skipped without an await: every request pays for each async hop.
        if (program.inbound.length > 0) await this.runSteps(program.inbound, "");
        // APIM: a preflight no cors policy answered ends with an empty 200, not at the origin.
        if (this.corsPreflightDeclined) throw new Stop(this.response(null, 200, "", new Headers()), { policyId: "cors", at: null, code: null });
        this.state.section = "backend";
        if (program.backend.length > 0) await this.runSteps(program.backend, "");
        const response = this.originResponse ?? await this.callOrigin();
        let final = program.outbound.length === 0 || response.status === 101 ? response : await this.runOutbound(response);
        // Stored before the limit headers are added: those are this client's (its remaining calls), not the entry's.
        if (this.cacheMiss !== null && this.cacheStore !== null && final.status !== 101) {
          const { step, path, ...settings } = this.cacheStore;
          const stored = await storeResponse(final, this.cacheMiss, settings);
          this.note(step, path, stored.note);
          final = stored.response;
        }
        if (this.limits.headers.length > 0 || this.limits.after.length > 0) final = await this.finishLimits(final);
        return { kind: "response", response: this.corsHeaders === null ? final : this.withCors(final), record: this.record(), answer: null };
      } catch (e) {
        if (!(e instanceof Failure) || e.lastError === null) throw e;
        return await this.runOnError(e);
      }
    } catch (e) {
      if (e instanceof Stop) return { kind: "response", response: this.corsHeaders === null ? e.response : this.withCors(e.response), record: this.record(), answer: e.answer };
      if (e instanceof Failure) return { kind: "problem", error: e.error, status: e.status, headers: e.headers, record: this.record() };
      throw e;
    }
  }

  /** What expressions need that takes I/O: Verify() results, registered certificates. */
  private prepare(): Promise<void> | void {
    const v = this.request.verification;
    if (v.status === "valid") this.certificate = { cert: v.path.certificates[0]!, model: v.model };
    else if (v.status === "invalid" && v.leaf && v.model) this.certificate = { cert: v.leaf, model: v.model };
    const p = this.selection.program;
    if ((this.certificate && (p.needsVerify || p.needsVerifyNoRevocation)) || p.needsRegistered || (p.needsBody && this.request.body)) return this.prepareAsync();
  }

  /** prepare() when expressions need I/O first (Verify() results, registered certificates). */
  private async prepareAsync(): Promise<void> {
    const p = this.selection.program;
    const verified: { verify?: boolean; verifyNoRevocation?: boolean } = {};
    if (this.certificate) {
      if (p.needsVerify) verified.verify = await this.verifyWith(this.revocationOn());
      if (p.needsVerifyNoRevocation) verified.verifyNoRevocation = await this.verifyWith("off");
    }
    if (p.needsRegistered) {
      const r = await this.services.registered();
      if (!r.ok) throw new Failure(r.error, null, null);
      this.registered = r.value;
    }
    this.verified = verified;
    if (p.needsBody && this.request.body) this.bufferedRequest = await bufferBody(this.request.body, MAX_BODY_BYTES);
  }

  private get expressionContext(): ReturnType<typeof createContext> {
    if (this.created) return this.created;
    const request = this.request;
    const input: ContextInput = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      ipAddress: request.ipAddress,
      params: this.selection.params,
      certificate: this.certificate,
      verified: this.verified,
      program: this.selection.program.program,
      registered: this.registered,
      // Read when an expression asks (the request id may take a random UUID, the region materializes `cf`).
      get requestId() { return request.requestId; },
      timestamp: request.timestamp,
      get region() { return request.region; },
      body: this.bufferedRequest?.body ?? null,
      defaultOrigin: this.settings.defaultOrigin,
      backendUrl: () => this.visibleBackendHref(),
    };
    return (this.created = createContext(input, this.state));
  }

  /** The deployment's revocation mode for "revocation on" (APIM validate-revocation, Verify()). */
  private revocationOn(): NonNullable<ValidationOptions["revocation"]> {
    const mode = this.settings.validation.revocation ?? DEFAULT_OPTIONS.revocation;
    return mode === "off" ? "soft" : mode;
  }

  private async verifyWith(revocation: NonNullable<ValidationOptions["revocation"]>): Promise<boolean> {
    const outcome = await this.validateCertificate(this.settings.trustStore, { ...this.settings.validation, revocation });
    if (outcome.kind === "unavailable") throw new Failure(outcome.error, null, null);
    return outcome.kind === "valid";
  }

  /** Validates the presented certificate, reusing the request's validation when the options are the deployment's. */
  private validateCertificate(store: string, options: ValidationOptions): Promise<ValidationOutcome> {
    const key = `${store}|${validationOptionsKey(options)}`;
    let p = this.validations.get(key);
    if (!p) {
      const v = this.request.verification;
      if (v.status !== "none" && store === this.settings.trustStore && validationOptionsKey(options) === validationOptionsKey(this.settings.validation)) {
        p = Promise.resolve(v.status === "valid" ? { kind: "valid", path: v.path } : { kind: "invalid", error: v.error });
      } else {
        p = this.services.validate(store, options);
      }
      this.validations.set(key, p);
    }
    return p;
  }

  // -------------------------------------------------------------------------------------------------------
  // Steps

  private async runSteps(steps: readonly Step[], prefix: string): Promise<void> {
    const counts = new Map<string, number>();
    for (const step of steps) {
      const n = (counts.get(step.k) ?? 0) + 1;
      counts.set(step.k, n);
      const path = `${prefix}${step.k}[${n}]`;
      this.current = { step, path };
      await this.runStep(step, path);
    }
  }

  private note(step: Step, path: string, note: string): void {
    this.steps.push({ section: this.state.section, path, step: step.k, at: position(step.at), note });
  }

  private async runStep(step: Step, path: string): Promise<void> {
    const section = this.state.section;
    switch (step.k) {
      case "validate-client-certificate":
        return this.validateStep(step, path);
      case "choose": {
        for (const [i, when] of step.whens.entries()) {
          const value = this.evaluate(when.condition);
          if (this.condition(value, when.condition)) {
            this.note(step, path, `when[${i + 1}]`);
            return this.runSteps(when.steps, `${path}/when[${i + 1}]/`);
          }
        }
        if (step.otherwise) {
          this.note(step, path, "otherwise");
          return this.runSteps(step.otherwise, `${path}/otherwise/`);
        }
        this.note(step, path, "no branch");
        return;
      }
      case "return-response": {
        const stored = step.responseVariable !== undefined ? this.storedResponse(step.responseVariable) : null;
        const status = step.status ? await this.statusOf(step.status.code) : stored?.state.status ?? this.pendingStatus?.code ?? 200;
        const reason = step.status?.reason ? await this.text(step.status.reason) : step.status ? "" : stored?.state.reason ?? this.pendingStatus?.reason ?? "";
        const headers = stored ? storedHeaders(stored.state.headers) : new Headers();
        for (const h of step.headers) await this.applyHeader(h, headers, false, path);
        const body: BodyInit | null = step.body ? await this.text(step.body) : stored?.bytes ?? null;
        this.note(step, path, `${status}`);
        const answer = { policyId: step.at.policyId, at: `${step.at.file}:${step.at.line}:${step.at.col}`, code: answerCode(status, typeof body === "string" ? body : null, headers) };
        throw new Stop(this.response(NULL_BODY_STATUSES.has(status) ? null : body, status, reason, headers), answer);
      }
      case "set-status": {
        const code = await this.statusOf(step.code);
        const reason = step.reason ? await this.text(step.reason) : "";
        if (this.state.response) {
          this.state.response.status = code;
          this.state.response.reason = reason;
          if (section === "on-error") this.draftTouched = true;
        } else {
          this.pendingStatus = { code, reason };
        }
        this.note(step, path, `${code}`);
        return;
      }
      case "set-header": {
        const target = section === "inbound" || section === "backend" ? this.request.headers : this.state.response!.headers;
        await this.applyHeader(step, target, target === this.request.headers, path);
        return;
      }
      case "set-body": {
        const body = await this.text(step.body);
        if (section === "inbound" || section === "backend") this.requestBody = body;
        else if (section === "outbound") this.responseBody = body;
        else {
          this.draftBody = body;
          this.draftTouched = true;
        }
        this.note(step, path, `${body.length} characters`);
        return;
      }
      case "set-body-liquid":
        return this.setBodyLiquid(step, path);
      case "set-variable": {
        const value = await this.value(step.value);
        this.expressionContext.variables.set(step.name, value);
        this.note(step, path, step.name);
        return;
      }
      case "trace":
        return this.traceStep(step, path);
      case "set-backend-service": {
        const text = await this.text(step.baseUrl);
        let url: URL | null = null;
        try {
          url = new URL(text);
        } catch {
          url = null;
        }
        if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
          throw this.failure("set-backend-service", "invalid_url", `base-url ${JSON.stringify(text)} is not an http(s) URL`,
            gatewayError("policy_expression_failed", "A policy set an invalid backend URL.", { requestId: this.request.requestId }), 500);
        }
        this.origin = url;
        this.note(step, path, url.origin + url.pathname);
        return;
      }
      case "set-query-parameter":
        return this.setQueryParameter(step, path);
      case "set-method": {
        const method = (await this.text(step.method)).trim();
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(method)) {
          throw this.failure("set-method", "invalid_method", `method ${JSON.stringify(method)} is not an HTTP method`,
            gatewayError("policy_expression_failed", "A policy set an invalid method.", { requestId: this.request.requestId }), 500);
        }
        // In on-error there is no origin call left to change (APIM allows the policy there).
        if (section !== "on-error") this.method = method;
        this.note(step, path, method);
        return;
      }
      case "check-header":
        return this.checkHeader(step, path);
      case "ip-filter":
        return this.ipFilter(step, path);
      case "rewrite-uri":
        return this.rewriteUri(step, path);
      case "cors":
        return this.corsStep(step, path);
      case "find-and-replace":
        return this.findAndReplace(step, path);
      case "forward-request":
        this.forward = { ...(step.timeoutMs !== null ? { timeoutMs: step.timeoutMs } : {}), followRedirects: step.followRedirects };
        this.note(step, path, `${step.timeoutMs !== null ? `timeout ${step.timeoutMs / 1000}s` : ""}${step.followRedirects ? " follow-redirects" : ""}`.trim());
        return;
      case "mock-response": {
        // APIM answers with the API's example for the status and type; certgate has no API schemas, so the answer
        // is what APIM gives when no example exists: the status, and no content.
        const headers = new Headers();
        if (step.contentType !== null) headers.set("content-type", step.contentType);
        this.note(step, path, `${step.status}`);
        throw new Stop(this.response(null, step.status, "", headers), answerOf(step, step.status, null, headers));
      }
      case "authentication-certificate":
        this.certificateId = step.certificateId;
        this.note(step, path, step.certificateId);
        return;
      case "authentication-basic": {
        // APIM: "sets the HTTP Authorization header to the value corresponding to the credentials" — RFC 7617's
        // `Basic base64(user-id ":" password)`, the credentials as UTF-8 (RFC 7617 §2.1's charset="UTF-8").
        // The value is not noted: the record and explain's output never show the credential.
        const credential = `${await this.text(step.username)}:${await this.text(step.password)}`;
        const value = `Basic ${toBase64(new TextEncoder().encode(credential))}`;
        await this.applyHeader({ at: step.at, name: { t: "text", v: "Authorization" }, existsAction: "override", values: [{ t: "text", v: value }] }, this.request.headers, true, path);
        this.note(step, path, "Authorization: Basic (credentials not shown)");
        return;
      }
      case "validate-jwt":
      case "rate-limit-by-key":
      case "quota-by-key":
      case "cache-lookup-value":
      case "cache-store-value":
      case "cache-remove-value":
        return runExtensionStep(step, this.stepHost(step, path));
      case "send-request":
      case "send-one-way-request":
      case "retry":
        return runOutboundStep(step, this.outboundHost(step, path));
      case "authentication-managed-identity": {
        const token = await managedIdentityToken(step, this.managedIdentityHost(step, path));
        if (token === null) return;
        // APIM: the token as a string in the variable, or the origin request's Authorization: Bearer.
        if (step.outputVariable !== null) this.expressionContext.variables.set(step.outputVariable, token);
        else this.request.headers.set("authorization", `Bearer ${token}`);
        return;
      }
      case "cache-lookup": {
        const outcome = await lookupResponse(step, {
          text: (t) => this.text(t),
          method: this.method,
          url: this.request.url,
          headers: this.request.headers,
          operation: this.selection.program.key,
          client: this.identity?.model.sha256 ?? null,
          cache: (store) => {
            const c = this.services.responseCache?.[store] ?? null;
            if (c === null && store === "external") this.services.log("error", "policy_cache_unbound", { requestId: this.request.requestId, at: position(step.at) });
            return c;
          },
        });
        this.note(step, path, outcome.note);
        if (outcome.kind === "miss") this.cacheMiss = outcome.pending;
        if (outcome.kind === "hit") throw new Stop(outcome.response, { policyId: step.at.policyId, at: position(step.at), code: null });
        return;
      }
      case "cache-store": {
        const settings = await storeSettings(step, { text: (t) => this.text(t) });
        if (typeof settings === "string") {
          throw this.failure("cache-store", "invalid_value", settings,
            gatewayError("policy_expression_failed", "A policy set an invalid cache duration.", { requestId: this.request.requestId }), 500);
        }
        this.cacheStore = { ...settings, step, path };
        this.note(step, path, this.cacheMiss ? `will store for ${settings.seconds} s` : "nothing to store (no cache-lookup missed)");
        return;
      }
    }
  }

  /** The IResponse a send-request stored in `name` (return-response response-variable-name), or a failure. */
  private storedResponse(name: string): OutboundResponse {
    const v = this.expressionContext.variables.call("GetValueOrDefault", [name, null]);
    if (v instanceof OutboundResponse) return v;
    throw this.failure("return-response", "invalid_variable", `response-variable-name ${JSON.stringify(name)} holds no response of a send-request (${v === null ? "null" : "another value"})`,
      gatewayError("policy_expression_failed", "A policy returned a response it does not have.", { requestId: this.request.requestId }), 500);
  }

  /** The runner as send-request, send-one-way-request and retry see it (outbound.ts). */
  private outboundHost(step: OutboundStep, path: string): OutboundHost {
    const services = this.services;
    const p = this.selection.program;
    return {
      text: (t) => this.text(t),
      evaluate: (code) => this.evaluate(code),
      condition: (value, code) => this.condition(value, code),
      setVariable: (name, value) => this.expressionContext.variables.set(name, value),
      applyHeader: (h, headers) => this.applyHeader(h, headers, false, path),
      copySource: async (withBody) => {
        const body = withBody ? await this.requestBodyText() : null;
        return { url: this.request.url.href, method: this.method, headers: new Headers(this.request.headers), body };
      },
      note: (text) => this.note(step, path, text),
      trace: (message, metadata) => {
        if (this.traces.length < MAX_TRACE_LINES) this.traces.push({ source: step.k, severity: "information", message, metadata, section: this.state.section, at: position(step.at) });
      },
      log: (level, event, fields) => services.log(level, event, fields),
      fail: (source, reason, message, answer, status) => this.failure(source, reason, message, answer, status),
      answer: (error) => new Failure(error, null, null),
      runSteps: async (steps, prefix) => {
        await this.runSteps(steps, prefix);
        this.current = { step, path };
      },
      forwardOrigin: () => this.forwardInRetry(),
      path,
      requestId: this.request.requestId,
      section: this.state.section,
      ownHost: this.request.url.host,
      readsBody: p.needsOutboundBody === true || p.needsBody,
      allowPrivate: this.settings.allowPrivateOutbound === true,
      budget: this.outboundBudget,
      fetch: services.fetchOutbound,
      managedIdentityToken: (auth: ManagedIdentityAuth) => managedIdentityToken(auth, this.managedIdentityHost(step, path)),
      waitUntil: services.waitUntil,
      now: () => Date.now(),
      sleep: services.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
      random: services.random ?? Math.random,
    };
  }

  /** The runner as authentication-managed-identity sees it (managed-identity.ts), alone or inside a send-request. */
  private managedIdentityHost(step: Step, path: string): ManagedIdentityHost {
    return {
      text: (t) => this.text(t),
      note: (text) => this.note(step, path, text),
      trace: (message, metadata) => {
        if (this.traces.length < MAX_TRACE_LINES) this.traces.push({ source: "authentication-managed-identity", severity: "information", message, metadata, section: this.state.section, at: position(step.at) });
      },
      log: (level, event, fields) => this.services.log(level, event, fields),
      fail: (source, reason, message, answer, status) => this.failure(source, reason, message, answer, status),
      answer: (error) => new Failure(error, null, null),
      requestId: this.request.requestId,
      position: position(step.at),
      ownHost: this.request.url.host,
      allowPrivate: this.settings.allowPrivateOutbound === true,
      budget: this.outboundBudget,
      fetch: this.services.fetchOutbound,
      service: this.services.managedIdentity,
      now: () => Date.now(),
    };
  }

  /** The client's body as text for send-request mode="copy" (buffered once; null: none). */
  private async requestBodyText(): Promise<string | null> {
    if (this.requestBody !== null) return this.requestBody;
    if (this.replayBody !== null) return new TextDecoder().decode(this.replayBody);
    // In on-error after the origin call the client's body has gone to the origin: there is none left to copy.
    if (this.bufferedRequest === null && this.request.body && this.request.body.locked) return null;
    if (this.bufferedRequest === null && this.request.body) this.bufferedRequest = await bufferBody(this.request.body, MAX_BODY_BYTES);
    const b = this.bufferedRequest?.body;
    if (!b) return null;
    if (b.text === null) {
      throw this.failure("send-request", "outbound_budget_exceeded", `the request body is larger than ${MAX_BODY_BYTES} bytes and cannot be copied`,
        gatewayError("outbound_budget_exceeded", "A policy exceeded the gateway's budget for outbound calls.", { requestId: this.request.requestId }), null);
    }
    return b.consumed ? "" : b.text;
  }

  /** forward-request inside retry: the origin call of this attempt (the previous attempt's response is dropped). */
  private async forwardInRetry(): Promise<void> {
    if (this.originResponse) await this.originResponse.body?.cancel().catch(() => {});
    this.originResponse = null;
    if (this.replayBody === null && this.requestBody === null && this.request.body && this.method !== "GET" && this.method !== "HEAD") {
      const stream = this.bufferedRequest === null ? this.request.body : this.bufferedRequest.body.consumed ? null : this.bufferedRequest.forward;
      const bytes = stream ? await readCapped(stream, MAX_BODY_BYTES) : new Uint8Array();
      if (bytes === null) {
        throw this.failure("retry", "outbound_budget_exceeded", `the request body is larger than ${MAX_BODY_BYTES} bytes and cannot be sent again`,
          gatewayError("outbound_budget_exceeded", "A policy exceeded the gateway's budget for outbound calls.", { requestId: this.request.requestId }), null);
      }
      this.replayBody = bytes;
    }
    const section = this.state.section;
    const current = this.current;
    const response = await this.callOrigin();
    this.current = current;
    this.state.section = section;
    this.originResponse = response;
    this.state.response = { status: response.status, reason: response.statusText, headers: new Headers(response.headers) };
  }

  /** The runner as issue 14's steps see it (extension-steps.ts). */
  private stepHost(step: ExtensionStep, path: string): StepHost {
    return {
      text: (t) => this.text(t),
      value: (t) => this.value(t),
      evaluate: (code) => this.evaluate(code),
      condition: (value, code) => this.condition(value, code),
      setVariable: (name, value) => this.expressionContext.variables.set(name, value),
      note: (text) => this.note(step, path, text),
      log: (level, event, fields) => this.services.log(level, event, fields),
      fail: (source, reason, message, answer, status) => this.failure(source, reason, message, answer, status),
      answer: (error, headers) => new Failure(error, null, null, headers),
      admitted: (headers, after) => {
        this.limits.headers.push(...headers);
        if (after) this.limits.after.push(after);
      },
      requestId: this.request.requestId,
      timestamp: this.request.timestamp,
      headers: this.request.headers,
      url: this.request.url,
      certificateSha256: this.identity?.model.sha256 ?? null,
      position: position(step.at),
      services: this.services,
      subscription: () => this.subscription(),
      operation: this.selection.program.program.api === null ? null : {
        apiId: this.selection.program.program.api.id,
        apiName: this.selection.program.program.api.name,
        id: this.selection.program.program.operation?.id ?? null,
        name: this.selection.program.program.operation?.name ?? null,
      },
    };
  }

  /** rate-limit / quota's subscription (extension-steps.ts StepHost.subscription). */
  private async subscription(): Promise<string | null> {
    const sha256 = this.identity?.model.sha256;
    if (sha256 === undefined) return "anonymous";
    if (this.registered === null) {
      const r = await this.services.registered();
      if (!r.ok) return null;
      this.registered = r.value;
    }
    for (const c of this.registered.values()) if (c.model.sha256 === sha256) return `registered:${c.id}`;
    return `certificate:${sha256}`;
  }

  /** After outbound: the limit headers on the response, then the deferred increments (context.Response is the final response). */
  private async finishLimits(final: Response): Promise<Response> {
    if (final.status === 101) return final;
    const response = new Response(final.body, final);
    for (const [name, value] of this.limits.headers) response.headers.set(name, value);
    if (this.limits.after.length > 0) {
      this.state.section = "outbound";
      this.state.response ??= { status: response.status, reason: response.statusText, headers: new Headers(response.headers) };
      const length = Number(this.request.headers.get("content-length") ?? "0");
      for (const after of this.limits.after) await after(response, Number.isFinite(length) && length > 0 ? length : null);
    }
    return response;
  }

  private async traceStep(step: Extract<Step, { k: "trace" }>, path: string): Promise<void> {
    const message = await this.text(step.message);
    const metadata: Record<string, string> = {};
    for (const m of step.metadata) metadata[m.name] = await this.text(m.value);
    const line: TraceLine = { source: step.source, severity: step.severity, message, metadata, section: this.state.section, at: position(step.at) };
    if (this.traces.length < MAX_TRACE_LINES) {
      this.traces.push(line);
      this.services.log(step.severity === "error" ? "error" : "info", "policy_trace", {
        requestId: this.request.requestId, operation: this.selection.program.key, ...line,
      });
    }
    this.note(step, path, step.source);
  }

  /** set-header with APIM's exists-action, on request headers (`upstream`) or response headers. */
  private async applyHeader(h: SetHeader, headers: Headers, upstream: boolean, path: string): Promise<void> {
    const name = (await this.text(h.name)).trim();
    const step = this.current!.step;
    const lower = name.toLowerCase();
    if (upstream && step.k === "set-header" && this.settings.isIdentityHeader?.(lower) && this.settings.isOwnedHeader(lower)) {
      // The client's value was stripped before any policy ran; the operator's policy is trusted: its edit applies
      // on top of the gateway's identity, deliberately, and says so in the trace and the log.
      const values: string[] = [];
      for (const t of h.values) {
        const v = await this.value(t);
        if (v !== null) values.push(typeof v === "string" ? v : this.toText(v));
      }
      if (values.some((v) => /[\r\n\0]/.test(v))) {
        throw this.failure("set-header", "invalid_header", `header ${JSON.stringify(name)}: invalid value`,
          gatewayError("policy_expression_failed", "A policy set an invalid header.", { requestId: this.request.requestId }), 500);
      }
      this.identityEdits.push({ name, action: h.existsAction, values, empty: h.values.length === 0 });
      const message = `set-header ${name} (${h.existsAction}) overrides the gateway's identity header`;
      if (this.traces.length < MAX_TRACE_LINES) this.traces.push({ source: "certgate", severity: "information", message, metadata: {}, section: this.state.section, at: position(h.at) });
      this.services.log("info", "policy_identity_header_override", { requestId: this.request.requestId, header: name, action: h.existsAction, at: position(h.at) });
      this.note(step, path, `${name} ${h.existsAction}: overrides the gateway's identity header`);
      return;
    }
    if (upstream && this.settings.isOwnedHeader(lower)) {
      this.services.log("warn", "policy_header_reserved", { requestId: this.request.requestId, header: name, at: position(h.at) });
      if (step.k === "set-header") this.note(step, path, `${name}: skipped, the gateway owns this header`);
      return;
    }
    const values: string[] = [];
    for (const t of h.values) {
      const v = await this.value(t);
      if (v !== null) values.push(typeof v === "string" ? v : this.toText(v));
    }
    try {
      switch (h.existsAction) {
        case "delete":
          headers.delete(name);
          break;
        case "skip":
          if (!headers.has(name) && values.length > 0) headers.set(name, values.join(","));
          break;
        case "append":
          if (values.length > 0) headers.append(name, values.join(","));
          break;
        case "override":
          if (values.length > 0 || h.values.length === 0) headers.set(name, values.join(","));
          break;
      }
    } catch (e) {
      // Headers rejects invalid names and values (CR, LF, NUL): a runtime error, as in .NET.
      throw this.failure("set-header", "invalid_header", `header ${JSON.stringify(name)}: ${e instanceof Error ? e.message : String(e)}`,
        gatewayError("policy_expression_failed", "A policy set an invalid header.", { requestId: this.request.requestId }), 500);
    }
    if (step.k === "set-header") this.note(step, path, `${name} ${h.existsAction}`);
  }

  // -------------------------------------------------------------------------------------------------------
  // Request shaping (the decisions are shaping.ts's; here they are carried out)

  private corsStep(step: Extract<Step, { k: "cors" }>, path: string): void {
    const d = decideCors(step, this.request.method, this.request.headers);
    this.note(step, path, d.note);
    switch (d.kind) {
      case "answer":
        throw new Stop(this.response(null, 200, "", d.headers), answerOf(step, 200, null, d.headers));
      case "empty":
        throw new Stop(this.response(null, 200, "", new Headers()), answerOf(step, 200, null, null));
      case "declined":
        this.corsPreflightDeclined = true;
        return;
      case "allowed":
        this.corsHeaders = d.headers;
        this.corsPreflightDeclined = false;
        return;
      case "pass":
        return;
    }
  }

  /** The response with cors's headers (a fetched response's headers are immutable: it is rebuilt). */
  private withCors(r: Response): Response {
    if (r.status === 101) return r;
    const headers = new Headers(r.headers);
    for (const [k, v] of this.corsHeaders!) {
      if (k === "vary") headers.append("vary", v);
      else headers.set(k, v);
    }
    return new Response(r.body, { status: r.status, statusText: r.statusText, headers });
  }

  /**
   * find-and-replace on the body of the section's message: the request's in inbound/backend, the response's in
   * outbound, on-error's draft in on-error. The result is the body from then on, as set-body's would be. A body
   * over MAX_BODY_BYTES cannot be edited: LimitExceeded.
   */
  private async findAndReplace(step: Extract<Step, { k: "find-and-replace" }>, path: string): Promise<void> {
    const from = await this.text(step.from);
    const to = await this.text(step.to);
    const body = this.sectionBody();
    const fail = (reason: string, message: string) => this.failure("find-and-replace", reason, message,
      gatewayError("policy_expression_failed", "A policy could not edit the body.", { requestId: this.request.requestId }), 500);
    if (body === null) throw fail("LimitExceeded", `the body is larger than ${MAX_BODY_BYTES} bytes`);
    if (from === "") throw fail("ArgumentException", "String cannot be of zero length. (Parameter 'oldValue')");
    const r = replaceAll(body, from, to, MAX_BODY_BYTES);
    if (r === null) throw fail("LimitExceeded", `the body would be longer than ${MAX_BODY_BYTES} characters`);
    this.setSectionBody(r.text);
    this.note(step, path, `${r.count} replaced`);
  }

  /**
   * The body of the section's message as policies edit it: the request's in inbound/backend, the response's in
   * outbound, on-error's draft in on-error — a set-body's, else the buffered one ("" once consumed or when there
   * is none). Null: larger than MAX_BODY_BYTES.
   */
  private sectionBody(): string | null {
    const section = this.state.section;
    const current = (buffered: BufferedBody | null | undefined): string | null =>
      buffered === null || buffered === undefined ? "" : buffered.consumed ? "" : buffered.text;
    if (section === "inbound" || section === "backend") return this.requestBody ?? current(this.bufferedRequest?.body);
    if (section === "outbound") return this.responseBody ?? current(this.state.response?.body);
    return this.draftBody ?? "";
  }

  /** The section's message body from now on (as set-body sets it). */
  private setSectionBody(text: string): void {
    const section = this.state.section;
    if (section === "inbound" || section === "backend") this.requestBody = text;
    else if (section === "outbound") this.responseBody = text;
    else {
      this.draftBody = text;
      this.draftTouched = true;
    }
  }

  /**
   * set-body template="liquid" (policy/liquid.ts): renders over the section's message — its body as
   * find-and-replace reads it, its Content-Type — and the request; the result is the body from then on. A failure
   * (a budget, a body that is not JSON, an XML body) runs on-error with LastError.Source "set-body".
   */
  private setBodyLiquid(step: Extract<Step, { k: "set-body-liquid" }>, path: string): void {
    const section = this.state.section;
    const inRequest = section === "inbound" || section === "backend";
    const response = this.state.response;
    const body = this.sectionBody();
    const fail = (reason: string, message: string) => this.failure("set-body", reason, message,
      gatewayError("policy_expression_failed", "A policy could not render the body.", { requestId: this.request.requestId }), 500);
    if (body === null) throw fail("LimitExceeded", `the body is larger than ${MAX_BODY_BYTES} bytes`);
    const r = renderLiquid(step.template, {
      body,
      contentType: (inRequest ? this.request.headers : response?.headers)?.get("content-type") ?? null,
      parseDate: step.parseDate,
      request: {
        method: this.method,
        originalMethod: this.request.method,
        url: new URL(this.visibleBackendHref()),
        originalUrl: this.request.url,
        ipAddress: this.request.ipAddress,
        params: this.selection.params,
        headers: this.request.headers,
        hasBody: this.request.body !== null,
      },
      response: response ? { status: response.status, headers: response.headers } : null,
      now: this.request.timestamp,
    });
    if (!r.ok) throw fail(r.reason, r.message);
    this.setSectionBody(r.text);
    this.note(step, path, `liquid, ${r.text.length} characters`);
  }

  private async setQueryParameter(step: Extract<Step, { k: "set-query-parameter" }>, path: string): Promise<void> {
    const name = await this.text(step.name);
    const values: string[] = [];
    for (const t of step.values) {
      const v = await this.value(t);
      if (v !== null) values.push(typeof v === "string" ? v : this.toText(v));
    }
    editQuery((this.upstreamQuery ??= new URLSearchParams(this.request.url.search)), step.existsAction, name, values, step.values.length > 0);
    this.note(step, path, `${name} ${step.existsAction}`);
  }

  /** check-header: a failure runs on-error (LastError Source check-header), then answers failed-check-httpcode. */
  private async checkHeader(step: Extract<Step, { k: "check-header" }>, path: string): Promise<void> {
    const name = (await this.text(step.name)).trim();
    const ignoreCase = (await this.text(step.ignoreCase)).trim().toLowerCase();
    if (ignoreCase !== "true" && ignoreCase !== "false") {
      throw this.failure("check-header", "invalid_value", `ignore-case ${JSON.stringify(ignoreCase)} is not true or false`,
        gatewayError("policy_expression_failed", "A policy has an invalid check-header.", { requestId: this.request.requestId }), 500);
    }
    const status = await this.statusOf(step.failedStatus);
    const message = await this.text(step.failedMessage);
    let actual: string | null;
    try {
      actual = this.request.headers.get(name);
    } catch {
      actual = null; // not a valid header name: not present
    }
    const allowed: string[] = [];
    for (const t of step.values) allowed.push(await this.text(t));
    const failure = checkHeaderFailure(name, actual, allowed, ignoreCase === "true");
    if (failure === null) {
      this.note(step, path, `${name} passed`);
      return;
    }
    this.note(step, path, `${name} failed: ${failure.reason}`);
    throw this.failure("check-header", failure.reason, failure.message, gatewayError("policy_check_failed", message, { header: name }), status);
  }

  /** ip-filter on context.Request.IpAddress: a refusal runs on-error (CallerIpNotAllowed), then 403. */
  private ipFilter(step: Extract<Step, { k: "ip-filter" }>, path: string): void {
    const address = this.request.ipAddress;
    if (ipFilterAllows(step, address)) {
      this.note(step, path, `${address} ${step.action === "allow" ? "allowed" : "not forbidden"}`);
      return;
    }
    this.note(step, path, `${address || "(no address)"} refused`);
    throw this.failure("ip-filter", "CallerIpNotAllowed", `Caller IP address ${address} is not allowed. Access denied.`,
      gatewayError("caller_ip_not_allowed", "The caller's IP address is not allowed."), 403);
  }

  /** rewrite-uri: the origin path (under the backend's base URL) and query, from then on. */
  private async rewriteUri(step: Extract<Step, { k: "rewrite-uri" }>, path: string): Promise<void> {
    const template = (await this.text(step.template)).trim();
    const r = rewriteTarget(template, this.selection.params, this.upstreamQuery ?? new URLSearchParams(this.request.url.search), step.copyUnmatchedParams);
    if ("error" in r) {
      throw this.failure("rewrite-uri", "invalid_template", r.error,
        gatewayError("policy_expression_failed", "A policy has an invalid rewrite-uri template.", { requestId: this.request.requestId }), 500);
    }
    this.upstreamPath = r.path;
    this.upstreamQuery = r.query;
    this.note(step, path, r.path + (r.query.size > 0 ? `?${r.query}` : ""));
  }

  // -------------------------------------------------------------------------------------------------------
  // validate-client-certificate

  private async validateStep(step: Extract<Step, { k: "validate-client-certificate" }>, path: string): Promise<void> {
    const problem = await this.checkCertificate(step);
    if (problem === null) {
      this.note(step, path, "passed");
      return;
    }
    if (step.ignoreError) {
      this.note(step, path, `failed, ignored: ${problem.code}`);
      return;
    }
    this.note(step, path, `failed: ${problem.code}`);
    const answer = step.failedMessage !== null ? { ...problem, detail: step.failedMessage } : problem;
    throw this.failure("validate-client-certificate", problem.code, problem.detail, answer, step.failedStatus ?? this.settings.denyStatus);
  }

  /** The first failed check of a validate-client-certificate step, or null. */
  private async checkCertificate(step: Extract<Step, { k: "validate-client-certificate" }>): Promise<GatewayError | null> {
    const v = this.request.verification;
    if (v.status === "none") return gatewayError("certificate_missing", "A client certificate is required.");
    if (!this.certificate) return v.status === "invalid" ? v.error : gatewayError("certificate_missing", "A client certificate is required.");
    const { cert, model } = this.certificate;
    const store = step.trustStore ?? this.settings.trustStore;
    const options: ValidationOptions = {
      ...this.settings.validation,
      checkNotBefore: step.validateNotBefore,
      checkNotAfter: step.validateNotAfter,
      revocation: step.validateRevocation ? this.revocationOn() : "off",
    };
    let path: ValidatedPath | null = null;
    if (step.validateTrust) {
      const outcome = await this.validateCertificate(store, options);
      if (outcome.kind === "unavailable") throw new Failure(outcome.error, null, null);
      if (outcome.kind === "invalid") return outcome.error;
      path = outcome.path;
    } else {
      const now = this.request.timestamp;
      const dates = { depth: 0, subject: model.subject.rfc4514, time: now.toISOString() };
      if (step.validateNotBefore && now < cert.notBefore) {
        return gatewayError("certificate_not_yet_valid", "The certificate is not valid yet.", { ...dates, notBefore: model.notBefore });
      }
      if (step.validateNotAfter && now > cert.notAfter) {
        return gatewayError("certificate_expired", "The certificate has expired.", { ...dates, notAfter: model.notAfter });
      }
      if (step.validateRevocation) {
        const outcome = await this.validateCertificate(store, options);
        if (outcome.kind === "unavailable") throw new Failure(outcome.error, null, null);
        if (outcome.kind === "invalid" && (outcome.error.code === "certificate_revoked" || outcome.error.code === "revocation_unknown")) return outcome.error;
        if (outcome.kind === "valid") path = outcome.path;
      }
    }
    if (step.identities.length > 0 && !(await this.anyIdentity(step.identities, cert, model, path))) {
      return gatewayError("certificate_identity_mismatch", "The certificate does not match any identity this operation accepts.",
        { subject: model.subject.rfc4514, thumbprint: model.thumbprint });
    }
    if (path && !this.identity) this.identity = { path, model };
    return null;
  }

  private async anyIdentity(identities: readonly Identity[], cert: CertificateFacts["cert"], model: CertificateModel, path: ValidatedPath | null): Promise<boolean> {
    let issuerThumbprint: string | null | undefined;
    const issuer = async () => {
      if (issuerThumbprint === undefined) {
        const c = path ? path.certificates[1] ?? path.certificates[0]! : null;
        issuerThumbprint = c ? (await describeCertificate(c)).thumbprint : null;
      }
      return issuerThumbprint;
    };
    for (const id of identities) {
      let all = true;
      if (id.thumbprint !== undefined) all &&= sameHex(id.thumbprint, model.thumbprint);
      if (all && id.serialNumber !== undefined) all &&= sameHex(id.serialNumber, model.serialNumber, true);
      if (all && id.commonName !== undefined) all &&= model.commonName === id.commonName;
      if (all && id.subject !== undefined) all &&= dnEquals(id.subject, cert.subject);
      if (all && id.dnsName !== undefined) all &&= model.subjectAltNames.dns.some((d) => d.toLowerCase() === id.dnsName!.toLowerCase());
      if (all && id.issuerSubject !== undefined) all &&= dnEquals(id.issuerSubject, cert.issuer);
      // certgate extensions: SAN identities (RFC 5280 §4.2.1.6) and SPIFFE IDs (spiffe.ts).
      if (all && id.uri !== undefined) all &&= model.subjectAltNames.uri.includes(id.uri);
      if (all && id.email !== undefined) all &&= model.subjectAltNames.email.some((e) => sameEmail(e, id.email!));
      if (all && id.ipAddress !== undefined) {
        const want = parseIp(id.ipAddress);
        all &&= want !== null && model.subjectAltNames.ip.some((a) => {
          const got = parseIp(a);
          return got !== null && got.family === want.family && got.value === want.value;
        });
      }
      if (all && id.spiffeId !== undefined) {
        const claim = parseSpiffeClaim(id.spiffeId);
        all &&= claim !== null && matchesSpiffeClaim(claim, model.subjectAltNames.uri);
      }
      if (all && id.issuerThumbprint !== undefined) {
        const t = await issuer();
        all &&= t !== null && sameHex(id.issuerThumbprint, t);
      }
      if (all && id.issuerCertificateId !== undefined) {
        const registered = this.registered?.get(id.issuerCertificateId);
        if (!registered) {
          this.services.log("warn", "policy_registered_certificate_missing", { requestId: this.request.requestId, id: id.issuerCertificateId });
          all = false;
        } else {
          const t = await issuer();
          all &&= t !== null && t === registered.model.thumbprint;
        }
      }
      if (all) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------------------
  // The origin and outbound

  /**
   * The origin URL as it stands: the backend (set-backend-service), the path (the API's suffix removed, or
   * rewrite-uri's) and the query (set-query-parameter / rewrite-uri). What the origin call uses, and what
   * `context.Request.Url` shows (APIM: "Url contains the current value of the full backend URL").
   */
  /** context.Request.Url: the backend URL without user:password (a base-url or ORIGIN_URL may hold them; IUrl has none). */
  private visibleBackendHref(): string {
    const href = this.upstreamHref();
    if (!href.includes("@")) return href;
    const u = new URL(href);
    u.username = "";
    u.password = "";
    return u.href;
  }

  private upstreamHref(): string {
    const program = this.selection.program.program;
    const path = this.upstreamPath ?? (program.api ? stripApiPath(this.request.url.pathname, program.api.path) : this.request.url.pathname);
    return upstreamUrl(this.origin, path, this.upstreamQuery === null ? this.request.url.search : this.upstreamQuery.size > 0 ? `?${this.upstreamQuery}` : "");
  }

  private async callOrigin(): Promise<Response> {
    // A copy: the identity headers go to the origin only, never into the request a later send-request mode="copy"
    // (outbound, on-error) or context.Request.Headers sees.
    const headers = new Headers(this.request.headers);
    // A body replaced by set-body (or consumed by a Body.As<T>() without preserveContent) has its own length; the
    // client's Content-Length no longer describes it.
    const buffered = this.bufferedRequest;
    const consumed = buffered !== null && buffered.body.consumed;
    // A GET or HEAD (set-method may have made one) sends no body.
    const bodiless = this.method === "GET" || this.method === "HEAD";
    if (this.requestBody !== null || consumed || bodiless) headers.delete("content-length");
    if (this.identity) {
      const identity = this.services.identityHeaders(this.identity.path, this.identity.model);
      for (const name in identity) headers.set(name, identity[name]!);
    }
    for (const e of this.identityEdits) {
      if (e.action === "delete") headers.delete(e.name);
      else if (e.action === "skip") {
        if (!headers.has(e.name) && e.values.length > 0) headers.set(e.name, e.values.join(","));
      } else if (e.action === "append") {
        if (e.values.length > 0) headers.append(e.name, e.values.join(","));
      } else if (e.values.length > 0 || e.empty) headers.set(e.name, e.values.join(","));
    }
    const call: OriginCall = {
      url: this.upstreamHref(),
      method: this.method,
      headers,
      body: bodiless ? null : this.requestBody ?? (this.replayBody !== null ? new Response(this.replayBody).body : buffered === null ? this.request.body : consumed ? null : buffered.forward),
      ...this.forward,
    };
    const r = await this.services.fetchOrigin(call, this.certificateId);
    if (r.ok) return r.value;
    if (r.error.code !== "origin_unreachable" && r.error.code !== "origin_timeout") throw new Failure(r.error, null, null);
    this.current = null;
    throw new Failure(r.error, null, {
      source: "forward-request", reason: r.error.code, message: r.error.detail, scope: "", section: "backend", path: "forward-request", policyId: "",
    });
  }

  private async runOutbound(origin: Response): Promise<Response> {
    const steps = this.selection.program.program.outbound;
    // A WebSocket upgrade (101) is passed through as it is: a Response with that status cannot be rebuilt.
    if (steps.length === 0 || origin.status === 101) return origin;
    this.state.section = "outbound";
    this.state.response = { status: origin.status, reason: origin.statusText, headers: new Headers(origin.headers) };
    // Expressions read context.Response.Body: buffer it (the stream is then used up; `forward` replaces it).
    const buffered = this.selection.program.needsBody && origin.body ? await bufferBody(origin.body, MAX_BODY_BYTES) : null;
    if (buffered) this.state.response.body = buffered.body;
    const originBody = buffered ? buffered.forward : origin.body;
    try {
      await this.runSteps(steps, "");
    } catch (e) {
      await originBody?.cancel().catch(() => {});
      throw e;
    }
    const r = this.state.response;
    const consumed = buffered !== null && buffered.body.consumed;
    if (this.responseBody !== null || consumed) {
      await originBody?.cancel().catch(() => {});
      r.headers.delete("content-length");
    }
    const body = NULL_BODY_STATUSES.has(r.status) ? null : this.responseBody ?? (consumed ? null : originBody);
    return this.response(body, r.status, r.reason, r.headers);
  }

  // -------------------------------------------------------------------------------------------------------
  // on-error

  private async runOnError(failure: Failure): Promise<RunResult> {
    this.state.section = "on-error";
    this.state.lastError = failure.lastError;
    const status = failure.status ?? defaultStatus(failure.error);
    this.state.response = { status, reason: "", headers: new Headers() };
    try {
      await this.runSteps(this.selection.program.program.onError, "");
    } catch (e) {
      if (e instanceof Stop) return { kind: "response", response: this.corsHeaders === null ? e.response : this.withCors(e.response), record: this.record(), answer: e.answer };
      if (e instanceof Failure) return { kind: "problem", error: e.error, status: e.status, headers: e.headers, record: this.record() };
      throw e;
    }
    const r = this.state.response;
    if (this.draftTouched) {
      const answer = { policyId: failure.lastError?.policyId ?? this.selection.program.key, at: null, code: r.status >= 400 ? failure.error.code : null };
      return { kind: "response", response: this.response(NULL_BODY_STATUSES.has(r.status) ? null : this.draftBody, r.status, r.reason, r.headers), record: this.record(), answer };
    }
    return { kind: "problem", error: failure.error, status: failure.status, headers: [...r.headers.keys()].length > 0 ? r.headers : null, record: this.record() };
  }

  // -------------------------------------------------------------------------------------------------------
  // Expressions and templates

  /** A failure at the current step (LastError from it) that runs on-error. */
  private failure(source: string, reason: string, message: string, answer: GatewayError, status: number | null): Failure {
    const step = this.current?.step;
    const lastError: LastError = {
      source, reason, message,
      scope: step?.at.scope ?? "",
      section: this.state.section,
      path: this.current?.path ?? "",
      policyId: step?.at.policyId ?? "",
    };
    return new Failure(answer, status, lastError);
  }

  private evaluate(code: Code): Value {
    try {
      return evaluate(code, { context: this.expressionContext.context }, this.state.section === "on-error" ? this.onErrorBudget : this.budget);
    } catch (e) {
      throw this.expressionFailure(e, code);
    }
  }

  private condition(value: Value, code: Code): boolean {
    try {
      return toCondition(value, code.node.at, code.file);
    } catch (e) {
      throw this.expressionFailure(e, code);
    }
  }

  private toText(v: Value): string {
    try {
      return toText(v);
    } catch (e) {
      throw this.expressionFailure(e, null);
    }
  }

  private expressionFailure(e: unknown, code: Code | null): Failure {
    let reason: string;
    let message: string;
    let at: string;
    if (e instanceof StepLimitExceeded) {
      reason = "step_limit";
      message = `the expression step limit (${EXPRESSION_STEP_BUDGET}) was exceeded`;
      at = `${e.file}:${e.at[0]}:${e.at[1]}`;
    } else if (e instanceof PolicyRuntimeError) {
      reason = e.reason;
      message = e.message;
      // Text conversion outside an evaluation reports no position: the step's is the best there is.
      at = e.file !== "" ? `${e.file}:${e.at[0]}:${e.at[1]}` : code ? `${code.file}:${code.node.at[0]}:${code.node.at[1]}` : position(this.current?.step.at);
    } else if (e instanceof HostError) {
      reason = e.reason;
      message = e.message;
      at = code ? `${code.file}:${code.node.at[0]}:${code.node.at[1]}` : position(this.current?.step.at);
    } else {
      // A bug in the interpreter or a host: still the policy's failure for this request, with the stack logged.
      reason = "internal";
      message = e instanceof Error ? e.message : String(e);
      at = code ? `${code.file}:${code.node.at[0]}:${code.node.at[1]}` : position(this.current?.step.at);
    }
    this.services.log("error", "policy_expression_failed", {
      requestId: this.request.requestId,
      operation: this.selection.program.key,
      section: this.state.section,
      path: this.current?.path ?? "",
      policyId: this.current?.step.at.policyId ?? "",
      reason,
      message,
      at,
      ...(reason === "internal" && e instanceof Error ? { stack: e.stack } : {}),
    });
    return this.failure("expression", reason, message,
      gatewayError("policy_expression_failed", "A policy expression failed while processing the request.", { requestId: this.request.requestId }),
      null);
  }

  /** A template's value: raw for an expression (set-variable keeps types), text otherwise. */
  private async value(t: Template): Promise<Value> {
    if (t.t === "code") return this.evaluate(t.code);
    return this.text(t);
  }

  private async text(t: Template): Promise<string> {
    switch (t.t) {
      case "text":
        return t.v;
      case "code":
        return this.toText(this.evaluate(t.code));
      case "parts": {
        let out = "";
        for (const p of t.parts) {
          if ("text" in p) out += p.text;
          else if ("value" in p) out += await this.namedValue(p.value);
          else out += this.toText(this.evaluate(p.code));
        }
        return out;
      }
    }
  }

  private async namedValue(name: string): Promise<string> {
    const hit = this.namedValues.get(name);
    if (hit !== undefined) return hit;
    let value: string | null = null;
    if (this.bundle.runtimeValues.has(name)) {
      const r = await this.services.namedValue(name);
      if (!r.ok) throw new Failure(r.error, null, null);
      value = r.value;
    }
    if (value === null) {
      this.services.log("error", "policy_value_missing", { requestId: this.request.requestId, name, at: position(this.current?.step.at) });
      throw this.failure("named-value", "named_value_missing", `named value ${JSON.stringify(name)} is not defined`,
        gatewayError("policy_value_missing", "A value this policy needs is not configured.", { requestId: this.request.requestId }), null);
    }
    this.namedValues.set(name, value);
    return value;
  }

  private async statusOf(t: Template): Promise<number> {
    const text = (await this.text(t)).trim();
    const code = /^\d{3}$/.test(text) ? Number(text) : NaN;
    if (!(code >= 200 && code <= 599)) {
      throw this.failure(this.current?.step.k ?? "set-status", "invalid_status", `status ${JSON.stringify(text)} is not an HTTP status from 200 to 599`,
        gatewayError("policy_expression_failed", "A policy set an invalid status.", { requestId: this.request.requestId }), 500);
    }
    return code;
  }

  private response(body: BodyInit | null, status: number, reason: string, headers: Headers): Response {
    return new Response(body, { status, statusText: reason, headers });
  }
}

/** A stored response's headers for return-response: without those that described the bytes on the wire (fetch decoded them). */
function storedHeaders(from: Headers): Headers {
  const headers = new Headers(from);
  for (const name of ["content-length", "content-encoding", "transfer-encoding", "connection"]) headers.delete(name);
  return headers;
}

/** The status an error answers with when nothing overrides it (for context.Response in on-error). */
function defaultStatus(error: GatewayError): number {
  switch (error.code) {
    case "origin_unreachable":
    case "send_request_failed":
      return 502;
    case "origin_timeout":
      return 504;
    case "policy_value_missing":
      return 503;
    default:
      return 500;
  }
}

function position(at: Origin | undefined): string {
  return at ? `${at.file}:${at.line}:${at.col}` : "";
}

/** Hex identifiers compared as APIM users write them: case, spaces and colons ignored (and leading zeros, for serials). */
function sameHex(a: string, b: string, number = false): boolean {
  const norm = (s: string) => {
    const h = s.replace(/[\s:]/g, "").toUpperCase();
    return number ? h.replace(/^0+(?=.)/, "") : h;
  };
  return norm(a) === norm(b);
}

/** The request path without the API's path (APIM's API URL suffix), segment by segment. */
function stripApiPath(pathname: string, apiPath: string): string {
  const n = pathSegments(apiPath).length;
  if (n === 0) return pathname;
  const raw = pathname.split("/").filter((s) => s !== "");
  const rest = raw.slice(n).join("/");
  return rest === "" ? "/" : `/${rest}${pathname.endsWith("/") ? "/" : ""}`;
}

