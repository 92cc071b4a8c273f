/**
 * policy/ip — IP address literals for ip-filter: IPv4 dotted quads and IPv6 (RFC 4291 §2.2 text forms, `::`
 * compression, an embedded IPv4 tail), as numbers that order and compare. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, RFC 4291 §2.5.5.2) is its IPv4 address, so a filter written in one form matches a client
 * reported in the other.
 *
 * Contract: pure; null for anything that is not a literal address (no zone ids, no prefixes, no leading zeros
 * in IPv4 octets — ambiguous as octal elsewhere, so rejected rather than guessed).
 */

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(s: string): bigint | null {
  if (!V4.test(s)) return null;
  return s.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function parseV6(s: string): bigint | null {
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || s.length > 45) return null;
  let groups: string[];
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const split = (h: string) => (h === "" ? [] : h.split(":"));
  let tail: bigint | null = null;
  const expand = (parts: string[]): string[] | null => {
    const last = parts[parts.length - 1];
    if (last !== undefined && last.includes(".")) {
      tail = parseV4(last);
      if (tail === null) return null;
      return [...parts.slice(0, -1), "v4a", "v4b"];
    }
    return parts;
  };
  if (halves.length === 2) {
    const head = split(halves[0]!);
    const rest = expand(split(halves[1]!));
    if (rest === null || head.some((g) => g.includes("."))) return null;
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups = [...head, ...Array<string>(missing).fill("0"), ...rest];
  } else {
    const all = expand(split(s));
    if (all === null) return null;
    groups = all;
  }
  if (groups.length !== 8) return null;
  let value = 0n;
  for (const g of groups) {
    if (g === "v4a" || g === "v4b") continue;
    if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail !== null) value = (value << 32n) | tail;
  return value;
}

/** The address `text` denotes, or null. */
export function parseIp(text: string): IpAddress | null {
  const s = text.trim();
  const v4 = parseV4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = parseV6(s);
  if (v6 === null) return null;
  // ::ffff:a.b.c.d — an IPv4 client seen through an IPv6 socket.
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

/** Whether `ip` is `from` … `to` inclusive (same family). */
export function inRange(ip: IpAddress, from: IpAddress, to: IpAddress): boolean {
  return ip.family === from.family && ip.family === to.family && ip.value >= from.value && ip.value <= to.value;
}
