/**
 * cert/sources/registry — every certificate source by name, and the configuration step that builds them.
 *
 * Contract: pure. createSources runs once per isolate (compile once, evaluate per request): a bad name or a
 * bad option is an error string then, not a failure under traffic. A new terminator format is one new file
 * in this folder plus one line in SOURCES.
 */
import { err, ok, type Result } from "../../result";
import { createAwsAlbSource } from "./aws-alb";
import { createBase64DerSource } from "./base64-der";
import { createCloudflareSource } from "./cloudflare";
import { createRfc9440Source } from "./rfc9440";
import { isHeaderName } from "./shared";
import type { CertificateSource, SourceOptions } from "./source";
import { createTraefikSource } from "./traefik";
import { createUrlPemSource } from "./url-pem";
import { createXfccSource } from "./xfcc";

/** Every known source, by the name used in configuration (CERT_SOURCES). */
export const SOURCES: Readonly<Record<string, (options: SourceOptions) => CertificateSource>> = {
  cloudflare: createCloudflareSource,
  rfc9440: createRfc9440Source,
  xfcc: createXfccSource,
  "url-pem": createUrlPemSource,
  "aws-alb": createAwsAlbSource,
  "base64-der": createBase64DerSource,
  traefik: createTraefikSource,
};

/**
 * Builds the configured sources, in the order given (the gateway consults them in that order).
 * Errors: an empty list, an unknown or repeated name, options for an unknown source, a `header` option that
 * is not an RFC 9110 field name, or a `header` option on a source whose header name is fixed.
 */
export function createSources(names: string[], options: Record<string, SourceOptions>): Result<CertificateSource[], string> {
  if (names.length === 0) return err("no certificate source is configured");
  for (const name of Object.keys(options)) {
    if (!isKnown(name)) return err(`options given for unknown certificate source "${name}" (known: ${knownList()})`);
  }
  const sources: CertificateSource[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    const create = isKnown(name) ? SOURCES[name] : undefined;
    if (create === undefined) return err(`unknown certificate source "${name}" (known: ${knownList()})`);
    if (seen.has(name)) return err(`certificate source "${name}" is listed twice`);
    seen.add(name);
    const sourceOptions = Object.hasOwn(options, name) ? options[name] ?? {} : {};
    const header = sourceOptions.header;
    if (header !== undefined && !isHeaderName(header)) {
      return err(`certificate source "${name}": header "${header}" is not a valid HTTP field name`);
    }
    const source = create(sourceOptions);
    // A source whose header name is fixed ignores the option; refusing it beats reading another header.
    if (header !== undefined && !source.headers.includes(header.toLowerCase())) {
      return err(`certificate source "${name}" does not take a header option (its header names are fixed)`);
    }
    sources.push(source);
  }
  return ok(sources);
}

/**
 * The lower-case names of every header any known format uses, under their default names and under the names
 * configured in `overrides`: the gateway strips all of them from every request before forwarding, whatever
 * source is configured, so an origin never sees a forged certificate header. Sorted, without duplicates.
 */
export function ALL_CERTIFICATE_HEADERS(overrides: Record<string, SourceOptions> = {}): readonly string[] {
  const names = new Set<string>();
  for (const [name, create] of Object.entries(SOURCES)) {
    for (const header of create({}).headers) names.add(header);
    const configured = Object.hasOwn(overrides, name) ? overrides[name] : undefined;
    if (configured?.header !== undefined && isHeaderName(configured.header)) {
      for (const header of create(configured).headers) names.add(header);
    }
  }
  return [...names].sort();
}

function isKnown(name: string): boolean {
  return Object.hasOwn(SOURCES, name);
}

function knownList(): string {
  return Object.keys(SOURCES).join(", ");
}
