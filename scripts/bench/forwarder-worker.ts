/**
 * The reference for `npm run bench`: a bare forwarding Worker — the least any Worker in front of the
 * origin costs (same URL joining and header copy as the gateway, no certificate work).
 */
interface Env {
  readonly ORIGIN_URL: string;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const target = new URL(env.ORIGIN_URL);
    target.pathname = url.pathname;
    target.search = url.search;
    return fetch(new Request(target.toString(), { method: request.method, headers: request.headers, body: request.body, redirect: "manual" }));
  },
};
