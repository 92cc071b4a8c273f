/**
 * policy/liquid — APIM's `<set-body template="liquid">` on liquidjs, the one file that imports it.
 *
 * Contract: pure and synchronous, no I/O, no clock (the request's time comes in). `checkLiquid(source)` is the
 * compiler's check (syntax, tags, filters, the `context` members a template reads), `renderLiquid(source, input)`
 * the runtime's render; both use the same engine configuration, so a template the compiler accepted parses at run
 * time. A render never throws: it returns a typed failure (a policy error → on-error).
 *
 * What APIM documents (learn.microsoft.com/azure/api-management/set-body-policy, "Using Liquid templates with
 * set-body"), and how it maps here:
 * - The engine is DotLiquid in "C# mode": filter names are PascalCase. The supported filters are APIM's list
 *   (FILTERS below) with DotLiquid's semantics (its StandardFilters, github.com/dotliquid/dotliquid): liquidjs's
 *   stock filter where the two agree, our own where DotLiquid follows .NET — Date takes a .NET format string
 *   (expr/format.ts), Round is Math.Round(decimal) (half to even), Escape / H are WebUtility.HtmlEncode, UrlEncode /
 *   UrlDecode WebUtility's, DividedBy divides integers as C# does (toward zero), Modulo is C#'s `%`, Currency is
 *   decimal.ToString("C") in en-US (APIM's gateway culture, as format.ts), Split drops empty entries, Default tests
 *   for blank text. Any other filter — and the snake_case Shopify names — is a compile error.
 * - Tags: DotLiquid's that need no file system: assign, capture, case, comment, cycle, decrement, for (break,
 *   continue), if, increment, raw, tablerow, unless. include / render / layout / block / echo / liquid are
 *   compile errors.
 * - `body`: the message body, bound as JSON when the message's Content-Type is application/json, text/json or
 *   ends in +json. XML bodies (application/xml, text/xml, +xml) are not bound by certgate yet: rendering such a
 *   message is a policy error (XmlNotSupported). Any other content type leaves `body` unbound (renders empty).
 *   With parse-date (default true) JSON strings in Json.NET's ISO 8601 and `/Date(ms)/` forms become DateTime
 *   values, which print as .NET's DateTime.ToString() (en-US "G") and are what the Date filter formats.
 * - `context`: Request.{Url, Method, OriginalMethod, OriginalUrl, IpAddress, MatchedParameters, HasBody, Headers},
 *   Response.{StatusCode, Headers}; Url / OriginalUrl: Scheme, Host, Port, Path, Query, QueryString, ToUri,
 *   ToString. Headers are looked up case-insensitively, a header's values joined with ", ". Reading any other
 *   `context` member (ClientCertificates, Variables, …) is a compile error (CONTEXT_MEMBERS).
 *
 * Budgets (fail closed, each a LimitExceeded policy error): LIQUID_RENDER_STEPS renders of tags and outputs per
 * render, counted through liquidjs's own per-template check (its `renderLimit` is time-based, and in a Worker the
 * clock does not advance while code runs, so a wall-clock bound cannot work here: we count instead);
 * LIQUID_MEMORY_UNITS of liquidjs's `memoryLimit` accounting (string and array building in filters); and
 * LIQUID_OUTPUT_CHARS written by all emitters of a render (the output and every `capture`), so a loop cannot grow
 * a string past the body cap before the end is checked.
 */
/// <reference path="./liquidjs-browser.d.ts" />
// The ESM browser build, by path: it imports no Node built-ins (the Node build needs fs, path, stream, crypto), and
// every bundler (wrangler, esbuild in scripts/lib/workerd.ts, vitest) and the compiler in Node then run the same
// code. It uses neither eval nor new Function.
import { Context, Liquid, analyzeSync, filters as stock, toValue, toValueSync, type Template } from "liquidjs/dist/liquid.browser.mjs";
import { formatDate, formatNumber, parseDate } from "./expr/format";
import { htmlEncode, urlDecode, urlEncode } from "./expr/codecs";
import { MAX_BODY_BYTES, MAX_SOURCE_CHARS, MAX_STRING_CHARS } from "./expr/limits";

/** Renders of a tag, an output or a text run in one render (for-loop bodies count per iteration). 10,000 covers a
 *  template looping over a few hundred array items with a dozen outputs each; liquidjs documents ~1e5 renders/s. */
export const LIQUID_RENDER_STEPS = 10_000;
/** Characters all emitters of one render may write: the largest body certgate handles (expr/limits.ts). */
export const LIQUID_OUTPUT_CHARS = MAX_BODY_BYTES;
/** liquidjs's memory accounting (characters and items filters allocate): four bodies' worth. */
export const LIQUID_MEMORY_UNITS = 4 * MAX_STRING_CHARS;
/** Nesting of a JSON body walked for parse-date (expr/json.ts MAX_JSON_DEPTH). */
const MAX_BODY_DEPTH = 64;

/** The tags certgate runs (DotLiquid's that need no file system). */
const TAGS = ["assign", "break", "capture", "case", "comment", "continue", "cycle", "decrement", "for", "if", "increment", "raw", "tablerow", "unless"] as const;

type FilterFn = (this: { context: Context }, ...args: unknown[]) => unknown;

/** A value the Date filter and parse-date produce: .NET DateTime, printed as DateTime.ToString(). */
export class LiquidDateTime {
  readonly #date: Date;
  constructor(date: Date) {
    this.#date = date;
  }
  get date(): Date {
    return this.#date;
  }
  toString(): string {
    return formatDate(this.#date, null) ?? "";
  }
}

class LiquidFailure extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

const text = (v: unknown): string => {
  const x = toValue(v);
  if (x === null || x === undefined) return "";
  if (Array.isArray(x)) return x.map(text).join("");
  return String(x);
};

/** A number from a value as Double.TryParse / Convert.ToDecimal read it (invariant digits); null when it is none. */
function numberOf(v: unknown): number | null {
  const x = toValue(v);
  if (typeof x === "number") return x;
  if (typeof x !== "string" || !/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(x)) return null;
  return Number(x);
}

function num(v: unknown): number {
  return numberOf(v) ?? 0;
}

function isIntegral(v: unknown): boolean {
  const x = toValue(v);
  if (typeof x === "number") return Number.isInteger(x);
  return /^\s*[+-]?\d+\s*$/.test(text(x));
}

function charge(ctx: Context, n: number): void {
  (ctx as unknown as { memoryLimit: { use(n: number): void } }).memoryLimit.use(n);
}

/** Math.Round(decimal, places): to even at the midpoint, on the value's shortest decimal digits (as decimal holds them). */
function roundHalfEven(x: number, places: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const [mantissa, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  const digits = mantissa.replace(".", "");
  const decimals = digits.length - 1 - Number(exp);
  if (decimals <= places) return x;
  const cut = decimals - places;
  const kept = cut >= digits.length ? "0" : digits.slice(0, digits.length - cut);
  const rest = cut >= digits.length ? digits.padStart(cut, "0") : digits.slice(digits.length - cut);
  const half = "5".padEnd(rest.length, "0");
  let n = BigInt(kept);
  if (rest > half || (rest === half && n % 2n === 1n)) n += 1n;
  const r = Number(`${n}e${-places}`);
  return x < 0 ? -r : r;
}

type Ctx = { context: Context };

/**
 * APIM's filter names → implementations: DotLiquid's StandardFilters semantics (github.com/dotliquid/dotliquid,
 * src/DotLiquid/StandardFilters.cs), on liquidjs's stock filter where the two agree and on our own where DotLiquid
 * follows .NET (formats, rounding, integer arithmetic, WebUtility, splitting, defaults).
 */
const FILTERS: Readonly<Record<string, FilterFn>> = {
  /** Double.TryParse, else 0. */
  Abs: (v: unknown) => Math.abs(num(v)),
  Append: stock.append as FilterFn,
  /** Both numbers: the larger (as a double); otherwise the input unchanged. */
  AtLeast(v: unknown, min: unknown) {
    const a = numberOf(v);
    const b = numberOf(min);
    return a !== null && b !== null ? Math.max(a, b) : toValue(v);
  },
  AtMost(v: unknown, max: unknown) {
    const a = numberOf(v);
    const b = numberOf(max);
    return a !== null && b !== null ? Math.min(a, b) : toValue(v);
  },
  /** DotLiquid 2.2: leading white space kept, the first letter upper-cased, the rest lower-cased. */
  Capitalize(v: unknown) {
    const s = text(v);
    const lead = s.length - s.trimStart().length;
    return lead === s.length ? s : s.slice(0, lead) + s.charAt(lead).toUpperCase() + s.slice(lead + 1).toLowerCase();
  },
  Compact: stock.compact as FilterFn,
  /** decimal.ToString("C") in en-US (ICU's pattern, as .NET 5+ prints it: `-$0.50`); not a number: the input as text. */
  Currency(v: unknown, culture?: unknown) {
    if (culture !== undefined && text(culture) !== "en-US") throw new LiquidFailure("CultureNotFoundException", `Currency: culture ${JSON.stringify(text(culture))} is not supported (en-US only)`);
    const raw = toValue(v);
    const x = typeof raw === "string" ? numberOf(raw.replace(/^(\s*[+-]?)\$/, "$1").replace(/,/g, "")) : numberOf(raw);
    if (x === null) return text(raw);
    const digits = formatNumber(Math.abs(x), false, "N2") ?? "";
    return `${x < 0 && digits !== "0.00" ? "-" : ""}$${digits}`;
  },
  /**
   * DateTime: DateTime.ToString(format) (no format: en-US "G"); a number: Unix seconds; "now"/"today": the request's
   * time; other text: DateTimeOffset.TryParse (unparseable, or no format: the text unchanged).
   */
  Date(this: Ctx, v: unknown, format?: unknown) {
    const x = toValue(v);
    if (x === null || x === undefined) return null;
    const f = format === undefined || format === null ? "" : text(format);
    let d: Date | null = null;
    if (x instanceof LiquidDateTime) d = x.date;
    else if (f.trim() === "") return text(x);
    else if (typeof x === "number") d = new Date(Math.trunc(x) * 1000);
    else {
      const s = text(x).trim().toLowerCase();
      d = s === "now" || s === "today" ? (this.context.environments as { [NOW]?: Date })[NOW] ?? null : parseDate(text(x));
    }
    if (d === null) return text(x);
    const out = formatDate(d, f.trim() === "" ? null : f);
    if (out === null) throw new LiquidFailure("FormatException", `Date: ${JSON.stringify(f)} is not a valid DateTime format`);
    return out;
  },
  /** Nil, empty or white space: the default (DotLiquid compares text, not Liquid truthiness). */
  Default: (v: unknown, fallback: unknown) => (text(v).trim() === "" ? fallback : toValue(v)),
  /** Two integers: C#'s `/` (toward zero; by zero: DivideByZeroException); otherwise decimal division. */
  DividedBy(v: unknown, by: unknown) {
    const a = num(v);
    const b = num(by);
    if (isIntegral(v) && isIntegral(by)) {
      if (b === 0) throw new LiquidFailure("DivideByZeroException", "Attempted to divide by zero.");
      return Math.trunc(a / b);
    }
    return a / b;
  },
  Downcase: stock.downcase as FilterFn,
  Escape(this: Ctx, v: unknown) {
    const s = text(v);
    charge(this.context, s.length);
    return htmlEncode(s);
  },
  First: stock.first as FilterFn,
  H(this: Ctx, v: unknown) {
    const s = text(v);
    charge(this.context, s.length);
    return htmlEncode(s);
  },
  Join: stock.join as FilterFn,
  Last: stock.last as FilterFn,
  Lstrip: stock.lstrip as FilterFn,
  Map: stock.map as FilterFn,
  Minus: stock.minus as FilterFn,
  /** C#'s `%`: the dividend's sign; two integers by zero: DivideByZeroException. */
  Modulo(v: unknown, by: unknown) {
    const a = num(v);
    const b = num(by);
    if (isIntegral(v) && isIntegral(by) && b === 0) throw new LiquidFailure("DivideByZeroException", "Attempted to divide by zero.");
    return a % b;
  },
  NewlineToBr: stock.newline_to_br as FilterFn,
  Plus: stock.plus as FilterFn,
  Prepend: stock.prepend as FilterFn,
  Remove(this: Ctx, v: unknown, what: unknown) {
    const s = text(v);
    const w = text(what);
    if (s.trim() === "" || w === "") return s;
    charge(this.context, s.length);
    return s.split(w).join("");
  },
  RemoveFirst(this: Ctx, v: unknown, what: unknown) {
    const s = text(v);
    const w = text(what);
    const i = s.trim() === "" || w === "" ? -1 : s.indexOf(w);
    return i < 0 ? s : s.slice(0, i) + s.slice(i + w.length);
  },
  /** Ordinal, every occurrence; an empty pattern leaves the input unchanged. */
  Replace(this: Ctx, v: unknown, what: unknown, by?: unknown) {
    const s = text(v);
    const w = text(what);
    if (s === "" || w === "") return s;
    const parts = s.split(w);
    const r = text(by);
    charge(this.context, s.length + (parts.length - 1) * r.length);
    return parts.join(r);
  },
  ReplaceFirst(this: Ctx, v: unknown, what: unknown, by?: unknown) {
    const s = text(v);
    const w = text(what);
    const i = s === "" || w === "" ? -1 : s.indexOf(w);
    return i < 0 ? s : s.slice(0, i) + text(by) + s.slice(i + w.length);
  },
  /** Math.Round(decimal, places): half to even; not a number or places outside 0–28: nil. */
  Round(v: unknown, places?: unknown) {
    const x = numberOf(v);
    const p = places === undefined || places === null ? 0 : numberOf(places);
    if (x === null || p === null || !Number.isInteger(p) || p < 0 || p > 28) return null;
    return roundHalfEven(x, p);
  },
  Rstrip: stock.rstrip as FilterFn,
  /** A string's length, an array's or an object's number of entries, else 0. */
  Size(v: unknown) {
    const x = toValue(v);
    if (typeof x === "string" || Array.isArray(x)) return x.length;
    if (typeof x === "object" && x !== null && !(x instanceof LiquidDateTime)) return Object.keys(x).length;
    return 0;
  },
  Slice: stock.slice as FilterFn,
  Sort: stock.sort as FilterFn,
  /** String.Split with RemoveEmptyEntries; an empty pattern: the characters; blank input: itself, alone. */
  Split(this: Ctx, v: unknown, pattern: unknown) {
    const s = text(v);
    charge(this.context, s.length);
    if (s.trim() === "") return [s];
    const p = text(pattern);
    return p === "" ? [...s] : s.split(p).filter((x) => x !== "");
  },
  Strip: stock.strip as FilterFn,
  StripHtml: stock.strip_html as FilterFn,
  StripNewlines: stock.strip_newlines as FilterFn,
  Times: stock.times as FilterFn,
  Truncate: stock.truncate as FilterFn,
  /** Words split on single spaces (default 15); 0 or fewer words: the ellipsis alone. */
  TruncateWords(v: unknown, words?: unknown, ellipsis?: unknown) {
    const s = text(v);
    const n = words === undefined ? 15 : Math.trunc(num(words));
    const tail = ellipsis === undefined ? "..." : text(ellipsis);
    if (s === "") return s;
    if (n <= 0) return tail;
    const all = s.split(" ");
    return all.length > n ? all.slice(0, n).join(" ") + tail : s;
  },
  Uniq: stock.uniq as FilterFn,
  Upcase: stock.upcase as FilterFn,
  UrlDecode(this: Ctx, v: unknown) {
    const s = text(v);
    charge(this.context, s.length);
    return urlDecode(s);
  },
  UrlEncode(this: Ctx, v: unknown) {
    const s = text(v);
    charge(this.context, 3 * s.length);
    return urlEncode(s);
  },
};

/** The filters APIM documents (the tests walk them). */
export const LIQUID_FILTERS: readonly string[] = Object.keys(FILTERS);

/** The `context` members a template may read: a tree; `true` = any key below (dictionaries). */
type Members = { readonly [name: string]: Members | true | false };
const URL_MEMBERS: Members = { Scheme: false, Host: false, Port: false, Path: false, Query: true, QueryString: false, ToUri: false, ToString: false };
const CONTEXT_MEMBERS: Members = {
  Request: { Url: URL_MEMBERS, Method: false, OriginalMethod: false, OriginalUrl: URL_MEMBERS, IpAddress: false, MatchedParameters: true, HasBody: false, Headers: true },
  Response: { StatusCode: false, Headers: true },
};

/** Key of the request's time in the render scope (read by the Date filter's "now"). */
const NOW = Symbol("now");

function createEngine(): Liquid {
  const engine = new Liquid({
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    parseLimit: MAX_SOURCE_CHARS,
    memoryLimit: LIQUID_MEMORY_UNITS,
    cache: false,
  });
  const tags = (engine as unknown as { tags: Record<string, unknown> }).tags;
  for (const name of Object.keys(tags)) if (!(TAGS as readonly string[]).includes(name)) delete tags[name];
  for (const name of Object.keys(engine.filters)) engine.unregisterFilter(name);
  for (const [name, fn] of Object.entries(FILTERS)) engine.registerFilter(name, fn as never);
  // Every emitter of a render — the output's and each `capture`'s, which liquidjs creates when a tag renders into a
  // string — charges one output budget.
  const renderer = engine.renderer as unknown as { renderTemplates(t: Template[], ctx: Context, emitter?: Emitter): unknown };
  const base = renderer.renderTemplates.bind(renderer);
  renderer.renderTemplates = (t, ctx, emitter) => {
    if (emitter) return base(t, ctx, emitter);
    const budget = budgets.get(ctx);
    if (!budget) throw new LiquidFailure("LimitExceeded", "liquid: a render outside a budget");
    return base(t, ctx, new Emitter(budget));
  };
  return engine;
}

interface Budget {
  written: number;
  steps: number;
}

const budgets = new WeakMap<Context, Budget>();

class Emitter {
  buffer = "";
  constructor(private readonly budget: Budget) {}
  write(html: unknown): void {
    const s = text(html);
    this.budget.written += s.length;
    if (this.budget.written > LIQUID_OUTPUT_CHARS) throw new LiquidFailure("LimitExceeded", `liquid: the template wrote more than ${LIQUID_OUTPUT_CHARS} characters`);
    this.buffer += s;
  }
}

let engine: Liquid | null = null;
const getEngine = (): Liquid => (engine ??= createEngine());

/** Parsed templates by source (the bundle's templates: a fixed set per isolate). */
const parsed = new Map<string, Template[]>();

/** A problem in a template, at its 1-based line and column within the template text. */
export interface LiquidProblem {
  readonly line: number;
  readonly col: number;
  readonly message: string;
}

function position(e: unknown): { line: number; col: number } {
  const token = (e as { token?: { getPosition?: () => [number, number] } }).token;
  const p = token?.getPosition?.();
  return p ? { line: p[0], col: p[1] } : { line: 1, col: 1 };
}

function cleanMessage(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  // liquidjs appends ", line:1, col:5" (we report the position ourselves).
  return m.replace(/,\s*line:\d+,\s*col:\d+\s*$/, "").replace(/^undefined filter: (.*)$/, (_, f: string) => `unsupported filter ${f}: APIM's filters are ${LIQUID_FILTERS.join(", ")}`)
    .replace(/^tag "?([^"\s]+)"? not found$/, (_, t: string) => `unsupported tag {% ${t} %}: certgate runs ${TAGS.join(", ")}`);
}

/** The compiler's check: every problem in `source` (empty when it renders). */
export function checkLiquid(source: string): LiquidProblem[] {
  let templates: Template[];
  try {
    templates = getEngine().parse(source);
  } catch (e) {
    return [{ ...position(e), message: cleanMessage(e) }];
  }
  const problems: LiquidProblem[] = [];
  let analysis;
  try {
    analysis = analyzeSync(templates, { partials: false });
  } catch (e) {
    return [{ ...position(e), message: cleanMessage(e) }];
  }
  for (const [root, uses] of Object.entries(analysis.globals)) {
    for (const v of uses) {
      const at = { line: v.location.row, col: v.location.col };
      if (root === "body") continue;
      if (root !== "context") {
        problems.push({ ...at, message: `unknown variable ${root}: a template reads body and context (or names it assigns)` });
        continue;
      }
      let members: Members | true | false = CONTEXT_MEMBERS;
      const path = ["context"];
      for (const seg of v.segments.slice(1)) {
        if (members === true) break;
        if (typeof seg !== "string") {
          problems.push({ ...at, message: `${path.join(".")}[…]: context members are read by name` });
          break;
        }
        path.push(seg);
        if (members === false || !Object.hasOwn(members, seg)) {
          problems.push({ ...at, message: `${path.join(".")} is not available to liquid templates in certgate` });
          break;
        }
        members = members[seg]!;
      }
    }
  }
  if (problems.length === 0) parsed.set(source, templates);
  return problems;
}

/** What a render sees of the message and the request. */
export interface LiquidInput {
  /** The body of the section's message as text ("" when there is none). */
  readonly body: string;
  /** The message's Content-Type (null: none). */
  readonly contentType: string | null;
  readonly parseDate: boolean;
  readonly request: {
    readonly method: string;
    readonly originalMethod: string;
    readonly url: URL;
    readonly originalUrl: URL;
    readonly ipAddress: string;
    readonly params: ReadonlyMap<string, string>;
    readonly headers: Headers;
    readonly hasBody: boolean;
  };
  readonly response: { readonly status: number; readonly headers: Headers } | null;
  /** The request's time (the Date filter's "now"). */
  readonly now: Date;
}

export type LiquidResult = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly reason: string; readonly message: string };

/** Renders a template the compiler checked; failures are values (reason: LimitExceeded, FormatException, …). */
export function renderLiquid(source: string, input: LiquidInput): LiquidResult {
  try {
    let templates = parsed.get(source);
    if (!templates) {
      const problems = checkLiquid(source);
      if (problems.length > 0) return { ok: false, reason: "TemplateError", message: `liquid: ${problems[0]!.message}` };
      templates = parsed.get(source)!;
    }
    const scope: Record<string | symbol, unknown> = { context: contextObject(input), [NOW]: input.now };
    const body = bindBody(input);
    if (body !== undefined) scope.body = body;
    const e = getEngine();
    const budget: Budget = { written: 0, steps: 0 };
    let used = 0;
    const memoryLimit = {
      use(n: number) {
        if (+n > 0) {
          used += +n;
          if (used > LIQUID_MEMORY_UNITS) throw new LiquidFailure("LimitExceeded", `liquid: the template allocated more than ${LIQUID_MEMORY_UNITS} units`);
        }
      },
      check() {},
    };
    const renderLimit = {
      use() {},
      check() {
        if (++budget.steps > LIQUID_RENDER_STEPS) throw new LiquidFailure("LimitExceeded", `liquid: more than ${LIQUID_RENDER_STEPS} render steps`);
      },
    };
    const ctx = new Context(scope, (e as unknown as { options: never }).options, { sync: true }, { memoryLimit: memoryLimit as never, renderLimit: renderLimit as never, liquid: e });
    budgets.set(ctx, budget);
    const emitter = new Emitter(budget);
    toValueSync((e.renderer as unknown as { renderTemplates(t: Template[], c: Context, em: Emitter): unknown }).renderTemplates(templates, ctx, emitter));
    return { ok: true, text: emitter.buffer };
  } catch (e) {
    const cause = rootCause(e);
    if (cause instanceof LiquidFailure) return { ok: false, reason: cause.reason, message: cause.message };
    if (cause instanceof RangeError) return { ok: false, reason: "LimitExceeded", message: `liquid: ${cause.message}` };
    return { ok: false, reason: "RenderError", message: `liquid: ${cleanMessage(cause)}` };
  }
}

function rootCause(e: unknown): unknown {
  let cur = e;
  for (let i = 0; i < 10; i++) {
    const next = (cur as { originalError?: unknown } | null)?.originalError;
    if (next === undefined || next === cur) break;
    cur = next;
  }
  return cur;
}

const JSON_TYPE = /^(application|text)\/json$|\+json$/;
const XML_TYPE = /^(application|text)\/xml$|\+xml$/;

/** `body` as APIM binds it: JSON by Content-Type; XML is refused; other types are not bound. */
function bindBody(input: LiquidInput): unknown {
  const type = (input.contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (XML_TYPE.test(type)) throw new LiquidFailure("XmlNotSupported", "liquid: certgate does not bind XML bodies to liquid templates yet");
  if (!JSON_TYPE.test(type)) return undefined;
  if (input.body.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(input.body);
  } catch (e) {
    throw new LiquidFailure("JsonReaderException", `liquid: the body is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return input.parseDate ? withDates(value, 0) : value;
}

/** Json.NET's DateParseHandling.DateTime: ISO 8601 date-times and `/Date(ms[±hhmm])/` strings become DateTime. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2})?$/;
const MS_DATE = /^\/Date\((-?\d{1,15})(?:[+-]\d{4})?\)\/$/;

function withDates(v: unknown, depth: number): unknown {
  if (depth > MAX_BODY_DEPTH) throw new LiquidFailure("LimitExceeded", `liquid: the JSON body nests deeper than ${MAX_BODY_DEPTH}`);
  if (typeof v === "string") {
    const ms = MS_DATE.exec(v);
    if (ms) return new LiquidDateTime(new Date(Number(ms[1])));
    if (ISO_DATE_TIME.test(v)) {
      const d = parseDate(v);
      if (d) return new LiquidDateTime(d);
    }
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => withDates(x, depth + 1));
  if (typeof v === "object" && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: withDates(x, depth + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

/** A case-insensitive read-only view of headers: own properties for liquidjs's ownPropertyOnly lookups. */
function headerObject(headers: Headers): Record<string, string> {
  const values: Record<string, string> = Object.create(null);
  for (const [k, v] of headers) values[k] = v;
  return new Proxy(values, {
    get: (t, k) => (typeof k === "string" ? t[k.toLowerCase()] : undefined),
    has: (t, k) => typeof k === "string" && k.toLowerCase() in t,
    getOwnPropertyDescriptor: (t, k) => (typeof k === "string" && k.toLowerCase() in t ? { value: t[k.toLowerCase()], enumerable: true, configurable: true, writable: false } : undefined),
    ownKeys: (t) => Reflect.ownKeys(t),
  });
}

function urlObject(url: URL): Record<string, unknown> {
  const query: Record<string, string> = Object.create(null);
  for (const k of new Set(url.searchParams.keys())) query[k] = url.searchParams.getAll(k).join(",");
  const s = url.toString();
  const o = {
    Scheme: url.protocol.replace(/:$/, ""),
    Host: url.hostname,
    Port: url.port !== "" ? Number(url.port) : url.protocol === "https:" ? 443 : 80,
    Path: url.pathname,
    Query: query,
    QueryString: url.search,
    ToUri: s,
    ToString: s,
  };
  Object.defineProperty(o, "toString", { value: () => s, enumerable: false });
  return o;
}

function contextObject(input: LiquidInput): Record<string, unknown> {
  const r = input.request;
  const params: Record<string, string> = Object.create(null);
  for (const [k, v] of r.params) params[k] = v;
  return {
    Request: {
      Url: urlObject(r.url),
      Method: r.method,
      OriginalMethod: r.originalMethod,
      OriginalUrl: urlObject(r.originalUrl),
      IpAddress: r.ipAddress,
      MatchedParameters: params,
      HasBody: r.hasBody,
      Headers: headerObject(r.headers),
    },
    Response: input.response ? { StatusCode: input.response.status, Headers: headerObject(input.response.headers) } : null,
  };
}
