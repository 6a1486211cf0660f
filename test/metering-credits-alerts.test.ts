/**
 * Credits and alerts on every backend: the balance equals the ledger's sum after concurrent
 * top-ups and spending; a real webhook receiver gets each threshold crossing exactly once, signed,
 * even when the crossing is evaluated concurrently by two nodes, and after a 500 it is retried.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertService, WebhookDispatcher, WebhookService, verifyWebhookSignature } from "../src/alerts/index.js";
import { ManualClock, newId } from "../src/lib/index.js";
import { inTransaction } from "../src/store/index.js";
import { UsageRollupJob } from "../src/usage/index.js";
import { backends, type TestBackend } from "./support/backends.js";
import { T0, openFixture, withUsageThread, usageEvent, usd, type MeteringFixture } from "./metering-support.js";

const all = await backends();

interface Received { body: string; signature: string; event: { id: string; type: string; data: Record<string, unknown> } }

function receiver(failFirst: number): Promise<{ server: Server; url: string; got: Received[]; calls: () => number }> {
  const got: Received[] = [];
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      calls += 1;
      if (calls <= failFirst) {
        res.writeHead(500).end("boom");
        return;
      }
      const body = Buffer.concat(chunks).toString("utf8");
      got.push({ body, signature: String(req.headers["latchkey-signature"]), event: JSON.parse(body) as Received["event"] });
      res.writeHead(204).end();
    });
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, calls: () => calls })));
}

for (const { b, label, usageThread } of withUsageThread(all)) {
  describe.skipIf(!b.available)(`credits and alerts on ${label}`, () => {
    let backend: TestBackend;
    let f: MeteringFixture;
    const clock = new ManualClock(T0 + 3 * 3_600_000);
    const masterKey = randomBytes(32);

    beforeAll(async () => {
      backend = await b.create();
      f = await openFixture(backend, { usageThread });
    });
    afterAll(async () => {
      await f?.database.close();
      await backend?.cleanup();
    });

    it("keeps the balance equal to the ledger's sum under concurrent top-ups, adjustments and spending", async () => {
      await f.store.credits.updateSettings(f.orgId, { enabledAt: T0 }, T0);
      // Usage before credits were enabled is not charged.
      await f.store.usage.insertMany([usageEvent(f, { at: T0 - 1, costNano: usd(5) })]);
      const job = new UsageRollupJob({ store: f.store, clock, retentionDays: 90, batchSize: 50 });
      let spent = 0;
      let added = 0;
      const work: Promise<unknown>[] = [];
      for (let i = 0; i < 60; i++) {
        const amount = i % 10 === 9 ? -usd(1) : usd(3);
        added += amount;
        work.push(inTransaction(f.database, (trx) => f.store.credits.append({ orgId: f.orgId, id: newId("crd"), at: clock.now(), kind: amount > 0 ? "top_up" : "adjustment", amountNano: amount, actor: "key_admin", note: `n${i}` }, trx)));
        const batch = Array.from({ length: 20 }, (_, j) => usageEvent(f, { at: T0 + i * 1000 + j, costNano: 1_000_000 + i * 37 + j }));
        spent += batch.reduce((s, e) => s + e.costNano, 0);
        work.push(f.store.usage.insertMany(batch));
        if (i % 7 === 0) work.push(job.runOnce());
      }
      await Promise.all(work);
      const mid = await f.store.credits.balance(f.orgId);
      expect(mid.balanceNano).toBe(added - spent);
      await job.runOnce();
      const end = await f.store.credits.balance(f.orgId);
      expect(end.pendingNano).toBe(0);
      expect(end.balanceNano).toBe(added - spent);
      expect(await f.store.credits.ledgerSum(f.orgId)).toBe(added - spent);
      // Every entry's balance_after is the running sum in seq order, with no gap.
      const ledger = (await f.store.credits.listLedger(f.orgId, 10_000)).reverse();
      let running = 0;
      ledger.forEach((e, i) => {
        running += Number(e.amount_nano);
        expect([Number(e.seq), Number(e.balance_after_nano)]).toEqual([i + 1, running]);
      });
      expect(ledger.filter((e) => e.kind === "usage").length).toBeGreaterThan(0);
    });

    it("delivers each threshold crossing once, signed, with concurrent evaluation on two nodes, and retries after a 500", async () => {
      const hook = await receiver(1);
      try {
        const keyId = newId("key");
        await f.store.keys.insert({
          id: keyId, orgId: f.orgId, workspaceId: f.ws[1], name: "k", kind: "live", keyHash: randomBytes(32).toString("hex"), hint: "h", scopes: ["*"],
          allowedModels: null, ipAllowlist: null, allowedOrigins: null, rateLimits: null, spendLimit: { amountNano: usd(1), period: "day" }, metadata: {},
          status: "active", expiresAt: null, createdAt: 1, createdBy: null, updatedAt: 1, lastUsedAt: null, revokedAt: null, rolledFrom: null,
        });
        const webhooks = new WebhookService(f.store, clock, masterKey);
        const { secret } = await webhooks.createEndpoint(f.orgId, hook.url, ["spend_limit.threshold_crossed"], "key_admin");
        // Two nodes: separate services, no shared memory, one database.
        const nodes = [new AlertService({ store: f.store, clock, webhooks }), new AlertService({ store: f.store, clock, webhooks: new WebhookService(f.store, clock, masterKey) })];
        const spend = async (costNano: number) => {
          const e = usageEvent(f, { at: clock.now(), keyId, workspaceId: f.ws[1], costNano });
          await f.store.usage.insertMany([e]);
          await Promise.all([...nodes, ...nodes].map((n) => n.onUsageRecorded([e])));
        };
        await spend(usd(0.3));
        await spend(usd(0.25)); // 55 %: crosses 50
        await spend(usd(0.3)); // 85 %: crosses 80
        await new UsageRollupJob({ store: f.store, clock, retentionDays: 90 }).runOnce();
        await spend(usd(0.2)); // 105 %: crosses 100, half of it in roll-ups
        await spend(usd(0.2));
        const dispatcher = new WebhookDispatcher({ store: f.store, clock, webhooks, backoffMs: () => 0 });
        for (let i = 0; i < 5 && hook.got.length < 3; i++) await dispatcher.runOnce();
        expect(hook.calls()).toBe(4);
        const crossings = hook.got.map((g) => g.event.data.threshold_percent).sort((a, c) => Number(a) - Number(c));
        expect(crossings).toEqual([50, 80, 100]);
        for (const g of hook.got) {
          expect(g.event.type).toBe("spend_limit.threshold_crossed");
          expect(g.event.data).toMatchObject({ subject_type: "api_key", subject_id: keyId, period: "day" });
          expect(verifyWebhookSignature(secret, g.body, g.signature, Math.floor(clock.now() / 1000))).toBe(true);
          expect(verifyWebhookSignature("whsec_wrong", g.body, g.signature, Math.floor(clock.now() / 1000))).toBe(false);
        }
        const alerts = await f.store.alerts.list({ orgId: f.orgId, subjectId: keyId, limit: 100 });
        expect(alerts.map((a) => a.threshold).sort((a, c) => a - c)).toEqual([50, 80, 100]);
        const endpoint = (await webhooks.listEndpoints(f.orgId))[0]!;
        const log = await f.store.webhooks.listDeliveries(endpoint.id, 10);
        const retried = log.find((d) => d.attemptLog.length === 2)!;
        expect(retried.attemptLog.map((a) => a.status_code)).toEqual([500, 204]);
        expect(log.every((d) => d.status === "delivered")).toBe(true);
        // The next day is a new period: the same crossings fire again, once.
        clock.advance(86_400_000);
        await spend(usd(0.6));
        expect((await f.store.alerts.list({ orgId: f.orgId, subjectId: keyId, limit: 100 })).length).toBe(4);
      } finally {
        hook.server.close();
      }
    });

    it("fires low balance and the auto top-up request once per credit cycle", async () => {
      const webhooks = new WebhookService(f.store, clock, masterKey);
      const alerts = new AlertService({ store: f.store, clock, webhooks });
      const { balanceNano } = await f.store.credits.balance(f.orgId);
      await f.store.credits.updateSettings(f.orgId, { lowBalanceNano: balanceNano - usd(1), autoTopUp: { amountNano: usd(50), whenBelowNano: balanceNano - usd(1) } }, clock.now());
      expect(await alerts.checkCredits(f.orgId)).toBe(0);
      await f.store.usage.insertMany([usageEvent(f, { at: clock.now(), costNano: usd(2) })]);
      expect(await alerts.onUsageRecorded([{ orgId: f.orgId, workspaceId: f.ws[0], keyId: "key_a" }])).toBe(2);
      expect(await new AlertService({ store: f.store, clock, webhooks }).checkCredits(f.orgId)).toBe(0);
      await inTransaction(f.database, (trx) => f.store.credits.append({ orgId: f.orgId, id: newId("crd"), at: clock.now(), kind: "top_up", amountNano: usd(0.5), actor: "x", note: "partial" }, trx));
      // Still low after a top-up that does not lift it: a new cycle, so it fires again.
      expect(await alerts.checkCredits(f.orgId)).toBe(2);
      const types = (await f.store.alerts.list({ orgId: f.orgId, limit: 100 })).map((a) => a.type);
      expect(types.filter((t) => t === "credits.auto_top_up_requested")).toHaveLength(2);
    });
  });
}
