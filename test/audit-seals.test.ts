/**
 * The sealed audit chain against someone who can write the database but does not hold the master
 * key: each tampering (an edit, a removal, a reorder, records cut from the end, a rolled-back head,
 * a reset head) is done as well as such a person can, the SHA-256 chain recomputed after it, and
 * verification must still catch it, on SQLite and PostgreSQL. A checkpoint kept elsewhere catches
 * what the database alone cannot: a head rolled back to an older sealed state, and history
 * rewritten by someone who does hold the key.
 */
import { randomBytes } from "node:crypto";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Migrator, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditKey, headSeal, newId, recordSeal } from "../src/lib/index.js";
import {
  auditHash, createStore, GENESIS_HASH, inTransaction, migrate, openDatabase, rotateMasterKey, type AuditCheckpoint, type Database, type Store,
} from "../src/store/index.js";
import { MIGRATIONS } from "../src/store/migrations/index.js";
import { startSqliteApp, type TestApp } from "./support/app.js";
import { backends, type TestBackend } from "./support/backends.js";

const all = await backends();

interface Fresh { database: Database; store: Store; master: Buffer; backend: TestBackend }

async function append(store: Store, database: Database, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await inTransaction(database, (trx) => store.audit.append({
      id: newId("aud"), at: Date.now(), orgId: null, actor: "usr_test", action: "test.changed", target: `key_${i}`, changes: { i }, requestId: null, clientIp: "10.0.0.1",
    }, trx));
  }
}

type Row = { seq: number; id: string; at: number; org_id: string | null; actor: string; action: string; target: string | null; changes: string; request_id: string | null; client_ip: string | null; hash: string };

async function rows(database: Database): Promise<Row[]> {
  const r = await database.db.selectFrom("audit_events").selectAll().orderBy("seq").execute();
  return r.map((x) => ({ ...x, seq: Number(x.seq), at: Number(x.at) }));
}

/**
 * What someone with the database but not the master key does after a change: recompute every
 * SHA-256 link and the head's hash and count. The seals stay as they were (they need the key);
 * `sealWith` plays someone who holds the key and re-seals too.
 */
async function recomputeChain(database: Database, sealWith?: Buffer): Promise<void> {
  let prev = GENESIS_HASH;
  let position = 0;
  for (const r of await rows(database)) {
    position++;
    const hash = auditHash(prev, {
      id: r.id, at: r.at, orgId: r.org_id, actor: r.actor, action: r.action, target: r.target, changes: JSON.parse(r.changes) as Record<string, unknown>,
      requestId: r.request_id, clientIp: r.client_ip,
    });
    const seal = sealWith ? { seal: recordSeal(auditKey(sealWith), position, hash) } : {};
    await database.db.updateTable("audit_events").set({ prev_hash: prev, hash, ...seal }).where("seq", "=", r.seq).execute();
    prev = hash;
  }
  const head = await database.db.selectFrom("audit_head").selectAll().executeTakeFirstOrThrow();
  const seal = sealWith ? { seal: headSeal(auditKey(sealWith), position, prev, Number(head.sealed_after)) } : {};
  await database.db.updateTable("audit_head").set({ hash: prev, count: position, ...seal }).where("id", "=", 1).execute();
}

for (const b of all) {
  describe.skipIf(!b.available)(`sealed audit chain on ${b.name}`, () => {
    const opened: Fresh[] = [];
    async function fresh(): Promise<Fresh> {
      const backend = await b.create();
      const database = openDatabase({ url: backend.url });
      await migrate(database);
      const master = randomBytes(32);
      const f = { database, store: createStore(database, { masterKey: master }), master, backend };
      opened.push(f);
      return f;
    }
    afterAll(async () => {
      for (const f of opened) {
        await f.database.close();
        await f.backend.cleanup();
      }
    });

    it("verifies an untouched log, with and without a checkpoint of it", async () => {
      const { database, store } = await fresh();
      await append(store, database, 6);
      expect(await store.audit.verify()).toMatchObject({ ok: true, count: 6, unsealed: 0 });
      const { checkpoint } = await store.audit.checkpoint(Date.now());
      expect(checkpoint).toMatchObject({ count: 6, hash: expect.stringMatching(/^[0-9a-f]{64}$/), seal: expect.stringMatching(/^[0-9a-f]{64}$/) });
      await append(store, database, 2);
      expect(await store.audit.verify(checkpoint!)).toMatchObject({ ok: true, count: 8 });
      // Every record carries a seal, and none of them is the master key or the audit key.
      const sealed = await database.db.selectFrom("audit_events").select("seal").execute();
      expect(sealed.every((r) => /^[0-9a-f]{64}$/.test(r.seal ?? ""))).toBe(true);
    });

    it("catches an edited record even when the hash chain is recomputed after it", async () => {
      const { database, store } = await fresh();
      await append(store, database, 5);
      const third = (await rows(database))[2]!;
      await database.db.updateTable("audit_events").set({ changes: JSON.stringify({ i: 99 }), client_ip: "203.0.113.9" }).where("seq", "=", third.seq).execute();
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { id: third.id, reason: expect.stringMatching(/altered/) } });
      await recomputeChain(database);
      const r = await store.audit.verify();
      expect(r).toMatchObject({ ok: false, brokenAt: { id: third.id, reason: expect.stringMatching(/seal/) } });
    });

    it("catches a removed record, chain recomputed", async () => {
      const { database, store } = await fresh();
      await append(store, database, 5);
      const before = await rows(database);
      await database.db.deleteFrom("audit_events").where("seq", "=", before[1]!.seq).execute();
      await recomputeChain(database);
      // The record that moved into the removed one's place no longer matches the seal of its position.
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { id: before[2]!.id, reason: expect.stringMatching(/seal/) } });
    });

    it("catches two records swapped, chain recomputed", async () => {
      const { database, store } = await fresh();
      await append(store, database, 5);
      const [, second, third] = await rows(database);
      await database.db.updateTable("audit_events").set({ seq: -1 }).where("seq", "=", second!.seq).execute();
      await database.db.updateTable("audit_events").set({ seq: second!.seq }).where("seq", "=", third!.seq).execute();
      await database.db.updateTable("audit_events").set({ seq: third!.seq }).where("seq", "=", -1).execute();
      expect((await store.audit.verify()).ok).toBe(false);
      await recomputeChain(database);
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { id: third!.id, reason: expect.stringMatching(/seal/) } });
    });

    it("catches records cut from the end with the head rewritten, and keeps saying so after new records", async () => {
      const { database, store } = await fresh();
      await append(store, database, 6);
      const before = await rows(database);
      await database.db.deleteFrom("audit_events").where("seq", ">", before[3]!.seq).execute();
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { reason: expect.stringMatching(/2 record\(s\) at the end were removed/) } });
      await recomputeChain(database);
      expect(await store.audit.verify()).toMatchObject({ ok: false, count: 4, brokenAt: { reason: expect.stringMatching(/head does not match its seal/) } });
      // A server appending to the cut log does not seal over the cut.
      await append(store, database, 2);
      expect(await store.audit.verify()).toMatchObject({ ok: false, count: 6, brokenAt: { reason: expect.stringMatching(/head does not match its seal/) } });
      expect((await store.audit.checkpoint(Date.now())).checkpoint).toBeNull();
    });

    it("needs a checkpoint to catch a head rolled back to an older sealed state, and catches it with one", async () => {
      const { database, store } = await fresh();
      await append(store, database, 4);
      const oldHead = await database.db.selectFrom("audit_head").selectAll().executeTakeFirstOrThrow();
      await append(store, database, 3);
      const { checkpoint } = await store.audit.checkpoint(Date.now());
      const before = await rows(database);
      await database.db.deleteFrom("audit_events").where("seq", ">", before[3]!.seq).execute();
      await database.db.updateTable("audit_head").set({ hash: oldHead.hash, count: oldHead.count, seal: oldHead.seal }).where("id", "=", 1).execute();
      // The database alone is consistent again: this is what the checkpoint is for.
      expect(await store.audit.verify()).toMatchObject({ ok: true, count: 4 });
      expect(await store.audit.verify(checkpoint!)).toMatchObject({
        ok: false, count: 4, brokenAt: { id: "(end of log)", reason: expect.stringMatching(/holds 4 records, the checkpoint .* saw 7: records were removed from the end/) },
      });
    });

    it("catches history rewritten before a checkpoint by someone holding the master key", async () => {
      const { database, store, master } = await fresh();
      await append(store, database, 5);
      const { checkpoint } = await store.audit.checkpoint(Date.now());
      await append(store, database, 1);
      const second = (await rows(database))[1]!;
      await database.db.updateTable("audit_events").set({ actor: "usr_someone_else" }).where("seq", "=", second.seq).execute();
      await recomputeChain(database, master);
      expect((await store.audit.verify()).ok).toBe(true);
      const fifth = (await rows(database))[4]!;
      expect(await store.audit.verify(checkpoint!)).toMatchObject({ ok: false, brokenAt: { id: fifth.id, reason: expect.stringMatching(/differs from the record the checkpoint/) } });
    });

    it("refuses a checkpoint that was altered or sealed under another key", async () => {
      const { database, store } = await fresh();
      await append(store, database, 3);
      const { checkpoint } = await store.audit.checkpoint(Date.now());
      const forged: AuditCheckpoint = { ...checkpoint!, count: 2 };
      expect(await store.audit.verify(forged)).toMatchObject({ ok: false, brokenAt: { id: "(checkpoint)" } });
      const other = createStore(database, { masterKey: randomBytes(32) });
      expect(await other.audit.verify(checkpoint!)).toMatchObject({ ok: false, brokenAt: { id: "(checkpoint)" } });
    });

    it("without the master key, checks links and hashes only, says so, and neither appends nor seals a checkpoint", async () => {
      const { database, store } = await fresh();
      await append(store, database, 3);
      const keyless = createStore(database);
      expect(await keyless.audit.verify()).toMatchObject({ ok: true, count: 3, sealsChecked: false });
      expect(await store.audit.verify()).toMatchObject({ ok: true, sealsChecked: true });
      await expect(keyless.audit.checkpoint(Date.now())).rejects.toThrow(/master key/);
      await expect(append(keyless, database, 1)).rejects.toThrow(/master key/);
      const first = (await rows(database))[0]!;
      await database.db.updateTable("audit_events").set({ target: "key_other" }).where("seq", "=", first.seq).execute();
      expect(await keyless.audit.verify()).toMatchObject({ ok: false, brokenAt: { id: first.id } });
    });

    it("catches a head reset to say sealing began after records that carry seals", async () => {
      const { database, store } = await fresh();
      await append(store, database, 4);
      await database.db.updateTable("audit_head").set({ sealed_after: 4, seal: null }).where("id", "=", 1).execute();
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { reason: expect.stringMatching(/head was reset/) } });
    });

    it("keeps records written before seals existed, covered by the first sealed record", async () => {
      const backend = await b.create();
      const database = openDatabase({ url: backend.url });
      const master = randomBytes(32);
      opened.push({ database, store: createStore(database), master, backend });
      // The schema as it was before seals, with three records written the old way.
      const schema = database.dialect === "postgres" ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]!.s : undefined;
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < "0013"));
      const { error } = await new Migrator({
        db: database.db, provider: { getMigrations: async () => before }, migrationTableName: "schema_migrations",
        migrationLockTableName: "schema_migrations_lock", ...(schema ? { migrationTableSchema: schema } : {}),
      }).migrateToLatest();
      expect(error).toBeUndefined();
      let prev = GENESIS_HASH;
      for (let i = 0; i < 3; i++) {
        const e = { id: newId("aud"), at: i, orgId: null, actor: "system", action: "legacy.change", target: null, changes: { i }, requestId: null, clientIp: null };
        const hash = auditHash(prev, e);
        await sql`insert into audit_events (id, at, actor, action, changes, prev_hash, hash) values (${e.id}, ${e.at}, ${e.actor}, ${e.action}, ${JSON.stringify(e.changes)}, ${prev}, ${hash})`.execute(database.db);
        prev = hash;
      }
      await sql`update audit_head set hash = ${prev}, count = 3`.execute(database.db);
      expect(await migrate(database)).toContain("0013-audit-seals");
      const store = createStore(database, { masterKey: master });
      expect(await store.audit.verify()).toMatchObject({ ok: true, count: 3, unsealed: 3 });
      await append(store, database, 2);
      expect(await store.audit.verify()).toMatchObject({ ok: true, count: 5, unsealed: 3 });
      // An old record edited and the chain recomputed: the first sealed record's seal no longer holds.
      const old = (await rows(database))[0]!;
      await database.db.updateTable("audit_events").set({ actor: "usr_mallory" }).where("seq", "=", old.seq).execute();
      await recomputeChain(database);
      const fourth = (await rows(database))[3]!;
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: { id: fourth.id, reason: expect.stringMatching(/seal/) } });
    });

    it("re-seals under a new master key, and leaves a broken log broken", async () => {
      const { database, store, master } = await fresh();
      await append(store, database, 4);
      const { checkpoint } = await store.audit.checkpoint(Date.now());
      const next = randomBytes(32);
      expect(await rotateMasterKey(database, master, next)).toMatchObject({ credentials: 0, audit: { ok: true, count: 4 } });
      const rotated = createStore(database, { masterKey: next });
      expect(await rotated.audit.verify()).toMatchObject({ ok: true, count: 4 });
      expect((await store.audit.verify()).ok).toBe(false);
      // The hashes did not change; an old checkpoint is refused only for its seal, and a new one verifies.
      expect(await rotated.audit.verify(checkpoint!)).toMatchObject({ ok: false, brokenAt: { id: "(checkpoint)" } });
      expect((await rotated.audit.checkpoint(Date.now())).checkpoint!.hash).toBe(checkpoint!.hash);

      const second = (await rows(database))[1]!;
      await database.db.updateTable("audit_events").set({ action: "test.other" }).where("seq", "=", second.seq).execute();
      await recomputeChain(database);
      const again = randomBytes(32);
      const r = await rotateMasterKey(database, next, again);
      expect(r.audit).toMatchObject({ ok: false, brokenAt: { id: second.id } });
      expect((await createStore(database, { masterKey: again }).audit.verify()).ok).toBe(false);
    });
  });
}

describe("latchkey audit checkpoint and verify --checkpoint", () => {
  const ROOT = resolve(import.meta.dirname, "..");
  let t: TestApp;
  beforeAll(async () => {
    // The CLI runs from dist/, built by npm test or the suite's global setup (test/support/build-dist.ts).
    t = await startSqliteApp({ logLevel: "fatal" });
  }, 120_000);
  afterAll(async () => t?.close());

  // Asynchronous: the server answering the CLI runs in this process.
  function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
    const env = { ...process.env, NO_COLOR: "1", LATCHKEY_URL: t.url, LATCHKEY_ADMIN_KEY: t.adminKey };
    return new Promise((done) => {
      execFile(process.execPath, [join(ROOT, "bin/latchkey.js"), ...args], { env, encoding: "utf8" }, (err, out, errText) => {
        done({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, out, err: errText });
      });
    });
  }

  it("prints a checkpoint, stores it, and verifies against it until records are cut from the end", async () => {
    await t.api("POST", "/api/v1/workspaces", { name: "One" });
    const file = join(t.app.config.dataDir, "checkpoint.json");
    const cp = await cli(["audit", "checkpoint", "--out", file]);
    expect(cp.code).toBe(0);
    const printed = JSON.parse(cp.out) as AuditCheckpoint;
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(printed);
    expect(printed.count).toBeGreaterThan(0);
    await t.api("POST", "/api/v1/workspaces", { name: "Two" });
    const ok = await cli(["audit", "verify", "--checkpoint", file]);
    expect(ok.out).toMatch(/intact: \d+ records, consistent with the checkpoint/);
    expect(ok.code).toBe(0);

    // Cut the newest records and rewrite the head to the checkpoint's count and hash.
    const db = t.app.database.db;
    const head = await db.selectFrom("audit_head").selectAll().executeTakeFirstOrThrow();
    const kept = await db.selectFrom("audit_events").select("seq").orderBy("seq").limit(1).offset(printed.count - 1).executeTakeFirstOrThrow();
    await db.deleteFrom("audit_events").where("seq", ">", kept.seq).execute();
    await db.updateTable("audit_head").set({ hash: printed.hash, count: printed.count }).where("id", "=", 1).execute();
    expect(Number(head.count)).toBeGreaterThan(printed.count);
    const cut = await cli(["audit", "verify", "--checkpoint", file]);
    expect(cut.code).toBe(1);
    expect(cut.err).toMatch(/broken/);
    const plain = await cli(["audit", "verify"]);
    expect(plain.code).toBe(1);
    expect(plain.err).toMatch(/head does not match its seal/);
    // The API refuses to seal a checkpoint over a broken log, in the caller's format, with a request id.
    const refused = await t.api("GET", "/api/v1/audit/checkpoint");
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/does not verify/);
    expect(refused.headers.get("x-request-id")).toMatch(/^req_/);
    const bad = await t.api("POST", "/api/v1/audit/verify", { checkpoint: { count: "x" } });
    expect(bad.status).toBe(400);
  }, 120_000); // several CLI runs, each a new process: slow on a loaded machine
});
