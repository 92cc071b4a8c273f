/**
 * SHA-1/2 and HMAC through the interpreter, against the published test vectors (FIPS 180-2 "abc"; RFC 4231 test
 * case 2 for HMAC-SHA-256/512; RFC 2202 test case 2 for HMAC-SHA-1), which .NET's ComputeHash returns too.
 */
import { describe, expect, it } from "vitest";
import { failureReason, run, runText } from "./test-context";

const bytes = (s: string) => `Encoding.UTF8.GetBytes("${s}")`;

describe("hashes and HMACs", () => {
  it.each([
    [`@(Convert.ToHexString(SHA256.Create().ComputeHash(${bytes("abc")})))`, "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"],
    [`@(Convert.ToBase64String(SHA256.HashData(${bytes("abc")})))`, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="],
    [`@(Convert.ToHexString(SHA1.Create().ComputeHash(${bytes("abc")})))`, "A9993E364706816ABA3E25717850C26C9CD0D89D"],
    [`@(Convert.ToHexString(SHA512.HashData(${bytes("abc")})).Substring(0, 16))`, "DDAF35A193617ABA"],
    [`@(Convert.ToHexString(new HMACSHA256(${bytes("Jefe")}).ComputeHash(${bytes("what do ya want for nothing?")})))`, "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"],
    [`@(Convert.ToHexString(new System.Security.Cryptography.HMACSHA1(${bytes("Jefe")}).ComputeHash(${bytes("what do ya want for nothing?")})))`, "EFFCDF6AE5EB2FA2D27416D5F184DF9C259A7C79"],
    [`@(Convert.ToHexString(new HMACSHA512(${bytes("Jefe")}).ComputeHash(${bytes("what do ya want for nothing?")})).Substring(0, 16))`, "164B7A7BFCF819E2"],
    [`@(Convert.ToHexString(new HMACSHA256(${bytes("Jefe")}).ComputeHash(${bytes("xxwhat do ya want for nothing?")}, 2, 28)))`, "5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC3843"],
    // A signature as the public snippets build one: base64 of HMAC-SHA256 over a string to sign.
    [`@{ var key = Convert.FromBase64String("c2VjcmV0"); var sig = new HMACSHA256(key).ComputeHash(Encoding.UTF8.GetBytes("GET\\n/orders")); return Convert.ToBase64String(sig).Length; }`, "44"],
  ])("%s → %s", (source, expected) => {
    expect(runText(source)).toBe(expected);
  });

  it("null buffers and keys are ArgumentNullExceptions; a key is required", () => {
    const reason = failureReason;
    expect(reason(`@(SHA256.Create().ComputeHash(null))`)).toBe("ArgumentNullException");
    expect(reason(`@(new HMACSHA256(null))`)).toBe("ArgumentNullException");
    expect(reason(`@(new HMACSHA256())`)).toBe("RuntimeBinderException");
  });
});
