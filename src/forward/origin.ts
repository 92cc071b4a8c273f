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
  /** The absolute upstream URL (upstreamUrl). */
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  /** The client's body stream, a policy's replacement text, or null. Dropped for GET and HEAD. */
  readonly body: ReadableStream<Uint8Array> | string | null;
  /** forward-request `timeout`: replaces the deployment's timeout for this call. */
  readonly timeoutMs?: number;
  /** forward-request `follow-redirects="true"`: follow the origin's redirects instead of passing them through. */
  readonly followRedirects?: boolean;
}

export interface OriginTarget {
  readonly timeoutMs: number;
  /**
   * The fetch to use (an mTLS certificate binding's, a service binding's, or the global one), called as
   * `fetch(url, init)`: the runtime builds the one upstream Request from it.
   */
  readonly fetcher: (url: string, init: RequestInit) => Promise<Response>;
}

/** Per origin URL object: its href up to the path, the base path without its trailing "/", and its fragment. */
const originParts = new WeakMap<URL, { readonly head: string; readonly base: string; readonly hash: string }>();

/**
 * The upstream URL: the origin's base path + `path` (starting with "/"), with `search` ("" or "?…"); the
 * origin's own query is replaced, its fragment kept (fetch never sends it).
 *
 * Built as a string: `path` and `search` come from a parsed URL (the request's, already in the form the URL
 * parser writes), so joining them is what the `pathname` / `search` setters on a copy of the origin produced,
 * without parsing the origin again on every request (src/forward/origin.test.ts checks both agree).
 */
export function upstreamUrl(origin: URL, path: string, search: string): string {
  let parts = originParts.get(origin);
  if (!parts) {
    const { pathname } = origin;
    const head = origin.href.slice(0, origin.href.indexOf(pathname, origin.protocol.length + origin.host.length));
    // The fragment as href writes it ("#" alone included): the first "#" of an href starts it.
    const hashAt = origin.href.indexOf("#");
    parts = { head, base: pathname.endsWith("/") ? pathname.slice(0, -1) : pathname, hash: hashAt < 0 ? "" : origin.href.slice(hashAt) };
    originParts.set(origin, parts);
  }
  const joined = parts.base + path;
  // As the setter does for http(s): a path always starts with "/".
  return parts.head + (joined.startsWith("/") ? joined : "/" + joined) + search + parts.hash;
}

/**
 * Sends `call`; resolves to the origin's response or a 502/504 error.
 *
 * The timeout races the fetch instead of aborting it through an AbortSignal: in an A/B run of the bench
 * forwarder, a signal on a workerd fetch() cost ≈ 60 µs of CPU per request against ≈ 17 µs for a timer
 * alone. When the timer wins, the gateway answers 504 and workerd cancels the still-pending subrequest with
 * the request's context — the origin sees its connection closed (test/e2e/faults.node.test.ts checks it on
 * real sockets).
 */
export async function sendToOrigin(call: OriginCall, target: OriginTarget): Promise<Result<Response, GatewayError>> {
  const { url } = call;
  const timeoutMs = call.timeoutMs ?? target.timeoutMs;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
  });
  const hasBody = call.method !== "GET" && call.method !== "HEAD" && call.body !== null;
  try {
    // fetch(url, init) rather than fetch(new Request(url, init)): workerd copies a Request passed to fetch
    // (its headers included), so building one here copied the headers once more (perf: Request::constructor
    // ≈ 2% of the warm request's CPU).
    const response = await Promise.race([target.fetcher(url, {
      method: call.method,
      headers: call.headers,
      body: hasBody ? call.body : null,
      redirect: call.followRedirects === true ? "follow" : "manual",
    }), timeout]);
    if (response === TIMED_OUT) {
      return err(gatewayError("origin_timeout", "The origin did not answer in time.", { timeoutMs },
        `origin ${originOf(url)} timed out after ${timeoutMs} ms`));
    }
    return ok(response);
  } catch (e) {
    return err(gatewayError("origin_unreachable", "The origin could not be reached.", undefined,
      `fetch ${originOf(url)} failed: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    clearTimeout(timer);
  }
}

const TIMED_OUT = Symbol("timed out");

/** scheme://host[:port] of an absolute URL, for the operator's log (never the path, query or credentials). */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(invalid URL)";
  }
}
