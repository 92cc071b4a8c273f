/** decodeTime against the RegExp reading it replaced (same accepted inputs, same dates, same errors). */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { DerElement } from "./decode";
import { decodeTime, DerError, TAG } from "./der";

function reference(bytes: Uint8Array, el: DerElement): Date {
  if (el.constructed) throw new DerError("constructed Time (DER times are primitive)");
  let s = "";
  for (let i = el.contentStart; i < el.end; i++) s += String.fromCharCode(bytes[i]!);
  let m: RegExpExecArray | null;
  let year: number;
  if (el.tagClass === 0 && el.tagNumber === TAG.UTC_TIME) {
    m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError("invalid UTCTime");
    const yy = Number(m[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (el.tagClass === 0 && el.tagNumber === TAG.GENERALIZED_TIME) {
    m = /^(\d\d\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(s);
    if (!m) throw new DerError("invalid GeneralizedTime");
    year = Number(m[1]);
  } else {
    throw new DerError("invalid Time");
  }
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) throw new DerError("invalid Time");
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (date.getUTCDate() !== d) throw new DerError("invalid Time");
  return date;
}

function outcome(f: () => Date): string {
  try {
    return `date ${f().getTime()}`;
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
}

function element(tagNumber: number, length: number, constructed = false): DerElement {
  return { tagClass: 0, tagNumber, constructed, start: 0, contentStart: 2, end: 2 + length };
}

describe("decodeTime", () => {
  const digitsAndMore = fc.array(fc.constantFrom(..."0123456789Z+-.\u0660 ".split("").map((c) => c.charCodeAt(0)), 0x00, 0xff, 0x5a), { maxLength: 17 });
  const plausible = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.boolean())
    .map(([y, mo, d, h, mi, s, generalized]) => {
      const p = (v: number, n = 2) => String(v).padStart(n, "0");
      const text = `${generalized ? p(y, 4) : p(y % 100)}${p(mo)}${p(d)}${p(h)}${p(mi)}${p(s)}Z`;
      return [...text].map((c) => c.charCodeAt(0));
    });
  for (const [name, arb] of [["arbitrary bytes", digitsAndMore], ["plausible times", plausible]] as const) {
    it(`agrees with the RegExp reading on ${name}, as UTCTime and as GeneralizedTime`, () => {
      fc.assert(fc.property(arb, (content) => {
        const bytes = new Uint8Array([0, 0, ...content]);
        for (const tag of [TAG.UTC_TIME, TAG.GENERALIZED_TIME, 2]) {
          const el = element(tag, content.length);
          expect(outcome(() => decodeTime(bytes, el))).toBe(outcome(() => reference(bytes, el)));
        }
      }), { numRuns: 3000 });
    });
  }
  it("rejects a constructed Time", () => {
    expect(() => decodeTime(new Uint8Array(15), element(TAG.UTC_TIME, 13, true))).toThrow(DerError);
  });
});
