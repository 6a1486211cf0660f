/**
 * The cost bound against the spend limit, on live keys routed to the simulator as a provider
 * credential: documents of every size never take a key past its limit (they did, 12.5x and 3x).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { spentOnceWritten, startSqliteApp, type TestApp } from "./support/app.js";

/** A PDF of `pages` uncompressed pages padded with incompressible-looking filler up to about `bytes`. */
function pdfBase64(pages: number, bytes: number): string {
  const filler = Buffer.alloc(Math.ceil(bytes / pages), "q").toString("latin1");
  const objects = Array.from({ length: pages }, (_, i) => `${i + 3} 0 obj << /Type /Page /Parent 2 0 R >> stream\n${filler}\nendstream endobj`);
  return Buffer.from(`%PDF-1.4\n2 0 obj << /Type /Pages /Count ${pages} >> endobj\n${objects.join("\n")}\n%%EOF`).toString("base64");
}

describe("document costs against spend limits (live keys, simulator upstream)", () => {
  let t: TestApp;
  let sim: SimulatorServer;

  beforeAll(async () => {
    sim = await createSimulatorServer();
    t = await startSqliteApp();
    const cred = await t.api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-sim", base_url: sim.url });
    expect(cred.status).toBe(201);
  });
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  const send = (key: string, data: string, note = "") => fetch(`${t.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 50, messages: [{ role: "user", content: [
      { type: "document", source: { type: "base64", media_type: "application/pdf", data } }, { type: "text", text: `Summarise. ${note}` },
    ] }] }),
  });

  it("refuses a 1 MB PDF that would pass a $0.10 key limit, and serves a small one within it", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "pdf", kind: "live", spend_limit: { amount_usd: "0.10", period: "total" } })).body;
    const big = await send(k.key, pdfBase64(12, 1_000_000));
    expect(big.status).toBe(429);
    expect(((await big.json()) as any).error.type).toBe("rate_limit_error");
    const small = await send(k.key, pdfBase64(1, 2_000));
    expect(small.status).toBe(200);
    await small.arrayBuffer();
    const { served, spent } = await spentOnceWritten(t, "key_id", k.id, 1);
    expect(served).toBe(1);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(100_000_000);
  });

  it("keeps ten parallel 408 KB documents within a $0.50 limit, and ten of 100 KB too", async () => {
    const k = (await t.api("POST", "/api/v1/keys", { name: "docs", kind: "live", spend_limit: { amount_usd: "0.50", period: "total" } })).body;
    const parallel = async (doc: string) => {
      const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => send(k.key, doc, `n${i}`)));
      return Promise.all(answers.map(async (r) => (await r.arrayBuffer(), r.status)));
    };
    // Each billed about $0.41 by the simulator, bounded at about $2.05: none can be admitted.
    expect(await parallel(pdfBase64(2, 408_000))).toEqual(Array(10).fill(429));
    // Bounded at about $0.44 each (billed about $0.08): served one at a time as the limit allows.
    const small = await parallel(pdfBase64(2, 80_000));
    expect(small.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);
    expect(small.every((s) => s === 200 || s === 429)).toBe(true);
    const admitted = small.filter((s) => s === 200).length;
    const { served, spent } = await spentOnceWritten(t, "key_id", k.id, admitted);
    expect(served).toBe(admitted);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(500_000_000);
  });

  it("refuses, in the caller's format and with a request id, a document it cannot bound when the model has no context window", async () => {
    expect((await t.api("PATCH", "/api/v1/models/claude-sonnet-4-6", { context_window: 0 })).status).toBeLessThan(300);
    const k = (await t.api("POST", "/api/v1/keys", { name: "url", kind: "live" })).body;
    const r = await fetch(`${t.url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": k.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 50, messages: [{ role: "user", content: [{ type: "document", source: { type: "url", url: "https://example.com/a.pdf" } }] }] }),
    });
    expect(r.status).toBe(400);
    const body = (await r.json()) as any;
    expect(body).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(body.error.message).toMatch(/cannot be measured/);
    expect(r.headers.get("request-id")).toMatch(/^req_/);
    expect(sim.stats.byKey.get("sk-ant-sim") ?? 0).toBeLessThan(20);
  });
});
