import type { Redis } from "ioredis";
import type { Clock } from "../lib/index.js";
import { systemClock } from "../lib/index.js";
import {
  DEFAULT_RESERVATION_LEASE_MS, SETTLED_MEMORY_MS, counterExpiresAt, loadOptions,
  type BudgetCounter, type BudgetReservation, type CounterSnapshot, type ExpiredReservation, type LeaseCheck, type LoadOptions,
  type ReserveInput, type ReserveResult, type SettleOutcome,
} from "./budget.js";
import { periodRange, type CounterPeriod } from "./periods.js";
import { DEFAULT_TAG } from "./rate.js";
import { keyBase, withLimitsCommands, type LimitsCommands } from "./redis-commands.js";

export interface RedisBudgetOptions {
  redis: Redis;
  prefix: string;
  /** Time comes from here, not from Redis TIME, so that tests control it; nodes keep NTP time. */
  clock?: Clock;
  defaultLeaseMs?: number;
  /**
   * Honour the callers' `tag` (one hash tag per organization), for Redis Cluster. Off by default:
   * one Redis needs no slots, and every tag is one more lease index for the sweeper to visit.
   */
  clusterTags?: boolean;
}

const SETTLE_OUTCOMES: readonly SettleOutcome[] = ["settled", "already_settled", "lease_expired", "unknown_reservation"];
const SWEEP_BATCH = 500;
const TAG_DISCOVERY_MS = 5 * 60_000;
const SWEEP_TAGS_PER_CALL = 50;

/** The several-node budget counter: one Lua script per reserve and one per settle (rules in budget.ts). */
export class RedisBudgetCounter implements BudgetCounter {
  private readonly redis: Redis & LimitsCommands;
  private readonly prefix: string;
  private readonly clock: Clock;
  private readonly defaultLeaseMs: number;
  /**
   * How long a reservation is remembered past its lease (open, settled or expired), so that
   * `neverReserved` can tell a lease whose request never reserved from one whose reservation ended.
   */
  private readonly keepMs: number;
  /** Tags this process has used; `sweep()` covers them (and reserve sweeps its own tag lazily). */
  private readonly tags = new Set<string>([DEFAULT_TAG]);
  private readonly clusterTags: boolean;
  private sweepOrder: string[] = [];
  private sweepCursor = 0;
  private discoverAt = 0;

  constructor(options: RedisBudgetOptions) {
    this.redis = withLimitsCommands(options.redis);
    this.prefix = options.prefix;
    this.clock = options.clock ?? systemClock;
    this.defaultLeaseMs = options.defaultLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS;
    this.keepMs = Math.max(this.defaultLeaseMs, SETTLED_MEMORY_MS);
    this.clusterTags = options.clusterTags ?? false;
  }

  private tagOf(tag: string | undefined): string {
    if (!this.clusterTags || tag === undefined) return DEFAULT_TAG;
    if (!this.tags.has(tag)) this.tags.add(tag);
    return tag;
  }

  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const now = this.clock.now();
    const tag = this.tagOf(input.tag);
    const base = keyBase(this.prefix, tag);
    const subjects = input.subjects;
    const n = subjects.length;
    const amount = Math.max(0, Math.round(input.amountNano));
    const expiresAt = now + (input.leaseMs ?? this.defaultLeaseMs);
    const periodKeys: string[] = new Array<string>(n);
    const keys: string[] = [`${base}leases`, `${base}expired`, `${base}res:${input.requestId}`];
    const args: (string | number)[] = [now, amount, expiresAt, input.requestId, n, base, this.keepMs];
    for (let i = 0; i < n; i++) {
      const s = subjects[i]!;
      const range = periodRange(s.period, now);
      periodKeys[i] = range.key;
      keys.push(`${base}b:${s.id}:${range.key}`);
      args.push(s.period === "balance" ? 0 : s.limitNano, s.period === "balance" ? 1 : 0, counterExpiresAt(range.end, now) - now);
    }
    args.push(input.owner ?? "");
    const raw = (await this.redis.lkBudgetReserve(keys.length, ...keys, ...args)) as number[];
    if (raw[0] === 1) {
      return {
        outcome: "admitted",
        reservation: { requestId: input.requestId, amountNano: amount, subjects, periodKeys, reservedAt: now, expiresAt, tag, local: false },
      };
    }
    if (raw[0] === 2) {
      return { outcome: "needs_load", subjects: raw.slice(1).map((i) => ({ id: subjects[i]!.id, period: subjects[i]!.period })) };
    }
    const s = subjects[raw[1]!]!;
    return { outcome: "refused", subject: s.id, period: s.period, limitNano: raw[2]!, spentNano: raw[3]!, openNano: raw[4]! };
  }

  async settle(r: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    const base = keyBase(this.prefix, this.tagOf(r.tag));
    const n = r.subjects.length;
    const keys: string[] = [`${base}leases`, `${base}res:${r.requestId}`];
    for (let i = 0; i < n; i++) keys.push(`${base}b:${r.subjects[i]!.id}:${r.periodKeys[i]!}`);
    const code = (await this.redis.lkBudgetSettle(keys.length, ...keys, Math.max(0, Math.round(actualNano)), n, r.requestId, SETTLED_MEMORY_MS, r.unreserved ? 1 : 0)) as number;
    return SETTLE_OUTCOMES[code] ?? "settled";
  }

  release(r: BudgetReservation): Promise<SettleOutcome> {
    return this.settle(r, 0);
  }

  load(subject: string, period: CounterPeriod, spentNano: number, options?: LoadOptions | string): Promise<boolean> {
    return this.loadCounter(subject, period, spentNano, "", loadOptions(options));
  }

  loadBalance(subject: string, balanceNano: number, options?: LoadOptions | string): Promise<boolean> {
    return this.loadCounter(subject, "balance", 0, String(Math.round(balanceNano)), loadOptions(options));
  }

  private async loadCounter(subject: string, period: CounterPeriod, spent: number, balance: string, options: LoadOptions): Promise<boolean> {
    const now = this.clock.now();
    const range = periodRange(period, now);
    const base = keyBase(this.prefix, this.tagOf(options.tag));
    const ttl = counterExpiresAt(range.end, now) - now;
    const leases: (string | number)[] = [];
    for (const l of options.leases ?? []) leases.push(l.requestId, Math.round(l.amountNano), l.expiresAt, l.reservedAt, l.owner ?? "");
    const loaded = await this.redis.lkBudgetLoad(
      2, `${base}b:${subject}:${range.key}`, `${base}leases`,
      Math.round(spent), now, ttl, balance, options.replace ? 1 : 0, options.seq ?? "", base, this.keepMs, ...leases,
    );
    return loaded === 1;
  }

  async topUp(subject: string, amountNano: number, tag?: string, seq?: number): Promise<boolean> {
    const key = `${keyBase(this.prefix, this.tagOf(tag))}b:${subject}:b`;
    return (await this.redis.lkBudgetTopUp(1, key, Math.round(amountNano), seq ?? "")) === 1;
  }

  async snapshot(subject: string, period: CounterPeriod, tag?: string): Promise<CounterSnapshot | null> {
    const key = `${keyBase(this.prefix, this.tagOf(tag))}b:${subject}:${periodRange(period, this.clock.now()).key}`;
    const [spent, open, limit, ep] = await this.redis.hmget(key, "spent", "open", "limit", "ep");
    if (ep == null) return null;
    return { spentNano: Number(spent ?? 0), openNano: Number(open ?? 0), limitNano: period === "balance" ? Number(limit ?? 0) : null, loadedAt: Number(ep) };
  }

  /** Sweeps the given tags, or up to SWEEP_TAGS_PER_CALL of the known ones in turn. */
  async sweep(tags?: readonly string[]): Promise<ExpiredReservation[]> {
    const now = this.clock.now();
    if (!tags && this.clusterTags && Date.now() >= this.discoverAt) await this.discoverTags();
    const out: ExpiredReservation[] = [];
    for (const tag of tags ?? this.nextTags()) {
      const base = keyBase(this.prefix, tag);
      for (;;) {
        const raw = (await this.redis.lkBudgetSweep(2, `${base}leases`, `${base}expired`, now, base, this.keepMs, SWEEP_BATCH)) as string[];
        for (const json of raw) out.push(parseExpired(json, base, tag));
        if (raw.length < SWEEP_BATCH) break;
      }
    }
    return out;
  }

  async correct(x: ExpiredReservation, actualNano: number): Promise<void> {
    const delta = Math.round(actualNano) - x.amountNano;
    if (delta === 0) return;
    const base = keyBase(this.prefix, x.tag ?? DEFAULT_TAG);
    const keys = [`${base}res:${x.requestId}`, ...x.subjects.map((s) => `${base}b:${s.id}:${s.periodKey}`)];
    await this.redis.lkBudgetCorrect(keys.length, ...keys, delta);
  }

  async neverReserved(leases: readonly LeaseCheck[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const l of leases) {
      const base = keyBase(this.prefix, this.tagOf(l.tag));
      const keys = [`${base}res:${l.requestId}`, ...l.counters.map((c) => `${base}b:${c.id}:${c.periodKey}`)];
      if ((await this.redis.lkBudgetNeverReserved(keys.length, ...keys)) === 1) out.add(l.requestId);
    }
    return out;
  }

  private nextTags(): string[] {
    if (this.tags.size <= SWEEP_TAGS_PER_CALL) return [...this.tags];
    if (this.sweepCursor >= this.sweepOrder.length) { this.sweepOrder = [...this.tags]; this.sweepCursor = 0; }
    const batch = this.sweepOrder.slice(this.sweepCursor, this.sweepCursor + SWEEP_TAGS_PER_CALL);
    this.sweepCursor += SWEEP_TAGS_PER_CALL;
    return batch;
  }

  /**
   * Learn the tags other nodes used, so that a dead node's reservations are swept even when this
   * node never served their tenant. A SCAN of the keyspace, hence only every few minutes.
   */
  private async discoverTags(): Promise<void> {
    this.discoverAt = Date.now() + TAG_DISCOVERY_MS;
    const pattern = `${this.prefix}{*}:leases`;
    let cursor = "0";
    do {
      const [next, keys] = await this.redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      for (const key of keys) this.tags.add(key.slice(this.prefix.length + 1, key.length - "}:leases".length));
    } while (cursor !== "0");
  }
}

interface ExpiredJson {
  id: string;
  amt: string;
  k: string;
  at: string;
  exp: string;
  now: string;
  o?: string;
}

function parseExpired(json: string, base: string, tag: string): ExpiredReservation {
  const e = JSON.parse(json) as ExpiredJson;
  const prefix = `${base}b:`;
  return {
    requestId: e.id,
    amountNano: Number(e.amt),
    // A counter key is <base>b:<subject>:<periodKey>; subjects may hold ':', period keys never do.
    subjects: e.k.split("\n").map((key) => {
      const cut = key.lastIndexOf(":");
      return { id: key.slice(prefix.length, cut), periodKey: key.slice(cut + 1) };
    }),
    reservedAt: Number(e.at),
    expiresAt: Number(e.exp),
    expiredAt: Number(e.now),
    ...(e.o ? { owner: e.o } : {}),
    ...(tag !== DEFAULT_TAG ? { tag } : {}),
  };
}
