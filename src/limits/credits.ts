/**
 * An organization's prepaid credit balance, as a counter: a budget with no period whose limit is
 * the balance. `reserve` refuses when `balance - spent - open < amount`; `topUp` raises the
 * balance atomically; `load(balance)` sets it from the ledger (the system of record, kept
 * elsewhere) and zeroes the spend counted since, keeping open reservations. It replaces a loaded
 * balance by default (a ledger change is the usual reason to load); after `needs_load`, pass
 * `{ replace: false }` so that two nodes seeding at once cannot wipe spend counted in between.
 * For a top-up, `topUp` is exact: it adds without touching the spend.
 *
 * To reserve credits and spend limits in one atomic step (one round trip), put
 * `creditSubject(org)` among the subjects of `BudgetCounter.reserve`.
 */
import type {
  BudgetCounter, BudgetReservation, BudgetSubject, CounterSnapshot, ReserveResult, SettleOutcome,
} from "./budget.js";

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
  /** Add to the balance; false when the counter is not loaded (the next load reads the ledger). */
  topUp(organizationId: string, amountNano: number): Promise<boolean>;
  /** Set the balance from the ledger (replaces by default, see above); false when it was loaded and left alone. */
  load(organizationId: string, balanceNano: number, options?: { replace?: boolean }): Promise<boolean>;
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

  topUp(organizationId: string, amountNano: number): Promise<boolean> {
    return this.budgets.topUp(creditSubject(organizationId).id, amountNano, organizationId);
  }

  load(organizationId: string, balanceNano: number, options: { replace?: boolean } = {}): Promise<boolean> {
    return this.budgets.loadBalance(creditSubject(organizationId).id, balanceNano, { tag: organizationId, replace: options.replace ?? true });
  }

  async balance(organizationId: string): Promise<CreditBalance | null> {
    const snap: CounterSnapshot | null = await this.budgets.snapshot(creditSubject(organizationId).id, "balance", organizationId);
    if (!snap) return null;
    const balanceNano = snap.limitNano ?? 0;
    return { balanceNano, spentNano: snap.spentNano, openNano: snap.openNano, availableNano: balanceNano - snap.spentNano - snap.openNano };
  }
}
