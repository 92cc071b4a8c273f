/**
 * A strict DER cursor over a byte array: elements are offsets into the input, nothing is copied.
 *
 * Why by hand: asn1js builds a full object tree with copied buffers for every node — about 250 µs per
 * certificate in workerd, by itself more than our whole cold-validation budget (issue: cold ≤ openssl verify,
 * ≈ 600 µs for a whole chain). Reading the few fields validation needs straight from the bytes costs a few µs.
 * The element header reader is decode.ts's `readDerElement` (X.690 §8.1, DER definite lengths only).
 *
 * Contract: pure; every method throws `DerError` on malformed input, which the parsers catch and turn into
 * `certificate_malformed` / `crl_malformed`.
 */
import { latin1 } from "../bytes";
import { readDerElement, type DerElement } from "./decode";

export class DerError extends Error {}

/** How a context-specific field is encoded: EXPLICIT, or IMPLICIT over a primitive or a constructed type. */
export type ContextForm = "explicit" | "primitive" | "constructed";

/** Universal tag numbers used in certificates. */
export const TAG = {
  BOOLEAN: 1, INTEGER: 2, BIT_STRING: 3, OCTET_STRING: 4, NULL: 5, OID: 6, ENUMERATED: 10, UTF8: 12,
  SEQUENCE: 16, SET: 17, PRINTABLE: 19, T61: 20, IA5: 22, UTC_TIME: 23, GENERALIZED_TIME: 24, BMP: 30,
} as const;

export class DerReader {
  private pos: number;

  constructor(readonly bytes: Uint8Array, start = 0, readonly end = bytes.length) {
    this.pos = start;
  }

  /** A reader over the content of `el`. */
  static of(bytes: Uint8Array, el: DerElement): DerReader {
    return new DerReader(bytes, el.contentStart, el.end);
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next element, whatever it is. */
  next(): DerElement {
    const el = readDerElement(this.bytes, this.pos, this.end);
    if (typeof el === "string") throw new DerError(el);
    this.pos = el.end;
    return el;
  }

  /**
   * The next element, which must be universal `tagNumber` with the form X.690 §8 gives that type: constructed
   * for SEQUENCE and SET, primitive for every other type certificates use (DER forbids constructed strings,
   * §10.2). A tag of the right number in the wrong form is a different encoding of the same certificate.
   */
  expect(tagNumber: number, what: string): DerElement {
    const el = this.next();
    if (el.tagClass !== 0 || el.tagNumber !== tagNumber) throw new DerError(`${what}: unexpected tag`);
    if (el.constructed !== (tagNumber === TAG.SEQUENCE || tagNumber === TAG.SET)) {
      throw new DerError(`${what}: ${el.constructed ? "constructed" : "primitive"} encoding of a ${el.constructed ? "primitive" : "constructed"} type`);
    }
    return el;
  }

  /**
   * The next element if it is context-specific `[tagNumber]`, else null (nothing consumed). `form` is the one
   * the ASN.1 module gives the field: "explicit" (always constructed), or an IMPLICIT tag over a primitive or
   * constructed type. The right tag number in the wrong form is an error, not an absent field.
   */
  optionalContext(tagNumber: number, form: ContextForm): DerElement | null {
    if (this.done) return null;
    const el = readDerElement(this.bytes, this.pos, this.end);
    if (typeof el === "string") throw new DerError(el);
    if (el.tagClass !== 2 || el.tagNumber !== tagNumber) return null;
    if (el.constructed !== (form !== "primitive")) throw new DerError(`[${tagNumber}]: wrong constructed bit`);
    this.pos = el.end;
    return el;
  }

  /** Peeks the next element without consuming it (null at the end). */
  peek(): DerElement | null {
    if (this.done) return null;
    const el = readDerElement(this.bytes, this.pos, this.end);
    if (typeof el === "string") throw new DerError(el);
    return el;
  }

  /** Asserts the reader consumed its whole range. */
  finish(what: string): void {
    if (!this.done) throw new DerError(`${what}: unexpected trailing data`);
  }

  content(el: DerElement): Uint8Array {
    return this.bytes.subarray(el.contentStart, el.end);
  }

  whole(el: DerElement): Uint8Array {
    return this.bytes.subarray(el.start, el.end);
  }
}

/** X.690 §8.1.3 / §10.1: the definite length octets of `n`, in their shortest form. */
export function encodeDerLength(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v & 0xff);
  return [0x80 | out.length, ...out];
}

/** The DER of `name` (a Name SEQUENCE) with the RDN `rdn` (a SET's DER) appended as its last RDN. */
export function appendRdn(name: Uint8Array, rdn: Uint8Array): Uint8Array {
  const r = new DerReader(name);
  const seq = r.expect(TAG.SEQUENCE, "Name");
  const content = [...name.subarray(seq.contentStart, seq.end), ...rdn];
  return Uint8Array.from([0x30, ...encodeDerLength(content.length), ...content]);
}

const oidCache = new Map<string, string>();

/**
 * Longest subidentifier decoded, in octets. The largest arcs in use are 128-bit UUID arcs under 2.25 (19 octets);
 * the cap keeps a hostile multi-kilobyte arc from costing quadratic BigInt work.
 */
const MAX_OID_ARC_OCTETS = 32;

/** X.690 §8.19: dotted decimal, or null when the encoding is empty, truncated, not minimal or absurdly long. */
function decodeOidUncached(content: Uint8Array): string | null {
  if (content.length === 0) return null;
  const arcs: Array<number | bigint> = [];
  let value = 0;
  let big: bigint | null = null;
  let started = false;
  let octets = 0;
  for (const b of content) {
    // §8.19.2: the leading octet of a subidentifier shall not be 0x80.
    if (!started && b === 0x80) return null;
    octets = started ? octets + 1 : 1;
    if (octets > MAX_OID_ARC_OCTETS) return null;
    started = true;
    // Plain numbers while exact (below 2^46 before the shift), BigInt beyond.
    if (big === null && value < 2 ** 46) value = value * 128 + (b & 0x7f);
    else big = ((big ?? BigInt(value)) << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(big ?? value);
      value = 0;
      big = null;
      started = false;
    }
  }
  if (started) return null;
  const first = arcs[0];
  if (first === undefined) return null;
  // §8.19.4: the first subidentifier packs the first two arcs as X*40+Y.
  let out: string;
  if (typeof first === "number") out = first < 40 ? `0.${first}` : first < 80 ? `1.${first - 40}` : `2.${first - 80}`;
  else out = `2.${first - 80n}`;
  for (let i = 1; i < arcs.length; i++) out += `.${arcs[i]}`;
  return out;
}

/**
 * OBJECT IDENTIFIER content → dotted string, or null when the encoding is not valid (X.690 §8.19). Cached:
 * certificates repeat the same few OIDs.
 */
export function readOid(content: Uint8Array): string | null {
  const key = latin1(content);
  const hit = oidCache.get(key);
  if (hit !== undefined) return hit;
  const dotted = decodeOidUncached(content);
  if (dotted !== null && oidCache.size < 4096 && content.length <= 64) oidCache.set(key, dotted);
  return dotted;
}

/** readOid, throwing DerError on an invalid encoding (for the certificate parser). */
export function decodeOid(content: Uint8Array): string {
  const dotted = readOid(content);
  if (dotted === null) throw new DerError("invalid OBJECT IDENTIFIER");
  return dotted;
}

/** BOOLEAN content (DER: 0x00 or 0xFF). */
export function decodeBoolean(content: Uint8Array): boolean {
  if (content.length !== 1 || (content[0] !== 0 && content[0] !== 0xff)) throw new DerError("invalid BOOLEAN");
  return content[0] === 0xff;
}

/** X.690 §8.3.2: an INTEGER's content is at least one octet, and its first nine bits are not all 0 or all 1. */
export function checkMinimalInteger(content: Uint8Array, what: string): void {
  if (content.length === 0) throw new DerError(`${what}: empty INTEGER`);
  if (content.length > 1 && ((content[0] === 0 && (content[1]! & 0x80) === 0) || (content[0] === 0xff && (content[1]! & 0x80) !== 0))) {
    throw new DerError(`${what}: INTEGER not in its shortest form`);
  }
}

/** Small non-negative INTEGER content → number (X.690 §8.3, minimal encoding). */
export function decodeSmallInteger(content: Uint8Array): number {
  if (content.length === 0 || content.length > 6) throw new DerError("INTEGER out of range");
  if (content.length > 1 && content[0] === 0 && (content[1]! & 0x80) === 0) throw new DerError("INTEGER not minimal");
  if (content[0]! & 0x80) throw new DerError("negative INTEGER");
  let n = 0;
  for (const b of content) n = n * 256 + b;
  return n;
}

/**
 * UTCTime / GeneralizedTime as RFC 5280 §4.1.2.5 requires: UTC ("Z"), seconds present, no fractions;
 * UTCTime years 50–99 are 19xx.
 */
export function decodeTime(bytes: Uint8Array, el: DerElement): Date {
  if (el.constructed) throw new DerError("constructed Time (DER times are primitive)");
  // Read digit by digit (no string, no RegExp: two per certificate on the cold path, ≈ 2 µs each as a RegExp).
  const at = el.contentStart;
  const n = el.end - at;
  const digits = (from: number, count: number): number => {
    let v = 0;
    for (let i = from; i < from + count; i++) {
      const c = bytes[at + i]! - 0x30;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    return v;
  };
  let year: number;
  let rest: number;
  if (el.tagClass === 0 && el.tagNumber === TAG.UTC_TIME) {
    // YYMMDDHHMMSSZ
    const yy = n === 13 && bytes[at + 12] === 0x5a ? digits(0, 2) : -1;
    if (yy < 0 || digits(2, 10) < 0) throw new DerError("invalid UTCTime");
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = 2;
  } else if (el.tagClass === 0 && el.tagNumber === TAG.GENERALIZED_TIME) {
    // YYYYMMDDHHMMSSZ
    year = n === 15 && bytes[at + 14] === 0x5a ? digits(0, 4) : -1;
    if (year < 0 || digits(4, 10) < 0) throw new DerError("invalid GeneralizedTime");
    rest = 4;
  } else {
    throw new DerError("invalid Time");
  }
  const mo = digits(rest, 2);
  const d = digits(rest + 2, 2);
  const h = digits(rest + 4, 2);
  const mi = digits(rest + 6, 2);
  const se = digits(rest + 8, 2);
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) throw new DerError("invalid Time");
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (date.getUTCDate() !== d) throw new DerError("invalid Time");
  return date;
}
