/**
 * policy CLI — reading what explain needs from files: the policies (compiled here, by the Worker's compiler),
 * named values, the trust material and the request's certificates. The only file I/O of explain.
 *
 * Contract: every function returns a Result whose error is a list of messages for stderr (compiler
 * diagnostics already formatted), never throws for a missing or unusable file.
 *
 * Named values: a name declared secret (`{"secret": true}` in the folder's values.json or a --values file)
 * is resolved at run time, as the Worker resolves it from KV or a Worker secret: its `--named-value` is
 * handed to the runner. Every other `--named-value` is a compile-time value (the compiler's `--values`),
 * overriding values.json and the --values files.
 *
 * Trust material: without `--ca`, the demo PKI `npm start` uses (DIR = `.dev/pki`, `npm run pki:demo`):
 * its root as the anchor, its DEV issuing CA as a store intermediate and its valid client registered as
 * `valid-client`; --untrusted, --crl, --registered and --store add to it. With `--ca`, only what is given.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { describeCertificate } from "../../src/cert/model";
import type { ParsedCertificate } from "../../src/cert/parse";
import { prepareBundle, type PreparedBundle } from "../../src/policy/bundle";
import type { PolicyBundle } from "../../src/policy/schema";
import { prepareTrustMaterial, type TrustMaterial } from "../../src/pki/trust-material";
import type { RegisteredCertificate } from "../../src/pki/trust-store";
import { err, ok, type Result } from "../../src/result";
import { readCertificateFile, readCrlFile, type LoadedCertificate } from "../cert/files";
import { compilePolicies, compileSingleDocument } from "../compile-policies/compile";
import { readPolicyFiles } from "../compile-policies/main";
import { Diagnostics, formatDiagnostics, SourceFile, type Diagnostic } from "../compile-policies/source";
import { readValuesFile, type NamedValuesInput } from "../compile-policies/values";
import { REGISTERED_CLIENT_ID, type DemoManifest } from "../pki/demo";
import { reasonOf } from "../lib/cli";

/** Where the policies come from: a folder, or one document applied as the only scope. */
export type PolicySource = { readonly kind: "folder"; readonly dir: string } | { readonly kind: "document"; readonly file: string };

export interface CompiledPolicies {
  readonly bundle: PolicyBundle;
  readonly prepared: PreparedBundle;
  readonly warnings: readonly Diagnostic[];
  /** Prefix of the bundle's file names as the user gave them ("policies/"), for display. */
  readonly displayPrefix: string;
  /** Run-time named values (`--named-value` of names declared secret). */
  readonly runtimeValues: ReadonlyMap<string, string>;
  readonly fileCount: number;
}

/** What stopped compilation: messages for stderr (diagnostics formatted with their positions). */
export interface CompileFailure {
  readonly messages: readonly string[];
  /** Formatted compiler diagnostics, when the policies did not compile. */
  readonly diagnostics: string;
}

/** Reads a values file (values.json format); problems are formatted diagnostics. */
function readValues(file: string): Result<Map<string, { secret: boolean; value: string }>, CompileFailure> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    return err({ messages: [`cannot read ${file}: ${reasonOf(e)}`], diagnostics: "" });
  }
  const diags = new Diagnostics();
  const read = readValuesFile(new SourceFile(file, text), diags);
  if (diags.hasErrors) return err({ messages: [], diagnostics: formatDiagnostics(diags.list) });
  return ok(new Map([...read].map(([k, v]) => [k, v.value.kind === "text" ? { secret: false, value: v.value.value } : { secret: true, value: "" }])));
}

/** Names a policies folder's values.json declares secret (its errors are the compiler's to report). */
function declaredSecrets(files: ReadonlyMap<string, string>): Set<string> {
  const text = files.get("values.json");
  if (text === undefined) return new Set();
  const read = readValuesFile(new SourceFile("values.json", text), new Diagnostics());
  return new Set([...read].filter(([, v]) => v.value.kind === "secret").map(([k]) => k));
}

/**
 * Compiles the policies with the Worker's compiler and prepares the bundle as the Worker does. `values` are
 * --values files in order, `named` the --named-value pairs.
 */
export function compileForExplain(source: PolicySource, values: readonly string[], named: ReadonlyMap<string, string>): Result<CompiledPolicies, CompileFailure> {
  let files: Map<string, string>;
  if (source.kind === "folder") {
    if (!existsSync(source.dir) || !statSync(source.dir).isDirectory()) return err({ messages: [`${source.dir} is not a folder`], diagnostics: "" });
    try {
      files = readPolicyFiles(source.dir);
    } catch (e) {
      return err({ messages: [`cannot read ${source.dir}: ${reasonOf(e)}`], diagnostics: "" });
    }
  } else {
    try {
      files = new Map([[basename(source.file), readFileSync(source.file, "utf8")]]);
    } catch (e) {
      return err({ messages: [`cannot read ${source.file}: ${reasonOf(e)}`], diagnostics: "" });
    }
  }
  const input: Record<string, NamedValuesInput[string]> = {};
  const secrets = source.kind === "folder" ? declaredSecrets(files) : new Set<string>();
  for (const file of values) {
    const r = readValues(file);
    if (!r.ok) return r;
    for (const [name, v] of r.value) {
      if (v.secret) {
        secrets.add(name);
        input[name] = { secret: true };
      } else {
        input[name] = v.value;
      }
    }
  }
  const runtimeValues = new Map<string, string>();
  for (const [name, value] of named) {
    if (secrets.has(name)) runtimeValues.set(name, value);
    else input[name] = value;
  }
  const result = source.kind === "folder"
    ? compilePolicies(files, input)
    : compileSingleDocument([...files.values()][0]!, [...files.keys()][0]!, input);
  const displayPrefix = source.kind === "folder" ? source.dir.replace(/[/\\]+$/, "") + "/" : dirname(source.file) === "." ? "" : dirname(source.file) + "/";
  if ("errors" in result) {
    const n = result.errors.length;
    return err({
      messages: [`${n} error${n === 1 ? "" : "s"} in the policies: nothing to run`],
      diagnostics: formatDiagnostics([...result.errors, ...result.warnings], displayPrefix),
    });
  }
  // The Worker checks the bundle's JSON, not the compiler's objects: round-trip it, as build/policies.json does.
  const bundle = JSON.parse(JSON.stringify(result.bundle)) as PolicyBundle;
  const prepared = prepareBundle(bundle);
  if (!prepared.ok) return err({ messages: ["the compiled bundle does not load (a compiler bug):", ...prepared.error], diagnostics: "" });
  return ok({ bundle, prepared: prepared.value, warnings: result.warnings, displayPrefix, runtimeValues, fileCount: files.size });
}

/** The deployment store and the others, the registered certificates, and where they came from. */
export interface LoadedTrust {
  /** Trust material by store name; the deployment's is under `storeName`. */
  readonly stores: ReadonlyMap<string, TrustMaterial>;
  readonly registered: ReadonlyMap<string, RegisteredCertificate>;
  /** One line per source, for the readable output. */
  readonly description: readonly string[];
}

export interface TrustFiles {
  readonly anchors: readonly string[];
  readonly untrusted: readonly string[];
  readonly crls: readonly string[];
  readonly registered: ReadonlyMap<string, string>;
  readonly stores: ReadonlyMap<string, string>;
  readonly pkiDir: string;
}

/** Reads the trust material; every unusable file is listed. `storeName` is the deployment's TRUST_STORE. */
export async function loadTrust(files: TrustFiles, storeName: string): Promise<Result<LoadedTrust, string[]>> {
  const problems: string[] = [];
  const description: string[] = [];
  let anchors = [...files.anchors];
  let untrusted = [...files.untrusted];
  const registeredFiles = new Map(files.registered);
  if (anchors.length === 0) {
    const manifestPath = join(files.pkiDir, "manifest.json");
    if (!existsSync(manifestPath)) {
      return err([
        `no --ca given, and the demo PKI ${files.pkiDir} (the trust material npm start uses) does not exist.`,
        `Create it with \`npm run pki:demo\` (or \`npm start\`), or pass --ca ANCHORS.pem [--untrusted INTERMEDIATES.pem] [--registered ID=CERT.pem].`,
      ]);
    }
    let manifest: DemoManifest;
    try {
      manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as DemoManifest;
    } catch (e) {
      return err([`${manifestPath}: ${reasonOf(e)} (regenerate it with \`npm run pki:demo -- --force\`)`]);
    }
    anchors = [join(files.pkiDir, manifest.cas.root.cert)];
    untrusted = [join(files.pkiDir, manifest.cas.dev.cert), ...untrusted];
    if (!registeredFiles.has(REGISTERED_CLIENT_ID)) registeredFiles.set(REGISTERED_CLIENT_ID, join(files.pkiDir, manifest.clients.valid.cert));
    description.push(`demo PKI ${files.pkiDir} (no --ca): anchor ${manifest.cas.root.subject}; intermediate ${manifest.cas.dev.subject}`);
  }
  const certificates = async (list: readonly string[]) => {
    const out: LoadedCertificate[] = [];
    for (const f of list) {
      const r = await readCertificateFile(f);
      if (r.ok) out.push(...r.value);
      else problems.push(r.error.message);
    }
    return out;
  };
  const anchorCerts = await certificates(anchors);
  const intermediateCerts = await certificates(untrusted);
  const crls: Uint8Array[] = [];
  for (const f of files.crls) {
    const r = await readCrlFile(f);
    if (r.ok) crls.push(...r.value);
    else problems.push(r.error.message);
  }
  const otherStores = new Map<string, { anchors: LoadedCertificate[]; intermediates: LoadedCertificate[] }>();
  for (const [name, file] of files.stores) {
    if (name === storeName) {
      problems.push(`--store ${name}: that is the deployment's store (TRUST_STORE); give it with --ca / --untrusted`);
      continue;
    }
    const certs = await certificates([file]);
    const split = { anchors: [] as LoadedCertificate[], intermediates: [] as LoadedCertificate[] };
    for (const c of certs) (isSelfSigned(c.parsed) ? split.anchors : split.intermediates).push(c);
    if (certs.length > 0 && split.anchors.length === 0) problems.push(`--store ${name}=${file}: no root (self-signed) certificate to anchor the store`);
    otherStores.set(name, split);
  }
  const registered = new Map<string, RegisteredCertificate>();
  for (const [id, file] of registeredFiles) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(id)) {
      problems.push(`--registered ${id}: an id is 1–128 of A–Z a–z 0–9 . _ -`);
      continue;
    }
    const [cert] = await certificates([file]);
    if (cert) registered.set(id, { id, cert: cert.parsed, model: await describeCertificate(cert.parsed) });
  }
  if (problems.length > 0) return err(problems);

  const stores = new Map<string, TrustMaterial>();
  const prepare = async (name: string, a: LoadedCertificate[], i: LoadedCertificate[], c: Uint8Array[]) => {
    const m = await prepareTrustMaterial({ version: `explain:${name}`, anchors: a.map((x) => x.der), intermediates: i.map((x) => x.der), crls: c });
    if (!m.ok) problems.push(`trust store ${name}${m.error.context?.item ? ` (${String(m.error.context.item)})` : ""}: ${m.error.detail}`);
    else stores.set(name, m.value);
  };
  await prepare(storeName, anchorCerts, intermediateCerts, crls);
  if (files.anchors.length > 0) {
    description.push(`store ${storeName}: ${anchorCerts.length} anchor(s), ${intermediateCerts.length} intermediate(s), ${crls.length} CRL(s)`);
  } else if (files.untrusted.length > 0 || crls.length > 0) {
    description.push(`  plus ${files.untrusted.length} --untrusted file(s), ${crls.length} CRL(s)`);
  }
  for (const [name, s] of otherStores) {
    await prepare(name, s.anchors, s.intermediates, []);
    description.push(`store ${name}: ${s.anchors.length} anchor(s), ${s.intermediates.length} intermediate(s)`);
  }
  if (registered.size > 0) description.push(`registered: ${[...registered.keys()].join(", ")}`);
  return problems.length > 0 ? err(problems) : ok({ stores, registered, description });
}

/** A root: self-issued (a self-issued intermediate of a key rollover is rare enough to need --ca instead). */
function isSelfSigned(c: ParsedCertificate): boolean {
  return c.selfIssued;
}

/** The request's certificate: the --cert file (leaf first, then any chain it holds) and the --chain file. */
export async function loadPresented(cert: string | null, chain: string | null): Promise<Result<{ leaf: LoadedCertificate; chain: LoadedCertificate[] } | null, string[]>> {
  if (cert === null) return chain === null ? ok(null) : err(["--chain needs --cert (the chain follows a leaf)"]);
  const problems: string[] = [];
  const leaf = await readCertificateFile(cert);
  if (!leaf.ok) problems.push(leaf.error.message);
  const more = chain === null ? null : await readCertificateFile(chain);
  if (more && !more.ok) problems.push(more.error.message);
  if (!leaf.ok || (more && !more.ok)) return err(problems);
  const [first, ...rest] = leaf.value;
  return ok({ leaf: first!, chain: [...rest, ...(more?.ok ? more.value : [])] });
}
