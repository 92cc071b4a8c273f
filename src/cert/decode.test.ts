import { describe, expect, it } from "vitest";
import { MAX_PRESENTED_BUNDLE_BYTES, MAX_PRESENTED_CHAIN } from "../limits";
import {
  decodeBase64,
  decodeBase64Portable,
  encodeBase64Portable,
  HAS_NATIVE_BASE64,
  decodeCertificate,
  decodeCertificates,
  decodePemBlocks,
  encodeBase64,
  readDerElement,
  type CertificateInput,
} from "./decode";

// Two real certificates, made once with
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test -days 3650
// (and /CN=test2). Their base64 holds '+' and '/', so URL-safe spellings differ from the standard ones.
const B64_1 =
  "MIIBczCCARmgAwIBAgIUS2v1Qo8e8MLH1OeTZ4P2V6+LKkowCgYIKoZIzj0EAwIwDzENMAsGA1UEAwwEdGVzdDAeFw0yNjExMjEyMzMzMDRaFw0z" +
  "NjExMTgyMzMzMDRaMA8xDTALBgNVBAMMBHRlc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQA8qBLFVmYfyIPrRwyxg9DjOhlGJcdztnyfmFi" +
  "PkU8Atc70bHgjeIUacspcdUnbrzv2MPalhjvkAsGNQSbubbQo1MwUTAdBgNVHQ4EFgQUmNnGMc5ZOAkRFB+cjfZfssW8M0swHwYDVR0jBBgwFoAU" +
  "mNnGMc5ZOAkRFB+cjfZfssW8M0swDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBaBV+XshoBKl4eFCC5LpHfqhntc6gahD+ZBBZ4" +
  "KwFT/QIhAOPKER1O3lYqRTpsmj/MId2Djgr3EosrFAN2DZLwb74k";
const B64_2 =
  "MIIBdjCCARugAwIBAgIUIINuelTYJd0Y94nXabZ0EWmuqH8wCgYIKoZIzj0EAwIwEDEOMAwGA1UEAwwFdGVzdDIwHhcNMjYxMTIxMjMzMzA0WhcN" +
  "MzYxMTE4MjMzMzA0WjAQMQ4wDAYDVQQDDAV0ZXN0MjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABB9cEu0Mr+AiobA26WTeZNda9bmAk+ubgZjp" +
  "yuMOZyFQp3w/znx2IAQP+BNGteyR5cx897cI/P2PKUpGjB9duJijUzBRMB0GA1UdDgQWBBRyB4QF4/uQaxp7gIYqLRv9/Q4b/TAfBgNVHSMEGDAW" +
  "gBRyB4QF4/uQaxp7gIYqLRv9/Q4b/TAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQC2W+ZvY5NU12uUigJrCR7iKGdAKavt8CWB" +
  "8NlzMHYVMwIhAIDXviptmvxyN+IZ7Wf/bb+MIop8CLvW08/aqDep6G2V";

/** Independent of the code under test: the platform's atob. */
function bytesFromBase64(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
const DER_1 = bytesFromBase64(B64_1);
const DER_2 = bytesFromBase64(B64_2);

function lines(b64: string, width = 64): string[] {
  return b64.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
}
function pem(b64: string, eol = "\n", label = "CERTIFICATE"): string {
  return [`-----BEGIN ${label}-----`, ...lines(b64), `-----END ${label}-----`].join(eol) + eol;
}
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
function toUrlSafe(b64: string): string {
  return b64.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

function decodedOk(input: CertificateInput, limits?: Parameters<typeof decodeCertificates>[1]): Uint8Array[] {
  const r = decodeCertificates(input, limits);
  if (!r.ok) throw new Error(`expected success, got ${r.error.code}: ${r.error.detail}`);
  return r.value;
}
function errorOf(input: CertificateInput, limits?: Parameters<typeof decodeCertificates>[1]) {
  const r = decodeCertificates(input, limits);
  if (r.ok) throw new Error(`expected an error, got ${r.value.length} certificate(s)`);
  return r.error;
}

describe("decodeCertificates: accepted forms", () => {
  const cases: Array<[string, CertificateInput, Uint8Array[]]> = [
    ["PEM with LF", pem(B64_1), [DER_1]],
    ["PEM with CRLF", pem(B64_1, "\r\n"), [DER_1]],
    ["PEM without a final newline", pem(B64_1).trimEnd(), [DER_1]],
    ["PEM on one line with spaces (Azure Application Gateway)", pem(B64_1, " ").trimEnd(), [DER_1]],
    ["PEM with newlines removed entirely", pem(B64_1, ""), [DER_1]],
    ["PEM with 76-column lines and tabs", ["-----BEGIN CERTIFICATE-----", ...lines(B64_1, 76), "-----END CERTIFICATE-----"].join("\n\t"), [DER_1]],
    [
      "PEM after `openssl x509 -text` output, with trailing text",
      "Certificate:\n    Data:\n        Version: 3 (0x2)\n        Subject: CN = test\n" + pem(B64_1) + "trailing notes\n",
      [DER_1],
    ],
    ["PEM bundle, in input order", pem(B64_2) + pem(B64_1), [DER_2, DER_1]],
    ["PEM bundle with text between blocks", `subject=CN=test\n${pem(B64_1)}\nsubject=CN=test2\n${pem(B64_2)}`, [DER_1, DER_2]],
    ["PEM as bytes", ascii(pem(B64_1)), [DER_1]],
    ["PEM as bytes with a UTF-8 BOM", concat(Uint8Array.of(0xef, 0xbb, 0xbf), ascii(pem(B64_1))), [DER_1]],
    ["bare base64 on one line", B64_1, [DER_1]],
    ["bare base64 with line breaks", lines(B64_1).join("\r\n"), [DER_1]],
    ["bare base64, URL-safe alphabet without padding", toUrlSafe(B64_1), [DER_1]],
    ["bare base64 of two concatenated DER certificates", encodeBase64(concat(DER_1, DER_2)), [DER_1, DER_2]],
    ["raw DER", DER_1, [DER_1]],
    ["raw DER bundle", concat(DER_2, DER_1), [DER_2, DER_1]],
    ["RFC 9440 byte sequence", `:${B64_1}:`, [DER_1]],
    ["RFC 9440 list (Client-Cert-Chain)", `:${B64_1}:, :${B64_2}:`, [DER_1, DER_2]],
    ["RFC 9440 list without spaces, with tabs", `:${B64_1}:,\t:${B64_2}:`, [DER_1, DER_2]],
    ["surrounding whitespace", `\n  ${pem(B64_1)}  \n`, [DER_1]],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      expect(decodedOk(input)).toEqual(expected);
    });
  }

  it("returns copies that own their buffer (pkijs reads .buffer)", () => {
    const [der] = decodedOk(concat(DER_1, DER_2));
    expect(der?.byteOffset).toBe(0);
    expect(der?.buffer.byteLength).toBe(DER_1.length);
  });
});

describe("decodeCertificate", () => {
  it("returns the one certificate", () => {
    const r = decodeCertificate(pem(B64_1));
    expect(r.ok && r.value).toEqual(DER_1);
  });
  it("rejects a bundle of several", () => {
    for (const input of [pem(B64_1) + pem(B64_2), concat(DER_1, DER_2), `:${B64_1}:, :${B64_2}:`]) {
      const r = decodeCertificate(input);
      expect(r.ok ? "ok" : r.error.code).toBe("bundle_too_many_certificates");
    }
  });
  it("reports empty input as missing", () => {
    const r = decodeCertificate("");
    expect(r.ok ? "ok" : r.error.code).toBe("certificate_missing");
  });
});

describe("decodeCertificates: caps", () => {
  it("empty input is certificate_missing", () => {
    for (const input of ["", "  \r\n\t ", new Uint8Array(0)]) expect(errorOf(input).code).toBe("certificate_missing");
  });

  it("input over maxBytes is bundle_too_large, checked before any decoding", () => {
    const huge = "A".repeat(MAX_PRESENTED_BUNDLE_BYTES + 1);
    expect(errorOf(huge).code).toBe("bundle_too_large");
    expect(errorOf(new Uint8Array(MAX_PRESENTED_BUNDLE_BYTES + 1)).code).toBe("bundle_too_large");
    expect(errorOf(pem(B64_1), { maxBytes: 100 })).toMatchObject({ code: "bundle_too_large", context: { limit: 100 } });
  });

  it("one more certificate than maxCount is bundle_too_many_certificates, in every form", () => {
    const n = MAX_PRESENTED_CHAIN + 1;
    const forms: CertificateInput[] = [
      pem(B64_1).repeat(n),
      concat(...Array.from({ length: n }, () => DER_1)),
      Array.from({ length: n }, () => `:${B64_1}:`).join(", "),
      encodeBase64(concat(...Array.from({ length: n }, () => DER_1))),
    ];
    for (const input of forms) expect(errorOf(input).code).toBe("bundle_too_many_certificates");
    expect(decodedOk(pem(B64_1).repeat(MAX_PRESENTED_CHAIN))).toHaveLength(MAX_PRESENTED_CHAIN);
  });

  it("a certificate over maxCertificateBytes is certificate_too_large, in every form", () => {
    const limits = { maxCertificateBytes: DER_1.length - 1 };
    for (const input of [pem(B64_1), DER_1, `:${B64_1}:`, B64_1]) {
      expect(errorOf(input, limits)).toMatchObject({ code: "certificate_too_large", context: { limit: DER_1.length - 1 } });
    }
    expect(decodedOk(DER_1, { maxCertificateBytes: DER_1.length })).toEqual([DER_1]);
  });

  it("a PEM block's size is checked from its base64 length, before decoding it", () => {
    // Not valid base64 at all: the size cap must fire first.
    const body = "!".repeat(2000);
    expect(errorOf(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----`, { maxCertificateBytes: 100 }).code).toBe(
      "certificate_too_large",
    );
  });
});

describe("decodeCertificates: malformed input", () => {
  const malformed: Array<[string, CertificateInput, RegExp]> = [
    ["TRUSTED CERTIFICATE label", pem(B64_1, "\n", "TRUSTED CERTIFICATE"), /label/],
    ["a private key block in the bundle", pem(B64_1) + pem(B64_2, "\n", "PRIVATE KEY"), /label/],
    ["unterminated block", `-----BEGIN CERTIFICATE-----\n${B64_1}\n`, /unterminated PEM block/],
    ["unterminated BEGIN marker", `-----BEGIN CERTIFICATE\n${B64_1}`, /unterminated PEM BEGIN/],
    ["nested BEGIN inside a block", `-----BEGIN CERTIFICATE-----\n${pem(B64_1)}-----END CERTIFICATE-----\n`, /nested/],
    ["END label differs from BEGIN", `-----BEGIN CERTIFICATE-----\n${B64_1}\n-----END X509 CRL-----\n`, /does not match/],
    ["END without BEGIN", `${B64_1}\n-----END CERTIFICATE-----\n`, /outside a block/],
    ["URL-encoded PEM (not decoded here)", pem(B64_1).replaceAll(" ", "%20").replaceAll("\n", "%0A"), /outside a block/],
    ["PEM headers (RFC 1421)", pem(B64_1).replace("\n", "\nProc-Type: 4,ENCRYPTED\n\n"), /bad base64/],
    ["empty PEM block", "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", /empty/],
    ["invalid base64 character", pem(B64_1.replace("MIIB", "MI*B")), /bad base64/],
    ["padding in the middle", pem(`${B64_1.slice(0, 40)}==${B64_1.slice(40)}`), /bad base64/],
    ["mixed base64 alphabets", B64_1.replace("+", "-").replace("/", "/"), /bad base64/],
    ["garbage text", "hello world, this is not a certificate", /bad base64/],
    ["base64 of something that is not DER", btoa("not a certificate"), /not a DER SEQUENCE/],
    ["truncated DER", DER_1.slice(0, DER_1.length - 10), /exceeds input/],
    ["truncated DER in PEM", pem(encodeBase64(DER_1.slice(0, 200))), /exceeds input/],
    ["length that lies (larger than the input)", concat(Uint8Array.of(0x30, 0x84, 0x7f, 0xff, 0xff, 0xff), DER_1), /exceeds input/],
    ["indefinite length (BER)", concat(Uint8Array.of(0x30, 0x80), DER_1, Uint8Array.of(0, 0)), /indefinite/],
    ["non-minimal length", Uint8Array.of(0x30, 0x81, 0x03, 1, 2, 3), /shortest form/],
    ["length field of five octets", Uint8Array.of(0x30, 0x85, 0, 0, 0, 0, 3, 1, 2, 3), /too long/],
    ["trailing bytes after a raw DER certificate", concat(DER_1, Uint8Array.of(0x00, 0x00)), /trailing bytes/],
    ["trailing bytes inside a PEM block", pem(encodeBase64(concat(DER_1, Uint8Array.of(5, 0)))), /trailing bytes/],
    ["two certificates inside one PEM block", pem(encodeBase64(concat(DER_1, DER_2))), /trailing bytes/],
    ["a SET instead of a SEQUENCE", encodeBase64(Uint8Array.of(0x31, 0x00)), /not a DER SEQUENCE/],
    ["text bytes that are not a certificate", Uint8Array.of(0x31, 0x00), /bad base64/],
    ["binary that is neither DER nor text", Uint8Array.of(0x04, 0x82, 0xff, 0x00), /neither DER/],
    ["unterminated byte sequence", `:${B64_1}`, /unterminated RFC 8941/],
    ["trailing comma in a byte-sequence list", `:${B64_1}:,`, /trailing ','/],
    ["junk between byte sequences", `:${B64_1}: x :${B64_2}:`, /expected ','/],
    ["second item not a byte sequence", `:${B64_1}:, ${B64_2}`, /expected ':'/],
    ["parameters on a byte sequence", `:${B64_1}:;a=1`, /parameters/],
    ["empty byte sequence", "::", /empty/],
  ];
  for (const [name, input, detail] of malformed) {
    it(name, () => {
      const error = errorOf(input);
      expect(error.code).toBe("certificate_malformed");
      expect(error.detail).toMatch(detail);
    });
  }
});

describe("decodeCertificates: adversarial input", () => {
  it("10,000 PEM blocks: rejected by size by default, by count (before decoding) when the size cap is lifted", () => {
    const input = pem(B64_1).repeat(10_000);
    expect(errorOf(input).code).toBe("bundle_too_large");
    const started = Date.now();
    expect(errorOf(input, { maxBytes: Number.MAX_SAFE_INTEGER }).code).toBe("bundle_too_many_certificates");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("10,000 empty or nested BEGIN markers do not take quadratic time", () => {
    const started = Date.now();
    const nested = "-----BEGIN CERTIFICATE-----\n".repeat(10_000);
    expect(errorOf(nested, { maxBytes: Number.MAX_SAFE_INTEGER }).code).toBe("certificate_malformed");
    const begins = "-----BEGIN ".repeat(10_000);
    expect(errorOf(begins, { maxBytes: Number.MAX_SAFE_INTEGER }).code).toBe("certificate_malformed");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("huge base64 is refused by size, whatever it contains", () => {
    expect(errorOf("QUFB".repeat(1_000_000)).code).toBe("bundle_too_large");
    expect(errorOf(`:${"QUFB".repeat(1_000_000)}:`).code).toBe("bundle_too_large");
  });

  it("a DER bundle of tiny SEQUENCEs is capped by count", () => {
    const tiny = new Uint8Array(2 * 10_000);
    for (let i = 0; i < tiny.length; i += 2) tiny[i] = 0x30;
    expect(errorOf(tiny).code).toBe("bundle_too_many_certificates");
  });

  it("every truncation of a valid certificate is rejected without throwing", () => {
    for (let n = 1; n < DER_1.length; n++) {
      const r = decodeCertificates(DER_1.subarray(0, n));
      expect(r.ok).toBe(false);
    }
  });

  it("every single-byte corruption of the DER header is rejected or still a SEQUENCE covering the input", () => {
    for (let i = 0; i < 4; i++) {
      for (let b = 0; b < 256; b++) {
        const copy = DER_1.slice();
        copy[i] = b;
        const r = decodeCertificates(copy);
        if (r.ok) expect(r.value.reduce((n, c) => n + c.length, 0)).toBe(copy.length);
      }
    }
  });

  it("invalid base64 characters anywhere are rejected", () => {
    for (const bad of ["\u0000", "é", "\u00a0", "%", ".", "\\", "\u2028"]) {
      expect(errorOf(B64_1.slice(0, 100) + bad + B64_1.slice(100)).code).toBe("certificate_malformed");
    }
  });
});

describe("decodePemBlocks", () => {
  const limits = { maxBytes: 1 << 20, maxCount: 4, maxBlockBytes: 4096 };

  it("reads blocks with the requested label only", () => {
    const crl = pem(B64_1, "\n", "X509 CRL");
    const r = decodePemBlocks(`text\n${crl}${crl}`, "X509 CRL", limits);
    expect(r.ok && r.value).toEqual([DER_1, DER_1]);
    const wrong = decodePemBlocks(pem(B64_1), "X509 CRL", limits);
    expect(wrong.ok ? "ok" : wrong.error.code).toBe("certificate_malformed");
  });

  it("applies its caps and the same tolerance", () => {
    const crl = pem(B64_1, " ", "X509 CRL");
    const many = decodePemBlocks(crl.repeat(5), "X509 CRL", limits);
    expect(many.ok ? "ok" : many.error.code).toBe("bundle_too_many_certificates");
    const big = decodePemBlocks(crl, "X509 CRL", { ...limits, maxBlockBytes: 10 });
    expect(big.ok ? "ok" : big.error.code).toBe("certificate_too_large");
    const large = decodePemBlocks(crl, "X509 CRL", { ...limits, maxBytes: 10 });
    expect(large.ok ? "ok" : large.error.code).toBe("bundle_too_large");
    const none = decodePemBlocks("   ", "X509 CRL", limits);
    expect(none.ok ? "ok" : none.error.code).toBe("certificate_missing");
    const notPem = decodePemBlocks(B64_1, "X509 CRL", limits);
    expect(notPem.ok ? "ok" : notPem.error.code).toBe("certificate_malformed");
  });
});

describe("decodeBase64 / encodeBase64", () => {
  // RFC 4648 §10 test vectors.
  const vectors: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  it("matches RFC 4648 §10", () => {
    for (const [plain, b64] of vectors) {
      expect(encodeBase64(ascii(plain))).toBe(b64);
      expect(decodeBase64(b64)).toEqual(ascii(plain));
      expect(decodeBase64(b64.replace(/=+$/, ""))).toEqual(ascii(plain));
    }
  });

  it("round-trips every length and byte value, in both alphabets", () => {
    let seed = 1;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 300; n++) {
      const bytes = Uint8Array.from({ length: n }, next);
      const b64 = encodeBase64(bytes);
      expect(b64).toBe(btoa(String.fromCharCode(...bytes)));
      expect(decodeBase64(b64)).toEqual(bytes);
      expect(decodeBase64(toUrlSafe(b64))).toEqual(bytes);
    }
  });

  it("native and portable decoders agree on every input (workerd has the native one)", () => {
    const inputs = ["", "Zg==", "Zg", "Zm8=", "Zm8", "Zm9v", " Zm9v\r\nYmFy\t", "Zm9v\vYmFy", "Zm9v\fYmFy", "Z g = =", "Zg= =",
      "Zh==", "Zm9=", "Zg=", "Zg===", "Zm==9v", "Zm+v_w", "Zm-v", "Zm_v", "Zm9v!", "====", "Z", "Zm9vY", "AAAA=", "A\u00e9AA",
      "+/+/", "-_-_", "Zm9vYmFy\n", "\nZm9v"];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let n = 0; n < 64; n++) {
      const b64 = encodeBase64Portable(Uint8Array.from({ length: n }, next));
      inputs.push(b64, b64.replace(/=+$/, ""), toUrlSafe(b64), b64.replace(/(.{5})/g, "$1 "));
    }
    for (const input of inputs) expect([input, decodeBase64(input)]).toEqual([input, decodeBase64Portable(input)]);
    for (let n = 0; n < 64; n++) {
      const bytes = Uint8Array.from({ length: n }, next);
      expect(encodeBase64(bytes)).toBe(encodeBase64Portable(bytes));
    }
    // This project's tests run in workerd, which has the native decoder: this case compared the two paths.
    expect(HAS_NATIVE_BASE64).toBe(true);
  });

  it("ignores whitespace and rejects everything else", () => {
    expect(decodeBase64(" Zm9v\r\nYmFy\t")).toEqual(ascii("foobar"));
    for (const bad of ["Z", "Zm9vY", "Zg=", "Zg===", "Zm==9v", "Zh==", "Zm9=", "Zm+v_w", "Zm9v!", "===="]) {
      expect(decodeBase64(bad)).toBeNull();
    }
  });
});

describe("readDerElement", () => {
  it("reads high tag numbers and long lengths", () => {
    const el = readDerElement(Uint8Array.of(0x9f, 0x81, 0x00, 0x81, 0x80, ...new Uint8Array(128)), 0);
    expect(el).toMatchObject({ tagClass: 2, constructed: false, tagNumber: 128, contentStart: 5, end: 133 });
  });
  it("rejects non-minimal tags", () => {
    expect(readDerElement(Uint8Array.of(0x1f, 0x05, 0x00), 0)).toMatch(/shortest form/);
    expect(readDerElement(Uint8Array.of(0x1f, 0x80, 0x20, 0x00), 0)).toMatch(/shortest form/);
  });
});
