/**
 * The route index: which operation's program runs for a request (host, method, path).
 *
 * Contract: pure. `compileRoutes` turns the bundle's routes into matchers once per isolate (a malformed
 * route is a bundle error, reported with every other); `matchRoute` only compares per request. Routes are
 * tried in the bundle's order (the compiler sorts them most specific first); the first match wins, and no
 * match means the bundle's `*` program.
 *
 * Matching, as APIM matches operations:
 * - host: when the route has one, the request's host, case-insensitively (with the port when the route
 *   names one, else without it);
 * - method: `*` matches any; otherwise case-insensitive equality;
 * - path: the request path split on `/`, empty segments dropped (so `//a/b/` is `/a/b`, as origins that merge
 *   slashes see it), each segment percent-decoded. A literal segment matches case-insensitively; `{name}` takes
 *   exactly one non-empty segment; `{*name}` (last only) takes the rest, zero or more segments joined by `/`.
 *   Decoding before comparing means `/%61dmin` reaches the `admin` route's program, not the `*` one: the
 *   policy that runs is the one for the path the origin will act on.
 */
import { err, ok, type Result } from "../result";
import type { Route } from "./schema";

/** A matched route: the operation key and its template parameters (decoded). */
export interface RouteMatch {
  readonly operation: string;
  readonly params: ReadonlyMap<string, string>;
}

type Segment =
  | { readonly kind: "literal"; readonly folded: string }
  | { readonly kind: "param"; readonly name: string }
  | { readonly kind: "rest"; readonly name: string };

interface CompiledRoute {
  readonly operation: string;
  /** Lower-case host, or null for any. */
  readonly host: string | null;
  readonly hostHasPort: boolean;
  /** Upper-case method, or null for any. */
  readonly method: string | null;
  readonly segments: readonly Segment[];
  /** Index of a trailing `{*rest}` segment, or -1. */
  readonly rest: number;
}

/** The compiled routes of a bundle. */
export interface RouteIndex {
  readonly routes: readonly CompiledRoute[];
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;
const REST = /^\{\*([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

/** Compiles routes; every malformed route is reported (`routes[3]: …`). */
export function compileRoutes(routes: readonly Route[], operations: ReadonlySet<string>): Result<RouteIndex, string[]> {
  const problems: string[] = [];
  const compiled: CompiledRoute[] = [];
  routes.forEach((r, i) => {
    const where = `routes[${i}]`;
    if (!operations.has(r.operation)) problems.push(`${where}: operation ${JSON.stringify(r.operation)} is not in operations`);
    const segments: Segment[] = [];
    let rest = -1;
    r.segments.forEach((s, j) => {
      const param = PARAM.exec(s);
      const restMatch = REST.exec(s);
      if (restMatch) {
        if (j !== r.segments.length - 1) problems.push(`${where}: {*${restMatch[1]}} must be the last segment`);
        rest = j;
        segments.push({ kind: "rest", name: restMatch[1]! });
      } else if (param) {
        segments.push({ kind: "param", name: param[1]! });
      } else if (s === "" || s.includes("/") || s.includes("{") || s.includes("}")) {
        problems.push(`${where}: segment ${JSON.stringify(s)} is neither a literal nor a parameter`);
      } else {
        segments.push({ kind: "literal", folded: decodeSegment(s).toLowerCase() });
      }
    });
    const host = r.host === null || r.host === "" ? null : r.host.toLowerCase();
    compiled.push({
      operation: r.operation,
      host,
      hostHasPort: host !== null && /:\d+$/.test(host),
      method: r.method === "*" ? null : r.method.toUpperCase(),
      segments,
      rest,
    });
  });
  return problems.length > 0 ? err(problems) : ok({ routes: compiled });
}

/** The request path's segments as routes see them: empty ones dropped, each percent-decoded. */
export function pathSegments(pathname: string): string[] {
  const out: string[] = [];
  for (const s of pathname.split("/")) if (s !== "") out.push(decodeSegment(s));
  return out;
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    // Malformed escapes stay as written: they cannot equal a literal that decodes cleanly.
    return s;
  }
}

/** The first route matching the request, or null (→ the `*` program). */
export function matchRoute(index: RouteIndex, url: URL, method: string): RouteMatch | null {
  const upperMethod = method.toUpperCase();
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  const segments = pathSegments(url.pathname);
  const folded = segments.map((s) => s.toLowerCase());
  for (const r of index.routes) {
    if (r.method !== null && r.method !== upperMethod) continue;
    if (r.host !== null && r.host !== (r.hostHasPort ? host : hostname)) continue;
    const params = matchSegments(r, segments, folded);
    if (params) return { operation: r.operation, params };
  }
  return null;
}

function matchSegments(r: CompiledRoute, segments: readonly string[], folded: readonly string[]): Map<string, string> | null {
  const fixed = r.rest >= 0 ? r.rest : r.segments.length;
  if (r.rest >= 0 ? segments.length < fixed : segments.length !== fixed) return null;
  let params: Map<string, string> | null = null;
  for (let i = 0; i < fixed; i++) {
    const s = r.segments[i]!;
    if (s.kind === "literal") {
      if (s.folded !== folded[i]) return null;
    } else if (s.kind === "param") {
      (params ??= new Map()).set(s.name, segments[i]!);
    }
  }
  if (r.rest >= 0) (params ??= new Map()).set((r.segments[r.rest] as { name: string }).name, segments.slice(fixed).join("/"));
  return params ?? EMPTY;
}

const EMPTY: Map<string, string> = new Map();
