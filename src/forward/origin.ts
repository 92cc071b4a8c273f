/**
 * Sends the request to the origin and hands back its response, streaming both bodies.
 *
 * Contract: I/O at the edge. Method, path and query are preserved (joined under the origin URL's own path),
 * redirects are passed through (`redirect: "manual"`), the body is streamed, never buffered. The timeout
 * covers the wait for the origin's response headers: past it → `origin_timeout` (504); a connection failure
 * → `origin_unreachable` (502). The body stream of a client that aborts mid-upload errors, which aborts the
 * upstream request with it.
 */
import { gatewayError, type GatewayError } from "../errors";
import { err, ok, type Result } from "../result";

export interface OriginRequest {
  readonly origin: URL;
  readonly timeoutMs: number;
  /** The fetch to use (a service binding's, or the global one). */
  readonly fetcher: (request: Request) => Promise<Response>;
}

/** The upstream URL: the origin's base path + the request's path and query. */
export function upstreamUrl(origin: URL, requestUrl: URL): URL {
  const url = new URL(origin.toString());
  const base = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = base + requestUrl.pathname;
  url.search = requestUrl.search;
  return url;
}

/** Forwards `request` with `headers`; resolves to the origin's response or a 502/504 error. */
export async function forwardToOrigin(request: Request, headers: Headers, target: OriginRequest): Promise<Result<Response, GatewayError>> {
  const url = upstreamUrl(target.origin, new URL(request.url));
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, target.timeoutMs);
  const hasBody = request.method !== "GET" && request.method !== "HEAD" && request.body !== null;
  try {
    const upstream = new Request(url.toString(), {
      method: request.method,
      headers,
      body: hasBody ? request.body : null,
      redirect: "manual",
      signal: controller.signal,
    });
    const response = await target.fetcher(upstream);
    return ok(response);
  } catch (e) {
    if (timedOut) {
      return err(gatewayError("origin_timeout", "The origin did not answer in time.", { timeoutMs: target.timeoutMs },
        `origin ${url.origin} timed out after ${target.timeoutMs} ms`));
    }
    return err(gatewayError("origin_unreachable", "The origin could not be reached.", undefined,
      `fetch ${url.origin} failed: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    clearTimeout(timer);
  }
}
