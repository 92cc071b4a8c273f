/**
 * The one argument layer of certgate's command-line tools (cert, policy, kv, pki, policies:build), on
 * `node:util` `parseArgs`, so flags, `--help`, errors and exit codes behave the same in every tool.
 *
 * Contract:
 * - `parseOptions(argv, table)` is pure: argv and an option table in; values, flags, operands and every usage
 *   error out (one sentence each, all of them, so one run shows everything to fix). It never throws.
 *   Rules: `--name=value` and `--name value`; a separate value may not start with "-" (`--ca --json` is an
 *   error; `--ca=-odd` passes such a value); options and operands may be interleaved; `--` ends the options;
 *   a lone `-` is an operand (standard input); `-h` is `--help` in every table; a single-valued option given
 *   twice, an unknown option (with the nearest known one suggested), a value for a flag, a missing value or a
 *   value outside an option's `choices` is an error.
 * - `dispatch` reads the command word the same way in every tool (`help [COMMAND]`, `-h`, `--help`).
 * - `usageError` prints `PROGRAM: message` per problem and one "Run … --help" line; exit 2.
 * - `userPath` / `displayPath`: paths on the command line are the caller's (npm's INIT_CWD), shown short.
 * - `runMain` is the process edge shared by every tool: it sets the exit status, turns an exception into one
 *   line (no stack trace unless CERTGATE_DEBUG=1; file-system errors in words, not `ENOENT: …`), and exits once
 *   the output is flushed, so a library that left a handle open (a half-started workerd) cannot hang the tool.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { closestName } from "../../src/edit-distance";

/** Line sinks: `out` for results (stdout), `err` for diagnostics (stderr). A line carries no newline. */
export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Exit status of a usage error (bad arguments), in every tool. */
export const EXIT_USAGE = 2;

/** How an option takes its value. */
export type OptionSpec =
  | { readonly type: "boolean" }
  | {
      readonly type: "string";
      /** May be given several times (values kept in order). */
      readonly multiple?: boolean;
      /** The only values accepted. */
      readonly choices?: readonly string[];
    };

export type OptionTable = Readonly<Record<string, OptionSpec>>;

export const FLAG: OptionSpec = { type: "boolean" };
export const VALUE: OptionSpec = { type: "string" };
export const REPEATABLE: OptionSpec = { type: "string", multiple: true };
/** A single value, one of `choices`. */
export function oneOf(choices: readonly string[]): OptionSpec {
  return { type: "string", choices };
}

export interface ParsedArgs {
  /** Values per option name, in the order given. */
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
  readonly operands: readonly string[];
  /** `--help` or `-h` was given (the other errors are then irrelevant). */
  readonly help: boolean;
  /** Usage errors, one sentence each. */
  readonly errors: readonly string[];
}

/** Splits `argv` per `table` (see the header for the rules). */
export function parseOptions(argv: readonly string[], table: OptionTable): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = { help: { type: "boolean", short: "h" } };
  for (const [name, spec] of Object.entries(table)) options[name] = { type: spec.type, multiple: spec.type === "string" };
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const operands: string[] = [];
  const errors: string[] = [];
  let help = false;
  // `-json` is not four short options: certgate's options are long, except -h.
  const terminator = argv.indexOf("--");
  const args = argv.filter((a, i) => {
    if ((terminator === -1 || i < terminator) && /^-[^-]{2,}/.test(a)) {
      errors.push(`unknown option ${a.split("=")[0]} (options take two dashes: -${a.split("=")[0]})`);
      return false;
    }
    return true;
  });
  // strict: false, so that every problem is collected here rather than the first one thrown.
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === "positional") {
      operands.push(token.value);
      continue;
    }
    if (token.kind === "option-terminator") continue;
    const { name, rawName } = token;
    if (name === "help") {
      help = true;
      continue;
    }
    const spec = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!spec || (rawName.startsWith("--") ? name.length === 1 : rawName !== `-${name}`)) {
      const near = closestName(name, Object.keys(table));
      errors.push(`unknown option ${rawName}${near ? ` (did you mean --${near}?)` : ""}`);
      continue;
    }
    if (spec.type === "boolean") {
      if (token.inlineValue) errors.push(`${rawName} takes no value`);
      else flags.add(name);
      continue;
    }
    const value = token.value;
    // parseArgs takes the next argument whatever it is; an option there means the value was forgotten.
    if (value === undefined || value === "" || (!token.inlineValue && value.startsWith("-") && value !== "-")) {
      errors.push(`${rawName} needs a value${spec.choices ? ` (${spec.choices.join(", ")})` : ""}`);
      if (value !== undefined && value.startsWith("-") && !token.inlineValue) errors.push(...reparse(value, table));
      continue;
    }
    if (spec.choices && !spec.choices.includes(value)) {
      errors.push(`${rawName}: ${JSON.stringify(value)} is not one of ${spec.choices.join(", ")}`);
      continue;
    }
    const list = values.get(name);
    if (!list) values.set(name, [value]);
    else if (spec.multiple) list.push(value);
    else errors.push(`${rawName} given more than once`);
  }
  return { values, flags, operands, help, errors };
}

/** Problems of an option that was swallowed as another option's value (so a typo in it is still reported). */
function reparse(arg: string, table: OptionTable): string[] {
  const name = arg.replace(/^--?/, "").split("=")[0]!;
  if (name === "help" || name === "h" || Object.hasOwn(table, name)) return [];
  const near = closestName(name, Object.keys(table));
  return [`unknown option ${arg.split("=")[0]}${near ? ` (did you mean --${near}?)` : ""}`];
}

/** The single value of `name`, or undefined. */
export function valueOf(args: ParsedArgs, name: string): string | undefined {
  return args.values.get(name)?.[0];
}

/** Every value of `name`, in order. */
export function valuesOf(args: ParsedArgs, name: string): readonly string[] {
  return args.values.get(name) ?? [];
}

/** Comma-separated lists from every occurrence of `name`, trimmed, empty items dropped. */
export function listOf(args: ParsedArgs, name: string): string[] {
  return valuesOf(args, name).flatMap((v) => v.split(",")).map((s) => s.trim()).filter((s) => s !== "");
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

/**
 * Why `path` cannot be used (or created) as a folder, or null: it is a file, or a part of it is a file.
 * (File-system checks, not pure: the CLIs call it before doing any work.)
 */
export function folderProblem(path: string): string | null {
  const full = resolve(path);
  if (existsSync(full)) return statSync(full).isDirectory() ? null : "is a file, not a folder";
  for (let dir = dirname(full); ; dir = dirname(dir)) {
    if (existsSync(dir)) return statSync(dir).isDirectory() ? null : `${displayPath(dir)} is a file, not a folder`;
    if (dirname(dir) === dir) return null;
  }
}

/** What the first word of a tool's argv asks for. */
export type Dispatch<C extends string> =
  | { readonly kind: "help"; readonly topic: "main" | C }
  | { readonly kind: "command"; readonly command: C; readonly rest: readonly string[] }
  | { readonly kind: "error"; readonly message: string };

/** Reads the command word: `COMMAND …`, `help [COMMAND]`, `-h`/`--help`; anything else is a usage error. */
export function dispatch<C extends string>(argv: readonly string[], commands: readonly C[]): Dispatch<C> {
  const [first, ...rest] = argv;
  const isCommand = (w: string | undefined): w is C => w !== undefined && (commands as readonly string[]).includes(w);
  if (first === undefined) return { kind: "error", message: "no command given" };
  if (first === "-h" || first === "--help") return { kind: "help", topic: "main" };
  if (first === "help") {
    if (rest[0] === undefined) return { kind: "help", topic: "main" };
    if (isCommand(rest[0])) return { kind: "help", topic: rest[0] };
    return { kind: "error", message: unknownCommand(rest[0], commands) };
  }
  if (isCommand(first)) return { kind: "command", command: first, rest };
  if (first.startsWith("-")) return { kind: "error", message: `unknown option ${first} (a command comes first: ${commands.join(", ")})` };
  return { kind: "error", message: unknownCommand(first, commands) };
}

function unknownCommand(word: string, commands: readonly string[]): string {
  const near = closestName(word, commands);
  return `unknown command ${JSON.stringify(word)}${near ? ` (did you mean ${near}?)` : ` (commands: ${commands.join(", ")})`}`;
}

/** Prints usage errors as `NAME: message` lines and the pointer to the help; returns EXIT_USAGE. */
export function usageError(output: Output, name: string, messages: readonly string[]): number {
  for (const m of messages) output.err(`${name}: ${m}`);
  output.err(`Run "${name} --help" for usage.`);
  return EXIT_USAGE;
}

const FS_REASONS: Readonly<Record<string, string>> = {
  ENOENT: "does not exist",
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "is a folder, not a file",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EEXIST: "already exists",
  ENOTEMPTY: "the folder is not empty",
  ENOSPC: "no space left on the device",
  EROFS: "read-only file system",
  ELOOP: "too many symbolic links",
  ENAMETOOLONG: "the name is too long",
};

/**
 * An error as one line for a user: a file-system error as "PATH: reason" (never Node's `ENOENT: no such file
 * or directory, open '…'`), anything else its message's first line.
 */
export function describeError(e: unknown): string {
  const path = e instanceof Error ? (e as NodeJS.ErrnoException).path : undefined;
  const reason = reasonOf(e);
  return path !== undefined && reason !== (e as Error).message ? `${path}: ${reason}` : reason;
}

/** Why an operation failed, without the path: a file-system error's reason in words, else the message's first line. */
export function reasonOf(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== undefined && Object.hasOwn(FS_REASONS, code)) return FS_REASONS[code]!;
    return (e.message.split("\n")[0] ?? "").trim() || e.name;
  }
  return String(e);
}

/** stdout/stderr of this process. */
export const processOutput: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Runs a tool's `main` as the process: its result is the exit status; an exception prints one line
 * `PROGRAM: internal error: …` and exits `internalStatus`. The process exits once stdout and stderr are
 * flushed, whatever handles a library left open.
 */
export function runMain(program: string, main: (argv: readonly string[], output: Output) => Promise<number> | number, internalStatus = 1): void {
  const finish = (code: number) => {
    let pending = 2;
    const done = () => {
      if (--pending === 0) process.exit(code);
    };
    process.stdout.write("", done);
    process.stderr.write("", done);
  };
  Promise.resolve()
    .then(() => main(process.argv.slice(2), processOutput))
    .then(finish, (e: unknown) => {
      processOutput.err(`${program}: internal error: ${describeError(e)}`);
      if (process.env.CERTGATE_DEBUG === "1" && e instanceof Error && e.stack) processOutput.err(e.stack);
      finish(internalStatus);
    });
}
