/**
 * policy/expr/uri — `new Uri(string)` (System.Uri, https://learn.microsoft.com/dotnet/api/system.uri) with the
 * members policies read: Scheme, Host, Port, AbsolutePath, Query, PathAndQuery, Fragment, AbsoluteUri,
 * OriginalString, IsDefaultPort, ToString().
 *
 * An absolute URI only: a relative or malformed string is .NET's UriFormatException ("Invalid URI: The format of
 * the URI could not be determined."), null an ArgumentNullException. Parsing is the platform's URL parser (WHATWG),
 * which canonicalizes http(s) URIs as .NET does for the members here: scheme and host lower-cased, the default port
 * dropped from AbsoluteUri, an empty path as "/", dot segments removed, characters outside the URI syntax
 * percent-encoded. Per .NET's documentation of each member:
 * - Port: the URI's port, or the scheme's default (80, 443 …), -1 for a scheme with none;
 * - Query: "?…" or "" (Uri.Query), Fragment: "#…" or "";
 * - ToString(): the canonical form unescaped — every %XX decoded except those of "#", "?" and "%" (Uri.ToString's
 *   remarks) — where AbsoluteUri keeps the escapes.
 * Other schemes parse as the URL parser does; where .NET's parsing of an unusual URI (a `file:` path, an IDN host)
 * differs, the member values may differ: the policies in the public corpora use http(s) URLs only.
 *
 * Contract: pure.
 */
import type { InterpreterValue, Value } from "./host";
import { noOverload } from "./arguments";
import type { Arg, Rt } from "./runtime";

/** A System.Uri. */
export class CsUri implements InterpreterValue {
  readonly __interpreterValue = true as const;
  constructor(readonly url: URL, readonly original: string) {}
}

const DEFAULT_PORTS: Readonly<Record<string, number>> = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443, "ftp:": 21 };

/** `new Uri(s)`. */
export function newUri(rt: Rt, args: readonly Value[]): CsUri {
  if (args.length !== 1) return noOverload(rt, "new Uri");
  const s = args[0];
  if (s === null) return rt.fail("ArgumentNullException", "Value cannot be null. (Parameter 'uriString')");
  if (typeof s !== "string") return noOverload(rt, "new Uri");
  // .NET trims surrounding white space; an absolute URI starts with a scheme.
  const text = s.trim();
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(text) || !URL.canParse(text)) {
    return rt.fail("UriFormatException", "Invalid URI: The format of the URI could not be determined.");
  }
  return new CsUri(new URL(text), s);
}

/** ToString(): every %XX unescaped except "#", "?" and "%" themselves; invalid UTF-8 sequences stay escaped. */
function unescapeCanonical(href: string): string {
  return href.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const keep = /^%(23|3F|25)$/i;
    let out = "";
    let pending: string[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      try {
        out += decodeURIComponent(pending.join(""));
      } catch {
        out += pending.join("");
      }
      pending = [];
    };
    for (const esc of run.match(/%[0-9A-Fa-f]{2}/g)!) {
      if (keep.test(esc)) {
        flush();
        out += esc;
      } else pending.push(esc);
    }
    flush();
    return out;
  });
}

/** Uri's members; undefined when `name` is not one. */
export function uriMember(rt: Rt, u: CsUri, name: string, args: readonly Arg[] | null): Value | undefined {
  const url = u.url;
  if (args !== null) {
    if (name === "ToString" && args.length === 0) return rt.str(unescapeCanonical(url.href));
    return undefined;
  }
  switch (name) {
    case "Scheme":
      return url.protocol.slice(0, -1);
    case "Host":
      return url.hostname;
    case "Port":
      return url.port !== "" ? Number(url.port) : DEFAULT_PORTS[url.protocol] ?? -1;
    case "IsDefaultPort":
      return url.port === "";
    case "AbsolutePath":
      return url.pathname === "" ? "/" : url.pathname;
    case "Query":
      return url.search;
    case "PathAndQuery":
      return (url.pathname === "" ? "/" : url.pathname) + url.search;
    case "Fragment":
      return url.hash;
    case "AbsoluteUri":
      return url.href;
    case "OriginalString":
      return u.original;
    default:
      return undefined;
  }
}
