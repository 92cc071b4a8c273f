/**
 * The references for `npm run bench`: a bare forwarding Worker — the least any Worker in front of the
 * origin costs (same URL joining as the gateway, no certificate work) — and, with FORWARD_EDITS set, the
 * same forwarder making the gateway's header edits with static values: it drops the headers the gateway
 * strips and adds headers of the same names and sizes as the gateway's identity and X-Forwarded-* headers.
 * In workerd every header a Worker adds costs CPU on the way out, so this second reference shows what the
 * gateway's output costs by itself, apart from the work of deciding it.
 */
interface Env {
  readonly ORIGIN_URL: string;
  /** JSON: { drop: string[], set: Record<string, string> } */
  readonly FORWARD_EDITS?: string;
}

let edits: { drop: string[]; set: Record<string, string> } | null | undefined;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const target = new URL(env.ORIGIN_URL);
    target.pathname = url.pathname;
    target.search = url.search;
    const upstream = new Request(target.toString(), { method: request.method, headers: request.headers, body: request.body, redirect: "manual" });
    edits ??= env.FORWARD_EDITS ? JSON.parse(env.FORWARD_EDITS) : null;
    if (edits) {
      for (const name of edits.drop) upstream.headers.delete(name);
      for (const name in edits.set) upstream.headers.set(name, edits.set[name]!);
    }
    return fetch(upstream);
  },
};
