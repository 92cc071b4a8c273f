/**
 * Exact per-key counters for rate-limit-by-key and quota-by-key: one Durable Object per counter (Cloudflare Durable
 * Objects, https://developers.cloudflare.com/durable-objects/ — a single-threaded object per id, with storage that
 * survives restarts). Why a Durable Object and not the Workers Rate Limiting binding: docs/per-client-limits.md.
 *
 * Contract: `applyHit` is pure (state + request + `now` → new state + answer); `CounterObject` is the only I/O: it
 * keeps the window in memory, persists it to its storage on every change, and answers one RPC, `hit`. Durable
 * Object input gates (no other event is delivered while a storage write is in flight) make each `hit` atomic: N
 * concurrent callers see exactly `calls` admissions per window.
 *
 * Windows are fixed: [start, start + period) with `start` aligned to `anchorMs` (APIM quota-by-key:
 * first-period-start; rate-limit-by-key: the Unix epoch). APIM's rate limit is a sliding window; a fixed window
 * admits at most `calls` per window, and up to 2 × calls across a window boundary (documented divergence).
 * `periodMs` 0 is an endless window (APIM quota renewal-period="0").
 */
import { DurableObject } from "cloudflare:workers";

export interface CounterRequest {
  /** take: count and admit atomically (refused calls are not counted); check: admit without counting; add: count only. */
  readonly mode: "take" | "check" | "add";
  readonly nowMs: number;
  readonly periodMs: number;
  readonly anchorMs: number;
  /** Limits (null: no limit of that kind). */
  readonly calls: number | null;
  readonly kilobytes: number | null;
  /** What this call adds (take / add). */
  readonly addCalls: number;
  readonly addKilobytes: number;
}

export interface CounterAnswer {
  readonly allowed: boolean;
  /** Calls counted in the current window, after this request. */
  readonly callsUsed: number;
  readonly kilobytesUsed: number;
  /** Calls left in the window (null without a call limit). */
  readonly remainingCalls: number | null;
  /** Seconds until the window renews (null: endless window). */
  readonly retryAfterSeconds: number | null;
}

export interface CounterState {
  readonly windowStart: number;
  readonly calls: number;
  readonly kilobytes: number;
}

const EMPTY: CounterState = { windowStart: Number.NaN, calls: 0, kilobytes: 0 };

/** Start of the window that holds `now`. */
export function windowStartOf(nowMs: number, periodMs: number, anchorMs: number): number {
  if (periodMs <= 0) return anchorMs;
  return anchorMs + Math.floor((nowMs - anchorMs) / periodMs) * periodMs;
}

/** One hit against `state` (pure). */
export function applyHit(state: CounterState, r: CounterRequest): { state: CounterState; answer: CounterAnswer } {
  const start = windowStartOf(r.nowMs, r.periodMs, r.anchorMs);
  let s = state.windowStart === start ? state : { ...EMPTY, windowStart: start };
  const over = (calls: number, kb: number) => (r.calls !== null && calls > r.calls) || (r.kilobytes !== null && kb > r.kilobytes);
  let allowed: boolean;
  switch (r.mode) {
    case "take":
      allowed = !over(s.calls + r.addCalls, s.kilobytes + r.addKilobytes);
      if (allowed) s = { ...s, calls: s.calls + r.addCalls, kilobytes: s.kilobytes + r.addKilobytes };
      break;
    case "check":
      // Admitted while something is left (the call's own size is not known yet).
      allowed = !over(s.calls + 1, s.kilobytes) && (r.kilobytes === null || s.kilobytes < r.kilobytes);
      break;
    case "add":
      allowed = true;
      s = { ...s, calls: s.calls + r.addCalls, kilobytes: s.kilobytes + r.addKilobytes };
      break;
  }
  const retryAfterSeconds = r.periodMs <= 0 ? null : Math.max(1, Math.ceil((start + r.periodMs - r.nowMs) / 1000));
  return {
    state: s,
    answer: {
      allowed,
      callsUsed: s.calls,
      kilobytesUsed: s.kilobytes,
      remainingCalls: r.calls === null ? null : Math.max(0, r.calls - s.calls),
      retryAfterSeconds,
    },
  };
}

/** Bounds a request from the Worker (the object trusts its own Worker, but a bug must not corrupt a counter). */
function validRequest(r: CounterRequest): boolean {
  const n = (x: number) => Number.isFinite(x) && x >= 0;
  return (r.mode === "take" || r.mode === "check" || r.mode === "add") && Number.isFinite(r.nowMs) && n(r.periodMs) && Number.isFinite(r.anchorMs)
    && (r.calls === null || n(r.calls)) && (r.kilobytes === null || n(r.kilobytes)) && n(r.addCalls) && n(r.addKilobytes);
}

const STATE_KEY = "window";

/** The counter object (binding COUNTERS in wrangler.toml; one object per counter name, `idFromName`). */
export class CounterObject extends DurableObject {
  private state: CounterState = EMPTY;
  private loaded = false;

  async hit(r: CounterRequest): Promise<CounterAnswer> {
    if (!validRequest(r)) throw new Error("invalid counter request");
    if (!this.loaded) {
      this.state = (await this.ctx.storage.get<CounterState>(STATE_KEY)) ?? EMPTY;
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
