import { request } from "node:http";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, startHarness, type Harness } from "./support/gateway-harness.js";

let h: Harness;
let key: string;

beforeAll(async () => {
  h = await startHarness({ paceMs: 15 });
  await h.addCredential("anthropic", "sk-ant-good-credential-0001");
  await h.addCredential("openai", "sk-openai-good-credential-0001");
  key = await h.issueKey();
});
afterAll(async () => h?.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
  fetch(`${h.url}${path}`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json", ...headers }, body: JSON.stringify(body), signal });

describe("streams", () => {
  it("meters a stream the client cuts short and aborts the upstream", async () => {
    const cutBefore = h.sim.stats.cut;
    const ac = new AbortController();
    const res = await post("/v1/messages", { model: "claude-sonnet-4-6", max_tokens: 1000, stream: true, messages: [{ role: "user", content: "long sim-tokens:400" }] }, {}, ac.signal);
    const requestId = res.headers.get("request-id")!;
    const reader = res.body!.getReader();
    let seen = "";
    while ((seen.match(/"text_delta"/g) ?? []).length < 6) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended before six deltas");
      seen += new TextDecoder().decode(value);
    }
    ac.abort();
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === requestId));
    expect(e.aborted).toBe(true);
    expect(e.inputTokens).toBeGreaterThan(0);
    expect(e.outputTokens).toBeGreaterThanOrEqual(6);
    expect(e.outputTokens).toBeLessThan(400);
    expect(e.costNano).toBeGreaterThan(0);
    await eventually(async () => h.sim.stats.cut > cutBefore);
  });

  it("meters a cut OpenAI stream that never reached its usage chunk", async () => {
    const ac = new AbortController();
    const res = await fetch(`${h.url}/v1/chat/completions`, { method: "POST", headers: { authorization: `Bearer ${key}` }, signal: ac.signal, body: JSON.stringify({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "sim-tokens:300" }] }) });
    const id = res.headers.get("x-request-id")!;
    const reader = res.body!.getReader();
    let n = 0;
    while (n < 4) {
      const { done, value } = await reader.read();
      if (done) throw new Error("the stream ended before four deltas");
      n += (new TextDecoder().decode(value).match(/"delta"/g) ?? []).length;
    }
    ac.abort();
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === id));
    expect(e).toMatchObject({ aborted: true, streamed: true });
    expect(e.outputTokens).toBeGreaterThanOrEqual(4);
  });

  it("reports an upstream that dies mid-stream to the Anthropic SDK and records what passed, without retrying", async () => {
    const before = h.sim.stats.requests;
    const client = new Anthropic({ apiKey: key, baseURL: h.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: "claude-sonnet-4-6", max_tokens: 100, messages: [{ role: "user", content: "sim-fault:die" }] });
    await expect(stream.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError);
    expect(h.sim.stats.requests - before).toBe(1);
    const requestId = (await stream.withResponse()).response.headers.get("request-id");
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === requestId));
    expect(e.errorCode === "upstream_died" || e.errorCode?.startsWith("UND_ERR")).toBe(true);
    expect(e.outputTokens).toBeGreaterThan(0);
    // An error, not a 200: the usage report counts it.
    expect(e.status).toBe(502);
    const rows = await h.store.rollups.report({ orgId: h.orgId, start: e.at - 60_000, end: Date.now() + 60_000, widthMs: 60_000, groupBy: [], filters: { key_id: [e.keyId] } });
    const errors = rows.reduce((n, r) => n + r.errors, 0);
    expect(errors).toBeGreaterThanOrEqual(1);
  });

  it("drops the connection of an OpenAI stream whose upstream dies", async () => {
    const client = new OpenAI({ apiKey: key, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const run = async () => {
      const s = await client.chat.completions.create({ model: "gpt-4o", stream: true, messages: [{ role: "user", content: "sim-fault:die" }] });
      for await (const _ of s) void _;
    };
    await expect(run()).rejects.toThrow();
  });
});

describe("JSON bodies", () => {
  it("pass a body far past the socket's buffer to a slow reader whole, metered once", async () => {
    const body = JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 40_000, messages: [{ role: "user", content: "sim-tokens:30000" }] });
    const { status, requestId, text } = await new Promise<{ status: number; requestId: string; text: string }>((resolve, reject) => {
      const req = request(`${h.url}/v1/messages`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json", "anthropic-version": "2023-06-01" } }, (res) => {
        res.pause();
        // Read nothing for a while: the gateway's writes fill the socket and it must wait for drain.
        setTimeout(() => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode!, requestId: String(res.headers["request-id"]), text: Buffer.concat(chunks).toString("utf8") }));
          res.resume();
        }, 300);
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(status).toBe(200);
    expect(text.length).toBeGreaterThan(100_000);
    const message = JSON.parse(text) as { usage: { output_tokens: number } };
    expect(message.usage.output_tokens).toBe(30_000);
    const e = await eventually(async () => (await h.usage()).find((x) => x.id === requestId));
    expect(e.outputTokens).toBe(30_000);
    expect((await h.usage()).filter((x) => x.id === requestId)).toHaveLength(1);
  });
});

describe("failover", () => {
  it("moves to the next credential on 529 or a refused connection, before any byte is sent", async () => {
    const f = await startHarness();
    try {
      await f.addCredential("anthropic", "sk-ant-fail-529-credential", { weight: 100 });
      await f.addCredential("anthropic", "sk-ant-unreachable-credential", { weight: 100, baseUrl: "http://127.0.0.1:1" });
      await f.addCredential("anthropic", "sk-ant-healthy-credential", { weight: 1 });
      const k = await f.issueKey();
      const client = new Anthropic({ apiKey: k, baseURL: f.url, maxRetries: 0 });
      for (let i = 0; i < 4; i++) {
        const m = await client.messages.create({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
        expect(m.type).toBe("message");
      }
      expect(f.sim.stats.byKey.get("sk-ant-healthy-credential")).toBe(4);
      expect(f.sim.stats.byKey.get("sk-ant-fail-529-credential") ?? 0).toBeGreaterThanOrEqual(1);
      const events = await f.usage();
      expect(events.filter((e) => e.status === 200)).toHaveLength(4);
    } finally {
      await f.close();
    }
  });
});

describe("timeouts", () => {
  it("answers 504 in dialect when the first byte does not come in time", async () => {
    const t = await startHarness({ config: { upstreamFirstByteTimeoutMs: 150, upstreamMaxAttempts: 2 } });
    try {
      await t.addCredential("anthropic", "sk-ant-slow-credential-0001");
      const k = await t.issueKey();
      const r = await fetch(`${t.url}/v1/messages`, { method: "POST", headers: { "x-api-key": k }, body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 5, messages: [{ role: "user", content: "sim-fault:slow sim-delay:20000" }] }) });
      // The upstream would answer after 20 s, far beyond the timeout however coarse its timer (the
      // HTTP client checks header timeouts on a tick of about half a second) or late under load.
      expect(r.status).toBe(504);
      expect(await r.json()).toMatchObject({ type: "error", error: { type: "timeout_error" } });
      expect(t.sim.stats.requests).toBe(2);
    } finally {
      await t.close();
    }
  });
});
