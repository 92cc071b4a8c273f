/** Worker entry: the request path lives in app.ts, the cron jobs in scheduled/run.ts. */
import { createApp } from "./app";
import type { Env } from "./env";
import { runScheduled } from "./scheduled/run";

const app = createApp();

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runScheduled(env, { now: new Date(controller.scheduledTime) }));
  },
} satisfies ExportedHandler<Env>;
