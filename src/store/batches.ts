import type { Kysely } from "kysely";
import type { Database } from "./database.js";
import type { Tables } from "./schema.js";

export interface MeteredBatchRow {
  provider: string;
  batch_id: string;
  org_id: string;
  request_id: string;
  metered_at: number;
}

declare module "./schema.js" {
  interface Tables {
    metered_batches: MeteredBatchRow;
  }
}

/** Batches whose usage has been billed: a batch's results are billed on their first read only. */
export class BatchStore {
  constructor(private readonly database: Database) {}

  /** Claims a batch for metering; false when it was claimed before (its usage is already billed). */
  async claim(provider: string, batchId: string, orgId: string, requestId: string, now: number, db: Kysely<Tables> = this.database.db): Promise<boolean> {
    const r = await db.insertInto("metered_batches").values({ provider, batch_id: batchId, org_id: orgId, request_id: requestId, metered_at: now })
      .onConflict((oc) => oc.columns(["provider", "batch_id"]).doNothing()).returning("batch_id").execute();
    return r.length > 0;
  }
}
