/**
 * The baseline for the gateway benchmark: a node:http server that forwards every request to one
 * upstream with an undici Pool and pumps the answer back with write/drain back-pressure, doing
 * nothing else (no auth, no parsing, no metering).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Pool, type Dispatcher } from "undici";
import { listenLocal, type LocalServer } from "./targets.js";

const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "host", "content-length"]);

class Forward implements Dispatcher.DispatchHandler {
  constructor(private readonly res: ServerResponse) {}
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.res.on("drain", () => controller.resume());
    this.res.once("close", () => { if (!this.res.writableFinished) controller.abort(new Error("client closed")); });
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    const out: Record<string, string | string[]> = {};
    for (const k in headers) if (k !== "connection" && k !== "keep-alive" && k !== "transfer-encoding" && headers[k] !== undefined) out[k] = headers[k]!;
    this.res.writeHead(status, out);
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
      const headers: Record<string, string> = {};
      for (const k in req.headers) if (!HOP.has(k)) headers[k] = String(req.headers[k]);
      headers["content-length"] = String(body.length);
      pool.dispatch({ path: req.url ?? "/", method: req.method as Dispatcher.HttpMethod, headers, body }, new Forward(res));
    });
  });
  return listenLocal(server, port, () => pool.close());
}
