/**
 * policy/expr/multi-value — APIM's IReadOnlyDictionary<string, string[]> (headers, query parameters, a Jwt's Claims),
 * and the argument checks host objects share.
 *
 * Contract: no I/O; a view over a lookup function, so a live Headers object stays live. GetValueOrDefault joins the
 * values with "," (APIM's extension method on this type); the indexer gives the string[] or KeyNotFoundException.
 */
import { HostError, type HostObject, type Value } from "./host";

export function argCount(name: string, args: readonly Value[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    throw new HostError("ArgumentException", `${name} takes ${min === max ? min : `${min} to ${max}`} argument(s), not ${args.length}`);
  }
}

export function stringArg(name: string, v: Value | undefined): string {
  if (typeof v !== "string") throw new HostError("ArgumentException", `${name}: expected a string argument`);
  return v;
}

/**
 * APIM's IReadOnlyDictionary<string, string[]> for headers and query parameters: a view over a live
 * Headers / URLSearchParams, so edits made by set-header are seen by later expressions.
 */
export class MultiValueDictionary implements HostObject {
  readonly typeName = "IReadOnlyDictionary<string, string[]>";

  constructor(
    private readonly lookup: (name: string) => string[] | null,
    private readonly names: () => string[],
  ) {}

  get(name: string): Value | undefined {
    if (name === "Count") return this.names().length;
    if (name === "Keys") return this.names();
    return undefined;
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    switch (name) {
      case "GetValueOrDefault": {
        argCount(name, args, 1, 2);
        const values = this.lookup(stringArg(name, args[0]));
        return values ? values.join(",") : (args[1] ?? null);
      }
      case "ContainsKey":
        argCount(name, args, 1, 1);
        return this.lookup(stringArg(name, args[0])) !== null;
      case "ToString":
        argCount(name, args, 0, 0);
        return this.toString();
      default:
        return undefined;
    }
  }

  index(key: Value): Value {
    const values = this.lookup(stringArg("indexer", key));
    if (!values) throw new HostError("KeyNotFoundException", `The given key '${String(key)}' was not present in the dictionary.`);
    return values;
  }

  toString(): string {
    return this.typeName;
  }
}

