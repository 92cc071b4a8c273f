import { describe, expect, it } from "vitest";
import { upstreamUrl } from "./origin";

/** What upstreamUrl built before it joined strings: setters on a copy of the origin. */
function reference(origin: URL, path: string, search: string): string {
  const url = new URL(origin.toString());
  const base = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = base + path;
  url.search = search;
  return url.toString();
}

const ORIGINS = [
  "https://origin.example.com", "https://origin.example.com/", "https://origin.example.com/base", "https://origin.example.com/base/",
  "http://127.0.0.1:8080/a/b/", "https://user:p%40ss@origin.example.com:8443/base", "https://origin.example.com/base?x=1#frag",
  "https://origin.example.com/?", "https://origin.example.com/#", "https://[::1]:9000/v1", "https://xn--bcher-kva.example/b%C3%BC",
  "https://origin.example.com/base%2F/", "https://origin.example.com//",
];
const REQUESTS = [
  "https://gw.example/", "https://gw.example/api/cars?color=red", "https://gw.example/a%20b/c?q=%20x&y", "https://gw.example/%2e%2e/x",
  "https://gw.example/über?ä=ö", "https://gw.example/a/../b/./c", "https://gw.example/x?", "https://gw.example/x#h", "https://gw.example//double//slash",
  "https://gw.example/semi;colon/@at/:colon", "https://gw.example/%25/%zz",
];

describe("upstreamUrl", () => {
  it("joins the origin's base path, the request's path and query as the URL setters did", () => {
    for (const o of ORIGINS) {
      for (const r of REQUESTS) {
        const origin = new URL(o);
        const request = new URL(r);
        for (const path of [request.pathname, request.pathname.slice(4) || "/", ""]) {
          const got = upstreamUrl(origin, path, request.search);
          expect(got, `${o} + ${path} ${request.search}`).toBe(reference(origin, path, request.search));
          // Twice: the second call uses the per-origin parts.
          expect(upstreamUrl(origin, path, request.search)).toBe(got);
        }
      }
    }
  });
});
