/**
 * `cert` — the certificate CLI (`npm run -s cert -- …`), on the same library code as the Worker.
 *
 * Contract: the process edge. Parses argv (args.ts), prints usage, reads the clock once for `verify`, dispatches
 * to inspect.ts / verify.ts with an `Output` bound to stdout/stderr, and sets the exit status (output.ts):
 * 0 success, 1 a leaf is invalid, 2 bad arguments or unusable files (scripts/lib/cli.ts runMain: exits once the
 * output is flushed). An exception is a bug: it is printed as one line and exits 2.
 */
import { runMain, usageError } from "../lib/cli";
import { parseCommandLine } from "./args";
import { runInspect } from "./inspect";
import { EXIT_OK, EXIT_USAGE, type Output } from "./output";
import { runVerify } from "./verify";

const MAIN_USAGE = `Usage: cert <command> [options]

Commands:
  inspect FILE... [--json]      print the certificate model of every certificate in each FILE
  verify --ca FILE [options] LEAF...
                                validate each LEAF file with certgate's engine, as the Worker does
  help [COMMAND]                print this help, or a command's

Certificate files may be PEM, DER, base64 or RFC 9440 (":base64:"), and may hold several certificates.
"-" reads standard input. Run "cert <command> --help" for a command's options.

Exit status: 0 success, 1 some leaf is invalid (verify), 2 bad arguments or a file that cannot be used.`;

const INSPECT_USAGE = `Usage: cert inspect FILE... [--json]

Prints the certificate model (the facts certgate policies see) of every certificate in each FILE.
A FILE may hold a bundle: PEM, DER, base64 or RFC 9440; "-" reads standard input.

Options:
  --json       one JSON line per certificate: {"file", "index" (0-based in the file), ...model}
  -h, --help   print this help

Exit status: 0 if every file was read, 2 on bad arguments or a file that cannot be read or parsed.`;

const VERIFY_USAGE = `Usage: cert verify --ca FILE [options] LEAF...

Validates each LEAF with certgate's engine, as the Worker does (RFC 5280 path validation, clientAuth EKU,
key and algorithm policy, budgets). A LEAF file holds the client certificate, optionally followed by the
chain the client presents. Files: PEM, DER, base64 or RFC 9440; "-" reads standard input.

Options:
  --ca FILE             trust anchors (required; repeatable)
  --untrusted FILE      intermediates known to the trust store (repeatable)
  --crl FILE            CRLs, PEM or DER, one or several per file (repeatable)
  --at TIME             validate at TIME instead of now: ISO 8601, e.g. 2026-06-01 or
                        2026-06-01T12:00:00Z (UTC when no offset is given)
  --revocation MODE     off | soft | strict.
                        Default: soft when a --crl is given, off otherwise
  --no-eku              do not check the extended key usage
  --purpose P           clientAuth (default: what the Worker checks) or serverAuth (to check server chains)
  --profile P           strict (default) or compatible: the RFC 5280 profile, as CERT_PROFILE
  --partial-chain       accept an --untrusted certificate as the end of the path
  --json                one JSON line per leaf: {"file", "valid", "code", "detail", "context",
                        "warnings", "path" (subjects, leaf → anchor), "subject", "thumbprint"}
  -h, --help            print this help

Exit status: 0 if every leaf is valid, 1 if any is invalid, 2 on bad arguments or a file that cannot
be read or parsed.`;

const USAGE = { main: MAIN_USAGE, inspect: INSPECT_USAGE, verify: VERIFY_USAGE } as const;

/** Runs the CLI on `argv` (program name excluded); returns the exit status. */
async function main(argv: readonly string[], output: Output): Promise<number> {
  const parsed = parseCommandLine(argv);
  if (!parsed.ok) {
    return usageError(output, parsed.error.topic === "main" ? "cert" : `cert ${parsed.error.topic}`, parsed.error.messages);
  }
  const command = parsed.value;
  switch (command.command) {
    case "help":
      output.out(USAGE[command.topic]);
      return EXIT_OK;
    case "inspect":
      return runInspect(command.options, output);
    case "verify":
      return runVerify(command.options, output, command.options.at ?? new Date());
  }
}

runMain("cert", main, EXIT_USAGE);
