/**
 * A node killed with SIGKILL while its requests hold concurrency slots in Redis: the slots outlive
 * it (nothing of it is left to free them), so the key is refused on the other nodes for a while,
 * but only until the slots' lease ends; then the key's whole concurrency is admitted again.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { createLimitsRedis } from "../src/limits/index.js";
import { createApp, type App } from "../src/main.js";
import { readUntil } from "./support/gateway-harness.js";
import { startUp } from "./support/processes.js";
import { createPgSchema, postgresAvailable, REDIS_URL, redisAvailable, redisPrefix } from "./support/services.js";

const ready = (await postgresAvailable()) && (await redisAvailable());
const LEASE_SECONDS = 10;

describe.skipIf(!ready)("concurrency slots of a node killed mid-request", () => {
  const dirs: string[] = [];
  let survivor: App | null = null;
  let victim: ChildProcess | null = null;
  let drop: () => Promise<void> = async () => {};
  const redisKeys = redisPrefix();
  const redis = createLimitsRedis(REDIS_URL);
  afterAll(async () => {
    if (victim && victim.exitCode === null && victim.signalCode === null) victim.kill("SIGKILL");
    await survivor?.close();
    await drop();
    await redisKeys.cleanup();
    redis.disconnect();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("are held until their lease ends, then free", async () => {
    const schema = await createPgSchema();
    drop = schema.drop;
    const masterKey = "33".repeat(32);
    const dirA = mkdtempSync(join(tmpdir(), "latchkey-victim-"));
    dirs.push(dirA);
    const up = await startUp(dirA, {
      LATCHKEY_DATABASE_URL: schema.url, LATCHKEY_REDIS_URL: REDIS_URL, LATCHKEY_REDIS_PREFIX: redisKeys.prefix, LATCHKEY_MASTER_KEY: masterKey,
      LATCHKEY_RESERVATION_LEASE_SECONDS: String(LEASE_SECONDS),
    });
    victim = up.proc;
    const created = (await (await fetch(`${up.url}/api/v1/keys`, {
      method: "POST", headers: { authorization: `Bearer ${up.admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "two at a time", kind: "test", rate_limits: { requests_per_minute: null, tokens_per_minute: null, concurrent_requests: 2 } }),
    })).json()) as { id: string; key: string };
    const call = (url: string, content: string) => fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": created.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content }] }),
    });

    const dying = [call(up.url, "sim-fault:slow sim-delay:25000").catch(() => null), call(up.url, "sim-fault:slow sim-delay:25000").catch(() => null)];
    const slots = async () => {
      const [k] = await redis.keys(`${redisKeys.prefix}*r:key:${created.id}:c`);
      return k ? redis.zcard(k) : 0;
    };
    expect(await readUntil(slots, (n) => n === 2)).toBe(2);
    const killedAt = performance.now();
    victim.kill("SIGKILL");
    await Promise.all(dying);
    expect(await slots(), "nothing frees the dead node's slots").toBe(2);

    const dirB = mkdtempSync(join(tmpdir(), "latchkey-survivor-"));
    dirs.push(dirB);
    survivor = await createApp(loadConfig({ env: {}, overrides: {
      dataDir: dirB, databaseUrl: schema.url, redisUrl: REDIS_URL, redisPrefix: redisKeys.prefix, masterKey, reservationLeaseSeconds: LEASE_SECONDS, port: 0, logLevel: "fatal",
    } }));
    const url = await survivor.listen();
    const first = await call(url, "hello");
    const firstBody = (await first.json()) as any;
    // Refused while the lease runs (checked only when the survivor came up well within it).
    if (performance.now() - killedAt < (LEASE_SECONDS - 2) * 1000) {
      expect(first.status).toBe(429);
      expect(firstBody.error.message).toMatch(/concurrent requests/);
    }
    const after = await readUntil(async () => {
      await new Promise((r) => setTimeout(r, 250));
      const answers = await Promise.all([call(url, "sim-fault:slow sim-delay:200"), call(url, "sim-fault:slow sim-delay:200")]);
      for (const r of answers) await r.arrayBuffer();
      return answers.map((r) => r.status);
    }, (s) => s.every((x) => x === 200), (LEASE_SECONDS + 20) * 1000);
    expect(after, "the key's whole concurrency once the lease ended").toEqual([200, 200]);
    expect(await slots()).toBe(0);
  }, 90_000);
});
