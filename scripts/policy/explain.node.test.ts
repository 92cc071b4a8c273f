/**
 * `policy explain` in Node: the policy cases (test/policies/<case>/cases.json) through the CLI in-process —
 * argument parsing, file loading, the compiler, the runner — with the test PKI the workerd harness
 * (test/integration/policy-cases.test.ts) uses; both check the same expectations, so the Worker and explain
 * agree. Then the CLI's own behaviour: output, exit codes, errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runProgram, runTsx } from "../../test/support/cli-process";
import { emitBundle } from "../compile-policies/emit";
import { DEMO_POLICIES, DEMO_REQUESTS, DEMO_VARS } from "../dev/start";
import { generateDemoPki } from "../pki/demo";
import { caseFolders, caseInputs, caseKind, DEFAULT_OUT_DIR } from "./build-cases";
import { CASE_REGISTERED, CASE_STORES, type CasePki } from "./case-pki";
import { CASE_VARS, checkDecision, expandFacts, type BuiltCase, type PolicyCase } from "./cases";
import type { Decision } from "./explain";
import { compileForExplain } from "./inputs";
import { main } from "./main";

const CASES = "test/policies";
const OUT = DEFAULT_OUT_DIR;
const PKI = join(OUT, "pki");
const pki = JSON.parse(readFileSync(join(OUT, "pki.json"), "utf8")) as CasePki;
const scratch = mkdtempSync(join(tmpdir(), "certgate-explain-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the CLI in-process: exit status, stdout and stderr lines. */
async function run(argv: readonly string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

let chainFiles = 0;
/** The explain command line of one case request (every option in --name=value form). */
function caseArgv(dir: string, c: PolicyCase): string[] {
  const inputs = caseInputs(dir, OUT);
  const r = c.request;
  const a: string[] = ["explain", "--json"];
  a.push(inputs.source.kind === "folder" ? `--policies=${inputs.source.dir}` : `--policy=${inputs.source.file}`);
  for (const v of inputs.values) a.push(`--values=${v}`);
  for (const [k, v] of inputs.runtime) a.push(`--named-value=${k}=${v}`);
  for (const n of CASE_STORES.default!.anchors) a.push(`--ca=${join(PKI, `${n}.pem`)}`);
  for (const n of CASE_STORES.default!.intermediates) a.push(`--untrusted=${join(PKI, `${n}.pem`)}`);
  for (const [id, n] of Object.entries(CASE_REGISTERED)) a.push(`--registered=${id}=${join(PKI, `${n}.pem`)}`);
  for (const store of Object.keys(CASE_STORES)) if (store !== "default") a.push(`--store=${store}=${join(PKI, `store-${store}.pem`)}`);
  for (const [k, v] of Object.entries({ ...CASE_VARS, ...c.vars })) a.push(`--var=${k}=${v}`);
  a.push(`--method=${r.method ?? "GET"}`, `--url=${expandFacts(r.url, pki.facts)}`);
  for (const [k, v] of Object.entries(r.headers ?? {})) a.push(`--header=${k}: ${expandFacts(v, pki.facts)}`);
  if (r.body !== undefined) a.push(`--body=${r.body}`);
  if (r.cert) a.push(`--cert=${join(PKI, `${r.cert}.pem`)}`);
  if (r.cert && r.chain?.length) {
    const file = join(scratch, `chain-${chainFiles++}.pem`);
    writeFileSync(file, r.chain.map((n) => readFileSync(join(PKI, `${n}.pem`), "utf8")).join(""));
    a.push(`--chain=${file}`);
  }
  return a;
}

describe("policy cases through explain (test/policies/<case>/cases.json)", () => {
  const folders = caseFolders(CASES);
  it("has cases", () => expect(folders.length).toBeGreaterThan(15));

  for (const name of folders) {
    const dir = join(CASES, name);
    const cases = JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")) as PolicyCase[];
    describe(name, () => {
      it("compiles to the bundle the Worker harness runs", () => {
        const built = JSON.parse(readFileSync(join(OUT, "cases", `${name}.json`), "utf8")) as BuiltCase | { errors: string };
        if ("errors" in built) expect.fail(built.errors);
        expect(built.kind).toBe(caseKind(dir));
        // explain compiles the sources itself; the same inputs give the same bytes (the compiler is deterministic).
        const inputs = caseInputs(dir, OUT);
        const again = compileForExplain(inputs.source, inputs.values, inputs.runtime);
        if (!again.ok) expect.fail(again.error.diagnostics);
        expect(emitBundle(again.value.bundle)).toBe(emitBundle(built.bundle as never));
      });
      for (const c of cases) {
        it(c.name, async () => {
          const r = await run(caseArgv(dir, c));
          expect(r.err.filter((l) => !/warning/.test(l)), r.err.join("\n")).toEqual([]);
          expect(r.code).toBe(0);
          expect(r.out).toHaveLength(1);
          const d = JSON.parse(r.out[0]!) as Decision;
          expect(checkDecision(d, c.expect, pki.facts), JSON.stringify(d, null, 2)).toEqual([]);
        });
      }
    });
  }
});

/** The test PKI as explain options: its default store, registered certificates and the partners store. */
const TRUST = [
  `--ca=${join(PKI, "root.pem")}`, `--untrusted=${join(PKI, "dev.pem")}`,
  `--registered=valid-client=${join(PKI, "valid.pem")}`, `--store=partners=${join(PKI, "store-partners.pem")}`,
];
const AT = "--at=" + new Date(Date.now() + 60_000).toISOString();

describe("checkDecision", () => {
  it("lists every difference", () => {
    const observed = { effect: "respond", status: 500, headers: { "x-a": "1" }, body: "{\"code\":\"x\"}", origin: null, mtlsCertificate: null, response: null, trace: null } as const;
    expect(checkDecision(observed, { effect: "forward", status: 0, headers: { "x-a": "2", "x-b": null }, code: "y", trace: ["t"] }, {})).toEqual([
      "effect: expected forward, got respond",
      "status: expected 0, got 500",
      "response header x-a: expected \"2\", got \"1\"",
      "problem code: expected y, got \"x\" (body \"{\\\"code\\\":\\\"x\\\"}\")",
      "trace: not observable (send X-Certgate-Trace-Secret with a TRACE_SECRET var to see it in the Worker)",
    ]);
  });
});

describe("policy explain, the command", () => {
  it("prints the operation, scopes, steps with positions, LastError and the decision", async () => {
    const r = await run(["explain", "--policies=test/policies/on-error/policies", ...TRUST, "--var=REQUIRE_CERTIFICATE=false", AT,
      "--url=https://api.test/acc/validate", `--cert=${join(PKI, "expired.pem")}`]);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    const text = r.out.join("\n");
    expect(text).toContain("policies     test/policies/on-error/policies/ (5 operations, 7 files)");
    expect(text).toContain("certificate  CN=Expired Client, OU=DEV, O=certgate Test, C=US");
    expect(text).toContain("not valid against the deployment's store: certificate_expired");
    expect(text).toContain("operation    acc/validate — GET /validate of API acc (\"Accounts\", path \"/acc\")");
    expect(text).toContain("scopes       operation:acc/validate, global");
    expect(text).toMatch(/\n {2}validate-client-certificate\[1\] +test\/policies\/on-error\/policies\/apis\/acc\/validate\.xml:3:5 +failed: certificate_expired\n/);
    expect(text).toMatch(/\non-error\n {2}set-header\[1\] +test\/policies\/on-error\/policies\/global\.xml:4:5 +X-Error-Source override\n/);
    expect(text).toContain("on-error ran for: Source validate-client-certificate, Reason certificate_expired, Section inbound");
    expect(text).toContain("decision     RESPOND 401 (problem+json); the origin is not called");
    expect(text).toContain("    x-error-reason: certificate_expired");
    expect(text).toContain('      "code": "certificate_expired"');
  });

  it("reports what a forward sends, the mTLS binding, and outbound on the synthetic origin response", async () => {
    const r = await run(["explain", "--policy=test/policies/authentication-certificate/policy.xml", ...TRUST, AT,
      "--url=https://api.test/orders?x=1", `--cert=${join(PKI, "valid.pem")}`, "--header=X-Request: 7"]);
    expect(r.code).toBe(0);
    const text = r.out.join("\n");
    expect(text).toContain("operation    none matched: the global scope alone (program *)");
    // No --var ORIGIN_URL: explain's default, wrangler.toml's.
    expect(text).toContain("decision     FORWARD to https://origin.example.com/orders?x=1 through the mtls_certificates binding BACKEND_CERT");
    expect(text).toContain("    x-request: 7");
    expect(text).toContain("    x-client-cert-subject: CN=Valid Client,OU=DEV,O=certgate Test,C=US");
    expect(text).toContain("  the client then gets (outbound on the synthetic origin response 200): 200");
  });

  it("--origin-status sets the synthetic origin response outbound sees", async () => {
    const r = await run(["explain", "--json", "--policy=test/policies/set-status/policy.xml", ...TRUST, "--var=REQUIRE_CERTIFICATE=false", "--origin-status=503", "--url=/"]);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.out[0]!) as Decision;
    expect([d.effect, d.origin, d.response?.status, d.response?.headers["x-origin-status"]]).toEqual(["forward", "https://origin.example.com/", 503, "503"]);
  });

  it("--counter-used is the stub counter of rate-limit-by-key: at the limit, 429 with Retry-After; below it, forwarded", async () => {
    const args = ["explain", "--json", "--policy=test/policies/rate-limit-by-key/policy.xml", ...TRUST, "--url=/", `--cert=${join(PKI, "valid.pem")}`];
    const over = JSON.parse((await run([...args, "--counter-used=5"])).out[0]!) as Decision;
    expect([over.effect, over.status, JSON.parse(over.body ?? "{}").code]).toEqual(["respond", 429, "rate_limit_exceeded"]);
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    const under = JSON.parse((await run([...args, "--counter-used=3"])).out[0]!) as Decision;
    expect([under.effect, under.response?.headers["x-ratelimit-remaining"]]).toEqual(["forward", "1"]);
    expect((await run([...args, "--counter-used=lots"])).err.join("\n")).toContain("--counter-used: \"lots\" is not a whole number");
  });

  it("--cache is the stub value cache of cache-lookup-value: a given entry is a hit, and the text output says STUB", async () => {
    const args = ["explain", "--policy=test/policies/cache-value/policy.xml", ...TRUST, "--url=/", `--cert=${join(PKI, "valid.pem")}`];
    const miss = JSON.parse((await run([...args, "--json"])).out[0]!) as Decision;
    expect(miss.headers["x-entitlements"]).toBe("none");
    // The step's note names the key it looked up: "entitlements-<thumbprint>: miss (…)".
    const thumbprint = miss.steps.map((s) => s.note).join(" ").match(/entitlements-([0-9A-F]{40}): miss/)?.[1];
    expect(thumbprint).toBeDefined();
    const hit = await run([...args, `--cache=entitlements-${thumbprint}=gold=1`]);
    expect(hit.out.join("\n")).toContain("x-entitlements: gold=1");
    expect(hit.out.join("\n")).toContain("value cache  STUB: 1 entry given with --cache");
  });

  it("--send-response is the stub answer of send-request: no call is made, the variable holds the stub, the text output says STUB", async () => {
    const args = ["explain", "--policy=test/policies/outbound-shapes/policy.xml", ...TRUST, "--url=/", `--cert=${join(PKI, "valid.pem")}`];
    const token = JSON.parse((await run([...args, "--json", '--send-response=tokenResponse=200:{"access_token":"abc"}'])).out[0]!) as Decision;
    expect([token.effect, token.headers.authorization, token.headers["x-status"]]).toEqual(["forward", "Bearer abc", "200"]);
    expect(token.steps.find((s) => s.step === "send-one-way-request")?.note).toBe("POST https://hooks.example.test/audit (not awaited)");
    // No stub for the token call: unreachable, on-error replays — with a stub for that one, its answer is returned.
    const replayed = JSON.parse((await run([...args, "--json", "--send-response=replay=203:from the fallback"])).out[0]!) as Decision;
    expect([replayed.effect, replayed.status, replayed.body, replayed.headers["x-replayed"], replayed.lastError?.reason]).toEqual(["respond", 203, "from the fallback", "true", "unreachable"]);
    const none = JSON.parse((await run([...args, "--json"])).out[0]!) as Decision;
    expect([none.status, JSON.parse(none.body ?? "{}").code]).toEqual([502, "send_request_failed"]);
    const text = await run([...args, '--send-response=tokenResponse=200:{"access_token":"abc"}']);
    expect(text.out.join("\n")).toContain("outbound     STUB: no call is made; send-request answers come from --send-response (1 given)");
    expect((await run([...args, "--send-response=x=abc"])).err.join("\n")).toContain("--send-response x: \"abc\" is not STATUS[:BODY]");
  });

  it("--managed-identity-token is the stub token of authentication-managed-identity: no call, no secrets; without it, 503 not configured", async () => {
    const args = ["explain", "--policy=test/policies/managed-identity-shapes/policy.xml", ...TRUST, "--url=/", `--cert=${join(PKI, "valid.pem")}`];
    const stub = JSON.parse((await run([...args, "--json", "--managed-identity-token=stub-tok", '--send-response=secret=200:{"value":"v1"}'])).out[0]!) as Decision;
    expect([stub.effect, stub.headers.authorization, stub.headers["x-secret"]]).toEqual(["forward", "Bearer stub-tok", "v1"]);
    expect(stub.steps.filter((s) => s.step === "authentication-managed-identity").map((s) => s.note)).toEqual([
      "https://storage.azure.com/: STUB token (explain)", "https://vault.azure.net: STUB token (explain)", "https://management.azure.com/: STUB token (explain)",
    ]);
    const none = JSON.parse((await run([...args, "--json"])).out[0]!) as Decision;
    expect([none.status, JSON.parse(none.body ?? "{}").code]).toEqual([503, "managed_identity_not_configured"]);
    const text = await run([...args, "--managed-identity-token=stub-tok", '--send-response=secret=200:{"value":"v1"}']);
    expect(text.out.join("\n")).toContain("Entra ID     STUB: every token is the --managed-identity-token value");
  });

  it("rate-limit per subscription and rate-limiting-binding read the --counter-used stub", async () => {
    const args = ["explain", "--json", "--policy=test/policies/subscription-limits/policy.xml", ...TRUST, "--url=/", `--cert=${join(PKI, "valid.pem")}`];
    const under = JSON.parse((await run(args)).out[0]!) as Decision;
    expect(under.effect).toBe("forward");
    expect(under.steps.filter((s) => s.step === "rate-limit-by-key").map((s) => s.note)).toEqual(expect.arrayContaining([expect.stringMatching(/admitted by SHORT_LIMITS \(approximate\)/)]));
    const over = JSON.parse((await run([...args, "--counter-used=5"])).out[0]!) as Decision;
    expect([over.effect, over.status, (JSON.parse(over.body!) as { code: string }).code]).toEqual(["respond", 429, "rate_limit_exceeded"]);
  });

  it("--cached-response is the stub response cache of cache-lookup: a hit answers with it, and the text output says STUB", async () => {
    const args = ["explain", "--policy=test/policies/response-cache/policy.xml", ...TRUST, "--url=/cars?version=2", `--cert=${join(PKI, "valid.pem")}`];
    const miss = JSON.parse((await run([...args, "--json"])).out[0]!) as Decision;
    expect(miss.effect).toBe("forward");
    expect(miss.steps.find((s) => s.step === "cache-lookup")?.note).toBe("miss (this client, internal)");
    const hit = JSON.parse((await run([...args, "--json", "--cached-response=from the cache"])).out[0]!) as Decision;
    expect([hit.effect, hit.status, hit.body]).toEqual(["respond", 200, "from the cache"]);
    const text = (await run([...args, "--cached-response=x"])).out.join("\n");
    expect(text).toContain("resp. cache  STUB: every lookup hits with a 200 of the --cached-response body");
    // Without a validated certificate the per-client lookup is skipped, never served.
    const anonymous = JSON.parse((await run(["explain", "--policy=test/policies/response-cache/policy.xml", ...TRUST, "--url=/", "--var=REQUIRE_CERTIFICATE=false", "--json", "--cached-response=x"])).out[0]!) as Decision;
    expect(anonymous.steps.find((s) => s.step === "cache-lookup")?.note).toBe("skipped: per-client cache and no validated certificate");
  });

  it("applies the REQUIRE_CERTIFICATE floor by default, as the Worker does, and says so", async () => {
    const r = await run(["explain", "--policy=test/policies/require-certificate-floor/policy.xml", ...TRUST, "--url=/"]);
    expect(r.code).toBe(0);
    expect(r.out.join("\n")).toContain("no policy ran: REQUIRE_CERTIFICATE is true and no certificate was presented.");
    const json = await run(["explain", "--json", "--policy=test/policies/require-certificate-floor/policy.xml", ...TRUST, "--url=/"]);
    const d = JSON.parse(json.out[0]!) as Decision;
    expect([d.effect, d.status, d.steps, d.operation]).toEqual(["respond", 403, [], null]);
    expect(Object.keys(d)).toEqual(["effect", "status", "headers", "body", "origin", "operation", "trace", "mtlsCertificate", "response", "steps", "lastError"]);
  });

  it("prints the compiler's errors with their positions and exits 2", async () => {
    const r = await run(["explain", "--policy=test/policies/unknown-element/policy.xml", ...TRUST, "--url=/"]);
    expect(r.code).toBe(2);
    expect(r.out).toEqual([]);
    expect(r.err[0]).toBe(`test/policies/unknown-element/${readFileSync("test/policies/unknown-element/errors.txt", "utf8").split("\n")[0]}`);
    expect(r.err.at(-1)).toMatch(/^policy explain: \d+ errors in the policies: nothing to run$/);
  });

  it("exits 2 on bad arguments, listing every problem", async () => {
    const r = await run(["explain", "--policies=a", "--policy=b", "--var=NOPE=1", "--var=DENY_STATUS", "--header=no colon", "--at=yesterday", "--origin-status=99", "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([
      "policy explain: unknown option --bogus",
      "policy explain: --policies and --policy exclude each other",
      "policy explain: --url URL is required (an absolute http(s) URL, or a path such as /hello)",
      "policy explain: --header \"no colon\": expected 'Name: value'",
      "policy explain: --at: \"yesterday\" is not an ISO 8601 time (e.g. 2026-06-01 or 2026-06-01T12:00:00Z)",
      "policy explain: --origin-status: \"99\" is not a status from 200 to 599",
      "policy explain: --var NOPE: not a certgate variable (docs/configuration.md lists them; named values go in --named-value)",
      "policy explain: --var \"DENY_STATUS\": expected NAME=VALUE (a Worker variable, docs/configuration.md)",
      "Run \"policy explain --help\" for usage.",
    ]);
    const typo = await run(["explain", ...TRUST, "--var=REVOCATON=strict", "--url=/"]);
    expect(typo.err[0]).toBe("policy explain: --var REVOCATON: not a certgate variable (did you mean REVOCATION?) (docs/configuration.md lists them; named values go in --named-value)");
    const bad = await run(["explain", ...TRUST, "--var=DENY_STATUS=999", "--url=/"]);
    expect([bad.code, bad.err]).toEqual([2, ["policy explain: --var: DENY_STATUS must be an integer from 400 to 499, not \"999\""]]);
    const files = await run(["explain", "--ca=/nonexistent/root.pem", "--cert=/nonexistent/leaf.pem", "--url=/"]);
    expect(files.code).toBe(2);
    expect(files.err).toEqual([
      "policy explain: /nonexistent/root.pem: cannot open: no such file or directory",
      "policy explain: /nonexistent/leaf.pem: cannot open: no such file or directory",
    ]);
    expect((await run(["explain", "--help"])).code).toBe(0);
    expect((await run([])).code).toBe(2);
  });

  it("without --ca and without the demo PKI, says how to create it", async () => {
    const r = await run(["explain", `--pki=${join(scratch, "no-pki")}`, "--url=/"]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toContain("Create it with `npm run pki:demo` (or `npm start`), or pass --ca ANCHORS.pem");
  });

  it("decides the npm start demo requests as the running demo answers them (its PKI, vars and policies)", async () => {
    const dir = join(scratch, "demo-pki");
    await generateDemoPki(dir);
    const certOf: Record<string, string> = {
      "valid.txt": "valid", "valid-url-pem.txt": "valid", "unregistered.txt": "unregistered", "expired.txt": "expired",
      "not-yet-valid.txt": "not-yet-valid", "untrusted.txt": "untrusted",
    };
    let checked = 0;
    for (const d of DEMO_REQUESTS) {
      // explain takes the certificate as given: a header from a peer that is not the terminator has no equivalent.
      if (!d.headerFiles.includes("terminator-secret.txt")) continue;
      const client = d.headerFiles.map((f) => certOf[f]).find((c) => c !== undefined);
      const argv = ["explain", "--json", `--pki=${dir}`, `--policies=${DEMO_POLICIES}`, `--var=REQUIRE_CERTIFICATE=${DEMO_VARS.REQUIRE_CERTIFICATE}`,
        `--method=${d.method}`, `--url=${d.path}`,
        ...(client ? [`--cert=${join(dir, "clients", `${client}.chain.pem`)}`] : []), ...(d.body ? [`--body=${d.body}`] : []),
        // The counter is a stub in explain: the calls made earlier in the list are given, not remembered.
        ...(d.priorCalls ? [`--counter-used=${d.priorCalls}`] : [])];
      const r = await run(argv);
      expect(r.code, d.title).toBe(0);
      const decision = JSON.parse(r.out[0]!) as Decision;
      const status = decision.effect === "forward" ? decision.response!.status : decision.status;
      expect(status, d.title).toBe(d.expect.status);
      if (d.expect.code) expect((JSON.parse(decision.body!) as { code: string }).code, d.title).toBe(d.expect.code);
      checked++;
    }
    expect(checked).toBe(DEMO_REQUESTS.length - 1);
  });

  it("runs as `npm run policy`: one JSON object on stdout, warnings on stderr, exit 0", async () => {
    const r = await runTsx("scripts/policy/main.ts", ["explain", "--json", "--policy=test/policies/warnings/policy.xml", ...TRUST, "--url=/x"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect((JSON.parse(r.stdout) as Decision).effect).toBeDefined();
    expect(r.stderr).toContain("warning:");
  });

  it("works right after npm ci: nothing it loads imports build/policies.json (it compiles in process)", async () => {
    // A resolve hook that refuses the built bundle, as a fresh clone (no build/) would.
    const hook = join(scratch, "no-build-hook.mjs");
    writeFileSync(hook, `export async function resolve(specifier, context, next) {
  if (specifier.endsWith("build/policies.json")) throw new Error("imported build/policies.json");
  return next(specifier, context);
}\n`);
    const register = join(scratch, "no-build.mjs");
    writeFileSync(register, `import { register } from "node:module";\nregister(${JSON.stringify(`file://${hook}`)});\n`);
    const r = await runProgram(process.execPath, ["--import", "tsx", "--import", register, "scripts/policy/main.ts",
      "explain", "--json", "--policy=test/policies/warnings/policy.xml", ...TRUST, "--url=/x"]);
    expect(r?.stderr).not.toContain("imported build/policies.json");
    expect(r?.code).toBe(0);
    expect((JSON.parse(r!.stdout) as Decision).effect).toBeDefined();
    // The hook does refuse the Worker's entry path, which does need the build.
    const worker = await runProgram(process.execPath, ["--import", "tsx", "--import", register, "-e", "await import('./src/app.ts')"]);
    expect(worker?.stderr).toContain("imported build/policies.json");
  });
});
