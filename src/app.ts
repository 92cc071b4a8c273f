/**
 * The request path, in order:
 *   config → trust boundary → certificate sources → validation → decision → origin
 *                                                                  ↘ deny → http/problem (RFC 9457)
 * Each stage is a Hono middleware that sets one typed variable (env.ts) or throws a DenyException;
 * `app.onError` is the one place an error becomes a response.
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describeCertificate } from "./cert/model";
import type { PresentedCertificate } from "./cert/sources/source";
import { configOf, type Config } from "./config";
import type { AppEnv, Env, Verification } from "./env";
import { gatewayError, type GatewayError } from "./errors";
import { upstreamHeaders } from "./forward/headers";
import { identityHeaders } from "./forward/identity";
import { forwardToOrigin } from "./forward/origin";
import { problemResponse } from "./http/problem";
import { fromTerminator } from "./http/trust-boundary";
import { log } from "./log";
import { TrustStore } from "./pki/trust-store";
import { CertificateVerifier } from "./pki/verifier";
import { equalBytes } from "./cert/parse";

/** A denial or failure on the request path; turned into problem+json by onError. */
export class DenyException extends Error {
  constructor(readonly error: GatewayError) {
    super(error.code);
  }
}

/** Isolate-wide state: one verifier (result cache) and one trust-store cache per env (one per isolate). */
const verifier = new CertificateVerifier();
const stores = new WeakMap<Env, TrustStore>();

function trustStoreOf(env: Env, config: Config): TrustStore {
  let s = stores.get(env);
  if (!s) {
    s = new TrustStore(env.TRUST, { refreshMs: config.trustRefreshMs, kvTimeoutMs: config.kvTimeoutMs });
    stores.set(env, s);
  }
  return s;
}

export function createApp(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // 1. Configuration, parsed once per isolate.
  app.use(async (c, next) => {
    const config = configOf(c.env);
    if (!config.ok) {
      log("error", "configuration_invalid", { problems: config.error });
      throw new DenyException(gatewayError("configuration_invalid", "The gateway is misconfigured.", undefined, config.error.join("; ")));
    }
    c.set("config", config.value);
    await next();
  });

  // 2. Trust boundary: header sources count only from the authenticated terminator.
  app.use(async (c, next) => {
    const config = c.get("config");
    const trusted = fromTerminator(c.req.raw.headers, config);
    if (!trusted && config.terminator.rejectUntrustedHeaders) {
      const present = config.sources.filter((s) => s.fromTerminator).flatMap((s) => s.headers).find((h) => c.req.raw.headers.has(h));
      if (present) {
        throw new DenyException(gatewayError("certificate_header_untrusted",
          "A certificate header was sent by a client that is not the configured TLS terminator.", { header: present }));
      }
    }
    c.set("terminator", trusted);
    await next();
  });

  // 3. Certificate sources, in configured order; two different certificates are ambiguous.
  app.use(async (c, next) => {
    const config = c.get("config");
    const raw = c.req.raw as Request & { cf?: unknown };
    // `cf` is materialized on access; only the cloudflare source reads it.
    const input = { headers: raw.headers, get cf() { return raw.cf; } };
    let found: PresentedCertificate | null = null;
    for (const source of config.sources) {
      if (source.fromTerminator && !c.get("terminator")) continue;
      const r = source.extract(input);
      if (r.kind === "none") continue;
      if (r.kind === "error") throw new DenyException({ ...r.error, context: { ...r.error.context, source: source.name } });
      if (found && !equalBytes(found.leaf, r.certificate.leaf)) {
        throw new DenyException(gatewayError("certificate_ambiguous", "Two certificate sources carry different client certificates.",
          { sources: [found.source, r.certificate.source] }));
      }
      found ??= r.certificate;
    }
    c.set("presented", found);
    await next();
  });

  // 4. Validation against the configured trust store.
  app.use(async (c, next) => {
    const presented = c.get("presented");
    if (!presented) {
      c.set("verification", { status: "none" });
      return next();
    }
    const config = c.get("config");
    const material = await trustStoreOf(c.env, config).material(config.trustStore);
    if (!material.ok) {
      log("error", "trust_store_unavailable", { store: config.trustStore, internal: material.error.internal });
      throw new DenyException(material.error);
    }
    const verdict = await verifier.verify(material.value, presented.leaf, presented.chain, new Date(), config.validation);
    const model = verdict.leaf ? await describeCertificate(verdict.leaf) : null;
    const verification: Verification = verdict.result.ok && model
      ? { status: "valid", path: verdict.result.value, model, presented }
      : { status: "invalid", error: verdict.result.ok ? gatewayError("internal_error", "no model") : verdict.result.error, model, presented };
    c.set("verification", verification);
    await next();
  });

  // 5. Decision (the deployment-level setting until policies replace it) and 6. the origin.
  app.all("*", async (c) => {
    const config = c.get("config");
    const v = c.get("verification");
    if (v.status === "invalid") {
      log("info", "certificate_rejected", { code: v.error.code, source: v.presented.source, subject: v.model?.subject.rfc4514, sha256: v.model?.sha256 });
      throw new DenyException(v.error);
    }
    if (v.status === "none" && config.requireCertificate) {
      throw new DenyException(gatewayError("certificate_missing", "A client certificate is required."));
    }
    const identity = v.status === "valid" ? identityHeaders(v.path, v.model, config.identityHeaderPrefix) : {};
    const url = new URL(c.req.url);
    const headers = upstreamHeaders(c.req.raw.headers, config, identity, {
      clientIp: c.req.header("cf-connecting-ip") ?? null,
      proto: url.protocol.replace(":", ""),
      host: url.host,
      fromTerminator: c.get("terminator"),
    });
    const fetcher = c.env.ORIGIN ? (r: Request) => c.env.ORIGIN!.fetch(r) : (r: Request) => fetch(r);
    const origin = config.origin.url ?? new URL("http://origin.invalid");
    const res = await forwardToOrigin(c.req.raw, headers, { origin, timeoutMs: config.origin.timeoutMs, fetcher });
    if (!res.ok) {
      log("warn", res.error.code, { internal: res.error.internal });
      throw new DenyException(res.error);
    }
    return res.value;
  });

  app.onError((e, c) => {
    const path = new URL(c.req.url).pathname;
    let config: Config | undefined;
    try {
      config = c.get("config");
    } catch {
      config = undefined;
    }
    const options = { denyStatus: config?.denyStatus ?? 403, typeBase: config?.problemTypeBase ?? "urn:certgate:problem:" };
    if (e instanceof DenyException) return problemResponse(e.error, path, options);
    if (e instanceof HTTPException) return e.getResponse();
    log("error", "internal_error", { message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined });
    return problemResponse(gatewayError("internal_error", "An unexpected error occurred."), path, options);
  });

  return app;
}

