/**
 * A wrangler config with only what the kv tools need: the project's name, compatibility date and its KV
 * namespaces (same bindings, same ids, so local storage is where `wrangler dev --persist-to` reads it). Built from
 * the project's wrangler.toml for each run, because the full config also declares the Worker's own Durable Object
 * classes, which wrangler's `kv` commands and getPlatformProxy cannot serve outside the Worker and warn about on
 * the tools' output.
 *
 * Contract: reads the config once per process (wrangler's own reader), writes one small JSON file into a
 * temporary folder removed when the process exits.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const made = new Map<string, Promise<string>>();

/** The path of a KV-only config derived from `config` (made once per process). */
export function kvOnlyConfig(config: string): Promise<string> {
  const key = resolve(config);
  let p = made.get(key);
  if (!p) {
    p = (async () => {
      const { experimental_readRawConfig } = await import("wrangler");
      const raw = experimental_readRawConfig({ config: key }).rawConfig as {
        name?: string; compatibility_date?: string; kv_namespaces?: unknown[];
      };
      const dir = mkdtempSync(join(tmpdir(), "certgate-kv-config-"));
      process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
      const file = join(dir, "wrangler.json");
      writeFileSync(file, JSON.stringify({
        name: raw.name ?? "certgate",
        compatibility_date: raw.compatibility_date ?? "2026-01-01",
        kv_namespaces: raw.kv_namespaces ?? [],
      }));
      return file;
    })();
    made.set(key, p);
  }
  return p;
}
