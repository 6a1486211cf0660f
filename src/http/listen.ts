import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";

export interface BindOptions {
  host: string;
  port: number;
  /** PEM files; with both, the server speaks HTTPS. */
  tlsCertFile?: string | undefined;
  tlsKeyFile?: string | undefined;
  /** How long an idle client connection is kept (advertised to the client); Node's 5 s by default. */
  keepAliveTimeoutMs?: number | undefined;
}

/** How much longer than advertised an idle connection is really kept. */
export const KEEP_ALIVE_GRACE_MS = 10_000;

/**
 * Keeps idle connections open well past the keep-alive time they advertise. A client that honours
 * `Keep-Alive: timeout=N` (undici, so `fetch` and the Node SDKs) drops the connection a second or
 * so before N; a busy or briefly descheduled process on either side can run that late, and a
 * request sent on a connection the server has just closed fails with ECONNRESET, which a client
 * may not retry (a POST). Node itself keeps one second of margin; this makes it `graceMs`.
 * A connection that gets a request meanwhile is live again (Node clears its timer).
 */
export function holdIdleConnections(server: Server, keepAliveMs: number, graceMs = KEEP_ALIVE_GRACE_MS): void {
  server.keepAliveTimeout = keepAliveMs;
  // With a listener, Node leaves a timed-out socket to it instead of destroying it. Socket timeouts
  // on this server come from keep-alive only (server.timeout is 0): the first is given the grace,
  // the one at its end closes the connection.
  const graced = new WeakSet<Socket>();
  server.on("timeout", (socket: Socket) => {
    if (graced.has(socket)) {
      socket.destroy();
      return;
    }
    graced.add(socket);
    socket.setTimeout(graceMs);
    // A request in the grace makes it a live connection again, with its whole time when next idle.
    socket.once("data", () => graced.delete(socket));
  });
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
  if (o.keepAliveTimeoutMs !== undefined) holdIdleConnections(server, o.keepAliveTimeoutMs);
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
