import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * The request handler of the separate metrics listener (LATCHKEY_METRICS_PORT): GET /metrics and
 * nothing else, without a key. It is meant for a port only the scraper's network reaches; on the
 * main port the same series need the `metrics:read` scope.
 */
export function serveMetrics(server: Server, render: () => Promise<{ contentType: string; body: string }>): void {
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("this port serves GET /metrics only\n");
      return;
    }
    render().then((m) => {
      res.writeHead(200, { "content-type": m.contentType, "content-length": String(Buffer.byteLength(m.body)) });
      res.end(req.method === "HEAD" ? undefined : m.body);
    }, () => {
      res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("metrics could not be rendered\n");
    });
  });
}
