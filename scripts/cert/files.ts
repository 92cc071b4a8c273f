/**
 * cert CLI — reading operator files: the only file I/O of the CLI.
 *
 * Contract: every function takes a path (or "-" for standard input, read once and reused) and returns a
 * `Result`; nothing throws for a missing, unreadable, oversized or undecodable file. An `InputError` names the
 * file, and the certificate index (0-based) when one certificate of a bundle is at fault, in a message meant for
 * stderr. Size caps are checked before reading (fstat) and again while reading standard input.
 *
 * Decoding and parsing are the Worker's own: cert/decode (PEM, DER, base64, RFC 9440 auto-detected) and
 * cert/parse. A file that is not DER is read as UTF-8 text, so `openssl x509 -text` output with non-ASCII names
 * around the PEM block still decodes (decode.ts would reject non-ASCII bytes handed over as a Uint8Array).
 * Every certificate of a file is parsed here, so a bad one is reported with its file instead of failing later.
 */
import { open, type FileHandle } from "node:fs/promises";
import { stdin } from "node:process";
import { decodeCertificates, decodePemBlocks, readDerElement } from "../../src/cert/decode";
import { parseCertificate, parseCrl, type ParsedCertificate } from "../../src/cert/parse";
import type { CertError } from "../../src/errors";
import { MAX_CERTIFICATE_BYTES, MAX_CRL_BYTES, MAX_STORE_BUNDLE_BYTES, MAX_STORE_CERTIFICATES } from "../../src/limits";
import { err, ok, type Result } from "../../src/result";

/**
 * Largest CRL file. One CRL may be MAX_CRL_BYTES of DER, which is ~1.37× that as PEM (base64 4/3 plus a newline
 * every 64 characters); four times MAX_CRL_BYTES holds one maximal CRL as PEM with room for a few small ones.
 */
export const MAX_CRL_FILE_BYTES = 4 * MAX_CRL_BYTES;

/** Most CRLs in one file: one per issuing CA, plus delta CRLs; a store of MAX_STORE_CERTIFICATES CAs bounds it. */
export const MAX_CRLS_PER_FILE = MAX_STORE_CERTIFICATES;

/** Why a file could not be used; `message` starts with the file name. */
export interface InputError {
  readonly file: string;
  readonly message: string;
  /** The engine's error when decoding or parsing failed (absent for I/O errors). */
  readonly cause?: CertError;
}

/** A certificate read from a file: its DER and the parse of it. */
export interface LoadedCertificate {
  readonly der: Uint8Array;
  readonly parsed: ParsedCertificate;
}

/** A certificate of an untrusted bundle that was left out, with why. */
export interface SkippedCertificate {
  readonly file: string;
  readonly index: number;
  readonly detail: string;
}

/**
 * Reads an untrusted bundle (`--untrusted`): like readCertificateFile, except that a member that does not parse
 * is left out and reported instead of failing the file. An untrusted certificate can only help build a path, never
 * make one valid, so leaving out one that cannot be read can only turn a verdict into a rejection. A file that
 * cannot be read or decoded at all is still an error, as is a file where no member parses.
 */
export async function readUntrustedFile(file: string): Promise<Result<{ certs: LoadedCertificate[]; skipped: SkippedCertificate[] }, InputError>> {
  const ders = await readCertificateDers(file);
  if (!ders.ok) return ders;
  const certs: LoadedCertificate[] = [];
  const skipped: SkippedCertificate[] = [];
  for (const [index, der] of ders.value.entries()) {
    const parsed = parseCertificate(der);
    if (parsed.ok) certs.push({ der, parsed: parsed.value });
    else skipped.push({ file, index, detail: parsed.error.detail });
  }
  if (certs.length === 0) {
    return err({ file, message: `${file}: no certificate in it parses (first: index 0: ${skipped[0]?.detail ?? "empty"})` });
  }
  return ok({ certs, skipped });
}

/** Reads, decodes and parses every certificate in `file` (a bundle is allowed; at least one is required). */
export async function readCertificateFile(file: string): Promise<Result<LoadedCertificate[], InputError>> {
  const ders = await readCertificateDers(file);
  if (!ders.ok) return ders;
  const out: LoadedCertificate[] = [];
  for (const [index, der] of ders.value.entries()) {
    const parsed = parseCertificate(der);
    if (!parsed.ok) {
      return err({ file, message: `${file}: certificate at index ${index}: ${parsed.error.detail}`, cause: parsed.error });
    }
    out.push({ der, parsed: parsed.value });
  }
  return ok(out);
}

/** Reads and decodes every certificate in `file` to DER, without parsing them. */
async function readCertificateDers(file: string): Promise<Result<Uint8Array[], InputError>> {
  const bytes = await readBytes(file, MAX_STORE_BUNDLE_BYTES);
  if (!bytes.ok) return bytes;
  const decoded = decodeCertificates(asDecoderInput(bytes.value), {
    maxBytes: MAX_STORE_BUNDLE_BYTES,
    maxCount: MAX_STORE_CERTIFICATES,
    maxCertificateBytes: MAX_CERTIFICATE_BYTES,
  });
  if (!decoded.ok) {
    const what = decoded.error.code === "certificate_missing"
      ? "no certificate found (expected PEM, DER, base64 or RFC 9440)"
      : decoded.error.detail;
    return err({ file, message: `${file}: ${what}`, cause: decoded.error });
  }
  return ok(decoded.value);
}

/** Reads every CRL in `file`: PEM ("X509 CRL" blocks) or DER (one or several concatenated), each parsed. */
export async function readCrlFile(file: string): Promise<Result<Uint8Array[], InputError>> {
  const bytes = await readBytes(file, MAX_CRL_FILE_BYTES);
  if (!bytes.ok) return bytes;
  const input = asDecoderInput(bytes.value);
  let ders: Uint8Array[];
  if (typeof input === "string") {
    const blocks = decodePemBlocks(input, "X509 CRL", {
      maxBytes: MAX_CRL_FILE_BYTES,
      maxCount: MAX_CRLS_PER_FILE,
      maxBlockBytes: MAX_CRL_BYTES,
    });
    if (!blocks.ok) {
      // decodePemBlocks words its details for certificates; say what this file was expected to be.
      const what = blocks.error.code === "certificate_missing" ? "no CRL found (expected PEM or DER)" : `not a CRL file: ${blocks.error.detail}`;
      return err({ file, message: `${file}: ${what}`, cause: blocks.error });
    }
    ders = blocks.value;
  } else {
    const split = splitDerSequences(input);
    if (typeof split === "string") return err({ file, message: `${file}: not a DER or PEM CRL file: ${split}` });
    ders = split;
  }
  for (const [index, der] of ders.entries()) {
    const parsed = parseCrl(der);
    if (!parsed.ok) return err({ file, message: `${file}: CRL at index ${index}: ${parsed.error.detail}`, cause: parsed.error });
  }
  return ok(ders);
}

/** Concatenated DER SEQUENCEs, each at most MAX_CRL_BYTES; a description of the fault otherwise. */
function splitDerSequences(bytes: Uint8Array): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const element = readDerElement(bytes, offset);
    if (typeof element === "string") return `${element} at byte ${offset}`;
    if (element.tagClass !== 0 || !element.constructed || element.tagNumber !== 16) return `no DER SEQUENCE at byte ${offset}`;
    if (element.end - offset > MAX_CRL_BYTES) return `a CRL is larger than ${MAX_CRL_BYTES} bytes`;
    if (out.length >= MAX_CRLS_PER_FILE) return `more than ${MAX_CRLS_PER_FILE} CRLs`;
    out.push(bytes.slice(offset, element.end));
    offset = element.end;
  }
  return out;
}

/**
 * DER stays bytes (first byte 0x30, a SEQUENCE); anything else is text, decoded as UTF-8 (a BOM is dropped).
 * Bytes that are not UTF-8 stay bytes, so the decoder reports them as neither DER nor text.
 */
function asDecoderInput(bytes: Uint8Array): string | Uint8Array {
  if (bytes.length === 0 || bytes[0] === 0x30) return bytes;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return bytes;
  }
}

let stdinBytes: Promise<Result<Uint8Array, string>> | null = null;

/** The bytes of `file` ("-" = standard input), refused past `maxBytes` before they are all read. */
async function readBytes(file: string, maxBytes: number): Promise<Result<Uint8Array, InputError>> {
  if (file === "-") {
    stdinBytes ??= readStdin(maxBytes);
    const r = await stdinBytes;
    return r.ok ? r : err({ file: "(stdin)", message: `(stdin): ${r.error}` });
  }
  let handle: FileHandle;
  try {
    handle = await open(file, "r");
  } catch (e) {
    return err({ file, message: `${file}: cannot open: ${systemMessage(e)}` });
  }
  try {
    const stat = await handle.stat();
    if (stat.isDirectory()) return err({ file, message: `${file}: is a directory` });
    if (stat.size > maxBytes) return err({ file, message: `${file}: larger than ${maxBytes} bytes (${stat.size})` });
    const data = await handle.readFile();
    if (data.byteLength > maxBytes) return err({ file, message: `${file}: larger than ${maxBytes} bytes` });
    return ok(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  } catch (e) {
    return err({ file, message: `${file}: cannot read: ${systemMessage(e)}` });
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function readStdin(maxBytes: number): Promise<Result<Uint8Array, string>> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of stdin as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) return err(`larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (e) {
    return err(`cannot read: ${systemMessage(e)}`);
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.byteLength;
  }
  return ok(out);
}

const SYSTEM_MESSAGES: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EISDIR: "is a directory",
  ENOTDIR: "a path component is not a directory",
  ELOOP: "too many symbolic links",
};

/** "no such file or directory" rather than "ENOENT: no such file or directory, open 'x'" (the path is already named). */
function systemMessage(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") return SYSTEM_MESSAGES[code] ?? code;
  return e instanceof Error ? e.message : String(e);
}
