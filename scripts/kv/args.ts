/**
 * Command-line splitting for the `kv` and `pki` CLIs. Pure: argv and an option table in, options, operands and
 * every usage error out; no I/O. Also where user-given paths are resolved (`userPath`, `displayPath`).
 *
 * Rules (the same as scripts/cert/args.ts, whose parser is private to that CLI):
 * - `--name=value` and `--name value`; a separate value may not start with "-" (`--out --force` is an error);
 * - options and operands may be interleaved; `--` ends the options;
 * - a single-valued option given twice, an unknown option, a value given to a flag or a missing value is an
 *   error, and every error is collected, so one run shows everything to fix.
 */
import { isAbsolute, relative, resolve } from "node:path";

/** How an option takes its value. */
export type OptionKind = { readonly kind: "flag" } | { readonly kind: "value"; readonly repeatable?: boolean };

export type OptionTable = Readonly<Record<string, OptionKind>>;

export interface ParsedArgs {
  /** Values per option name, in the order given. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
  readonly operands: readonly string[];
  /** Usage errors, one sentence each. */
  readonly errors: readonly string[];
}

export const FLAG: OptionKind = { kind: "flag" };
export const VALUE: OptionKind = { kind: "value" };
export const REPEATABLE: OptionKind = { kind: "value", repeatable: true };

/** Splits `argv` per `table`; `-h` is accepted as `--help` when the table has `help`. */
export function parseArgs(argv: readonly string[], table: OptionTable): ParsedArgs {
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const operands: string[] = [];
  const errors: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h" && table.help) {
      flags.add("help");
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      if (arg.startsWith("-") && arg !== "-") errors.push(`unknown option ${arg}`);
      else operands.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const spec = table[name];
    if (!spec) {
      errors.push(`unknown option --${name}`);
      continue;
    }
    if (spec.kind === "flag") {
      if (inline !== undefined) errors.push(`--${name} takes no value`);
      else flags.add(name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith("-")) {
        value = next;
        i++;
      }
    }
    if (value === undefined || value === "") {
      errors.push(`--${name} needs a value`);
      continue;
    }
    const list = values.get(name);
    if (!list) values.set(name, [value]);
    else if (spec.repeatable) list.push(value);
    else errors.push(`--${name} given more than once`);
  }
  return { values, flags, operands, errors };
}

/** The single value of `name`, or undefined. */
export function valueOf(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

/** Comma-separated lists from every occurrence of `name`, trimmed, empty items dropped. */
export function listOf(args: ParsedArgs, name: string): string[] {
  return (args.values.get(name) ?? []).flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
}

/** A whole number in [min, max], or an error message naming the option. */
export function integerOf(text: string, option: string, min: number, max: number): number | string {
  if (!/^\d+$/.test(text)) return `--${option}: "${text}" is not a whole number`;
  const n = Number(text);
  if (n < min || n > max) return `--${option}: ${n} is out of range (${min}–${max})`;
  return n;
}

/**
 * The folder relative paths on the command line are relative to: where the user ran `npm run` (npm runs
 * scripts from the project root and passes the caller's folder as INIT_CWD), else the working directory.
 */
export function invocationDir(): string {
  return process.env.INIT_CWD ?? process.cwd();
}

/** A path from the command line, absolute. */
export function userPath(path: string): string {
  return resolve(invocationDir(), path);
}

/** A path as short as it can be shown: relative to the invocation folder when inside it. */
export function displayPath(path: string): string {
  const rel = relative(invocationDir(), resolve(path));
  return rel === "" ? "." : rel.startsWith("..") || isAbsolute(rel) ? resolve(path) : rel;
}
