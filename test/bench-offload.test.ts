import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBenchUpstream, STREAM_EVENT_COUNT } from "../bench/baseline-upstream.js";
import { startOffloadProxy } from "../bench/offload-proxy.js";

/**
 * The gateway bench's offload proxy (bench/offload-proxy.ts) batches a turn's requests into one
 * message and a turn's answers into another, every body in one shared buffer: a slip in the byte
 * ranges would hand one caller another's bytes, and the bench would time answers nobody checked.
 */
describe("the bench's offload proxy", () => {
  let upstream: Awaited<ReturnType<typeof startBenchUpstream>>;
  let proxy: Awaited<ReturnType<typeof startOffloadProxy>>;
  beforeAll(async () => {
    upstream = await startBenchUpstream();
    proxy = await startOffloadProxy(upstream.url);
  });
  afterAll(async () => {
    await proxy.close();
    await upstream.close();
  });

  const call = async (base: string, stream: boolean, content: string) => {
    const r = await fetch(`${base}/v1/messages`, {
      method: "POST", headers: { "x-api-key": "sk-offload-test", "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content }] }),
    });
    return { status: r.status, type: r.headers.get("content-type"), body: await r.text() };
  };

  it("answers many requests at once, JSON and streamed, each with the upstream's own answer byte for byte", async () => {
    const direct = { json: await call(upstream.url, false, "x"), stream: await call(upstream.url, true, "x") };
    expect(direct.stream.body.match(/^event: /gm)).toHaveLength(STREAM_EVENT_COUNT);
    // Requests of different sizes, sent together, so that a turn's message carries several bodies.
    const asks = Array.from({ length: 40 }, (_, i) => ({ stream: i % 3 === 0, content: "y".repeat(1 + ((i * 997) % 5000)) }));
    const answers = await Promise.all(asks.map((a) => call(proxy.url, a.stream, a.content)));
    answers.forEach((r, i) => expect(r).toEqual(asks[i]!.stream ? direct.stream : direct.json));
  });

  it("carries each request's own body up and its own answer back when many share a turn's buffer", async () => {
    // An upstream that answers with the request's body, in three writes a turn apart: answers of
    // different lengths, each in pieces that arrive among the others'.
    const echo = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        const body = Buffer.concat(parts);
        const third = Math.ceil(body.length / 3);
        res.writeHead(200, { "content-type": "application/octet-stream" });
        res.write(body.subarray(0, third));
        setImmediate(() => {
          res.write(body.subarray(third, 2 * third));
          setImmediate(() => res.end(body.subarray(2 * third)));
        });
      });
    });
    await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
    const through = await startOffloadProxy(`http://127.0.0.1:${(echo.address() as AddressInfo).port}`);
    try {
      const bodies = Array.from({ length: 60 }, (_, i) => `${i}:` + String.fromCharCode(97 + (i % 26)).repeat(1 + ((i * 7919) % 20_000)));
      const answers = await Promise.all(bodies.map(async (b) => (await fetch(`${through.url}/echo`, { method: "POST", body: b })).text()));
      answers.forEach((a, i) => expect(a).toBe(bodies[i]));
    } finally {
      await through.close();
      echo.closeAllConnections();
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });

  it("ends an answer whose upstream fails after its head went out, and goes on serving", async () => {
    const cutting = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "text/plain" });
        if (req.url !== "/cut") {
          res.end("whole");
          return;
        }
        res.write("partial");
        setTimeout(() => res.socket?.destroy(), 20);
      });
    });
    await new Promise<void>((r) => cutting.listen(0, "127.0.0.1", r));
    const through = await startOffloadProxy(`http://127.0.0.1:${(cutting.address() as AddressInfo).port}`);
    try {
      const cut = await fetch(`${through.url}/cut`, { method: "POST", body: "x" });
      expect(cut.status).toBe(200);
      expect(await cut.text()).toBe("partial");
      const next = await fetch(`${through.url}/whole`, { method: "POST", body: "x" });
      expect(await next.text()).toBe("whole");
    } finally {
      await through.close();
      cutting.closeAllConnections();
      await new Promise<void>((r) => cutting.close(() => r()));
    }
  });
});
