import type { Kysely } from "kysely";
import { inTransaction, type Database } from "./database.js";
import type { Tables } from "./schema.js";

export interface AlertRow {
  id: string;
  org_id: string;
  /** spend_limit.threshold_crossed | credits.low_balance | credits.auto_top_up_requested | key.leaked | credential.leaked */
  type: string;
  subject_type: string;
  subject_id: string;
  period_key: string;
  threshold: number;
  at: number;
  data: string;
}

/** The associated data that binds a webhook endpoint's sealed signing secret to its record. */
export function webhookSecretAad(endpointId: string): string {
  return `webhook_endpoint:${endpointId}`;
}

export interface WebhookEndpointRow {
  id: string;
  org_id: string;
  url: string;
  events: string;
  secret_hint: string;
  wrapped_key: string;
  ciphertext: string;
  created_at: number;
  created_by: string | null;
  deleted_at: number | null;
}

export interface WebhookEventRow {
  id: string;
  org_id: string;
  type: string;
  created_at: number;
  data: string;
}

export interface WebhookDeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  /** pending | delivered | failed */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** A worker holds the delivery until then; after it, another worker may take it (crash recovery). */
  locked_until: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

declare module "./schema.js" {
  interface Tables {
    alerts: AlertRow;
    webhook_endpoints: WebhookEndpointRow;
    webhook_events: WebhookEventRow;
    webhook_deliveries: WebhookDeliveryRow;
    webhook_attempts: WebhookAttemptRow;
  }
}

export interface AlertFilter {
  orgId: string;
  type?: string | undefined;
  subjectType?: string | undefined;
  subjectId?: string | undefined;
  after?: string | undefined;
  limit: number;
}

/** Fired alerts, once per subject, period and threshold (a unique constraint decides the one writer). */
export class AlertStore {
  constructor(private readonly database: Database) {}

  /** True when this call recorded the alert; false when it had already fired. */
  async insertOnce(a: AlertRow, trx: Kysely<Tables>): Promise<boolean> {
    const r = await trx.insertInto("alerts").values(a).onConflict((oc) => oc.columns(["type", "subject_type", "subject_id", "period_key", "threshold"]).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Newest first. */
  async list(f: AlertFilter): Promise<AlertRow[]> {
    let q = this.database.db.selectFrom("alerts").selectAll().where("org_id", "=", f.orgId);
    if (f.type) q = q.where("type", "=", f.type);
    if (f.subjectType) q = q.where("subject_type", "=", f.subjectType);
    if (f.subjectId) q = q.where("subject_id", "=", f.subjectId);
    if (f.after) q = q.where("id", "<", f.after);
    return q.orderBy("id", "desc").limit(f.limit).execute();
  }
}

/** Webhook endpoints, the events sent to them and a persisted delivery queue with its attempt log. */
export class WebhookStore {
  constructor(private readonly database: Database) {}

  get dialect() {
    return this.database.dialect;
  }

  async insertEndpoint(e: WebhookEndpointRow): Promise<void> {
    await this.database.db.insertInto("webhook_endpoints").values(e).execute();
  }

  async getEndpoint(id: string): Promise<WebhookEndpointRow | null> {
    return (await this.database.db.selectFrom("webhook_endpoints").selectAll().where("id", "=", id).executeTakeFirst()) ?? null;
  }

  async listEndpoints(orgId: string, db: Kysely<Tables> = this.database.db): Promise<WebhookEndpointRow[]> {
    return db.selectFrom("webhook_endpoints").selectAll().where("org_id", "=", orgId).where("deleted_at", "is", null).orderBy("id").execute();
  }

  async deleteEndpoint(id: string, now: number): Promise<void> {
    await inTransaction(this.database, async (trx) => {
      await trx.updateTable("webhook_endpoints").set({ deleted_at: now }).where("id", "=", id).execute();
      await trx.updateTable("webhook_deliveries").set({ status: "failed", last_error: "endpoint deleted", updated_at: now })
        .where("endpoint_id", "=", id).where("status", "=", "pending").execute();
    });
  }

  async insertEvent(e: WebhookEventRow, deliveries: WebhookDeliveryRow[], trx: Kysely<Tables>): Promise<void> {
    await trx.insertInto("webhook_events").values(e).execute();
    if (deliveries.length) await trx.insertInto("webhook_deliveries").values(deliveries).execute();
  }

  async getEvent(id: string): Promise<WebhookEventRow | null> {
    return (await this.database.db.selectFrom("webhook_events").selectAll().where("id", "=", id).executeTakeFirst()) ?? null;
  }

  /**
   * Takes up to `limit` due deliveries and leases them until `leaseUntil`. On PostgreSQL the
   * selection skips rows another node is taking (SKIP LOCKED); the lease lets a delivery held by
   * a crashed node be taken again once it lapses.
   */
  async claimDue(now: number, leaseUntil: number, limit: number): Promise<WebhookDeliveryRow[]> {
    const pg = this.database.dialect === "postgres";
    const due = (db: Kysely<Tables>) => db.selectFrom("webhook_deliveries").where("status", "=", "pending").where("next_attempt_at", "<=", now)
      .where((eb) => eb.or([eb("locked_until", "is", null), eb("locked_until", "<", now)]));
    // Most passes (one a second) find nothing: a plain read answers them. The transaction would
    // take SQLite's write lock (IMMEDIATE), and so wait, on the main thread, for the usage thread's
    // batch or roll-up to commit.
    if (!(await due(this.database.db).select("id").limit(1).executeTakeFirst())) return [];
    return inTransaction(this.database, async (trx) => {
      const found = await due(trx).selectAll().orderBy("next_attempt_at").limit(limit).$if(pg, (q) => q.forUpdate().skipLocked()).execute();
      if (found.length === 0) return [];
      await trx.updateTable("webhook_deliveries").set({ locked_until: leaseUntil }).where("id", "in", found.map((d) => d.id)).execute();
      return found;
    });
  }

  async recordAttempt(a: WebhookAttemptRow, next: { status: string; nextAttemptAt: number }, now: number): Promise<void> {
    await inTransaction(this.database, async (trx) => {
      await trx.insertInto("webhook_attempts").values(a).onConflict((oc) => oc.columns(["delivery_id", "attempt"]).doNothing()).execute();
      await trx.updateTable("webhook_deliveries").set({
        status: next.status, attempts: a.attempt, next_attempt_at: next.nextAttemptAt, locked_until: null,
        last_status_code: a.status_code, last_error: a.error, updated_at: now,
      }).where("id", "=", a.delivery_id).execute();
    });
  }

  /** Deliveries of one endpoint, newest first, each with its attempts. */
  async listDeliveries(endpointId: string, limit: number, after?: string): Promise<(WebhookDeliveryRow & { type: string; attemptLog: WebhookAttemptRow[] })[]> {
    let q = this.database.db.selectFrom("webhook_deliveries").innerJoin("webhook_events", "webhook_events.id", "webhook_deliveries.event_id")
      .selectAll("webhook_deliveries").select("webhook_events.type").where("endpoint_id", "=", endpointId);
    if (after) q = q.where("webhook_deliveries.id", "<", after);
    const rows = await q.orderBy("webhook_deliveries.id", "desc").limit(limit).execute();
    if (rows.length === 0) return [];
    const attempts = await this.database.db.selectFrom("webhook_attempts").selectAll().where("delivery_id", "in", rows.map((r) => r.id))
      .orderBy("attempt").execute();
    return rows.map((r) => ({ ...r, attemptLog: attempts.filter((a) => a.delivery_id === r.id) }));
  }
}
