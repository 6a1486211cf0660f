/**
 * One key's slow requests cannot take every connection to an upstream: 256 of them from one key
 * (the pool has 256 connections) and another key is still served at once; before, it waited for
 * the first of them to end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readUntil, startHarness, type Harness } from "./support/gateway-harness.js";

// The greedy key's requests take this long upstream; the other key must be served in well under
// half of it. Long, so that a loaded machine's slowness is not taken for waiting on them.
const DELAY_MS = 20_000;

describe("a fair share of each upstream pool", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.addCredential("anthropic", "sk-ant-fair");
  });
  afterAll(async () => h?.close());

  const call = (key: string, content: string, signal?: AbortSignal) => fetch(`${h.url}/v1/messages`, {
    method: "POST", signal, headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content }] }),
  });

  it("serves another key promptly while one key has 256 slow requests open", async () => {
    const [greedy, other] = [await h.issueKey({ name: "greedy" }), await h.issueKey({ name: "other" })];
    const ac = new AbortController();
    const slow = Array.from({ length: 256 }, (_, i) => call(greedy, `slow ${i} sim-fault:slow sim-delay:${DELAY_MS}`, ac.signal).catch(() => null));
    // The greedy key's share (64) reaches the upstream; the rest wait in its queue.
    expect(await readUntil(async () => h.sim.stats.requests, (n) => n >= 64)).toBe(64);
    const started = performance.now();
    const r = await call(other, "hello");
    await r.arrayBuffer();
    expect(r.status).toBe(200);
    expect(performance.now() - started).toBeLessThan(DELAY_MS / 2);
    expect(h.sim.stats.requests).toBe(65);
    ac.abort();
    await Promise.all(slow);
  }, 60_000);
});
