/**
 * Differential test of the certificate reader against OpenSSL (Node's X509Certificate), on mutants of real
 * certificates: everything cert/parse accepts, OpenSSL accepts too, with the same serial, names, validity and
 * SANs; and no mutant validates unless it is byte for byte the CA-signed original (a certificate has exactly one
 * DER encoding, so a re-encoded twin can never dodge a thumbprint deny-list).
 *
 * Two kinds of mutants, both bounded (seconds in all):
 * - structural, exhaustive: for every element of each seed, its tag's constructed bit toggled, its class
 *   changed, its tag number moved by one, and its length told one more or one less;
 * - random (fast-check, fixed seed): bit flips, byte replacements, truncation, insertion, deletion.
 * Runs in Node because OpenSSL is the reference.
 */
import { X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import type { BuiltCertificate } from "../../scripts/pki/builder";
import { ca, leaf, material, NOW, root } from "../../test/support/chains";
import { equalBytes } from "../bytes";
import type { TrustMaterial } from "../pki/trust-material";
import { validatePath } from "../pki/validate";
import { decodePemBlocks, readDerElement } from "./decode";
import { renderName } from "./dn";
import { parseCertificate, type ParsedCertificate } from "./parse";

interface Seed {
  readonly name: string;
  readonly cert: BuiltCertificate;
  readonly material: TrustMaterial;
}

let seeds: Seed[] = [];

beforeAll(async () => {
  const r = await root("Diff Root", "rsa-2048");
  const i = await ca("Diff Int", r, "p-256");
  const m = await material({ anchors: [r], intermediates: [i] });
  const rich = await leaf("Diff Leaf, with names", i, "p-256", {
    subjectAltName: { names: [{ dns: "client.example.com" }, { email: "ops@example.com" }, { uri: "spiffe://example.com/svc" }, { ip: "192.0.2.7" }] },
  }, { subject: "CN=Diff Leaf,OU=Payments,O=Example Org,C=US" });
  const rsa = await leaf("Diff RSA Leaf", i, "rsa-2048");
  const selfSigned = await root("Diff Self", "ed25519");
  seeds = [
    { name: "p-256 leaf with SANs", cert: rich, material: m },
    { name: "rsa leaf", cert: rsa, material: m },
    { name: "intermediate", cert: i, material: await material({ anchors: [r] }) },
    // A self-signed certificate validates as a leaf only when registered (pinned by its SHA-256).
    { name: "ed25519 self-signed", cert: selfSigned, material: await material({ anchors: [], registered: [selfSigned] }) },
  ];
});

/** Every element header offset of a DER tree (constructed elements are walked). */
function elementOffsets(der: Uint8Array, start = 0, end = der.length, out: number[] = []): number[] {
  let p = start;
  while (p < end) {
    const el = readDerElement(der, p, end);
    if (typeof el === "string") return out;
    out.push(el.start);
    // Walk constructed elements, and OCTET/BIT STRINGs that hold DER (extension values, keys) when they parse.
    if (el.constructed) elementOffsets(der, el.contentStart, el.end, out);
    else if (el.tagClass === 0 && (el.tagNumber === 4 || el.tagNumber === 3) && el.end > el.contentStart) {
      const inner = el.tagNumber === 3 ? el.contentStart + 1 : el.contentStart;
      const first = readDerElement(der, inner, el.end);
      if (typeof first !== "string" && first.end === el.end && first.constructed) elementOffsets(der, inner, el.end, out);
    }
    p = el.end;
  }
  return out;
}

function structuralMutants(der: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const set = (i: number, v: number) => {
    const m = der.slice();
    m[i] = v & 0xff;
    out.push(m);
  };
  for (const at of elementOffsets(der)) {
    const tag = der[at]!;
    set(at, tag ^ 0x20); // constructed bit
    set(at, tag ^ 0x80); // class: universal ↔ context-specific, application ↔ private
    set(at, tag ^ 0x40);
    if ((tag & 0x1f) < 0x1e) set(at, tag + 1); // tag number + 1
    if ((tag & 0x1f) > 0) set(at, tag - 1);
    const len = der[at + 1]!;
    if (len < 0x80) {
      if (len < 0x7f) set(at + 1, len + 1);
      if (len > 0) set(at + 1, len - 1);
    } else {
      const last = at + 1 + (len & 0x7f);
      set(last, der[last]! + 1);
      set(last, der[last]! - 1);
    }
  }
  return out;
}

function reference(der: Uint8Array): X509Certificate | null {
  try {
    return new X509Certificate(der);
  } catch {
    return null;
  }
}

/** OpenSSL's serial as hex without leading zeros; ours keeps the DER content octets. */
const serialOf = (hex: string) => hex.replace(/^0+/, "").toUpperCase() || "0";

/** certgate's serial (the DER content octets) as OpenSSL prints it: a negative one (high bit set) with a minus sign. */
function oursAsOpenssl(hex: string): string {
  if (hex.startsWith("-") || Number.parseInt(hex.slice(0, 2), 16) < 0x80) return serialOf(hex);
  const value = BigInt(`0x${hex}`) - (1n << BigInt(hex.length * 4));
  return `-${serialOf((-value).toString(16))}`;
}

/** Names whose values need no escaping in either rendering: the slash form equals Node's lines joined by "/". */
function comparableName(slash: string): boolean {
  // Attribute types by name only: OpenSSL names more OIDs than certgate's renderings do.
  return /^(\/[A-Za-z]+=[A-Za-z0-9 .@:_-]*)*$/.test(slash);
}

/** The DNS/email/URI/IP SANs as Node prints them, when every entry is plain (Node quotes the others). */
function sansOf(parsed: ParsedCertificate): string[] {
  const out: string[] = [];
  for (const n of parsed.extensions.subjectAltName ?? []) {
    if (n.type === "dns") out.push(`DNS:${n.value}`);
    else if (n.type === "email") out.push(`email:${n.value}`);
    else if (n.type === "uri") out.push(`URI:${n.value}`);
    else if (n.type === "ip" && n.bytes.length === 4) out.push(`IP Address:${Array.from(n.bytes).join(".")}`);
  }
  return out.sort();
}

interface Tally {
  accepted: number;
  compared: number;
  validated: number;
}

/** Checks one mutant; returns what it could compare. */
async function checkMutant(seed: Seed, mutant: Uint8Array, tally: Tally): Promise<void> {
  const p = compareWithOpenssl(seed.name, mutant, tally);
  if (!p) return;
  const verdict = await validatePath({ leaf: p, material: seed.material, now: NOW, options: { revocation: "off", requireClientAuthEku: false } });
  if (verdict.ok) {
    tally.validated++;
    expect(equalBytes(mutant, seed.cert.der), `a mutant that is not the signed original validated (${seed.name})`).toBe(true);
  }
}

/** Parses `mutant`; when cert/parse accepts it, OpenSSL must too, with the same fields. Returns certgate's parse. */
function compareWithOpenssl(name: string, mutant: Uint8Array, tally: Tally): ParsedCertificate | null {
  const ours = parseCertificate(mutant);
  if (!ours.ok) return null;
  tally.accepted++;
  const ref = reference(mutant);
  expect(ref, `cert/parse accepted a mutant OpenSSL rejects (${name}): ${Buffer.from(mutant).toString("hex")}`).not.toBeNull();
  if (!ref) return null;
  const p = ours.value;
  expect(oursAsOpenssl(p.serialNumber)).toBe(ref.serialNumber.startsWith("-") ? `-${serialOf(ref.serialNumber.slice(1))}` : serialOf(ref.serialNumber));
  expect(new Date(ref.validFrom).getTime()).toBe(p.notBefore.getTime());
  expect(new Date(ref.validTo).getTime()).toBe(p.notAfter.getTime());
  const subject = renderName(p.subject).openssl;
  const issuer = renderName(p.issuer).openssl;
  if (comparableName(subject) && comparableName(issuer)) {
    expect(subject).toBe(`/${ref.subject.split("\n").join("/")}`);
    expect(issuer).toBe(`/${ref.issuer.split("\n").join("/")}`);
    tally.compared++;
  }
  const refSans = ref.subjectAltName;
  if (refSans === undefined) expect(p.extensions.subjectAltName?.some((n) => ["dns", "email", "uri", "ip"].includes(n.type)) ?? false).toBe(false);
  else if (!refSans.includes('"')) {
    const comparable = refSans.split(", ").filter((s) => /^(DNS|email|URI):/.test(s) || /^IP Address:\d+\.\d+\.\d+\.\d+$/.test(s));
    expect(sansOf(p)).toEqual(comparable.sort());
  }
  return p;
}

describe("cert/parse against OpenSSL on mutated certificates", () => {
  it("the seeds themselves parse, agree with OpenSSL and validate", async () => {
    for (const seed of seeds) {
      const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
      await checkMutant(seed, seed.cert.der, tally);
      expect(tally.accepted, seed.name).toBe(1);
    }
  });

  it("structural mutants (every tag's form, class and number; every length ±1) never parse where OpenSSL refuses, never validate", async () => {
    let total = 0;
    const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
    for (const seed of seeds) {
      for (const m of structuralMutants(seed.cert.der)) {
        total++;
        await checkMutant(seed, m, tally);
      }
    }
    expect(total).toBeGreaterThan(1000);
    expect(tally.accepted).toBeGreaterThan(0);
    // Every mutant changes bytes under the signature or the DER framing: none may validate.
    expect(tally.validated).toBe(0);
  });

  it("random mutants (bit flips, replaced, inserted and deleted bytes, truncation)", async () => {
    const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 4 }) }),
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), async (which, mutations) => {
        const seed = seeds[which % seeds.length]!;
        let bytes = seed.cert.der.slice();
        for (const m of mutations) {
          const at = m.at % bytes.length;
          if (m.kind === "flip") bytes[at] = bytes[at]! ^ (1 << m.bit);
          else if (m.kind === "set") bytes[at] = m.value;
          else if (m.kind === "insert") bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
          else if (m.kind === "delete") bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.count)]);
          else bytes = bytes.slice(0, Math.max(1, at));
        }
        await checkMutant(seed, bytes, tally);
      }),
      { numRuns: 3000, seed: 20261203 },
    );
    // Not vacuous: some mutants (in the signature value, in a name's letters) do parse and get compared.
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.compared).toBeGreaterThan(100);
    // A mutation can undo itself (a byte set to its own value, a bit flipped twice); checkMutant lets such a mutant
    // validate only when it is byte for byte the original.
  });
});

/**
 * Real certificates: the machine's CA bundle (Debian's ca-certificates, 144 roots when this was written), read at
 * test time, never copied into the project. Each must parse and agree with OpenSSL; every structural mutant of
 * every one must parse only where OpenSSL parses it too. Skipped, and reported as such, on a machine without it.
 */
const SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";

describe.skipIf(!existsSync(SYSTEM_BUNDLE))(`real certificates from ${SYSTEM_BUNDLE}`, () => {
  const roots = (): Uint8Array[] => {
    const r = decodePemBlocks(readFileSync(SYSTEM_BUNDLE, "utf8"), "CERTIFICATE", { maxBytes: 1 << 24, maxCount: 2000, maxBlockBytes: 1 << 16 });
    if (!r.ok) throw new Error(r.error.detail);
    return r.value;
  };

  it("every root parses, with OpenSSL's fields", () => {
    const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
    const all = roots();
    for (const der of all) expect(compareWithOpenssl("system root", der, tally), toHexPrefix(der)).not.toBeNull();
    expect(tally.accepted).toBe(all.length);
    expect(all.length).toBeGreaterThan(50);
  });

  it("their structural mutants parse only where OpenSSL parses them too, with the same fields", () => {
    const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
    let total = 0;
    for (const der of roots()) {
      for (const m of structuralMutants(der)) {
        total++;
        compareWithOpenssl("system root mutant", m, tally);
      }
    }
    expect(total).toBeGreaterThan(10_000);
    expect(tally.accepted).toBeGreaterThan(0);
  });

  it("and so do 3,000 random mutants of them", () => {
    const all = roots();
    const tally: Tally = { accepted: 0, compared: 0, validated: 0 };
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (which, at, value, cut) => {
        const der = all[which % all.length]!;
        const m = der.slice();
        m[at % m.length] = value;
        compareWithOpenssl("system root random mutant", cut % 4 === 0 ? m.slice(0, Math.max(1, cut % m.length)) : m, tally);
      }),
      { numRuns: 3000, seed: 20261203 },
    );
    expect(tally.accepted).toBeGreaterThan(100);
  });
});

function toHexPrefix(der: Uint8Array): string {
  return Buffer.from(der.subarray(0, 48)).toString("hex");
}
