/**
 * The gateway as `npm run bench` runs it on `workerd serve`: the real app (src/app.ts), with the KV
 * namespace replaced by an in-memory map seeded from the BENCH_KV var (JSON: key → string value). The
 * gateway reads KV only when it refreshes the active version (every TRUST_REFRESH_SECONDS) and once per
 * store version, so KV is off the per-request path either way; this keeps the benchmark free of
 * miniflare's KV simulator.
 */
import { createApp } from "../../src/app";
import type { Env } from "../../src/env";
import { PASS_THROUGH_BUNDLE } from "../../src/policy/bundle";

/** BENCH_BUNDLE: JSON of a compiled policy bundle; absent → the pass-through bundle (no policy steps). */
type BenchEnv = Omit<Env, "TRUST"> & { readonly BENCH_KV: string; readonly BENCH_BUNDLE?: string };

let app: ReturnType<typeof createApp> | null = null;
let env: Env | null = null;

function memoryKv(json: string): KVNamespace {
  const data = new Map(Object.entries(JSON.parse(json) as Record<string, string>));
  return {
    async get(key: string, options?: { type?: string }) {
      const v = data.get(key);
      if (v === undefined) return null;
      return options?.type === "arrayBuffer" ? new TextEncoder().encode(v).buffer : v;
    },
  } as unknown as KVNamespace;
}

export default {
  fetch(request: Request, benchEnv: BenchEnv, ctx: ExecutionContext): Response | Promise<Response> {
    // One env object per isolate, as in production (the gateway caches per env).
    env ??= { ...benchEnv, TRUST: memoryKv(benchEnv.BENCH_KV) } as Env;
    app ??= createApp({ bundle: benchEnv.BENCH_BUNDLE ? JSON.parse(benchEnv.BENCH_BUNDLE) : PASS_THROUGH_BUNDLE });
    return app.fetch(request, env, ctx);
  },
};
