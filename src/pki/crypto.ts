/**
 * Signature verification over WebCrypto (the runtime's `crypto.subtle`, identical in workerd and Node).
 *
 * Contract: no I/O, no clock; returns `Result`, never throws. Applies the algorithm policy (MD2/MD5 always
 * rejected, SHA-1 only when allowed) before any crypto work. Imported public keys are cached per
 * SubjectPublicKeyInfo object (a WeakMap on the parsed certificate's key, so trust-store keys are imported
 * once per store version and a parsed issuer never pays a second import) — pkijs re-parses and re-imports
 * the issuer key before every check, which is most of its cost.
 */
import * as asn1js from "asn1js";
import type { PublicKeyInfo, SignatureInfo } from "../cert/parse";
import { toHex, toHexLower } from "../bytes";
import { readDerElement } from "../cert/decode";
import { certError, type CertError } from "../errors";
import { err, ok, type Result } from "../result";

/** The algorithm policy of one validation. */
export interface AlgorithmPolicy {
  /** Accept SHA-1 signatures (default false: SHA-1 is collision-broken, CA/B Forum banned it in 2016). */
  readonly allowSha1: boolean;
  /** Smallest accepted RSA modulus in bits (default 2048, NIST SP 800-131A). */
  readonly minRsaBits: number;
}

type HashName = "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512";

type SignatureScheme =
  | { readonly kind: "rsa-pkcs1"; readonly hash: HashName }
  | { readonly kind: "rsa-pss"; readonly hash: HashName; readonly saltLength: number }
  | { readonly kind: "ecdsa"; readonly hash: HashName }
  | { readonly kind: "ed25519" };

const SIGNATURE_ALGORITHMS: Record<string, SignatureScheme | "md" | "unsupported"> = {
  "1.2.840.113549.1.1.2": "md", // md2WithRSAEncryption
  "1.2.840.113549.1.1.3": "md", // md4WithRSAEncryption
  "1.2.840.113549.1.1.4": "md", // md5WithRSAEncryption
  "1.2.840.113549.1.1.5": { kind: "rsa-pkcs1", hash: "SHA-1" },
  "1.3.14.3.2.29": { kind: "rsa-pkcs1", hash: "SHA-1" }, // sha1WithRSA (OIW)
  "1.2.840.113549.1.1.11": { kind: "rsa-pkcs1", hash: "SHA-256" },
  "1.2.840.113549.1.1.12": { kind: "rsa-pkcs1", hash: "SHA-384" },
  "1.2.840.113549.1.1.13": { kind: "rsa-pkcs1", hash: "SHA-512" },
  "1.2.840.113549.1.1.14": "unsupported", // sha224WithRSAEncryption: no SHA-224 in WebCrypto
  "1.2.840.10045.4.1": { kind: "ecdsa", hash: "SHA-1" },
  "1.2.840.10045.4.3.1": "unsupported", // ecdsa-with-SHA224
  "1.2.840.10045.4.3.2": { kind: "ecdsa", hash: "SHA-256" },
  "1.2.840.10045.4.3.3": { kind: "ecdsa", hash: "SHA-384" },
  "1.2.840.10045.4.3.4": { kind: "ecdsa", hash: "SHA-512" },
  "1.3.101.112": { kind: "ed25519" },
};

const HASH_OIDS: Record<string, HashName> = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};

const CURVES: Record<string, { name: string; bytes: number }> = {
  "1.2.840.10045.3.1.7": { name: "P-256", bytes: 32 },
  "1.3.132.0.34": { name: "P-384", bytes: 48 },
  "1.3.132.0.35": { name: "P-521", bytes: 66 },
};

/** Friendly name of a signature algorithm OID, for the model and messages. */
export function signatureAlgorithmName(oid: string): string {
  const names: Record<string, string> = {
    "1.2.840.113549.1.1.2": "md2WithRSAEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "Ed25519",
  };
  return names[oid] ?? oid;
}

/** Checks a signature algorithm against the policy, without verifying anything. */
export function checkSignatureAlgorithm(sig: SignatureInfo, policy: AlgorithmPolicy): Result<void, CertError> {
  const scheme = resolveScheme(sig, policy);
  return scheme.ok ? ok(undefined) : scheme;
}

function resolveScheme(sig: SignatureInfo, policy?: AlgorithmPolicy): Result<SignatureScheme, CertError> {
  const name = signatureAlgorithmName(sig.algorithm);
  let scheme: SignatureScheme | "md" | "unsupported" | undefined = SIGNATURE_ALGORITHMS[sig.algorithm];
  if (sig.algorithm === "1.2.840.113549.1.1.10") {
    const pss = readPssParams(sig.params);
    if (!pss) return err(certError("unsupported_algorithm", "The RSASSA-PSS parameters are not supported.", { algorithm: name }));
    scheme = pss;
  }
  if (scheme === "md") {
    return err(certError("unsupported_algorithm", `${name} signatures are always rejected (MD2/MD4/MD5 are broken).`, { algorithm: name }));
  }
  if (scheme === undefined || scheme === "unsupported") {
    return err(certError("unsupported_algorithm", `The signature algorithm ${name} is not supported.`, { algorithm: name }));
  }
  if (policy && !policy.allowSha1 && scheme.kind !== "ed25519" && scheme.hash === "SHA-1") {
    return err(certError("unsupported_algorithm", `SHA-1 signatures (${name}) are rejected by policy.`, { algorithm: name }));
  }
  return ok(scheme);
}

/**
 * RSASSA-PSS-params (RFC 4055 §3.1): hash, MGF1 with the same hash, salt length, trailer 1.
 * Anything else is unsupported (WebCrypto supports only MGF1 with the message hash).
 */
function readPssParams(params: Uint8Array | null): SignatureScheme | null {
  if (!params) return null;
  const asn1 = asn1js.fromBER(params);
  if (asn1.offset === -1 || !(asn1.result instanceof asn1js.Sequence)) return null;
  let hash: HashName = "SHA-1";
  let mgfHash: HashName = "SHA-1";
  let saltLength = 20;
  for (const item of asn1.result.valueBlock.value) {
    const inner = (item as asn1js.Constructed).valueBlock.value?.[0];
    if (!inner) return null;
    switch (item.idBlock.tagNumber) {
      case 0: {
        const h = readHashAlgorithm(inner);
        if (!h) return null;
        hash = h;
        break;
      }
      case 1: {
        if (!(inner instanceof asn1js.Sequence)) return null;
        const [oid, hashAlg] = inner.valueBlock.value;
        if (!(oid instanceof asn1js.ObjectIdentifier) || oid.valueBlock.toString() !== "1.2.840.113549.1.1.8" || !hashAlg) return null;
        const h = readHashAlgorithm(hashAlg);
        if (!h) return null;
        mgfHash = h;
        break;
      }
      case 2:
        if (!(inner instanceof asn1js.Integer)) return null;
        saltLength = inner.valueBlock.valueDec;
        break;
      case 3:
        if (!(inner instanceof asn1js.Integer) || inner.valueBlock.valueDec !== 1) return null;
        break;
      default:
        return null;
    }
  }
  if (hash !== mgfHash || saltLength < 0 || saltLength > 512) return null;
  return { kind: "rsa-pss", hash, saltLength };
}

function readHashAlgorithm(node: asn1js.AsnType): HashName | null {
  if (!(node instanceof asn1js.Sequence)) return null;
  const oid = node.valueBlock.value[0];
  if (!(oid instanceof asn1js.ObjectIdentifier)) return null;
  return HASH_OIDS[oid.valueBlock.toString()] ?? null;
}

const keyCache = new WeakMap<PublicKeyInfo, Map<string, Promise<CryptoKey | null>>>();

function importParams(scheme: SignatureScheme, key: PublicKeyInfo): { cacheKey: string; alg: Parameters<SubtleCrypto["importKey"]>[2] } | null {
  switch (scheme.kind) {
    case "rsa-pkcs1":
      if (key.algorithm !== "RSA") return null;
      return { cacheKey: `pkcs1/${scheme.hash}`, alg: { name: "RSASSA-PKCS1-v1_5", hash: scheme.hash } };
    case "rsa-pss":
      if (key.algorithm !== "RSA") return null;
      return { cacheKey: `pss/${scheme.hash}`, alg: { name: "RSA-PSS", hash: scheme.hash } };
    case "ecdsa": {
      const curve = key.curve ? CURVES[key.curve] : undefined;
      if (key.algorithm !== "EC" || !curve) return null;
      return { cacheKey: "ecdsa", alg: { name: "ECDSA", namedCurve: curve.name } };
    }
    case "ed25519":
      if (key.algorithm !== "Ed25519") return null;
      return { cacheKey: "ed25519", alg: { name: "Ed25519" } };
  }
}

function importPublicKey(key: PublicKeyInfo, cacheKey: string, alg: Parameters<SubtleCrypto["importKey"]>[2]): Promise<CryptoKey | null> {
  let byAlg = keyCache.get(key);
  if (!byAlg) {
    byAlg = new Map();
    keyCache.set(key, byAlg);
  }
  let p = byAlg.get(cacheKey);
  if (!p) {
    p = crypto.subtle.importKey("spki", key.spki, alg, false, ["verify"]).catch(() => null);
    byAlg.set(cacheKey, p);
  }
  return p;
}

/**
 * Verifies `sig` with the issuer's public key. `signature_invalid` when the signature does not verify or
 * the key does not fit the algorithm; `unsupported_algorithm` for algorithms outside the policy.
 */
export function verifySignature(sig: SignatureInfo, issuerKey: PublicKeyInfo, policy: AlgorithmPolicy, remember = false): Promise<Result<void, CertError>> {
  // The outcome depends only on the signature, the key and the policy. With `remember` (the signed object is
  // long-lived: a store certificate, a CRL) it is kept per (signature object, key object, policy), so the
  // store's own edges (intermediate ← root) and CRL signatures are checked once per store version rather than
  // for every new leaf. WeakMaps: entries die with the parsed objects. Presented certificates are not
  // remembered: under a stream of new leaves the entries would only feed the garbage collector.
  if (!remember) return checkSignature(sig, issuerKey, policy);
  let byKey = verifiedSignatures.get(sig);
  if (!byKey) {
    byKey = new WeakMap();
    verifiedSignatures.set(sig, byKey);
  }
  let byPolicy = byKey.get(issuerKey);
  if (!byPolicy) {
    byPolicy = new Map();
    byKey.set(issuerKey, byPolicy);
  }
  const policyKey = `${+policy.allowSha1}/${policy.minRsaBits}`;
  let outcome = byPolicy.get(policyKey);
  if (!outcome) {
    outcome = checkSignature(sig, issuerKey, policy);
    byPolicy.set(policyKey, outcome);
  }
  return outcome;
}

const verifiedSignatures = new WeakMap<SignatureInfo, WeakMap<PublicKeyInfo, Map<string, Promise<Result<void, CertError>>>>>();

async function checkSignature(sig: SignatureInfo, issuerKey: PublicKeyInfo, policy: AlgorithmPolicy): Promise<Result<void, CertError>> {
  const scheme = resolveScheme(sig, policy);
  if (!scheme.ok) return scheme;
  const params = importParams(scheme.value, issuerKey);
  if (!params) {
    return err(certError("signature_invalid", "The signature algorithm does not match the issuer's key.",
      { algorithm: signatureAlgorithmName(sig.algorithm), issuerKey: issuerKey.algorithm }));
  }
  const key = await importPublicKey(issuerKey, params.cacheKey, params.alg);
  if (!key) return err(certError("signature_invalid", "The issuer's public key could not be used."));
  let signature = sig.value;
  let verifyAlg: Parameters<SubtleCrypto["verify"]>[0];
  switch (scheme.value.kind) {
    case "rsa-pkcs1":
      verifyAlg = { name: "RSASSA-PKCS1-v1_5" };
      break;
    case "rsa-pss":
      verifyAlg = { name: "RSA-PSS", saltLength: scheme.value.saltLength };
      break;
    case "ecdsa": {
      const raw = ecdsaDerToRaw(sig.value, CURVES[issuerKey.curve!]!.bytes);
      if (!raw) return err(certError("signature_invalid", "The ECDSA signature is malformed."));
      signature = raw;
      verifyAlg = { name: "ECDSA", hash: scheme.value.hash };
      break;
    }
    case "ed25519":
      verifyAlg = { name: "Ed25519" };
      break;
  }
  let valid = false;
  try {
    valid = await crypto.subtle.verify(verifyAlg, key, signature, sig.signed);
  } catch {
    valid = false;
  }
  return valid ? ok(undefined) : err(certError("signature_invalid", "The signature does not verify with the issuer's key."));
}

/**
 * ECDSA-Sig-Value (RFC 3279 §2.2.3: SEQUENCE { r INTEGER, s INTEGER }) → the fixed-width r||s WebCrypto
 * verifies. Strict: exactly one SEQUENCE of two positive INTEGERs, each fitting the curve size.
 */
export function ecdsaDerToRaw(der: Uint8Array, size: number): Uint8Array | null {
  // Read with the DER element reader rather than asn1js: two INTEGERs do not need an object tree, and this
  // runs for every newly presented leaf (asn1js took 9 µs of it in workerd). Lengths must be DER, as
  // OpenSSL requires of ECDSA signatures.
  const seq = readDerElement(der, 0);
  if (typeof seq === "string" || seq.tagClass !== 0 || !seq.constructed || seq.tagNumber !== 16 || seq.end !== der.length) return null;
  const out = new Uint8Array(size * 2);
  let p = seq.contentStart;
  for (let i = 0; i < 2; i++) {
    const n = readDerElement(der, p, seq.end);
    if (typeof n === "string" || n.tagClass !== 0 || n.constructed || n.tagNumber !== 2) return null;
    let bytes = der.subarray(n.contentStart, n.end);
    if (bytes.length === 0 || bytes[0]! & 0x80) return null; // empty or negative
    // X.690 §8.3.2: minimal. A 00 is allowed only before a byte with its high bit set; any other leading zero
    // would make a re-encoded twin of the certificate (another SHA-256) that still verifies.
    if (bytes.length > 1 && bytes[0] === 0 && (bytes[1]! & 0x80) === 0) return null;
    if (bytes[0] === 0) bytes = bytes.subarray(1);
    if (bytes.length === 0 || bytes.length > size || bytes.every((b) => b === 0)) return null;
    out.set(bytes, i * size + (size - bytes.length));
    p = n.end;
  }
  return p === seq.end ? out : null;
}

/** Lowercase hex SHA-256 of bytes. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return toHexLower(new Uint8Array(await crypto.subtle.digest("SHA-256", bytes)));
}

/** Uppercase hex SHA-1 of bytes (APIM Thumbprint). */
export async function sha1HexUpper(bytes: Uint8Array): Promise<string> {
  return toHex(new Uint8Array(await crypto.subtle.digest("SHA-1", bytes)));
}

