/**
 * `npm run check` — the deployment's configuration, checked before any traffic: for each environment of the
 * wrangler config, its vars through the Worker's own parser (src/config.ts), the bindings the Worker and the
 * compiled policies need, and the policies themselves.
 *
 * Contract: pure. Takes the wrangler config as wrangler reads it (raw: top level and `[env.NAME]`), the
 * compiled bundle's needs, and the names of the secrets set outside the file; returns every problem and
 * warning, one line each, located by environment. Secrets cannot be read from the file: a secret the check is
 * told about (`--secret NAME`) stands in as set with a well-formed placeholder; one it is not told about is
 * absent, so a header source that only a secret would authenticate is reported (fail closed).
 *
 * Wrangler semantics this follows (developers.cloudflare.com/workers/wrangler/environments/): `vars`,
 * `kv_namespaces`, `services` and `mtls_certificates` are not inherited by `[env.NAME]`; each environment
 * declares its own.
 */
import { AZURE_SECRET_NAMES } from "../../src/policy/managed-identity";
import { parseConfig } from "../../src/config";
import type { Env } from "../../src/env";

/** What the check reads of one environment. */
export interface RawEnvironment {
  readonly vars?: Readonly<Record<string, unknown>>;
  readonly kv_namespaces?: ReadonlyArray<{ readonly binding?: string }>;
  readonly services?: ReadonlyArray<{ readonly binding?: string }>;
  readonly mtls_certificates?: ReadonlyArray<{ readonly binding?: string }>;
  readonly ratelimits?: ReadonlyArray<{ readonly name?: string; readonly simple?: { readonly limit?: number; readonly period?: number } }>;
}

export interface RawWranglerConfig extends RawEnvironment {
  readonly env?: Readonly<Record<string, RawEnvironment>>;
}

/** What the compiled policies need from the deployment. */
export interface PolicyNeeds {
  /** mtls_certificates bindings (`authentication-certificate certificate-id`). */
  readonly certificateIds: ReadonlySet<string>;
  /** Run-time named values: KV `values` or Worker secrets of these names. */
  readonly runtimeValues: ReadonlySet<string>;
  /** A policy asks for caching-type="external": the KV namespace POLICY_CACHE must be bound. */
  readonly externalCache?: boolean;
  /** rate-limiting-binding names → the calls / period each policy step expects of that [[ratelimits]] binding. */
  /** A policy uses authentication-managed-identity: the Entra ID credential secrets must be set (src/policy/managed-identity.ts). */
  readonly managedIdentity?: boolean;
  readonly rateLimitingBindings?: ReadonlyMap<string, ReadonlyArray<{ readonly calls: number; readonly period: number }>>;
}

export interface CheckReport {
  /** One line each, `[env]: problem`; any problem fails the check. */
  readonly problems: readonly string[];
  /** Worth knowing, not failing. */
  readonly warnings: readonly string[];
  /** The environments checked, as labels (`top level`, `env.production`). */
  readonly checked: readonly string[];
}

/** Variables that must be secrets (`wrangler secret put`), not [vars]: their values would be in the repository. */
export const SECRET_VARIABLES: readonly string[] = ["TERMINATOR_SECRET", "TRACE_SECRET", "ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_TOKEN", "AZURE_CLIENT_SECRET"];

/** A value the Worker's parser accepts for each secret, standing in for one set with `wrangler secret put`. */
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  ALERT_WEBHOOK_URL: "https://alerts.invalid/",
};

/**
 * Checks `environments` (null: the top level; default: the top level and every `[env.NAME]`) of `config`.
 * `secrets`: names set with `wrangler secret put` (their values are not known here).
 */
export function checkDeployment(config: RawWranglerConfig, needs: PolicyNeeds, secrets: ReadonlySet<string>, environments?: ReadonlyArray<string | null>): CheckReport {
  const problems: string[] = [];
  const warnings: string[] = [];
  const names = environments ?? [null, ...Object.keys(config.env ?? {})];
  const checked: string[] = [];
  for (const name of names) {
    const label = name === null ? "top level" : `env.${name}`;
    checked.push(label);
    const env = name === null ? config : config.env?.[name];
    if (env === undefined) {
      problems.push(`[${label}]: no such environment in the wrangler config (it has: ${["top level", ...Object.keys(config.env ?? {}).map((n) => `env.${n}`)].join(", ")})`);
      continue;
    }
    const at = (text: string) => `[${label}]: ${text}`;
    const vars = env.vars ?? {};
    const bindingsOf = (list: ReadonlyArray<{ readonly binding?: string }> | undefined) => new Set((list ?? []).map((b) => b.binding).filter((b): b is string => typeof b === "string"));
    const kv = bindingsOf(env.kv_namespaces);
    const services = bindingsOf(env.services);
    const mtls = bindingsOf(env.mtls_certificates);

    if (!kv.has("TRUST")) {
      problems.push(at(`no KV namespace bound as TRUST (the trust material, docs/kv-schema.md)${name === null ? "" : "; kv_namespaces are not inherited from the top level"}`));
    }
    if (needs.externalCache && !kv.has("POLICY_CACHE")) {
      problems.push(at(`the policies ask for caching-type="external", but no KV namespace is bound as POLICY_CACHE (docs/per-client-limits.md, "Caches")`));
    }
    for (const [binding, uses] of needs.rateLimitingBindings ?? []) {
      const b = (env.ratelimits ?? []).find((r) => r.name === binding);
      if (!b) {
        problems.push(at(`the policies' rate-limiting-binding="${binding}" has no [[ratelimits]] binding "${binding}"`));
        continue;
      }
      for (const u of uses) {
        if (b.simple?.limit !== u.calls || b.simple?.period !== u.period) {
          problems.push(at(`[[ratelimits]] "${binding}" counts ${b.simple?.limit ?? "?"} per ${b.simple?.period ?? "?"} s, but a policy using it says calls="${u.calls}" renewal-period="${u.period}" (the binding's numbers are what it enforces)`));
        }
      }
    }
    if (needs.managedIdentity) {
      // The Worker reads these per request (policy/managed-identity.ts); without them every such request answers 503.
      for (const secret of AZURE_SECRET_NAMES) {
        if (!secrets.has(secret) && !Object.hasOwn(vars, secret)) {
          problems.push(at(`the policies use authentication-managed-identity, but ${secret} is not set: \`wrangler secret put ${secret}\` (the Entra ID application whose token certgate requests; docs/policies.md), then tell the check: --secret ${secret}`));
        }
      }
    }
    for (const id of needs.certificateIds) {
      if (!mtls.has(id)) problems.push(at(`the policies' authentication-certificate certificate-id="${id}" has no [[mtls_certificates]] binding "${id}"`));
    }
    for (const secret of SECRET_VARIABLES) {
      if (Object.hasOwn(vars, secret)) warnings.push(at(`${secret} is in [vars], readable by anyone with the file or the dashboard; set it with \`wrangler secret put ${secret}\``));
    }

    const bindings: Record<string, unknown> = { TRUST: {} };
    if (services.has("ORIGIN")) bindings.ORIGIN = {};
    for (const s of secrets) bindings[s] = PLACEHOLDERS[s] ?? "secret-set-outside-the-file-0123456789";
    for (const id of mtls) bindings[id] = {};
    const policyBindings = new Set([...needs.runtimeValues, ...needs.certificateIds]);
    const parsed = parseConfig({ ...bindings, ...vars } as unknown as Env, { policyBindings });
    if (!parsed.ok) {
      for (const p of parsed.error) {
        const hint = /TERMINATOR_SECRET is not set/.test(p) && !Object.hasOwn(vars, "TERMINATOR_SECRET")
          ? " (if TERMINATOR_SECRET is set with `wrangler secret put`, tell the check: --secret TERMINATOR_SECRET)"
          : "";
        problems.push(at(`${p}${hint}`));
      }
    }
  }
  if (needs.runtimeValues.size > 0) {
    warnings.push(`the policies read these named values at run time, from KV \`values\` or a Worker secret of the same name (not checked here): ${[...needs.runtimeValues].sort().join(", ")}`);
  }
  return { problems, warnings, checked };
}
