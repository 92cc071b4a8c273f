/**
 * The bundle built into the Worker: build/policies.json, compiled from policies/ by `npm run policies:build`,
 * which runs before `wrangler dev/deploy` ([build] in wrangler.toml), the tests (test/global-setup.ts) and
 * the npm scripts that need it.
 *
 * Contract: the only importer of build/policies.json (the Worker's entry path, src/app.ts). Kept out of
 * bundle.ts so that the checker and the explain CLI load without a build.
 */
import compiled from "../../build/policies.json";

/** The compiled bundle, unchecked: `prepareBundle` (bundle.ts) checks it once per isolate. */
export const DEFAULT_BUNDLE: unknown = compiled;
