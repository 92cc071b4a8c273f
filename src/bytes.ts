/**
 * Byte helpers shared across the engine: hex renderings, byte equality, bytes as a Latin-1 string, joining
 * chunks, and reading a stream up to a cap.
 * Contract: pure and synchronous, except readCapped, which reads only the stream it is given.
 */

const HEX_LOWER = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX_UPPER = HEX_LOWER.map((h) => h.toUpperCase());

/** Uppercase hex of bytes (serials, thumbprints, key identifiers). */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX_UPPER[b];
  return s;
}

/** Lowercase hex of bytes (SHA-256 fingerprints, comparison keys). */
export function toHexLower(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += HEX_LOWER[b];
  return s;
}

/** Byte equality (not constant-time; nothing secret is compared with it). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Each byte as the character of the same code (ISO 8859-1). */
export function latin1(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

/** The chunks joined into one array, in order. */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const c of chunks) size += c.byteLength;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Reads `stream` to its end, or null (and the stream cancelled) as soon as it holds more than `maxBytes`: the cap
 * is checked per chunk, before the chunk is kept.
 */
export async function readCapped(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array | null> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  return concatBytes(chunks);
}
