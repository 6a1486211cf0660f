/**
 * The baseline for the gateway benchmark: a node:http server that forwards every request to one
 * upstream with an undici Pool and pumps the answer back with write/drain back-pressure, doing
 * nothing else (no auth, no parsing, no metering).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { Pool, type Dispatcher } from "undici";
import { listenLocal, type LocalServer } from "./targets.js";

const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "content-length"]);

/** A caller's request headers as forwarded: all but hop-by-hop ones and those the pool sets itself (host, content-length). */
export function forwardedHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in h) if (!HOP.has(k)) out[k] = String(h[k]);
  return out;
}

/** An upstream answer's headers as passed on: all but the hop-by-hop ones. */
export function answerHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) if (k !== "connection" && k !== "keep-alive" && k !== "transfer-encoding" && h[k] !== undefined) out[k] = h[k];
  return out;
}

class Forward implements Dispatcher.DispatchHandler {
  constructor(private readonly res: ServerResponse) {}
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.res.on("drain", () => controller.resume());
    this.res.once("close", () => { if (!this.res.writableFinished) controller.abort(new Error("client closed")); });
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    this.res.writeHead(status, answerHeaders(headers));
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (!this.res.write(chunk)) c.pause();
  }
  onResponseEnd(): void {
    this.res.end();
  }
  onResponseError(): void {
    if (!this.res.headersSent) this.res.writeHead(502);
    this.res.end();
  }
}

export async function startBaselineProxy(upstream: string, port = 0): Promise<LocalServer> {
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const headers = forwardedHeaders(req.headers);
      headers["content-length"] = String(body.length);
      pool.dispatch({ path: req.url ?? "/", method: req.method as Dispatcher.HttpMethod, headers, body }, new Forward(res));
    });
  });
  return listenLocal(server, port, () => pool.close());
}
