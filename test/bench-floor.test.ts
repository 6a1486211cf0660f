import Database from "better-sqlite3";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBenchUpstream } from "../bench/baseline-upstream.js";
import { startFloorGateway } from "../bench/floor-gateway.js";

/**
 * The gateway bench's floor (bench/floor-gateway.ts) is quoted as the least a metering gateway
 * costs: it must do that work, not less, or every ratio to it flatters Latchkey less than it seems.
 */
describe("the bench's floor gateway", () => {
  let dir: string;
  let upstream: Awaited<ReturnType<typeof startBenchUpstream>>;
  let floor: Awaited<ReturnType<typeof startFloorGateway>>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "latchkey-floor-"));
    upstream = await startBenchUpstream();
    floor = await startFloorGateway(upstream.url, dir);
  });
  afterAll(async () => {
    await floor.close();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = (stream: boolean) => fetch(`${floor.url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": "sk-floor-test", "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "Hi" }] }),
  });

  it("journals, meters, answers with rate-limit headers and writes every usage row", async () => {
    const answers = await Promise.all([...Array.from({ length: 6 }, () => call(false)), ...Array.from({ length: 4 }, () => call(true))]);
    for (const r of answers) {
      expect(r.status).toBe(200);
      expect(r.headers.get("request-id")).toMatch(/^req_/);
      expect(r.headers.get("anthropic-ratelimit-tokens-remaining")).toMatch(/^\d+$/);
      await r.text();
    }
    const last = await call(false);
    expect(last.status).toBe(200);
    await last.text();
    const unmetered = await fetch(`${floor.url}/v1/messages`, { method: "POST", body: "{}" });
    expect(unmetered.status).toBe(401);
    // Every answer has ended, so every usage line is in the journal: it is written before the end.
    const lines = readFileSync(join(dir, "floor-journal.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l) as unknown[]);
    expect(lines.filter((l) => l[0] === "r")).toHaveLength(11);
    expect(lines.filter((l) => l[0] === "e")).toHaveLength(11);
    await expect.poll(() => {
      const db = new Database(join(dir, "floor-usage.db"), { readonly: true });
      try {
        return db.prepare("select streamed, count(*) as n, sum(output_tokens) as output, min(cost_nano) as cost from usage_events group by streamed order by streamed").all();
      } catch {
        return [];
      } finally {
        db.close();
      }
    }, { timeout: 5000 }).toEqual([
      // The upstream's answers: 12 tokens in, 16 out, at claude-haiku-4-5's price (1,000 and 5,000 nano-dollars a token).
      { streamed: 0, n: 7, output: 7 * 16, cost: 12 * 1000 + 16 * 5000 },
      { streamed: 1, n: 4, output: 4 * 16, cost: 12 * 1000 + 16 * 5000 },
    ]);
  });
});
