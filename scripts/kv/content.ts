/**
 * Trust content as `kv sync` and `kv status` see it: stores, registered certificates and named values, each
 * certificate and CRL parsed by the engine (src/cert/parse) and summarised (subject, SHA-256, validity).
 * The same model describes a source folder and a deployed KV version, so the two can be compared.
 *
 * Contract: no I/O, no clock (WebCrypto digests only). Decoding failures are returned as text, never thrown.
 */
import { decodeCertificates, decodePemBlocks, readDerElement } from "../../src/cert/decode";
import { renderName } from "../../src/cert/dn";
import { parseCertificate, parseCrl, type ParsedCertificate, type ParsedCrl } from "../../src/cert/parse";
import { MAX_CERTIFICATE_BYTES, MAX_CRL_BYTES, MAX_STORE_BUNDLE_BYTES, MAX_STORE_CERTIFICATES } from "../../src/limits";
import { sha256Hex } from "../../src/pki/crypto";
import { err, ok, type Result } from "../../src/result";
import type { RefreshSettings } from "../../src/scheduled/refresh-settings";
import { MAX_CRLS_PER_STORE } from "../../src/kv-schema";

/** The certificate fields of a store (docs/kv-schema.md). */
export const CERTIFICATE_FIELDS = ["anchors", "intermediates", "pinned"] as const;
export type CertificateField = (typeof CERTIFICATE_FIELDS)[number];

export interface CertificateItem {
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
  /** SHA-256 of the DER, lowercase hex. */
  readonly sha256: string;
  /** .NET rendering (`CN=x, O=y`), as certgate's logs and policies show it. */
  readonly subject: string;
  /** Where it came from: a file (`stores/default/anchors/root.pem`, `…/bundle.pem#2`) or a KV key. */
  readonly origin: string;
}

export interface CrlItem {
  readonly der: Uint8Array;
  readonly parsed: ParsedCrl;
  readonly sha256: string;
  readonly issuer: string;
  readonly origin: string;
}

export interface StoreContent {
  readonly anchors: readonly CertificateItem[];
  readonly intermediates: readonly CertificateItem[];
  readonly pinned: readonly CertificateItem[];
  readonly crls: readonly CrlItem[];
  /** CRL refresh settings (src/scheduled/refresh-settings.ts); absent: off. */
  readonly refresh?: RefreshSettings;
}

export interface TrustContent {
  readonly stores: ReadonlyMap<string, StoreContent>;
  readonly registered: ReadonlyMap<string, CertificateItem>;
  readonly values: ReadonlyMap<string, string>;
}

/** What the plan and status print about a certificate. */
export interface CertificateSummary {
  readonly subject: string;
  readonly sha256: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

/** What the plan and status print about a CRL. */
export interface CrlSummary {
  readonly issuer: string;
  readonly sha256: string;
  readonly thisUpdate: string;
  readonly nextUpdate: string | null;
  readonly revoked: number;
  /** A delta CRL (RFC 5280 §5.2.4). */
  readonly delta: boolean;
}

/** Caps for a bundle of store certificates: the reader's (src/pki/trust-store.ts). */
export const STORE_BUNDLE_LIMITS = { maxBytes: MAX_STORE_BUNDLE_BYTES, maxCount: MAX_STORE_CERTIFICATES, maxCertificateBytes: MAX_CERTIFICATE_BYTES };

/** Parses and summarises one DER certificate. */
export async function describeCertificateDer(der: Uint8Array, origin: string): Promise<Result<CertificateItem, string>> {
  const parsed = parseCertificate(der);
  if (!parsed.ok) return err(parsed.error.detail);
  return ok({ der, parsed: parsed.value, sha256: await sha256Hex(der), subject: subjectText(parsed.value.subject), origin });
}

/** Parses and summarises one DER CRL. */
export async function describeCrlDer(der: Uint8Array, origin: string): Promise<Result<CrlItem, string>> {
  const parsed = parseCrl(der);
  if (!parsed.ok) return err(parsed.error.detail);
  return ok({ der, parsed: parsed.value, sha256: await sha256Hex(der), issuer: subjectText(parsed.value.issuer), origin });
}

/**
 * Every certificate of a bundle (PEM, DER, base64), each parsed. `origin` names the whole bundle; items get
 * `origin#n` (1-based) when the bundle holds more than one.
 */
export async function describeCertificateBundle(input: string | Uint8Array, origin: string): Promise<Result<CertificateItem[], string>> {
  const decoded = decodeCertificates(input, STORE_BUNDLE_LIMITS);
  if (!decoded.ok) {
    return err(decoded.error.code === "certificate_missing" ? "no certificate found (expected PEM or DER)" : decoded.error.detail);
  }
  const items: CertificateItem[] = [];
  for (const [i, der] of decoded.value.entries()) {
    const name = decoded.value.length > 1 ? `${origin}#${i + 1}` : origin;
    const item = await describeCertificateDer(der, name);
    if (!item.ok) return err(decoded.value.length > 1 ? `certificate ${i + 1}: ${item.error}` : item.error);
    items.push(item.value);
  }
  return ok(items);
}

/** Every CRL of a file: DER (one or several concatenated) or PEM `X509 CRL` blocks, each parsed. */
export async function describeCrlBundle(bytes: Uint8Array, origin: string): Promise<Result<CrlItem[], string>> {
  let ders: Uint8Array[];
  if (bytes[0] === 0x30) {
    const split = splitDer(bytes);
    if (typeof split === "string") return err(split);
    ders = split;
  } else {
    let text: string;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      return err("neither DER nor PEM text");
    }
    const blocks = decodePemBlocks(text, "X509 CRL", { maxBytes: 2 * MAX_CRL_BYTES, maxCount: MAX_CRLS_PER_STORE, maxBlockBytes: MAX_CRL_BYTES });
    if (!blocks.ok) return err(blocks.error.code === "certificate_missing" ? "no CRL found (expected DER or PEM \"X509 CRL\")" : blocks.error.detail);
    ders = blocks.value;
  }
  const items: CrlItem[] = [];
  for (const [i, der] of ders.entries()) {
    const name = ders.length > 1 ? `${origin}#${i + 1}` : origin;
    const item = await describeCrlDer(der, name);
    if (!item.ok) return err(ders.length > 1 ? `CRL ${i + 1}: ${item.error}` : item.error);
    items.push(item.value);
  }
  return ok(items);
}

/** Concatenated DER SEQUENCEs, or what is wrong. */
function splitDer(bytes: Uint8Array): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const el = readDerElement(bytes, offset);
    if (typeof el === "string") return `${el} at byte ${offset}`;
    if (el.tagClass !== 0 || !el.constructed || el.tagNumber !== 16) return `no DER SEQUENCE at byte ${offset}`;
    if (out.length >= MAX_CRLS_PER_STORE) return `more than ${MAX_CRLS_PER_STORE} CRLs in one file`;
    out.push(bytes.slice(offset, el.end));
    offset = el.end;
  }
  return out;
}

/** The .NET rendering of a DER Name, or its hex when it cannot be rendered. */
function subjectText(name: Uint8Array): string {
  try {
    return renderName(name).dotnet || "(empty name)";
  } catch {
    return "(unrenderable name)";
  }
}

export function summarizeCertificate(c: CertificateItem): CertificateSummary {
  return { subject: c.subject, sha256: c.sha256, notBefore: c.parsed.notBefore.toISOString(), notAfter: c.parsed.notAfter.toISOString() };
}

export function summarizeCrl(c: CrlItem): CrlSummary {
  return {
    issuer: c.issuer,
    sha256: c.sha256,
    thisUpdate: c.parsed.thisUpdate.toISOString(),
    nextUpdate: c.parsed.nextUpdate ? c.parsed.nextUpdate.toISOString() : null,
    revoked: c.parsed.entries.length,
    delta: c.parsed.deltaBase !== null,
  };
}

/** An empty store (what a deployed store that could not be read compares as). */
export const EMPTY_STORE: StoreContent = { anchors: [], intermediates: [], pinned: [], crls: [] };
