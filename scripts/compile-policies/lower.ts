/**
 * compile-policies/lower — checked scope documents → one flat Program per operation.
 *
 * Contract: pure. The chain is global → api → operation (some absent). APIM semantics, per section:
 *   - `<base/>` runs the parent scope's section (already flattened) at that point;
 *   - a section without `<base/>` does NOT run the parent's;
 *   - an absent document, or a document without that section element, behaves as `<base/>` alone (APIM's
 *     default policy at every scope below global is `<base/>` in each section);
 *   - at the top of the chain `<base/>` runs nothing.
 * `needs` is what the expressions of the program call for (`.Verify()`, `.VerifyNoRevocation()`).
 */
import type { Program, Step } from "../../src/policy/schema";
import { SECTIONS, type Section } from "./catalog";
import type { CheckedDocument } from "./check";
import { collectNeeds } from "./code";

export type ProgramMeta = Pick<Program, "api" | "operation" | "origin">;

/** The steps of `section` for a scope chain (outermost first; null: the scope has no document). */
export function lowerSection(chain: readonly (CheckedDocument | null)[], section: Section): Step[] {
  const level = (i: number): Step[] => {
    if (i < 0) return [];
    const items = chain[i]?.get(section);
    if (!items) return level(i - 1);
    return items.flatMap((item) => (item.k === "base" ? level(i - 1) : [item]));
  };
  return level(chain.length - 1);
}

type Need = Program["needs"][number];

/** Needs per step object: a global step shared by every program is walked once. */
const stepNeeds = new WeakMap<Step, readonly Need[]>();

function needsOf(step: Step): readonly Need[] {
  let n = stepNeeds.get(step);
  if (!n) {
    const set = new Set<Need>();
    collectNeeds(step, set);
    n = [...set];
    stepNeeds.set(step, n);
  }
  return n;
}

export function lowerProgram(chain: readonly (CheckedDocument | null)[], meta: ProgramMeta): Program {
  const [inbound, backend, outbound, onError] = SECTIONS.map((s) => lowerSection(chain, s)) as [Step[], Step[], Step[], Step[]];
  const needs = new Set<Need>([inbound, backend, outbound, onError].flat().flatMap(needsOf));
  return { ...meta, inbound, backend, outbound, onError, needs: [...needs].sort() };
}
