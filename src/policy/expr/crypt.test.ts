/**
 * byte[].Encrypt / Decrypt through the interpreter, against NIST SP 800-38A's CBC-AES vectors (F.2.1 CBC-AES128,
 * F.2.5 CBC-AES256): with .NET's default PKCS #7 padding the ciphertext of whole blocks is the NIST ciphertext plus
 * one block of padding (16 bytes of 0x10, encrypted), which is what .NET's Aes in CBC mode returns too.
 */
import { describe, expect, it } from "vitest";
import { checkTypes } from "./check-types";
import { parseCode } from "./parse";
import { failure, failureReason, runText } from "./test-context";

/** A byte[] expression of hex bytes (as base64: certgate's Convert has ToHexString, not FromHexString). */
const hex = (h: string) => `Convert.FromBase64String("${btoa(String.fromCharCode(...(h.match(/../g) ?? []).map((b) => parseInt(b, 16))))}")`;
const IV = "000102030405060708090A0B0C0D0E0F";
const KEY128 = "2B7E151628AED2A6ABF7158809CF4F3C";
const KEY256 = "603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4";
const PLAIN = "6BC1BEE22E409F96E93D7E117393172AAE2D8A571E03AC9C9EB76FAC45AF8E5130C81C46A35CE411E5FBC1191A0A52EFF69F2445DF4F9B17AD2B417BE66C3710";

describe("byte[].Encrypt / Decrypt (AES-CBC, PKCS #7)", () => {
  it("encrypts as NIST SP 800-38A's CBC-AES128 and CBC-AES256 vectors, plus one padding block", () => {
    const c128 = runText(`@(Convert.ToHexString(${hex(PLAIN)}.Encrypt("Aes", ${hex(KEY128)}, ${hex(IV)})))`);
    expect(c128.length).toBe(160);
    expect(c128.slice(0, 128)).toBe("7649ABAC8119B246CEE98E9B12E9197D5086CB9B507219EE95DB113A917678B273BED6B8E3C1743B7116E69E222295163FF1CAA1681FAC09120ECA307586E1A7");
    const c256 = runText(`@(Convert.ToHexString(${hex(PLAIN)}.Encrypt("System.Security.Cryptography.AesManaged", ${hex(KEY256)}, ${hex(IV)})))`);
    expect(c256.slice(0, 128)).toBe("F58C4C04D6E5F1BA779EABFB5F7BFBD69CFC4E967EDB808D679F777BC6702C7D39F23369A9D9BACFA530E26304231461B2EB05E2C39BE9FCDA6C19078C6A9D1B");
  });

  it("decrypts back, including a text of no whole blocks (the cookie pattern of the public snippets)", () => {
    expect(runText(`@(Convert.ToHexString(${hex("7649ABAC8119B246CEE98E9B12E9197D8964E0B149C10B7B682E6E39AAEB731C")}.Decrypt("aes", ${hex(KEY128)}, ${hex(IV)})))`))
      .toBe("6BC1BEE22E409F96E93D7E117393172A");
    expect(runText(`@{ var key = ${hex(KEY256)}; var iv = ${hex(IV)}; var c = Encoding.UTF8.GetBytes("session=é42").Encrypt("Aes", key, iv); return c.Length + " " + Encoding.UTF8.GetString(c.Decrypt("Aes", key, iv)); }`))
      .toBe("16 session=é42");
  });

  it("wrong sizes, bad padding and nulls fail as .NET does", () => {
    expect(failure(`@(${hex(PLAIN)}.Encrypt("Aes", ${hex("00")}, ${hex(IV)}))`).message).toBe("Specified key is not a valid size for this algorithm.");
    expect(failureReason(`@(${hex(PLAIN)}.Encrypt("Aes", ${hex(KEY128)}, ${hex("0001")}))`)).toBe("CryptographicException");
    expect(failure(`@(${hex("00112233")}.Decrypt("Aes", ${hex(KEY128)}, ${hex(IV)}))`).message).toBe("The input data is not a complete block.");
    // A whole block whose last byte is not valid padding once decrypted: NIST's first ciphertext block alone.
    expect(failure(`@(${hex("7649ABAC8119B246CEE98E9B12E9197D")}.Decrypt("Aes", ${hex(KEY128)}, ${hex(IV)}))`).message).toBe("Padding is invalid and cannot be removed.");
    expect(failureReason(`@(${hex(PLAIN)}.Encrypt("Aes", null, ${hex(IV)}))`)).toBe("ArgumentNullException");
    expect(failureReason(`@{ try { ${hex("00")}.Decrypt("Aes", ${hex(KEY128)}, ${hex(IV)}); return "no"; } catch (CryptographicException e) { return "caught"; } }`)).toBe("none");
    // A name computed at run time that is not AES's.
    expect(failureReason(`@(${hex(PLAIN)}.Encrypt("D" + "ES", ${hex(KEY128)}, ${hex(IV)}))`)).toBe("NotSupportedException");
  });

  it("a literal algorithm other than AES is a compile error; Encrypt is a byte[] member only", () => {
    const errors = (source: string) => {
      const r = parseCode(source, "t.xml", [1, 1]);
      if (!r.ok) throw new Error(r.errors[0]!.message);
      return checkTypes(r.code).map((e) => e.message);
    };
    expect(errors(`@(Encoding.UTF8.GetBytes("a").Encrypt("TripleDES", new byte[24], new byte[8]))`)).toEqual(['unsupported algorithm: Encrypt runs AES only here (Aes, AesManaged, AesCryptoServiceProvider), not "TripleDES"']);
    expect(errors(`@(Encoding.UTF8.GetBytes("a").Encrypt("Aes", new byte[16], new byte[16]))`)).toEqual([]);
    expect(errors(`@("a".Split(',').Encrypt("Aes", new byte[16], new byte[16]))`)).toHaveLength(1);
  });
});
