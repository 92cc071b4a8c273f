/**
 * `kv` — publish trust material to Workers KV and show what is deployed (`npm run -s kv -- …`).
 *
 * Contract: the process edge. Parses argv, reads the clock once, opens the KV location (`--local`: in-process
 * local storage, local-kv.ts; `--remote`: wrangler's CLI, wrangler-kv.ts), dispatches to sync.ts, sets
 * `process.exitCode` (0 ok, 1 refused or KV failure, 2 bad arguments).
 */
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { dispatch, FLAG, parseOptions, runMain, usageError, userPath, VALUE, valueOf, type ParsedArgs } from "../lib/cli";
import { runStatus, runSync, type Output } from "./sync";
import type { KvStore } from "./kv-store";
import { LocalKv } from "./local-kv";
import { DEFAULT_PERSIST_TO, PROJECT_ROOT, WranglerKv, type KvLocation } from "./wrangler-kv";

const LOCATION_USAGE = `Location (default --local):
  --local                 the local KV that \`wrangler dev --persist-to DIR\` reads
  --persist-to DIR        with --local (default: the project's ${DEFAULT_PERSIST_TO}, where \`npm start\` keeps it)
  --remote                a Cloudflare KV namespace, through wrangler (\`wrangler login\`, or
                          CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID)
  --namespace-id ID       with --remote (required): the namespace bound as TRUST`;

const MAIN_USAGE = `Usage: kv <command> [options]

Commands:
  sync DIR [location] [--dry-run] [--force] [--json]
                check the trust material in DIR, print the plan against the deployed version and publish
                it as a new version (\`active\` switched last, in one write)
  status [location] [--json]
                print the active version: stores, CRLs, registered certificates, named value names
  help [COMMAND]

${LOCATION_USAGE}

Run "kv <command> --help" for details. Exit status: 0 success (or nothing to change), 1 refused or a KV
failure, 2 bad arguments.`;

const SYNC_USAGE = `Usage: kv sync DIR [--local [--persist-to DIR] | --remote --namespace-id ID] [--dry-run] [--force] [--json]

Publishes the trust material in DIR (layout: docs/operations-kv.md):
  stores/<name>/anchors/*.pem          trust anchors (CA certificates; a file may hold several)
  stores/<name>/intermediates/*.pem    store intermediates (CA certificates)
  stores/<name>/pinned/*.pem           self-signed client certificates accepted by their exact bytes
  stores/<name>/crls/*.{crl,pem,der}   CRLs signed by a CA of the same store
  registered/<id>.pem                  registered client certificates, one per file
  values.json                          named values {"<name>": "<string>", …}
Files and folders whose names start with "." are ignored.

Every item is parsed and checked first; any problem refuses the whole sync and nothing is written.
Then the plan against the active version is printed (certificates added / replaced / removed with
subject, SHA-256 and notAfter; CRLs with thisUpdate, nextUpdate and revoked count; registered ids;
named value names), every key is written under a new version id, and \`active\` is switched last.
Running it again with the same content changes nothing.

Options:
  --dry-run    print the plan, write nothing
  --force      publish despite stale or expired material: an expired anchor or intermediate, a CRL past
               its nextUpdate. Never overrides malformed or inconsistent material (unparseable files,
               non-CA anchors or intermediates, CRLs no CA of the store signed, duplicates, unknown files)
  --json       print one JSON document (problems, plan, applied) instead of text
  -h, --help   this help

${LOCATION_USAGE}

Exit status: 0 published, nothing to change, or dry run; 1 refused or a KV failure; 2 bad arguments.`;

const STATUS_USAGE = `Usage: kv status [--local [--persist-to DIR] | --remote --namespace-id ID] [--json]

Prints the active version and what it holds: each store's anchors, intermediates and pinned certificates
(subject, SHA-256, notAfter), its CRLs (issuer, thisUpdate, nextUpdate, revoked count), the registered
certificates and the names of the named values. Unreadable keys are listed as such.

${LOCATION_USAGE}

Exit status: 0 read, 1 KV failure, 2 bad arguments.`;

const USAGE = { main: MAIN_USAGE, sync: SYNC_USAGE, status: STATUS_USAGE } as const;
type Topic = keyof typeof USAGE;

const LOCATION_OPTIONS = { local: FLAG, "persist-to": VALUE, remote: FLAG, "namespace-id": VALUE } as const;
const SYNC_OPTIONS = { ...LOCATION_OPTIONS, "dry-run": FLAG, force: FLAG, json: FLAG };
const STATUS_OPTIONS = { ...LOCATION_OPTIONS, json: FLAG };

/** The KV location the options select, or usage errors. */
function locationOf(args: ParsedArgs, errors: string[]): KvLocation {
  const local = args.flags.has("local");
  const remote = args.flags.has("remote");
  const persistTo = valueOf(args, "persist-to");
  const namespaceId = valueOf(args, "namespace-id");
  if (local && remote) errors.push("--local and --remote exclude each other");
  if (remote) {
    if (persistTo !== undefined) errors.push("--persist-to is for --local");
    if (namespaceId === undefined) errors.push("--remote needs --namespace-id ID (the namespace bound as TRUST)");
    else if (!/^[0-9a-f]{32}$/i.test(namespaceId)) errors.push(`--namespace-id: "${namespaceId}" is not a KV namespace id (32 hex digits)`);
    return { kind: "remote", namespaceId: namespaceId ?? "" };
  }
  if (namespaceId !== undefined) errors.push("--namespace-id is for --remote");
  // The default is the project's (where `npm start` keeps it); a given path is the caller's, and must exist.
  if (persistTo === undefined) return { kind: "local", persistTo: join(PROJECT_ROOT, DEFAULT_PERSIST_TO) };
  const full = userPath(persistTo);
  if (!existsSync(full)) errors.push(`--persist-to ${persistTo}: does not exist (a new local store needs its folder created first: mkdir -p ${persistTo})`);
  else if (!statSync(full).isDirectory()) errors.push(`--persist-to ${persistTo}: is a file, not a folder`);
  return { kind: "local", persistTo: full };
}

/**
 * Opens the store at `location` (when sync.ts needs it: a refused sync never opens it): local storage in
 * process (local-kv.ts), a remote namespace through wrangler's CLI (wrangler-kv.ts). Both serve the same
 * KvStore interface, so sync and status are the same code for both.
 */
function openerOf(location: KvLocation): () => Promise<KvStore> {
  return async () => (location.kind === "local" ? LocalKv.open(location.persistTo) : new WranglerKv({ location }));
}

async function main(argv: readonly string[], output: Output): Promise<number> {
  const d = dispatch(argv, ["sync", "status"] as const);
  if (d.kind === "error") return usageError(output, "kv", [d.message]);
  if (d.kind === "help") {
    output.out(USAGE[d.topic]);
    return 0;
  }
  if (d.command === "sync") {
    const args = parseOptions(d.rest, SYNC_OPTIONS);
    if (args.help) {
      output.out(SYNC_USAGE);
      return 0;
    }
    const errors = [...args.errors];
    const location = locationOf(args, errors);
    if (args.operands.length === 0) errors.push("no DIR given (the folder to publish)");
    if (args.operands.length > 1) errors.push(`one DIR only (got ${args.operands.length})`);
    if (errors.length > 0) return usageError(output, "kv sync", errors);
    const options = { dir: userPath(args.operands[0]!), dryRun: args.flags.has("dry-run"), force: args.flags.has("force"), json: args.flags.has("json"), now: new Date() };
    return runSync(options, openerOf(location), output);
  }
  const args = parseOptions(d.rest, STATUS_OPTIONS);
  if (args.help) {
    output.out(STATUS_USAGE);
    return 0;
  }
  const errors = [...args.errors];
  const location = locationOf(args, errors);
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)}`);
  if (errors.length > 0) return usageError(output, "kv status", errors);
  if (location.kind === "local" && !existsSync(location.persistTo)) {
    output.err(`kv status: no local KV at ${DEFAULT_PERSIST_TO} yet (npm start, or kv sync DIR --local, creates it)`);
    return 1;
  }
  return runStatus(openerOf(location), args.flags.has("json"), output);
}

runMain("kv", main);
