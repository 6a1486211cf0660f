/**
 * An organization's prepaid credit balance, as a counter: a budget with no period whose limit is
 * the balance. `reserve` refuses when `balance - spent - open < amount`; `topUp` raises the
 * balance atomically; `load(balance)` sets it from the ledger (the system of record, kept
 * elsewhere) and zeroes the spend counted since, keeping open reservations.
 *
 * Ledger-backed: the counter is loaded once (after `needs_load`, with `{ replace: false }`, so two
 * nodes seeding at once cannot wipe spend counted in between; or when credits are turned on),
 * together with the ledger seq its balance includes. After that it is never reloaded by
 * replacement, which would drop the spend of requests settled here but not yet written: a
 * top-up is added with `topUp(…, seq)` (exact, and ignored when the load already counted that
 * entry), and the roll-up's usage entries need nothing, since they move cost the counter has
 * already counted from "spent" to the ledger.
 *
 * To reserve credits and spend limits in one atomic step (one round trip), put
 * `creditSubject(org)` among the subjects of `BudgetCounter.reserve`.
 */
import type {
  BudgetCounter, BudgetReservation, BudgetSubject, CounterSnapshot, OpenLease, ReserveResult, SettleOutcome,
} from "./budget.js";

export interface CreditLoadOptions {
  replace?: boolean;
  seq?: number;
  /** Open durable leases on the balance, read with it (see budget.ts, LOST STATE). */
  leases?: readonly OpenLease[] | undefined;
}

/** The counter subject holding an organization's balance. */
export function creditSubject(organizationId: string): BudgetSubject {
  return { id: `credits:${organizationId}`, limitNano: 0, period: "balance" };
}

export interface CreditBalance {
  balanceNano: number;
  spentNano: number;
  openNano: number;
  /** What a new reservation may still take. */
  availableNano: number;
}

export interface CreditReserveInput {
  organizationId: string;
  amountNano: number;
  requestId: string;
  leaseMs?: number;
}

export interface CreditCounter {
  reserve(input: CreditReserveInput): Promise<ReserveResult>;
  settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome>;
  release(reservation: BudgetReservation): Promise<SettleOutcome>;
  /** Add ledger entry `seq` to the balance; false when not loaded, or when the loaded balance has it already. */
  topUp(organizationId: string, amountNano: number, seq?: number): Promise<boolean>;
  /** Set the balance from the ledger as of entry `seq` (replaces by default); false when it was loaded and left alone. */
  load(organizationId: string, balanceNano: number, options?: CreditLoadOptions): Promise<boolean>;
  /** Null when not loaded. */
  balance(organizationId: string): Promise<CreditBalance | null>;
}

/** Credits over any budget counter backend; the organization id is the cluster hash tag. */
export class BudgetCreditCounter implements CreditCounter {
  constructor(private readonly budgets: BudgetCounter) {}

  reserve(input: CreditReserveInput): Promise<ReserveResult> {
    return this.budgets.reserve({
      subjects: [creditSubject(input.organizationId)],
      amountNano: input.amountNano,
      requestId: input.requestId,
      leaseMs: input.leaseMs,
      tag: input.organizationId,
    });
  }

  settle(reservation: BudgetReservation, actualNano: number): Promise<SettleOutcome> {
    return this.budgets.settle(reservation, actualNano);
  }

  release(reservation: BudgetReservation): Promise<SettleOutcome> {
    return this.budgets.release(reservation);
  }

  topUp(organizationId: string, amountNano: number, seq?: number): Promise<boolean> {
    return this.budgets.topUp(creditSubject(organizationId).id, amountNano, organizationId, seq);
  }

  load(organizationId: string, balanceNano: number, options: CreditLoadOptions = {}): Promise<boolean> {
    return this.budgets.loadBalance(creditSubject(organizationId).id, balanceNano, { tag: organizationId, replace: options.replace ?? true, seq: options.seq, leases: options.leases });
  }

  async balance(organizationId: string): Promise<CreditBalance | null> {
    const snap: CounterSnapshot | null = await this.budgets.snapshot(creditSubject(organizationId).id, "balance", organizationId);
    if (!snap) return null;
    const balanceNano = snap.limitNano ?? 0;
    return { balanceNano, spentNano: snap.spentNano, openNano: snap.openNano, availableNano: balanceNano - snap.spentNano - snap.openNano };
  }
}
