import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { InvalidationMessage, KeyVerifier } from "./keys/index.js";
import type { CredentialVault, ModelCatalog } from "./providers/index.js";

/**
 * What travels between nodes: a key change (the verifier's message), "reload" for the model
 * catalog or the provider credentials, or an organization whose settings (limits, credits) changed.
 */
export type BusMessage = InvalidationMessage | { catalog: true } | { credentials: true } | { org: string };

/** The caches a node keeps of things any node can change. */
export interface CachedState {
  verifier: KeyVerifier;
  catalog: ModelCatalog;
  vault: CredentialVault;
  /** The gateway's cached organization settings (spend limits, credits on or off). */
  orgSettings?: { invalidate(orgId?: string): void };
}

/**
 * Carries cache invalidations between gateway nodes over Redis pub/sub: a revoked, disabled or
 * changed key stops working on every node within a second, and a price or credential change
 * reaches every node at once (instead of at the next cache refresh, or for the catalog, never). A
 * node that misses messages while Redis is away drops what it caches when the subscription comes
 * back, since it cannot know what changed meanwhile.
 */
/** "never": not yet subscribed since start (not ready); "lost": subscribed once, connection down now. */
export type SubscriptionState = "subscribed" | "lost" | "never";

export class RedisInvalidationBus {
  private readonly subscriber: Redis;
  private state: CachedState | null = null;
  private subscribed = false;
  private connected = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | null = null;

  private readonly channel: string;

  constructor(private readonly publisher: Redis, private readonly logger: Logger, prefix: string) {
    this.channel = `${prefix}invalidate`;
    this.subscriber = publisher.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: true });
    this.subscriber.on("message", (_channel: string, text: string) => this.receive(text));
    this.subscriber.on("ready", () => {
      this.connected = true;
      if (this.subscribed) this.forgetAll();
    });
    this.subscriber.on("close", () => (this.connected = false));
    this.subscriber.on("error", () => undefined);
  }

  /**
   * Subscribes without waiting for Redis, and keeps trying until a subscription succeeds: the
   * command can time out in the offline queue (the client's command timeout) while Redis is
   * unreachable at start. Once subscribed, ioredis subscribes again after every reconnection.
   */
  start(state: CachedState): void {
    this.state = state;
    this.trySubscribe(0);
  }

  /** Whether this node hears other nodes' changes (/readyz: "never" is not ready). */
  subscription(): SubscriptionState {
    if (!this.subscribed) return "never";
    return this.connected ? "subscribed" : "lost";
  }

  private trySubscribe(failures: number): void {
    if (this.closed) return;
    this.subscriber.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
        this.connected = true;
        if (failures === 0) return;
        this.logger.info({ failures }, "subscribed to cache invalidations");
        // Changes made elsewhere before now were never heard: what was cached meanwhile may be stale.
        this.forgetAll();
      },
      (err: unknown) => {
        if (this.closed) return;
        if (failures === 0) this.logger.warn({ err }, "cannot subscribe to cache invalidations yet; retrying until Redis answers (not ready meanwhile)");
        this.retryTimer = setTimeout(() => this.trySubscribe(failures + 1), Math.min(2000, 100 * 2 ** Math.min(failures, 5)));
        this.retryTimer.unref();
      },
    );
  }

  /** Resolves once Redis has handed the message to every subscribed node (never rejects). */
  publish(message: BusMessage): Promise<void> {
    return this.publisher.publish(this.channel, JSON.stringify(message)).then(() => undefined, (err: unknown) => {
      this.logger.warn({ err }, "could not tell other nodes of a change; they will see it at their next cache refresh");
    });
  }

  private receive(text: string): void {
    let m: BusMessage;
    try {
      m = JSON.parse(text) as BusMessage;
    } catch {
      this.logger.warn("ignored a malformed invalidation message");
      return;
    }
    const state = this.state;
    if (!state) return;
    if ("catalog" in m) this.reloadCatalog(state.catalog);
    else if ("credentials" in m) state.vault.forget();
    else if ("org" in m) state.orgSettings?.invalidate(m.org);
    else state.verifier.applyRemote(m);
  }

  private forgetAll(): void {
    const state = this.state;
    if (!state) return;
    state.verifier.invalidateAll(true);
    state.vault.forget();
    state.orgSettings?.invalidate();
    this.reloadCatalog(state.catalog);
  }

  private reloadCatalog(catalog: ModelCatalog): void {
    catalog.reload().catch((err: unknown) => this.logger.warn({ err }, "could not reload the model catalog after a change on another node"));
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.subscriber.disconnect();
  }
}
