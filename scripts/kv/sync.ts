/**
 * `kv sync` and `kv status`: the steps in order, on any KvStore (wrangler local or remote, or memory).
 *
 * sync: read the folder → load and check every item (all problems listed; nothing is read from or written to
 * KV when one blocks) → read the deployed version → plan → print → unless --dry-run or nothing changed, write
 * the version's keys (`putMany`) and only after they succeeded switch `active` (`put`, one write).
 * A failure before the flip leaves `active` untouched: the half-written version is invisible to the Worker and
 * the next run writes a new one.
 *
 * Contract: the only clock is `options.now`, read once by the caller. Exit status: 0 published, nothing to
 * change, or dry run; 1 refused (problems) or a KV failure; (2, bad arguments, is main.ts's).
 */
import { readDeployed } from "./deployed";
import type { KvStore } from "./kv-store";
import { crlRollbacks, planSync, type Plan } from "./plan";
import { planJson, renderPlan, renderProblems, renderStatus, statusJson } from "./render";
import { checkSource, loadSource, readSourceTree, type Problem } from "./source";
import { describeError, displayPath, reasonOf } from "../lib/cli";

/** Opens the KV store (connecting or booting it); the runner closes it when done. */
export type KvOpener = () => Promise<KvStore>;

/** Line sinks: results to `out` (stdout), diagnostics to `err` (stderr). */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface SyncOptions {
  readonly dir: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly json: boolean;
  readonly now: Date;
}

/** The folder's content and every problem found in it. */
export async function inspectSource(dir: string, now: Date) {
  const tree = await readSourceTree(dir);
  const { content, problems } = await loadSource(tree);
  const all = [...problems, ...(await checkSource(content, now))];
  // By path, so a file's problems sit together (sort is stable: load problems before check problems).
  all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { content, problems: all };
}

/** Writes the plan: the version's keys, then `active`. */
export async function applyPlan(kv: KvStore, plan: Plan): Promise<void> {
  if (!plan.changed || plan.flip === null) return;
  await kv.putMany(plan.writes);
  await kv.put(plan.flip);
}

export async function runSync(options: SyncOptions, open: KvOpener, output: Output): Promise<number> {
  let kv: KvStore | null = null;
  try {
    return await sync(options, async () => (kv = await open()), output);
  } finally {
    await (kv as KvStore | null)?.close?.();
  }
}

async function sync(options: SyncOptions, open: KvOpener, output: Output): Promise<number> {
  const started = performance.now();
  const json: { problems: Problem[]; plan: unknown; applied: boolean; error?: string } = { problems: [], plan: null, applied: false };
  const finish = (code: number) => {
    if (options.json) output.out(JSON.stringify(json, null, 2));
    return code;
  };
  const say = (line: string) => {
    if (!options.json) output.out(line);
  };

  let source;
  try {
    source = await inspectSource(options.dir, options.now);
  } catch (e) {
    json.error = `cannot read ${options.dir}: ${reasonOf(e)}`;
    output.err(`kv sync: ${json.error}`);
    return finish(EXIT_FAILED);
  }
  json.problems = source.problems;
  const blocking = source.problems.filter((p) => !(p.forceable && options.force));
  if (blocking.length > 0) {
    output.err(`kv sync: refused: ${blocking.length === 1 ? "1 problem" : `${blocking.length} problems`} in ${displayPath(options.dir)} (nothing was read from or written to KV):`);
    for (const line of renderProblems(blocking)) output.err(line);
    if (blocking.some((p) => p.forceable)) output.err("Problems marked \"--force overrides\" are stale or expired material; pass --force to publish it anyway.");
    return finish(EXIT_FAILED);
  }

  let kv: KvStore;
  try {
    kv = await open();
  } catch (e) {
    json.error = `cannot open the KV store: ${describeError(e)}`;
    output.err(`kv sync: ${json.error}`);
    return finish(EXIT_FAILED);
  }
  say(`kv sync: ${displayPath(options.dir)} → ${kv.description}${options.dryRun ? " (dry run)" : ""}`);
  let plan: Plan;
  try {
    const deployed = await readDeployed(kv);
    plan = await planSync(source.content, deployed, { now: options.now, forced: source.problems });
  } catch (e) {
    json.error = `reading ${kv.description} failed: ${describeError(e)}`;
    output.err(`kv sync: ${json.error}`);
    return finish(EXIT_FAILED);
  }
  json.plan = planJson(plan);
  for (const line of renderPlan(plan)) say(line);
  if (!plan.changed) return finish(EXIT_OK);
  // Found only now, against what is deployed: a CRL replaced by an older one (revocations would be lifted).
  const rollbacks = crlRollbacks(plan);
  json.problems = [...json.problems, ...rollbacks];
  if (rollbacks.length > 0 && !options.force) {
    output.err(`kv sync: refused: ${rollbacks.length === 1 ? "1 problem" : `${rollbacks.length} problems`} against the deployed version (nothing was written):`);
    for (const line of renderProblems(rollbacks)) output.err(line);
    output.err("Problems marked \"--force overrides\" may be published anyway with --force.");
    return finish(EXIT_FAILED);
  }
  if (options.dryRun) {
    say("Dry run: nothing written.");
    return finish(EXIT_OK);
  }
  try {
    await applyPlan(kv, plan);
  } catch (e) {
    json.error = `writing ${kv.description} failed: ${describeError(e)}`;
    output.err(`kv sync: ${json.error}`);
    output.err("`active` was not switched: the Worker still reads the previous version.");
    return finish(EXIT_FAILED);
  }
  json.applied = true;
  say(`Published version ${plan.version} to ${kv.description} in ${Math.round(performance.now() - started)} ms; \`active\` switched.`);
  return finish(EXIT_OK);
}

export async function runStatus(open: KvOpener, json: boolean, output: Output): Promise<number> {
  let kv: KvStore;
  try {
    kv = await open();
  } catch (e) {
    output.err(`kv status: cannot open the KV store: ${describeError(e)}`);
    return EXIT_FAILED;
  }
  try {
    const state = await readDeployed(kv);
    if (json) output.out(JSON.stringify(statusJson(state), null, 2));
    else for (const line of renderStatus(state, kv.description)) output.out(line);
    return EXIT_OK;
  } catch (e) {
    output.err(`kv status: reading ${kv.description} failed: ${describeError(e)}`);
    return EXIT_FAILED;
  } finally {
    await kv.close?.();
  }
}
