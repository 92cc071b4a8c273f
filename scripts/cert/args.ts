/**
 * cert CLI — command-line parsing. Pure: argv in, typed options or every usage error out; no I/O, no clock.
 * The rules are every certgate tool's (scripts/lib/cli.ts): `--name=value` or `--name value`, `--` ends the
 * options, a lone `-` is an operand (standard input), every error collected. `--revocation` takes one of
 * off|soft|strict like any other value (`--revocation maybe` is an error, not a leaf file named "maybe").
 */
import type { RevocationMode } from "../../src/pki/validate";
import { err, ok, type Result } from "../../src/result";
import { dispatch, FLAG, oneOf, parseOptions, REPEATABLE, VALUE, valueOf, valuesOf, type OptionTable } from "../lib/cli";

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
  /** The RFC 5280 profile: strict (default) or compatible, as CERT_PROFILE in the Worker. */
  readonly profile: "strict" | "compatible";
  /** The extended key usage checked: clientAuth (what the Worker checks) or serverAuth (to judge server chains). */
  readonly purpose: "clientAuth" | "serverAuth";
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

const INSPECT_OPTIONS: OptionTable = { json: FLAG };

const REVOCATION_MODES: readonly RevocationMode[] = ["off", "soft", "strict"];

const VERIFY_OPTIONS: OptionTable = {
  ca: REPEATABLE,
  untrusted: REPEATABLE,
  crl: REPEATABLE,
  at: VALUE,
  revocation: oneOf(REVOCATION_MODES),
  "no-eku": FLAG,
  purpose: oneOf(["clientAuth", "serverAuth"]),
  profile: oneOf(["strict", "compatible"]),
  "partial-chain": FLAG,
  json: FLAG,
};

/** Parses the arguments after the program name (`process.argv.slice(2)`). */
export function parseCommandLine(argv: readonly string[]): Result<Command, UsageError> {
  const d = dispatch(argv, ["inspect", "verify"] as const);
  switch (d.kind) {
    case "error":
      return err({ messages: [d.message], topic: "main" });
    case "help":
      return ok({ command: "help", topic: d.topic });
    case "command":
      return d.command === "inspect" ? parseInspect(d.rest) : parseVerify(d.rest);
  }
}

function parseInspect(argv: readonly string[]): Result<Command, UsageError> {
  const args = parseOptions(argv, INSPECT_OPTIONS);
  if (args.help) return ok({ command: "help", topic: "inspect" });
  const messages = [...args.errors];
  if (args.operands.length === 0) messages.push("no FILE given");
  if (messages.length > 0) return err({ messages, topic: "inspect" });
  return ok({ command: "inspect", options: { files: args.operands, json: args.flags.has("json") } });
}

function parseVerify(argv: readonly string[]): Result<Command, UsageError> {
  const args = parseOptions(argv, VERIFY_OPTIONS);
  if (args.help) return ok({ command: "help", topic: "verify" });
  const messages = [...args.errors];
  const anchors = valuesOf(args, "ca");
  if (anchors.length === 0 && !messages.some((m) => m.startsWith("--ca "))) messages.push("--ca FILE is required (the trust anchors)");
  if (args.operands.length === 0) messages.push("no LEAF file given");
  let at: Date | null = null;
  const atText = valueOf(args, "at");
  if (atText !== undefined) {
    at = parseIsoTime(atText);
    if (!at) messages.push(`--at: "${atText}" is not an ISO 8601 time (e.g. 2026-06-01 or 2026-06-01T12:00:00Z)`);
  }
  const revocation = valueOf(args, "revocation") as RevocationMode | undefined;
  if (messages.length > 0) return err({ messages, topic: "verify" });
  return ok({
    command: "verify",
    options: {
      anchors,
      untrusted: valuesOf(args, "untrusted"),
      crls: valuesOf(args, "crl"),
      at,
      revocation: revocation ?? null,
      requireClientAuthEku: !args.flags.has("no-eku"),
      purpose: (valueOf(args, "purpose") as "clientAuth" | "serverAuth" | undefined) ?? "clientAuth",
      profile: (valueOf(args, "profile") as "strict" | "compatible" | undefined) ?? "strict",
      partialChain: args.flags.has("partial-chain"),
      json: args.flags.has("json"),
      leaves: args.operands,
    },
  });
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
