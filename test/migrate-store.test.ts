/**
 * `latchkey migrate-store`: a SQLite store that served traffic is copied to an empty PostgreSQL
 * schema and back to a new SQLite file. Every table comes back row for row, the audit chain
 * verifies on PostgreSQL, a server started on the copy serves the old keys through the old
 * (encrypted) credential without creating a new organization, and a target that holds data is refused.
 */
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { createSimulatorServer, type SimulatorServer } from "../src/providers/index.js";
import { startUp } from "./support/processes.js";
import { createPgSchema, postgresAvailable } from "./support/services.js";

const pgOk = await postgresAvailable();
const ROOT = join(import.meta.dirname, "..");
const SECRET = "sk-ant-MIGRATE-STORE-CREDENTIAL-0001";
const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [join(ROOT, "bin", "latchkey.js"), ...args], {
  env: { ...process.env, NO_COLOR: "1", LATCHKEY_LOG_LEVEL: "fatal", ...env }, encoding: "utf8", timeout: 240_000,
});

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

async function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((ok) => proc.once("exit", ok));
  proc.kill("SIGTERM");
  await exited;
}

describe.skipIf(!pgOk)("migrate-store: SQLite → PostgreSQL → SQLite", () => {
  const dirs: string[] = [];
  const procs: ChildProcess[] = [];
  const drops: (() => Promise<void>)[] = [];
  let sim: SimulatorServer | null = null;
  const dir = (name: string) => {
    const d = mkdtempSync(join(tmpdir(), `latchkey-${name}-`));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    await sim?.close();
    for (const drop of drops) await drop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("copies every record, verifies the audit chain, serves from the copy, and refuses a target with data", async () => {
    sim = await createSimulatorServer();
    const data = dir("migrate-src");
    const up = await startUp(data);
    procs.push(up.proc);
    expect(up.admin).not.toBeNull();
    const api = async (url: string, method: string, path: string, body?: unknown) => {
      const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${up.admin}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json()) as any };
    };
    const send = (url: string, key: string) => fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content: "sim-tokens:7" }] }),
    }).then(async (r) => (await r.text(), r.status));

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
    const pgSchema = await createPgSchema();
    drops.push(pgSchema.drop);
    const toPg = cli(["migrate-store", "--to", pgSchema.url, "--data-dir", data]);
    expect(toPg.stderr).toBe("");
    expect(toPg.status).toBe(0);
    expect(toPg.stdout).toMatch(/every table's row count matches/);
    expect(toPg.stdout).toMatch(new RegExp(`audit chain intact on the copy: ${before.audit_events!.length} records`));
    expect(toPg.stdout).toContain("LATCHKEY_DATABASE_URL=");
    expect(toPg.stdout).toMatch(/fingerprint [0-9a-f]{16}/);
    expect(toPg.stdout).toMatch(new RegExp(`usage_events: ${before.usage_events!.length}\\b`));
    expect(toPg.stdout + toPg.stderr).not.toContain(SECRET);

    // Again into the same, now full, database: refused, nothing written.
    const again = cli(["migrate-store", "--to", pgSchema.url, "--data-dir", data]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toMatch(/target database is not empty \(.*api_keys: \d+/);

    // PostgreSQL → a new SQLite file: every row of every table is what it was.
    const back = join(dir("migrate-back"), "latchkey.db");
    const toSqlite = cli(["migrate-store", "--from", pgSchema.url, "--to", back, "--data-dir", data]);
    expect(toSqlite.stderr).toBe("");
    expect(toSqlite.status).toBe(0);
    expect(dump(back)).toEqual(before);

    // A server on the PostgreSQL copy is the same installation: no new organization, the old keys
    // pass through the old credential (opened with the same master key), the chain verifies.
    const master = readFileSync(join(data, "master.key"), "utf8").trim();
    const onPg = await startUp(dir("migrate-pg-node"), { LATCHKEY_DATABASE_URL: pgSchema.url, LATCHKEY_MASTER_KEY: master });
    procs.push(onPg.proc);
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
    const used = dir("migrate-used");
    const fresh = await startUp(used);
    procs.push(fresh.proc);
    await stop(fresh.proc);
    const intoUsed = cli(["migrate-store", "--from", pgSchema.url, "--to", join(used, "latchkey.db"), "--data-dir", data]);
    expect(intoUsed.status).not.toBe(0);
    expect(intoUsed.stderr).toMatch(/not empty \(.*organizations: 1/);
  }, 240_000);
});
