/**
 * Two `latchkey up` processes over one PostgreSQL and one Redis, many concurrent requests spread
 * over both against one key with a spend limit and one key spending the organization's prepaid
 * credits: neither is ever overspent, and every request answered with a request id is billed
 * exactly once (one usage record, and the credit ledger moves by exactly the records' cost).
 */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { openDatabase, type Database } from "../src/store/index.js";
import { readUntil } from "./support/gateway-harness.js";
import { startUp } from "./support/processes.js";
import { createPgSchema, postgresAvailable, redisAvailable, REDIS_URL, redisPrefix } from "./support/services.js";

const LIMIT_NANO = 300_000_000; // $0.30 on one key
const CREDITS_NANO = 1_200_000_000; // $1.20 of credits, spent by both live keys
const REQUESTS = 400;

const ready = (await postgresAvailable()) && (await redisAvailable());

describe.skipIf(!ready)("two server processes spending one key's limit and one organization's credits", () => {
  const dirs = [mkdtempSync(join(tmpdir(), "latchkey-2n-a-")), mkdtempSync(join(tmpdir(), "latchkey-2n-b-"))];
  const procs: ChildProcess[] = [];
  const redisKeys = redisPrefix();
  let sim: SimulatorServer | null = null;
  let db: Database | null = null;
  let drop: () => Promise<void> = async () => {};
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await db?.close();
    await sim?.close();
    await drop();
    await redisKeys.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("never overspends and bills every request exactly once", async () => {
    sim = await createSimulatorServer();
    const schema = await createPgSchema();
    drop = schema.drop;
    const env = { LATCHKEY_DATABASE_URL: schema.url, LATCHKEY_REDIS_URL: REDIS_URL, LATCHKEY_REDIS_PREFIX: redisKeys.prefix, LATCHKEY_MASTER_KEY: "44".repeat(32), LATCHKEY_NODE_COUNT: "2" };
    const a = await startUp(dirs[0]!, env);
    procs.push(a.proc);
    const b = await startUp(dirs[1]!, env);
    procs.push(b.proc);
    const api = async (path: string, body: unknown) => {
      const r = await fetch(`${a.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${a.admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      const parsed = (await r.json()) as any;
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${JSON.stringify(parsed)}`);
      return parsed;
    };
    await api("/api/v1/credentials", { provider: "anthropic", name: "sim", secret: "sk-ant-two-nodes", base_url: sim.url });
    const patched = await fetch(`${a.url}/api/v1/credits/settings`, { method: "PATCH", headers: { authorization: `Bearer ${a.admin}`, "content-type": "application/json" }, body: JSON.stringify({ credits_enabled: true }) });
    expect(patched.status).toBe(200);
    await api("/api/v1/credits", { amount_usd: (CREDITS_NANO / 1e9).toFixed(2), note: "two nodes" });
    const limited = await api("/api/v1/keys", { name: "limited", kind: "live", spend_limit: { amount_usd: (LIMIT_NANO / 1e9).toFixed(2), period: "total" } });
    const credited = await api("/api/v1/keys", { name: "credited", kind: "live" });

    const answers = await Promise.all(Array.from({ length: REQUESTS }, async (_, i) => {
      const node = i % 2 ? b.url : a.url;
      const key = (i >> 1) % 2 ? limited.key : credited.key;
      const r = await fetch(`${node}/v1/messages`, {
        method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
        body: JSON.stringify({ model: "claude-sonnet-4-6", max_tokens: 1000, stream: i % 3 === 0, messages: [{ role: "user", content: `two ${i} sim-tokens:${300 + (i % 7) * 100}` }] }),
      });
      const text = Buffer.from(await r.arrayBuffer()).toString();
      return { status: r.status, id: r.headers.get("request-id"), text: r.status >= 500 ? text.slice(0, 300) : "" };
    }));
    const ids = answers.map((x) => x.id);
    expect(ids.every((id) => id && id.startsWith("req_")), "every answer names its request").toBe(true);
    const served = answers.filter((x) => x.status === 200).length;
    expect(served).toBeGreaterThan(10);
    // The money ran out: the key's limit (429) or the credits (402), whichever the burst reached first.
    expect(answers.filter((x) => x.status === 429 || x.status === 402).length, "refused by the limit or the credits").toBeGreaterThan(0);
    // A 503 is the fail-closed answer when Redis is slower than its command timeout (a loaded machine): refused, recorded, never a 500.
    const odd = answers.filter((x) => ![200, 402, 429, 503].includes(x.status));
    expect(odd.map((x) => `${x.status} ${x.text}`), "answers other than served or refused").toEqual([]);
    const unavailable = answers.filter((x) => x.status === 503).length;

    db = openDatabase({ url: schema.url });
    const store = db;
    const rowsOf = () => store.db.selectFrom("usage_events").select(["id", "key_id", "cost_nano"]).where("key_id", "in", [limited.id, credited.id]).execute();
    const rows = await readUntil(rowsOf, (r) => r.length >= REQUESTS, 20_000);
    const recorded = new Set(rows.map((r) => r.id));
    expect(ids.filter((id) => !recorded.has(id!)), "answered without a usage record").toEqual([]);
    expect(rows.length, "one record per request, none extra").toBe(REQUESTS);
    const cost = (keyId: string) => rows.filter((r) => r.key_id === keyId).reduce((s, r) => s + Number(r.cost_nano), 0);
    const spentLimited = cost(limited.id);
    const spentAll = spentLimited + cost(credited.id);
    expect(spentLimited).toBeGreaterThan(0);
    expect(spentLimited, "the key's spend limit").toBeLessThanOrEqual(LIMIT_NANO);
    expect(spentAll, "the organization's credits").toBeLessThanOrEqual(CREDITS_NANO);

    // The roll-up (every 15 s on each node) charges the ledger from the records: exactly once, on either node.
    const ledger = () => store.db.selectFrom("credit_ledger").select(["kind", "amount_nano"]).execute();
    const charged = (l: { kind: string; amount_nano: unknown }[]) => -l.filter((e) => e.kind === "usage").reduce((s, e) => s + Number(e.amount_nano), 0);
    const entries = await readUntil(ledger, (l) => charged(l) >= spentAll, 45_000);
    expect(charged(entries), "ledger usage movement = usage records").toBe(spentAll);
    const account = await store.db.selectFrom("credit_accounts").selectAll().executeTakeFirstOrThrow();
    expect(Number(account.balance_nano)).toBeGreaterThanOrEqual(0);
    expect(Number(account.balance_nano)).toBe(entries.reduce((s, e) => s + Number(e.amount_nano), 0));
    console.info(`two nodes: ${served} of ${REQUESTS} served, ${unavailable} refused 503 (limits unavailable), limited key spent ${spentLimited} of ${LIMIT_NANO}, credits charged ${spentAll} of ${CREDITS_NANO}`);
  }, 120_000);
});
