/**
 * compile-policies/values — named values (APIM `{{name}}`).
 *
 * Contract: pure. A values file (`policies/values.json`, or the CLI's `--values FILE`) is a JSON object:
 * `"name": "text"` (substituted at compile time) or `"name": {"secret": true}` (resolved by the Worker at run
 * time: KV `v/<version>/values` or a Worker secret; the bundle keeps a reference and lists the name in
 * `runtimeValues`). Names: 1–256 of `A–Z a–z 0–9 . _ -` (APIM's named-value names).
 */
import { jsonKind, readJson } from "./read-json";
import type { Diagnostics, SourceFile } from "./source";

export type NamedValueInput = string | { readonly secret: true };
/** Named values given to the compiler in-process (the CLI's `--values FILE`); they override values.json. */
export type NamedValuesInput = Readonly<Record<string, NamedValueInput>>;

export type NamedValue = { readonly kind: "text"; readonly value: string } | { readonly kind: "secret" };

const NAME = /^[A-Za-z0-9._-]{1,256}$/;

export function isNamedValueName(name: string): boolean {
  return NAME.test(name);
}

/**
 * The `{{name}}` reference starting at `text[i]`, if there is one. Anything else that starts with `{{`
 * (JSON in a body, C#'s `{{` brace escape before a non-name) is literal text.
 */
export function namedValueRefAt(text: string, i: number): { name: string; end: number } | null {
  if (text[i] !== "{" || text[i + 1] !== "{") return null;
  let j = i + 2;
  while (j < text.length && j - i - 2 <= 256 && /[A-Za-z0-9._-]/.test(text[j]!)) j++;
  if (j === i + 2 || text[j] !== "}" || text[j + 1] !== "}") return null;
  return { name: text.slice(i + 2, j), end: j + 2 };
}

/** A values file read with positions: name → value and the offset of its key. */
export type LocatedValues = Map<string, { readonly value: NamedValue; readonly at: number }>;

/** Reads a values file; problems are reported to `diags` (entries with problems are left out). */
export function readValuesFile(file: SourceFile, diags: Diagnostics): LocatedValues {
  const out: LocatedValues = new Map();
  const r = readJson(file.text);
  if (!r.ok) {
    diags.error(file, r.error.offset, `invalid JSON: ${r.error.message}`);
    return out;
  }
  if (r.node.kind !== "object") {
    diags.error(file, r.node.at, `a values file is a JSON object {"name": "value" | {"secret": true}}, not ${jsonKind(r.node)}`);
    return out;
  }
  for (const m of r.node.members) {
    if (!NAME.test(m.key)) {
      diags.error(file, m.keyAt, `invalid named value name "${m.key}": use 1–256 of A–Z a–z 0–9 . _ -`, m.keyEnd - m.keyAt);
      continue;
    }
    const v = m.value;
    if (v.kind === "string") {
      out.set(m.key, { value: { kind: "text", value: v.value }, at: m.keyAt });
    } else if (v.kind === "object") {
      const secret = v.members.find((x) => x.key === "secret");
      const other = v.members.find((x) => x.key !== "secret");
      if (other) diags.error(file, other.keyAt, `unknown key "${other.key}" in named value "${m.key}"; allowed: secret`, other.keyEnd - other.keyAt);
      else if (!secret || secret.value.kind !== "boolean" || !secret.value.value) {
        diags.error(file, v.at, `named value "${m.key}": an object must be {"secret": true}; a plain value is a string`);
      } else out.set(m.key, { value: { kind: "secret" }, at: m.keyAt });
    } else {
      diags.error(file, v.at, `named value "${m.key}" must be a string or {"secret": true}, not ${jsonKind(v)}`);
    }
  }
  return out;
}

/** The named values of one compilation; remembers which secret ones are used (the bundle's runtimeValues). */
export class NamedValues {
  private readonly usedSecrets = new Set<string>();

  constructor(private readonly entries: ReadonlyMap<string, NamedValue>) {}

  lookup(name: string): NamedValue | undefined {
    const v = this.entries.get(name);
    if (v?.kind === "secret") this.usedSecrets.add(name);
    return v;
  }

  /** Message for an unknown `{{name}}`. */
  unknown(name: string): string {
    const names = [...this.entries.keys()].sort();
    const known = names.length === 0 ? "no named values are defined" : `defined: ${names.slice(0, 20).join(", ")}${names.length > 20 ? ", …" : ""}`;
    return `unknown named value {{${name}}} (${known}; add it to values.json or pass --values)`;
  }

  runtimeValues(): string[] {
    return [...this.usedSecrets].sort();
  }
}
