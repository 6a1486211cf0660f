import { createRequire } from "node:module";
import type { Redis, RedisOptions } from "ioredis";

/** ioredis, loaded on first use: a node without Redis never pays its memory (it is CommonJS). */
function ioredis(): typeof import("ioredis") {
  return createRequire(import.meta.url)("ioredis") as typeof import("ioredis");
}

export type LimitsHealth = "healthy" | "degraded";

/** Pino-shaped: `logger.warn({ err }, "message")`. */
export interface LimitsLogger {
  warn(data: object, message: string): void;
  info(data: object, message: string): void;
}

/**
 * How long the limits wait for Redis to answer a command before following the failure policy
 * (see `answered`). A Redis that is down costs nothing like it: without an offline queue a command
 * fails at once while the connection is lost; this bounds a Redis that is connected but hung.
 */
export const LIMITS_ANSWER_MS = 1000;

/**
 * Client settings for the limits: a dead Redis must cost a request milliseconds, not seconds.
 * No offline queue (a command fails at once while disconnected), one retry; reconnection keeps
 * trying in the background. The client's own command timeout is only a backstop, well past
 * LIMITS_ANSWER_MS: it fires from a timer, and a timer runs before the replies waiting in the
 * socket are read, so a process held up for a moment (a loaded machine) took answers that had
 * arrived for none, and fell back to per-node counters that then admitted past the limit.
 */
export const LIMITS_REDIS_OPTIONS: RedisOptions = {
  connectTimeout: 1000,
  commandTimeout: 5000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
};

export function createLimitsRedis(url: string, overrides: RedisOptions = {}): Redis {
  const redis = new (ioredis().Redis)(url, { ...LIMITS_REDIS_OPTIONS, ...overrides });
  // Connection errors surface through failed commands; without a listener ioredis prints each
  // reconnection attempt while a start-up waits for a Redis that is not there yet.
  redis.on("error", () => undefined);
  return redis;
}

/** Wait until `redis` is connected (false after `timeoutMs`): without an offline queue, commands sent earlier fail. */
export function redisReady(redis: Redis, timeoutMs = 2000): Promise<boolean> {
  if (redis.status === "ready") return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => { clearTimeout(timer); redis.off("ready", onReady); resolve(ok); };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.on("ready", onReady);
  });
}

/** Redis gave no answer within LIMITS_ANSWER_MS (the command may still run, or have run). */
export class RedisNoAnswerError extends Error {
  constructor(ms: number) {
    super(`Redis did not answer within ${ms} ms`);
    this.name = "RedisNoAnswerError";
  }
}

/**
 * `p`, or a RedisNoAnswerError once `ms` have passed without its answer. The deadline is judged
 * only after the event loop has read its sockets (a timer callback runs before pending I/O; the
 * check waits for setImmediate, which runs after it): an answer that arrived while this process
 * was held up counts as in time, so only a Redis that really is silent is taken for down.
 */
export function answered<T>(p: Promise<T>, ms = LIMITS_ANSWER_MS): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const late = () => {
      if (settled) return;
      settled = true;
      reject(new RedisNoAnswerError(ms));
    };
    const timer = setTimeout(setImmediate, ms, late);
    p.then((v) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    }, (err: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(err as Error);
    });
  });
}

/** A reply error is Redis answering (a fault in a script or a key); anything else is Redis not answering. */
export function isUnavailable(err: unknown): boolean {
  return !(err instanceof (ioredis().ReplyError as new () => Error));
}

/**
 * Whether Redis answers. Marked degraded on the first connection failure (logged once), then
 * pinged every `pingIntervalMs` until it answers, when it is healthy again (logged once) and the
 * recovery hooks run (replaying settles that could not be applied).
 */
export class RedisHealth {
  private current: LimitsHealth = "healthy";
  private timer: NodeJS.Timeout | null = null;
  private pinging = false;
  private readonly recoveryHooks: (() => Promise<void>)[] = [];

  constructor(
    private readonly redis: Redis,
    private readonly logger: LimitsLogger,
    private readonly pingIntervalMs = 1000,
  ) {
    // Connection errors surface through failed commands; without a listener ioredis prints each one.
    redis.on("error", () => {});
  }

  get state(): LimitsHealth {
    return this.current;
  }

  onRecovery(hook: () => Promise<void>): void {
    this.recoveryHooks.push(hook);
  }

  markDown(err: unknown): void {
    if (this.current === "degraded") return;
    this.current = "degraded";
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, "limits: Redis unreachable, following the failure policy");
    this.timer = setInterval(() => void this.probe(), this.pingIntervalMs);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.pinging) return;
    this.pinging = true;
    try {
      await answered(this.redis.ping());
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
    } catch {
      return; // still down; the next tick tries again
    } finally {
      this.pinging = false;
    }
    this.current = "healthy";
    this.logger.info({}, "limits: Redis answers again, back to shared counters");
    try {
      for (const hook of this.recoveryHooks) await hook();
    } catch (err) {
      this.markDown(err); // lost it again while catching up
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
