/**
 * The chaos suite: concurrent mixed traffic (streams, aborts, upstream faults) on live keys routed
 * to the simulator, through a SIGKILL and restart of a real `latchkey up`, and on PostgreSQL +
 * Redis also a Redis restart (a redis-server of its own) and a PostgreSQL cut (a proxy in front of
 * the shared server). Afterwards, for a spend limit and for credits alike: spent ≤ limit, balance
 * ≥ 0, the usage records = the counters = the ledger's movement, every request the client saw
 * complete has exactly one record, and no reservation is left open.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/index.js";
import { creditSubject } from "../src/limits/index.js";
import { createApp, type App } from "../src/main.js";
import { createSimulatorServer } from "../src/providers/index.js";
import { startUp, freePort, OwnRedis } from "./support/processes.js";
import { createPgSchema, PG_URL, postgresAvailable } from "./support/services.js";
import { TcpProxy } from "./support/tcp-proxy.js";
import { LOOPBACK_UPSTREAMS } from "./support/loopback.js";

const LIMIT_NANO = 300_000_000; // $0.30 on one key
const CREDITS_NANO = 1_000_000_000; // $1.00 of credits for the organization, which both keys spend
const MASTER_KEY = "33".repeat(32);

interface Target { url: string }
interface Keys { limited: { id: string; key: string }; credited: { id: string; key: string } }

/** A seeded generator, so a failing run can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

/** Workers sending mixed requests to whatever `target.url` is now, until `stop`; ids of the requests the client saw complete. */
async function traffic(target: Target, keys: Keys, stop: { now: boolean }, seed: number, workers = 12): Promise<string[]> {
  const complete: string[] = [];
  const rand = prng(seed);
  const one = async (i: number) => {
    const key = rand() < 0.5 ? keys.limited.key : keys.credited.key;
    const r = rand();
    const fault = r < 0.1 ? " sim-fault:500" : r < 0.15 ? " sim-fault:die" : r < 0.2 ? " sim-fault:429" : r < 0.3 ? " sim-fault:slow sim-delay:1500" : "";
    const ac = new AbortController();
    if (rand() < 0.15) setTimeout(() => ac.abort(), Math.floor(rand() * 400));
    try {
      const res = await fetch(`${target.url}/v1/messages`, {
        method: "POST", signal: ac.signal,
        headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 1000, stream: rand() < 0.5, messages: [{ role: "user", content: `chaos ${seed}-${i} sim-tokens:600${fault}` }] }),
      });
      await res.arrayBuffer();
      const id = res.headers.get("request-id");
      if (id) complete.push(id);
    } catch {
      // aborted, cut by a fault, or the server was killed: not seen complete
    }
  };
  let n = 0;
  await Promise.all(Array.from({ length: workers }, async () => {
    while (!stop.now) await one(n++);
  }));
  return complete;
}

async function during(ms: number, target: Target, keys: Keys, seed: number, fault?: () => Promise<void>): Promise<string[]> {
  const stop = { now: false };
  const running = traffic(target, keys, stop, seed);
  if (fault) await fault();
  await new Promise((r) => setTimeout(r, ms));
  stop.now = true;
  return running;
}

/**
 * Slow requests that have reached the upstream (so the node holds them, reserved, in flight) when
 * this resolves; how many did. Sent before any other traffic: once the budgets are spent they
 * would be refused, and only these then reach the simulator.
 */
async function holdInFlight(url: string, keys: Keys, sim: { stats: { requests: number } }, n: number): Promise<number> {
  const seen = sim.stats.requests;
  for (let i = 0; i < n; i++) {
    void fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": i % 2 ? keys.limited.key : keys.credited.key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 1000, stream: true, messages: [{ role: "user", content: `doomed ${i} sim-fault:slow sim-delay:30000` }] }),
    }).then((r) => r.arrayBuffer()).catch(() => null);
  }
  const deadline = Date.now() + 30_000;
  while (sim.stats.requests < seen + n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return sim.stats.requests - seen;
}

/** Everything the suite checks once the dust settles; `killedInFlight`: requests known in flight at a SIGKILL. */
async function checkInvariants(app: App, keys: Keys, complete: string[], killedInFlight: number): Promise<void> {
  const db = app.database.db;
  const orgId = (await db.selectFrom("organizations").select("id").executeTakeFirstOrThrow()).id;
  const limited = `key:${keys.limited.id}`;
  const credit = creditSubject(orgId).id;
  // Lease expiries (a killed node's reservations) and the last batches, within bounds.
  // Deadlines, not poll counts: on a loaded machine each poll and each batch take longer.
  let open = Infinity;
  const openDeadline = Date.now() + 60_000;
  while (open !== 0 && Date.now() < openDeadline) {
    await app.services.store.usage.count();
    const snaps = await Promise.all([app.limits.budgets.snapshot(limited, "total"), app.limits.budgets.snapshot(credit, "balance")]);
    // Durable leases too: each one is deleted with its request's record, or charged by the lease rule.
    const leases = await db.selectFrom("budget_leases").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    open = snaps.reduce((s, x) => s + (x?.openNano ?? 0), 0) + Number(leases.n);
    if (open !== 0) await new Promise((r) => setTimeout(r, 250));
  }
  expect(open, "reservations left open").toBe(0);
  await new Promise((r) => setTimeout(r, 300));
  await app.services.usageRollups.runOnce();

  // Usage spooled while PostgreSQL was cut is replayed by the recorder's next write: waited for, within bounds.
  let rows = await db.selectFrom("usage_events").select(["id", "key_id", "cost_nano", "error_code"]).execute();
  let missing = complete;
  const recordDeadline = Date.now() + 60_000;
  while (Date.now() < recordDeadline) {
    rows = await db.selectFrom("usage_events").select(["id", "key_id", "cost_nano", "error_code"]).execute();
    const ids = new Set(rows.map((r) => r.id));
    missing = complete.filter((id) => !ids.has(id));
    if (missing.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  if (missing.length) console.info(`missing: ${missing.join(" ")}`);
  expect(missing, "requests seen complete without a usage record").toEqual([]);
  // In flight when the node was killed: charged their bound by the lease rule, never forgotten.
  expect(rows.filter((r) => r.error_code === "lease_expired").length).toBeGreaterThanOrEqual(killedInFlight);
  const costOf = (keyId: string) => rows.filter((r) => r.key_id === keyId).reduce((s, r) => s + Number(r.cost_nano), 0);

  const spent = costOf(keys.limited.id);
  const limitSnap = await app.limits.budgets.snapshot(limited, "total");
  expect(spent).toBeGreaterThan(0);
  expect(spent).toBeLessThanOrEqual(LIMIT_NANO);
  if (limitSnap) expect(limitSnap.spentNano, "key counter = its usage records").toBe(spent);

  const account = await db.selectFrom("credit_accounts").selectAll().where("org_id", "=", orgId).executeTakeFirstOrThrow();
  const ledger = await db.selectFrom("credit_ledger").select(["kind", "amount_nano"]).where("org_id", "=", orgId).execute();
  const charged = -ledger.filter((e) => e.kind === "usage").reduce((s, e) => s + Number(e.amount_nano), 0);
  expect(Number(account.balance_nano)).toBeGreaterThanOrEqual(0);
  expect(Number(account.balance_nano)).toBe(ledger.reduce((s, e) => s + Number(e.amount_nano), 0));
  // Credits pay for both live keys' usage: the ledger's usage movement is exactly their records' cost.
  expect(charged, "ledger usage movement = usage records").toBe(costOf(keys.credited.id) + spent);
  console.info(`chaos: ${complete.length} seen complete, ${rows.length} records (${rows.filter((r) => r.error_code === "lease_expired").length} lease_expired), limited key spent ${spent}, credits charged ${charged}, balance ${account.balance_nano}`);
  const creditSnap = await app.limits.budgets.snapshot(credit, "balance");
  if (creditSnap) expect(creditSnap.limitNano! - creditSnap.spentNano).toBeGreaterThanOrEqual(0);
}

async function setUp(url: string, admin: string, simUrl: string): Promise<Keys> {
  const api = async (method: string, path: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    const parsed = (await r.json()) as any;
    if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(parsed)}`);
    return parsed;
  };
  await api("POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-chaos", base_url: simUrl });
  await api("PATCH", "/api/v1/credits/settings", { credits_enabled: true });
  await api("POST", "/api/v1/credits", { amount_usd: (CREDITS_NANO / 1e9).toFixed(2), note: "chaos" });
  const limited = await api("POST", "/api/v1/keys", { name: "limited", kind: "live", spend_limit: { amount_usd: (LIMIT_NANO / 1e9).toFixed(2), period: "total" } });
  const credited = await api("POST", "/api/v1/keys", { name: "credited", kind: "live" });
  return { limited, credited };
}

describe("chaos on SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-chaos-"));
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps every invariant through traffic, faults, aborts and a SIGKILL", async () => {
    const sim = await createSimulatorServer();
    cleanup.push(() => sim.close());
    const first = await startUp(dir, { LATCHKEY_MASTER_KEY: MASTER_KEY });
    cleanup.push(() => void first.proc.kill("SIGKILL"));
    const keys = await setUp(first.url, first.admin!, sim.url);
    const target = { url: first.url };
    expect(await holdInFlight(first.url, keys, sim, 4), "held requests that reached the upstream").toBe(4);
    const before = await during(3_000, target, keys, 1, undefined);
    const killed = during(0, target, keys, 2, async () => {
      await new Promise((r) => setTimeout(r, 1_000));
      first.proc.kill("SIGKILL");
    });
    const seenBeforeKill = [...before, ...(await killed)];

    const app = await createApp(loadConfig({ env: {}, overrides: { dataDir: dir, masterKey: MASTER_KEY, port: 0, logLevel: "fatal", allowPrivateUpstreams: LOOPBACK_UPSTREAMS } }));
    cleanup.push(() => app.close(1_000));
    target.url = await app.listen();
    const after = await during(4_000, target, keys, 3);
    await checkInvariants(app, keys, [...seenBeforeKill, ...after], 4);
  }, 240_000);
});

const pgReady = await postgresAvailable();

describe.skipIf(!pgReady)("chaos on PostgreSQL + Redis", () => {
  const dirs = [mkdtempSync(join(tmpdir(), "latchkey-chaos-pg-"))];
  const cleanup: (() => Promise<unknown> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("keeps every invariant through traffic, a SIGKILL, a Redis restart and a PostgreSQL cut", async () => {
    const sim = await createSimulatorServer();
    cleanup.push(() => sim.close());
    const redis = new OwnRedis(await freePort());
    await redis.start();
    cleanup.push(() => redis.kill());
    const schema = await createPgSchema();
    cleanup.push(() => schema.drop());
    const pgUrl = new URL(PG_URL);
    const proxy = new TcpProxy(pgUrl.hostname, Number(pgUrl.port || 5432));
    const viaProxy = new URL(schema.url);
    viaProxy.port = String(await proxy.start());
    cleanup.push(() => proxy.stop());
    const env = { LATCHKEY_DATABASE_URL: viaProxy.toString(), LATCHKEY_REDIS_URL: redis.url, LATCHKEY_MASTER_KEY: MASTER_KEY, LATCHKEY_RESERVATION_LEASE_SECONDS: "3" };

    const first = await startUp(dirs[0]!, env);
    cleanup.push(() => void first.proc.kill("SIGKILL"));
    const keys = await setUp(first.url, first.admin!, sim.url);
    const target = { url: first.url };
    expect(await holdInFlight(first.url, keys, sim, 4), "held requests that reached the upstream").toBe(4);
    const seenBeforeKill = await during(0, target, keys, 11, async () => {
      await new Promise((r) => setTimeout(r, 3_000));
      first.proc.kill("SIGKILL");
    });

    // The same node back (its journal settles what it had in flight), while Redis and PostgreSQL fail under it.
    const app = await createApp(loadConfig({ env: {}, overrides: {
      dataDir: dirs[0], databaseUrl: viaProxy.toString(), redisUrl: redis.url, masterKey: MASTER_KEY, reservationLeaseSeconds: 3, port: 0, logLevel: "fatal",
      allowPrivateUpstreams: LOOPBACK_UPSTREAMS,
    } }));
    cleanup.push(() => app.close(1_000));
    target.url = await app.listen();
    const after = await during(2_000, target, keys, 12, async () => {
      await new Promise((r) => setTimeout(r, 1_500));
      await redis.kill();
      await new Promise((r) => setTimeout(r, 500));
      await redis.start();
      await new Promise((r) => setTimeout(r, 1_500));
      await proxy.stop();
      await new Promise((r) => setTimeout(r, 1_000));
      await proxy.start();
    });
    await checkInvariants(app, keys, [...seenBeforeKill, ...after], 4);
  }, 300_000);
});
