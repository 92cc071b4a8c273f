/**
 * compile-policies/routes — API paths and URL templates as route segments, and the match order.
 *
 * Contract: pure. A segment is a literal (RFC 3986 pchar), `{name}` (one segment) or `{*name}` (the rest of
 * the path, last only). Routes are ordered most specific first, so the Worker takes the first match:
 *   1. host-specific before host-less;
 *   2. segment by segment, a literal before a parameter before a rest parameter (where one route ends
 *      first, it comes first: `/cars` before `/cars/{*rest}`);
 *   3. an exact method before `*`;
 *   4. then host, literal text and operation key, only so the order is total and stable.
 */
import type { Route } from "../../src/policy/schema";

const PCHAR = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})+$/;
/** As the Worker's route index accepts them (src/policy/routes.ts). */
const PARAM = /^\{(\*?)([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

/** Splits an API path ("" or "/a/b": literals only) or a URL template ("/" or "/a/{id}/{*rest}"). */
export function parsePathSegments(text: string, kind: "path" | "template"): { segments: string[] } | { error: string } {
  if (kind === "path" && text === "") return { segments: [] };
  if (!text.startsWith("/")) return { error: kind === "path" ? 'an API path is "" or starts with "/"' : 'a URL template starts with "/"' };
  if (text.includes("?")) return { error: "query parameters in URL templates are not supported" };
  if (kind === "template" && text === "/") return { segments: [] };
  const segments = text.slice(1).split("/");
  const names = new Set<string>();
  for (const [i, s] of segments.entries()) {
    if (s === "") return { error: `empty segment in "${text}" (no "//", no trailing "/")` };
    const p = PARAM.exec(s);
    if (p) {
      if (kind === "path") return { error: "an API path has no parameters; put them in the operations' URL templates" };
      if (p[1] && i !== segments.length - 1) return { error: `{*${p[2]}} (the rest of the path) must be the last segment` };
      if (names.has(p[2]!)) return { error: `parameter {${p[2]}} appears twice` };
      names.add(p[2]!);
      continue;
    }
    if (s.includes("{") || s.includes("}")) return { error: `segment "${s}": a parameter is a whole segment, {name} or {*name}` };
    if (!PCHAR.test(s)) return { error: `segment "${s}" has characters a URL path cannot hold unencoded` };
  }
  return { segments };
}

const rank = (s: string) => (s.startsWith("{*") ? 2 : s.startsWith("{") ? 1 : 0);

/** Two routes match the same requests (parameter names do not matter; literals compare case-insensitively). */
export function sameRoute(a: Route, b: Route): boolean {
  return (a.host ?? "").toLowerCase() === (b.host ?? "").toLowerCase() && a.method === b.method &&
    a.segments.length === b.segments.length &&
    a.segments.every((s, i) => {
      const t = b.segments[i]!;
      return rank(s) === rank(t) && (rank(s) !== 0 || s.toLowerCase() === t.toLowerCase());
    });
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function compareRoutes(a: Route, b: Route): number {
  if ((a.host === null) !== (b.host === null)) return a.host === null ? 1 : -1;
  const n = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(a.segments[i]!) - rank(b.segments[i]!);
    if (d !== 0) return d;
  }
  if (a.segments.length !== b.segments.length) return a.segments.length - b.segments.length;
  if ((a.method === "*") !== (b.method === "*")) return a.method === "*" ? 1 : -1;
  return cmp(a.host ?? "", b.host ?? "") || cmp(a.segments.join("/"), b.segments.join("/")) || cmp(a.method, b.method) || cmp(a.operation, b.operation);
}
