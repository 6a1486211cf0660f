import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_KEY_PREFIXES, KeyService, KeyVerifier } from "../keys/index.js";
import { ManualClock, newId } from "../lib/index.js";
import { createLimits, type ExpiredReservation } from "../limits/index.js";
import { createStore, migrate, openDatabase, type ApiKey, type Database, type Store, type UsageEvent, type Workspace } from "../store/index.js";
import type { AdmissionRequest } from "./admission.js";
import { LimitsAdmission } from "./limits-admission.js";
import { UsageRecorder } from "./recorder.js";

describe("limits on the admission seam", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-admission-"));
  const clock = new ManualClock(Date.UTC(2026, 5, 10, 12));
  let database: Database;
  let store: Store;
  let key: ApiKey;
  let workspace: Workspace;
  const orgId = newId("org");

  beforeAll(async () => {
    database = openDatabase({ url: join(dir, "db.sqlite") });
    await migrate(database);
    store = createStore(database, { masterKey: randomBytes(32) });
    await store.orgs.insertOrganization({ id: orgId, name: "o", rateLimits: null, spendLimit: null, settings: {}, createdAt: clock.now() });
    workspace = { id: newId("wrk"), orgId, name: "w", isDefault: true, allowedModels: null, rateLimits: null, spendLimit: null, archivedAt: null, createdAt: clock.now() };
    await store.orgs.insertWorkspace(workspace);
    const verifier = new KeyVerifier({ store, clock, prefixes: DEFAULT_KEY_PREFIXES });
    const keys = new KeyService(store, clock, DEFAULT_KEY_PREFIXES, verifier);
    key = (await keys.issue({ name: "k", workspaceId: workspace.id, kind: "live", spendLimit: { amountNano: 1_000_000_000, period: "day" } }, { id: "t", orgId, requestId: null, clientIp: null })).key;
  });
  afterAll(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const request = (costBoundNano: number): AdmissionRequest => ({
    requestId: newId("req", clock.now()), at: clock.now(), key, workspace, orgId, provider: "simulator", model: "sim-small", op: "messages",
    dialect: "anthropic", inputTokenBound: 10, outputTokenBound: 10, costBoundNano,
  });

  it("charges a reservation whose request never settled in full, once, and records it as usage", async () => {
    const expired: ExpiredReservation[] = [];
    const limits = createLimits({ clock, reservationLeaseMs: 1000, sweepIntervalMs: 0 });
    const admission = new LimitsAdmission(limits, store, () => clock.now());
    const lost = request(300_000_000);
    const decision = await admission.admit(lost);
    expect(decision.allowed).toBe(true);
    clock.advance(2000);
    expired.push(...(await limits.budgets.sweep()));
    expect(expired.map((x) => x.requestId)).toEqual([lost.requestId]);
    await admission.recordExpiredLeases(expired);
    await admission.recordExpiredLeases(expired);
    const [event] = await store.usage.listForKey(key.id);
    expect(event).toMatchObject({ id: lost.requestId, costNano: 300_000_000, errorCode: "lease_expired", workspaceId: workspace.id, orgId });
    expect(await store.usage.count()).toBe(1);

    // The late settle of the dead request changes nothing; the counter and the records agree.
    if (decision.allowed) await admission.settle(lost, decision.ticket, { inputTokens: 1, outputTokens: 1, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 5, status: 200, aborted: false });
    const snap = await limits.budgets.snapshot(`key:${key.id}`, "day");
    expect(snap).toMatchObject({ spentNano: 300_000_000, openNano: 0 });

    // A fresh counter (a restart) is seeded from the records: the expired charge still counts.
    const fresh = createLimits({ clock, sweepIntervalMs: 0 });
    const again = new LimitsAdmission(fresh, store, () => clock.now());
    expect((await again.admit(request(700_000_000))).allowed).toBe(true);
    expect((await again.admit(request(1))).allowed).toBe(false);
    limits.close();
    fresh.close();
  });
  it("sends lease-expiry charges through the usage recorder: a failed insert spools them, and the written batch reaches alerts", async () => {
    const limits = createLimits({ clock, reservationLeaseMs: 1000, sweepIntervalMs: 0 });
    const admission = new LimitsAdmission(limits, store, () => clock.now());
    const spoolFile = join(dir, "spool.jsonl");
    // The database refuses the write: a store over a closed database.
    const gone = openDatabase({ url: join(dir, "gone.sqlite") });
    await migrate(gone);
    await gone.close();
    const failing = new UsageRecorder(createStore(gone), pino({ level: "silent" }), { spoolFile, intervalMs: 60_000 });
    admission.recordThrough((events) => events.forEach((e) => failing.record(e)));
    const lost = request(200_000_000);
    expect((await admission.admit(lost)).allowed).toBe(true);
    clock.advance(2000);
    await admission.recordExpiredLeases(await limits.budgets.sweep());
    await failing.flush();
    failing.stop();
    expect(readFileSync(spoolFile, "utf8")).toContain(lost.requestId);
    // The database answers again: the spool is written, and the batch is handed on (alerts, metrics).
    const written: UsageEvent[] = [];
    const recovering = new UsageRecorder(store, pino({ level: "silent" }), { spoolFile, intervalMs: 60_000, onWritten: (b) => written.push(...b) });
    await recovering.flush();
    recovering.stop();
    expect(written.map((e) => [e.id, e.errorCode, e.costNano])).toEqual([[lost.requestId, "lease_expired", 200_000_000]]);
    expect((await store.usage.listForKey(key.id)).some((e) => e.id === lost.requestId)).toBe(true);
    limits.close();
  });
});
