/**
 * compile-policies/check-liquid — `<set-body template="liquid" parse-date="…">` → a `set-body-liquid` step.
 *
 * Contract: pure; reports to the diagnostics. The template is the element's content as written (APIM's own
 * examples put SOAP markup straight inside the element): the inner XML from the file, with line ends as `\n`,
 * CDATA sections unwrapped and no entity decoding. Named values: a defined compile-time `{{name}}` is substituted
 * (as everywhere in a policy); a secret one is an error (the template is checked whole at compile time); any other
 * `{{ … }}` is Liquid. The template is then parsed and checked by policy/liquid.ts — syntax, tags, filters, the
 * `context` members it reads — and each problem is reported at its file:line:col.
 *
 * APIM reference: learn.microsoft.com/azure/api-management/set-body-policy (attributes template, xsi-nil,
 * parse-date; "liquid templates do not work inside return-response").
 */
import type { Step } from "../../src/policy/schema";
import { checkLiquid } from "../../src/policy/liquid";
import type { XmlElement } from "./read-xml";
import { errorCount, type CheckContext, type CheckTools } from "./check-tools";
import { namedValueRefAt } from "./values";

/** The template text with, for each character, its offset in the file (plus one entry for the end). */
function templateText(t: CheckTools, ctx: CheckContext, src: string, start: number, end: number): { text: string; map: number[] } | null {
  let text = "";
  const map: number[] = [];
  let ok = true;
  for (let i = start; i < end;) {
    if (src.startsWith("<![CDATA[", i)) {
      const close = src.indexOf("]]>", i + 9);
      const stop = close < 0 || close > end ? end : close;
      for (let j = i + 9; j < stop; j++) if (src[j] !== "\r") {
        text += src[j];
        map.push(j);
      }
      i = stop + 3;
      continue;
    }
    const ref = namedValueRefAt(src, i);
    if (ref && ref.end <= end) {
      const v = ctx.values.lookup(ref.name);
      if (v?.kind === "text") {
        for (const c of v.value) {
          text += c;
          map.push(i);
        }
        i = ref.end;
        continue;
      }
      if (v?.kind === "secret") {
        t.diags.error(ctx.file, i, `the secret named value {{${ref.name}}} cannot be used in a liquid template (the template is checked whole at compile time)`, ref.end - i);
        ok = false;
        i = ref.end;
        continue;
      }
      // Not a named value: Liquid's own `{{ … }}`.
    }
    const c = src[i]!;
    if (c === "\r") {
      if (src[i + 1] !== "\n") {
        text += "\n";
        map.push(i);
      }
    } else {
      text += c;
      map.push(i);
    }
    i++;
  }
  map.push(end);
  return ok ? { text, map } : null;
}

/** Index in `text` of a 1-based line and column. */
function indexAt(text: string, line: number, col: number): number {
  let i = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", i);
    if (nl < 0) return text.length;
    i = nl + 1;
  }
  return Math.min(text.length, i + Math.max(0, col - 1));
}

/** `<set-body template=…>`: a liquid step, or [] after reporting why not. */
export function checkLiquidBody(t: CheckTools, ctx: CheckContext, el: XmlElement, inReturnResponse: boolean): Step[] {
  const before = errorCount(t.diags);
  const a = t.attributes(ctx, el, ["template"], ["parse-date", "xsi-nil"]);
  const template = a.get("template");
  if (template) {
    const v = t.literal(ctx, template);
    if (v !== null && v !== "liquid") t.badValue(ctx, template, "liquid (APIM's only template mode)");
  }
  if (a.get("xsi-nil")) t.diags.error(ctx.file, a.get("xsi-nil")!.start, "xsi-nil applies to XML bodies, which certgate does not bind to liquid templates yet", 7);
  const parseDate = t.bool(ctx, a.get("parse-date"), true);
  if (inReturnResponse) {
    t.diags.error(ctx.file, el.start, "a liquid <set-body> inside <return-response> renders an empty body in APIM (the pipeline's body is gone): set the body with an expression instead", 9);
  }
  const inner = el.inner ?? { start: el.start, end: el.start };
  const source = templateText(t, ctx, ctx.file.text, inner.start, inner.end);
  if (source === null) return [];
  for (const p of checkLiquid(source.text)) {
    const offset = source.map[indexAt(source.text, p.line, p.col)] ?? inner.start;
    t.diags.error(ctx.file, offset, `liquid: ${p.message}`);
  }
  if (errorCount(t.diags) > before) return [];
  return [{ k: "set-body-liquid", at: t.origin(ctx, el), template: source.text, parseDate }];
}
