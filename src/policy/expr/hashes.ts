/**
 * policy/expr/hashes — System.Security.Cryptography's hash algorithms for expressions: SHA1, SHA256, SHA384,
 * SHA512 (`SHA256.Create().ComputeHash(bytes)`, `SHA256.HashData(bytes)`) and their HMACs
 * (`new HMACSHA256(key).ComputeHash(bytes)`), as learn.microsoft.com/dotnet/api/system.security.cryptography.hmacsha256
 * and .sha256 describe them (ComputeHash(byte[]) → the digest; a null buffer is an ArgumentNullException).
 *
 * The only importer of @noble/hashes. Why that library: expressions run synchronously (the interpreter has no
 * await), and WebCrypto's digest and sign are async only; @noble/hashes is synchronous, pure JavaScript (no Node
 * or WebCrypto APIs, so it runs in workerd as in Node), has no dependencies, is audited, and is already in the
 * bundle as pkijs's dependency — naming it adds no code. Hashing is charged to the step budget by the caller.
 *
 * Contract: pure functions of bytes.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha1 } from "@noble/hashes/legacy.js";
import { sha256, sha384, sha512 } from "@noble/hashes/sha2.js";

export const HASH_ALGORITHMS = ["SHA1", "SHA256", "SHA384", "SHA512"] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

const HASHES = { SHA1: sha1, SHA256: sha256, SHA384: sha384, SHA512: sha512 } as const;

/** The digest of `data`; with a key, its HMAC (RFC 2104) under that key. */
export function computeHash(algorithm: HashAlgorithm, key: Uint8Array | null, data: Uint8Array): Uint8Array {
  const h = HASHES[algorithm];
  return key === null ? h(data) : hmac(h, key, data);
}
