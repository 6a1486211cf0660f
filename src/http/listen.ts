import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface BindOptions {
  host: string;
  port: number;
  /** PEM files; with both, the server speaks HTTPS. */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
}

/** Bad TLS settings, named before anything listens. */
export class TlsSetupError extends Error {
  override name = "TlsSetupError";
}

/** Answers while the rest of the process starts: the port is held, but nothing is served yet. */
function starting(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(503, { "content-type": "application/json", "retry-after": "1" }).end('{"status":"starting"}');
}

/**
 * Binds the port before anything else is created, so a busy port fails a first run before it
 * makes an organization and keys it could never show. Rejects with the listen error (EADDRINUSE…).
 */
export async function bindServer(o: BindOptions): Promise<{ server: Server; url: string }> {
  let server: Server;
  if (o.tlsCertFile && o.tlsKeyFile) {
    let cert: Buffer, key: Buffer;
    try {
      cert = readFileSync(o.tlsCertFile);
      key = readFileSync(o.tlsKeyFile);
    } catch (err) {
      throw new TlsSetupError(`cannot read the TLS certificate or key: ${(err as Error).message}`);
    }
    try {
      server = createTlsServer({ cert, key }, starting);
    } catch (err) {
      throw new TlsSetupError(`the TLS certificate or key is not usable: ${(err as Error).message}`);
    }
  } else {
    server = createServer(starting);
  }
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(o.port, o.host, () => {
      server.off("error", fail);
      ok();
    });
  });
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return { server, url: `${o.tlsCertFile ? "https" : "http"}://${host}:${a.port}` };
}
