/**
 * The usage writer's thread (see usage-worker.ts): its own connection to the SQLite file, opened as
 * the main one is (openDatabase) and then tuned for appending (tuneForUsageWrites), answering one
 * message at a time, in order.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openDatabase, tuneForUsageWrites } from "./database.js";
import { CreditStore } from "./credits.js";
import { KeyStore } from "./keys.js";
import { UsageRollupStore, type SpendSubject, type UsageQuery } from "./usage-rollups.js";
import { UsageStore } from "./usage.js";
import { rollUpAndCharge } from "./usage-writer.js";

/** What the main thread asks. */
export type UsageThreadRequest =
  | { id: number; op: "insert"; rows: unknown[]; clearLeases: boolean }
  | { id: number; op: "rollUp"; now: number; limit: number }
  | { id: number; op: "periodSpend"; subject: SpendSubject; start: number; end: number }
  | { id: number; op: "purge"; before: number; limit: number }
  | { id: number; op: "report"; query: UsageQuery }
  | { id: number; op: "touch"; lastUsed: [string, number][] }
  | { id: number; op: "pragma"; text: string }
  | { id: number; op: "checkpoint" }
  | { id: number; op: "close" };

/** SQLite's answer to a checkpoint: frames in the WAL, and how many of them are now in the database file. */
export interface WalCheckpoint { busy: number; log: number; checkpointed: number }

/** What the thread answers: a count and the time it took in the thread, or the error with its code. */
export type UsageThreadAnswer =
  | { id: number; ok: true; value: unknown; ms: number }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

export interface UsageThreadData {
  file: string;
  statementTimeoutMs: number;
}

const port = parentPort!;
const { file, statementTimeoutMs } = workerData as UsageThreadData;
const database = openDatabase({ url: file, statementTimeoutMs });
tuneForUsageWrites(database);
const usage = new UsageStore(database);
const rollups = new UsageRollupStore(database);
const credits = new CreditStore(database);
const keys = new KeyStore(database);

/** A count, or a report's rows. */
async function perform(m: UsageThreadRequest): Promise<unknown> {
  switch (m.op) {
    case "insert":
      if (m.clearLeases && !usage.clearingLeases) usage.clearLeasesOnWrite();
      return usage.insertPacked(m.rows);
    case "rollUp":
      return rollUpAndCharge(rollups, credits, m.now, m.limit);
    case "report":
      return rollups.report(m.query);
    case "purge":
      return rollups.purgeRolled(m.before, m.limit);
    case "periodSpend":
      return rollups.spendOf(m.subject, m.start, m.end);
    case "touch":
      await keys.touch(new Map(m.lastUsed));
      return m.lastUsed.length;
    case "pragma":
      database.sqlite!.pragma(m.text);
      return 0;
    case "checkpoint":
      // PASSIVE: copies what no reader still needs, never waits for a reader or a writer.
      return (database.sqlite!.pragma("wal_checkpoint(PASSIVE)") as WalCheckpoint[])[0];
    case "close":
      await database.close();
      return 0;
  }
}

// One at a time: a roll-up awaits between its statements, and an insert must not land in its transaction.
let queue: Promise<void> = Promise.resolve();
port.on("message", (m: UsageThreadRequest) => {
  queue = queue.then(async () => {
    const started = performance.now();
    let answer: UsageThreadAnswer;
    try {
      answer = { id: m.id, ok: true, value: await perform(m), ms: performance.now() - started };
    } catch (err) {
      answer = { id: m.id, ok: false, error: describe(err) };
    }
    port.postMessage(answer);
    if (m.op === "close") port.close();
  });
});

/** The error as data: its code (SQLITE_FULL, SQLITE_BUSY …) first, found along its causes. */
function describe(err: unknown): { name: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string };
  let code: string | undefined;
  for (let c = err as { code?: unknown; cause?: unknown } | undefined, i = 0; c && i < 4 && code === undefined; c = c.cause as typeof c, i++) {
    if (typeof c.code === "string") code = c.code;
  }
  return { name: e?.name ?? "Error", message: e?.message ?? String(err), ...(code ? { code } : {}) };
}
