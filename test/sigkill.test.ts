/**
 * A node killed with SIGKILL in the middle of a request: its budget reservation is not lost. Once
 * the lease ends another node charges it by the lease rule and records it, so the spend counter and
 * the usage records agree again.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createApp, type App } from "../src/main.js";
import { startUp } from "./support/processes.js";
import { createPgSchema, postgresAvailable, REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const ready = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!ready)("a node killed mid-request", () => {
  const dirs: string[] = [];
  let survivor: App | null = null;
  let running: ChildProcess | null = null;
  let drop: () => Promise<void> = async () => {};
  const redisKeys = redisPrefix();
  afterAll(async () => {
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
    await survivor?.close();
    await drop();
    await redisKeys.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("has its reservation charged by the lease rule on another node, and counters match the records", async () => {
    const schema = await createPgSchema();
    drop = schema.drop;
    const masterKey = "22".repeat(32);
    const env = { LATCHKEY_DATABASE_URL: schema.url, LATCHKEY_REDIS_URL: REDIS_URL, LATCHKEY_REDIS_PREFIX: redisKeys.prefix, LATCHKEY_MASTER_KEY: masterKey, LATCHKEY_RESERVATION_LEASE_SECONDS: "2", LATCHKEY_LOG_LEVEL: "fatal" };
    const dirA = mkdtempSync(join(tmpdir(), "latchkey-victim-"));
    dirs.push(dirA);
    const started = await startUp(dirA, env);
    const victim = started.proc;
    running = victim;
    const url = started.url;
    const admin = started.admin!;
    const created = (await (await fetch(`${url}/api/v1/keys`, {
      method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "doomed stream", kind: "test", spend_limit: { amount_usd: "10", period: "day" } }),
    })).json()) as { id: string; key: string };

    const dying = fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": created.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 1000, stream: true, messages: [{ role: "user", content: "sim-fault:slow sim-delay:10000" }] }),
    }).catch(() => null);
    await new Promise((r) => setTimeout(r, 500));
    victim.kill("SIGKILL");
    await dying;

    const dirB = mkdtempSync(join(tmpdir(), "latchkey-survivor-"));
    dirs.push(dirB);
    survivor = await createApp(loadConfig({ env: {}, overrides: { dataDir: dirB, databaseUrl: schema.url, redisUrl: REDIS_URL, redisPrefix: redisKeys.prefix, masterKey, reservationLeaseSeconds: 2, port: 0, logLevel: "fatal" } }));
    const db = survivor.database.db;
    let snap = await survivor.limits.budgets.snapshot(`key:${created.id}`, "day");
    expect(snap?.openNano).toBeGreaterThan(0); // the dead node's reservation is still held
    let rows: { cost_nano: number; error_code: string | null }[] = [];
    // A deadline rather than a count of polls: the machine may be loaded (the whole suite on two cores).
    for (const deadline = Date.now() + 40_000; Date.now() < deadline && !(snap?.openNano === 0 && rows.length > 0);) {
      await new Promise((r) => setTimeout(r, 100));
      snap = await survivor.limits.budgets.snapshot(`key:${created.id}`, "day");
      rows = await db.selectFrom("usage_events").select(["cost_nano", "error_code"]).where("key_id", "=", created.id).execute();
    }
    expect(snap!.openNano).toBe(0);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.error_code).toBe("lease_expired");
    expect(snap!.spentNano).toBe(Number(rows[0]!.cost_nano));
    expect(snap!.spentNano).toBeGreaterThan(0);
  }, 120_000);
});
