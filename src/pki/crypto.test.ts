import { describe, expect, it } from "vitest";
import { ecdsaDerToRaw } from "./crypto";

/** DER of SEQUENCE { INTEGER r, INTEGER s } from the INTEGERs' content octets. */
function sig(...ints: number[][]): Uint8Array {
  const body = ints.flatMap((c) => [0x02, c.length, ...c]);
  return Uint8Array.from([0x30, body.length, ...body]);
}

describe("ecdsaDerToRaw (ECDSA-Sig-Value → r||s)", () => {
  it("left-pads r and s to the curve size and drops a sign octet", () => {
    expect([...ecdsaDerToRaw(sig([0x01, 0x02], [0x00, 0x80, 0x01]), 4)!]).toEqual([0, 0, 1, 2, 0, 0, 0x80, 1]);
  });

  it("rejects what is not exactly one DER SEQUENCE of two non-negative INTEGERs that fit", () => {
    const bad: Array<[string, Uint8Array]> = [
      ["negative r", sig([0x80], [0x01])],
      ["empty INTEGER", sig([], [0x01])],
      ["three INTEGERs", sig([1], [2], [3])],
      ["one INTEGER", sig([1])],
      ["too large for the curve", sig([1, 2, 3, 4, 5], [1])],
      ["trailing bytes", Uint8Array.from([...sig([1], [2]), 0x00])],
      ["non-minimal length (BER)", Uint8Array.from([0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02])],
      ["indefinite length", Uint8Array.from([0x30, 0x80, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x00, 0x00])],
      ["a SET, not a SEQUENCE", Uint8Array.from([0x31, ...sig([1], [2]).subarray(1)])],
      ["an OCTET STRING for s", Uint8Array.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x04, 0x01, 0x02])],
      ["truncated", sig([1], [2]).subarray(0, 6)],
      ["empty input", new Uint8Array(0)],
      // A padded INTEGER is the same number, so it would verify: a re-encoded twin with another SHA-256.
      ["non-minimal r (00 01 02)", sig([0x00, 0x01, 0x02], [0x01])],
      ["non-minimal s (00 00 80 01)", sig([0x01], [0x00, 0x00, 0x80, 0x01])],
      ["zero r", sig([0x00], [0x01])],
    ];
    for (const [what, der] of bad) expect([what, ecdsaDerToRaw(der, 4)]).toEqual([what, null]);
  });
});
