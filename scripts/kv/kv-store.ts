/**
 * The KV operations `kv sync` and `kv status` need, as one interface. Implementations: wrangler's CLI
 * (wrangler-kv.ts: a Cloudflare namespace with `--remote --namespace-id`, or local storage with the same
 * commands and `--local --persist-to`), wrangler's in-process local storage (local-kv.ts, what `--local` uses:
 * one workerd boot instead of one per command) and an in-memory map (below, for unit tests).
 *
 * Contract: reads return null for a missing key; `putMany` stages a batch (no order promised within it);
 * `put` is a single write, used for the `active` flip after `putMany` has succeeded.
 */
import type { KvWrite } from "../../src/kv-schema";

export interface KvStore {
  /** Where this store writes, for messages: "local KV (.dev/state)", "remote KV namespace <id>". */
  readonly description: string;
  /** UTF-8 values of `keys` (null when missing). */
  getText(keys: readonly string[]): Promise<Map<string, string | null>>;
  /** The exact bytes of an existing key (DER CRLs). */
  getBytes(key: string): Promise<Uint8Array | null>;
  /** Every key name starting with `prefix`. */
  list(prefix: string): Promise<string[]>;
  putMany(writes: readonly KvWrite[]): Promise<void>;
  put(write: KvWrite): Promise<void>;
  /** Releases what the store holds (local-kv.ts stops its workerd). */
  close?(): Promise<void>;
}

/** An in-memory KvStore that records each operation (tests assert that `active` is written last). */
export class MemoryKv implements KvStore {
  readonly description = "in-memory KV";
  readonly data = new Map<string, Uint8Array>();
  /** "putMany:<n>" / "put:<key>" in call order. */
  readonly operations: string[] = [];

  async getText(keys: readonly string[]): Promise<Map<string, string | null>> {
    return new Map(keys.map((k) => {
      const v = this.data.get(k);
      return [k, v === undefined ? null : new TextDecoder().decode(v)] as const;
    }));
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    return this.data.get(key) ?? null;
  }

  async list(prefix: string): Promise<string[]> {
    return [...this.data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async putMany(writes: readonly KvWrite[]): Promise<void> {
    this.operations.push(`putMany:${writes.length}`);
    for (const w of writes) this.data.set(w.key, toBytes(w.value));
  }

  async put(write: KvWrite): Promise<void> {
    this.operations.push(`put:${write.key}`);
    this.data.set(write.key, toBytes(write.value));
  }
}

function toBytes(value: string | Uint8Array): Uint8Array {
  return typeof value === "string" ? new TextEncoder().encode(value) : value;
}
