import type { Logger } from "pino";
import { fetch, type Dispatcher } from "undici";
import type { Clock } from "../lib/index.js";
import type { Store, WebhookDeliveryRow, WebhookEventRow } from "../store/index.js";
import { SIGNATURE_HEADER, signWebhook } from "./signature.js";
import type { WebhookService } from "./webhooks.js";

export interface DispatcherOptions {
  store: Store;
  clock: Clock;
  webhooks: WebhookService;
  logger?: Pick<Logger, "warn"> | undefined;
  /** Attempts before a delivery is marked failed. */
  maxAttempts?: number;
  /** Wait before attempt `n + 1` after `n` failures; default 10 s × 4^(n−1) (10 s, 40 s, 160 s, 640 s). */
  backoffMs?: (failures: number) => number;
  timeoutMs?: number;
  /** How long a claimed delivery stays with this worker before another may take it. */
  leaseMs?: number;
  /** Where deliveries connect through: the server passes its outbound address policy's agent. */
  dispatcher?: Dispatcher;
}

/** The JSON body of every delivery; built the same way on every attempt. */
export function webhookBody(e: WebhookEventRow): string {
  return JSON.stringify({ id: e.id, type: e.type, created_at: new Date(e.created_at).toISOString(), data: JSON.parse(e.data) as unknown });
}

/**
 * Delivers queued webhook events. The queue is the webhook_deliveries table, so a restart loses
 * nothing: a delivery is claimed with a lease, attempted, and its outcome recorded (attempt log
 * plus the next attempt time with exponential backoff); one whose worker died is taken again
 * when the lease lapses. Delivery is at-least-once; receivers deduplicate by event id.
 */
export class WebhookDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<number> | null = null;
  private again = false;
  private readonly maxAttempts: number;
  private readonly failureHooks: ((final: boolean) => void)[] = [];
  private readonly backoffMs: (n: number) => number;

  constructor(private readonly o: DispatcherOptions) {
    this.maxAttempts = o.maxAttempts ?? 5;
    this.backoffMs = o.backoffMs ?? ((n) => 10_000 * 4 ** (n - 1));
  }

  start(intervalMs = 1000): void {
    this.o.webhooks.onQueued = () => void this.kick();
    this.timer = setInterval(() => void this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Told of each failed delivery attempt (`final` when no attempt follows): the metrics count them. */
  onFailure(hook: (final: boolean) => void): void {
    this.failureHooks.push(hook);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.o.webhooks.onQueued = null;
    await this.running;
  }

  /** Runs a pass now (or right after the current one); never throws. */
  kick(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let total = 0;
      do {
        this.again = false;
        try {
          total += await this.runOnce();
        } catch (err) {
          this.o.logger?.warn({ err: (err as Error).message }, "webhook delivery pass failed");
        }
      } while (this.again);
      return total;
    })().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  /** Attempts every due delivery once; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const now = this.o.clock.now();
    const due = await this.o.store.webhooks.claimDue(now, now + (this.o.leaseMs ?? 60_000), 50);
    await Promise.all(due.map((d) => this.attempt(d)));
    return due.length;
  }

  private async attempt(d: WebhookDeliveryRow): Promise<void> {
    const { store, clock, webhooks } = this.o;
    const [endpoint, event] = await Promise.all([store.webhooks.getEndpoint(d.endpoint_id), store.webhooks.getEvent(d.event_id)]);
    const attempt = d.attempts + 1;
    const started = clock.now();
    if (!endpoint || endpoint.deleted_at !== null || !event) {
      await store.webhooks.recordAttempt({ delivery_id: d.id, attempt, at: started, status_code: null, error: "endpoint deleted", duration_ms: 0 }, { status: "failed", nextAttemptAt: started }, started);
      return;
    }
    const body = webhookBody(event);
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        redirect: "manual",
        ...(this.o.dispatcher ? { dispatcher: this.o.dispatcher } : {}),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 10_000),
        headers: {
          "content-type": "application/json", "user-agent": "Latchkey-Webhooks/1",
          [SIGNATURE_HEADER]: signWebhook(webhooks.secretOf(endpoint), body, Math.floor(started / 1000)),
          "latchkey-event-id": event.id, "latchkey-delivery-id": d.id,
        },
        body,
      });
      statusCode = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (statusCode < 200 || statusCode >= 300) error = `receiver answered ${statusCode}`;
    } catch {
      // One word for a refused address, a closed port, a timeout and a reset: the delivery log is
      // read by the webhook's owner, and must not map the network behind the URL for them.
      error = "could not deliver to the receiver";
    }
    const finished = clock.now();
    if (error !== null) for (const hook of this.failureHooks) hook(attempt >= this.maxAttempts);
    const next = error === null ? { status: "delivered", nextAttemptAt: finished }
      : attempt >= this.maxAttempts ? { status: "failed", nextAttemptAt: finished }
        : { status: "pending", nextAttemptAt: finished + this.backoffMs(attempt) };
    await store.webhooks.recordAttempt({ delivery_id: d.id, attempt, at: started, status_code: statusCode, error, duration_ms: Math.max(0, finished - started) }, next, finished);
  }
}
