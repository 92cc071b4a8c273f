/**
 * A demo origin: a tiny HTTP server on 127.0.0.1 that answers every request with what it received, as JSON:
 *   {"method", "url" (path + query), "headers" (as received, lower-case names, repeats joined by ", "),
 *    "body": {"bytes", "sha256"}}
 * and the response header `X-Demo-Origin: echo`. For `npm start`, tests and benchmarks. Node only.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** What the demo origin answers. */
export interface OriginEcho {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: { readonly bytes: number; readonly sha256: string };
}

export interface RunningOrigin {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The request's headers; Node's `req.headers` would drop repeats of some names, rawHeaders keeps them all. */
function receivedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase();
    const value = req.rawHeaders[i + 1]!;
    out[name] = name in out ? `${out[name]}, ${value}` : value;
  }
  return out;
}

/** Starts the echo origin on 127.0.0.1:`port` (0 or absent: a free port). */
export function startDemoOrigin(port = 0): Promise<RunningOrigin> {
  const server = createServer((req, res) => {
    const hash = createHash("sha256");
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on("end", () => {
      const echo: OriginEcho = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: receivedHeaders(req),
        body: { bytes, sha256: hash.digest("hex") },
      };
      const text = JSON.stringify(echo, null, 2) + "\n";
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "x-demo-origin": "echo" });
      res.end(text);
    });
    req.on("error", () => res.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}`,
        port: bound,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
