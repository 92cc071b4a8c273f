/**
 * IP addresses and CIDR ranges, for the terminator allow-list.
 *
 * Contract: pure. IPv4 dotted quads and IPv6 (with `::` compression and an embedded IPv4 tail) are parsed
 * strictly; IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) match IPv4 ranges, as a dual-stack socket reports
 * IPv4 peers that way. Anything unparseable never matches.
 */
import { err, ok, type Result } from "../result";

export interface AddressRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

/** Parses an IP address to 4 or 16 bytes, or null. */
export function parseIp(text: string): Uint8Array | null {
  const t = text.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) {
    const parts = t.split(".").map(Number);
    if (parts.some((p, i) => p > 255 || (t.split(".")[i]!.length > 1 && t.split(".")[i]!.startsWith("0")))) return null;
    return new Uint8Array(parts);
  }
  if (!t.includes(":") || !/^[0-9a-fA-F:.]+$/.test(t)) return null;
  let head = t;
  let v4: Uint8Array | null = null;
  const lastColon = t.lastIndexOf(":");
  if (t.slice(lastColon + 1).includes(".")) {
    v4 = parseIp(t.slice(lastColon + 1));
    if (!v4 || v4.length !== 4) return null;
    head = t.slice(0, lastColon + 1) + "0:0";
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const group = (s: string) => (s === "" ? [] : s.split(":"));
  const left = group(halves[0]!);
  const right = halves.length === 2 ? group(halves[1]!) : [];
  const total = left.length + right.length;
  if ((halves.length === 1 && total !== 8) || (halves.length === 2 && total > 7)) return null;
  const words = [...left, ...Array(8 - total).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
    const n = parseInt(w, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  }
  if (v4) out.set(v4, 12);
  return out;
}

/** Parses "a, b/len, …" into ranges. */
export function parseAddressList(text: string): Result<AddressRange[], string> {
  const ranges: AddressRange[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const [addr, len, extra] = item.split("/");
    const bytes = parseIp(addr ?? "");
    if (!bytes || extra !== undefined) return err(`${JSON.stringify(item)} is not an IP address or CIDR range`);
    const max = bytes.length * 8;
    const prefix = len === undefined ? max : Number(len);
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (len !== undefined && !/^\d+$/.test(len))) {
      return err(`${JSON.stringify(item)} has an invalid prefix length`);
    }
    ranges.push({ bytes, prefix });
  }
  if (ranges.length === 0) return err("no address given");
  return ok(ranges);
}

/** True when `ip` (text) is inside any of `ranges`. */
export function addressAllowed(ip: string | null, ranges: readonly AddressRange[]): boolean {
  if (!ip) return false;
  let bytes = parseIp(ip);
  if (!bytes) return false;
  if (bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    bytes = bytes.slice(12);
  }
  for (const r of ranges) {
    if (r.bytes.length !== bytes.length) continue;
    let inside = true;
    for (let bit = 0; bit < r.prefix; bit++) {
      const mask = 0x80 >> (bit & 7);
      if ((bytes[bit >> 3]! & mask) !== (r.bytes[bit >> 3]! & mask)) {
        inside = false;
        break;
      }
    }
    if (inside) return true;
  }
  return false;
}
