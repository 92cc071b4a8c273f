/**
 * The compiled policy bundle: what `npm run policies:build` (scripts/compile-policies) writes to
 * build/policies.json and the Worker evaluates. Shared by the compiler and the runtime.
 *
 * Contract: plain JSON, deterministic (sorted keys where order carries no meaning, stable ids), versioned:
 * the Worker refuses a bundle whose `schema` is not SCHEMA_VERSION (503 `policy_bundle_invalid`, fail
 * closed). Scopes and `<base/>` are resolved at compile time: each operation carries one flat program per
 * section, every step tagged with where it came from.
 */
import type { Code } from "./expr/ast";
import type { ValidateJwtStep } from "./jwt-schema";
import type { LimitStep } from "./state/schema";
import type { CacheValueStep } from "./cache-schema";
import type { ManagedIdentityStep } from "./managed-identity-schema";
import type { OutboundStep } from "./outbound-schema";
import type { ResponseCacheStep } from "./response-cache-schema";

/**
 * The bundle format's version; bumped whenever a step kind or field is added or changes meaning, so that a runtime
 * never runs a bundle it would misread (an old runtime cannot know what a new step does: fail closed, 503).
 * 2: request shaping (set-query-parameter … cors), validate-jwt, rate limits, cache-*-value, set-body-liquid.
 * The bundle does not list its step kinds: a runtime refuses any bundle of another version before reading a step,
 * and within one version an unknown kind is already named by bundle.ts's checker ("unknown step …").
 */
export const SCHEMA_VERSION = 2;

export interface PolicyBundle {
  readonly schema: typeof SCHEMA_VERSION;
  /** SHA-256 of the compiler inputs (files and values), lowercase hex. */
  readonly source: string;
  /** Routes in match order (most specific first); `operation` keys into `operations`. */
  readonly routes: readonly Route[];
  /** Programs by operation key (`<apiId>/<operationId>`), plus `*` for requests no route matches (global scope only). */
  readonly operations: Readonly<Record<string, Program>>;
  /** Named values resolved at run time (secret ones: KV `v/<version>/values` or a Worker secret of that name). */
  readonly runtimeValues: readonly string[];
}

/** One operation's route. Matching: host (when set, case-insensitive), method (`*` = any), path segments. */
export interface Route {
  readonly operation: string;
  readonly host: string | null;
  readonly method: string;
  /** The API's base path and the operation's template as segments: literals, or `{name}` parameters (`{*name}` = rest). */
  readonly segments: readonly string[];
}

export interface Program {
  readonly api: { readonly id: string; readonly name: string; readonly path: string } | null;
  readonly operation: { readonly id: string; readonly name: string; readonly method: string; readonly urlTemplate: string } | null;
  /** Origin base URL from the API manifest (a set-backend-service step may change it). */
  readonly origin: string | null;
  readonly inbound: readonly Step[];
  readonly backend: readonly Step[];
  readonly outbound: readonly Step[];
  readonly onError: readonly Step[];
  /** What the runner must compute before evaluation (expressions call Verify() / VerifyNoRevocation()). */
  readonly needs: readonly ("verify" | "verifyNoRevocation")[];
}

/** Where a step comes from: file position, scope, and the policy document it was written in. */
export interface Origin {
  readonly file: string;
  readonly line: number;
  readonly col: number;
  readonly scope: "global" | "api" | "operation" | "fragment";
  /** APIM's PolicyId for context.LastError: `<scope id>` (e.g. "global", "api:cars", "operation:cars/get-car"). */
  readonly policyId: string;
}

/** A value written in an attribute or element text: literal text, an expression, or a mix ("Bearer {{token}}"). */
export type Template =
  | { readonly t: "text"; readonly v: string }
  | { readonly t: "code"; readonly code: Code }
  /** Text with runtime named values (secret `{{name}}` references): parts concatenated. */
  | { readonly t: "parts"; readonly parts: ReadonlyArray<{ readonly text: string } | { readonly value: string } | { readonly code: Code }> };

export interface Identity {
  readonly thumbprint?: string;
  readonly serialNumber?: string;
  readonly commonName?: string;
  /** Subject / issuer DNs as written (compared with the engine's DN comparison). */
  readonly subject?: string;
  readonly dnsName?: string;
  readonly issuerSubject?: string;
  readonly issuerThumbprint?: string;
  readonly issuerCertificateId?: string;
  /** certgate extensions: a URI, email or IP SAN of the leaf, or its SPIFFE ID (spiffe.ts). */
  readonly uri?: string;
  readonly email?: string;
  readonly ipAddress?: string;
  readonly spiffeId?: string;
}

export type Step =
  | {
    readonly k: "validate-client-certificate";
    readonly at: Origin;
    readonly validateRevocation: boolean;
    readonly validateTrust: boolean;
    readonly validateNotBefore: boolean;
    readonly validateNotAfter: boolean;
    readonly ignoreError: boolean;
    /** certgate extensions. */
    readonly trustStore: string | null;
    readonly failedStatus: number | null;
    readonly failedMessage: string | null;
    readonly identities: readonly Identity[];
  }
  | { readonly k: "choose"; readonly at: Origin; readonly whens: ReadonlyArray<{ readonly condition: Code; readonly steps: readonly Step[] }>; readonly otherwise: readonly Step[] | null }
  | {
    readonly k: "return-response";
    readonly at: Origin;
    readonly status: { readonly code: Template; readonly reason: Template | null } | null;
    readonly headers: readonly SetHeader[];
    readonly body: Template | null;
    /** `response-variable-name`: start from the IResponse send-request stored there (outbound-schema.ts). */
    readonly responseVariable?: string;
  }
  | { readonly k: "set-status"; readonly at: Origin; readonly code: Template; readonly reason: Template | null }
  | ({ readonly k: "set-header" } & SetHeader)
  | { readonly k: "set-body"; readonly at: Origin; readonly body: Template }
  /** `set-body template="liquid"`: the element's inner XML as written, rendered by policy/liquid.ts (checked by the compiler). */
  | { readonly k: "set-body-liquid"; readonly at: Origin; readonly template: string; readonly parseDate: boolean }
  | { readonly k: "set-variable"; readonly at: Origin; readonly name: string; readonly value: Template }
  | { readonly k: "trace"; readonly at: Origin; readonly source: string; readonly severity: "verbose" | "information" | "error"; readonly message: Template; readonly metadata: ReadonlyArray<{ readonly name: string; readonly value: Template }> }
  | { readonly k: "set-backend-service"; readonly at: Origin; readonly baseUrl: Template }
  | { readonly k: "authentication-certificate"; readonly at: Origin; readonly certificateId: string }
  /** APIM's authentication-basic: the origin request's Authorization is `Basic base64(username:password)`. */
  | { readonly k: "authentication-basic"; readonly at: Origin; readonly username: Template; readonly password: Template }
  /** Query parameters of the origin request, as set-header does headers (each value its own `name=value`). */
  | ({ readonly k: "set-query-parameter" } & SetHeader)
  | { readonly k: "set-method"; readonly at: Origin; readonly method: Template }
  | {
    readonly k: "check-header";
    readonly at: Origin;
    readonly name: Template;
    readonly failedStatus: Template;
    readonly failedMessage: Template;
    readonly ignoreCase: Template;
    readonly values: readonly Template[];
  }
  /** Addresses and ranges as written (IPv4 or IPv6 literals, checked by the compiler). */
  | { readonly k: "ip-filter"; readonly at: Origin; readonly action: "allow" | "forbid"; readonly addresses: readonly string[]; readonly ranges: ReadonlyArray<{ readonly from: string; readonly to: string }> }
  | { readonly k: "rewrite-uri"; readonly at: Origin; readonly template: Template; readonly copyUnmatchedParams: boolean }
  | { readonly k: "mock-response"; readonly at: Origin; readonly status: number; readonly contentType: string | null }
  /** forward-request with the attributes certgate runs (a bare `<forward-request/>` emits no step). */
  | { readonly k: "forward-request"; readonly at: Origin; readonly timeoutMs: number | null; readonly followRedirects: boolean }
  /** find-and-replace: every occurrence of `from` in the body, as plain text (String.Replace), becomes `to`. */
  | { readonly k: "find-and-replace"; readonly at: Origin; readonly from: Template; readonly to: Template }
  /**
   * APIM's cors: `origins` ("*" or origins), `methods` (null: APIM's default GET and POST; ["*"]: any),
   * `headers` / `expose` as written ("*" allowed in headers), `maxAge` seconds or null.
   */
  | {
    readonly k: "cors";
    readonly at: Origin;
    readonly allowCredentials: boolean;
    readonly terminateUnmatched: boolean;
    readonly origins: readonly string[];
    readonly methods: readonly string[] | null;
    readonly maxAge: number | null;
    readonly headers: readonly string[];
    readonly expose: readonly string[];
  }
  | ValidateJwtStep
  | LimitStep
  | CacheValueStep
  | OutboundStep
  | ResponseCacheStep
  | ManagedIdentityStep;

export interface SetHeader {
  readonly at: Origin;
  readonly name: Template;
  readonly existsAction: "override" | "skip" | "append" | "delete";
  readonly values: readonly Template[];
}
