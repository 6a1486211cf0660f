/**
 * One node on SQLite, killed with SIGKILL while requests are in flight and right after others
 * finished: after a restart every finished request has exactly one usage record, every one in
 * flight is charged its bound by the lease rule, and the spend limit still holds.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { openDatabase, type Database } from "../src/store/index.js";
import { startUp } from "./support/processes.js";

describe("a one-node SQLite server killed mid-traffic", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-journal-"));
  let sim: SimulatorServer | null = null;
  let proc: ChildProcess | null = null;
  let db: Database | null = null;
  afterAll(async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await db?.close();
    await sim?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records every finished request once and charges every one in flight by the lease rule", async () => {
    sim = await createSimulatorServer();
    const first = await startUp(dir);
    proc = first.proc;
    const api = async (path: string, body: unknown) => (await fetch(`${first.url}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${first.admin}`, "content-type": "application/json" }, body: JSON.stringify(body),
    })).json() as Promise<any>;
    await api("/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-journal", base_url: sim.url });
    const key = await api("/api/v1/keys", { name: "victim", kind: "live", spend_limit: { amount_usd: "0.20", period: "day" } });
    const call = (url: string, content: string, stream: boolean, maxTokens = 200) => fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": key.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: maxTokens, stream, messages: [{ role: "user", content }] }),
    });

    const inFlight = Array.from({ length: 8 }, (_, i) => call(first.url, `slow ${i} sim-fault:slow sim-delay:20000`, i % 2 === 0).catch(() => null));
    await new Promise((r) => setTimeout(r, 300));
    const finished = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
      const r = await call(first.url, `quick ${i} sim-tokens:20`, i % 2 === 0);
      const text = Buffer.from(await r.arrayBuffer()).toString();
      if (r.status !== 200) console.info(`quick ${i}: ${r.status} ${text.slice(0, 300)}`);
      expect(r.status).toBe(200);
      return r.headers.get("request-id")!;
    }));
    proc.kill("SIGKILL"); // within the recorder's 100 ms batch: these events were only in memory (and the journal)
    await Promise.all(inFlight);

    const second = await startUp(dir);
    proc = second.proc;
    db = openDatabase({ url: join(dir, "latchkey.db") });
    const rows = await db.db.selectFrom("usage_events").select(["id", "cost_nano", "error_code"]).where("key_id", "=", key.id).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(rows.length).toBe(byId.size); // no id twice
    for (const id of finished) expect(byId.get(id), id).toMatchObject({ error_code: null });
    const charged = rows.filter((r) => r.error_code === "lease_expired");
    expect(charged).toHaveLength(8);
    for (const r of charged) expect(Number(r.cost_nano)).toBeGreaterThan(0);
    expect(rows).toHaveLength(48);

    // The restarted node's counter starts from those records: the limit holds across the crash.
    const spentBefore = rows.reduce((s, r) => s + Number(r.cost_nano), 0);
    for (let i = 0; i < 100; i++) {
      const r = await call(second.url, "more sim-tokens:1900", false, 2000);
      await r.arrayBuffer();
      if (r.status === 429) break;
    }
    // The last answers' usage is written by the next batch (about 100 ms): read until the sum settles.
    const store = db;
    const sum = async () => (await store.db.selectFrom("usage_events").select(["cost_nano"]).where("key_id", "=", key.id).execute())
      .reduce((s, r) => s + Number(r.cost_nano), 0);
    let spent = await sum();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const again = await sum();
      if (again === spent) break;
      spent = again;
    }
    expect(spent).toBeGreaterThan(spentBefore);
    expect(spent).toBeLessThanOrEqual(200_000_000);
    expect(spent).toBeGreaterThan(150_000_000);
  }, 90_000);
});
