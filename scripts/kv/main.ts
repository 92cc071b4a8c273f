/**
 * `kv` — publish trust material to Workers KV and show what is deployed (`npm run -s kv -- …`).
 *
 * Contract: the process edge. Parses argv, reads the clock once, opens the KV location (`--local`: in-process
 * local storage, local-kv.ts; `--remote`: wrangler's CLI, wrangler-kv.ts), dispatches to sync.ts, sets
 * `process.exitCode` (0 ok, 1 refused or KV failure, 2 bad arguments).
 */
import { join } from "node:path";
import process from "node:process";
import { parseArgs, FLAG, VALUE, userPath, valueOf, type ParsedArgs } from "./args";
import { EXIT_USAGE, runStatus, runSync, type Output } from "./sync";
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
const SYNC_OPTIONS = { help: FLAG, ...LOCATION_OPTIONS, "dry-run": FLAG, force: FLAG, json: FLAG };
const STATUS_OPTIONS = { help: FLAG, ...LOCATION_OPTIONS, json: FLAG };

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
  // The default is the project's (where `npm start` keeps it); a given path is the caller's.
  return { kind: "local", persistTo: persistTo === undefined ? join(PROJECT_ROOT, DEFAULT_PERSIST_TO) : userPath(persistTo) };
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
  const usageError = (topic: Topic, messages: readonly string[]) => {
    const name = topic === "main" ? "kv" : `kv ${topic}`;
    for (const m of messages) output.err(`${name}: ${m}`);
    output.err(`Run "${name} --help" for usage.`);
    return EXIT_USAGE;
  };
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return usageError("main", ["no command given"]);
    case "-h":
    case "--help":
      output.out(MAIN_USAGE);
      return 0;
    case "help": {
      const topic = rest[0] ?? "main";
      if (topic !== "main" && topic !== "sync" && topic !== "status") return usageError("main", [`unknown command "${topic}"`]);
      output.out(USAGE[topic]);
      return 0;
    }
    case "sync": {
      const args = parseArgs(rest, SYNC_OPTIONS);
      if (args.flags.has("help")) {
        output.out(SYNC_USAGE);
        return 0;
      }
      const errors = [...args.errors];
      const location = locationOf(args, errors);
      if (args.operands.length === 0) errors.push("no DIR given (the folder to publish)");
      if (args.operands.length > 1) errors.push(`one DIR only (got ${args.operands.length})`);
      if (errors.length > 0) return usageError("sync", errors);
      const options = { dir: userPath(args.operands[0]!), dryRun: args.flags.has("dry-run"), force: args.flags.has("force"), json: args.flags.has("json"), now: new Date() };
      return runSync(options, openerOf(location), output);
    }
    case "status": {
      const args = parseArgs(rest, STATUS_OPTIONS);
      if (args.flags.has("help")) {
        output.out(STATUS_USAGE);
        return 0;
      }
      const errors = [...args.errors];
      const location = locationOf(args, errors);
      if (args.operands.length > 0) errors.push(`unexpected argument ${JSON.stringify(args.operands[0])}`);
      if (errors.length > 0) return usageError("status", errors);
      return runStatus(openerOf(location), args.flags.has("json"), output);
    }
    default:
      return usageError("main", [command.startsWith("-") ? `unknown option ${command} (a command comes first)` : `unknown command "${command}"`]);
  }
}

const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

main(process.argv.slice(2), processOutput).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    processOutput.err(`kv: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    process.exitCode = 1;
  },
);
