/**
 * Spend limits (budgets) by reservation, and the counter under credits.
 *
 * A request reserves an upper bound of its cost on every subject that limits it (a key, a
 * workspace, the organization, the credit balance). It is admitted only when, for every subject,
 * `spent + open reservations + amount <= limit` for the subject's current period; the check and
 * the reservation are one atomic step across all subjects, so a refusal reserves nothing anywhere.
 * `settle` replaces the reservation by the actual cost in the period where it was reserved (a
 * request reserved at 23:59 on Monday and finished on Tuesday is Monday's spend); `release` does
 * the same with a cost of zero, for requests that spent nothing. Both are idempotent: the second
 * call changes nothing and answers `already_settled`.
 *
 * LEASE RULE. Every reservation has a lease (default: the `reservationLeaseSeconds` setting).
 * A reservation still open when its lease ends belongs to a request that died with its process
 * or outlived any sane duration. It is settled for the FULL reserved amount: the conservative
 * choice, because the dead request may well have consumed upstream tokens up to its bound, and a
 * limit must never be exceeded because of a crash; overcharging by at most one bound is the
 * price. Each expired reservation is reported exactly once by `sweep()` (which the factory runs
 * every second and passes to `onLeaseExpired`) so the usage layer writes a usage record with
 * status `lease_expired` and that cost: what the counter charged, the usage report shows. If the
 * request does finish later, its settle answers `lease_expired` and changes nothing: its cost is
 * already counted, and the caller must not write a second cost for it.
 *
 * LOADING. A counter that has never been loaded (a fresh process, a new period, or Redis that
 * lost its state) answers `needs_load` instead of admitting against an empty count; the caller
 * seeds it with `load(subject, period, spentNano)` = the sum of the period's usage records, and
 * retries. A load only seeds a counter that is not loaded (several nodes racing to load the same
 * counter cannot overwrite spend settled in between); `replace: true` overwrites, for deliberate
 * reconciliation. Open reservations are the backend's own and are kept across loads.
 *
 * LOST STATE (Redis restarted empty). Exact, with no timing assumed, thanks to durable leases: on
 * several nodes a request's lease is written in the database before its reservation is made, and
 * deleted in the transaction that writes its usage record. A load reads, in one snapshot, the
 * records' sum and the open leases naming the counter (`LoadOptions.leases`); every request
 * reserved before that snapshot is in exactly one of the two. The load makes the open leases'
 * reservations again, so their settles (or their lease expiry) count them once; a settle whose
 * reservation the backend does not know is therefore already in a loaded counter's records, and
 * adds nothing to it. A settle landing while a counter is not loaded keeps its cost for the load
 * that recreates its lease there. A recreated reservation expiring for a request whose record was
 * written meanwhile (its settle was lost with Redis) is corrected to the record's cost (`correct`).
 * A lease is written before its reservation is tried, so a process killed in between, or before it
 * read a refusal, leaves a lease whose request was never admitted: charged, it would count a
 * request that never left, past the limit that refused it. Such leases are dropped uncharged when
 * the counters can vouch that no reservation was made (`neverReserved`); Redis remembers every
 * reservation, open, settled or expired, at least SETTLED_MEMORY_MS past its lease for that.
 */
import type { CounterPeriod } from "./periods.js";

export interface BudgetSubject {
  /** Any string: "key:key_…", "wrk:wrk_…", "org:org_…", or `creditSubject(org)`. */
  id: string;
  /** Ignored for the "balance" period, whose limit is the loaded balance. */
  limitNano: number;
  period: CounterPeriod;
}

export interface ReserveInput {
  subjects: readonly BudgetSubject[];
  amountNano: number;
  /** Unique per request; also the reservation's id, so a repeated reserve is harmless. */
  requestId: string;
  leaseMs?: number;
  /** Redis Cluster hash tag (the organization id): all of a request's counters in one slot (used with `clusterTags`). */
  tag?: string;
  /**
   * Whose request it is ("key:… wrk:… org:…"), handed back when the lease expires: a charge
   * must name its key even when no subject does (a key spending only the credits).
   */
  owner?: string;
}

/** What settle and release need; plain data kept by the caller for the request's lifetime. */
export interface BudgetReservation {
  requestId: string;
  amountNano: number;
  subjects: readonly BudgetSubject[];
  /** The period instance each subject was reserved in ("d2026-01-05", "m2026-01", "t", "b"). */
  periodKeys: readonly string[];
  reservedAt: number;
  expiresAt: number;
  tag: string;
  /** Admitted without a counter (Redis unreachable and the policy fails open). */
  local: boolean;
  /** A cost no reservation held (a batch's results, charged afterwards): added to every loaded counter. */
  unreserved?: boolean;
}

export type ReserveResult =
  | { outcome: "admitted"; reservation: BudgetReservation }
  | { outcome: "refused"; subject: string; period: CounterPeriod; limitNano: number; spentNano: number; openNano: number }
  | { outcome: "needs_load"; subjects: { id: string; period: CounterPeriod }[] }
  /** The counter store is unreachable and the policy fails closed (error code store_unavailable). */
  | { outcome: "unavailable" };

/** "deferred": Redis is unreachable; the settle is kept in this process and applied when it answers. */
export type SettleOutcome = "settled" | "already_settled" | "lease_expired" | "unknown_reservation" | "deferred";

export interface ExpiredReservation {
  requestId: string;
  /** Charged in full, by the lease rule. */
  amountNano: number;
  subjects: { id: string; periodKey: string }[];
  reservedAt: number;
  expiresAt: number;
  expiredAt: number;
  /** The reservation's `owner`, when it named one. */
  owner?: string;
  /** The hash tag it was reserved under (Redis). */
  tag?: string;
}

/** A durable lease still open when a counter is loaded: its request has no usage record yet. */
export interface OpenLease {
  requestId: string;
  amountNano: number;
  reservedAt: number;
  expiresAt: number;
  owner?: string;
}

/** A durable lease as `neverReserved` checks it: its request, and the counters it names. */
export interface LeaseCheck {
  requestId: string;
  /** The hash tag its reservation would have been made under (the organization id). */
  tag?: string;
  counters: readonly { id: string; periodKey: string }[];
}

export interface CounterSnapshot {
  spentNano: number;
  openNano: number;
  /** The balance, for "balance" counters; null otherwise. */
  limitNano: number | null;
  loadedAt: number;
}

export interface LoadOptions {
  /** Redis Cluster hash tag, as in `ReserveInput.tag`. */
  tag?: string;
  /** Overwrite a loaded counter (reconciliation); by default a loaded counter is left alone. */
  replace?: boolean;
  /**
   * Balance counters: how many ledger entries the loaded balance includes. A top-up naming an
   * entry at or below it is already counted and is not added again.
   */
  seq?: number;
  /**
   * The open durable leases that name this counter, read in the same snapshot as the spend: their
   * reservations are made again where the backend lost them (see LOST STATE above).
   */
  leases?: readonly OpenLease[] | undefined;
}

/** A bare string is the tag (the older call form). */
export function loadOptions(options: LoadOptions | string | undefined): LoadOptions {
  return typeof options === "string" ? { tag: options } : (options ?? {});
}

export interface BudgetCounter {
  reserve(input: ReserveInput): Promise<ReserveResult>;
  settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome>;
  /** In-process backends only: the same as reserve and settle, answered without a promise (the gateway's hot path). */
  reserveSync?(input: ReserveInput): ReserveResult;
  settleSync?(reservation: BudgetReservation, actualNano: number): SettleOutcome;
  release(reservation: BudgetReservation): Promise<SettleOutcome>;
  /** Seed the current period's spend (after `needs_load`); false when it was loaded already. Open reservations are kept. */
  load(subject: string, period: CounterPeriod, spentNano: number, options?: LoadOptions | string): Promise<boolean>;
  /** Seed a balance counter: balance = the ledger's sum, spent = 0; false when it was loaded already. */
  loadBalance(subject: string, balanceNano: number, options?: LoadOptions | string): Promise<boolean>;
  /**
   * Add to a balance counter atomically; false when it is not loaded (the next load reads the
   * ledger) or when `seq`, the top-up's ledger entry, is already in the loaded balance.
   */
  topUp(subject: string, amountNano: number, tag?: string, seq?: number): Promise<boolean>;
  /** The current period's counter, or null when not loaded. */
  snapshot(subject: string, period: CounterPeriod, tag?: string): Promise<CounterSnapshot | null>;
  /** Expire reservations whose lease ended (by the lease rule) and return each one exactly once. */
  sweep(tags?: readonly string[]): Promise<ExpiredReservation[]>;
  /**
   * A reservation `sweep` charged in full whose request's own usage record (cost `actualNano`) was
   * written after all: its counters take the record's cost instead, once. Shared backends only.
   */
  correct?(expired: ExpiredReservation, actualNano: number): Promise<void>;
  /**
   * Of the durable leases of a dead process, those whose request certainly never got a
   * reservation (the process died between writing the lease and reserving, or was refused): they
   * left for no upstream and must not be charged, least of all past a limit the counters enforce.
   * A lease the backend cannot vouch for (its state lost, a counter not loaded) is not among them.
   * Shared backends only.
   */
  neverReserved?(leases: readonly LeaseCheck[]): Promise<Set<string>>;
}

export const DEFAULT_RESERVATION_LEASE_MS = 15 * 60_000;
/** Past periods' counters are kept this long after their end, for late settles. */
export const PERIOD_GRACE_MS = 2 * 86_400_000;
/** Total and balance counters live this long without traffic, then need a load. */
export const OPEN_ENDED_TTL_MS = 35 * 86_400_000;
/** A settled reservation is remembered this long, so a repeated settle does nothing. */
export const SETTLED_MEMORY_MS = 10 * 60_000;

/** When a counter for the period that ends at `end` may be forgotten. */
export function counterExpiresAt(end: number, now: number): number {
  return end === Infinity ? now + OPEN_ENDED_TTL_MS : end + PERIOD_GRACE_MS;
}
