/**
 * policy/expr/regex — .NET regular expressions (System.Text.RegularExpressions.Regex) for policy expressions, run by
 * our own matcher instead of JavaScript's RegExp, for two reasons: a RegExp cannot be interrupted, so one
 * backtracking pattern could stall the isolate past any step budget; and .NET and JavaScript disagree on `\d`,
 * `\w`, `\s`, `\b`, `$` and group numbering, so a pattern handed to RegExp would silently mean something else.
 *
 * The matcher is a Pike VM (Thompson NFA with submatch tracking, as in RE2): it runs in O(pattern × input) time and
 * charges its meter one step per live thread per input character, so the interpreter's step budget bounds it.
 * Thread priorities give the leftmost-first, greedy/lazy results of .NET's backtracking engine for the supported
 * syntax, which has no construct whose result depends on backtracking order beyond that.
 *
 * Supported (.NET semantics, learn.microsoft.com/dotnet/standard/base-types/regular-expression-language-quick-reference):
 * literals and escapes (`\t \n \r \f \v \e \xHH \uHHHH`, `\` + any non-alphanumeric), `.` (any but `\n`),
 * classes `[a-z]`, `[^…]` with `\d \w \s \D \W \S` inside and out (Unicode: `\d` = \p{Nd}; `\w` = [\p{L}\p{Mn}\p{Nd}\p{Pc}];
 * `\s` = [\f\n\r\t\v\x85\p{Z}]), anchors `^` `$` (end, or before a final `\n`) `\A` `\z` `\Z` `\b` `\B`, groups
 * `( )`, `(?: )`, `(?<name> )`, `(?'name' )` (numbered as .NET does: unnamed groups first, then named ones),
 * alternation, quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms, RegexOptions.IgnoreCase, Multiline and
 * Singleline.
 * Everything else (backreferences, lookarounds, atomic groups, inline options, `\p{…}`, `\G`, class subtraction,
 * conditionals) is rejected by compileRegex, so the policy compiler reports it at the pattern's position.
 *
 * Contract: pure; no I/O; compileRegex never throws (returns an error); execRegex throws only what `step` throws.
 */

/**
 * RegexOptions the matcher honours (CultureInvariant and Compiled change nothing here); the checker rejects the
 * others at compile time (check-types.ts), the interpreter at run time.
 */
export const REGEX_OPTIONS: ReadonlySet<string> = new Set(["None", "IgnoreCase", "Multiline", "Singleline", "CultureInvariant", "Compiled"]);

/** The options that change matching (RegexOptions.IgnoreCase, Multiline: ^ $ at each "\n", Singleline: . matches "\n"). */
export interface RegexFlags {
  readonly ignoreCase?: boolean;
  readonly multiline?: boolean;
  readonly singleline?: boolean;
}

/** The flags of one RegexOptions member name. */
export function regexFlags(option: string | null): RegexFlags {
  return { ignoreCase: option === "IgnoreCase", multiline: option === "Multiline", singleline: option === "Singleline" };
}

/** Most instructions a compiled pattern may have (bounds {n,m} expansion and the per-character work). */
export const MAX_REGEX_PROGRAM = 2000;

type CharTest = (c: number) => boolean;

/** bol: start; bolm/eolm: Multiline's line starts and ends; eolz: end or before a final "\n"; eos: end. */
type AssertKind = "bol" | "bolm" | "eolm" | "eolz" | "eos" | "word" | "nonword";

type Inst =
  | { op: "char"; test: CharTest }
  | { op: "split"; x: number; y: number }
  | { op: "jmp"; x: number }
  | { op: "save"; n: number }
  | { op: "assert"; kind: AssertKind }
  | { op: "match" };

export interface CompiledRegex {
  readonly prog: readonly Inst[];
  /** Group count including group 0. */
  readonly groups: number;
  /** Group name (or its number as text) by number. */
  readonly names: readonly string[];
}

export type RegexResult = { ok: true; regex: CompiledRegex } | { ok: false; index: number; message: string };

// ── syntax tree ──

type Node =
  | { t: "char"; test: CharTest }
  | { t: "assert"; kind: AssertKind }
  | { t: "seq"; items: Node[] }
  | { t: "alt"; items: Node[] }
  | { t: "group"; body: Node; index: number | null; name: string | null }
  | { t: "repeat"; body: Node; min: number; max: number; lazy: boolean };

const is = (re: RegExp): CharTest => (c) => re.test(String.fromCharCode(c));
const DIGIT = is(/\p{Nd}/u);
const WORD = is(/[\p{L}\p{Mn}\p{Nd}\p{Pc}]/u);
const SPACE = is(/[\f\n\r\t\v\x85\p{Z}]/u);
const not = (f: CharTest): CharTest => (c) => !f(c);

class RegexSyntaxError extends Error {
  constructor(readonly index: number, message: string) {
    super(message);
  }
}

class Parser {
  private i = 0;
  private unnamed = 0;
  readonly named: Array<{ name: string; node: { index: number | null } }> = [];
  readonly unnamedNodes: Array<{ index: number | null }> = [];

  private readonly ignoreCase: boolean;

  constructor(private readonly p: string, private readonly flags: RegexFlags) {
    this.ignoreCase = flags.ignoreCase === true;
  }

  private fail(message: string, at = this.i): never {
    throw new RegexSyntaxError(at, message);
  }

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.p.length) this.fail("Too many )'s");
    return n;
  }

  private alternation(): Node {
    const items = [this.sequence()];
    while (this.p[this.i] === "|") {
      this.i++;
      items.push(this.sequence());
    }
    return items.length === 1 ? items[0]! : { t: "alt", items };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.p.length && this.p[this.i] !== "|" && this.p[this.i] !== ")") {
      const start = this.i;
      let atom = this.atom();
      for (;;) {
        const q = this.quantifier();
        if (q === null) break;
        if (atom.t === "assert") this.fail("a quantifier after an anchor is not supported", start);
        if (atom.t === "repeat") this.fail("Nested quantifier", this.i - 1);
        atom = { t: "repeat", body: atom, ...q };
      }
      items.push(atom);
    }
    return { t: "seq", items };
  }

  private quantifier(): { min: number; max: number; lazy: boolean } | null {
    const c = this.p[this.i];
    let min: number, max: number;
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      [min, max] = c === "*" ? [0, Infinity] : c === "+" ? [1, Infinity] : [0, 1];
    } else if (c === "{") {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.i));
      if (!m) return null; // .NET: a `{` that does not start a quantifier is a literal
      this.i += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === "" ? Infinity : Number(m[3]);
      if (max < min) this.fail("Illegal {x,y} with x > y");
      if (min > 1000 || (max !== Infinity && max > 1000)) this.fail("a repetition count above 1000 is not supported");
    } else return null;
    const lazy = this.p[this.i] === "?";
    if (lazy) this.i++;
    return { min, max, lazy };
  }

  private literal(code: number): Node {
    if (!this.ignoreCase) return { t: "char", test: (c) => c === code };
    const lower = fold(code);
    return { t: "char", test: (c) => fold(c) === lower };
  }

  private atom(): Node {
    const c = this.p[this.i]!;
    switch (c) {
      case "(":
        return this.group();
      case "[":
        return this.charClass();
      case ".":
        this.i++;
        return { t: "char", test: this.flags.singleline === true ? () => true : (x) => x !== 0x0a };
      case "^":
        this.i++;
        return { t: "assert", kind: this.flags.multiline === true ? "bolm" : "bol" };
      case "$":
        this.i++;
        return { t: "assert", kind: this.flags.multiline === true ? "eolm" : "eolz" };
      case "\\":
        return this.escape();
      case "*":
      case "+":
      case "?":
        return this.fail(`Quantifier '${c}' following nothing`);
      default:
        this.i++;
        return this.literal(c.charCodeAt(0));
    }
  }

  private group(): Node {
    const open = this.i;
    this.i++;
    let name: string | null = null;
    let capturing = true;
    if (this.p[this.i] === "?") {
      const rest = this.p.slice(this.i + 1);
      const named = /^(?:<([A-Za-z_][A-Za-z0-9_]*)>|'([A-Za-z_][A-Za-z0-9_]*)')/.exec(rest);
      if (rest.startsWith(":")) {
        capturing = false;
        this.i += 2;
      } else if (named) {
        name = named[1] ?? named[2]!;
        this.i += 1 + named[0].length;
      } else {
        const what = rest.startsWith("=") || rest.startsWith("!") || rest.startsWith("<=") || rest.startsWith("<!") ? "lookaround"
          : rest.startsWith(">") ? "atomic group" : rest.startsWith("(") ? "conditional" : rest.startsWith("#") ? "comment" : "inline option or group construct";
        this.fail(`${what} (?${rest.slice(0, 2)}…) is not supported`, open);
      }
    }
    const node: { t: "group"; body: Node; index: number | null; name: string | null } = { t: "group", body: { t: "seq", items: [] }, index: null, name };
    if (capturing) {
      if (name === null) this.unnamedNodes.push(node);
      else this.named.push({ name, node });
    }
    node.body = this.alternation();
    if (this.p[this.i] !== ")") this.fail("Not enough )'s", open);
    this.i++;
    return capturing ? node : node.body;
  }

  /** `\x` outside a class. */
  private escape(): Node {
    const at = this.i;
    const c = this.p[this.i + 1];
    if (c === undefined) this.fail("Illegal \\ at end of pattern");
    this.i += 2;
    switch (c) {
      case "A":
        return { t: "assert", kind: "bol" };
      case "z":
        return { t: "assert", kind: "eos" };
      case "Z":
        return { t: "assert", kind: "eolz" };
      case "b":
        return { t: "assert", kind: "word" };
      case "B":
        return { t: "assert", kind: "nonword" };
    }
    const set = classEscape(c);
    if (set) return { t: "char", test: set };
    return this.literal(this.charEscape(c, at));
  }

  /** The code of an escaped character (`\n`, `\x41`, `\.`), shared by classes. */
  private charEscape(c: string, at: number): number {
    switch (c) {
      case "t":
        return 9;
      case "n":
        return 10;
      case "r":
        return 13;
      case "f":
        return 12;
      case "v":
        return 11;
      case "e":
        return 27;
      case "x":
      case "u": {
        const len = c === "x" ? 2 : 4;
        const hex = this.p.slice(this.i, this.i + len);
        if (!new RegExp(`^[0-9A-Fa-f]{${len}}$`).test(hex)) this.fail(`Insufficient hexadecimal digits`, at);
        this.i += len;
        return parseInt(hex, 16);
      }
    }
    if (/[A-Za-z0-9]/.test(c)) this.fail(`\\${c} is not supported`, at);
    return c.charCodeAt(0);
  }

  private charClass(): Node {
    const open = this.i;
    this.i++;
    const negate = this.p[this.i] === "^";
    if (negate) this.i++;
    const tests: CharTest[] = [];
    let first = true;
    while (this.i < this.p.length && (this.p[this.i] !== "]" || first)) {
      first = false;
      const lo = this.classAtom();
      if (typeof lo !== "number") {
        tests.push(lo);
        continue;
      }
      if (this.p[this.i] === "-" && this.p[this.i + 1] !== "]" && this.i + 1 < this.p.length) {
        if (this.p[this.i + 1] === "[") this.fail("character class subtraction is not supported");
        this.i++;
        const hi = this.classAtom();
        if (typeof hi !== "number") this.fail("A subtraction must be the last element in a character class");
        if (hi < lo) this.fail("[x-y] range in reverse order");
        tests.push(this.ignoreCase ? (c) => inRangeFolded(c, lo, hi) : (c) => c >= lo && c <= hi);
      } else {
        const code = lo;
        tests.push(this.ignoreCase ? (c) => fold(c) === fold(code) : (c) => c === code);
      }
    }
    if (this.p[this.i] !== "]") this.fail("Unterminated [] set", open);
    this.i++;
    const any: CharTest = (c) => tests.some((t) => t(c));
    return { t: "char", test: negate ? not(any) : any };
  }

  private classAtom(): number | CharTest {
    const c = this.p[this.i]!;
    if (c === "[" && this.p[this.i + 1] === ":") this.fail("POSIX classes are not supported");
    if (c !== "\\") {
      this.i++;
      return c.charCodeAt(0);
    }
    const at = this.i;
    const e = this.p[this.i + 1];
    if (e === undefined) this.fail("Illegal \\ at end of pattern");
    this.i += 2;
    const set = classEscape(e);
    if (set) return set;
    if (e === "b") return 8;
    return this.charEscape(e, at);
  }

  /** .NET numbering: unnamed groups 1…k left to right, then named groups in order of appearance. */
  number(): string[] {
    const names = ["0"];
    for (const n of this.unnamedNodes) {
      n.index = names.length;
      names.push(String(n.index));
    }
    const byName = new Map<string, number>();
    for (const { name, node } of this.named) {
      let k = byName.get(name);
      if (k === undefined) {
        k = names.length;
        byName.set(name, k);
        names.push(name);
      }
      node.index = k;
    }
    return names;
  }
}

function classEscape(c: string): CharTest | null {
  switch (c) {
    case "d":
      return DIGIT;
    case "D":
      return not(DIGIT);
    case "w":
      return WORD;
    case "W":
      return not(WORD);
    case "s":
      return SPACE;
    case "S":
      return not(SPACE);
  }
  if (c === "p" || c === "P") throw new RegexSyntaxError(-1, `\\${c}{…} Unicode categories are not supported`);
  return null;
}

/** Case-insensitive comparison key of one UTF-16 unit (.NET IgnoreCase lowercases both sides). */
function fold(c: number): number {
  if (c < 0x80) return c >= 0x41 && c <= 0x5a ? c + 32 : c;
  const l = String.fromCharCode(c).toLowerCase();
  return l.length === 1 ? l.charCodeAt(0) : c;
}

function inRangeFolded(c: number, lo: number, hi: number): boolean {
  if (c >= lo && c <= hi) return true;
  const l = fold(c);
  const u = String.fromCharCode(c).toUpperCase();
  return (l >= lo && l <= hi) || (u.length === 1 && u.charCodeAt(0) >= lo && u.charCodeAt(0) <= hi);
}

// ── compiler ──

class Emitter {
  readonly prog: Inst[] = [];

  private push(i: Inst): number {
    if (this.prog.length >= MAX_REGEX_PROGRAM) throw new RegexSyntaxError(0, `the pattern is too complex (more than ${MAX_REGEX_PROGRAM} instructions)`);
    this.prog.push(i);
    return this.prog.length - 1;
  }

  emit(n: Node): void {
    switch (n.t) {
      case "char":
        this.push({ op: "char", test: n.test });
        return;
      case "assert":
        this.push({ op: "assert", kind: n.kind });
        return;
      case "seq":
        for (const x of n.items) this.emit(x);
        return;
      case "alt": {
        const jumps: number[] = [];
        n.items.forEach((x, k) => {
          if (k < n.items.length - 1) {
            const split = this.push({ op: "split", x: 0, y: 0 });
            (this.prog[split] as { x: number }).x = this.prog.length;
            this.emit(x);
            jumps.push(this.push({ op: "jmp", x: 0 }));
            (this.prog[split] as { y: number }).y = this.prog.length;
          } else this.emit(x);
        });
        for (const j of jumps) (this.prog[j] as { x: number }).x = this.prog.length;
        return;
      }
      case "group":
        if (n.index === null) return this.emit(n.body);
        this.push({ op: "save", n: 2 * n.index });
        this.emit(n.body);
        this.push({ op: "save", n: 2 * n.index + 1 });
        return;
      case "repeat": {
        for (let k = 0; k < n.min; k++) this.emit(n.body);
        if (n.max === Infinity) {
          // L: split body, out (greedy) | split out, body (lazy); body; jmp L
          const split = this.push({ op: "split", x: 0, y: 0 });
          const body = this.prog.length;
          this.emit(n.body);
          this.push({ op: "jmp", x: split });
          const out = this.prog.length;
          this.prog[split] = n.lazy ? { op: "split", x: out, y: body } : { op: "split", x: body, y: out };
          return;
        }
        const splits: number[] = [];
        for (let k = n.min; k < n.max; k++) {
          splits.push(this.push({ op: "split", x: 0, y: 0 }));
          this.emit(n.body);
        }
        const out = this.prog.length;
        for (const s of splits) this.prog[s] = n.lazy ? { op: "split", x: out, y: s + 1 } : { op: "split", x: s + 1, y: out };
        return;
      }
    }
  }
}

const cache = new Map<string, RegexResult>();
const CACHE_SIZE = 256;

/** Compiles a .NET pattern; an error names the first unsupported or invalid construct and its index. */
export function compileRegex(pattern: string, flags: RegexFlags = {}): RegexResult {
  const key = `${flags.ignoreCase ? "i" : "-"}${flags.multiline ? "m" : "-"}${flags.singleline ? "s" : "-"}${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let r: RegexResult;
  try {
    const parser = new Parser(pattern, flags);
    const tree = parser.parse();
    const names = parser.number();
    const e = new Emitter();
    e.emit({ t: "group", body: tree, index: 0, name: null });
    e.prog.push({ op: "match" });
    r = { ok: true, regex: { prog: e.prog, groups: names.length, names } };
  } catch (err) {
    if (!(err instanceof RegexSyntaxError)) throw err;
    r = { ok: false, index: Math.max(0, err.index), message: err.message };
  }
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, r);
  return r;
}

// ── matcher ──

/** Capture positions: [start0, end0, start1, end1 …], -1 when the group did not participate. */
export type Captures = readonly number[];

const isWordAt = (s: string, i: number) => i >= 0 && i < s.length && WORD(s.charCodeAt(i));

function assertHolds(kind: string, s: string, i: number): boolean {
  switch (kind) {
    case "bol":
      return i === 0;
    case "bolm":
      return i === 0 || s.charCodeAt(i - 1) === 0x0a;
    case "eolm":
      return i === s.length || s.charCodeAt(i) === 0x0a;
    case "eos":
      return i === s.length;
    case "eolz":
      return i === s.length || (i === s.length - 1 && s.charCodeAt(i) === 0x0a);
    case "word":
      return isWordAt(s, i - 1) !== isWordAt(s, i);
    case "nonword":
      return isWordAt(s, i - 1) === isWordAt(s, i);
    default:
      return false;
  }
}

interface Thread {
  pc: number;
  caps: number[];
}

/**
 * The leftmost-first match of `re` in `s` at or after `from`, or null. `step(n)` is charged for the work (one per
 * thread per position); it throws to stop a runaway match.
 */
export function execRegex(re: CompiledRegex, s: string, from: number, step: (n: number) => void): Captures | null {
  const prog = re.prog;
  const slots = re.groups * 2;
  let clist: Thread[] = [];
  let nlist: Thread[] = [];
  const onList = new Int32Array(prog.length).fill(-1);
  let generation = 0;
  let matched: number[] | null = null;

  const add = (list: Thread[], pc: number, caps: number[], i: number): void => {
    // Iterative DFS in priority order (x before y), marking each pc once per position.
    const stack: Array<{ pc: number; caps: number[] }> = [{ pc, caps }];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (onList[t.pc] === generation) continue;
      onList[t.pc] = generation;
      const inst = prog[t.pc]!;
      switch (inst.op) {
        case "jmp":
          stack.push({ pc: inst.x, caps: t.caps });
          break;
        case "split":
          stack.push({ pc: inst.y, caps: t.caps }, { pc: inst.x, caps: t.caps });
          break;
        case "save": {
          const c = t.caps.slice();
          c[inst.n] = i;
          stack.push({ pc: t.pc + 1, caps: c });
          break;
        }
        case "assert":
          if (assertHolds(inst.kind, s, i)) stack.push({ pc: t.pc + 1, caps: t.caps });
          break;
        default:
          list.push({ pc: t.pc, caps: t.caps });
      }
    }
  };

  const empty = new Array<number>(slots).fill(-1);
  // clist: the threads at position i, in priority order, marked with the current generation.
  generation++;
  add(clist, 0, empty, from);
  for (let i = from; i <= s.length; i++) {
    // Nothing running: done once a match is found; before that, the next position's attempt (added below) goes on.
    if (clist.length === 0 && matched !== null) break;
    step(clist.length + 1);
    generation++;
    nlist = [];
    const c = i < s.length ? s.charCodeAt(i) : -1;
    for (const t of clist) {
      const inst = prog[t.pc]!;
      if (inst.op === "match") {
        matched = t.caps;
        break; // lower-priority threads are cut: leftmost-first, as a backtracking engine answers
      }
      if (inst.op === "char" && c >= 0 && inst.test(c)) add(nlist, t.pc + 1, t.caps, i + 1);
    }
    clist = nlist;
    // Until a match is found, a new attempt starts at the next position, below every running thread.
    if (matched === null && i + 1 <= s.length) add(clist, 0, empty, i + 1);
  }
  return matched;
}
