/** Worker entry: the request path lives in app.ts, the cron jobs in scheduled/run.ts. */
import { env } from "cloudflare:workers";
import { configurationProblems, createApp } from "./app";
import type { Env } from "./env";
import { log } from "./log";
import { runScheduled } from "./scheduled/run";

/** The Durable Object class of the COUNTERS binding (wrangler.toml). */
export { CounterObject } from "./policy/state/counter";

const app = createApp();

// A misconfiguration is reported when the Worker starts (wrangler dev prints it at once), not on the first
// request; every request still fails closed with 503 configuration_invalid / policy_bundle_invalid.
const problems = configurationProblems(env as unknown as Env);
if (problems.length > 0) log("error", "configuration_invalid", { at: "startup", problems });

export default {
  fetch: (request, env, ctx) => app.fetch(request, env, ctx),
  scheduled: (controller, env, ctx) => {
    ctx.waitUntil(runScheduled(env, { now: new Date(controller.scheduledTime) }));
  },
} satisfies ExportedHandler<Env>;
