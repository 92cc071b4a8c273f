/**
 * `policy` — the policy CLI (`npm run -s policy -- explain …`), on the Worker's compiler, runner and
 * validation engine.
 *
 * Contract: the process edge. Parses argv (args.ts), reads the files (inputs.ts), reads the clock once
 * (unless --at), runs explain.ts and prints: readable text (render.ts), or with --json exactly one JSON object
 * on stdout (diagnostics and warnings go to stderr). Exit status: 0 whenever a decision was reached (allowed
 * or denied), 2 on bad arguments, unusable files, an invalid --var configuration or policies that do not
 * compile (the compiler's diagnostics are printed). `main(argv, output)` runs in-process (the tests do).
 */
import process from "node:process";
import { pathToFileURL } from "node:url";
import { formatDiagnostics } from "../compile-policies/source";
import { runMain, usageError, type Output } from "../lib/cli";
import { parseCommandLine } from "./args";
import { corpusMain } from "./corpus";
import { configFromVars, explainRequest } from "./explain";
import { compileForExplain, loadPresented, loadTrust } from "./inputs";
import { renderExplanation } from "./render";

export type { Output };

export const EXIT_DECIDED = 0;
export const EXIT_USAGE = 2;

const MAIN_USAGE = `Usage: policy <command> [options]

Commands:
  explain [options] --url URL   run compiled policies on one request in Node, as the Worker would,
                                and print the decision (docs/policies.md)
  corpus DIR [--values FILE]    measure a folder of APIM policy documents: how many compile, run,
                                deny or fail, and what blocks the rest (scripts/policy/corpus.ts)
  help [COMMAND]                print this help, or a command's

Exit status: 0 a decision was reached (allowed or denied), 2 bad arguments, unusable files or policies
that do not compile.`;

const EXPLAIN_USAGE = `Usage: policy explain [options] --url URL

Runs the policies on one request with the Worker's compiler, runner and validation engine, and prints the
decision: the operation matched, the scopes and every policy step that ran (file:line:col and outcome), the
trace, and the effect — the request the Worker would send to the origin (not called), or its response.

Policies (default: --policies policies):
  --policies DIR            a policies folder (docs/policies-layout.md)
  --policy FILE.xml         one <policies> document applied as the only scope to every request
  --values FILE             named values, values.json format (repeatable; later files win)
  --named-value NAME=VALUE  a named value (repeatable): compile-time, or the run-time value of a name
                            declared {"secret": true}

Trust material (default: the demo PKI npm start uses, .dev/pki: its root as anchor, its DEV issuing CA,
its valid client registered as valid-client; create it with \`npm run pki:demo\`):
  --ca FILE                 anchors of the deployment's store (repeatable); replaces the demo PKI
  --untrusted FILE          store intermediates (repeatable)
  --crl FILE                CRLs, PEM or DER (repeatable)
  --registered ID=FILE      a registered certificate, context.Deployment.Certificates[ID] (repeatable)
  --store NAME=FILE         another store, for validate-client-certificate trust-store="NAME": its root
                            certificates are the anchors, the others intermediates (repeatable)
  --pki DIR                 the demo PKI folder (default .dev/pki)
  --var NAME=VALUE          a Worker variable (docs/configuration.md), e.g. REQUIRE_CERTIFICATE=false,
                            DENY_STATUS=401, REVOCATION=strict, TRACE_SECRET=…, ORIGIN_URL=… (repeatable;
                            default ORIGIN_URL=https://origin.example.com, the rest the Worker's defaults)

The request:
  --url URL                 absolute http(s) URL, or a path (/hello → https://gateway.example/hello)
  --method METHOD           default GET
  --header 'Name: value'    a request header (repeatable)
  --body TEXT               the request body
  --cert FILE               the client certificate (PEM, DER, base64 or RFC 9440); further certificates
                            in the file are the chain the client presents
  --chain FILE              more presented chain certificates
  --at TIME                 the request's time, ISO 8601 (default now; UTC when no offset is given)
  --origin-status N         status of the synthetic origin response outbound runs on (default 200;
                            no headers, empty body)
  --counter-used N          STUB for rate-limit-by-key / quota-by-key: the calls each counter already
                            holds in its window (default 0); explain never reads the real counters
  --cached-response TEXT    STUB for cache-lookup: every lookup hits with a 200 of body TEXT (default:
                            the stub response cache is empty, every lookup misses); never the real caches
  --cache KEY=VALUE         STUB for cache-lookup-value: an entry of the value cache (repeatable;
                            default empty); stores and removals change only this run's stub
  --send-response VAR=STATUS[:BODY]
                            STUB for send-request: the answer stored in response variable VAR
                            (repeatable); explain makes no outbound call, a send-request without a
                            stub fails as unreachable, a send-one-way-request is not sent
  --managed-identity-token TOKEN
                            STUB for authentication-managed-identity: the token every such step
                            gets; no call to Entra ID, no secrets read (default: not configured,
                            503 managed_identity_not_configured)

Output:
  --json                    exactly one JSON object: {"effect": "forward"|"respond", "status",
                            "headers", "body", "origin", "operation", "trace", "mtlsCertificate",
                            "response", "steps", "lastError"} (docs/policies.md)
  -h, --help                this text

Exit status: 0 a decision was reached (allowed or denied), 2 bad arguments, unusable files, a bad --var
or policies that do not compile (the compiler's errors are printed).`;

/** Runs the CLI on `argv` (program name excluded); returns the exit status. */
export async function main(argv: readonly string[], output: Output, clock: () => Date = () => new Date()): Promise<number> {
  if (argv[0] === "corpus") return corpusMain(argv.slice(1), output, clock);
  if (argv[0] === "help" && argv[1] === "corpus") return corpusMain(["--help"], output, clock);
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    return usageError(output, parsed.error.topic === "main" ? "policy" : `policy ${parsed.error.topic}`, parsed.error.messages);
  }
  const command = parsed.value;
  if (command.command === "help") {
    output.out(command.topic === "main" ? MAIN_USAGE : EXPLAIN_USAGE);
    return EXIT_DECIDED;
  }
  const o = command.options;
  const fail = (messages: readonly string[]) => {
    for (const m of messages) output.err(`policy explain: ${m}`);
    return EXIT_USAGE;
  };

  const config = configFromVars(o.vars);
  if (!config.ok) return fail(config.error.map((p) => `--var: ${p}`));
  const compiled = compileForExplain(o.policy !== null ? { kind: "document", file: o.policy } : { kind: "folder", dir: o.policies! }, o.values, o.namedValues);
  if (!compiled.ok) {
    printLines(output, compiled.error.diagnostics);
    return fail(compiled.error.messages);
  }
  const c = compiled.value;
  printLines(output, formatDiagnostics(c.warnings, c.displayPrefix));
  const [trust, presented] = await Promise.all([loadTrust(o, config.value.trustStore), loadPresented(o.cert, o.chain)]);
  const problems = [...(trust.ok ? [] : trust.error), ...(presented.ok ? [] : presented.error)];
  if (!trust.ok || !presented.ok) return fail(problems);

  const at = o.at ?? clock();
  const explanation = await explainRequest({
    prepared: c.prepared,
    config: config.value,
    stores: trust.value.stores,
    registered: trust.value.registered,
    runtimeValues: c.runtimeValues,
    originStatus: o.originStatus,
    counterUsed: o.counterUsed,
    cache: o.cache,
    sendResponses: o.sendResponses,
    cachedResponse: o.cachedResponse,
    ...(o.managedIdentityToken !== null ? { managedIdentityToken: o.managedIdentityToken } : {}),
  }, {
    method: o.method,
    url: o.url,
    headers: o.headers,
    body: o.body,
    leaf: presented.value?.leaf.der ?? null,
    chain: presented.value?.chain.map((x) => x.der) ?? [],
    at,
  });
  if (o.json) {
    output.out(JSON.stringify(explanation.decision));
    return EXIT_DECIDED;
  }
  const operations = Object.keys(c.bundle.operations).length - 1;
  const what = o.policy !== null
    ? `${o.policy} (one document, the only scope of every request)`
    : `${c.displayPrefix} (${operations} operation${operations === 1 ? "" : "s"}, ${c.fileCount} file${c.fileCount === 1 ? "" : "s"})`;
  for (const line of renderExplanation(explanation, {
    policies: what,
    trust: trust.value.description,
    displayPrefix: c.displayPrefix,
    method: o.method,
    url: o.url.toString(),
    at,
    originStatus: o.originStatus,
    counterUsed: o.counterUsed,
    cacheEntries: o.cache.size,
    sendResponses: o.sendResponses.size,
    cachedResponse: o.cachedResponse,
    managedIdentityToken: o.managedIdentityToken !== null,
  })) output.out(line);
  return EXIT_DECIDED;
}

/** Multi-line text (compiler diagnostics) to stderr, line by line. */
function printLines(output: Output, text: string): void {
  if (text === "") return;
  for (const line of text.replace(/\n$/, "").split("\n")) output.err(line);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runMain("policy", main, EXIT_USAGE);
