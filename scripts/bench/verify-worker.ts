/**
 * Benchmark Worker for `npm run bench:verify`: runs validations inside workerd on request. Timing is done
 * by the caller around each request (workerd's clocks do not advance during pure computation), so every
 * request does exactly `count` operations and returns how many succeeded.
 *
 * POST /setup  {chains: {[alg]: {root, intermediate, leaves: base64[]}}}
 * POST /run    {alg, mode: "cold" | "cached" | "pkijs" | "noop" | "stage:<name>", from, count}
 *
 * The stages split a cold validation (and what the gateway adds for the request: model, names) into parts,
 * each over fresh leaves `from…from+count` (so no per-object cache answers):
 *   parse      parseCertificate of the leaf (TBS fields, names' comparison keys, extensions incl. SANs);
 *   sha256     the leaf's SHA-256 (cache entry, log line, model);
 *   signature  the leaf's signature checked with the intermediate's key (already parsed, as in the store);
 *   model      parse + describeCertificate, reading the RFC 4514 names as the request path does (model = this − parse);
 *   names      the leaf's subject and issuer rendered in all three forms from parsed leaves (what a policy adds).
 */
import * as pkijs from "pkijs";
import { decodeBase64 } from "../../src/cert/decode";
import { useWebCrypto } from "../pki/builder";
import { prepareTrustMaterial, type TrustMaterial } from "../../src/pki/trust-material";
import { CertificateVerifier } from "../../src/pki/verifier";
import { parseCertificate, type ParsedCertificate } from "../../src/cert/parse";
import { describeCertificate } from "../../src/cert/model";
import { renderName } from "../../src/cert/dn";
import { sha256Hex, verifySignature } from "../../src/pki/crypto";

interface Chain {
  material: TrustMaterial;
  root: Uint8Array;
  intermediate: Uint8Array;
  leaves: Uint8Array[];
}

const chains = new Map<string, Chain>();
const verifier = new CertificateVerifier(100_000);

function b64(s: string): Uint8Array {
  const bytes = decodeBase64(s);
  if (!bytes) throw new Error("bad base64");
  return bytes;
}

async function setup(body: { chains: Record<string, { root: string; intermediate: string; leaves: string[] }> }): Promise<Response> {
  useWebCrypto();
  for (const [alg, c] of Object.entries(body.chains)) {
    const root = b64(c.root);
    const intermediate = b64(c.intermediate);
    const material = await prepareTrustMaterial({ version: `bench-${alg}`, anchors: [root], intermediates: [intermediate] });
    if (!material.ok) return new Response(JSON.stringify(material.error), { status: 500 });
    chains.set(alg, { material: material.value, root, intermediate, leaves: c.leaves.map(b64) });
  }
  return Response.json({ ok: true });
}

const parsedLeaves: ParsedCertificate[] = [];

function parsedOrThrow(der: Uint8Array): ParsedCertificate {
  const p = parseCertificate(der);
  if (!p.ok) throw new Error(`bench leaf does not parse: ${p.error.code}`);
  return p.value;
}

async function run(body: { alg: string; mode: string; from: number; count: number }): Promise<Response> {
  const chain = chains.get(body.alg);
  if (!chain) return new Response("no such chain", { status: 400 });
  let ok = 0;
  let firstError: string | null = null;
  const { from, count } = body;
  // Not at module scope: a Worker's clock reads 0 outside a request.
  const NOW = new Date();
  switch (body.mode) {
    case "noop":
      for (let k = 0; k < count; k++) ok++;
      break;
    case "cold":
      for (let k = from; k < from + count; k++) {
        const v = await verifier.verify(chain.material, chain.leaves[k]!, [chain.intermediate], NOW, { revocation: "off" });
        if (v.result.ok && !v.cached) ok++;
        else firstError ??= v.result.ok ? "cached" : v.result.error.code;
      }
      break;
    case "cached":
      for (let k = 0; k < count; k++) {
        const v = await verifier.verify(chain.material, chain.leaves[from]!, [chain.intermediate], NOW, { revocation: "off" });
        if (v.result.ok) ok++;
      }
      break;
    case "pkijs": {
      // Plain pkijs as the reference describes it: parse the three certificates, run the engine.
      for (let k = from; k < from + count; k++) {
        const engine = new pkijs.CertificateChainValidationEngine({
          trustedCerts: [pkijs.Certificate.fromBER(chain.root)],
          certs: [pkijs.Certificate.fromBER(chain.intermediate), pkijs.Certificate.fromBER(chain.leaves[k]!)],
          checkDate: NOW,
        });
        const r = await engine.verify();
        if (r.result) ok++;
      }
      break;
    }
    case "stage:parse":
      for (let k = from; k < from + count; k++) if (parseCertificate(chain.leaves[k]!).ok) ok++;
      break;
    case "stage:sha256":
      for (let k = from; k < from + count; k++) if ((await sha256Hex(chain.leaves[k]!)).length === 64) ok++;
      break;
    case "stage:signature": {
      const issuer = parsedOrThrow(chain.intermediate);
      for (let k = from; k < from + count; k++) {
        const leaf = parsedOrThrow(chain.leaves[k]!);
        if ((await verifySignature(leaf.signature, issuer.publicKey, { allowSha1: false, minRsaBits: 2048 })).ok) ok++;
      }
      break;
    }
    case "stage:signature-parse":
      // The parse the signature stage includes, to subtract.
      parsedOrThrow(chain.intermediate);
      for (let k = from; k < from + count; k++) if (parsedOrThrow(chain.leaves[k]!)) ok++;
      break;
    case "stage:model":
      for (let k = from; k < from + count; k++) {
        const m = await describeCertificate(parsedOrThrow(chain.leaves[k]!));
        if (m.subject.rfc4514 && m.issuer.rfc4514) ok++;
      }
      break;
    case "stage:names":
      for (let k = from; k < from + count; k++) {
        const leaf = (parsedLeaves[k] ??= parsedOrThrow(chain.leaves[k]!));
        const s = renderName(leaf.subject);
        const i = renderName(leaf.issuer);
        if (s.dotnet && s.rfc4514 && s.openssl && i.dotnet && i.rfc4514 && i.openssl) ok++;
      }
      break;
    case "stage:names-prepare":
      // Parses the leaves the names stage reads, outside its timing.
      for (let k = from; k < from + count; k++) if ((parsedLeaves[k] ??= parsedOrThrow(chain.leaves[k]!))) ok++;
      break;
    default:
      return new Response("bad mode", { status: 400 });
  }
  return Response.json({ ok, firstError });
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== "POST") return new Response("certgate verify bench");
    const body = (await request.json()) as never;
    if (url.pathname === "/setup") return setup(body);
    if (url.pathname === "/run") return run(body);
    return new Response("not found", { status: 404 });
  },
};
