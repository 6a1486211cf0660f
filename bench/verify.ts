/**
 * Key verification in process: hot cache (verifications per second on one core) and cold lookups
 * against SQLite holding 1,000,000 keys (latency percentiles). Prints a table.
 *   node dist/bench/verify.js [--keys 1000000]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { DEFAULT_KEY_PREFIXES, KeyService, KeyVerifier, generateKey, hashKey, keyHint } from "../src/keys/index.js";
import { newId, systemClock } from "../src/lib/index.js";
import { createStore, migrate, openDatabase } from "../src/store/index.js";
import { percentile, printTable } from "./table.js";

const keyCount = Number(process.argv.includes("--keys") ? process.argv[process.argv.indexOf("--keys") + 1] : 1_000_000);
const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-verify-"));
const file = join(dir, "bench.db");

try {
  const database = openDatabase({ url: file });
  await migrate(database);
  const store = createStore(database, { masterKey: randomBytes(32) });
  const now = Date.now();
  const orgId = newId("org");
  const workspaceId = newId("wrk");
  await store.orgs.insertOrganization({ id: orgId, name: "bench", rateLimits: null, spendLimit: null, settings: {}, createdAt: now });
  await store.orgs.insertWorkspace({ id: workspaceId, orgId, name: "bench", isDefault: true, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: now });
  const verifier = new KeyVerifier({ store, clock: systemClock, prefixes: DEFAULT_KEY_PREFIXES });
  const service = new KeyService(store, systemClock, DEFAULT_KEY_PREFIXES, verifier);
  const { plaintext } = await service.issue({ name: "hot", workspaceId, kind: "live", allowedModels: ["claude-*"] }, { id: "bench", orgId, requestId: null, clientIp: null });

  // Hot cache: one key verified over and over with a model check, as the gateway does.
  const ctx = { surface: "gateway" as const, scope: "messages", model: "claude-sonnet-4-6", ip: "127.0.0.1" };
  for (let i = 0; i < 50_000; i++) await verifier.verify(plaintext, ctx);
  const hotN = 1_000_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < hotN; i++) await verifier.verify(plaintext, ctx);
  const hotSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

  // Cold: fill the table with keyCount keys through one prepared statement in one transaction.
  const fillStart = Date.now();
  const raw = new BetterSqlite3(file);
  const insert = raw.prepare(`insert into api_keys (id, org_id, workspace_id, name, kind, key_hash, hint, scopes, metadata, status, created_at, updated_at)
    values (?, ?, ?, 'k', 'live', ?, ?, '["*"]', '{}', 'active', ?, ?)`);
  const sample: string[] = [];
  raw.transaction(() => {
    for (let i = 0; i < keyCount; i++) {
      const key = generateKey("lk_live_");
      if (i % Math.max(1, Math.floor(keyCount / 20_000)) === 0) sample.push(key);
      insert.run(newId("key"), orgId, workspaceId, hashKey(key), keyHint(key), now, now);
    }
  })();
  raw.close();
  const fillSeconds = (Date.now() - fillStart) / 1000;

  // A verifier whose cache never hits: every verification reads the key and its workspace.
  const cold = new KeyVerifier({ store, clock: systemClock, prefixes: DEFAULT_KEY_PREFIXES, refreshMs: 0 });
  const lat: number[] = [];
  for (const key of sample) {
    const s = process.hrtime.bigint();
    const r = await cold.verify(key, { surface: "gateway" });
    lat.push(Number(process.hrtime.bigint() - s) / 1e6);
    if (!r.valid) throw new Error(`bench key did not verify: ${r.code}`);
  }
  lat.sort((a, b) => a - b);
  await database.close();

  printTable("Key verification (in process, one core)", ["measure", "value", "target"], [
    ["hot cache: verifications/s", Math.round(hotN / hotSeconds).toLocaleString("en-US"), "≥ 300,000"],
    ["hot cache: µs per verification", ((hotSeconds / hotN) * 1e6).toFixed(2), ""],
    [`cold lookups (SQLite, ${keyCount.toLocaleString("en-US")} keys): p50 ms`, percentile(lat, 50).toFixed(3), ""],
    ["cold lookups: p99 ms", percentile(lat, 99).toFixed(3), "< 1 ms"],
    ["cold lookups: max ms", lat[lat.length - 1]!.toFixed(3), ""],
    ["cold lookups measured", lat.length.toLocaleString("en-US"), ""],
    ["table fill time s", fillSeconds.toFixed(1), ""],
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
