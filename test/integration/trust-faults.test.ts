/**
 * Trust-store faults through the whole Worker (workerd, real local KV): a JSON `null` store record is a
 * typed 503 that does not stick once a valid record is written; and versions flipped under load while reads
 * of `active` transiently fail are served without a 503 (the last good version is kept for the bound in
 * src/pki/trust-store.ts).
 */
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, root } from "../support/chains";
import { byteSequence, publish, scenario, uniqueVersion, viaTerminator } from "../support/gateway";

let r: BuiltCertificate, i: BuiltCertificate, valid: BuiltCertificate;

beforeAll(async () => {
  r = await root("Faults Root");
  i = await ca("Faults CA", r);
  valid = await leaf("Faults Client", i);
});

const storeRecord = () => JSON.stringify({ anchors: r.pem, intermediates: i.pem, crls: 0 });

describe("a JSON null store record", () => {
  it("answers 503 trust_store_unavailable, and the same version recovers once the record is valid", async () => {
    const version = uniqueVersion("null-record");
    await env.TRUST.put(`v/${version}/store/default`, "null");
    await env.TRUST.put("active", JSON.stringify({ version, activatedAt: new Date().toISOString() }));
    const s = scenario({ TRUST_REFRESH_SECONDS: "60" });
    const req = () => s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) });
    const first = await req();
    expect(first.status).toBe(503);
    expect(((await first.json()) as { code: string }).code).toBe("trust_store_unavailable");
    await env.TRUST.put(`v/${version}/store/default`, storeRecord()); // same version, `active` unchanged
    expect((await req()).status).toBe(200);
  });
});

describe("version flips under load with transient failures to read `active`", () => {
  it("2,000 requests, a flip every 100, one read of `active` in 5 failing: every request is answered 200", async () => {
    await publish(env.TRUST, uniqueVersion("flip"), { default: { anchors: [r], intermediates: [i] } });
    let activeReads = 0;
    // The real local KV, except that every 5th read of `active` fails like a transient KV error (alternately
    // an exception and an empty read, as seen while another process flips it).
    const flaky = new Proxy(env.TRUST, {
      get(target, prop) {
        if (prop !== "get") return Reflect.get(target, prop, target);
        return (key: string, options: unknown) => {
          if (key === "active" && ++activeReads % 5 === 0) {
            if (activeReads % 10 === 0) return Promise.reject(new Error("KV GET failed: 503"));
            return Promise.resolve(null);
          }
          return (target.get as (k: string, o: unknown) => Promise<unknown>)(key, options);
        };
      },
    });
    const s = scenario({ TRUST: flaky, TRUST_REFRESH_SECONDS: "0" });
    const statuses = new Map<number, number>();
    const started = Date.now();
    for (let n = 0; n < 2_000; n += 20) {
      if (n % 100 === 0) await publish(env.TRUST, uniqueVersion("flip"), { default: { anchors: [r], intermediates: [i] } });
      const batch = await Promise.all(Array.from({ length: 20 }, () =>
        Promise.resolve(s.request("/", { headers: viaTerminator({ "client-cert": byteSequence(valid) }) })).then((res: Response) => res.status)));
      for (const st of batch) statuses.set(st, (statuses.get(st) ?? 0) + 1);
    }
    console.log(JSON.stringify({ measured: "flip-under-load", requests: 2000, activeReads, failedActiveReads: Math.floor(activeReads / 5), statuses: Object.fromEntries(statuses), ms: Date.now() - started }));
    expect(Object.fromEntries(statuses)).toEqual({ 200: 2000 });
    expect(Math.floor(activeReads / 5)).toBeGreaterThanOrEqual(20); // the faults really happened
  });
});
