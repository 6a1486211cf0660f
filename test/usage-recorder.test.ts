/** The usage recorder's spool on real SQLite: long outages, crashes mid-append, retries, consumers that fail. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { UsageRecorder } from "../src/gateway/recorder.js";
import type { UsageEvent } from "../src/store/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { openFixture, usageEvent, type MeteringFixture } from "./metering-support.js";

const [sqlite] = await backends();
const quiet = pino({ level: "silent" });
const open: { f: MeteringFixture; backend: TestBackend }[] = [];

async function fixture(backend?: TestBackend): Promise<{ f: MeteringFixture; backend: TestBackend; spool: string }> {
  const b = backend ?? (await sqlite!.create());
  const f = await openFixture(b);
  open.push({ f, backend: b });
  return { f, backend: b, spool: join(b.dataDir, "usage-spool.jsonl") };
}

afterEach(async () => {
  for (const { f, backend } of open.splice(0)) {
    await f.database.close().catch(() => undefined);
    await backend.cleanup();
  }
});

const lines = (file: string) => readFileSync(file, "utf8").split("\n").filter(Boolean).length;

describe("usage recorder", () => {
  it("replays a spool larger than one transaction, past a line a crash cut short, and the events spooled after it", async () => {
    const { f, backend, spool } = await fixture();
    const spooled = Array.from({ length: 12_001 }, () => usageEvent(f, {}));
    // What a crash mid-append leaves: whole lines, then part of one.
    writeFileSync(spool, spooled.map((e) => `${JSON.stringify(e)}\n`).join("") + JSON.stringify(usageEvent(f, {})).slice(0, 40));

    // The database goes away; the next batch must land on a line of its own.
    const down = new UsageRecorder(f.store, quiet, { spoolFile: spool });
    await f.database.close();
    const late = usageEvent(f, { id: "req_late_after_torn_line_0001" });
    down.record(late);
    await down.flush();
    down.stop();
    expect(lines(spool)).toBe(12_003);

    // Restarted with the database back: every whole line is written once, the torn one skipped.
    const { f: again } = await fixture(backend);
    const up = new UsageRecorder(again.store, quiet, { spoolFile: spool });
    await up.flush();
    up.stop();
    expect(existsSync(spool)).toBe(false);
    expect(await again.store.usage.count()).toBe(12_002);
    expect((await again.store.usage.listForKey(late.keyId, 20_000)).some((e) => e.id === late.id)).toBe(true);
  }, 60_000);

  it("waits out its backoff after a failed write instead of retrying with every new event", async () => {
    const { f, spool } = await fixture();
    const r = new UsageRecorder(f.store, quiet, { spoolFile: spool, intervalMs: 50 });
    await f.database.close();
    r.record(usageEvent(f, {}));
    await r.flush();
    expect(lines(spool)).toBe(1);
    r.record(usageEvent(f, {}));
    // The backoff is ten intervals (500 ms): a timer flush at 50 ms would spool the second event now.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(lines(spool)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(lines(spool)).toBe(2);
    r.stop();
  });

  it("counts a written batch once when a consumer of it fails", async () => {
    const { f, spool } = await fixture();
    const told: number[] = [];
    const r = new UsageRecorder(f.store, quiet, {
      spoolFile: spool,
      onWritten: (batch: readonly UsageEvent[]) => {
        told.push(batch.length);
        throw new Error("a metrics bug");
      },
    });
    r.record(usageEvent(f, {}));
    r.record(usageEvent(f, {}));
    await r.flush();
    await r.flush();
    r.stop();
    expect(told).toEqual([2]);
    expect(existsSync(spool)).toBe(false);
    expect(await f.store.usage.count()).toBe(2);
  });

  it("resumes a replay that failed part way after the lines it wrote", async () => {
    const { f, spool } = await fixture();
    const events = Array.from({ length: 7_000 }, () => usageEvent(f, {}));
    writeFileSync(spool, events.map((e) => `${JSON.stringify(e)}\n`).join(""));
    // A line the database refuses (NOT NULL), after the first transaction of 5,000.
    appendFileSync(spool, `${JSON.stringify({ ...usageEvent(f, {}), orgId: null })}\n`);
    const told: number[] = [];
    const r = new UsageRecorder(f.store, quiet, { spoolFile: spool, onWritten: (b) => told.push(b.length) });
    await r.flush();
    // The second attempt starts after the 5,000 lines already written: they are not handed on again.
    await r.flush();
    r.stop();
    expect(told).toEqual([5_000]);
    expect(await f.store.usage.count()).toBe(5_000);
    expect(existsSync(spool)).toBe(true);
  });
});
