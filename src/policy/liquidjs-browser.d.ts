// liquidjs's ESM browser build (no Node built-ins; see liquid.ts) has the package's own types.
declare module "liquidjs/dist/liquid.browser.mjs" {
  export * from "liquidjs";
}
