/**
 * compile-policies/check-tools — the element-checking helpers of check.ts, as an interface, so element checkers can
 * live in their own files (check-jwt.ts, check-limits.ts) and check.ts keeps one line per element.
 *
 * Contract: the helpers report to the compilation's diagnostics and return what they could read (see check.ts).
 */
import type { Origin, SetHeader, Step, Template } from "../../src/policy/schema";
import type { XmlAttribute, XmlElement } from "./read-xml";
import type { Diagnostics, SourceFile } from "./source";
import type { ValueContext } from "./template";

export interface CheckContext extends ValueContext {
  readonly file: SourceFile;
  readonly scope: Origin["scope"];
  readonly policyId: string;
}

export interface CheckTools {
  readonly diags: Diagnostics;
  origin(ctx: CheckContext, el: XmlElement): Origin;
  /** Attributes by name; reports unknown and missing ones. */
  attributes(ctx: CheckContext, el: XmlElement, required: readonly string[], optional: readonly string[]): Map<string, XmlAttribute>;
  noAttributes(ctx: CheckContext, el: XmlElement): void;
  children(ctx: CheckContext, el: XmlElement, allowed: readonly string[]): XmlElement[];
  noChildren(ctx: CheckContext, el: XmlElement): void;
  /** An element's text as a Template. */
  text(ctx: CheckContext, el: XmlElement): Template | null;
  literal(ctx: CheckContext, a: XmlAttribute | undefined): string | null;
  bool(ctx: CheckContext, a: XmlAttribute | undefined, fallback: boolean): boolean;
  badValue(ctx: CheckContext, a: XmlAttribute, expected: string, value?: string): void;
  /** The policies inside a container element (retry), checked against the enclosing section. */
  policies(ctx: CheckContext, container: XmlElement): Step[];
  /** A `<set-header>` as set-header checks it. */
  setHeader(ctx: CheckContext, el: XmlElement): SetHeader | null;
  /** A `<set-body>` as set-body checks it. */
  body(ctx: CheckContext, el: XmlElement): Template | null;
}

/** RFC 9110 §5.1 field-name token. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A literal non-negative integer attribute within [min, max]; null (reported) otherwise. */
export function integerAttribute(t: CheckTools, ctx: CheckContext, a: XmlAttribute | undefined, min: number, max: number): number | null {
  const v = t.literal(ctx, a);
  if (v === null || !a) return null;
  const n = /^[0-9]{1,10}$/.test(v.trim()) ? Number(v.trim()) : NaN;
  if (!(n >= min && n <= max)) {
    t.badValue(ctx, a, `a whole number from ${min} to ${max} (policy expressions are not supported here)`);
    return null;
  }
  return n;
}

/** The text of an element as a literal (named values substituted). */
export function literalText(t: CheckTools, ctx: CheckContext, el: XmlElement): string | null {
  const tpl = t.text(ctx, el);
  if (tpl === null) return null;
  if (tpl.t !== "text") {
    t.diags.error(ctx.file, el.start, `<${el.name}> must be literal text (no policy expressions or secret named values)`, el.name.length + 1);
    return null;
  }
  return tpl.v;
}

/** Errors reported so far (to tell whether an element added any). */
export function errorCount(diags: Diagnostics): number {
  let n = 0;
  for (const d of diags.list) if (d.severity === "error") n++;
  return n;
}
