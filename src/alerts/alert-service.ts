import { nanoToUsd, newId, type Clock } from "../lib/index.js";
import { inTransaction, type SpendLimit, type Store } from "../store/index.js";
import { spendPeriod } from "./periods.js";
import type { WebhookEventType, WebhookService } from "./webhooks.js";

export const DEFAULT_THRESHOLDS = [50, 80, 100];

type SpendSubjectType = "key" | "workspace" | "org";
type SubjectType = SpendSubjectType | "credential";
const WIRE_SUBJECT: Record<SubjectType, string> = { key: "api_key", workspace: "workspace", org: "organization", credential: "provider_credential" };

export interface AlertServiceOptions {
  store: Store;
  clock: Clock;
  webhooks: WebhookService;
  /** How long a subject's spend limit is reused before it is read again. */
  limitCacheMs?: number;
}

/** What an alert is about; spend limits apply to keys, workspaces and organizations only. */
interface Subject { type: SubjectType; id: string; orgId: string }
interface SpendSubject extends Subject { type: SpendSubjectType }
interface CachedLimit { limit: SpendLimit | null; thresholds: number[]; at: number }

/**
 * Fires alerts: spend-limit thresholds (default 50/80/100 %, or the organization's
 * `settings.alert_thresholds`) and the credit balance. Each alert fires once per subject, period
 * and threshold: the alerts table's unique constraint picks the single writer among concurrent
 * evaluations and nodes, and the webhook event is queued in the same transaction as the alert row.
 */
export class AlertService {
  private readonly fired = new Set<string>();
  private readonly limits = new Map<string, CachedLimit>();

  constructor(private readonly o: AlertServiceOptions) {}

  /** Call after each usage batch is written: checks every key, workspace and organization it touched. */
  async onUsageRecorded(events: readonly { orgId: string; workspaceId: string; keyId: string }[]): Promise<number> {
    const subjects = new Map<string, SpendSubject>();
    const orgs = new Set<string>();
    for (const e of events) {
      subjects.set(`key:${e.keyId}`, { type: "key", id: e.keyId, orgId: e.orgId });
      subjects.set(`workspace:${e.workspaceId}`, { type: "workspace", id: e.workspaceId, orgId: e.orgId });
      subjects.set(`org:${e.orgId}`, { type: "org", id: e.orgId, orgId: e.orgId });
      orgs.add(e.orgId);
    }
    let fired = 0;
    for (const s of subjects.values()) fired += await this.checkSpend(s);
    for (const org of orgs) fired += await this.checkCredits(org);
    return fired;
  }

  /** Keys touched since the last evaluation (a key's workspace and organization come with it). */
  private pendingEvents = new Map<string, { orgId: string; workspaceId: string; keyId: string }>();
  private pendingTimer: NodeJS.Timeout | null = null;
  private evaluating: Promise<void> | null = null;

  /**
   * Notes written usage and evaluates it at most once per `intervalMs` (default 1 s) for all the
   * keys, workspaces and organizations touched meanwhile: each evaluation reads period spend from
   * the database, which is too much to do for every 100 ms usage batch under load. An alert fires
   * at most that interval after its crossing.
   */
  noteUsage(events: readonly { orgId: string; workspaceId: string; keyId: string }[], onError: (err: unknown) => void, intervalMs = 1000): void {
    for (const e of events) if (!this.pendingEvents.has(e.keyId)) this.pendingEvents.set(e.keyId, e);
    if (this.pendingTimer) return;
    this.pendingTimer = setTimeout(() => this.evaluatePending(onError), intervalMs);
    this.pendingTimer.unref();
  }

  private evaluatePending(onError: (err: unknown) => void): void {
    this.pendingTimer = null;
    const batch = [...this.pendingEvents.values()];
    this.pendingEvents.clear();
    const run: Promise<void> = this.onUsageRecorded(batch).then(() => undefined, onError).finally(() => {
      if (this.evaluating === run) this.evaluating = null;
    });
    this.evaluating = run;
  }

  /** At shutdown: evaluates what is pending at once and waits for evaluations under way. */
  async drain(onError: (err: unknown) => void): Promise<void> {
    if (this.pendingTimer) {
      clearTimeout(this.pendingTimer);
      this.evaluatePending(onError);
    }
    while (this.evaluating) await this.evaluating;
  }

  /** Forget cached limits (after a limit changes). */
  invalidate(): void {
    this.limits.clear();
  }

  private async checkSpend(s: SpendSubject): Promise<number> {
    const { limit, thresholds } = await this.limitOf(s);
    if (!limit || limit.amountNano <= 0) return 0;
    const period = spendPeriod(limit.period, this.o.clock.now());
    const pending = thresholds.filter((t) => !this.fired.has(`spend|${s.type}:${s.id}|${period.key}|${t}`));
    if (pending.length === 0) return 0;
    // Off the main thread on a SQLite file (the usage writer's thread): it sums the events not yet rolled up.
    const spend = await this.o.store.usageWriter.periodSpend(s, period.start, period.end);
    let n = 0;
    for (const t of pending) {
      // spend/limit >= t/100, in integers.
      if (spend * 100 < limit.amountNano * t) continue;
      const ok = await this.fire(s.orgId, "spend_limit.threshold_crossed", s, period.key, t, {
        subject_type: WIRE_SUBJECT[s.type], subject_id: s.id, period: limit.period, period_start: new Date(period.start).toISOString(),
        threshold_percent: t, limit_usd: nanoToUsd(limit.amountNano), limit_nano_usd: limit.amountNano, spend_usd: nanoToUsd(spend, 9), spend_nano_usd: spend,
      });
      this.fired.add(`spend|${s.type}:${s.id}|${period.key}|${t}`);
      if (ok) n += 1;
    }
    return n;
  }

  /**
   * Low balance and auto top-up: each fires once per credit cycle (until money is added again,
   * which starts a new cycle). The auto top-up only asks an external payment system to act.
   */
  async checkCredits(orgId: string): Promise<number> {
    const { account, balanceNano } = await this.o.store.credits.balance(orgId);
    if (!account || account.enabled_at === null) return 0;
    const cycle = `c${account.last_credit_seq}`;
    const subject: SpendSubject = { type: "org", id: orgId, orgId };
    const base = { organization_id: orgId, balance_usd: nanoToUsd(balanceNano, 9), balance_nano_usd: balanceNano };
    let n = 0;
    const low = account.low_balance_nano;
    if (low !== null && balanceNano < Number(low)) {
      if (await this.fire(orgId, "credits.low_balance", subject, cycle, 0, { ...base, low_balance_usd: nanoToUsd(Number(low)), low_balance_nano_usd: Number(low) })) n += 1;
    }
    const below = account.auto_top_up_below_nano;
    if (below !== null && account.auto_top_up_amount_nano !== null && balanceNano < Number(below)) {
      const amount = Number(account.auto_top_up_amount_nano);
      if (await this.fire(orgId, "credits.auto_top_up_requested", subject, cycle, 0, { ...base, amount_usd: nanoToUsd(amount), amount_nano_usd: amount, when_below_usd: nanoToUsd(Number(below)) })) n += 1;
    }
    return n;
  }

  /** A key reported leaked: one alert and one `key.leaked` webhook event per key, however often it is reported. */
  keyLeaked(orgId: string, keyId: string, data: Record<string, unknown>): Promise<boolean> {
    return this.fire(orgId, "key.leaked", { type: "key", id: keyId, orgId }, "leak", 0, { key_id: keyId, ...data });
  }

  /**
   * A provider credential found leaked (by a scan or a leak report): one alert and one
   * `credential.leaked` webhook event per credential, however often it is found. True when this
   * call fired it.
   */
  credentialLeaked(orgId: string, credentialId: string, data: Record<string, unknown>): Promise<boolean> {
    return this.fire(orgId, "credential.leaked", { type: "credential", id: credentialId, orgId }, "leak", 0, { credential_id: credentialId, ...data });
  }

  private async fire(orgId: string, type: WebhookEventType, s: Subject, periodKey: string, threshold: number, data: Record<string, unknown>): Promise<boolean> {
    const key = `${type}|${s.type}:${s.id}|${periodKey}|${threshold}`;
    if (this.fired.has(key)) return false;
    const now = this.o.clock.now();
    const inserted = await inTransaction(this.o.store.database, async (trx) => {
      const ok = await this.o.store.alerts.insertOnce({
        id: newId("alr", now), org_id: orgId, type, subject_type: WIRE_SUBJECT[s.type], subject_id: s.id, period_key: periodKey, threshold, at: now,
        data: JSON.stringify(data),
      }, trx);
      if (ok) await this.o.webhooks.emitEvent(orgId, type, data, trx);
      return ok;
    });
    if (this.fired.size > 100_000) this.fired.clear();
    this.fired.add(key);
    return inserted;
  }

  private async limitOf(s: SpendSubject): Promise<CachedLimit> {
    const k = `${s.type}:${s.id}`;
    const now = this.o.clock.now();
    const hit = this.limits.get(k);
    if (hit && now - hit.at < (this.o.limitCacheMs ?? 5000)) return hit;
    const { store } = this.o;
    const org = await store.orgs.getOrganizationById(s.orgId);
    const configured = org?.settings.alert_thresholds;
    const thresholds = Array.isArray(configured) && configured.every((t) => Number.isInteger(t) && t > 0) ? (configured as number[]) : DEFAULT_THRESHOLDS;
    const limit = s.type === "org" ? org?.spendLimit ?? null
      : s.type === "workspace" ? (await store.orgs.getWorkspace(s.id))?.spendLimit ?? null
        : (await store.keys.getById(s.id))?.spendLimit ?? null;
    const entry = { limit, thresholds, at: now };
    this.limits.set(k, entry);
    return entry;
  }
}
