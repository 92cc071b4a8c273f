import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/**
 * Two projects: `workers` runs inside workerd with real local KV (everything the Worker runs);
 * `node` runs the Node-only tools (CLI, scripts) — files named `*.node.test.ts`.
 */
export default defineConfig({
  test: {
    reporters: ["default", "./test/summary-reporter.ts"],
    // Compiles policies/ into build/policies.json, which the Worker bundles (src/policy/bundle.ts).
    globalSetup: ["./test/global-setup.ts"],
    // Every request through the Worker writes its `request` log line; tests that check it capture it
    // themselves, so the run's output keeps only the other lines (warnings, errors, traces).
    onConsoleLog: (log) => !log.includes('"event":"request"'),
    projects: [
      {
        // wrangler.toml leaves the optional bindings commented out (a deploy needs real ids); the tests bind them here.
        plugins: [cloudflareTest({
          wrangler: { configPath: "./wrangler.toml" },
          miniflare: {
            kvNamespaces: ["TRUST", "POLICY_CACHE"],
            ratelimits: { SHORT_LIMITS: { namespace_id: "1001", simple: { limit: 5, period: 10 } } },
          },
        })],
        test: {
          name: "workers",
          include: ["src/**/*.test.ts", "test/**/*.test.ts", "scripts/**/*.test.ts"],
          exclude: ["**/*.node.test.ts", "**/node_modules/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          include: ["src/**/*.node.test.ts", "test/**/*.node.test.ts", "scripts/**/*.node.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
