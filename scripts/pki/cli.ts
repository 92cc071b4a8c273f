/**
 * `pki` — test PKIs (`npm run -s pki -- …`): the demo one `npm start` uses, or a custom one. TEST MATERIAL ONLY:
 * private keys are written unencrypted.
 *
 * Contract: the process edge. Parses argv (every usage error collected, exit 2), reads the clock once,
 * generates through demo.ts / custom.ts and writes beside it a `kv/` folder that `npm run kv -- sync` publishes
 * as is. Exit status: 0 written, 1 refused (a non-empty folder without --force) or failed, 2 bad arguments.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { dispatch, displayPath, describeError, FLAG, folderProblem, integerOf, listOf, parseOptions, REPEATABLE, runMain, usageError, userPath, VALUE, valueOf, type Output } from "../lib/cli";
import {
  checkSan,
  CLIENT_NAME_PATTERN,
  CUSTOM_ALGORITHMS,
  DEFAULT_SPEC,
  EKU_NAMES,
  generateCustomPki,
  MAX_INTERMEDIATES,
  removeStaleFiles,
  type CustomAlgorithm,
  type CustomPkiSpec,
  type SanTemplate,
} from "./custom";
import { generateDemoPki, REGISTERED_CLIENT_ID } from "./demo";

const MAIN_USAGE = `Usage: pki <command> [options]

Test PKIs (TEST MATERIAL ONLY: private keys are written unencrypted).

Commands:
  demo --out DIR [--force]     the demo PKI \`npm start\` uses
  custom --out DIR [options]   root → intermediates → clients, with keys, CRLs and a manifest
  help [COMMAND]

Both write DIR/kv, a folder \`npm run kv -- sync DIR/kv\` publishes as is.
Exit status: 0 written, 1 refused (non-empty DIR without --force) or failed, 2 bad arguments.`;

const DEMO_USAGE = `Usage: pki demo --out DIR [--force]

Writes the demo PKI (scripts/pki/demo.ts): a root CA, a trusted DEV issuing CA and its clients (valid,
unregistered, expired, not-yet-valid), an untrusted TST issuing CA under another root and its client,
chains, curl header files, manifest.json, and DIR/kv: store "default" (anchor: root, intermediate: DEV)
with the valid client registered as "${REGISTERED_CLIENT_ID}".

Options:
  --out DIR    output folder (required)
  --force      write into a non-empty folder (overwrites the files it writes)
  -h, --help   this help`;

const CUSTOM_USAGE = `Usage: pki custom --out DIR [--force] [--algorithm ALG] [--days N] [--intermediates N]
                  [--clients NAME,…] [--san TYPE:VALUE,…]… [--eku NAME,…] [--crl] [--revoke NAME,…]

Writes root → intermediate(s) → clients: PEM certificates with PKCS#8 keys, chains, CRLs signed by each CA
(listing the revoked clients' serials in their issuing CA's CRL), manifest.json, and DIR/kv (store
"default": the root as anchor, the intermediates, the CRLs; every client registered under its name).

Options:
  --out DIR            output folder (required)
  --force              write into a non-empty folder (overwrites its files, drops stale ones from DIR/kv)
  --algorithm ALG      ${CUSTOM_ALGORITHMS.join(" | ")} for every key (default ${DEFAULT_SPEC.algorithm})
  --days N             client validity in days (default ${DEFAULT_SPEC.days}); intermediates get 2×N, the root 4×N
  --intermediates N    CAs between the root and the clients, 0–${MAX_INTERMEDIATES} (default ${DEFAULT_SPEC.intermediates})
  --clients NAME,…     client names (default "${DEFAULT_SPEC.clients.join(",")}"): letters, digits, . _ -
  --san TYPE:VALUE,…   subjectAltNames of every client, TYPE dns | email | uri | ip; "{name}" is replaced
                       by the client name; repeatable (default dns:{name}.certgate.test)
  --eku NAME,…         extended key usages (default clientAuth): dotted OIDs or
                       ${EKU_NAMES.slice(0, 4).join(", ")},
                       ${EKU_NAMES.slice(4).join(", ")}
  --crl                write a CRL per CA (thisUpdate now − 1 h, nextUpdate now + 30 days)
  --revoke NAME,…      list these clients in their issuing CA's CRL (implies --crl)
  -h, --help           this help`;

const USAGE = { main: MAIN_USAGE, demo: DEMO_USAGE, custom: CUSTOM_USAGE } as const;
type Topic = keyof typeof USAGE;

const DEMO_OPTIONS = { out: VALUE, force: FLAG };
const CUSTOM_OPTIONS = {
  out: VALUE, force: FLAG, algorithm: VALUE, days: VALUE, intermediates: VALUE,
  clients: REPEATABLE, san: REPEATABLE, eku: REPEATABLE, crl: FLAG, revoke: REPEATABLE,
};

/** The custom spec the options describe, or every usage error. */
export function customSpecOf(argv: readonly string[]): { out: string; force: boolean; spec: CustomPkiSpec } | { help: true } | { errors: string[] } {
  const args = parseOptions(argv, CUSTOM_OPTIONS);
  if (args.help) return { help: true };
  const errors = [...args.errors];
  const out = valueOf(args, "out");
  if (out === undefined && !args.errors.some((e) => e.startsWith("--out"))) errors.push("--out DIR is required");
  for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)}`);

  const algorithm = valueOf(args, "algorithm") ?? DEFAULT_SPEC.algorithm;
  if (!(CUSTOM_ALGORITHMS as readonly string[]).includes(algorithm)) errors.push(`--algorithm: "${algorithm}" is not one of ${CUSTOM_ALGORITHMS.join(", ")}`);
  const number = (name: string, min: number, max: number, fallback: number) => {
    const text = valueOf(args, name);
    if (text === undefined) return fallback;
    const n = integerOf(text, name, min, max);
    if (typeof n === "string") {
      errors.push(n);
      return fallback;
    }
    return n;
  };
  const days = number("days", 1, 36_500, DEFAULT_SPEC.days);
  const intermediates = number("intermediates", 0, MAX_INTERMEDIATES, DEFAULT_SPEC.intermediates);

  const clients = args.values.has("clients") ? listOf(args, "clients") : [...DEFAULT_SPEC.clients];
  if (clients.length === 0) errors.push("--clients: no client name given");
  for (const name of clients) {
    if (!CLIENT_NAME_PATTERN.test(name)) errors.push(`--clients: "${name}" is not a client name (1–63 of letters, digits, . _ -, starting with a letter or digit)`);
  }
  for (const name of new Set(clients.filter((n, i) => clients.indexOf(n) !== i))) errors.push(`--clients: "${name}" is given twice`);

  const sans: SanTemplate[] = [];
  for (const item of listOf(args, "san")) {
    const colon = item.indexOf(":");
    const type = colon === -1 ? "" : item.slice(0, colon).toLowerCase();
    if (type !== "dns" && type !== "email" && type !== "uri" && type !== "ip") {
      errors.push(`--san: "${item}" is not TYPE:VALUE with TYPE dns, email, uri or ip`);
      continue;
    }
    const san: SanTemplate = { type, value: item.slice(colon + 1) };
    const wrong = san.value === "" ? `--san: "${item}" has no value` : checkSan(san);
    if (wrong) errors.push(wrong.startsWith("--san") ? wrong : `--san: ${wrong}`);
    else sans.push(san);
  }

  const eku = args.values.has("eku") ? listOf(args, "eku") : [...DEFAULT_SPEC.eku];
  for (const e of eku) {
    if (!(EKU_NAMES as readonly string[]).includes(e) && !/^[0-2](\.(0|[1-9]\d*))+$/.test(e)) {
      errors.push(`--eku: "${e}" is not one of ${EKU_NAMES.join(", ")} or a dotted OID`);
    }
  }

  const revoke = listOf(args, "revoke");
  for (const name of revoke) if (!clients.includes(name)) errors.push(`--revoke: "${name}" is not one of the clients (${clients.join(", ")})`);

  if (errors.length > 0) return { errors };
  return {
    out: out!,
    force: args.flags.has("force"),
    spec: {
      algorithm: algorithm as CustomAlgorithm,
      days,
      intermediates,
      clients,
      sans: args.values.has("san") ? sans : DEFAULT_SPEC.sans,
      eku,
      crl: args.flags.has("crl") || revoke.length > 0,
      revoke: [...new Set(revoke)],
    },
  };
}

/** Writes DIR/kv for the demo PKI: the same content scripts/kv/seed-local.ts seeds. */
function writeDemoKvFolder(dir: string, manifest: Awaited<ReturnType<typeof generateDemoPki>>): void {
  const root = resolve(dir);
  const written = new Set<string>();
  const copy = (from: string, to: string) => {
    const full = join(root, "kv", to);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, readFileSync(join(root, from)));
    written.add(full);
  };
  copy(manifest.cas.root.cert, "stores/default/anchors/root.pem");
  copy(manifest.cas.dev.cert, "stores/default/intermediates/dev.pem");
  copy(manifest.clients.valid.cert, `registered/${REGISTERED_CLIENT_ID}.pem`);
  removeStaleFiles(join(root, "kv"), written);
}

async function main(argv: readonly string[], output: Output): Promise<number> {
  const failed = (topic: Topic, e: unknown) => {
    output.err(`pki ${topic}: ${describeError(e)}`);
    return 1;
  };
  const d = dispatch(argv, ["demo", "custom"] as const);
  if (d.kind === "error") return usageError(output, "pki", [d.message]);
  if (d.kind === "help") {
    output.out(USAGE[d.topic]);
    return 0;
  }
  const rest = d.rest;
  switch (d.command) {
    case "demo": {
      const args = parseOptions(rest, DEMO_OPTIONS);
      if (args.help) {
        output.out(DEMO_USAGE);
        return 0;
      }
      const errors = [...args.errors];
      const out = valueOf(args, "out");
      if (out === undefined && !errors.some((e) => e.startsWith("--out"))) errors.push("--out DIR is required");
      for (const operand of args.operands) errors.push(`unexpected argument ${JSON.stringify(operand)}`);
      const outProblem = out === undefined ? null : folderProblem(userPath(out));
      if (outProblem) errors.push(`--out ${out}: ${outProblem}`);
      if (errors.length > 0) return usageError(output, "pki demo", errors);
      try {
        const started = performance.now();
        const dir = userPath(out!);
        const manifest = await generateDemoPki(dir, { force: args.flags.has("force") });
        writeDemoKvFolder(dir, manifest);
        output.out(`demo PKI written to ${displayPath(dir)} in ${Math.round(performance.now() - started)} ms (see manifest.json)`);
        output.out(`publish it: npm run kv -- sync ${displayPath(join(dir, "kv"))} --local`);
        return 0;
      } catch (e) {
        return failed("demo", e);
      }
    }
    case "custom": {
      const parsed = customSpecOf(rest);
      if ("help" in parsed) {
        output.out(CUSTOM_USAGE);
        return 0;
      }
      if ("errors" in parsed) return usageError(output, "pki custom", parsed.errors);
      const outProblem = folderProblem(userPath(parsed.out));
      if (outProblem) return usageError(output, "pki custom", [`--out ${parsed.out}: ${outProblem}`]);
      try {
        const started = performance.now();
        const dir = userPath(parsed.out);
        const m = await generateCustomPki(dir, parsed.spec, { force: parsed.force, now: new Date() });
        const revoked = m.clients.filter((c) => c.revoked).length;
        output.out(
          `custom PKI written to ${displayPath(dir)} in ${Math.round(performance.now() - started)} ms: ${m.algorithm}, root + ` +
          `${m.cas.length - 1} intermediate(s), ${m.clients.length} client(s)` +
          `${parsed.spec.crl ? `, CRLs (${revoked} revoked)` : ""}; see manifest.json`,
        );
        output.out(`publish it: npm run kv -- sync ${displayPath(join(dir, m.kv))} --local`);
        return 0;
      } catch (e) {
        return failed("custom", e);
      }
    }
  }
}

// Imported by tests for customSpecOf; run only as the entry point.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) runMain("pki", main);
