/**
 * KvStore over the local KV storage of `wrangler dev --persist-to DIR`, in process: wrangler's public
 * `getPlatformProxy` API gives the TRUST binding of wrangler.toml backed by DIR/v3 (wrangler's `--persist-to`
 * adds the `v3` level itself; getPlatformProxy does not, as its documentation notes), the storage
 * `wrangler dev` and `wrangler kv … --local --persist-to DIR` use.
 *
 * Why not the `wrangler kv` CLI (wrangler-kv.ts) for local storage too: every local `wrangler kv` command boots
 * its own workerd (~2 s of CPU each here), and a sync needs 5 + one per CRL of them; this needs one boot for the
 * whole run. The CLI adapter remains what `--remote` uses, and the tests run it against local storage as well.
 *
 * Contract: Node only. `open` boots the proxy (loaded lazily: `--remote` and `--help` never import it);
 * `close` must be called to stop workerd. Writes are sequential, in the order given.
 */
import { join, resolve } from "node:path";
import type { KvStore } from "./kv-store";
import type { KvWrite } from "../../src/kv-schema";
import { displayPath } from "../lib/cli";
import { KV_BINDING, PROJECT_ROOT } from "./wrangler-kv";
import { kvOnlyConfig } from "./kv-config";

export class LocalKv implements KvStore {
  private constructor(
    readonly description: string,
    private readonly kv: KVNamespace,
    private readonly dispose: () => Promise<void>,
  ) {}

  /** Opens the local storage under `persistTo` (wrangler's `--persist-to`). */
  static async open(persistTo: string, config: string = join(PROJECT_ROOT, "wrangler.toml")): Promise<LocalKv> {
    const { getPlatformProxy } = await import("wrangler");
    const proxy = await getPlatformProxy<Record<string, unknown>>({
      configPath: await kvOnlyConfig(config),
      persist: { path: join(resolve(persistTo), "v3") },
      // Only the KV binding matters: no .env / .dev.vars, no remote bindings.
      envFiles: [],
      remoteBindings: false,
    });
    const kv = proxy.env[KV_BINDING] as KVNamespace | undefined;
    if (!kv) {
      await proxy.dispose();
      throw new Error(`${config} has no KV namespace bound as ${KV_BINDING}`);
    }
    return new LocalKv(`local KV (${displayPath(persistTo)})`, kv, () => proxy.dispose());
  }

  async getText(keys: readonly string[]): Promise<Map<string, string | null>> {
    const values = await Promise.all(keys.map((k) => this.kv.get(k, "text")));
    return new Map(keys.map((k, i) => [k, values[i] ?? null] as const));
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    const value = await this.kv.get(key, "arrayBuffer");
    return value === null ? null : new Uint8Array(value);
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.kv.list(cursor === undefined ? { prefix } : { prefix, cursor });
      names.push(...page.keys.map((k) => k.name));
      if (page.list_complete) return names;
      cursor = page.cursor;
    }
  }

  async putMany(writes: readonly KvWrite[]): Promise<void> {
    for (const w of writes) await this.put(w);
  }

  async put(write: KvWrite): Promise<void> {
    await this.kv.put(write.key, write.value);
  }

  async close(): Promise<void> {
    await this.dispose();
  }
}
