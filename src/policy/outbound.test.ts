/**
 * send-request, send-one-way-request, retry and return-response response-variable-name inside workerd: the runner
 * with a recording outbound fetch (its answers scripted per test; nothing leaves the process), and the whole Worker
 * with the call going through an `mtls_certificates` binding (a stand-in Fetcher: miniflare cannot present a real
 * client certificate, so the TLS handshake itself is not tested here). The policy shapes are those of the APIM
 * corpus: a token call whose JSON answer feeds a header, a form body built by an expression, a replay on error.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, NOW, root } from "../../test/support/chains";
import { byteSequence, publish, recordingOrigin, scenario, uniqueVersion, viaTerminator } from "../../test/support/gateway";
import { at, bundle, header, problem, response, step, tpl } from "../../test/support/policies";
import { MAX_OUTBOUND_CALLS, MAX_OUTBOUND_RESPONSE_BYTES, MAX_RETRY_TOTAL_WAIT_SECONDS } from "../limits";
import { err, ok } from "../result";
import { policyBindingNames, prepareBundle, selectProgram } from "./bundle";
import { INSTANCE_TYPES } from "./expr/types";
import { forbiddenHost, OutboundResponse, retryWaitMs } from "./outbound";
import type { OutboundRequest, RetryStep, SendOneWayRequestStep, SendRequestStep } from "./outbound-schema";
import { runProgram } from "./run";
import type { PolicyBundle, SetHeader, Step } from "./schema";

interface Sent {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  certificateId: string | null;
}

type Answer = Response | "unreachable" | "hang" | "no-binding";

function request(o: { url?: string; method?: string; mode?: string; timeout?: string; headers?: SetHeader[]; body?: string; certificateId?: string } = {}): OutboundRequest {
  return {
    mode: tpl(o.mode ?? "new"),
    timeout: o.timeout === undefined ? null : tpl(o.timeout),
    url: o.url === undefined ? null : tpl(o.url),
    method: o.method === undefined ? null : tpl(o.method),
    headers: o.headers ?? [],
    body: o.body === undefined ? null : tpl(o.body),
    certificateId: o.certificateId ?? null,
  };
}

const send = (variable: string, r: OutboundRequest, ignoreError = false): SendRequestStep => ({ k: "send-request", at: at(), request: r, responseVariable: tpl(variable), ignoreError });
const oneWay = (r: OutboundRequest): SendOneWayRequestStep => ({ k: "send-one-way-request", at: at(), request: r });
const retry = (o: { condition: string; count: string; interval: string; delta?: string; maxInterval?: string; firstFastRetry?: string; forwardsOrigin?: boolean }, steps: Step[]): RetryStep => ({
  k: "retry", at: at(), condition: tpl(o.condition), count: tpl(o.count), interval: tpl(o.interval),
  delta: o.delta === undefined ? null : tpl(o.delta), maxInterval: o.maxInterval === undefined ? null : tpl(o.maxInterval),
  firstFastRetry: o.firstFastRetry === undefined ? null : tpl(o.firstFastRetry), steps, forwardsOrigin: o.forwardsOrigin ?? false,
});
const returnVariable = (name: string, headers: SetHeader[] = []): Step => ({ k: "return-response", at: at(), status: null, headers, body: null, responseVariable: name });

/** Runs `b` for one request with scripted outbound answers (in call order; the last repeats). */
async function run(b: PolicyBundle, o: { answers?: Answer[]; origin?: (n: number) => Response; body?: string; waitUntil?: (p: Promise<unknown>) => void } = {}) {
  const prepared = prepareBundle(b);
  if (!prepared.ok) throw new Error(prepared.error.join("\n"));
  const url = new URL("https://gw.test/orders?id=7");
  const sent: Sent[] = [];
  const originCalls: string[] = [];
  const originHeaders: Array<Record<string, string>> = [];
  const originUrls: string[] = [];
  const waits: number[] = [];
  const logs: Array<{ event: string; fields: Record<string, unknown> }> = [];
  const answers = o.answers ?? [Response.json({ access_token: "t0k3n" })];
  const result = await runProgram(prepared.value, selectProgram(prepared.value, url, o.body !== undefined ? "POST" : "GET"), {
    method: o.body !== undefined ? "POST" : "GET", url, headers: new Headers({ "x-client": "c1" }), body: o.body === undefined ? null : new Response(o.body).body,
    ipAddress: "192.0.2.1", requestId: "req-out", timestamp: NOW, region: "", verification: { status: "none" },
  }, {
    denyStatus: 403, trustStore: "default", validation: {}, defaultOrigin: new URL("https://origin.test"), isOwnedHeader: () => false,
  }, {
    validate: async () => ({ kind: "invalid", error: { code: "certificate_missing", detail: "none" } }),
    registered: async () => ok(new Map()),
    namedValue: async () => ok(null),
    identityHeaders: () => ({}),
    async fetchOrigin(call) {
      originHeaders.push(Object.fromEntries(call.headers));
      originUrls.push(call.url);
      originCalls.push(call.body === null ? "" : typeof call.body === "string" ? call.body : await new Response(call.body).text());
      return ok(o.origin ? o.origin(originCalls.length) : new Response("origin"));
    },
    log: (_level, event, fields) => logs.push({ event, fields }),
    async fetchOutbound(u, init, certificateId) {
      sent.push({ url: u, method: String(init.method), headers: Object.fromEntries(new Headers(init.headers)), body: init.body == null ? null : String(init.body), certificateId });
      const a = answers[Math.min(sent.length - 1, answers.length - 1)]!;
      if (a === "unreachable") return err({ code: "origin_unreachable", detail: "down" });
      if (a === "no-binding") return err({ code: "mtls_certificate_unavailable", detail: "no binding" });
      if (a === "hang") return new Promise(() => {});
      return ok(a.clone());
    },
    ...(o.waitUntil ? { waitUntil: o.waitUntil } : {}),
    sleep: async (ms) => {
      waits.push(ms);
    },
    random: () => 0.5,
  });
  return { result, sent, originCalls, originHeaders, originUrls, waits, logs };
}


/** The X-S header the origin got. */
const x200 = (x: { originHeaders: Array<Record<string, string>> }) => x.originHeaders[0]?.["x-s"];

const TOKEN = `@("Bearer " + (String)((IResponse)context.Variables["token"]).Body.As<JObject>()["access_token"])`;

describe("send-request", () => {
  it("sends the request it builds and stores an IResponse: StatusCode, Headers, Body.As<JObject>() through a cast", async () => {
    const x = await run(bundle({
      inbound: [
        send("token", request({
          url: "https://login.example.test/tenant/oauth2/token", method: "POST", timeout: "20",
          headers: [header("Content-Type", ["application/x-www-form-urlencoded"])],
          body: `@("grant_type=client_credentials&client_id=" + Uri.EscapeDataString("gate way") + "&order=" + context.Request.Url.Query.GetValueOrDefault("id", ""))`,
        })),
        step.setHeader("Authorization", [TOKEN]),
        step.setHeader("X-Token-Status", [`@(((IResponse)context.Variables["token"]).StatusCode.ToString() + " " + ((IResponse)context.Variables["token"]).Headers.GetValueOrDefault("content-type", "none"))`]),
      ],
    }), { answers: [Response.json({ access_token: "t0k3n" })] });
    expect(response(x).status).toBe(200);
    expect(x.sent).toEqual([{
      url: "https://login.example.test/tenant/oauth2/token", method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" }, body: "grant_type=client_credentials&client_id=gate%20way&order=7", certificateId: null,
    }]);
    const steps = x.result.record.steps.map((s) => s.note);
    expect(steps[0]).toBe("POST https://login.example.test/tenant/oauth2/token → 200 (token)");
    expect(x.result.record.traces[0]).toMatchObject({ source: "send-request", metadata: { method: "POST", status: "200", variable: "token" } });
  });

  it("the origin gets the token taken from the JSON answer, StatusReason, and Body.As<string>(true) leaves it for the next read", async () => {
    const x = await run(bundle({
      inbound: [
        send("token", request({ url: "https://login.example.test/t" })),
        step.setHeader("X-Raw", [`@(((IResponse)context.Variables["token"]).Body.As<string>(true).Length.ToString() + "|" + context.Variables.GetValueOrDefault<IResponse>("token").StatusReason)`]),
        step.setHeader("Authorization", [TOKEN]),
        // As<JObject>() without preserveContent took the content (APIM): a later read sees an empty body
        step.setHeader("X-After", [`@(((IResponse)context.Variables["token"]).Body.As<string>().Length.ToString())`]),
      ],
    }), { answers: [new Response(JSON.stringify({ access_token: "abc" }), { status: 201, statusText: "Created" })] });
    expect(await response(x).text()).toBe("origin");
    expect(x.sent[0]!.method).toBe("GET");
    expect(x.originHeaders[0]).toMatchObject({ authorization: "Bearer abc", "x-raw": "22|Created", "x-after": "0" });
  });

  it("mode=copy sends the client's method, headers and body to the new URL; set-header edits the copy only", async () => {
    const x = await run(bundle({
      inbound: [send("copy", request({ mode: "copy", url: "https://mirror.example.test/in", headers: [header("X-Mirror", ["1"])] }))],
    }), { body: "the client's body" });
    expect(x.sent[0]).toMatchObject({ url: "https://mirror.example.test/in", method: "POST", body: "the client's body", headers: { "x-client": "c1", "x-mirror": "1" } });
    expect(x.originCalls).toEqual(["the client's body"]);
  });

  it("mode=copy in outbound sends no body (APIM); the client's body went to the origin", async () => {
    const x = await run(bundle({ outbound: [send("copy", request({ mode: "copy", url: "https://mirror.example.test/out" }))] }), { body: "sent once" });
    expect(response(x).status).toBe(200);
    expect(x.originCalls).toEqual(["sent once"]);
    expect(x.sent[0]).toMatchObject({ method: "POST", body: null });
  });

  it("a failure runs on-error with LastError Source send-request; unhandled it is 502 send_request_failed", async () => {
    const onError = [step.setHeader("X-Error", ["@(context.LastError.Source + \":\" + context.LastError.Reason)"])];
    const x = await run(bundle({ inbound: [send("r", request({ url: "https://down.example.test/" }))], onError }), { answers: ["unreachable"] });
    const p = problem(x);
    expect(p.error.code).toBe("send_request_failed");
    expect(p.headers?.get("x-error")).toBe("send-request:unreachable");
    expect(x.originCalls).toHaveLength(0);
  });

  it("timeout: a callee that does not answer within `timeout` seconds is Reason timeout", async () => {
    const x = await run(bundle({ inbound: [send("r", request({ url: "https://slow.example.test/", timeout: "1" }))] }), { answers: ["hang"] });
    expect(problem(x).record.lastError).toMatchObject({ source: "send-request", reason: "timeout" });
  });

  it("timeout covers the body too: a callee that sends headers and then never finishes its body is Reason timeout", async () => {
    const trickle = () => new Response(new ReadableStream({ start: (c) => c.enqueue(new TextEncoder().encode("{")) }));
    const x = await run(bundle({
      inbound: [send("r", request({ url: "https://slow.example.test/", timeout: "1" })), step.setHeader("X-Body", ["@(((IResponse)context.Variables[\"r\"]).Body.As<string>())"])],
    }), { answers: [trickle()] });
    expect(problem(x).record.lastError).toMatchObject({ source: "send-request", reason: "timeout" });
    expect(x.originCalls).toHaveLength(0);
  });

  it("ignore-error=true: the variable is null and the request goes on", async () => {
    const x = await run(bundle({
      inbound: [
        send("r", request({ url: "https://down.example.test/" }), true),
        step.setHeader("X-Null", ["@((context.Variables[\"r\"] == null).ToString())"]),
      ],
    }), { answers: ["unreachable"] });
    expect(response(x).status).toBe(200);
    expect(x.result.record.steps[0]!.note).toBe("unreachable, ignored: r is null");
    expect(x.originHeaders[0]!["x-null"]).toBe("True");
  });

  it("refuses non-http(s) URLs from expressions, the gateway's own host and private literals (fail closed)", async () => {
    for (const [u, reason] of [["@(\"file:///etc/passwd\")", "invalid_url"], ["https://gw.test/loop", "url_forbidden"], ["http://10.1.2.3/", "url_forbidden"], ["http://[::1]:8080/", "url_forbidden"], ["http://localhost/", "url_forbidden"]] as const) {
      const x = await run(bundle({ inbound: [send("r", request({ url: u }))] }));
      expect(problem(x).record.lastError?.reason, u).toBe(reason);
      expect(x.sent, u).toHaveLength(0);
    }
    expect(forbiddenHost(new URL("http://172.16.0.1/"), "gw.test", false)).not.toBeNull();
    expect(forbiddenHost(new URL("http://172.32.0.1/"), "gw.test", false)).toBeNull();
    expect(forbiddenHost(new URL("http://127.0.0.1/"), "gw.test", true)).toBeNull();
    expect(forbiddenHost(new URL("https://GW.test:8443/"), "gw.test", true)).toBe("the gateway's own host");
  });

  it("refuses the own host with a trailing dot, WHATWG's other IPv4 spellings and loopback / private IPv4 inside IPv6 forms", () => {
    expect(forbiddenHost(new URL("https://gw.test./"), "gw.test", true)).toBe("the gateway's own host");
    expect(forbiddenHost(new URL("https://gw.test/"), "gw.test.", true)).toBe("the gateway's own host");
    for (const u of ["http://2130706433/", "http://0x7f.1/", "http://0177.0.0.1/", "http://127.1/", "http://[::127.0.0.1]/", "http://[::ffff:10.0.0.1]/",
      "http://[64:ff9b::10.0.0.1]/", "http://[64:ff9b::127.0.0.1]/", "http://[2002:a00:1::]/", "http://[2002:7f00:1::1]/"]) {
      expect(forbiddenHost(new URL(u), "gw.test", false), u).not.toBeNull();
    }
    for (const u of ["http://[64:ff9b::8.8.8.8]/", "http://[2002:808:808::]/", "http://[2001:db8::1]/"]) expect(forbiddenHost(new URL(u), "gw.test", false), u).toBeNull();
  });

  it(`more than ${MAX_OUTBOUND_CALLS} calls in one request: outbound_budget_exceeded (500), even with ignore-error`, async () => {
    const calls = Array.from({ length: MAX_OUTBOUND_CALLS + 1 }, () => send("r", request({ url: "https://api.example.test/" }), true));
    const x = await run(bundle({ inbound: calls }), { answers: [new Response("ok")] });
    const p = problem(x);
    expect(p.error.code).toBe("outbound_budget_exceeded");
    expect(x.sent).toHaveLength(MAX_OUTBOUND_CALLS);
    expect(p.record.lastError).toMatchObject({ source: "send-request", reason: "outbound_budget_exceeded" });
  });

  it("a timeout from an expression above the cap waits the cap (the call is made, no budget error); a missing mtls binding is answered 503 directly", async () => {
    const x = await run(bundle({ inbound: [send("r", request({ url: "https://api.example.test/", timeout: "@(\"120\")" })), step.setHeader("X-S", [`@(((IResponse)context.Variables["r"]).StatusCode.ToString())`])] }), { answers: [new Response("ok")] });
    expect(x.sent).toHaveLength(1);
    expect(x200(x)).toBe("200");
    const y = await run(bundle({ inbound: [send("r", request({ url: "https://api.example.test/", certificateId: "API_CERT" }))], onError: [step.setStatus("418")] }), { answers: ["no-binding"] });
    expect(problem(y).error.code).toBe("mtls_certificate_unavailable");
    expect(y.sent[0]!.certificateId).toBe("API_CERT");
  });

  it(`an answer over ${MAX_OUTBOUND_RESPONSE_BYTES} bytes is outbound_budget_exceeded when the program reads it; unread, its size does not matter`, async () => {
    const big = () => new Response(new Uint8Array(MAX_OUTBOUND_RESPONSE_BYTES + 1));
    const reads = await run(bundle({ inbound: [send("r", request({ url: "https://big.example.test/" })), step.setVariable("n", `@(((IResponse)context.Variables["r"]).Body.As<string>().Length)`)] }), { answers: [big()] });
    expect(problem(reads).error.code).toBe("outbound_budget_exceeded");
    const unread = await run(bundle({ inbound: [send("r", request({ url: "https://big.example.test/" })), step.setHeader("X-S", [`@(((IResponse)context.Variables["r"]).StatusCode.ToString())`])] }), { answers: [big()] });
    expect(x200(unread)).toBe("200");
  });

  it("the response variable answers every IResponse member the checker accepts", () => {
    const r = new OutboundResponse({ status: 202, reason: "Accepted", headers: new Headers({ a: "1" }), body: { text: "{}", consumed: false } }, new Uint8Array());
    for (const [name, m] of INSTANCE_TYPES.get("IResponse")!.members) {
      expect(m.kind === "prop" ? r.get(name) : r.call(name, []), name).not.toBeUndefined();
    }
    expect(r.get("StatusCode")).toBe(202);
  });
});

describe("return-response response-variable-name", () => {
  it("answers with the stored response (status, headers, body) plus its own set-header — a replay on error", async () => {
    const x = await run(bundle({
      inbound: [step.checkHeader("X-Never", "401", "no", "true")],
      onError: [
        send("replay", request({ mode: "copy", url: "https://fallback.example.test/" })),
        returnVariable("replay", [header("X-Replayed", ["true"])]),
      ],
    }), { answers: [new Response("from the fallback", { status: 203, headers: { "content-type": "text/plain", "content-length": "17", "x-fallback": "1" } })] });
    const res = response(x);
    expect([res.status, res.headers.get("x-fallback"), res.headers.get("x-replayed"), await res.text()]).toEqual([203, "1", "true", "from the fallback"]);
  });

  it("a variable without a response is a policy error", async () => {
    const x = await run(bundle({ inbound: [step.setVariable("replay", "text"), returnVariable("replay")] }));
    expect(problem(x).record.lastError).toMatchObject({ source: "return-response", reason: "invalid_variable" });
  });
});

describe("send-one-way-request", () => {
  it("does not wait for the callee: the answer comes while the call still hangs, via waitUntil", async () => {
    const pending: Array<Promise<unknown>> = [];
    const x = await run(bundle({ inbound: [oneWay(request({ url: "https://hooks.example.test/audit", method: "POST", body: "@(context.RequestId)" }))] }), {
      answers: ["hang"], waitUntil: (p) => pending.push(p),
    });
    expect(response(x).status).toBe(200);
    expect(x.sent).toEqual([{ url: "https://hooks.example.test/audit", method: "POST", headers: {}, body: "req-out", certificateId: null }]);
    expect(pending).toHaveLength(1);
  });

  it("a failure is logged and never changes the answer; a refused URL is not sent", async () => {
    const pending: Array<Promise<unknown>> = [];
    const x = await run(bundle({ inbound: [oneWay(request({ url: "https://hooks.example.test/" })), oneWay(request({ url: "http://192.168.1.1/" }))] }), {
      answers: ["unreachable"], waitUntil: (p) => pending.push(p),
    });
    await Promise.all(pending);
    expect(response(x).status).toBe(200);
    expect(x.sent).toHaveLength(1);
    expect(x.logs.filter((l) => l.event === "send_one_way_request_failed").map((l) => l.fields.reason).sort()).toEqual(["unreachable", "url_forbidden"]);
  });
});

describe("retry", () => {
  it("waits as APIM's reference says: fixed, linear, exponential capped, first-fast-retry", () => {
    const waits = (o: Parameters<typeof retryWaitMs>[1]) => [1, 2, 3, 4, 5].map((n) => retryWaitMs(n, o, 0.5));
    expect(waits({ interval: 2, delta: null, maxInterval: null, firstFastRetry: false })).toEqual([2000, 2000, 2000, 2000, 2000]);
    expect(waits({ interval: 2, delta: 3, maxInterval: null, firstFastRetry: false })).toEqual([2000, 5000, 8000, 11000, 14000]);
    // the reference's example: interval 10, delta 10, max-interval 100 → 10, 20, 40, 80, 100 s
    expect(waits({ interval: 10, delta: 10, maxInterval: 100, firstFastRetry: false })).toEqual([10000, 20000, 40000, 80000, 100000]);
    expect(waits({ interval: 1, delta: null, maxInterval: null, firstFastRetry: true })).toEqual([0, 1000, 1000, 1000, 1000]);
    // jitter: random(0.8·delta, 1.2·delta)
    expect(retryWaitMs(3, { interval: 10, delta: 10, maxInterval: 100, firstFastRetry: false }, 0)).toBe(34000);
  });

  it("retries send-request while the condition holds, at most count times, with the waits", async () => {
    const x = await run(bundle({
      inbound: [retry({ condition: `@(((IResponse)context.Variables["r"]).StatusCode >= 500)`, count: "3", interval: "1", delta: "1" }, [send("r", request({ url: "https://flaky.example.test/" }))])],
    }), { answers: [new Response("", { status: 503 }), new Response("", { status: 502 }), new Response("", { status: 200 })] });
    expect(response(x).status).toBe(200);
    expect(x.sent).toHaveLength(3);
    expect(x.waits).toEqual([1000, 2000]);
    expect(x.result.record.steps.find((s) => s.step === "retry")!.note).toBe("3 attempt(s): condition false");
  });

  it("stops after count retries (count + 1 attempts)", async () => {
    const x = await run(bundle({
      inbound: [retry({ condition: "true", count: "2", interval: "0" }, [send("r", request({ url: "https://flaky.example.test/" }))])],
    }), { answers: [new Response("", { status: 500 })] });
    expect(x.sent).toHaveLength(3);
    expect(x.waits).toEqual([]);
  });

  it(`the total wait is capped at ${MAX_RETRY_TOTAL_WAIT_SECONDS} s: retry stops and the last attempt stands`, async () => {
    const x = await run(bundle({
      inbound: [retry({ condition: "true", count: "50", interval: "10", delta: "10", maxInterval: "100" }, [send("r", request({ url: "https://flaky.example.test/" }))])],
    }), { answers: [new Response("", { status: 500 })] });
    expect(x.waits).toEqual([10000, 20000]);
    expect(x.sent).toHaveLength(3);
    expect(x.logs.some((l) => l.event === "retry_wait_exhausted")).toBe(true);
  });

  it("around forward-request: the origin is called per attempt, with the client's body each time, and not again after backend", async () => {
    const x = await run(bundle({
      backend: [retry({ condition: "@(context.Response.StatusCode == 503)", count: "3", interval: "0", forwardsOrigin: true }, [step.trace("t", "attempt")])],
    }), { body: "order 7", origin: (n) => new Response(`attempt ${n}`, { status: n < 2 ? 503 : 200 }) });
    const res = response(x);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("attempt 2");
    expect(x.originCalls).toEqual(["order 7", "order 7"]);
  });
});

describe("retry: a fail-over backend (the corpus' redundancy shape)", () => {
  it("the first attempt sees no response; after a 404 a choose inside retry switches the backend for the next attempt", async () => {
    const x = await run(bundle({
      inbound: [step.setBackend("https://primary.example.test/")],
      backend: [retry({ condition: "@(context.Response.StatusCode == 404)", count: "2", interval: "1", maxInterval: "10", delta: "1", firstFastRetry: "true", forwardsOrigin: true }, [
        step.choose([["@(context.Response != null && context.Response.StatusCode == 404)", [step.setBackend("https://secondary.example.test/")]]]),
      ])],
    }), { origin: (n) => new Response(`from ${n}`, { status: n === 1 ? 404 : 200 }) });
    expect(response(x).status).toBe(200);
    expect(x.originUrls).toEqual(["https://primary.example.test/orders?id=7", "https://secondary.example.test/orders?id=7"]);
    // first-fast-retry: the first retry does not wait
    expect(x.waits).toEqual([]);
    expect(x.result.record.traces.map((t) => t.message)).toEqual(["retry 1 of 2 after 0 ms"]);
  });
});

describe("through the Worker, with an mtls_certificates binding", () => {
  let r: BuiltCertificate, i: BuiltCertificate, alice: BuiltCertificate;
  beforeAll(async () => {
    r = await root("Outbound Root");
    i = await ca("Outbound CA", r);
    alice = await leaf("Outbound Alice", i, "p-256");
    await publish(env.TRUST, uniqueVersion("outbound"), { default: { anchors: [r], intermediates: [i] } });
  });

  it("send-request goes through the binding named by authentication-certificate; the origin gets the answer's value", async () => {
    const seen: Request[] = [];
    const entitlements = { fetcher: { fetch: async (input: RequestInfo, init?: RequestInit) => {
      seen.push(new Request(input, init));
      return Response.json({ tier: "gold" });
    } } as unknown as Fetcher };
    const s = scenario({ ENTITLEMENTS_CERT: entitlements.fetcher }, recordingOrigin(), bundle({
      inbound: [
        send("e", request({ url: "https://entitlements.example.test/v1/tier", certificateId: "ENTITLEMENTS_CERT", headers: [header("X-Client", ["@(context.Request.Certificate.Thumbprint)"])] })),
        step.setHeader("X-Tier", [`@((string)((IResponse)context.Variables["e"]).Body.As<JObject>()["tier"])`]),
      ],
    }));
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(alice) }) });
    expect(res.status).toBe(200);
    expect(s.origin.calls[0]!.headers["x-tier"]).toBe("gold");
    expect(seen.map((q) => q.url)).toEqual(["https://entitlements.example.test/v1/tier"]);
    expect(seen[0]!.headers.get("x-client")).toMatch(/^[0-9A-F]{40}$/);
  });

  it("the bundle names its send-request bindings (also inside retry), so `npm run check` reports a missing [[mtls_certificates]] before deploying", () => {
    const p = prepareBundle(bundle({ inbound: [retry({ condition: "false", count: "1", interval: "0" }, [send("e", request({ url: "https://a.example.test/", certificateId: "NESTED_CERT" }))])], onError: [oneWay(request({ url: "https://b.example.test/", certificateId: "HOOK_CERT" }))] }));
    if (!p.ok) throw new Error(p.error.join("\n"));
    expect([...policyBindingNames(p.value)].sort()).toEqual(["HOOK_CERT", "NESTED_CERT"]);
  });

  it("a certificate-id with no binding: 503 mtls_certificate_unavailable, nothing sent", async () => {
    const s = scenario({}, recordingOrigin(), bundle({ inbound: [send("e", request({ url: "https://entitlements.example.test/", certificateId: "MISSING_CERT" }))] }));
    const res = await s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(alice) }) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { code: string }).code).toBe("mtls_certificate_unavailable");
    expect(s.origin.calls).toHaveLength(0);
  });
});

