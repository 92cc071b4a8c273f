/**
 * Name constraints, RFC 5280 §4.2.1.10 and §6.1.3 (b)(c), §6.1.4 (g).
 *
 * Contract: pure, synchronous, budgeted (every name-vs-subtree comparison counts against
 * NAME_CONSTRAINT_COMPARISON_BUDGET; exhausting it is fatal for the validation).
 *
 * State: `permitted` is a list of subtree sets, one per CA that carried permittedSubtrees — a name must fall
 * inside every set that has subtrees of its type (that is the intersection of §6.1.4 (g)(1) without
 * computing it); `excluded` is the union of all excludedSubtrees (§6.1.4 (g)(2)).
 *
 * Matching: dNSName — "example.com" matches itself and any subdomain, ".example.com" subdomains only,
 * case-insensitive; rfc822Name — a full mailbox matches exactly (host case-insensitive), "host" every
 * mailbox at host, ".host" mailboxes in subdomains; URI — the constraint applies to the host part like
 * dNSName (a URI without a host fails a permitted URI constraint); iPAddress — address/mask, IPv4 and IPv6
 * never match each other; directoryName — the constraint's RDNs are a prefix of the subject's (DER order).
 * The subject's emailAddress attributes are checked as rfc822Names. Other name forms in a constraint
 * (otherName, x400, ediParty, registeredID) cannot be checked: such a permitted/excluded subtree makes the
 * path invalid when the certificate has a name of that form, and is ignored otherwise. Likewise a directoryName
 * that is not a Name in DER, on either side (cert/dn.ts gives it no RDNs to compare): fail closed, it counts as
 * inside every excluded subtree and outside every permitted one.
 */
import type { GeneralName, ParsedCertificate } from "../cert/parse";
import { rdnKeys } from "../cert/dn";
import { formatIp } from "../cert/model";
import { dnsNameProblem } from "./profile";

export interface NameConstraintState {
  readonly permitted: ReadonlyArray<readonly GeneralName[]>;
  readonly excluded: readonly GeneralName[];
}

export const EMPTY_NAME_CONSTRAINTS: NameConstraintState = { permitted: [], excluded: [] };

export type NameCheck = { ok: true } | { ok: false; budget: boolean; name: string; reason: "excluded" | "not_permitted" };

export class ComparisonBudget {
  constructor(public remaining: number) {}
  spend(): boolean {
    return --this.remaining >= 0;
  }
}

/** Adds a CA's nameConstraints to the state (§6.1.4 (g)). */
export function addNameConstraints(state: NameConstraintState, cert: ParsedCertificate): NameConstraintState {
  const nc = cert.extensions.nameConstraints;
  if (!nc) return state;
  return {
    permitted: nc.permitted && nc.permitted.length > 0 ? [...state.permitted, nc.permitted] : state.permitted,
    excluded: nc.excluded && nc.excluded.length > 0 ? [...state.excluded, ...nc.excluded] : state.excluded,
  };
}

/** Checks the subject DN, subject emailAddress attributes and SANs of `cert` (§6.1.3 (b)(c)). */
export function checkNameConstraints(state: NameConstraintState, cert: ParsedCertificate, budget: ComparisonBudget): NameCheck {
  if (state.permitted.length === 0 && state.excluded.length === 0) return { ok: true };
  const names: GeneralName[] = [];
  if (!cert.subjectEmpty) names.push({ type: "dirName", key: cert.subjectKey, name: cert.subject });
  for (const email of cert.subjectEmails) names.push({ type: "email", value: email });
  const sans = cert.extensions.subjectAltName ?? [];
  for (const san of sans) names.push(san);
  // Without a subjectAltName, a CN that is a host name is the name clients match (.NET's GetNameInfo(DnsName), which
  // policies read, falls back to it): a constrained CA must not be able to issue CN=www.outside.example. OpenSSL
  // does this whenever there is no DNS SAN; BetterTLS and webpki ignore the CN once any SAN is present (88
  // BetterTLS cases have an IP SAN beside a CN in an excluded subtree and must pass), so certgate checks the CN
  // only when there is no SAN at all.
  if (cert.extensions.subjectAltName === undefined) {
    for (const cn of cert.subjectCommonNames) if (cn.includes(".") && dnsNameProblem(cn, true) === null) names.push({ type: "dns", value: cn });
  }
  for (const name of names) {
    for (const ex of state.excluded) {
      if (!budget.spend()) return { ok: false, budget: true, name: describe(name), reason: "excluded" };
      if (sameForm(name, ex) && (matches(name, ex) !== false || wildcardReaches(name, ex))) {
        return { ok: false, budget: false, name: describe(name), reason: "excluded" };
      }
    }
    for (const set of state.permitted) {
      const ofType = set.filter((c) => sameForm(name, c));
      if (ofType.length === 0) continue;
      let inside = false;
      for (const c of ofType) {
        if (!budget.spend()) return { ok: false, budget: true, name: describe(name), reason: "not_permitted" };
        if (matches(name, c) === true) {
          inside = true;
          break;
        }
      }
      if (!inside) return { ok: false, budget: false, name: describe(name), reason: "not_permitted" };
    }
  }
  return { ok: true };
}

function sameForm(name: GeneralName, c: GeneralName): boolean {
  if (name.type === "other" && c.type === "other") return name.tag === c.tag;
  return name.type === c.type;
}

function describe(n: GeneralName): string {
  switch (n.type) {
    case "dns":
    case "email":
    case "uri":
      return `${n.type}:${n.value}`;
    case "ip":
      return `ip:${formatIp(n.bytes)}`;
    case "dirName":
      return "dirName";
    case "other":
      return `otherName[${n.tag}]`;
  }
}


/** Whether `name` is inside the subtree `c`; null when that cannot be decided (see the header): fail closed. */
function matches(name: GeneralName, c: GeneralName): boolean | null {
  switch (c.type) {
    case "dns":
      return name.type === "dns" && dnsMatches(name.value, c.value);
    case "email":
      return name.type === "email" && emailMatches(name.value, c.value);
    case "uri": {
      if (name.type !== "uri") return false;
      // A URI without a host, with an IP literal or with a host that is not a plain host name (a trailing dot,
      // percent-encoding) cannot be compared to a host constraint: undecidable, so fail closed.
      const host = uriHost(name.value);
      if (host === null || host.startsWith("[") || dnsNameProblem(host, false) !== null) return null;
      return hostMatches(host, c.value);
    }
    case "ip":
      return name.type === "ip" && ipMatches(name.bytes, c.bytes);
    case "dirName":
      return name.type === "dirName" && dirNameMatches(name, c);
    case "other":
      return null;
  }
}

function dnsMatches(name: string, constraint: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  const c = constraint.toLowerCase().replace(/\.$/, "");
  if (c === "") return true;
  if (c.startsWith(".")) return n.endsWith(c);
  return n === c || n.endsWith("." + c);
}

/**
 * A wildcard dNSName `*.base` stands for every `label.base`: it reaches an excluded subtree that is one such name
 * (`foo.base`), though the text `*.base` is not inside it (the CVE-2025-61727 class: Go's crypto/x509 let
 * `*.example.com` pass an excluded `foo.example.com`).
 */
function wildcardReaches(name: GeneralName, c: GeneralName): boolean {
  if (name.type !== "dns" || c.type !== "dns" || !name.value.startsWith("*.")) return false;
  const base = name.value.slice(2).toLowerCase().replace(/\.$/, "");
  const excluded = c.value.toLowerCase().replace(/\.$/, "").replace(/^\./, "");
  if (!excluded.endsWith("." + base)) return false;
  return !excluded.slice(0, -(base.length + 1)).includes(".");
}

/** URI constraints name hosts: ".example.com" = subdomains only, "example.com" = exactly that host (§4.2.1.10). */
function hostMatches(host: string, constraint: string): boolean {
  const h = host.toLowerCase();
  const c = constraint.toLowerCase();
  if (c.startsWith(".")) return h.endsWith(c);
  return h === c;
}

function emailMatches(name: string, constraint: string): boolean {
  const at = name.lastIndexOf("@");
  if (at < 0) return false;
  // A quoted local part that needs no quotes is the same mailbox (RFC 5321 §4.1.2): "admin"@x is admin@x.
  const local = name.slice(0, at).replace(/^"([A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]*)"$/, "$1");
  const host = name.slice(at + 1).toLowerCase();
  if (constraint.includes("@")) {
    const cat = constraint.lastIndexOf("@");
    return local === constraint.slice(0, cat) && host === constraint.slice(cat + 1).toLowerCase();
  }
  const c = constraint.toLowerCase();
  if (c.startsWith(".")) return host.endsWith(c);
  return host === c;
}

function uriHost(uri: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  if (!m || !m[1]) return null;
  return m[1];
}

function ipMatches(addr: Uint8Array, constraint: Uint8Array): boolean {
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is its IPv4 address to an IPv4 constraint.
  if (addr.length === 16 && constraint.length === 8 && addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff) {
    addr = addr.subarray(12);
  }
  if (constraint.length !== addr.length * 2) return false;
  const n = addr.length;
  for (let i = 0; i < n; i++) {
    const mask = constraint[n + i]!;
    if ((addr[i]! & mask) !== (constraint[i]! & mask)) return false;
  }
  return true;
}

function dirNameMatches(name: Extract<GeneralName, { type: "dirName" }>, c: Extract<GeneralName, { type: "dirName" }>): boolean | null {
  const subject = rdnKeys(name.name);
  const prefix = rdnKeys(c.name);
  if (subject === null || prefix === null) return null;
  if (prefix.length > subject.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== subject[i]) return false;
  return true;
}
