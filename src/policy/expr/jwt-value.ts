/**
 * policy/expr/jwt-value — APIM's `Jwt` type in expressions: what `"…".AsJwt()`, `"…".TryParseJwt(out var jwt)` and
 * validate-jwt's output-token-variable-name give. APIM policy expressions reference, "Jwt" and the string extension
 * methods AsJwt / TryParseJwt (https://learn.microsoft.com/azure/api-management/api-management-policy-expressions#ref-jwt).
 *
 * Contract: pure, synchronous, never throws. Parsing does NOT validate (no signature, time or audience check), as in
 * APIM: a policy that trusts a token's claims must validate it with validate-jwt first. A compact JWS (three
 * base64url parts, JSON header and payload) parses; anything else (a JWE, garbage, a payload that is not a JSON
 * object) is null. Decoding is jose's (`decodeJwt`, `decodeProtectedHeader`), the library validate-jwt uses.
 *
 * Members (types.ts "Jwt"): Algorithm (header `alg`), Audiences (`aud`, a string or an array → string[]), Claims
 * (every payload claim as string[]: a string as itself, an array element by element, numbers/booleans/objects as
 * their JSON text — APIM's Claims is IReadOnlyDictionary<string, string[]>, GetValueOrDefault joins with ","),
 * ExpirationTime / IssuedAt / NotBefore (`exp` / `iat` / `nbf` as DateTime, null when absent), Id (`jti`),
 * Issuer (`iss`), Subject (`sub`), Type (header `typ`). A member whose claim is absent is null.
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { HostObject, Value } from "./host";
import { argCount, MultiValueDictionary } from "./multi-value";

/** Longest token text parsed (a JWT in a header fits in a few KiB; certgate's header caps are larger). */
export const MAX_JWT_CHARS = 64 * 1024;

type Claims = Readonly<Record<string, unknown>>;

/** A parsed (not validated) JWT as expressions see it. */
export class JwtValue implements HostObject {
  readonly typeName = "Jwt";
  private claims: MultiValueDictionary | undefined;

  constructor(
    private readonly text: string,
    private readonly header: Claims,
    private readonly payload: Claims,
  ) {}

  get(name: string): Value | undefined {
    const p = this.payload;
    switch (name) {
      case "Algorithm":
        return stringOrNull(this.header.alg);
      case "Type":
        return stringOrNull(this.header.typ);
      case "Audiences":
        return typeof p.aud === "string" ? [p.aud] : Array.isArray(p.aud) ? p.aud.map(claimText) : [];
      case "Claims":
        return (this.claims ??= new MultiValueDictionary(
          (claim) => (Object.hasOwn(p, claim) ? claimValues(p[claim]) : null),
          () => Object.keys(p),
        ));
      case "ExpirationTime":
        return dateOrNull(p.exp);
      case "IssuedAt":
        return dateOrNull(p.iat);
      case "NotBefore":
        return dateOrNull(p.nbf);
      case "Id":
        return stringOrNull(p.jti);
      case "Issuer":
        return stringOrNull(p.iss);
      case "Subject":
        return stringOrNull(p.sub);
      default:
        return undefined;
    }
  }

  call(name: string, args: readonly Value[]): Value | undefined {
    if (name !== "ToString") return undefined;
    argCount(name, args, 0, 0);
    return this.toString();
  }

  /** The token's text (what a policy forwards). */
  toString(): string {
    return this.text;
  }
}

/** Parses `text` as a JWT without validating it; null when it is not one (AsJwt's contract). */
export function parseJwtValue(text: string): JwtValue | null {
  const t = text.trim();
  if (t.length === 0 || t.length > MAX_JWT_CHARS || t.split(".").length !== 3) return null;
  try {
    const header = decodeProtectedHeader(t) as Claims;
    const payload = decodeJwt(t) as Claims;
    return new JwtValue(t, header, payload);
  } catch {
    return null;
  }
}

function stringOrNull(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** NumericDate (RFC 7519 §2): seconds since the epoch, possibly fractional. */
function dateOrNull(v: unknown): Date | null {
  if (typeof v !== "number" || !Number.isFinite(v)) return null;
  const d = new Date(v * 1000);
  return Number.isNaN(d.getTime()) ? null : d;
}

function claimText(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v) ?? "";
}

function claimValues(v: unknown): string[] {
  return Array.isArray(v) ? v.map(claimText) : [claimText(v)];
}
