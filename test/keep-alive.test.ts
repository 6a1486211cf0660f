/** The gateway's port advertises the configured keep-alive time, and holds an idle connection past it. */
import { once } from "node:events";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSqliteApp, type TestApp } from "./support/app.js";

describe("keep-alive on the gateway's port", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startSqliteApp({ keepAliveTimeoutMs: 1_000 });
  });
  afterAll(async () => t?.close());

  it("advertises LATCHKEY_KEEP_ALIVE_TIMEOUT_MS and serves the same connection again past it", async () => {
    // A raw client that does not read the header, as a load balancer: the server alone decides.
    const { hostname, port } = new URL(t.url);
    const socket = connect(Number(port), hostname);
    await once(socket, "connect");
    let got = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => { got += d; });
    const healthz = async () => {
      got = "";
      socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
      const deadline = Date.now() + 10_000;
      while (!/\r\n\r\n[\s\S]*\}$/.test(got) && !socket.destroyed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      return got;
    };
    try {
      expect(await healthz()).toMatch(/^HTTP\/1.1 200[\s\S]*\r\nKeep-Alive: timeout=1\r\n/);
      // Past the advertised second and Node's own second of margin: the same connection still serves.
      await new Promise((r) => setTimeout(r, 2_500));
      expect(socket.destroyed).toBe(false);
      expect(await healthz()).toMatch(/^HTTP\/1.1 200/);
    } finally {
      socket.destroy();
    }
  }, 30_000);
});
