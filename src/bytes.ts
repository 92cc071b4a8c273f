/**
 * Byte helpers shared across the engine: hex renderings, byte equality, and bytes as a Latin-1 string.
 * Contract: pure, synchronous.
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
