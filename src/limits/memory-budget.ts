import type { Clock } from "../lib/index.js";
import { LinkedList, systemClock } from "../lib/index.js";
import {
  DEFAULT_RESERVATION_LEASE_MS, counterExpiresAt, loadOptions,
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
  /** Balance counters: the ledger entries the loaded balance includes. */
  seq: number;
}

/**
 * Marks a reservation settled here, for idempotency: nothing replays settles into this counter
 * from elsewhere, so the reservation object is the identity. A mark on the object, not a map of
 * request ids: a settled request leaves nothing behind once its caller lets go of the reservation.
 * (Remembering ids for ten minutes cost about 340 bytes a request: 600 MB at 3,000 requests a
 * second; a WeakSet cost a weak-table entry per request for the collector to walk.)
 */
const SETTLED = Symbol("latchkey.settled");
/** An open reservation's entry in its counter's list of open reservations (unset once settled or expired). */
const ENTRY = Symbol("latchkey.entry");
type Marked = BudgetReservation & { [SETTLED]?: boolean; [ENTRY]?: OpenEntry | null; owner?: string | undefined };

/**
 * An open reservation in the list the lease rule walks, in the order reserved; its settle unlinks
 * it through the reservation (a map keyed by request id did this before: see LinkedList for why not).
 */
class OpenEntry {
  prev: OpenEntry | null = null;
  next: OpenEntry | null = null;
  /** The counter it is open in; null once settled or expired (a copy of the reservation still points here). */
  constructor(readonly r: Marked, public counter: MemoryBudgetCounter | null) {}
}

export interface MemoryBudgetOptions {
  clock?: Clock;
  defaultLeaseMs?: number;
}

/** The one-node budget counter; same contract as the Redis one (see budget.ts for the rules). */
export class MemoryBudgetCounter implements BudgetCounter {
  private readonly counters = new Map<string, Counter>();
  /** Open reservations only: what the lease rule has to look at. */
  private readonly open = new LinkedList<OpenEntry>();
  /** Request ids of reservations the lease rule expired (rare), remembered for a lease, forgotten in FIFO order. */
  private readonly expiredIds = new Set<string>();
  private forgetIds: string[] = [];
  private forgetAts: number[] = [];
  private forgetHead = 0;
  private countersCheckedAt = 0;
  private readonly expired: ExpiredReservation[] = [];
  private readonly clock: Clock;
  private readonly defaultLeaseMs: number;
  private nextExpiry = Infinity;
  /** Scratch: the counters of the reservation being made (found once, used twice). */
  private found: Counter[] = [];

  constructor(options: MemoryBudgetOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS;
  }

  reserve(input: ReserveInput): Promise<ReserveResult> {
    return Promise.resolve(this.reserveNow(input, this.clock.now()));
  }

  reserveSync(input: ReserveInput): ReserveResult {
    return this.reserveNow(input, this.clock.now());
  }

  private reserveNow(input: ReserveInput, now: number): ReserveResult {
    if (now >= this.nextExpiry) this.expireDue(now);
    const subjects = input.subjects;
    const amount = input.amountNano;
    const periodKeys: string[] = new Array<string>(subjects.length);
    let missing: { id: string; period: CounterPeriod }[] | null = null;
    const found = this.found;
    found.length = 0;
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const key = periodRange(s.period, now).key;
      periodKeys[i] = key;
      const c = this.counters.get(counterKey(s.id, key));
      if (!c) (missing ??= []).push({ id: s.id, period: s.period });
      else found.push(c);
    }
    if (missing) return { outcome: "needs_load", subjects: missing };
    for (let i = 0; i < subjects.length; i++) {
      const s = subjects[i]!;
      const c = found[i]!;
      const limit = s.period === "balance" ? c.limit : s.limitNano;
      if (c.spent + c.open + amount > limit) {
        return { outcome: "refused", subject: s.id, period: s.period, limitNano: limit, spentNano: c.spent, openNano: c.open };
      }
    }
    for (let i = 0; i < subjects.length; i++) found[i]!.open += amount;
    const expiresAt = now + (input.leaseMs ?? this.defaultLeaseMs);
    const reservation: Marked = {
      requestId: input.requestId, amountNano: amount, subjects, periodKeys,
      reservedAt: now, expiresAt, tag: input.tag ?? DEFAULT_TAG, local: false, [SETTLED]: false, [ENTRY]: null, owner: input.owner,
    };
    this.link(reservation);
    this.expiredIds.delete(input.requestId);
    if (expiresAt < this.nextExpiry) this.nextExpiry = expiresAt;
    return { outcome: "admitted", reservation };
  }

  settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    return Promise.resolve(this.settleSync(reservation, actualNano));
  }

  settleSync(reservation: BudgetReservation, actualNano: number): SettleOutcome {
    return this.settleNow(reservation, Math.max(0, Math.round(actualNano)));
  }

  release(reservation: BudgetReservation): Promise<SettleOutcome> {
    return this.settle(reservation, 0);
  }

  private settleNow(r: Marked, actual: number): SettleOutcome {
    if (r[SETTLED] === true) return "already_settled";
    if (this.expiredIds.has(r.requestId)) return "lease_expired";
    // A reservation this counter did not make (or holds no more) is not open here.
    const entry = r[ENTRY];
    const known = entry?.counter === this;
    const open = known ? entry.r.amountNano : 0;
    for (let i = 0; i < r.subjects.length; i++) {
      const c = this.counters.get(counterKey(r.subjects[i]!.id, r.periodKeys[i]!));
      if (!c) continue;
      c.open -= open;
      c.spent += actual;
    }
    if (known) this.unlink(entry);
    r[SETTLED] = true;
    return known ? "settled" : "unknown_reservation";
  }

  private link(r: Marked): void {
    const e = new OpenEntry(r, this);
    r[ENTRY] = e;
    this.open.append(e);
  }

  private unlink(e: OpenEntry): void {
    this.open.remove(e);
    e.counter = null;
    e.r[ENTRY] = null;
  }

  private rememberExpired(id: string, forgetAt: number): void {
    this.expiredIds.add(id);
    this.forgetIds.push(id);
    this.forgetAts.push(forgetAt);
  }

  load(subject: string, period: CounterPeriod, spentNano: number, options?: LoadOptions | string): Promise<boolean> {
    return Promise.resolve(this.loadNow(subject, period, spentNano, null, loadOptions(options).replace ?? false));
  }

  loadBalance(subject: string, balanceNano: number, options?: LoadOptions | string): Promise<boolean> {
    const o = loadOptions(options);
    return Promise.resolve(this.loadNow(subject, "balance", 0, balanceNano, o.replace ?? false, o.seq ?? 0));
  }

  private loadNow(subject: string, period: CounterPeriod, spent: number, limit: number | null, replace: boolean, seq = 0): boolean {
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
      c.seq = seq;
      if (limit !== null) c.limit = limit;
    } else {
      this.counters.set(key, { spent, open: 0, limit: limit ?? 0, loadedAt: now, expiresAt, seq });
    }
    return true;
  }

  topUp(subject: string, amountNano: number, _tag?: string, seq?: number): Promise<boolean> {
    const c = this.counters.get(counterKey(subject, "b"));
    if (!c || (seq !== undefined && seq <= c.seq)) return Promise.resolve(false);
    c.limit += amountNano;
    return Promise.resolve(true);
  }

  snapshot(subject: string, period: CounterPeriod): Promise<CounterSnapshot | null> {
    const c = this.counters.get(counterKey(subject, periodRange(period, this.clock.now()).key));
    return Promise.resolve(
      c ? { spentNano: c.spent, openNano: c.open, limitNano: period === "balance" ? c.limit : null, loadedAt: c.loadedAt } : null,
    );
  }

  /** Requests this counter keeps any state for: open reservations and recently expired ones. */
  get trackedRequests(): number {
    return this.open.size + this.expiredIds.size;
  }

  sweep(): Promise<ExpiredReservation[]> {
    const now = this.clock.now();
    if (now >= this.nextExpiry) this.expireDue(now);
    this.forget(now);
    if (now - this.countersCheckedAt >= 60_000) {
      this.countersCheckedAt = now;
      for (const [key, c] of this.counters) if (c.expiresAt <= now) this.counters.delete(key);
    }
    return Promise.resolve(this.expired.splice(0, this.expired.length));
  }

  /** Drop expired reservations whose memory ran out; the queue is (nearly) in time order. */
  private forget(now: number): void {
    while (this.forgetHead < this.forgetIds.length && this.forgetAts[this.forgetHead]! <= now) {
      this.expiredIds.delete(this.forgetIds[this.forgetHead]!);
      this.forgetHead++;
    }
    if (this.forgetHead > 1024 && this.forgetHead * 2 > this.forgetIds.length) {
      this.forgetIds = this.forgetIds.slice(this.forgetHead);
      this.forgetAts = this.forgetAts.slice(this.forgetHead);
      this.forgetHead = 0;
    }
  }

  /** Apply the lease rule to every open reservation whose lease has ended. */
  private expireDue(now: number): void {
    let next = Infinity;
    for (let e = this.open.first, after: OpenEntry | null; e; e = after) {
      after = e.next;
      const r = e.r;
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
      this.unlink(e);
      this.rememberExpired(r.requestId, now + this.defaultLeaseMs);
      this.expired.push({
        requestId: r.requestId, amountNano: r.amountNano,
        subjects: r.subjects.map((s, i) => ({ id: s.id, periodKey: r.periodKeys[i]! })),
        reservedAt: r.reservedAt, expiresAt: r.expiresAt, expiredAt: now, ...(r.owner ? { owner: r.owner } : {}),
      });
    }
    this.nextExpiry = next;
  }
}

function counterKey(subject: string, periodKey: string): string {
  return `${subject}\n${periodKey}`;
}
