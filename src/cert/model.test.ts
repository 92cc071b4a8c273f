/** The certificate model: the formats policies and logs see. Inside workerd. */
import { describe, expect, it } from "vitest";
import { cert, leaf, parsed, root } from "../../test/support/chains";
import { describeCertificate, formatIp } from "./model";

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");

describe("certificate model", () => {
  it("gives SHA-1 uppercase thumbprint, SHA-256 lowercase, serial with its leading 00", async () => {
    const r = await root("Model Root");
    const l = await leaf("Valid Client", r, "p-256", {
      subjectAltName: { names: [{ dns: "client.example.com" }, { email: "ops@example.com" }, { uri: "spiffe://example/client" }, { ip: "10.1.2.3" }, { ip: "2001:db8::1" }] },
    }, { subject: 'CN=Valid Client, O="Contoso, Inc.", C=US', serialNumber: "00A1B2C3" });
    const m = await describeCertificate(parsed(l));
    expect(m.thumbprint).toBe(hex(await crypto.subtle.digest("SHA-1", l.der)).toUpperCase());
    expect(m.sha256).toBe(hex(await crypto.subtle.digest("SHA-256", l.der)));
    expect(m.serialNumber).toBe("00A1B2C3");
    expect(m.subject.dotnet).toBe('CN=Valid Client, O="Contoso, Inc.", C=US');
    expect(m.subject.rfc4514).toBe("CN=Valid Client,O=Contoso\\, Inc.,C=US");
    expect(m.subject.openssl).toBe("/C=US/O=Contoso, Inc./CN=Valid Client");
    expect(m.issuer.dotnet).toBe("CN=Model Root");
    expect(m.commonName).toBe("Valid Client");
    expect(m.subjectAltNames).toEqual({
      dns: ["client.example.com"], email: ["ops@example.com"], uri: ["spiffe://example/client"], ip: ["10.1.2.3", "2001:db8::1"],
    });
    expect(m.keyUsage).toEqual(["digitalSignature"]);
    expect(m.extendedKeyUsage).toEqual(["clientAuth"]);
    expect(m.basicConstraints).toBeNull();
    expect(m.publicKey).toEqual({ algorithm: "EC", bits: 256, curve: "P-256" });
    expect(m.signatureAlgorithm).toBe("ecdsa-with-SHA256");
    expect(m.authorityKeyIdentifier).toBe((await describeCertificate(parsed(r))).subjectKeyIdentifier);
    expect(m.notAfter).toBe(parsed(l).notAfter.toISOString());
  });

  it("describes CAs and RSA keys", async () => {
    const r = await root("RSA Root", "rsa-2048", { basicConstraints: { ca: true, pathLen: 2 } });
    const m = await describeCertificate(parsed(r));
    expect(m.basicConstraints).toEqual({ ca: true, pathLen: 2 });
    expect(m.publicKey).toEqual({ algorithm: "RSA", bits: 2048, curve: null });
    expect(m.signatureAlgorithm).toBe("sha256WithRSAEncryption");
    expect(m.selfIssued).toBe(true);
    expect(m.keyUsage).toEqual(["keyCertSign", "cRLSign"]);
  });

  it("computes the model once per parsed certificate", async () => {
    const c = parsed(await cert({ subject: "CN=Once" }));
    expect(describeCertificate(c)).toBe(describeCertificate(c));
  });

  it("formats IPv6 per RFC 5952", () => {
    expect(formatIp(new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]))).toBe("2001:db8::1");
    expect(formatIp(new Uint8Array(16))).toBe("::");
    expect(formatIp(new Uint8Array([0x20, 0x01, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))).toBe("2001:0:1::1:0:0");
  });
});
