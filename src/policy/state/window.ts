/**
 * The counter arithmetic of rate-limit-by-key and quota-by-key: windows and hits (used by the Durable Object in
 * counter.ts, and by `policy explain`'s stub counter).
 *
 * Contract: pure, no clock (`nowMs` comes in the request). Windows are fixed: [start, start + period) with `start`
 * aligned to `anchorMs` (APIM quota-by-key: first-period-start; rate-limit-by-key: the Unix epoch). APIM's rate limit
 * is a sliding window; a fixed window admits at most `calls` per window, and up to 2 × calls across a window boundary
 * (documented divergence, docs/per-client-limits.md). `periodMs` 0 is an endless window (APIM quota renewal-period="0").
 */

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

export const EMPTY_COUNTER: CounterState = { windowStart: Number.NaN, calls: 0, kilobytes: 0 };

/** Start of the window that holds `now`. */
export function windowStartOf(nowMs: number, periodMs: number, anchorMs: number): number {
  if (periodMs <= 0) return anchorMs;
  return anchorMs + Math.floor((nowMs - anchorMs) / periodMs) * periodMs;
}

/** One hit against `state` (pure). */
export function applyHit(state: CounterState, r: CounterRequest): { state: CounterState; answer: CounterAnswer } {
  const start = windowStartOf(r.nowMs, r.periodMs, r.anchorMs);
  let s = state.windowStart === start ? state : { ...EMPTY_COUNTER, windowStart: start };
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
export function validRequest(r: CounterRequest): boolean {
  const n = (x: number) => Number.isFinite(x) && x >= 0;
  return (r.mode === "take" || r.mode === "check" || r.mode === "add") && Number.isFinite(r.nowMs) && n(r.periodMs) && Number.isFinite(r.anchorMs)
    && (r.calls === null || n(r.calls)) && (r.kilobytes === null || n(r.kilobytes)) && n(r.addCalls) && n(r.addKilobytes);
}

