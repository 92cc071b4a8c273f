/**
 * The Worker's side of the counter Durable Objects: counter names, and one call with a deadline that never throws.
 *
 * Contract: the only caller of the COUNTERS binding. Returns Result: a missing binding, an exception from the object
 * (reset, overloaded) or a call slower than COUNTER_TIMEOUT_MS is `counter_store_unavailable` (the step's
 * failure-mode decides what happens); detail for the operator goes to `internal`.
 */
import { gatewayError, type GatewayError } from "../../errors";
import { err, ok, type Result } from "../../result";
import type { CounterObject } from "./counter";
import type { CounterAnswer, CounterRequest } from "./window";

/**
 * A Durable Object call from the same colo answers in a few ms; one from far away in ~100–300 ms. 2 s leaves room
 * for a cold object loading its storage and still bounds what a stuck store adds to a request.
 */
export const COUNTER_TIMEOUT_MS = 2_000;

/** Counter keys longer than this are counted under their SHA-256 (limit-step.ts; a key is typically a 40-hex thumbprint). */
export const MAX_COUNTER_KEY_CHARS = 512;

export type CounterCall = (name: string, request: CounterRequest) => Promise<Result<CounterAnswer, GatewayError>>;

/**
 * The object name of a counter: APIM keeps one counter per key value for every scope the policy is in; certgate
 * also separates the policy kind and the period, so a rate limit and a quota on the same key never share a window.
 * The per-subscription rate-limit / quota have kinds of their own: a by-key counter-key (which may be a value the
 * client sends) can never name a subscription's counter.
 */
export function counterName(kind: "rate-limit-by-key" | "quota-by-key" | "rate-limit" | "quota", periodSeconds: number, key: string): string {
  return `${kind}|${periodSeconds}|${key}`;
}

/** The counter call over the COUNTERS binding (undefined: not configured → every call is unavailable). */
export function counterCall(ns: DurableObjectNamespace<CounterObject> | undefined, timeoutMs = COUNTER_TIMEOUT_MS): CounterCall {
  return async (name, request) => {
    const unavailable = (internal: string) =>
      err(gatewayError("counter_store_unavailable", "The rate limit store is unavailable.", undefined, internal));
    if (!ns) return unavailable("no COUNTERS Durable Object binding (wrangler.toml [[durable_objects.bindings]])");
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const stub = ns.get(ns.idFromName(name));
      const deadline = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
      const answer = await Promise.race([stub.hit(request), deadline]);
      if (answer === "timeout") return unavailable(`counter call slower than ${timeoutMs} ms`);
      return ok(answer as CounterAnswer);
    } catch (e) {
      return unavailable(e instanceof Error ? e.message : String(e));
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };
}
