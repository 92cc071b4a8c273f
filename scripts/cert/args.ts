/**
 * cert CLI — command-line parsing. Pure: argv in, typed options or every usage error out; no I/O, no clock.
 *
 * Hand-rolled rather than node:util parseArgs because `--revocation` takes an optional value that must not
 * swallow the next argument: only the words off|soft|strict are its value (`--revocation LEAF.pem` is strict
 * mode plus a leaf). Rules, for every option:
 * - `--name=value` and `--name value`; a separate value may not start with "-" (`--ca --json` is an error,
 *   `--ca=-odd-name` is how to pass such a file);
 * - options and operands may be interleaved; `--` ends the options; a lone `-` is an operand (standard input);
 * - a single-valued option given twice, an unknown option, a value for a flag, or a missing operand is an error.
 * Every error is collected (not just the first), so one run shows everything to fix.
 */
import type { RevocationMode } from "../../src/pki/validate";
import { err, ok, type Result } from "../../src/result";

/** How an option takes its value. */
type OptionKind =
  | { readonly kind: "flag" }
  | { readonly kind: "value"; readonly repeatable: boolean }
  /** `--name` alone means `implied`; `--name WORD` consumes WORD only when it is one of `values`. */
  | { readonly kind: "optional"; readonly values: readonly string[]; readonly implied: string };

type OptionTable = Readonly<Record<string, OptionKind>>;

interface RawArgs {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
  readonly operands: readonly string[];
}

/** Options of `cert inspect`. */
export interface InspectOptions {
  readonly files: readonly string[];
  readonly json: boolean;
}

/** Options of `cert verify`. */
export interface VerifyOptions {
  readonly anchors: readonly string[];
  readonly untrusted: readonly string[];
  readonly crls: readonly string[];
  /** Validation time; null = now. */
  readonly at: Date | null;
  /** Explicit mode; null = soft when CRLs are given, off otherwise. */
  readonly revocation: RevocationMode | null;
  readonly requireClientAuthEku: boolean;
  readonly partialChain: boolean;
  readonly json: boolean;
  readonly leaves: readonly string[];
}

export type Command =
  | { readonly command: "help"; readonly topic: "main" | "inspect" | "verify" }
  | { readonly command: "inspect"; readonly options: InspectOptions }
  | { readonly command: "verify"; readonly options: VerifyOptions };

/** A usage error: what is wrong, and which usage text to show with it. */
export interface UsageError {
  readonly messages: readonly string[];
  readonly topic: "main" | "inspect" | "verify";
}

const HELP: OptionTable = { help: { kind: "flag" }, h: { kind: "flag" } };

const INSPECT_OPTIONS: OptionTable = { ...HELP, json: { kind: "flag" } };

const REVOCATION_MODES: readonly RevocationMode[] = ["off", "soft", "strict"];

const VERIFY_OPTIONS: OptionTable = {
  ...HELP,
  ca: { kind: "value", repeatable: true },
  untrusted: { kind: "value", repeatable: true },
  crl: { kind: "value", repeatable: true },
  at: { kind: "value", repeatable: false },
  revocation: { kind: "optional", values: REVOCATION_MODES, implied: "strict" },
  "no-eku": { kind: "flag" },
  "partial-chain": { kind: "flag" },
  json: { kind: "flag" },
};

/** Parses the arguments after the program name (`process.argv.slice(2)`). */
export function parseCommandLine(argv: readonly string[]): Result<Command, UsageError> {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      return err({ messages: ["no command given"], topic: "main" });
    case "-h":
    case "--help":
      return ok({ command: "help", topic: "main" });
    case "help": {
      const topic = rest[0];
      if (topic === undefined) return ok({ command: "help", topic: "main" });
      if (topic === "inspect" || topic === "verify") return ok({ command: "help", topic });
      return err({ messages: [`unknown command "${topic}"`], topic: "main" });
    }
    case "inspect":
      return parseInspect(rest);
    case "verify":
      return parseVerify(rest);
    default:
      return err({ messages: [first.startsWith("-") ? `unknown option ${first} (a command comes first)` : `unknown command "${first}"`], topic: "main" });
  }
}

function parseInspect(argv: readonly string[]): Result<Command, UsageError> {
  const { args, errors } = parseOptions(argv, INSPECT_OPTIONS);
  if (wantsHelp(args)) return ok({ command: "help", topic: "inspect" });
  const messages = [...errors];
  if (args.operands.length === 0) messages.push("no FILE given");
  if (messages.length > 0) return err({ messages, topic: "inspect" });
  return ok({ command: "inspect", options: { files: args.operands, json: args.flags.has("json") } });
}

function parseVerify(argv: readonly string[]): Result<Command, UsageError> {
  const { args, errors } = parseOptions(argv, VERIFY_OPTIONS);
  if (wantsHelp(args)) return ok({ command: "help", topic: "verify" });
  const messages = [...errors];
  const anchors = args.values.get("ca") ?? [];
  if (anchors.length === 0) messages.push("--ca FILE is required (the trust anchors)");
  if (args.operands.length === 0) messages.push("no LEAF file given");
  let at: Date | null = null;
  const atText = args.values.get("at")?.[0];
  if (atText !== undefined) {
    at = parseIsoTime(atText);
    if (!at) messages.push(`--at: "${atText}" is not an ISO 8601 time (e.g. 2026-06-01 or 2026-06-01T12:00:00Z)`);
  }
  const revocation = args.values.get("revocation")?.[0];
  if (messages.length > 0) return err({ messages, topic: "verify" });
  return ok({
    command: "verify",
    options: {
      anchors,
      untrusted: args.values.get("untrusted") ?? [],
      crls: args.values.get("crl") ?? [],
      at,
      revocation: (revocation as RevocationMode | undefined) ?? null,
      requireClientAuthEku: !args.flags.has("no-eku"),
      partialChain: args.flags.has("partial-chain"),
      json: args.flags.has("json"),
      leaves: args.operands,
    },
  });
}

function wantsHelp(args: RawArgs): boolean {
  return args.flags.has("help") || args.flags.has("h");
}

/** Splits argv into options (per `table`) and operands, and lists what is wrong; see the header for the rules. */
function parseOptions(argv: readonly string[], table: OptionTable): { args: RawArgs; errors: string[] } {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const operands: string[] = [];
  const errors: string[] = [];
  const add = (name: string, value: string, repeatable: boolean) => {
    const list = values.get(name);
    if (!list) values.set(name, [value]);
    else if (repeatable) list.push(value);
    else errors.push(`--${name} given more than once`);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-" || !arg.startsWith("-")) {
      operands.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(arg.startsWith("--") ? 2 : 1, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const spec = table[name];
    // Single-letter options are spelled with one dash (-h), long ones with two (--json).
    if (!spec || (name.length === 1) === arg.startsWith("--")) {
      errors.push(`unknown option ${eq === -1 ? arg : arg.slice(0, eq)}`);
      continue;
    }
    switch (spec.kind) {
      case "flag":
        if (inline !== undefined) errors.push(`--${name} takes no value`);
        else flags.add(name);
        break;
      case "value": {
        let value = inline;
        if (value === undefined) {
          const next = argv[i + 1];
          if (next !== undefined && (next === "-" || !next.startsWith("-"))) {
            value = next;
            i++;
          }
        }
        if (value === undefined || value === "") errors.push(`--${name} needs a value`);
        else add(name, value, spec.repeatable);
        break;
      }
      case "optional": {
        let value = inline;
        if (value === undefined) {
          const next = argv[i + 1];
          if (next !== undefined && spec.values.includes(next)) {
            value = next;
            i++;
          } else {
            value = spec.implied;
          }
        }
        if (!spec.values.includes(value)) errors.push(`--${name}: "${value}" is not one of ${spec.values.join(", ")}`);
        else add(name, value, false);
        break;
      }
    }
  }
  return { args: { values, flags, operands }, errors };
}

const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * An ISO 8601 / RFC 3339 date or date-time: `2026-06-01`, `2026-06-01T12:00`, `2026-06-01T12:00:00.5Z`,
 * `2026-06-01 12:00:00+02:00`. Without an offset the time is UTC (not the local zone: a verdict must not depend
 * on where the CLI runs). Null for anything else, including impossible dates (2026-02-30, 24:00, :60 seconds),
 * which `Date.parse` would roll over or read in local time.
 */
export function parseIsoTime(text: string): Date | null {
  const m = ISO_TIME.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return null;
  let offsetMinutes = 0;
  if (!z && sign) {
    const offH = Number(oh);
    const offM = Number(om);
    if (offH > 23 || offM > 59) return null;
    offsetMinutes = (sign === "-" ? -1 : 1) * (offH * 60 + offM);
  }
  const ms = Math.floor(Number(`0.${frac || "0"}`) * 1000);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day);
  utc.setUTCHours(hour, minute, second, ms);
  return new Date(utc.getTime() - offsetMinutes * 60_000);
}
