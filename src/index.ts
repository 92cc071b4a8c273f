/** Worker entry: the request path lives in app.ts, the cron jobs in scheduled/run.ts. */
import { createApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./scheduled/run";

/** The Durable Object class of the COUNTERS binding (wrangler.toml). */
export { CounterObject } from "./policy/state/counter";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runScheduled(env, { now: new Date(controller.scheduledTime) }));
  },
} satisfies ExportedHandler<Env>;
