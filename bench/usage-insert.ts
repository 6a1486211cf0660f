/**
 * What one usage row costs the usage thread on SQLite (store/usage-thread.ts): the insert, then the
 * roll-up, by how many keys and workspaces the traffic spreads over.
 *   node dist/bench/usage-insert.js   (BENCH_ROWS, default 100000; BENCH_BATCH, default 400)
 *
 * Each spread gets a new database file, migrated, on a connection tuned as the thread's is. Rows are
 * inserted as the thread inserts them (UsageStore.insertPacked, one transaction a batch; 400 rows is
 * 100 ms of traffic at 4,000 requests a second), each batch's rows taking the keys in turn; then they
 * are rolled up and charged in the thread's passes of 5,000. CPU time is this process's (user and
 * system, so the writes' system calls count); wall time includes waiting for the disk.
 *
 * The rows land at the right edge of the table and of its indexes on `id` and `at`, but in the
 * (key_id, at) and (workspace_id, at) indexes at one place for each key and each workspace, so a
 * batch rewrites a page of each for every key it holds. The last line drops those two indexes, to
 * show what they cost at the widest spread (they serve the reads of a key's or a workspace's
 * unrolled spend: the alert checks, and a spend counter's load).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreditStore, migrate, openDatabase, packUsage, rollUpAndCharge, tuneForUsageWrites, UsageRollupStore, UsageStore, type UsageEvent,
} from "../src/store/index.js";
import { printTable } from "./table.js";
import { syntheticUsage } from "./usage-events.js";

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const BATCH = Number(process.env.BENCH_BATCH ?? 400);
const WARM_BATCHES = 20;
const T0 = Date.UTC(2026, 0, 1);

interface Spread { keys: number; workspaces: number; dropSubjectIndexes?: boolean }
const SPREADS: Spread[] = [
  { keys: 1, workspaces: 1 },
  { keys: 50, workspaces: 5 },
  { keys: 500, workspaces: 20 },
  { keys: 500, workspaces: 20, dropSubjectIndexes: true },
];

function cpuMicros(): { all: number; sys: number } {
  const c = process.cpuUsage();
  return { all: c.user + c.system, sys: c.system };
}

async function measure(s: Spread, dir: string) {
  const database = openDatabase({ url: join(dir, `usage-${s.keys}-${s.dropSubjectIndexes ? "lean" : "full"}.db`) });
  await migrate(database);
  tuneForUsageWrites(database);
  if (s.dropSubjectIndexes) database.sqlite!.exec("drop index usage_events_key_at; drop index usage_events_workspace_at");
  const usage = new UsageStore(database);
  let n = 0;
  const batch = (): unknown[] => {
    const events: UsageEvent[] = [];
    for (let i = 0; i < BATCH; i++, n++) events.push(syntheticUsage(n, T0, s.keys, s.workspaces));
    return packUsage(events);
  };
  for (let i = 0; i < WARM_BATCHES; i++) usage.insertPacked(batch());
  const batches = Array.from({ length: Math.ceil(ROWS / BATCH) }, batch);
  const rows = batches.length * BATCH;
  const c0 = cpuMicros();
  const w0 = performance.now();
  for (const b of batches) usage.insertPacked(b);
  const wall = performance.now() - w0;
  const c1 = cpuMicros();

  const rollups = new UsageRollupStore(database);
  const credits = new CreditStore(database);
  const now = T0 + Math.ceil(n / 4) + 1;
  const r0 = cpuMicros();
  let rolled = 0;
  for (let got = -1; got !== 0; rolled += got) got = await rollUpAndCharge(rollups, credits, now, 5000);
  const r1 = cpuMicros();
  await database.close();
  return {
    insertCpu: (c1.all - c0.all) / rows, insertSys: (c1.sys - c0.sys) / rows, insertWall: (wall * 1000) / rows,
    rollupCpu: (r1.all - r0.all) / rolled, rolled, rows,
  };
}

const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-usage-"));
try {
  const out: (string | number)[][] = [];
  for (const s of SPREADS) {
    const r = await measure(s, dir);
    out.push([
      `${s.keys} key${s.keys > 1 ? "s" : ""}, ${s.workspaces} workspace${s.workspaces > 1 ? "s" : ""}${s.dropSubjectIndexes ? ", without the key and workspace indexes" : ""}`,
      r.insertCpu.toFixed(1), r.insertSys.toFixed(1), r.insertWall.toFixed(1), r.rollupCpu.toFixed(1),
    ]);
  }
  printTable(`usage rows on SQLite, as the usage thread writes them (${ROWS} rows in batches of ${BATCH} after ${WARM_BATCHES} to warm up; then rolled up)`,
    ["spread", "insert CPU µs/row", "of it system", "insert wall µs/row", "roll-up CPU µs/row"], out);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
