/**
 * The source folder of `kv sync`: read it (the only file I/O), load it into trust content, check it.
 *
 * Layout (docs/operations-kv.md):
 *   stores/<name>/anchors/*.pem          trust anchors (CA certificates; a file may hold several)
 *   stores/<name>/intermediates/*.pem    store intermediates (CA certificates)
 *   stores/<name>/pinned/*.pem           self-signed client certificates accepted by their exact bytes
 *   stores/<name>/crls/*.{crl,pem,der}   CRLs, DER or PEM, signed by a CA of the same store
 *   stores/<name>/refresh.json           CRL refresh settings: {"refreshCrls": true, "crlUrls": ["http://…"]}
 *                                        (src/scheduled/refresh-settings.ts; absent: no refresh)
 *   registered/<id>.pem                  registered client certificates, one per file
 *   values.json                          named values: {"<name>": "<string>", …}
 * Names starting with "." (.gitkeep, editor files) are ignored; anything else is an unknown file.
 *
 * Contract: `readSourceTree` does the I/O (every file read once, size-capped before reading); `loadSource` and
 * `checkSource` are pure (`now` is a parameter) and collect EVERY problem rather than stopping at the first
 * (cel-go's habit). Each problem has a stable code; only the codes in FORCEABLE may be overridden with --force
 * (stale or expired material is safe to publish knowingly: the Worker rejects it per request anyway; so is
 * a CRL older than the deployed one, found when planning, scripts/kv/plan.ts crlRollbacks);
 * malformed or inconsistent material never is.
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { KEY_USAGE_BITS } from "../../src/cert/parse";
import { parseRefreshSettings, type RefreshSettings } from "../../src/scheduled/refresh-settings";
import { MAX_CRL_BYTES, MAX_STORE_BUNDLE_BYTES, MAX_STORE_CERTIFICATES } from "../../src/limits";
import { verifySignature, type AlgorithmPolicy } from "../../src/pki/crypto";
import {
  CERTIFICATE_FIELDS,
  describeCertificateBundle,
  describeCrlBundle,
  type CertificateField,
  type CertificateItem,
  type CrlItem,
  type StoreContent,
  type TrustContent,
} from "./content";
import { certificatesToPem, ITEM_NAME_PATTERN, MAX_CRLS_PER_STORE, MAX_RECORD_CHARS, MAX_VALUES_CHARS, STORE_NAME_PATTERN } from "../../src/kv-schema";
import { reasonOf } from "../lib/cli";

export type ProblemCode =
  | "unreadable"
  | "unknown_file"
  | "invalid_name"
  | "no_stores"
  | "store_without_anchors"
  | "certificate_malformed"
  | "not_a_ca"
  | "certificate_expired"
  | "duplicate_certificate"
  | "crl_malformed"
  | "duplicate_crl"
  | "crl_issuer_unknown"
  | "crl_signature_invalid"
  | "crl_stale"
  | "crl_not_yet_valid"
  | "registered_malformed"
  | "values_malformed"
  | "refresh_malformed"
  | "crl_older_than_deployed"
  | "too_large";

/** Problems `--force` may override: time-dependent ones only (see the module header). */
export const FORCEABLE: ReadonlySet<ProblemCode> = new Set<ProblemCode>(["certificate_expired", "crl_stale", "crl_not_yet_valid", "crl_older_than_deployed"]);

export interface Problem {
  readonly code: ProblemCode;
  /** The file or folder at fault, relative to the source folder. */
  readonly path: string;
  /** One sentence saying what is wrong. */
  readonly message: string;
  readonly forceable: boolean;
}

/** One file of the source folder: its bytes, or why it could not be read. */
export type SourceFile = { readonly path: string; readonly bytes: Uint8Array } | { readonly path: string; readonly error: string };

/** The folder as read: files and folders, paths relative and "/"-separated, sorted. */
export interface SourceTree {
  readonly files: readonly SourceFile[];
  readonly folders: readonly string[];
}

/** Largest file read: a maximal CRL as PEM with room to spare; bigger files are refused unread. */
const MAX_SOURCE_FILE_BYTES = 4 * MAX_CRL_BYTES;
/** Deepest folder nesting walked (the layout needs 3). */
const MAX_DEPTH = 8;

/**
 * The CRL signature check proves the CRL belongs to a CA of the store; the algorithm policy (SHA-1, RSA size)
 * is the Worker's per-request configuration, so it is not applied here.
 */
const LENIENT_POLICY: AlgorithmPolicy = { allowSha1: true, minRsaBits: 1024 };
const CRL_SIGN = 1 << KEY_USAGE_BITS.indexOf("cRLSign");

function problem(code: ProblemCode, path: string, message: string): Problem {
  return { code, path, message, forceable: FORCEABLE.has(code) };
}

/** Reads every file under `dir`. Throws only when `dir` itself is not a readable folder. */
export async function readSourceTree(dir: string): Promise<SourceTree> {
  const files: SourceFile[] = [];
  const folders: string[] = [];
  const info = await stat(dir);
  if (!info.isDirectory()) throw new Error(`${dir} is not a folder`);
  const walk = async (relative: string, depth: number): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (entry.name.startsWith(".")) continue;
      const path = relative === "" ? entry.name : `${relative}/${entry.name}`;
      const full = join(dir, path);
      let s;
      try {
        s = await stat(full); // follows symbolic links
      } catch (e) {
        files.push({ path, error: `cannot read: ${reasonOf(e)}` });
        continue;
      }
      if (s.isDirectory()) {
        folders.push(path);
        if (depth >= MAX_DEPTH) files.push({ path, error: "nested too deeply" });
        else await walk(path, depth + 1);
      } else if (s.size > MAX_SOURCE_FILE_BYTES) {
        files.push({ path, error: `larger than ${MAX_SOURCE_FILE_BYTES} bytes (${s.size})` });
      } else {
        try {
          files.push({ path, bytes: new Uint8Array(await readFile(full)) });
        } catch (e) {
          files.push({ path, error: `cannot read: ${reasonOf(e)}` });
        }
      }
    }
  };
  await walk("", 0);
  return { files, folders };
}

interface MutableStore {
  anchors: CertificateItem[];
  intermediates: CertificateItem[];
  pinned: CertificateItem[];
  crls: CrlItem[];
  refresh?: RefreshSettings;
}

/** Loads the tree into trust content; what cannot be loaded is a problem and is left out of the content. */
export async function loadSource(tree: SourceTree): Promise<{ content: TrustContent; problems: Problem[] }> {
  const problems: Problem[] = [];
  const stores = new Map<string, MutableStore>();
  const registered = new Map<string, CertificateItem>();
  const values = new Map<string, string>();
  const storeOf = (name: string): MutableStore | null => {
    if (!STORE_NAME_PATTERN.test(name)) {
      if (!problems.some((p) => p.code === "invalid_name" && p.path === `stores/${name}`)) {
        problems.push(problem("invalid_name", `stores/${name}`, `store name "${name}" is not 1–64 of A–Z a–z 0–9 . _ -`));
      }
      return null;
    }
    let s = stores.get(name);
    if (!s) stores.set(name, (s = { anchors: [], intermediates: [], pinned: [], crls: [] }));
    return s;
  };

  // Names starting with "." are not part of the layout (.gitkeep, .DS_Store, editor files), at any depth.
  const hidden = (path: string) => path.split("/").some((part) => part.startsWith("."));
  for (const folder of tree.folders.filter((f) => !hidden(f))) {
    const parts = folder.split("/");
    const known =
      (parts.length === 1 && (parts[0] === "stores" || parts[0] === "registered")) ||
      (parts.length === 2 && parts[0] === "stores") ||
      (parts.length === 3 && parts[0] === "stores" && ([...CERTIFICATE_FIELDS, "crls"] as string[]).includes(parts[2]!));
    if (!known) {
      const hint =
        parts[0] === "stores" && parts.length === 3 ? "a store folder holds only anchors/, intermediates/, pinned/ and crls/"
        : parts.length === 1 ? "the folder holds only stores/, registered/ and values.json"
        : "see the layout in docs/operations-kv.md";
      // Only the outermost unknown folder is reported.
      if (!problems.some((p) => p.code === "unknown_file" && folder.startsWith(`${p.path}/`))) {
        problems.push(problem("unknown_file", folder, `unknown folder (${hint})`));
      }
    }
    else if (parts.length === 2) storeOf(parts[1]!);
  }

  for (const file of tree.files.filter((f) => !hidden(f.path))) {
    const parts = file.path.split("/");
    const ext = extension(file.path);
    const isCertFolder = parts.length === 4 && parts[0] === "stores" && (CERTIFICATE_FIELDS as readonly string[]).includes(parts[2]!);
    const isCrlFolder = parts.length === 4 && parts[0] === "stores" && parts[2] === "crls";
    const kind =
      parts.length === 1 && file.path === "values.json" ? "values"
      : parts.length === 3 && parts[0] === "stores" && parts[2] === "refresh.json" ? "refresh"
      : parts.length === 2 && parts[0] === "registered" && ext === "pem" ? "registered"
      : isCertFolder && ext === "pem" ? "certificates"
      : isCrlFolder && (ext === "crl" || ext === "pem" || ext === "der") ? "crls"
      : null;
    if (kind === null) {
      const hint =
        isCertFolder ? "certificate files end in .pem"
        : isCrlFolder ? "CRL files end in .crl, .pem or .der"
        : parts[0] === "registered" && parts.length === 2 ? "registered certificates are registered/<id>.pem"
        : parts[0] === "stores" && parts.length === 3 ? "a store folder holds only anchors/, intermediates/, pinned/, crls/ and refresh.json"
        : parts[0] === "stores" && parts.length === 2 ? "stores/ holds one folder per store"
        : parts.length === 1 ? "the folder holds only stores/, registered/ and values.json"
        : "see the layout in docs/operations-kv.md";
      // A file under an unknown folder is already covered by that folder's problem.
      if (!problems.some((p) => p.code === "unknown_file" && file.path.startsWith(`${p.path}/`))) {
        problems.push(problem("unknown_file", file.path, `unknown file (${hint})`));
      }
      continue;
    }
    if ("error" in file) {
      problems.push(problem("unreadable", file.path, file.error));
      continue;
    }
    switch (kind) {
      case "refresh": {
        const store = storeOf(parts[1]!);
        let json: unknown;
        try {
          json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(file.bytes));
        } catch (e) {
          problems.push(problem("refresh_malformed", file.path, `not JSON: ${(e as Error).message}`));
          break;
        }
        const settings = parseRefreshSettings(json, true);
        if (!settings.ok) problems.push(problem("refresh_malformed", file.path, settings.error));
        else if (store) store.refresh = settings.value;
        break;
      }
      case "values": {
        const parsed = parseValues(file.bytes);
        if (typeof parsed === "string") problems.push(problem("values_malformed", file.path, parsed));
        else {
          for (const [name, value] of parsed) {
            if (!ITEM_NAME_PATTERN.test(name)) problems.push(problem("invalid_name", file.path, `named value "${name}": a name is 1–128 of A–Z a–z 0–9 . _ -`));
            else values.set(name, value);
          }
        }
        break;
      }
      case "registered": {
        const id = parts[1]!.slice(0, -".pem".length);
        if (!ITEM_NAME_PATTERN.test(id)) {
          problems.push(problem("invalid_name", file.path, `registered id "${id}" is not 1–128 of A–Z a–z 0–9 . _ -`));
          break;
        }
        const items = await describeCertificateBundle(asText(file.bytes), file.path);
        if (!items.ok) problems.push(problem("registered_malformed", file.path, `does not parse: ${items.error}`));
        else if (items.value.length !== 1) problems.push(problem("registered_malformed", file.path, `holds ${items.value.length} certificates; a registered file holds exactly one`));
        else registered.set(id, items.value[0]!);
        break;
      }
      case "certificates": {
        const store = storeOf(parts[1]!);
        const items = await describeCertificateBundle(asText(file.bytes), file.path);
        if (!items.ok) problems.push(problem("certificate_malformed", file.path, `does not parse: ${items.error}`));
        else store?.[parts[2] as CertificateField].push(...items.value);
        break;
      }
      case "crls": {
        const store = storeOf(parts[1]!);
        const items = await describeCrlBundle(file.bytes, file.path);
        if (!items.ok) problems.push(problem("crl_malformed", file.path, `does not parse: ${items.error}`));
        else store?.crls.push(...items.value);
        break;
      }
    }
  }
  return { content: { stores, registered, values }, problems };
}

/**
 * Checks loaded content at time `now`: CA-ness and validity of anchors and intermediates, duplicates, CRL
 * signatures (by a same-named CA of the same store that may sign CRLs) and freshness, the reader's limits.
 */
export async function checkSource(content: TrustContent, now: Date): Promise<Problem[]> {
  const problems: Problem[] = [];
  if (content.stores.size === 0) problems.push(problem("no_stores", "stores", "no trust store: add stores/<name>/anchors/*.pem"));
  for (const [name, store] of [...content.stores].sort(([a], [b]) => (a < b ? -1 : 1))) {
    problems.push(...(await checkStore(name, store, now)));
  }
  // Each of these is one KV value, with the reader's caps (src/pki/trust-store.ts).
  if (content.registered.size > MAX_STORE_CERTIFICATES) {
    problems.push(problem("too_large", "registered", `${content.registered.size} certificates; the Worker loads at most ${MAX_STORE_CERTIFICATES}`));
  }
  const registeredChars = JSON.stringify(Object.fromEntries([...content.registered].map(([id, c]) => [id, certificatesToPem([c.der])]))).length;
  if (registeredChars > MAX_RECORD_CHARS) problems.push(problem("too_large", "registered", `${registeredChars} characters as one KV value; the Worker reads at most ${MAX_RECORD_CHARS}`));
  const valuesChars = JSON.stringify(Object.fromEntries(content.values)).length;
  if (valuesChars > MAX_VALUES_CHARS) problems.push(problem("too_large", "values.json", `${valuesChars} characters as one KV value; the Worker reads at most ${MAX_VALUES_CHARS}`));
  return problems;
}

async function checkStore(name: string, store: StoreContent, now: Date): Promise<Problem[]> {
  const problems: Problem[] = [];
  const dir = `stores/${name}`;
  if (store.anchors.length === 0) problems.push(problem("store_without_anchors", `${dir}/anchors`, `store "${name}" has no anchor (the Worker refuses a store without one)`));
  const seen = new Map<string, string>();
  for (const field of CERTIFICATE_FIELDS) {
    for (const c of store[field]) {
      const first = seen.get(c.sha256);
      if (first !== undefined) {
        problems.push(problem("duplicate_certificate", c.origin, `the same certificate as ${first} (${c.subject}); a store lists each certificate once`));
        continue;
      }
      seen.set(c.sha256, c.origin);
      if (field === "pinned") continue;
      const role = field === "anchors" ? "an anchor" : "an intermediate";
      if (!c.parsed.extensions.basicConstraints?.ca) {
        const why = c.parsed.extensions.basicConstraints ? "basicConstraints cA is false" : "it has no basicConstraints";
        problems.push(problem("not_a_ca", c.origin, `${c.subject} is not a CA (${why}), so it cannot be ${role}`));
      }
      if (c.parsed.notAfter.getTime() < now.getTime()) {
        problems.push(problem("certificate_expired", c.origin, `${role} that expired on ${c.parsed.notAfter.toISOString()} (${c.subject})`));
      }
    }
  }
  const total = store.anchors.length + store.intermediates.length;
  if (total > MAX_STORE_CERTIFICATES) problems.push(problem("too_large", dir, `${total} anchors and intermediates; the Worker loads at most ${MAX_STORE_CERTIFICATES}`));
  let recordChars = 0;
  for (const field of CERTIFICATE_FIELDS) {
    const pem = certificatesToPem(store[field].map((c) => c.der));
    recordChars += JSON.stringify(pem).length;
    if (pem.length > MAX_STORE_BUNDLE_BYTES) problems.push(problem("too_large", `${dir}/${field}`, `${pem.length} bytes of PEM; the Worker reads at most ${MAX_STORE_BUNDLE_BYTES}`));
  }
  if (recordChars > MAX_RECORD_CHARS) problems.push(problem("too_large", dir, `the store record would be ${recordChars} characters; the Worker reads at most ${MAX_RECORD_CHARS}`));
  if (store.crls.length > MAX_CRLS_PER_STORE) problems.push(problem("too_large", `${dir}/crls`, `${store.crls.length} CRLs; a store holds at most ${MAX_CRLS_PER_STORE}`));

  const cas = [...store.anchors, ...store.intermediates];
  const seenCrls = new Map<string, string>();
  for (const crl of store.crls) {
    const first = seenCrls.get(crl.sha256);
    if (first !== undefined) {
      problems.push(problem("duplicate_crl", crl.origin, `the same CRL as ${first}`));
      continue;
    }
    seenCrls.set(crl.sha256, crl.origin);
    const candidates = cas.filter((c) => c.parsed.subjectKey === crl.parsed.issuerKey);
    if (candidates.length === 0) {
      problems.push(problem("crl_issuer_unknown", crl.origin, `issued by ${crl.issuer}, which is not an anchor or intermediate of store "${name}"`));
    } else {
      let verified = false;
      let withoutCrlSign: CertificateItem | null = null;
      for (const ca of candidates) {
        const r = await verifySignature(crl.parsed.signature, ca.parsed.publicKey, LENIENT_POLICY);
        if (!r.ok) continue;
        const ku = ca.parsed.extensions.keyUsage;
        if (ku !== undefined && (ku & CRL_SIGN) === 0) {
          withoutCrlSign = ca;
          continue;
        }
        verified = true;
        break;
      }
      if (!verified) {
        const message = withoutCrlSign
          ? `signed by ${withoutCrlSign.origin}, whose keyUsage lacks cRLSign (RFC 5280 §4.2.1.3), so the Worker would ignore it`
          : `its signature does not verify with ${candidates.length === 1 ? "the key of" : "any key of"} ${candidates.map((c) => c.origin).join(", ")} (${crl.issuer})`;
        problems.push(problem("crl_signature_invalid", crl.origin, message));
      }
    }
    // A CRL for a later moment is not used until then: a revocation it lists would not be in force yet (the
    // scheduled refresh refuses such CRLs for the same reason).
    const thisUpdate = crl.parsed.thisUpdate;
    if (thisUpdate.getTime() > now.getTime()) {
      problems.push(problem("crl_not_yet_valid", crl.origin, `not yet valid: its thisUpdate ${thisUpdate.toISOString()} is in the future, so the Worker ignores it until then (${crl.issuer})`));
    }
    const next = crl.parsed.nextUpdate;
    if (next && next.getTime() < now.getTime()) {
      problems.push(problem("crl_stale", crl.origin, `stale: its nextUpdate ${next.toISOString()} has passed (${crl.issuer})`));
    }
  }
  return problems;
}

/** `values.json` → its entries, or what is wrong. */
function parseValues(bytes: Uint8Array): Map<string, string> | string {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return 'not a JSON object ({"<name>": "<value>", …})';
  const out = new Map<string, string>();
  const wrong: string[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (typeof value !== "string") wrong.push(name);
    else out.set(name, value);
  }
  if (wrong.length > 0) return `values must be strings: ${wrong.map((n) => `"${n}"`).join(", ")}`;
  return out;
}

function extension(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot + 1).toLowerCase();
}

/** DER stays bytes; anything else is UTF-8 text (what cert/decode expects for PEM). */
function asText(bytes: Uint8Array): string | Uint8Array {
  if (bytes.length === 0 || bytes[0] === 0x30) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return bytes;
  }
}
