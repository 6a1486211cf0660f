/**
 * The gateway's edges on a live key (the simulator as its provider credential): an over-large body
 * is refused the same way whether its size was declared or streamed in chunks, and a client that
 * writes its whole body before reading (Connection: close) reads the 413 instead of a broken pipe;
 * an unmatched Gemini model path is a 404 in Gemini's shape.
 */
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHarness, type Harness } from "./support/gateway-harness.js";

const LIMIT = 1 << 20;

interface RawAnswer { status: number; body: string; error: string | null }

/** Sends `size` bytes of a JSON body, chunked or with content-length, writing all of it before reading. */
function send(url: string, key: string, size: number, chunked: boolean): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const head = Buffer.from('{"model":"claude-haiku-4-5","max_tokens":8,"messages":[{"role":"user","content":"');
    const tail = Buffer.from('"}]}');
    const filler = size - head.length - tail.length;
    const headers: Record<string, string> = { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json", connection: "close" };
    if (!chunked) headers["content-length"] = String(size);
    const req = request(`${url}/v1/messages`, { method: "POST", headers });
    let answered: RawAnswer | null = null;
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        answered = { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), error: null };
        resolve(answered);
      });
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (!answered) resolve({ status: 0, body: "", error: err.code ?? err.message });
    });
    req.write(head);
    const piece = Buffer.alloc(64 * 1024, "a");
    for (let left = filler; left > 0; left -= piece.length) req.write(left >= piece.length ? piece : piece.subarray(0, left));
    req.end(tail);
  });
}

describe("gateway edges", () => {
  let h: Harness;
  let key: string;

  beforeAll(async () => {
    h = await startHarness({ config: { maxBodyBytes: LIMIT } });
    await h.addCredential("anthropic", "sk-ant-edge-secret");
    key = await h.issueKey();
  });
  afterAll(async () => h?.close());

  it("refuses an over-large body alike, declared or chunked, and the client reads the 413", async () => {
    const before = (await h.usage()).length;
    for (const chunked of [false, true]) {
      const r = await send(h.url, key, LIMIT + 512 * 1024, chunked);
      expect(r.error, `chunked=${chunked}`).toBeNull();
      expect(r.status).toBe(413);
      expect(JSON.parse(r.body)).toMatchObject({ type: "error", error: { type: "request_too_large" } });
    }
    // Neither became a usage record.
    expect((await h.usage()).length).toBe(before);
    // A body within the limit is served.
    expect((await send(h.url, key, 2048, true)).status).toBe(200);
  });

  it("answers an unmatched Gemini model path with 404, not 405", async () => {
    for (const [method, path] of [["POST", "/v1beta/models/gemini-2.5-flash:noSuchMethod"], ["POST", "/v1beta/modelsX"], ["GET", "/v1beta/models/a:b"]]) {
      const r = await fetch(`${h.url}${path}`, { method, headers: { "x-goog-api-key": key, "content-type": "application/json" }, body: method === "POST" ? "{}" : undefined });
      expect(r.status, `${method} ${path}`).toBe(404);
      expect((await r.json()) as unknown).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });
    }
    const wrongMethod = await fetch(`${h.url}/v1beta/models/gemini-2.5-flash:generateContent`, { headers: { "x-goog-api-key": key } });
    expect(wrongMethod.status).toBe(405);
  });
});
