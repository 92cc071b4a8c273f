/**
 * policy/expr/format — .NET's text forms of numbers, DateTime and TimeSpan, and DateTime parsing.
 *
 * Contract: pure; a format .NET would reject, or one we do not implement, returns null (the caller raises a
 * FormatException) — never a guess. Culture: numbers use the invariant culture; DateTime's culture-dependent forms
 * (`ToString()`, "d", "G", …) use en-US, the culture of APIM's gateway. DateTime is always UTC here (the edge has
 * no local time zone): "o" and "K" print "Z".
 *
 * References: .NET "Standard numeric format strings", "Custom numeric format strings", "Standard date and time
 * format strings", "Custom date and time format strings", "TimeSpan.ToString()" (learn.microsoft.com).
 */

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

/** Largest precision accepted in a numeric format ("N2", "D8"): .NET allows 999,999,999; 100 bounds the output. */
const MAX_PRECISION = 100;

/** Decimal digits and exponent of |x| (x finite, non-zero), shortest round-trip: 0.00123 → ["123", -3]. */
function shortestDigits(x: number): [string, number] {
  const [mantissa, exp] = Math.abs(x).toExponential().split("e") as [string, string];
  return [mantissa.replace(".", ""), Number(exp)];
}

/**
 * double.ToString() (.NET Core 3.0+, invariant): the shortest round-trip digits, scientific notation ("1E+15",
 * "1E-05") when the exponent is ≥ 15 or < -4 (0.0001 stays fixed).
 */
export function formatDouble(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (x === Infinity) return "Infinity";
  if (x === -Infinity) return "-Infinity";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const sign = x < 0 ? "-" : "";
  const [digits, exp] = shortestDigits(x);
  if (exp >= 15 || exp < -4) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}E${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  return sign + placeDecimalPoint(digits, exp);
}

/** Fixed notation of digits × 10^(exp - digits.length + 1). */
function placeDecimalPoint(digits: string, exp: number): string {
  if (exp < 0) return "0." + "0".repeat(-exp - 1) + digits;
  if (exp + 1 >= digits.length) return digits + "0".repeat(exp + 1 - digits.length);
  return digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
}

/** Fixed-point text of |x| with `decimals` digits (exact binary value, rounded half away from zero as .NET). */
function toFixedAbs(x: number, decimals: number): string {
  const a = Math.abs(x);
  if (a >= 1e21) {
    const int = BigInt(a).toString();
    return decimals > 0 ? `${int}.${"0".repeat(decimals)}` : int;
  }
  return a.toFixed(decimals);
}

function groupThousands(int: string): string {
  return int.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * x.ToString(format) for an int (isInt) or a double. Standard formats C/D/E/F/G/N/P/R/X (C as invariant "¤"),
 * and custom patterns of `0`, `#`, `.`, `,` with literal text around them. Null: invalid or unsupported format.
 */
export function formatNumber(x: number, isInt: boolean, format: string | null): string | null {
  if (format === null || format === "") return isInt ? String(x) : formatDouble(x);
  const std = /^([A-Za-z])(\d{0,3})$/.exec(format);
  if (std) {
    const letter = std[1]!.toUpperCase();
    const precision = std[2] === "" ? null : Number(std[2]);
    if (precision !== null && precision > MAX_PRECISION) return null;
    if (!Number.isFinite(x)) return letter === "X" || letter === "D" ? null : formatDouble(x);
    const sign = x < 0 && !(Object.is(x, -0)) ? "-" : "";
    switch (letter) {
      case "D": {
        if (!isInt) return null;
        return sign + String(Math.abs(x)).padStart(precision ?? 0, "0");
      }
      case "X": {
        if (!isInt) return null;
        // Negative ints print their two's complement (32-bit when the value fits an int, else 64-bit).
        const big = x < 0 ? (BigInt(x) + (x >= -2147483648 ? 1n << 32n : 1n << 64n)) : BigInt(x);
        const hex = big.toString(16).padStart(precision ?? 0, "0");
        return std[1] === "X" ? hex.toUpperCase() : hex;
      }
      case "F":
      case "N": {
        const fixed = toFixedAbs(x, precision ?? 2);
        const nonZero = /[1-9]/.test(fixed);
        const [int, frac] = fixed.split(".") as [string, string | undefined];
        const body = (letter === "N" ? groupThousands(int) : int) + (frac !== undefined ? "." + frac : "");
        return (nonZero ? sign : "") + body;
      }
      case "E": {
        const p = precision ?? 6;
        const [m, e] = Math.abs(x).toExponential(p).split("e") as [string, string];
        const exp = Number(e);
        return `${sign}${m}${std[1]}${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(3, "0")}`;
      }
      case "P": {
        const fixed = toFixedAbs(x * 100, precision ?? 2);
        const [int, frac] = fixed.split(".") as [string, string | undefined];
        return `${sign}${groupThousands(int)}${frac !== undefined ? "." + frac : ""} %`;
      }
      case "C": {
        const fixed = toFixedAbs(x, precision ?? 2);
        const [int, frac] = fixed.split(".") as [string, string | undefined];
        return `${sign}¤${groupThousands(int)}${frac !== undefined ? "." + frac : ""}`;
      }
      case "G":
      case "R": {
        if (isInt || precision === null || precision === 0) return isInt ? String(x) : formatDouble(x);
        const rounded = Number(x.toPrecision(Math.min(precision, 17)));
        return formatDouble(rounded).replace(/E([+-])(\d+)$/, (_, s: string, d: string) => `E${s}${d.padStart(2, "0")}`);
      }
      default:
        return null;
    }
  }
  return formatCustomNumber(x, format);
}

/** Custom numeric format: [literal]digits-pattern[literal], e.g. "0.00", "#,##0", "000", "$#,##0.00 USD". */
function formatCustomNumber(x: number, format: string): string | null {
  const m = /^([^0#.,]*)([0#,]+)(?:\.([0#]+))?([^0#.,]*)$/.exec(format);
  if (!m || /[;%‰Ee\\'"]/.test(m[1]! + m[4]!) || !Number.isFinite(x)) return null;
  const [, prefix, intPattern, fracPattern = "", suffix] = m as unknown as [string, string, string, string | undefined, string];
  if (intPattern.length + fracPattern.length > MAX_PRECISION) return null;
  const grouping = /[0#],+[0#]/.test(intPattern);
  const minInt = intPattern.length - intPattern.replace(/0/g, "").length > 0 ? intPattern.replace(/^[#,]*/, "").replace(/,/g, "").length : 0;
  const minFrac = (fracPattern.match(/^0*/)?.[0] ?? "").length;
  const maxFrac = fracPattern.length;
  let fixed = toFixedAbs(x, maxFrac);
  let [int, frac = ""] = fixed.split(".") as [string, string | undefined];
  while (frac.length > minFrac && frac.endsWith("0")) frac = frac.slice(0, -1);
  if (int === "0" && minInt === 0) int = "";
  int = int.padStart(minInt, "0");
  if (grouping) int = groupThousands(int);
  fixed = int + (frac !== "" ? "." + frac : "");
  const negative = x < 0 && /[1-9]/.test(fixed);
  return `${negative ? "-" : ""}${prefix}${fixed}${suffix}`;
}

// ── DateTime ───────────────────────────────────────────────────────────────────────────────────────────────

/** en-US patterns of the standard DateTime formats (the invariant ones for o/r/s/u). */
const STANDARD_DATE_FORMATS: ReadonlyMap<string, string> = new Map([
  ["d", "M/d/yyyy"],
  ["D", "dddd, MMMM d, yyyy"],
  ["f", "dddd, MMMM d, yyyy h:mm tt"],
  ["F", "dddd, MMMM d, yyyy h:mm:ss tt"],
  ["g", "M/d/yyyy h:mm tt"],
  ["G", "M/d/yyyy h:mm:ss tt"],
  ["m", "MMMM d"],
  ["M", "MMMM d"],
  ["o", "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK"],
  ["O", "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffffK"],
  ["r", "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"],
  ["R", "ddd, dd MMM yyyy HH':'mm':'ss 'GMT'"],
  ["s", "yyyy'-'MM'-'dd'T'HH':'mm':'ss"],
  ["t", "h:mm tt"],
  ["T", "h:mm:ss tt"],
  ["u", "yyyy'-'MM'-'dd HH':'mm':'ss'Z'"],
  ["U", "dddd, MMMM d, yyyy h:mm:ss tt"],
  ["y", "MMMM yyyy"],
  ["Y", "MMMM yyyy"],
]);

/** DateTime.ToString(format) (format null = "G"); null when the format is invalid. */
export function formatDate(d: Date, format: string | null): string | null {
  if (Number.isNaN(d.getTime())) return null;
  const f = format === null || format === "" ? "G" : format;
  if (f.length === 1) {
    const pattern = STANDARD_DATE_FORMATS.get(f);
    return pattern === undefined ? null : formatDateCustom(d, pattern);
  }
  return formatDateCustom(d, f);
}

/**
 * Walks a .NET custom format string: quoted literals, `\x` escapes and `%` are handled here, and every run of
 * one pattern character goes to `field(c, n, out)`, which returns the text so far with that field appended, or
 * null when the run is not valid. Shared by DateTime and TimeSpan formats.
 */
function renderCustomFormat(format: string, field: (c: string, n: number, out: string) => string | null): string | null {
  let out = "";
  let i = 0;
  while (i < format.length) {
    const c = format[i]!;
    if (c === "'" || c === '"') {
      const end = format.indexOf(c, i + 1);
      if (end < 0) return null;
      out += format.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    if (c === "\\") {
      if (i + 1 >= format.length) return null;
      out += format[i + 1];
      i += 2;
      continue;
    }
    if (c === "%") {
      i++;
      continue;
    }
    let n = 1;
    while (format[i + n] === c) n++;
    i += n;
    const next = field(c, n, out);
    if (next === null) return null;
    out = next;
  }
  return out;
}

/**
 * DateTimeOffset.ToString([format]) for an offset of zero (the edge's only one): ToString() is the "G" form plus
 * " +00:00" (learn.microsoft.com/dotnet/api/system.datetimeoffset.tostring); in formats, `K` is the offset ("+00:00")
 * where a UTC DateTime prints "Z", so "o" gives `2027-12-03T08:00:12.0000000+00:00`.
 */
export function formatDateOffset(d: Date, format: string | null): string | null {
  if (format === null || format === "") {
    const g = formatDate(d, "G");
    return g === null ? null : `${g} +00:00`;
  }
  const pattern = format.length === 1 ? STANDARD_DATE_FORMATS.get(format) : format;
  if (pattern === undefined) return null;
  return formatDateCustom(d, pattern.replace(/K/g, "zzz"));
}

function formatDateCustom(d: Date, f: string): string | null {
  // 100-ns ticks within the second: JS dates carry milliseconds, so digits past the third are zeros.
  const fraction = String(d.getUTCMilliseconds()).padStart(3, "0") + "0000";
  return renderCustomFormat(f, (c, n, out) => {
    switch (c) {
      case "y": {
        const y = d.getUTCFullYear();
        return out + (n === 2 ? String(y % 100).padStart(2, "0") : n === 1 ? String(y % 100) : String(y).padStart(n, "0"));
      }
      case "M": {
        const m = d.getUTCMonth();
        return out + (n >= 4 ? MONTH_NAMES[m] : n === 3 ? MONTH_NAMES[m]!.slice(0, 3) : String(m + 1).padStart(n, "0"));
      }
      case "d":
        return out + (n >= 4 ? DAY_NAMES[d.getUTCDay()] : n === 3 ? DAY_NAMES[d.getUTCDay()]!.slice(0, 3) : String(d.getUTCDate()).padStart(n, "0"));
      case "H":
        return out + String(d.getUTCHours()).padStart(Math.min(n, 2), "0");
      case "h":
        return out + String(d.getUTCHours() % 12 || 12).padStart(Math.min(n, 2), "0");
      case "m":
        return out + String(d.getUTCMinutes()).padStart(Math.min(n, 2), "0");
      case "s":
        return out + String(d.getUTCSeconds()).padStart(Math.min(n, 2), "0");
      case "f":
        if (n > 7) return null;
        return out + fraction.slice(0, n);
      case "F": {
        if (n > 7) return null;
        const digits = fraction.slice(0, n).replace(/0+$/, "");
        // "ss.FFF" drops the point too when the fraction is zero.
        return digits === "" && out.endsWith(".") ? out.slice(0, -1) : out + digits;
      }
      case "t": {
        const ampm = d.getUTCHours() < 12 ? "AM" : "PM";
        return out + (n === 1 ? ampm[0] : ampm);
      }
      case "K":
        return out + "Z";
      case "z":
        return out + (n === 1 ? "+0" : n === 2 ? "+00" : "+00:00");
      case "g":
        return out + "A.D.";
      default:
        return out + c.repeat(n);
    }
  });
}

const MAX_DATE_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Is `ms` inside DateTime's range (0001-01-01 … 9999-12-31)? */
export function inDateRange(ms: number): boolean {
  return Number.isFinite(ms) && ms >= MIN_DATE_MS && ms <= MAX_DATE_MS;
}

/** DateTime.MinValue (Date.UTC maps years 0–99 to 1900–1999, hence setUTCFullYear). */
export function dateMin(): Date {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d;
}

export function dateMax(): Date {
  return new Date(MAX_DATE_MS);
}

/** A UTC date from parts; null when out of range or not a real calendar date (Feb 30). */
export function makeDate(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, ms = 0): Date | null {
  if (![y, mo, d, h, mi, s, ms].every(Number.isInteger)) return null;
  if (y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 || ms > 999 || h < 0 || mi < 0 || s < 0 || ms < 0) return null;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  return date;
}

export function daysInMonth(y: number, mo: number): number {
  return [31, isLeapYear(y) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] ?? 0;
}

export function isLeapYear(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const MIN_DATE_MS = dateMin().getTime();

/**
 * DateTime.Parse for the forms policies meet: ISO 8601 (`2024-01-31`, `2024-01-31T10:00:00.123Z`, `…+02:00`,
 * space instead of T), en-US (`1/31/2024`, `1/31/2024 10:00:00 AM`) and RFC 1123 (`Wed, 31 Jan 2024 10:00:00 GMT`).
 * An offset converts to UTC. Null when the text is none of these.
 */
export function parseDate(text: string): Date | null {
  const s = text.trim();
  let m = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s);
  if (m) {
    const frac = m[7] === undefined ? 0 : Math.round(Number(`0.${m[7]}`) * 1000);
    const d = makeDate(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), Math.min(frac, 999));
    if (d === null) return null;
    return applyOffset(d, m[8]);
  }
  m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*(AM|PM))?)?$/i.exec(s);
  if (m) {
    let h = Number(m[4] ?? 0);
    if (m[7] !== undefined) {
      if (h < 1 || h > 12) return null;
      h = (h % 12) + (m[7].toUpperCase() === "PM" ? 12 : 0);
    }
    return makeDate(Number(m[3]), Number(m[1]), Number(m[2]), h, Number(m[5] ?? 0), Number(m[6] ?? 0));
  }
  m = /^(?:(Sun|Mon|Tue|Wed|Thu|Fri|Sat),?\s+)?(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+(GMT|UTC|Z)$/i.exec(s);
  if (m) {
    const month = MONTH_NAMES.findIndex((n) => n.slice(0, 3).toLowerCase() === m![3]!.toLowerCase()) + 1;
    return makeDate(Number(m[4]), month, Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7] ?? 0));
  }
  return null;
}

function applyOffset(d: Date, zone: string | undefined): Date | null {
  if (zone === undefined || zone.toUpperCase() === "Z") return d;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 14 * 60) return null;
  const ms = d.getTime() - (m[1] === "+" ? 1 : -1) * minutes * 60_000;
  return inDateRange(ms) ? new Date(ms) : null;
}

// ── TimeSpan ───────────────────────────────────────────────────────────────────────────────────────────────

const MS_PER_DAY = 86_400_000;

/** TimeSpan.ToString() ("c"): `[-][d.]hh:mm:ss[.fffffff]`. */
export function formatTimeSpan(ms: number): string {
  const sign = ms < 0 ? "-" : "";
  // Work in 100-ns ticks, as .NET does, so fractions print exactly.
  let ticks = Math.round(Math.abs(ms) * 10_000);
  const days = Math.floor(ticks / (MS_PER_DAY * 10_000));
  ticks -= days * MS_PER_DAY * 10_000;
  const h = Math.floor(ticks / 36_000_000_000);
  ticks -= h * 36_000_000_000;
  const m = Math.floor(ticks / 600_000_000);
  ticks -= m * 600_000_000;
  const s = Math.floor(ticks / 10_000_000);
  ticks -= s * 10_000_000;
  const pad = (n: number): string => String(n).padStart(2, "0");
  return `${sign}${days > 0 ? `${days}.` : ""}${pad(h)}:${pad(m)}:${pad(s)}${ticks > 0 ? "." + String(ticks).padStart(7, "0") : ""}`;
}

/** Newtonsoft's ISO form of a DateTime in JSON: fraction trimmed, kind suffix. */
export function formatJsonDate(d: Date, kind: "utc" | "local" | "unspecified"): string {
  const base = formatDateCustom(d, "yyyy'-'MM'-'dd'T'HH':'mm':'ss")!;
  const ms = d.getUTCMilliseconds();
  const frac = ms === 0 ? "" : "." + String(ms).padStart(3, "0").replace(/0+$/, "");
  return base + frac + (kind === "utc" ? "Z" : kind === "local" ? "+00:00" : "");
}

/**
 * TimeSpan.ToString(format): "c"/"t"/"T" (constant), "g" (`[-][d:]h:mm:ss[.FFFFFFF]`), and custom formats of
 * d…, h/hh, m/mm, s/ss, f…/F… with `\\` escapes and quoted literals. Null when invalid.
 */
export function formatTimeSpanWith(ms: number, format: string | null): string | null {
  if (format === null || format === "" || format === "c" || format === "t" || format === "T") return formatTimeSpan(ms);
  const negative = ms < 0;
  let ticks = Math.round(Math.abs(ms) * 10_000);
  const days = Math.floor(ticks / 864_000_000_000);
  ticks -= days * 864_000_000_000;
  const h = Math.floor(ticks / 36_000_000_000);
  ticks -= h * 36_000_000_000;
  const m = Math.floor(ticks / 600_000_000);
  ticks -= m * 600_000_000;
  const s = Math.floor(ticks / 10_000_000);
  ticks -= s * 10_000_000;
  const fraction = String(ticks).padStart(7, "0");
  if (format === "g") {
    const frac = fraction.replace(/0+$/, "");
    return `${negative ? "-" : ""}${days > 0 ? `${days}:` : ""}${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}${frac ? "." + frac : ""}`;
  }
  if (format.length === 1) return null;
  return renderCustomFormat(format, (c, n, out) => {
    switch (c) {
      case "d":
        return n > 8 ? null : out + String(days).padStart(n, "0");
      case "h":
        return n > 2 ? null : out + String(h).padStart(n, "0");
      case "m":
        return n > 2 ? null : out + String(m).padStart(n, "0");
      case "s":
        return n > 2 ? null : out + String(s).padStart(n, "0");
      case "f":
        return n > 7 ? null : out + fraction.slice(0, n);
      case "F":
        return n > 7 ? null : out + fraction.slice(0, n).replace(/0+$/, "");
      default:
        // .NET rejects any other unescaped character in a custom TimeSpan format.
        return null;
    }
  });
}
