import type { Kysely } from "kysely";
import type { Actor } from "../keys/index.js";
import { newId } from "../lib/index.js";
import { inTransaction, type Tables } from "../store/index.js";
import type { AdminServices } from "./services.js";

/**
 * Runs a change and writes its audit record in the same transaction: both commit or neither. Every
 * store call `fn` makes runs in that transaction (store/transaction.ts), handed `trx` or not. The
 * target may be read from the change's result (an id the change itself makes).
 */
export async function audited<T>(
  s: AdminServices, actor: Actor, action: string, target: string | null | ((result: T) => string), changes: Record<string, unknown>,
  fn: (trx: Kysely<Tables>) => Promise<T>,
): Promise<T> {
  return inTransaction(s.store.database, async (trx) => {
    const result = await fn(trx);
    const now = s.clock.now();
    await s.store.audit.append({
      id: newId("aud", now), at: now, orgId: actor.orgId, actor: actor.id, action, changes,
      target: typeof target === "function" ? target(result) : target, requestId: actor.requestId, clientIp: actor.clientIp,
    }, trx);
    return result;
  });
}
