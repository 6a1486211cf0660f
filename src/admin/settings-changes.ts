/**
 * Changes to what the gateway enforces (spend limits, credits on or off, the balance) take effect
 * before the management call that made them returns: on this node at once, on the others over the
 * invalidation bus. main.ts supplies the implementation; without a gateway nothing is told.
 */
export interface SettingsChanges {
  /** An organization's limits or settings changed. */
  orgChanged(orgId: string): Promise<void>;
  /** Credits were turned on: the balance counter is set from the ledger. */
  creditsEnabled(orgId: string): Promise<void>;
  /** Ledger entry `seq` added `amountNano` to the balance (negative for an adjustment down). */
  creditsAdded(orgId: string, amountNano: number, seq: number): Promise<void>;
}

declare module "./services.js" {
  interface AdminServices {
    settingsChanges?: SettingsChanges;
  }
}
