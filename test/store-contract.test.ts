/** The store contract: the same tests on every backend (SQLite and PostgreSQL). */
import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId, sha256Hex } from "../src/lib/index.js";
import { createStore, inTransaction, migrate, openDatabase, type ApiKey, type Database, type Store } from "../src/store/index.js";
import { MIGRATIONS } from "../src/store/migrations/index.js";
import { backends, type TestBackend } from "./support/backends.js";

const all = await backends();

function sampleKey(orgId: string, workspaceId: string, over: Partial<ApiKey> = {}): ApiKey {
  const now = Date.now();
  return {
    id: newId("key"), orgId, workspaceId, name: "k", kind: "live", keyHash: sha256Hex(Math.random().toString()), hint: "lk_live_abcd…wxyz",
    scopes: ["*"], allowedModels: null, ipAllowlist: null, allowedOrigins: null, rateLimits: null, spendLimit: null, metadata: {},
    status: "active", expiresAt: null, createdAt: now, createdBy: "system", updatedAt: now, lastUsedAt: null, revokedAt: null, rolledFrom: null, ...over,
  };
}

for (const b of all) {
  describe.skipIf(!b.available)(`store contract on ${b.name}`, () => {
    let backend: TestBackend;
    let database: Database;
    let store: Store;
    const orgId = newId("org");
    const wsId = newId("wrk");

    beforeAll(async () => {
      backend = await b.create();
      database = openDatabase({ url: backend.url });
      expect(await migrate(database)).toContain("0001-foundation");
      store = createStore(database, { masterKey: randomBytes(32) });
      await store.orgs.insertOrganization({ id: orgId, name: "Acme", rateLimits: null, spendLimit: { amountNano: 5, period: "month" }, settings: { a: 1 }, createdAt: 1 });
      await store.orgs.insertWorkspace({ id: wsId, orgId, name: "Default", isDefault: true, allowedModels: ["claude-*"], rateLimits: { requestsPerMinute: 10, tokensPerMinute: null, concurrentRequests: 2 }, spendLimit: null, archivedAt: null, createdAt: 1 });
    });
    afterAll(async () => {
      await database?.close();
      await backend?.cleanup();
    });

    it("applies migrations once", async () => {
      expect(await migrate(database)).toEqual([]);
    });

    it("round-trips organizations and workspaces with their limits", async () => {
      const org = await store.orgs.getOrganization();
      expect(org).toMatchObject({ id: orgId, name: "Acme", spendLimit: { amountNano: 5, period: "month" }, settings: { a: 1 } });
      const ws = await store.orgs.getWorkspace(wsId);
      expect(ws).toMatchObject({ isDefault: true, allowedModels: ["claude-*"], rateLimits: { requestsPerMinute: 10, concurrentRequests: 2 } });
      await store.orgs.updateWorkspace(wsId, { name: "Main", spendLimit: { amountNano: 9, period: "day" } });
      expect(await store.orgs.getWorkspace(wsId)).toMatchObject({ name: "Main", spendLimit: { amountNano: 9, period: "day" } });
    });

    it("finds keys by hash and pages through them in id order", async () => {
      const keys = [];
      for (let i = 0; i < 7; i++) keys.push(sampleKey(orgId, wsId, { name: `key ${i}`, id: newId("key", 1_000_000 + i) }));
      for (const k of keys) await store.keys.insert(k);
      expect(await store.keys.getByHash(keys[3]!.keyHash)).toEqual(keys[3]);
      expect(await store.keys.getByHash("0".repeat(64))).toBeNull();
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.keys.list({ orgId, now: Date.now() }, { limit: 3, after });
        seen.push(...page.data.map((k) => k.id));
        if (!page.hasMore) break;
        after = page.lastId!;
      }
      expect(seen).toEqual(keys.map((k) => k.id).sort());
    });

    it("filters keys by status, expiry, kind and search", async () => {
      const now = Date.now();
      const expired = sampleKey(orgId, wsId, { name: "Old Expired", expiresAt: now - 1000 });
      const disabled = sampleKey(orgId, wsId, { name: "Paused", status: "disabled", kind: "test" });
      await store.keys.insert(expired);
      await store.keys.insert(disabled);
      const ids = async (f: object) => (await store.keys.list({ orgId, now, ...f }, { limit: 100 })).data.map((k) => k.id);
      expect(await ids({ status: "expired" })).toEqual([expired.id]);
      expect(await ids({ status: "disabled" })).toEqual([disabled.id]);
      expect(await ids({ status: "active" })).not.toContain(expired.id);
      expect(await ids({ kind: "test" })).toEqual([disabled.id]);
      expect(await ids({ search: "old exp" })).toEqual([expired.id]);
      expect(await ids({ search: "100%" })).toEqual([]);
    });

    it("updates keys and records last use only forward in time", async () => {
      const k = sampleKey(orgId, wsId);
      await store.keys.insert(k);
      await store.keys.update(k.id, { status: "revoked", revokedAt: 5, metadata: { team: "x" }, updatedAt: 6 });
      await store.keys.touch(new Map([[k.id, 100]]));
      await store.keys.touch(new Map([[k.id, 50]]));
      expect(await store.keys.getById(k.id)).toMatchObject({ status: "revoked", revokedAt: 5, metadata: { team: "x" }, lastUsedAt: 100 });
    });

    it("chains audit records and detects alteration and removal", async () => {
      for (let i = 0; i < 5; i++) {
        await inTransaction(database, (trx) => store.audit.append({ id: newId("aud"), at: i, orgId, actor: "system", action: `test.${i}`, target: null, changes: { i }, requestId: null, clientIp: null }, trx));
      }
      const ok = await store.audit.verify();
      expect(ok).toMatchObject({ ok: true, count: 5 });
      const [third] = await store.audit.list({ action: "test.2", limit: 1 });
      await database.db.updateTable("audit_events").set({ changes: JSON.stringify({ i: 99 }) }).where("id", "=", third!.id).execute();
      const altered = await store.audit.verify();
      expect(altered.ok).toBe(false);
      expect(altered.brokenAt?.id).toBe(third!.id);
      expect(altered.brokenAt?.reason).toMatch(/altered/);
      await database.db.updateTable("audit_events").set({ changes: JSON.stringify({ i: 2 }) }).where("id", "=", third!.id).execute();
      expect((await store.audit.verify()).ok).toBe(true);
      await database.db.deleteFrom("audit_events").where("id", "=", third!.id).execute();
      const removed = await store.audit.verify();
      expect(removed.ok).toBe(false);
      expect(removed.brokenAt?.seq).toBe(third!.seq + 1);
    });

    it("rolls a failed transaction back entirely", async () => {
      const before = await store.keys.count(orgId);
      await expect(inTransaction(database, async (trx) => {
        await store.keys.insert(sampleKey(orgId, wsId), trx);
        throw new Error("boom");
      })).rejects.toThrow("boom");
      expect(await store.keys.count(orgId)).toBe(before);
    });

    it("writes usage events in batches, once each, however often a batch is replayed", async () => {
      const events = Array.from({ length: 1200 }, (_, i) => ({
        id: newId("req"), at: 1000 + i, orgId, workspaceId: wsId, keyId: "key_x", provider: "simulator", model: "sim-1", endpoint: "messages",
        inputTokens: i, outputTokens: 2 * i, cacheWriteTokens: 0, cacheReadTokens: 1, costNano: 3_000_000_000_000 + i, status: 200, errorCode: null,
        streamed: i % 2 === 0, aborted: false, latencyMs: 5, ttfbMs: 1, deployment: i % 3 === 0 ? null : "cred_x", attempts: 1 + (i % 2),
      }));
      expect(await store.usage.insertMany(events)).toBe(1200);
      expect(await store.usage.insertMany(events.slice(0, 700))).toBe(0);
      expect(await store.usage.count()).toBe(1200);
      // Every column of every row as written: on SQLite, rows 0-1183 go 32 to a statement and the
      // last 16 one at a time, each path binding its own run of values.
      expect(await store.usage.listForKey("key_x", 1200)).toEqual([...events].reverse());
    });

    it("keeps small named values", async () => {
      await store.kv.set("a", "1");
      await store.kv.set("a", "2");
      expect(await store.kv.get("a")).toBe("2");
      expect(await store.kv.get("missing")).toBeNull();
    });
  });
}

describe("SQLite usage roll-up storage", () => {
  it("is without rowid on a new database, and the rebuild keeps rows rolled up before it", async () => {
    const database = openDatabase({ url: ":memory:" });
    await migrate(database);
    const table = (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'usage_rollups'`.execute(database.db)).rows[0]!;
    await database.close();
    expect(table.sql.toLowerCase()).toContain("without rowid");
    // The rebuild itself, on a database that ran 0004 before 0005 existed and holds a roll-up.
    const old = openDatabase({ url: ":memory:" });
    try {
      await sql`create table usage_rollups (width text not null, bucket_start bigint not null, org_id text not null, workspace_id text not null, key_id text not null, provider text not null, model text not null, requests bigint not null, errors bigint not null, input_tokens bigint not null, cache_write_tokens bigint not null, cache_read_tokens bigint not null, output_tokens bigint not null, cost_nano bigint not null, constraint usage_rollups_pk primary key (width, org_id, bucket_start, workspace_id, key_id, provider, model))`.execute(old.db);
      await sql`insert into usage_rollups values ('h', 0, 'org_a', 'wrk_a', 'key_a', 'anthropic', 'm', 3, 1, 10, 0, 0, 20, 99)`.execute(old.db);
      await MIGRATIONS["0005-rollups-without-rowid"]!.up(old.db);
      const rows = (await sql<{ requests: number; cost_nano: number }>`select requests, cost_nano from usage_rollups`.execute(old.db)).rows;
      expect(rows).toEqual([{ requests: 3, cost_nano: 99 }]);
      const rebuilt = (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'usage_rollups'`.execute(old.db)).rows[0]!;
      expect(rebuilt.sql.toLowerCase()).toContain("without rowid");
    } finally {
      await old.close();
    }
  });
});
