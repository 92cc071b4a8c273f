// The bindings `cloudflare:workers` exposes to tests (wrangler.toml).
declare namespace Cloudflare {
  interface Env {
    TRUST: KVNamespace;
    COUNTERS: DurableObjectNamespace<import("../src/policy/state/counter").CounterObject>;
    POLICY_CACHE: KVNamespace;
    SHORT_LIMITS: RateLimit;
  }
}
