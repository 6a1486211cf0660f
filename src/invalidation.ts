import type { Redis } from "ioredis";
import type { Logger } from "pino";
import type { InvalidationMessage, KeyVerifier } from "./keys/index.js";

/**
 * Carries key-cache invalidations between gateway nodes over Redis pub/sub, so that a revoked,
 * disabled or changed key stops working on every node within a second (instead of at the next
 * cache refresh). A node that misses messages while Redis is away drops its whole cache when the
 * subscription comes back, since it cannot know what changed meanwhile.
 */
export class RedisInvalidationBus {
  private readonly subscriber: Redis;
  private verifier: KeyVerifier | null = null;
  private subscribedOnce = false;

  private readonly channel: string;

  constructor(private readonly publisher: Redis, private readonly logger: Logger, prefix: string) {
    this.channel = `${prefix}invalidate`;
    this.subscriber = publisher.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: true });
    this.subscriber.on("message", (_channel: string, text: string) => this.receive(text));
    this.subscriber.on("ready", () => {
      if (this.subscribedOnce) this.verifier?.invalidateAll(true);
    });
    this.subscriber.on("error", () => undefined);
  }

  async start(verifier: KeyVerifier): Promise<void> {
    this.verifier = verifier;
    try {
      await this.subscriber.connect();
      await this.subscriber.subscribe(this.channel);
      this.subscribedOnce = true;
    } catch (err) {
      this.logger.warn({ err }, "cannot subscribe to key invalidations yet; retrying in the background");
    }
  }

  publish(message: InvalidationMessage): void {
    this.publisher.publish(this.channel, JSON.stringify(message)).catch((err: unknown) => {
      this.logger.warn({ err }, "could not tell other nodes of a key change; they will see it at their next cache refresh");
    });
  }

  private receive(text: string): void {
    try {
      const m = JSON.parse(text) as InvalidationMessage;
      this.verifier?.applyRemote(m);
    } catch {
      this.logger.warn("ignored a malformed invalidation message");
    }
  }

  close(): void {
    this.subscriber.disconnect();
  }
}
