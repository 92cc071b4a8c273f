/**
 * compile-policies/emit — the bundle as bytes.
 *
 * Contract: deterministic: the same inputs give the same bytes. Object keys are sorted at every level (none
 * of the schema's objects gives key order a meaning); arrays keep their order (routes, steps, parts). The
 * source hash is SHA-256 over the inputs (Node's crypto: the compiler runs in Node): every file as
 * `path NUL text NUL` in path order, then `values NUL` and the in-process named values as sorted JSON.
 */
import { createHash } from "node:crypto";
import type { PolicyBundle } from "../../src/policy/schema";

/** JSON with object keys sorted (recursively). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(sortKeys(value, new WeakMap()));
}

/** `seen`: objects shared between programs (inherited steps) are sorted once. */
function sortKeys(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (value === null || typeof value !== "object") return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  let out: unknown;
  if (Array.isArray(value)) out = value.map((v) => sortKeys(v, seen));
  else {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined) o[k] = sortKeys(v, seen);
    }
    out = o;
  }
  seen.set(value, out);
  return out;
}

export function sourceHash(files: ReadonlyMap<string, string>, values: unknown): string {
  const h = createHash("sha256");
  for (const path of [...files.keys()].sort()) h.update(path).update("\0").update(files.get(path)!).update("\0");
  h.update("values\0").update(stableStringify(values));
  return h.digest("hex");
}

/** The bundle file's text: compact sorted JSON and a final newline. */
export function emitBundle(bundle: PolicyBundle): string {
  return stableStringify(bundle) + "\n";
}
