import type { Logger } from "pino";
import type { BudgetLeaseRow, LeaseColumn, NeverReserved, Store, UsageEvent } from "../store/index.js";
import type { BudgetCounter, OpenLease } from "../limits/index.js";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

/** How long a request waits for its lease to be written before it goes on without one (the database is down). */
const WRITE_TIMEOUT_MS = 1_000;
/** Expired leases charged per transaction. */
const EXPIRE_BATCH = 500;
/**
 * A node not seen for this long is dead, and its expired leases are charged. A live node's own
 * leases never are: its requests are recorded by itself, or charged by the Redis lease rule, even
 * when their records wait in its spool through a database outage.
 */
const HOLDER_DEAD_MS = 15_000;

/**
 * Durable budget leases on several nodes (limits/budget.ts, LOST STATE): the reservation journal
 * in the database. A lease is written before a request's reservation, so before it leaves for the
 * upstream; the write of its usage record deletes it. Leases of requests that never finish (their
 * node was killed and never came back) are charged by the lease rule, by any node's `sweep`,
 * even when Redis forgot their reservations, once their node has given no sign of life for
 * HOLDER_DEAD_MS (each node's sweep is its heartbeat). Writes are grouped: requests arriving while a write
 * is under way go together in the next one, so a burst costs one round trip per write, not per request.
 * If the database does not take a lease in time, the request goes on without one (the usage
 * spool keeps serving through an outage) and the failure is logged once.
 */
export class DurableLeases {
  private queue: { row: BudgetLeaseRow; done: () => void }[] = [];
  private writing = false;
  private failing = false;
  /** Since when this node's heartbeats have been written without a gap. */
  private aliveSince: number | null = null;
  /** This process's name on its leases. */
  readonly holder = `node_${randomUUID()}`;

  /** Which leases' requests the counters vouch never reserved (none until `checkWith`). */
  private neverReserved: NeverReserved = () => Promise.resolve(new Set());

  constructor(private readonly store: Store, private readonly logger: Logger, private readonly timeoutMs = WRITE_TIMEOUT_MS, private readonly deadMs = HOLDER_DEAD_MS) {
    store.usage.clearLeasesOnWrite();
  }

  /**
   * Check a dead process's leases against the budget counters before charging them: a lease is
   * written before its reservation is tried, so a process killed in between (or before it read a
   * refusal) leaves one whose request never left. Charged by the lease rule, it would count a
   * request that cost nothing, past the very limit that refused it (limits/budget.ts, LOST STATE).
   */
  checkWith(budgets: Pick<BudgetCounter, "neverReserved">): void {
    const check = budgets.neverReserved?.bind(budgets);
    if (!check) return;
    this.neverReserved = (rows) => check(rows.map((r) => ({
      requestId: r.id, tag: r.org_id, counters: (JSON.parse(r.counters) as [string, string][]).map(([id, periodKey]) => ({ id, periodKey })),
    })));
  }

  /**
   * At start, after the usage journal is recovered: this process's name goes in `file` (in the data
   * directory), and the leases the previous process named there left whose requests never
   * reserved are dropped at once, rather than once it has been silent for HOLDER_DEAD_MS: a Redis
   * losing its state meanwhile would make their reservations again from them, and charge them.
   * Answers how many; a failure is logged, and the sweep does the same later.
   */
  async takeOver(file: string): Promise<number> {
    const previous = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
    writeFileSync(file, `${this.holder}\n`);
    if (!previous) return 0;
    try {
      const dropped = await this.store.leases.dropUnreserved(previous, this.neverReserved);
      if (dropped) this.logger.warn({ dropped }, "leases the previous run left for requests that never reserved were dropped uncharged");
      return dropped;
    } catch (err) {
      this.logger.warn({ err }, "the previous run's leases cannot be checked now; the lease sweep will");
      return 0;
    }
  }

  /** Resolves once the lease is written, or could not be (never rejects). */
  write(row: BudgetLeaseRow): Promise<void> {
    return new Promise((done) => {
      this.queue.push({ row, done });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      await this.insert(batch.map((b) => b.row));
      for (const b of batch) b.done();
    }
    this.writing = false;
  }

  private async insert(rows: BudgetLeaseRow[]): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.leases.insertMany(rows),
        new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`no answer in ${this.timeoutMs} ms`)), this.timeoutMs); }),
      ]);
      if (this.failing) this.logger.info("durable budget leases are written again");
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn({ err: (err as Error).message }, "durable budget leases cannot be written: requests go on, but a node lost now leaves them to Redis alone");
      this.failing = true;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The open leases that hold `subject`'s counter for period `periodKey` (in the caller's snapshot). */
  async open(subject: string, periodKey: string): Promise<OpenLease[]> {
    const [kind, id] = splitSubject(subject);
    const column: LeaseColumn = kind === "key" ? "key_id" : kind === "wrk" ? "workspace_id" : "org_id";
    const rows = await this.store.leases.openFor(column, id);
    const out: OpenLease[] = [];
    for (const r of rows) {
      const counters = JSON.parse(r.counters) as [string, string][];
      if (!counters.some(([s, p]) => s === subject && p === periodKey)) continue;
      out.push({ requestId: r.id, amountNano: Number(r.amount_nano), reservedAt: Number(r.reserved_at), expiresAt: Number(r.expires_at), owner: r.owner });
    }
    return out;
  }

  /**
   * This node's heartbeat, then the lease rule on dead nodes' expired leases; answers the usage
   * events written. Nothing is charged until this node has itself been seen for `deadMs` without a
   * gap: after an outage of the database every node needs that long to show it is alive.
   */
  async sweep(now: number): Promise<UsageEvent[]> {
    try {
      await this.store.leases.heartbeat(this.holder, now);
    } catch (err) {
      this.aliveSince = null;
      throw err;
    }
    this.aliveSince ??= now;
    if (now - this.aliveSince < this.deadMs) return [];
    const out: UsageEvent[] = [];
    for (;;) {
      const written = await this.store.leases.expire(now, now - this.deadMs, EXPIRE_BATCH, (r) => leaseCharge(r, now), this.neverReserved);
      out.push(...written);
      if (written.length < EXPIRE_BATCH) return out;
    }
  }
}

function splitSubject(subject: string): [string, string] {
  const cut = subject.indexOf(":");
  return [subject.slice(0, cut), subject.slice(cut + 1)];
}

/** The lease rule's usage record: the request charged its full bound, under its own id. */
function leaseCharge(r: BudgetLeaseRow, now: number): UsageEvent {
  return {
    id: r.id, at: Number(r.reserved_at), orgId: r.org_id, workspaceId: r.workspace_id, keyId: r.key_id, provider: r.provider, model: r.model,
    endpoint: r.endpoint, inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: Number(r.amount_nano), status: 0,
    errorCode: "lease_expired", streamed: false, aborted: true, latencyMs: now - Number(r.reserved_at), ttfbMs: null,
  };
}
