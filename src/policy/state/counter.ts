/**
 * Exact per-key counters for rate-limit-by-key and quota-by-key: one Durable Object per counter (Cloudflare Durable
 * Objects, https://developers.cloudflare.com/durable-objects/ — a single-threaded object per id, with storage that
 * survives restarts). Why a Durable Object and not the Workers Rate Limiting binding: docs/per-client-limits.md.
 *
 * Contract: `CounterObject` is the only I/O of the counters (window.ts computes): it
 * keeps the window in memory, persists it to its storage on every change, and answers one RPC, `hit`. Durable
 * Object input gates (no other event is delivered while a storage write is in flight) make each `hit` atomic: N
 * concurrent callers see exactly `calls` admissions per window.
 * The window arithmetic is window.ts.
 */
import { DurableObject } from "cloudflare:workers";
import { applyHit, EMPTY_COUNTER, validRequest, type CounterAnswer, type CounterRequest, type CounterState } from "./window";

export type { CounterAnswer, CounterRequest } from "./window";

const STATE_KEY = "window";

/** The counter object (binding COUNTERS in wrangler.toml; one object per counter name, `idFromName`). */
export class CounterObject extends DurableObject {
  private state: CounterState = EMPTY_COUNTER;
  private loaded = false;

  async hit(r: CounterRequest): Promise<CounterAnswer> {
    if (!validRequest(r)) throw new Error("invalid counter request");
    if (!this.loaded) {
      this.state = (await this.ctx.storage.get<CounterState>(STATE_KEY)) ?? EMPTY_COUNTER;
      this.loaded = true;
    }
    const { state, answer } = applyHit(this.state, r);
    if (state !== this.state) {
      this.state = state;
      // Output gate: the answer is not delivered until this write is durable.
      await this.ctx.storage.put(STATE_KEY, state);
    }
    return answer;
  }
}
