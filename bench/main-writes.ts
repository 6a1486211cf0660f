/**
 * What the main thread feels when it writes to a SQLite file while the usage thread rolls up.
 *   node dist/bench/main-writes.js   (BENCH_ROUNDS, default 3)
 *
 * The usage thread (store/usage-worker.ts) holds SQLite's write lock through each batch and each
 * roll-up pass; the main connection also writes now and then (an admin call, an alert, a webhook
 * delivery). Each round: a new database file, 60,000 unrolled usage events over 500 keys written by
 * the thread, then the roll-up job's passes of 5,000 while the main thread writes a row every 2 ms
 * and a 1 ms timer measures the event loop. Three ways, in turn within each round:
 *   - no main-thread writes (what the roll-up alone costs the loop);
 *   - writes through the store, as Latchkey makes them: the lock waited for without holding the
 *     event loop, the thread held back meanwhile, checkpoints on the thread (transaction.ts);
 *   - writes with SQLite's own busy wait, and the main connection checkpointing for itself: how
 *     the store wrote before.
 * The table shows medians over the rounds of the longest gap between timer ticks (every request
 * in flight waits that long) and of the slowest write.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvStore, migrate, openDatabase, UsageStore, WorkerUsageWriter, type UsageEvent } from "../src/store/index.js";
import { median, printTable } from "./table.js";
import { syntheticUsage } from "./usage-events.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const EVENTS = 60_000;
const KEYS = 500;
const PASS = 5_000;

type Way = "none" | "store" | "busy-wait";
const WAYS: Way[] = ["none", "store", "busy-wait"];
const quiet = { error: () => undefined, info: () => undefined };

async function round(way: Way, dir: string): Promise<{ gap: number; write: number; writes: number; rollupMs: number }> {
  const file = join(dir, `main-writes-${way}-${Date.now()}.db`);
  const database = openDatabase({ url: file });
  await migrate(database);
  const sqlite = database.sqlite!;
  const writer = new WorkerUsageWriter({
    file, statementTimeoutMs: 15_000, usage: new UsageStore(database), logger: quiet,
    ...(way === "busy-wait" ? {} : { mainConnection: sqlite }),
  });
  try {
    const t0 = Date.now() - 60_000;
    for (let n = 0; n < EVENTS;) {
      const batch: UsageEvent[] = [];
      for (let i = 0; i < 400; i++, n++) batch.push(syntheticUsage(n, t0, KEYS, 20));
      await writer.insertMany(batch);
    }
    const kv = new KvStore(database);
    const raw = sqlite.prepare("insert into kv (key, value, updated_at) values (?, ?, ?) on conflict (key) do update set value = excluded.value");
    let gap = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      gap = Math.max(gap, now - last);
      last = now;
    }, 1);
    let done = false;
    const started = performance.now();
    const rolling = (async () => {
      for (let n = PASS; n === PASS;) n = await writer.rollUp(Date.now(), PASS);
      done = true;
    })();
    let write = 0;
    let writes = 0;
    while (!done && way !== "none") {
      const w0 = performance.now();
      if (way === "store") await kv.set("bench", String(writes));
      else raw.run("bench", String(writes), Date.now());
      write = Math.max(write, performance.now() - w0);
      writes++;
      await new Promise((r) => setTimeout(r, 2));
    }
    await rolling;
    const rollupMs = performance.now() - started;
    clearInterval(tick);
    return { gap, write, writes, rollupMs };
  } finally {
    await writer.close();
    await database.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-main-writes-"));
try {
  const results = new Map<Way, Awaited<ReturnType<typeof round>>[]>(WAYS.map((w) => [w, []]));
  for (let r = 0; r < ROUNDS; r++) for (const way of r % 2 ? [...WAYS].reverse() : WAYS) results.get(way)!.push(await round(way, dir));
  const label: Record<Way, string> = {
    none: "no main-thread writes",
    store: "writes through the store (lock waited for off the event loop)",
    "busy-wait": "writes with SQLite's busy wait, main connection checkpointing",
  };
  printTable(
    `main-thread writes every 2 ms while ${EVENTS} usage events over ${KEYS} keys are rolled up in passes of ${PASS} (medians of ${ROUNDS} rounds)`,
    ["way", "longest event-loop gap ms", "slowest write ms", "writes", "roll-up ms"],
    WAYS.map((w) => {
      const rs = results.get(w)!;
      return [label[w], median(rs.map((x) => x.gap)).toFixed(1), w === "none" ? "-" : median(rs.map((x) => x.write)).toFixed(1),
        median(rs.map((x) => x.writes)), median(rs.map((x) => x.rollupMs)).toFixed(0)];
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
