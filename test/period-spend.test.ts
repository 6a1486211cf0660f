/**
 * A subject's spend in a period (what spend alerts and the spend counters' loads read): daily
 * roll-ups plus the events not yet rolled up, exact whichever events are rolled, on every backend
 * and on the usage thread. The unrolled part is read from the oldest unrolled event on.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { DAY_MS, HOUR_MS, testKeyIds, type SpendSubject, type UsageEvent } from "../src/store/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { T0, openFixture, withUsageThread, usageEvent, type MeteringFixture } from "./metering-support.js";

const all = await backends();

for (const { b, label, usageThread } of withUsageThread(all)) {
  describe.skipIf(!b.available)(`period spend on ${label}`, () => {
    let backend: TestBackend;
    let f: MeteringFixture;
    let events: UsageEvent[];
    // The period: days 2 to 5 after T0 (periods are whole UTC days).
    const start = T0 + 2 * DAY_MS;
    const end = T0 + 5 * DAY_MS;

    beforeAll(async () => {
      backend = await b.create();
      f = await openFixture(backend, { usageThread });
      events = [];
      for (let d = 0; d < 6; d++) {
        for (let h = 0; h < 3; h++) {
          events.push(usageEvent(f, { at: T0 + d * DAY_MS + h * HOUR_MS, costNano: 1000 + d }));
          events.push(usageEvent(f, { at: T0 + d * DAY_MS + h * HOUR_MS + 1, keyId: "key_b", workspaceId: f.ws[1], costNano: 7 }));
        }
      }
      await f.store.usage.insertMany(events);
    });
    afterAll(async () => {
      await f?.database.close();
      await backend?.cleanup();
    });

    /** What the period holds, summed from the events themselves. */
    const expected = (s: SpendSubject) => events
      .filter((e) => e.at >= start && e.at < end && (s.type === "key" ? e.keyId : s.type === "workspace" ? e.workspaceId : e.orgId) === s.id)
      .reduce((sum, e) => sum + e.costNano, 0);
    const subjects = (): SpendSubject[] => [{ type: "key", id: "key_a" }, { type: "key", id: "key_b" }, { type: "workspace", id: f.ws[1] }, { type: "org", id: f.orgId }];

    async function check(): Promise<void> {
      const read = await f.store.rollups.periodSpend(subjects(), start, end);
      for (const s of subjects()) {
        expect(read.get(`${s.type}:${s.id}`), `${s.type} ${s.id}`).toBe(expected(s));
        expect(await f.store.usageWriter.periodSpend(s, start, end), `${s.type} ${s.id} through the usage writer`).toBe(expected(s));
      }
    }

    it("counts every event of the period before any roll-up, the oldest unrolled one before the period", async () => {
      expect(expected({ type: "key", id: "key_a" })).toBe(3 * (1002 + 1003 + 1004));
      await check();
    });

    it("counts the same with the period's first events rolled up and the rest not", async () => {
      // Roll-ups take the oldest unrolled events first: the first days' and part of the period's.
      expect(await f.store.usageWriter.rollUp(T0 + 10 * DAY_MS, 16)).toBe(16);
      await check();
    });

    it("counts the same with every event rolled up, and nothing left to read among the events", async () => {
      while ((await f.store.usageWriter.rollUp(T0 + 10 * DAY_MS, 1000)) > 0);
      await check();
    });
  });
}

const sqlite = all.find((b) => b.name === "sqlite")!;
describe("test keys on SQLite", () => {
  it("are found through their own index, not by reading every key", async () => {
    const backend = await sqlite.create();
    const f = await openFixture(backend);
    try {
      // Totals above a key leave test usage out with this subquery: without the index (migration
      // 0015) it read the whole key table, 180 ms among a million keys, on every spend read.
      const q = testKeyIds(f.database.db).compile();
      const plan = await sql.raw<{ detail: string }>(`explain query plan ${q.sql}`).execute(f.database.db);
      expect(plan.rows.map((r) => r.detail).join(" | ")).toMatch(/USING COVERING INDEX api_keys_test/);
    } finally {
      await f.database.close();
      await backend.cleanup();
    }
  });
});
