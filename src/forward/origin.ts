/**
 * Sends the request to the origin and hands back its response, streaming both bodies.
 *
 * Contract: I/O at the edge. The caller (policy/run.ts) decides the upstream URL — the origin's base path
 * joined with the request's path (see upstreamUrl) — the method, the headers and the body (the client's
 * stream, or a policy's `set-body` text). Redirects are passed through (`redirect: "manual"`), a stream body
 * is streamed, never buffered. The timeout covers the wait for the origin's response headers: past it →
 * `origin_timeout` (504); a connection failure → `origin_unreachable` (502). The body stream of a client
 * that aborts mid-upload errors, which aborts the upstream request with it.
 */
import { gatewayError, type GatewayError } from "../errors";
import { err, ok, type Result } from "../result";

/** What to send upstream. */
export interface OriginCall {
  readonly url: URL;
  readonly method: string;
  readonly headers: Headers;
  /** The client's body stream, a policy's replacement text, or null. Dropped for GET and HEAD. */
  readonly body: ReadableStream<Uint8Array> | string | null;
}

export interface OriginTarget {
  readonly timeoutMs: number;
  /** The fetch to use (an mTLS certificate binding's, a service binding's, or the global one). */
  readonly fetcher: (request: Request) => Promise<Response>;
}

/** The upstream URL: the origin's base path + `path` (starting with "/"), with `search` ("" or "?…"). */
export function upstreamUrl(origin: URL, path: string, search: string): URL {
  const url = new URL(origin.toString());
  const base = url.pathname.endsWith("/") ? url.pathname.slice(0, -1) : url.pathname;
  url.pathname = base + path;
  url.search = search;
  return url;
}

/** Sends `call`; resolves to the origin's response or a 502/504 error. */
export async function sendToOrigin(call: OriginCall, target: OriginTarget): Promise<Result<Response, GatewayError>> {
  const { url } = call;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, target.timeoutMs);
  const hasBody = call.method !== "GET" && call.method !== "HEAD" && call.body !== null;
  try {
    const upstream = new Request(url.toString(), {
      method: call.method,
      headers: call.headers,
      body: hasBody ? call.body : null,
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
