import type { Clock } from "../lib/index.js";
import { systemClock } from "../lib/index.js";
import {
  DEFAULT_RESERVATION_LEASE_MS, SETTLED_MEMORY_MS, counterExpiresAt, loadOptions,
  type BudgetCounter, type BudgetReservation, type CounterSnapshot, type ExpiredReservation, type LoadOptions,
  type ReserveInput, type ReserveResult, type SettleOutcome,
} from "./budget.js";
import { DEFAULT_TAG } from "./rate.js";
import { periodRange, type CounterPeriod } from "./periods.js";

interface Counter {
  spent: number;
  open: number;
  limit: number;
  loadedAt: number;
  expiresAt: number;
}

const OPEN = 0, SETTLED = 1, EXPIRED = 2;

interface ReservationRecord {
  reservation: BudgetReservation;
  state: number;
  /** When a settled/expired record may be forgotten. */
  forgetAt: number;
}

export interface MemoryBudgetOptions {
  clock?: Clock;
  defaultLeaseMs?: number;
}

/** The one-node budget counter; same contract as the Redis one (see budget.ts for the rules). */
export class MemoryBudgetCounter implements BudgetCounter {
  private readonly counters = new Map<string, Counter>();
  private readonly records = new Map<string, ReservationRecord>();
  private readonly expired: ExpiredReservation[] = [];
  private readonly clock: Clock;
  private readonly defaultLeaseMs: number;
  private nextExpiry = Infinity;

  constructor(options: MemoryBudgetOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS;
  }

  reserve(input: ReserveInput): Promise<ReserveResult> {
    return Promise.resolve(this.reserveNow(input, this.clock.now()));
  }

  private reserveNow(input: ReserveInput, now: number): ReserveResult {
    if (now >= this.nextExpiry) this.expireDue(now);
    const existing = this.records.get(input.requestId);
    if (existing && existing.state === OPEN) return { outcome: "admitted", reservation: existing.reservation };
    const subjects = input.subjects;
    const amount = input.amountNano;
    const periodKeys: string[] = new Array<string>(subjects.length);
    let missing: { id: string; period: CounterPeriod }[] | null = null;
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const key = periodRange(s.period, now).key;
      periodKeys[i] = key;
      const c = this.counters.get(counterKey(s.id, key));
      if (!c) (missing ??= []).push({ id: s.id, period: s.period });
    }
    if (missing) return { outcome: "needs_load", subjects: missing };
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const c = this.counters.get(counterKey(s.id, periodKeys[i]!))!;
      const limit = s.period === "balance" ? c.limit : s.limitNano;
      if (c.spent + c.open + amount > limit) {
        return { outcome: "refused", subject: s.id, period: s.period, limitNano: limit, spentNano: c.spent, openNano: c.open };
      }
    }
    for (let i = 0; i < subjects.length; i++) this.counters.get(counterKey(subjects[i]!.id, periodKeys[i]!))!.open += amount;
    const expiresAt = now + (input.leaseMs ?? this.defaultLeaseMs);
    const reservation: BudgetReservation = {
      requestId: input.requestId, amountNano: amount, subjects, periodKeys,
      reservedAt: now, expiresAt, tag: input.tag ?? DEFAULT_TAG, local: false,
    };
    this.records.set(input.requestId, { reservation, state: OPEN, forgetAt: expiresAt });
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
    return { outcome: "admitted", reservation };
  }

  settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    return Promise.resolve(this.settleNow(reservation, Math.max(0, Math.round(actualNano)), this.clock.now()));
  }

  release(reservation: BudgetReservation): Promise<SettleOutcome> {
    return this.settle(reservation, 0);
  }

  private settleNow(r: BudgetReservation, actual: number, now: number): SettleOutcome {
    const record = this.records.get(r.requestId);
    if (record?.state === SETTLED) return "already_settled";
    if (record?.state === EXPIRED) return "lease_expired";
    const open = record ? record.reservation.amountNano : 0;
    for (let i = 0; i < r.subjects.length; i++) {
      const c = this.counters.get(counterKey(r.subjects[i]!.id, r.periodKeys[i]!));
      if (!c) continue;
      c.open -= open;
      c.spent += actual;
    }
    this.records.set(r.requestId, { reservation: r, state: SETTLED, forgetAt: now + SETTLED_MEMORY_MS });
    return record ? "settled" : "unknown_reservation";
  }

  load(subject: string, period: CounterPeriod, spentNano: number, options?: LoadOptions | string): Promise<boolean> {
    return Promise.resolve(this.loadNow(subject, period, spentNano, null, loadOptions(options).replace ?? false));
  }

  loadBalance(subject: string, balanceNano: number, options?: LoadOptions | string): Promise<boolean> {
    return Promise.resolve(this.loadNow(subject, "balance", 0, balanceNano, loadOptions(options).replace ?? false));
  }

  private loadNow(subject: string, period: CounterPeriod, spent: number, limit: number | null, replace: boolean): boolean {
    const now = this.clock.now();
    const range = periodRange(period, now);
    const key = counterKey(subject, range.key);
    const c = this.counters.get(key);
    const expiresAt = counterExpiresAt(range.end, now);
    if (c && !replace) return false;
    if (c) {
      c.spent = spent;
      c.loadedAt = now;
      c.expiresAt = expiresAt;
      if (limit !== null) c.limit = limit;
    } else {
      this.counters.set(key, { spent, open: 0, limit: limit ?? 0, loadedAt: now, expiresAt });
    }
    return true;
  }

  topUp(subject: string, amountNano: number): Promise<boolean> {
    const c = this.counters.get(counterKey(subject, "b"));
    if (c) c.limit += amountNano;
    return Promise.resolve(c !== undefined);
  }

  snapshot(subject: string, period: CounterPeriod): Promise<CounterSnapshot | null> {
    const c = this.counters.get(counterKey(subject, periodRange(period, this.clock.now()).key));
    return Promise.resolve(
      c ? { spentNano: c.spent, openNano: c.open, limitNano: period === "balance" ? c.limit : null, loadedAt: c.loadedAt } : null,
    );
  }

  sweep(): Promise<ExpiredReservation[]> {
    const now = this.clock.now();
    this.expireDue(now);
    for (const [id, rec] of this.records) if (rec.state !== OPEN && rec.forgetAt <= now) this.records.delete(id);
    for (const [key, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(key);
    return Promise.resolve(this.expired.splice(0, this.expired.length));
  }

  /** Apply the lease rule to every reservation whose lease has ended. */
  private expireDue(now: number): void {
    let next = Infinity;
    for (const rec of this.records.values()) {
      if (rec.state !== OPEN) continue;
      const r = rec.reservation;
      if (r.expiresAt > now) {
        if (r.expiresAt < next) next = r.expiresAt;
        continue;
      }
      for (let i = 0; i < r.subjects.length; i++) {
        const c = this.counters.get(counterKey(r.subjects[i]!.id, r.periodKeys[i]!));
        if (!c) continue;
        c.open -= r.amountNano;
        c.spent += r.amountNano;
      }
      rec.state = EXPIRED;
      rec.forgetAt = now + this.defaultLeaseMs;
      this.expired.push({
        requestId: r.requestId, amountNano: r.amountNano,
        subjects: r.subjects.map((s, i) => ({ id: s.id, periodKey: r.periodKeys[i]! })),
        reservedAt: r.reservedAt, expiresAt: r.expiresAt, expiredAt: now,
      });
    }
    this.nextExpiry = next;
  }
}

function counterKey(subject: string, periodKey: string): string {
  return `${subject}\n${periodKey}`;
}
