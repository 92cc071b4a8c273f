/**
 * The shared argument layer: the rules every certgate tool follows (scripts/lib/cli.ts), pinned once here.
 */
import { describe, expect, it } from "vitest";
import { describeError, dispatch, FLAG, oneOf, parseOptions, REPEATABLE, VALUE } from "./cli";

const TABLE = { ca: REPEATABLE, at: VALUE, json: FLAG, mode: oneOf(["off", "soft", "strict"]) };

describe("parseOptions", () => {
  it("takes --name value and --name=value, interleaved with operands; -- ends the options; - is an operand", () => {
    const r = parseOptions(["a", "--ca", "r1", "--ca=r2", "b", "--json", "--at=-1", "-", "--", "--json"], TABLE);
    expect(r.errors).toEqual([]);
    expect(r.values.get("ca")).toEqual(["r1", "r2"]);
    expect(r.values.get("at")).toEqual(["-1"]);
    expect([...r.flags]).toEqual(["json"]);
    expect(r.operands).toEqual(["a", "b", "-", "--json"]);
  });

  it("collects every usage error, each one sentence", () => {
    const r = parseOptions(["--at", "1", "--at", "2", "--json=yes", "--cx", "x", "--mode", "maybe", "-json", "--ca"], TABLE);
    expect(r.errors).toEqual([
      "unknown option -json (options take two dashes: --json)",
      "--at given more than once",
      "--json takes no value",
      "unknown option --cx (did you mean --ca?)",
      '--mode: "maybe" is not one of off, soft, strict',
      "--ca needs a value",
    ]);
  });

  it("a value that is an option is a forgotten value, and that option is still checked", () => {
    expect(parseOptions(["--ca", "--json"], TABLE).errors).toEqual(["--ca needs a value"]);
    expect(parseOptions(["--ca", "--jsno"], TABLE).errors).toEqual(["--ca needs a value", "unknown option --jsno (did you mean --json?)"]);
    expect(parseOptions(["--mode"], TABLE).errors).toEqual(["--mode needs a value (off, soft, strict)"]);
  });

  it("-h and --help anywhere ask for help", () => {
    expect(parseOptions(["x", "-h"], TABLE).help).toBe(true);
    expect(parseOptions(["--bogus", "--help"], TABLE).help).toBe(true);
    expect(parseOptions(["x"], TABLE).help).toBe(false);
  });
});

describe("dispatch", () => {
  const commands = ["sync", "status"] as const;
  it("reads the command word, help [COMMAND], -h and --help", () => {
    expect(dispatch(["sync", "x"], commands)).toEqual({ kind: "command", command: "sync", rest: ["x"] });
    expect(dispatch(["help", "status"], commands)).toEqual({ kind: "help", topic: "status" });
    expect(dispatch(["--help"], commands)).toEqual({ kind: "help", topic: "main" });
    expect(dispatch(["-h"], commands)).toEqual({ kind: "help", topic: "main" });
  });
  it("names the intended command of a typo, and lists them otherwise", () => {
    expect(dispatch(["stauts"], commands)).toEqual({ kind: "error", message: 'unknown command "stauts" (did you mean status?)' });
    expect(dispatch(["frobnicate"], commands)).toEqual({ kind: "error", message: 'unknown command "frobnicate" (commands: sync, status)' });
    expect(dispatch([], commands)).toEqual({ kind: "error", message: "no command given" });
    expect(dispatch(["--json"], commands).kind).toBe("error");
  });
});

describe("describeError", () => {
  it("says a file-system error in words with its path, never Node's code text", () => {
    const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y'"), { code: "ENOENT", path: "/x/y" });
    expect(describeError(e)).toBe("/x/y: does not exist");
    const d = Object.assign(new Error("EISDIR: illegal operation on a directory, read"), { code: "EISDIR", path: "/x" });
    expect(describeError(d)).toBe("/x: is a folder, not a file");
    expect(describeError(new Error("first line\n    at somewhere"))).toBe("first line");
  });
});
