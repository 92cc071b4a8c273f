import { describe, expect, it } from "vitest";
import { compileRoutes, matchRoute, pathSegments, type RouteIndex } from "./routes";
import type { Route } from "./schema";

function index(routes: Route[]): RouteIndex {
  const r = compileRoutes(routes, new Set(routes.map((x) => x.operation)));
  if (!r.ok) throw new Error(r.error.join("; "));
  return r.value;
}

const route = (operation: string, method: string, segments: string[], host: string | null = null): Route => ({ operation, method, segments, host });
const match = (i: RouteIndex, url: string, method = "GET") => {
  const m = matchRoute(i, new URL(url), method);
  return m ? { op: m.operation, params: Object.fromEntries(m.params) } : null;
};

describe("route matching", () => {
  const routes = index([
    route("cars/list", "GET", ["cars"]),
    route("cars/get", "GET", ["cars", "{id}"]),
    route("cars/update", "PUT", ["cars", "{id}"]),
    route("cars/files", "*", ["cars", "{id}", "files", "{*path}"]),
    route("admin/any", "*", ["admin", "{*rest}"], "admin.example.com"),
  ]);

  it("matches literals, parameters and methods, first match wins", () => {
    expect(match(routes, "https://gw/cars")).toEqual({ op: "cars/list", params: {} });
    expect(match(routes, "https://gw/cars/42")).toEqual({ op: "cars/get", params: { id: "42" } });
    expect(match(routes, "https://gw/cars/42", "put")).toEqual({ op: "cars/update", params: { id: "42" } });
    expect(match(routes, "https://gw/cars/42", "DELETE")).toBeNull();
    expect(match(routes, "https://gw/trucks")).toBeNull();
    expect(match(routes, "https://gw/")).toBeNull();
  });

  it("takes the rest of the path for {*name}, zero or more segments", () => {
    expect(match(routes, "https://gw/cars/7/files/a/b.txt", "POST")).toEqual({ op: "cars/files", params: { id: "7", path: "a/b.txt" } });
    expect(match(routes, "https://gw/cars/7/files", "GET")).toEqual({ op: "cars/files", params: { id: "7", path: "" } });
  });

  it("compares literals case-insensitively after percent-decoding, as the origin will read the path", () => {
    expect(match(routes, "https://gw/CARS/%34%32")).toEqual({ op: "cars/get", params: { id: "42" } });
    expect(match(routes, "https://gw/%63ars")).toEqual({ op: "cars/list", params: {} });
    expect(match(routes, "https://gw//cars///9/")).toEqual({ op: "cars/get", params: { id: "9" } });
    expect(match(routes, "https://gw/cars/a%2Fb")).toEqual({ op: "cars/get", params: { id: "a/b" } });
    expect(match(routes, "https://gw/cars/%E0%A4%A")).toEqual({ op: "cars/get", params: { id: "%E0%A4%A" } });
  });

  it("matches a route's host case-insensitively, with or without a port", () => {
    expect(match(routes, "https://ADMIN.example.com/admin/x/y")).toEqual({ op: "admin/any", params: { rest: "x/y" } });
    expect(match(routes, "https://admin.example.com:8443/admin")).toEqual({ op: "admin/any", params: { rest: "" } });
    expect(match(routes, "https://other.example.com/admin/x")).toBeNull();
    const withPort = index([route("p/x", "GET", ["x"], "api.test:8443")]);
    expect(match(withPort, "https://api.test:8443/x")?.op).toBe("p/x");
    expect(match(withPort, "https://api.test/x")).toBeNull();
  });

  it("splits request paths as routes see them", () => {
    expect(pathSegments("/a//b/%20c/")).toEqual(["a", "b", " c"]);
    expect(pathSegments("/")).toEqual([]);
  });

  it("reports every malformed route", () => {
    const r = compileRoutes([
      route("x", "GET", ["{*rest}", "after"]),
      route("missing", "GET", ["a"]),
      route("x", "GET", ["a{b}"]),
      route("x", "GET", [""]),
    ], new Set(["x"]));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toHaveLength(4);
      expect(r.error[0]).toContain("routes[0]");
      expect(r.error[1]).toContain("not in operations");
    }
  });
});
