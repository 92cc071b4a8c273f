/**
 * The acceptance case of the CRL refresh, inside workerd with the real local KV: with only the trust folder
 * (root → issuing CA → client, and stores/default/refresh.json naming the issuing CA's CRL URL, published as
 * `kv sync` plans it) and the cron, a client the issuing CA revokes is denied after one scheduled run — no
 * manual `kv sync`. The CA's CRL server is a mocked fetch; every fetched CRL is verified before staging.
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { issueCrl, type BuiltCertificate } from "../../scripts/pki/builder";
import { readDeployed } from "../../scripts/kv/deployed";
import { planSync } from "../../scripts/kv/plan";
import { checkSource, loadSource, type SourceTree } from "../../scripts/kv/source";
import type { KvStore } from "../../scripts/kv/kv-store";
import { ca, leaf, root } from "../../test/support/chains";
import { byteSequence, scenario, viaTerminator } from "../../test/support/gateway";
import type { Env } from "../env";
import { runScheduled } from "./run";

const kv = (env as unknown as Env).TRUST;
const CRL_URL = "http://pki.test/issuing-ca.crl";
const MINUTE = 60_000;

let r: BuiltCertificate, issuing: BuiltCertificate, client: BuiltCertificate, other: BuiltCertificate, impostor: BuiltCertificate;

beforeAll(async () => {
  r = await root("Refresh Root");
  issuing = await ca("Refresh Issuing CA", r);
  client = await leaf("Refresh Client", issuing);
  other = await leaf("Refresh Other Client", issuing);
  impostor = await ca("Refresh Issuing CA", await root("Impostor Root")); // same name, another key
});

/** The trust folder, in memory, as `kv sync` reads one. */
function folder(files: Record<string, string>): SourceTree {
  const enc = new TextEncoder();
  const folders = new Set<string>();
  for (const path of Object.keys(files)) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join("/"));
  }
  return { files: Object.keys(files).sort().map((path) => ({ path, bytes: enc.encode(files[path]!) })), folders: [...folders].sort() };
}

/** `kv sync` against the real local KV: load and check the folder, plan against what is deployed, write, flip. */
async function sync(tree: SourceTree, now: Date): Promise<string> {
  const { content, problems } = await loadSource(tree);
  expect([...problems, ...(await checkSource(content, now))]).toEqual([]);
  const store: KvStore = {
    description: "workerd local KV",
    async getText(keys) {
      return new Map(await Promise.all(keys.map(async (k) => [k, await kv.get(k, "text")] as const)));
    },
    async getBytes(key) {
      const v = await kv.get(key, "arrayBuffer");
      return v === null ? null : new Uint8Array(v);
    },
    async list(prefix: string) {
      const out: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const page = await kv.list({ prefix, ...(cursor ? { cursor } : {}) });
        out.push(...page.keys.map((k) => k.name));
        if (page.list_complete) return out;
        cursor = page.cursor;
      }
    },
    async putMany(writes) {
      for (const w of writes) await kv.put(w.key, w.value);
    },
    async put(w) {
      await kv.put(w.key, w.value);
    },
  };
  const plan = await planSync(content, await readDeployed(store), { now });
  for (const w of plan.writes) await kv.put(w.key, w.value);
  await kv.put(plan.flip!.key, plan.flip!.value);
  return plan.version!;
}

describe("a client revoked on its issuing CA's CRL", () => {
  it("is denied after one cron run, with only the trust folder and the cron", async () => {
    const now = new Date();
    await sync(folder({
      "stores/default/anchors/root.pem": r.pem,
      "stores/default/intermediates/issuing.pem": issuing.pem,
      "stores/default/refresh.json": JSON.stringify({ refreshCrls: true, crlUrls: [CRL_URL] }),
    }), now);
    const gateway = scenario({ TRUST_REFRESH_SECONDS: "0", REVOCATION: "soft" });
    const ask = (c: BuiltCertificate) => gateway.request("/", { headers: viaTerminator({ "client-cert": byteSequence(c) }) });
    expect((await ask(client)).status).toBe(200);

    // The issuing CA revokes the client and publishes its CRL at the URL the folder names.
    const revoking = await issueCrl({
      issuer: issuing, thisUpdate: new Date(now.getTime() - MINUTE), nextUpdate: new Date(now.getTime() + 7 * 24 * 60 * MINUTE), crlNumber: 2,
      entries: [{ serialNumber: client.serialNumber, revocationDate: new Date(now.getTime() - MINUTE), reason: "keyCompromise" }],
    });
    const served: string[] = [];
    const fetchCrl = (async (input: RequestInfo | URL) => {
      const url = new Request(input).url;
      served.push(url);
      return url === CRL_URL ? new Response(revoking.der) : new Response("not found", { status: 404 });
    }) as typeof fetch;

    const report = await runScheduled(env as unknown as Env, { now: new Date(), fetch: fetchCrl });
    expect(served).toContain(CRL_URL);
    expect(report.refresh?.replacements).toMatchObject([{ store: "default", url: CRL_URL, issuer: "CN=Refresh Issuing CA", index: null, crlNumber: "2" }]);
    expect(report.refresh?.version).not.toBeNull();

    const denied = await ask(client);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe("certificate_revoked");
    expect((await ask(other)).status).toBe(200); // the CRL revokes only the client it lists
  });

  it("a CRL at the named URL that its store's CA did not sign is never staged", async () => {
    const now = new Date();
    const version = await sync(folder({
      "stores/default/anchors/root.pem": r.pem,
      "stores/default/intermediates/issuing.pem": issuing.pem,
      "stores/default/refresh.json": JSON.stringify({ refreshCrls: true, crlUrls: [CRL_URL] }),
    }), now);
    // Same issuer name, another key: the signature cannot verify with the store's issuing CA.
    const forged = await issueCrl({
      issuer: impostor, thisUpdate: new Date(now.getTime() - MINUTE), nextUpdate: new Date(now.getTime() + 7 * 24 * 60 * MINUTE),
      entries: [{ serialNumber: other.serialNumber, revocationDate: new Date(now.getTime() - MINUTE) }],
    });
    const report = await runScheduled(env as unknown as Env, { now: new Date(), fetch: (async () => new Response(forged.der)) as typeof fetch });
    expect(report.refresh?.version).toBeNull();
    expect(report.failures).toMatchObject([{ event: "crl_refresh_failed", url: CRL_URL, reason: "signature_invalid" }]);
    expect((JSON.parse((await kv.get("active", "text"))!) as { version: string }).version).toBe(version);
  });

  it("a bad EXPIRY_WARN_DAYS reaches the alert webhook, not only the log", async () => {
    const posts: unknown[] = [];
    const f = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      if (req.url === "https://alerts.test/hook") posts.push(JSON.parse(await req.text()));
      return new Response(null, { status: 204 });
    }) as typeof fetch;
    const e = { ...(env as unknown as Env), EXPIRY_WARN_DAYS: "7,bogus", ALERT_WEBHOOK_URL: "https://alerts.test/hook" };
    const report = await runScheduled(e, { now: new Date(), fetch: f });
    expect(report.webhookDelivered).toBe(true);
    expect(posts).toHaveLength(1);
    expect((posts[0] as { failures: Array<{ event: string; detail: string }> }).failures[0]).toMatchObject({ event: "configuration_invalid", detail: expect.stringContaining("EXPIRY_WARN_DAYS") });
  });
});
