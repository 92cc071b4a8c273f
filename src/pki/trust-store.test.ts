/**
 * The trust store's fault handling against a scripted KV: malformed records are typed 503s naming the exact
 * key, no failed load is remembered (thrown or returned), and a transient failure to re-read `active` keeps
 * the last good version for the documented bound, then fails closed.
 */
import { beforeAll, describe, expect, it, vi } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, crl, root } from "../../test/support/chains";
import * as logModule from "../log";
import { ACTIVE_GRACE_MS, TrustStore } from "./trust-store";

/** A KV with scripted values: a string/bytes value, or a function (throw, hang, vary per call). */
type Value = string | Uint8Array | null | (() => string | Uint8Array | null | Promise<never>);
function scriptedKv(values: Map<string, Value>) {
  const reads: string[] = [];
  const kv = {
    async get(key: string, options: { type: "text" | "arrayBuffer" }) {
      reads.push(key);
      let v = values.get(key) ?? null;
      if (typeof v === "function") v = await v();
      if (v === null) return null;
      if (options.type === "arrayBuffer") return typeof v === "string" ? new TextEncoder().encode(v).buffer : v.slice().buffer;
      return typeof v === "string" ? v : new TextDecoder().decode(v);
    },
  };
  return { kv: kv as unknown as KVNamespace, reads };
}

let r: BuiltCertificate, i: BuiltCertificate, goodCrl: Uint8Array;
const active = (version: string) => JSON.stringify({ version, activatedAt: "2026-01-01T00:00:00Z" });
const storeRecord = (crls = 0) => JSON.stringify({ anchors: r.pem, intermediates: i.pem, crls });

beforeAll(async () => {
  r = await root("TS Root");
  i = await ca("TS CA", r);
  goodCrl = (await crl({ issuer: r })).der;
});

describe("malformed records are typed 503s, never a throw", () => {
  const shapes: Array<[string, string]> = [
    ["null", "null"], ["a number", "42"], ["a string", '"anchors"'], ["an array", "[]"], ["true", "true"],
    ["anchors not a string", '{"anchors": 5}'], ["crls not a count", `{"anchors": ${JSON.stringify("x")}, "crls": "2"}`],
  ];
  for (const [what, text] of shapes) {
    it(`a store record that is ${what}`, async () => {
      const { kv } = scriptedKv(new Map([["active", active("v1")], ["v/v1/store/default", text]]));
      const m = await new TrustStore(kv, { refreshMs: 0, kvTimeoutMs: 1000 }).material("default");
      expect(m.ok).toBe(false);
      if (!m.ok) {
        expect(m.error.code).toBe("trust_store_unavailable");
        expect(m.error.internal).toContain("v/v1/store/default");
      }
    });
  }

  for (const text of ["null", "[]", '"v1"', "{}"]) {
    it(`an active record ${text}`, async () => {
      const { kv } = scriptedKv(new Map([["active", text]]));
      const m = await new TrustStore(kv, { refreshMs: 0, kvTimeoutMs: 1000 }).material("default");
      expect(m.ok ? null : m.error.code).toBe("trust_store_unavailable");
    });
  }

  it("registered and values records of the wrong shape", async () => {
    for (const text of ["null", "[1]", "7"]) {
      const { kv } = scriptedKv(new Map([["active", active("v1")], ["v/v1/registered", text], ["v/v1/values", text]]));
      const s = new TrustStore(kv, { refreshMs: 0, kvTimeoutMs: 1000 });
      const reg = await s.registered();
      const vals = await s.values();
      expect(reg.ok ? null : reg.error.code, text).toBe("trust_store_unavailable");
      expect(vals.ok ? null : vals.error.code, text).toBe("trust_store_unavailable");
    }
  });
});

describe("no failed load is remembered", () => {
  it("a null record, then a valid one for the same version: the next request loads it", async () => {
    const values = new Map<string, Value>([["active", active("v1")], ["v/v1/store/default", "null"]]);
    const s = new TrustStore(scriptedKv(values).kv, { refreshMs: 60_000, kvTimeoutMs: 1000 });
    expect((await s.material("default")).ok).toBe(false);
    values.set("v/v1/store/default", storeRecord());
    expect((await s.material("default")).ok).toBe(true);
  });

  it("a load that throws is a typed 503 and is dropped", async () => {
    let fail = true;
    const values = new Map<string, Value>([["active", active("v1")], ["v/v1/store/default", () => {
      if (fail) throw new Error("storage exploded");
      return storeRecord();
    }]]);
    // A KV whose get throws synchronously inside the store's own code path (not via the timeout race).
    const s = new TrustStore(scriptedKv(values).kv, { refreshMs: 60_000, kvTimeoutMs: 1000 });
    const first = await s.material("default");
    expect(first.ok ? null : first.error.code).toBe("trust_store_unavailable");
    fail = false;
    expect((await s.material("default")).ok).toBe(true);
  });

  it("a bug thrown from inside a load (not from KV) is still a typed 503, then retried", async () => {
    const values = new Map<string, Value>([["active", active("v1")], ["v/v1/store/default", storeRecord()]]);
    const s = new TrustStore(scriptedKv(values).kv, { refreshMs: 60_000, kvTimeoutMs: 1000 });
    const spy = vi.spyOn(s as unknown as { load: () => Promise<unknown> }, "load").mockImplementationOnce(() => Promise.reject(new TypeError("Cannot read properties of null (reading 'anchors')")));
    const first = await s.material("default");
    expect(first.ok ? null : first.error.internal).toContain("Cannot read properties of null");
    spy.mockRestore();
    expect((await s.material("default")).ok).toBe(true);
  });
});

describe("a cut-short CRL names its own key", () => {
  it("the log detail names v/<version>/crl/<store>/<i>, not the store record", async () => {
    const truncated = goodCrl.slice(0, goodCrl.length - 20);
    const values = new Map<string, Value>([
      ["active", active("v1")], ["v/v1/store/default", storeRecord(2)], ["v/v1/crl/default/0", goodCrl], ["v/v1/crl/default/1", truncated],
    ]);
    const m = await new TrustStore(scriptedKv(values).kv, { refreshMs: 0, kvTimeoutMs: 1000 }).material("default");
    expect(m.ok).toBe(false);
    if (!m.ok) expect(m.error.internal).toMatch(/^KV key `v\/v1\/crl\/default\/1`/);
  });
});

describe("a transient failure to re-read `active`", () => {
  const REFRESH = 15_000;
  function setup() {
    let t = 1_000_000;
    const values = new Map<string, Value>([["active", active("v1")], ["v/v1/store/default", storeRecord()]]);
    const s = new TrustStore(scriptedKv(values).kv, { refreshMs: REFRESH, kvTimeoutMs: 50, now: () => t });
    return { s, values, advance: (ms: number) => (t += ms) };
  }

  for (const [what, value] of [
    ["a KV error", () => { throw new Error("KV GET failed: 500"); }],
    ["an empty read", null],
    ["a garbled read", "{\"vers"],
    ["a timeout", () => new Promise<never>(() => {})],
  ] as Array<[string, Value]>) {
    it(`${what}: serves the last good version until refresh + ${ACTIVE_GRACE_MS / 1000} s after it was confirmed, then 503`, async () => {
      const warn = vi.spyOn(logModule, "log");
      const { s, values, advance } = setup();
      expect((await s.material("default")).ok).toBe(true);
      values.set("active", value);
      advance(REFRESH); // due for a re-read, which fails
      expect((await s.material("default")).ok).toBe(true);
      expect(warn.mock.calls.some(([, event]) => event === "trust_active_unreadable")).toBe(true);
      advance(ACTIVE_GRACE_MS - 1); // REFRESH + GRACE - 1 after the confirmation: still served
      expect((await s.material("default")).ok).toBe(true);
      advance(1); // the bound: fail closed
      const closed = await s.material("default");
      expect(closed.ok ? null : closed.error.code).toBe("trust_store_unavailable");
      values.set("active", active("v1")); // KV recovers: served again at once
      expect((await s.material("default")).ok).toBe(true);
      warn.mockRestore();
    });
  }

  it("never before a first successful read", async () => {
    const { kv } = scriptedKv(new Map([["active", null]]));
    const m = await new TrustStore(kv, { refreshMs: REFRESH, kvTimeoutMs: 50 }).material("default");
    expect(m.ok ? null : m.error.code).toBe("trust_store_unavailable");
  });
});

describe("a new version whose store cannot be loaded yet", () => {
  it("keeps the previous version's store within the bound after it was last served, then 503; the new one once readable", async () => {
    let t = 5_000_000;
    const values = new Map<string, Value>([["active", active("v1")], ["v/v1/store/default", storeRecord()]]);
    const s = new TrustStore(scriptedKv(values).kv, { refreshMs: 15_000, kvTimeoutMs: 50, now: () => t });
    const v1 = await s.material("default");
    expect(v1.ok && v1.value.version).toBe("v1/default");
    values.set("active", active("v2")); // flipped; v/v2/store/default not visible yet
    t += 15_000;
    const stale = await s.material("default");
    expect(stale.ok && stale.value.version).toBe("v1/default");
    t += ACTIVE_GRACE_MS; // 15 s + grace after v1 was last served (at the previous call)
    const closed = await s.material("default");
    expect(closed.ok ? null : closed.error.internal).toContain("v/v2/store/default");
    values.set("v/v2/store/default", storeRecord());
    const v2 = await s.material("default");
    expect(v2.ok && v2.value.version).toBe("v2/default");
  });
});
