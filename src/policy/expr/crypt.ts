/**
 * policy/expr/crypt — APIM's `byte[]` extensions `Encrypt(alg, key, iv)` and `Decrypt(alg, key, iv)`
 * (https://learn.microsoft.com/azure/api-management/api-management-policy-expressions: "byte[] Encrypt(input: this
 * byte[], alg: string, key: byte[], iv: byte[])" — alg the name of a symmetric algorithm — and the same Decrypt).
 *
 * APIM creates the algorithm from its name as .NET's SymmetricAlgorithm.Create(name) does and uses its defaults:
 * for AES, cipher-block chaining with PKCS #7 padding (https://learn.microsoft.com/dotnet/api/system.security.
 * cryptography.symmetricalgorithm.mode — default CipherMode.CBC; .padding — default PaddingMode.PKCS7). So:
 * - the algorithm names are the ones .NET's CryptoConfig maps to AES: `Aes`, `AesManaged`,
 *   `AesCryptoServiceProvider` (also with the `System.Security.Cryptography.` prefix), compared as CryptoConfig
 *   does, ignoring case. DES, TripleDES, RC2 and Rijndael are not supported (a literal name is a compile error,
 *   check-types.ts; one computed at run time a NotSupportedException);
 * - the key is 16, 24 or 32 bytes and the IV 16, else a CryptographicException with .NET's message; a null
 *   argument is an ArgumentNullException;
 * - Decrypt of a ciphertext that is not whole blocks, or whose padding is wrong, is a CryptographicException.
 * The overloads taking a SymmetricAlgorithm object are not supported: certgate has no SymmetricAlgorithm type, so
 * `Aes.Create()` is already a compile error.
 *
 * The only importer of @noble/ciphers. Why that library: expressions run synchronously (the interpreter has no
 * await) and WebCrypto's AES is async only; @noble/ciphers is synchronous, pure JavaScript (runs in workerd as in
 * Node), has no dependencies, is audited, and is the sibling of @noble/hashes already in the bundle; only its AES
 * module is imported. Tested against NIST SP 800-38A's CBC-AES vectors (crypt.test.ts).
 *
 * Contract: pure functions of bytes; errors as { reason, message } for the caller to raise.
 */
import { cbc } from "@noble/ciphers/aes.js";

/** The algorithm names (lower-cased) that .NET's CryptoConfig maps to AES. */
export const AES_NAMES: ReadonlySet<string> = new Set(
  ["aes", "aesmanaged", "aescryptoserviceprovider"].flatMap((n) => [n, `system.security.cryptography.${n}`]),
);

/** Whether `name` names AES for SymmetricAlgorithm.Create. */
export function isAesName(name: string): boolean {
  return AES_NAMES.has(name.toLowerCase());
}

export type CryptResult = { readonly ok: true; readonly bytes: Uint8Array } | { readonly ok: false; readonly reason: string; readonly message: string };

const fail = (reason: string, message: string): CryptResult => ({ ok: false, reason, message });

/** `input.Encrypt(alg, key, iv)` (`decrypt` false) or `input.Decrypt(alg, key, iv)`. */
export function symmetricCrypt(decrypt: boolean, alg: string, input: Uint8Array, key: Uint8Array, iv: Uint8Array): CryptResult {
  if (!isAesName(alg)) return fail("NotSupportedException", `certgate runs ${decrypt ? "Decrypt" : "Encrypt"} with AES only, not "${alg}"`);
  if (key.length !== 16 && key.length !== 24 && key.length !== 32) return fail("CryptographicException", "Specified key is not a valid size for this algorithm.");
  if (iv.length !== 16) return fail("CryptographicException", "Specified initialization vector (IV) does not match the block size for this algorithm.");
  const cipher = cbc(key, iv);
  if (!decrypt) return { ok: true, bytes: cipher.encrypt(input) };
  if (input.length % 16 !== 0) return fail("CryptographicException", "The input data is not a complete block.");
  try {
    return { ok: true, bytes: cipher.decrypt(input) };
  } catch {
    // The one failure left once lengths are right: the last block's PKCS #7 padding.
    return fail("CryptographicException", "Padding is invalid and cannot be removed.");
  }
}
