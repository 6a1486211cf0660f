/**
 * `latchkey migrate-store`: a SQLite store that served traffic is copied to an empty PostgreSQL
 * schema and back to a new SQLite file. Every table comes back row for row, the audit chain
 * verifies on PostgreSQL, a server started on the copy serves the old keys through the old
 * (encrypted) credential without creating a new organization, and a target that holds data is refused.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { adminApi, latchkeyCli as cli, sendMessage as send, stopProcess as stop, UpNodes } from "./support/nodes.js";
import { createPgSchema, postgresAvailable } from "./support/services.js";

const pgOk = await postgresAvailable();
const SECRET = "sk-ant-MIGRATE-STORE-CREDENTIAL-0001";

type Row = Record<string, unknown>;

/** Every row of every table (migration bookkeeping aside), in a stable order. */
function dump(file: string): Record<string, Row[]> {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const tables = (db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'schema_migrations%' order by name").all() as { name: string }[]).map((r) => r.name);
    const out: Record<string, Row[]> = {};
    for (const t of tables) {
      const cols = (db.prepare(`select name from pragma_table_info('${t}')`).all() as { name: string }[]).map((c) => `"${c.name}"`);
      out[t] = db.prepare(`select * from "${t}" order by ${cols.join(", ")}`).all() as Row[];
    }
    return out;
  } finally {
    db.close();
  }
}

describe.skipIf(!pgOk)("migrate-store: SQLite → PostgreSQL → SQLite", () => {
  const nodes = new UpNodes();
  let sim: SimulatorServer | null = null;
  afterAll(() => nodes.close());
  const simulator = async () => {
    if (!sim) {
      const started = await createSimulatorServer();
      nodes.onClose(() => started.close());
      sim = started;
    }
    return sim;
  };
  const pgTarget = async () => {
    const schema = await createPgSchema();
    nodes.onClose(schema.drop);
    return schema.url;
  };

  it("copies every record, verifies the audit chain, serves from the copy, and refuses a target with data", async () => {
    const sim = await simulator();
    const data = nodes.dir("migrate-src");
    const up = await nodes.start(data);
    expect(up.admin).not.toBeNull();
    const api = (url: string, method: string, path: string, body?: unknown) => adminApi(url, up.admin!)(method, path, body);

    // A store with a bit of everything: workspaces, keys of each kind, an encrypted credential and
    // webhook secret, credits, a revoked and a rolled key, usage, and the audit records of all that.
    expect((await api(up.url, "POST", "/api/v1/credentials", { provider: "anthropic", name: "sim", secret: SECRET, base_url: sim.url })).status).toBe(201);
    const ws = (await api(up.url, "POST", "/api/v1/workspaces", { name: "team-b" })).body;
    expect(ws.id).toMatch(/^wrk_/);
    expect((await api(up.url, "POST", "/api/v1/webhooks", { url: "https://example.com/hook", events: ["*"] })).status).toBe(201);
    const keys: { id: string; key: string }[] = [];
    for (let i = 0; i < 12; i++) {
      const k = await api(up.url, "POST", "/api/v1/keys", { name: `k${i}`, kind: "live", ...(i % 2 ? { workspace_id: ws.id } : {}) });
      expect(k.status).toBe(201);
      keys.push(k.body);
    }
    expect((await api(up.url, "PATCH", "/api/v1/credits/settings", { credits_enabled: false })).status).toBe(200);
    expect((await api(up.url, "POST", "/api/v1/credits", { amount_usd: "25.00", note: "opening balance" })).status).toBe(201);
    expect((await api(up.url, "POST", `/api/v1/keys/${keys[10]!.id}/revoke`)).status).toBe(200);
    const rolled = await api(up.url, "POST", `/api/v1/keys/${keys[11]!.id}/roll`, { grace_seconds: 3600 });
    expect(rolled.status).toBe(201);
    const serving = [...keys.slice(0, 10), { id: rolled.body.id as string, key: rolled.body.key as string }];
    const statuses = await Promise.all(Array.from({ length: 120 }, (_, i) => send(up.url, serving[i % serving.length]!.key)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    await stop(up.proc);

    // Pages of the copy cross the reader's page size: many more usage records, written directly.
    const src = join(data, "latchkey.db");
    const raw = new BetterSqlite3(src);
    const first = raw.prepare("select * from usage_events limit 1").get() as Row;
    const insert = raw.prepare(`insert into usage_events (${Object.keys(first).join(", ")}) values (${Object.keys(first).map((c) => `@${c}`).join(", ")})`);
    raw.transaction(() => {
      for (let i = 0; i < 2_500; i++) insert.run({ ...first, id: `req_bulk${String(i).padStart(8, "0")}`, at: Number(first.at) - i * 1000, input_tokens: i, cost_nano: i * 1000 });
    })();
    raw.close();
    const before = dump(src);
    expect(before.usage_events!.length).toBeGreaterThan(2_600);
    expect(before.audit_events!.length).toBeGreaterThan(15);
    expect(before.provider_credentials!.length).toBe(1);

    // SQLite → PostgreSQL.
    const pgUrl = await pgTarget();
    const toPg = cli(["migrate-store", "--to", pgUrl, "--data-dir", data]);
    expect(toPg.stderr).toBe("");
    expect(toPg.status).toBe(0);
    expect(toPg.stdout).toMatch(/every table's row count matches/);
    expect(toPg.stdout).toMatch(new RegExp(`audit chain intact on the copy: ${before.audit_events!.length} records`));
    expect(toPg.stdout).toContain("LATCHKEY_DATABASE_URL=");
    expect(toPg.stdout).toMatch(/fingerprint [0-9a-f]{16}/);
    expect(toPg.stdout).toMatch(new RegExp(`usage_events: ${before.usage_events!.length}\\b`));
    expect(toPg.stdout + toPg.stderr).not.toContain(SECRET);

    // Again into the same, now full, database: refused, nothing written.
    const again = cli(["migrate-store", "--to", pgUrl, "--data-dir", data]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/target database is not empty \(.*api_keys: \d+/);

    // PostgreSQL → a new SQLite file: every row of every table is what it was.
    const back = join(nodes.dir("migrate-back"), "latchkey.db");
    const toSqlite = cli(["migrate-store", "--from", pgUrl, "--to", back, "--data-dir", data]);
    expect(toSqlite.stderr).toBe("");
    expect(toSqlite.status).toBe(0);
    expect(dump(back)).toEqual(before);

    // A server on the PostgreSQL copy is the same installation: no new organization, the old keys
    // pass through the old credential (opened with the same master key), the chain verifies.
    const master = readFileSync(join(data, "master.key"), "utf8").trim();
    const onPg = await nodes.start(nodes.dir("migrate-pg-node"), { LATCHKEY_DATABASE_URL: pgUrl, LATCHKEY_MASTER_KEY: master });
    expect(onPg.admin).toBeNull();
    for (const k of serving) expect(await send(onPg.url, k.key)).toBe(200);
    expect(await send(onPg.url, keys[10]!.key)).toBe(401);
    const verify = await api(onPg.url, "GET", "/api/v1/audit/verify");
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.count).toBeGreaterThanOrEqual(before.audit_events!.length);
    // A new audit record continues the copied chain (the sequence moved past the copied rows).
    expect((await api(onPg.url, "POST", "/api/v1/keys", { name: "after-move", kind: "test" })).status).toBe(201);
    const verified = await api(onPg.url, "GET", "/api/v1/audit/verify");
    expect(verified.body).toMatchObject({ ok: true, count: verify.body.count + 1 });
    await stop(onPg.proc);

    // A SQLite target a server has started on holds an organization: refused as well.
    const used = nodes.dir("migrate-used");
    const fresh = await nodes.start(used);
    await stop(fresh.proc);
    const intoUsed = cli(["migrate-store", "--from", pgUrl, "--to", join(used, "latchkey.db"), "--data-dir", data]);
    expect(intoUsed.status).not.toBe(0);
    expect(intoUsed.stderr).toMatch(/not empty \(.*organizations: 1/);
  }, 240_000);

  it("moves a store in the middle of a rolling master-key rotation: records under either key copied as they are, the audit seals checked, the rotation finished on the target", async () => {
    const sim = await simulator();
    const OLD = "5e".repeat(32);
    const NEW = "a9".repeat(32);
    const rolling = { LATCHKEY_MASTER_KEY: NEW, LATCHKEY_MASTER_KEY_PREVIOUS: OLD };
    const data = nodes.dir("migrate-rolling");
    // Written under the old key: a credential and a webhook secret, and the audit log sealed under it.
    const first = await nodes.start(data, { LATCHKEY_MASTER_KEY: OLD });
    const api = (url: string, method: string, path: string, body?: unknown) => adminApi(url, first.admin!)(method, path, body);
    expect((await api(first.url, "POST", "/api/v1/credentials", { provider: "anthropic", name: "old", secret: "sk-ant-MIGRATE-ROLL-OLD-0001", base_url: sim.url, priority: 5 })).status).toBe(201);
    expect((await api(first.url, "POST", "/api/v1/webhooks", { url: "https://example.com/hook", events: ["*"] })).status).toBe(201);
    const key = (await api(first.url, "POST", "/api/v1/keys", { name: "rolling", kind: "live" })).body.key as string;
    await stop(first.proc);
    // The node rolls: a credential written now is sealed under the new key; the log stays sealed under the old one.
    const rolled = await nodes.start(data, rolling);
    expect((await api(rolled.url, "POST", "/api/v1/credentials", { provider: "anthropic", name: "new", secret: "sk-ant-MIGRATE-ROLL-NEW-0002", base_url: sim.url, priority: 1 })).status).toBe(201);
    expect(await send(rolled.url, key)).toBe(200);
    const records = (await api(rolled.url, "GET", "/api/v1/audit/verify")).body.count as number;
    await stop(rolled.proc);

    // Copied with both keys: the seals verify under the key the log is sealed with, and the output says what still needs the old key.
    const pgUrl = await pgTarget();
    const moved = cli(["migrate-store", "--to", pgUrl, "--data-dir", data], rolling);
    expect(moved.stderr).toBe("");
    expect(moved.status).toBe(0);
    expect(moved.stdout).toContain(`audit chain intact on the copy: ${records} records\n`);
    expect(moved.stdout).toMatch(/LATCHKEY_MASTER_KEY_PREVIOUS \(fingerprint [0-9a-f]{16}\), which still seals 2 of the 3 sealed records/);
    expect(moved.stdout).toMatch(/rotate-master with both keys/);
    expect(moved.stdout).not.toMatch(/open with no master key/);
    expect(moved.stdout).not.toContain("MIGRATE-ROLL");

    // With the new key alone the copy is the same, but two records open with no key given: said so, loudly.
    const partial = cli(["migrate-store", "--to", join(nodes.dir("migrate-rolling-partial"), "latchkey.db"), "--data-dir", data], { LATCHKEY_MASTER_KEY: NEW });
    expect(partial.status).toBe(0);
    expect(partial.stdout).toMatch(/! 2 sealed records \(credentials, webhook secrets\) open with no master key given here/);

    // A node on the copy with both keys serves through both credentials, and extends the chain.
    const onPg = await nodes.start(nodes.dir("migrate-rolling-pg"), { LATCHKEY_DATABASE_URL: pgUrl, ...rolling });
    expect(onPg.admin).toBeNull();
    for (const c of (await api(onPg.url, "GET", "/api/v1/credentials")).body.data as { id: string }[]) {
      expect((await api(onPg.url, "POST", `/api/v1/credentials/${c.id}/test`)).body.ok).toBe(true);
    }
    expect(await send(onPg.url, key)).toBe(200);
    expect((await api(onPg.url, "POST", "/api/v1/keys", { name: "on-pg", kind: "test" })).status).toBe(201);
    expect((await api(onPg.url, "GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true, count: records + 1 });
    await stop(onPg.proc);

    // The rotation finishes on the target; then the new key alone opens everything and the log verifies under it.
    const rotate = cli(["credentials", "rotate-master", "--data-dir", data], { LATCHKEY_DATABASE_URL: pgUrl, ...rolling });
    expect(rotate.stderr).toBe("");
    expect(rotate.stdout).toMatch(/re-wrapped 2 sealed records from the previous master key/);
    const done = await nodes.start(nodes.dir("migrate-rolling-done"), { LATCHKEY_DATABASE_URL: pgUrl, LATCHKEY_MASTER_KEY: NEW });
    for (const c of (await api(done.url, "GET", "/api/v1/credentials")).body.data as { id: string }[]) {
      expect((await api(done.url, "POST", `/api/v1/credentials/${c.id}/test`)).body.ok).toBe(true);
    }
    expect((await api(done.url, "GET", "/api/v1/audit/verify")).body).toMatchObject({ ok: true, count: records + 1 });
  }, 240_000);
});
