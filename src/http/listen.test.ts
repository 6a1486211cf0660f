import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../config/index.js";
import { holdIdleConnections } from "./listen.js";

/** A raw client, so nothing but the server decides when the connection closes. */
async function openClient(server: Server): Promise<{ socket: Socket; closedAt: Promise<number>; request: () => Promise<string> }> {
  const socket = connect((server.address() as AddressInfo).port, "127.0.0.1");
  await once(socket, "connect");
  let buffered = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => { buffered += d; });
  const closedAt = once(socket, "close").then(() => performance.now());
  const request = async () => {
    buffered = "";
    socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n");
    while (!buffered.endsWith("ok")) await new Promise((r) => setTimeout(r, 5));
    return buffered;
  };
  return { socket, closedAt, request };
}

describe("idle client connections", () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });
  const start = async (keepAliveMs: number, graceMs: number) => {
    server = createServer((_req, res) => res.end("ok"));
    holdIdleConnections(server, keepAliveMs, graceMs);
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return server;
  };

  it("are kept past the advertised time by the grace, then closed", async () => {
    const s = await start(300, 1500);
    const c = await openClient(s);
    expect(await c.request()).toContain("Keep-Alive: timeout=0"); // 300 ms, in whole seconds
    // Past what is advertised and past Node's own one-second margin: still open, still serving.
    await new Promise((r) => setTimeout(r, 300 + 1000 + 300));
    expect(c.socket.destroyed).toBe(false);
    expect(await c.request()).toMatch(/^HTTP\/1.1 200/);
    const idleAgain = performance.now();
    // Idle again: it now gets its whole time and grace again, and is closed after them, not before.
    const closed = await Promise.race([c.closedAt, new Promise<number>((r) => setTimeout(() => r(-1), 20_000))]);
    expect(closed, "closed within 20 s").toBeGreaterThan(0);
    expect(closed - idleAgain).toBeGreaterThanOrEqual(300 + 1500 - 50);
  }, 30_000);

  it("advertises the configured time, 65 s by default", () => {
    expect(loadConfig({ env: {} }).keepAliveTimeoutMs).toBe(65_000);
    expect(loadConfig({ env: { LATCHKEY_KEEP_ALIVE_TIMEOUT_MS: "340000" } }).keepAliveTimeoutMs).toBe(340_000);
    expect(() => loadConfig({ env: { LATCHKEY_KEEP_ALIVE_TIMEOUT_MS: "0" } })).toThrow(/KEEP_ALIVE_TIMEOUT_MS/);
  });
});
