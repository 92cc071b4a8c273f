/**
 * Checks an Envoy bootstrap against Envoy's own v3 API protos, strictly — the check docs/deploy/envoy.md reports
 * (Envoy itself is not packaged in Debian nor on npm, so `envoy --mode validate` cannot run on certgate's machines).
 *
 * Not part of the build and not a dependency: the protos come from the npm package @grpc/grpc-js-xds (it ships
 * Envoy's API under deps/envoy-api, with xds, protoc-gen-validate and googleapis), installed in a folder of your
 * choice. Usage:
 *   mkdir /tmp/envoy-protos && (cd /tmp/envoy-protos && npm init -y && npm install @grpc/grpc-js-xds@1.14.1)
 *   python3 -c 'import re,json,yaml,sys; t=open("docs/deploy/envoy.md").read(); \
 *     print(json.dumps(yaml.safe_load(re.search(r"```yaml\n(.*?)```", t, re.S).group(1))))' > /tmp/bootstrap.json
 *   node scripts/dev/envoy-schema-check.mjs /tmp/envoy-protos /tmp/bootstrap.json
 * What it checks: every key is a field of its message (proto or JSON name), not deprecated; enums name a value;
 * each Any's "@type" resolves and its content is checked as that type; scalars have their type; every route's
 * cluster is defined. What it does not: protoc-gen-validate rules (ranges, required fields) and anything Envoy
 * checks at load time (files, DNS). Exit 0 clean, 1 with one line per problem.
 */
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [dir, file] = process.argv.slice(2);
if (!dir || !file) {
  console.error("usage: node scripts/dev/envoy-schema-check.mjs PROTOS_DIR BOOTSTRAP.json");
  process.exit(2);
}
const protobuf = createRequire(join(dir, "package.json"))("protobufjs");
const base = join(dir, "node_modules/@grpc/grpc-js-xds/deps");
const roots = [`${base}/envoy-api`, `${base}/xds`, `${base}/protoc-gen-validate`, `${base}/googleapis`, join(dir, "node_modules/protobufjs")];
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const r of roots) { try { readFileSync(`${r}/${target}`); return `${r}/${target}`; } catch {} }
  return protobuf.util.path.resolve(origin, target);
};
const files = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
];
root.loadSync(files, { keepCase: true });
root.resolveAll();
const errors = [];
const WRAPPERS = /^google\.protobuf\.(Bool|U?Int(32|64)|Double|Float|String|Bytes)Value$/;
function check(type, value, path) {
  const full = type.fullName.slice(1);
  if (WRAPPERS.test(full)) return typeof value !== "object" || errors.push(`${path}: expected a scalar for ${full}`);
  if (full === "google.protobuf.Duration") return /^-?\d+(\.\d+)?s$/.test(value) || errors.push(`${path}: not a Duration`);
  if (full === "google.protobuf.Struct" || full === "google.protobuf.Value") return;
  if (full === "google.protobuf.Any") {
    const url = value["@type"];
    const t = typeof url === "string" ? root.lookupType(url.replace(/^type\.googleapis\.com\//, "")) : null;
    if (!t) return errors.push(`${path}: Any without a known @type`);
    const { ["@type"]: _, ...rest } = value;
    return check(t, rest, `${path}<${t.name}>`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return errors.push(`${path}: expected an object for ${full}`);
  for (const [key, v] of Object.entries(value)) {
    const field = type.fields[key] ?? Object.values(type.fields).find((f) => f.options?.json_name === key);
    if (!field) { errors.push(`${path}.${key}: no such field in ${full}`); continue; }
    if (field.options?.deprecated) errors.push(`${path}.${key}: deprecated in ${full}`);
    const items = field.repeated ? (Array.isArray(v) ? v : (errors.push(`${path}.${key}: expected a list`), [])) : [v];
    items.forEach((item, i) => {
      const p = field.repeated ? `${path}.${key}[${i}]` : `${path}.${key}`;
      const rt = field.resolvedType;
      if (rt instanceof protobuf.Enum) { if (!(item in rt.values)) errors.push(`${p}: ${item} is not a value of ${rt.fullName}`); }
      else if (rt instanceof protobuf.Type) check(rt, item, p);
      else if (field.type === "bool" && typeof item !== "boolean") errors.push(`${p}: expected a boolean`);
      else if (field.type === "string" && typeof item !== "string") errors.push(`${p}: expected a string`);
      else if (/int|fixed/.test(field.type) && !Number.isInteger(Number(item))) errors.push(`${p}: expected an integer`);
    });
  }
}
const bootstrap = JSON.parse(readFileSync(file, "utf8"));
check(root.lookupType("envoy.config.bootstrap.v3.Bootstrap"), bootstrap, "Bootstrap");
// The route's cluster must exist.
const clusters = new Set((bootstrap.static_resources?.clusters ?? []).map((c) => c.name));
JSON.stringify(bootstrap, (k, v) => { if (k === "cluster" && typeof v === "string" && !clusters.has(v)) errors.push(`route cluster ${v} is not defined`); return v; });
console.log(errors.length === 0 ? "OK: every field, enum and @type is in Envoy's v3 API; route clusters defined" : errors.join("\n"));
process.exitCode = errors.length === 0 ? 0 : 1;
