/** Usage reports and roll-ups on every backend: buckets, grouping, filters, paging, roll-ups read after raw events are gone. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/lib/index.js";
import { DAY_MS, HOUR_MS } from "../src/store/index.js";
import { UsageRollupJob, buildUsageReport, presentUsageReport } from "../src/usage/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { T0, openFixture, withUsageThread, usageEvent, type MeteringFixture } from "./metering-support.js";

const all = await backends();

for (const { b, label, usageThread } of withUsageThread(all)) {
  describe.skipIf(!b.available)(`usage reports on ${label}`, () => {
    let backend: TestBackend;
    let f: MeteringFixture;
    const clock = new ManualClock(T0 + 10 * DAY_MS);

    beforeAll(async () => {
      backend = await b.create();
      f = await openFixture(backend, { usageThread });
      const events = [];
      // 3 days × 4 hours × (key_a/claude, key_b/gpt in ws[1]); one error per day; one event on day 2 late in the hour.
      for (let d = 0; d < 3; d++) {
        for (let h = 0; h < 4; h++) {
          events.push(usageEvent(f, { at: T0 + d * DAY_MS + h * HOUR_MS + 1000, costNano: 1000 + d }));
          events.push(usageEvent(f, { at: T0 + d * DAY_MS + h * HOUR_MS + 2000, keyId: "key_b", workspaceId: f.ws[1], provider: "openai", model: "gpt-5", costNano: 7, status: h === 0 ? 500 : 200 }));
        }
      }
      await f.store.usage.insertMany(events);
    });
    afterAll(async () => {
      await f?.database.close();
      await backend?.cleanup();
    });

    const report = (over: Partial<Parameters<typeof buildUsageReport>[1]> = {}) => buildUsageReport(f.store, {
      orgId: f.orgId, start: T0, end: T0 + 3 * DAY_MS, width: "1d", groupBy: [], filters: {}, ...over,
    }, clock.now());

    it("answers day buckets with totals by token type, errors and cost, even before any roll-up", async () => {
      const rep = (await report())!;
      expect(rep.buckets).toHaveLength(3);
      const body = presentUsageReport(rep);
      expect(body.data[0]).toMatchObject({ starting_at: "2026-01-05T00:00:00.000Z", ending_at: "2026-01-06T00:00:00.000Z" });
      expect(body.data[1]!.results).toEqual([{
        api_key_id: null, workspace_id: null, model: null, provider: null, requests: 8, errors: 1, uncached_input_tokens: 800,
        cache_creation_input_tokens: 80, cache_read_input_tokens: 40, output_tokens: 400, cost_usd: "0.000004032", cost_nano_usd: 4 * 1001 + 4 * 7,
      }]);
    });

    it("groups, filters and pages; a developer sees only their workspaces", async () => {
      const byKey = (await report({ groupBy: ["api_key_id", "model"] }))!;
      expect(byKey.buckets[2]!.rows.map((r) => [r.group.key_id, r.group.model, r.requests, r.costNano])).toEqual([["key_a", "claude-sonnet-4-5", 4, 4008], ["key_b", "gpt-5", 4, 28]]);
      const onlyOpenai = (await report({ groupBy: ["provider"], filters: { provider: ["openai"] } }))!;
      expect(onlyOpenai.buckets.flatMap((x) => x.rows.map((r) => r.group.provider))).toEqual(["openai", "openai", "openai"]);
      const dev = (await report({ groupBy: ["workspace_id"], allowedWorkspaces: [f.ws[1]] }))!;
      expect(new Set(dev.buckets.flatMap((x) => x.rows.map((r) => r.group.workspace_id)))).toEqual(new Set([f.ws[1]]));
      const none = (await report({ allowedWorkspaces: [f.ws[1]], filters: { workspace_id: [f.ws[0]] } }))!;
      expect(none.buckets.every((x) => x.rows.length === 0)).toBe(true);

      const p1 = (await report({ width: "1h", end: T0 + DAY_MS, limit: 3 }))!;
      expect(p1.buckets.map((x) => x.rows[0]?.requests ?? 0)).toEqual([2, 2, 2]);
      expect(p1.hasMore).toBe(true);
      const p2 = (await report({ width: "1h", end: T0 + DAY_MS, limit: 3, page: p1.nextPage! }))!;
      expect(p2.buckets[0]!.start).toBe(T0 + 3 * HOUR_MS);
      expect(p2.buckets.map((x) => x.rows[0]?.requests ?? 0)).toEqual([2, 0, 0]);
      expect(await report({ page: "bogus" })).toBeNull();
    });

    it("minute buckets read raw events", async () => {
      const rep = (await report({ width: "1m", start: T0, end: T0 + 5 * 60_000 }))!;
      expect(rep.buckets.map((x) => x.rows[0]?.requests ?? 0)).toEqual([2, 0, 0, 0, 0]);
    });

    it("rolls up exactly once, and day and hour reports read roll-ups once raw events are purged", async () => {
      const before = presentUsageReport((await report({ groupBy: ["api_key_id", "workspace_id", "model", "provider"] }))!);
      const beforeHours = presentUsageReport((await report({ width: "1h", end: T0 + DAY_MS, limit: 24, groupBy: ["model"] }))!);
      const job = new UsageRollupJob({ store: f.store, clock, retentionDays: 1, batchSize: 7 });
      await Promise.all([job.runOnce(), job.runOnce()]);
      expect(await job.runOnce()).toBe(0);
      // A replayed batch inserts nothing, so it is not counted again either.
      const replay = usageEvent(f, { at: T0 + 1000 });
      expect(await f.store.usage.insertMany([replay])).toBe(1);
      expect(await job.runOnce()).toBe(1);
      expect(await f.store.usage.insertMany([replay])).toBe(0);
      expect(await job.runOnce()).toBe(0);
      const removed = await job.purge();
      expect(removed).toBe(25);
      expect(await f.store.usage.count()).toBe(0);
      const after = presentUsageReport((await report({ groupBy: ["api_key_id", "workspace_id", "model", "provider"] }))!);
      const withReplay = structuredClone(before);
      const first = withReplay.data[0]!.results.find((r) => r.api_key_id === "key_a")!;
      first.requests += 1; first.uncached_input_tokens += 100; first.output_tokens += 50; first.cache_creation_input_tokens += 10;
      first.cache_read_input_tokens += 5; first.cost_nano_usd += 1000; first.cost_usd = "0.000005000";
      expect(after).toEqual(withReplay);
      const afterHours = presentUsageReport((await report({ width: "1h", end: T0 + DAY_MS, limit: 24, groupBy: ["model"] }))!);
      expect(afterHours.data.slice(1)).toEqual(beforeHours.data.slice(1));
    });

    it("never purges events that are not rolled up", async () => {
      await f.store.usage.insertMany([usageEvent(f, { at: T0 })]);
      expect(await f.store.rollups.purgeRolled(T0 + 100 * DAY_MS, 100)).toBe(0);
      expect(await f.store.usage.count()).toBe(1);
    });
  });
}
