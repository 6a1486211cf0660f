import type { Kysely } from "kysely";
import { openSecretWithAny, sealingKey, sealSecret, type MasterKeys } from "../lib/envelope.js";
import { newId, randomChars, type Clock } from "../lib/index.js";
import { inTransaction, webhookSecretAad as aad, type Store, type Tables, type WebhookDeliveryRow, type WebhookEndpointRow } from "../store/index.js";

/** Every event type a webhook endpoint can subscribe to ("*" takes them all). */
export const WEBHOOK_EVENT_TYPES = [
  "spend_limit.threshold_crossed", "credits.low_balance", "credits.auto_top_up_requested", "key.leaked",
  "credential.leaked",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEndpoint {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  secretHint: string;
  createdAt: number;
  createdBy: string | null;
}

/**
 * Webhook endpoints and event emission. The signing secret is kept envelope-encrypted under the
 * master key (it must be readable to sign) and shown only in the answer that creates it.
 */
export class WebhookService {
  /** Called after an event is queued, to deliver it without waiting for the next poll. */
  onQueued: (() => void) | null = null;

  constructor(private readonly store: Store, private readonly clock: Clock, private readonly masterKey: MasterKeys) {}

  async createEndpoint(orgId: string, url: string, events: string[], createdBy: string | null): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const now = this.clock.now();
    const id = newId("whk", now);
    const secret = `whsec_${randomChars(32)}`;
    const env = sealSecret(sealingKey(this.masterKey), secret, aad(id));
    const row: WebhookEndpointRow = {
      id, org_id: orgId, url, events: JSON.stringify(events), secret_hint: `${secret.slice(0, 10)}…`, wrapped_key: env.wrappedKey,
      ciphertext: env.ciphertext, created_at: now, created_by: createdBy, deleted_at: null,
    };
    await this.store.webhooks.insertEndpoint(row);
    return { endpoint: toEndpoint(row), secret };
  }

  async listEndpoints(orgId: string): Promise<WebhookEndpoint[]> {
    return (await this.store.webhooks.listEndpoints(orgId)).map(toEndpoint);
  }

  async getEndpoint(orgId: string, id: string): Promise<WebhookEndpoint | null> {
    const row = await this.store.webhooks.getEndpoint(id);
    return row && row.org_id === orgId && row.deleted_at === null ? toEndpoint(row) : null;
  }

  async deleteEndpoint(id: string): Promise<void> {
    await this.store.webhooks.deleteEndpoint(id, this.clock.now());
  }

  /** The endpoint's signing secret, for the dispatcher. */
  secretOf(row: WebhookEndpointRow): string {
    return openSecretWithAny(this.masterKey, { wrappedKey: row.wrapped_key, ciphertext: row.ciphertext }, aad(row.id));
  }

  /**
   * Queues an event for every endpoint of the organization subscribed to its type. Pass `trx` to
   * queue it in the same transaction as the change that caused it (an alert is recorded and its
   * webhook queued together, or neither). Returns the event id.
   */
  async emitEvent(orgId: string, type: WebhookEventType, data: Record<string, unknown>, trx?: Kysely<Tables>): Promise<string> {
    const now = this.clock.now();
    const id = newId("evt", now);
    const run = async (db: Kysely<Tables>) => {
      const endpoints = (await this.store.webhooks.listEndpoints(orgId, db)).filter((e) => {
        const evs = JSON.parse(e.events) as string[];
        return evs.includes("*") || evs.includes(type);
      });
      const deliveries: WebhookDeliveryRow[] = endpoints.map((e) => ({
        id: newId("dlv", now), endpoint_id: e.id, event_id: id, status: "pending", attempts: 0, next_attempt_at: now, locked_until: null,
        last_status_code: null, last_error: null, created_at: now, updated_at: now,
      }));
      await this.store.webhooks.insertEvent({ id, org_id: orgId, type, created_at: now, data: JSON.stringify(data) }, deliveries, db);
    };
    if (trx) await run(trx);
    else await inTransaction(this.store.database, run);
    this.onQueued?.();
    return id;
  }
}

export function toEndpoint(r: WebhookEndpointRow): WebhookEndpoint {
  return { id: r.id, orgId: r.org_id, url: r.url, events: JSON.parse(r.events) as string[], secretHint: r.secret_hint, createdAt: r.created_at, createdBy: r.created_by };
}
