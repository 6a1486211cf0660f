import type { FastifyInstance } from "fastify";

/** What the health endpoints probe; each probe is bounded by a timeout here. */
export interface HealthProbes {
  /** Resolves true when the store answers, false when it refuses; a hang is caught by the timeout. */
  store: () => Promise<boolean>;
  /** Present with Redis: whether it answers, and whether the failure policy still serves without it. */
  redis?: { ping: () => Promise<boolean>; servesWithout: boolean };
  /** "ok", or why writes fail (usage writes: a full disk reads "disk full (SQLITE_FULL)"). */
  writes?: () => string;
  /** Present with Redis: whether this node hears other nodes' invalidations. */
  invalidations?: () => "subscribed" | "lost" | "never";
  /** Longest event-loop stall allowed over the last seconds before /healthz fails (default 2 s). */
  maxLoopLagMs?: number;
  /** Bound on each probe (default 2 s). */
  probeTimeoutMs?: number;
}

const TIMED_OUT = Symbol("timed out");

function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof TIMED_OUT>((ok) => (timer = setTimeout(ok, ms, TIMED_OUT)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Measures how late a 250 ms timer fires, keeping the worst of the last 5 s: a loop busy for
 * seconds at a time (a synchronous hang, a runaway computation) shows here even when the probe
 * itself happens to run between two stalls.
 */
export class LoopLagMonitor {
  private readonly lags = new Array<number>(20).fill(0);
  private i = 0;
  private expected = performance.now() + 250;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    this.timer = setInterval(() => {
      const now = performance.now();
      this.lags[this.i++ % this.lags.length] = Math.max(0, now - this.expected);
      this.expected = now + 250;
    }, 250);
    this.timer.unref();
  }

  /** The worst lag of the last 5 s, and how late the current tick is if it has not fired yet. */
  worstMs(): number {
    return Math.round(Math.max(...this.lags, performance.now() - this.expected));
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * /healthz (liveness): the event loop keeps time and a store probe settles within its bound. A
 * store that refuses quickly is alive (readiness says it is down); one that does not answer at
 * all means the request path is stuck, and a restart may help.
 * /readyz (readiness): the store answers, and with Redis, this node has subscribed to
 * invalidations and Redis answers, or the failure policy still serves without it ("degraded").
 */
export function registerHealth(app: FastifyInstance, p: HealthProbes): LoopLagMonitor {
  const loop = new LoopLagMonitor();
  const maxLag = p.maxLoopLagMs ?? 2000;
  const bound = p.probeTimeoutMs ?? 2000;
  app.addHook("onClose", async () => loop.stop());

  app.get("/healthz", async (_req, reply) => {
    const started = performance.now();
    const store = await within(p.store().catch(() => false), bound);
    const storeMs = Math.round(performance.now() - started);
    const lag = loop.worstMs();
    const checks = {
      event_loop: lag <= maxLag ? "ok" : `stalled ${lag} ms`,
      store_probe: store === TIMED_OUT ? `no answer in ${bound} ms` : "ok",
    };
    const ok = checks.event_loop === "ok" && checks.store_probe === "ok";
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ok" : "failing", checks, loop_lag_ms: lag, store_probe_ms: storeMs });
  });

  app.get("/readyz", async (_req, reply) => {
    const [store, redis] = await Promise.all([
      within(p.store().catch(() => false), bound),
      p.redis ? within(p.redis.ping().catch(() => false), bound) : Promise.resolve(null),
    ]);
    const checks: Record<string, string> = { database: store === true ? "ok" : store === TIMED_OUT ? "timeout" : "down" };
    let ready = store === true;
    if (p.writes) {
      // A store that answers reads may still refuse every write (a full disk): not ready either.
      checks.writes = p.writes();
      if (checks.writes !== "ok") ready = false;
    }
    if (p.redis) {
      const up = redis === true;
      checks.redis = up ? "ok" : p.redis.servesWithout ? "degraded" : "down";
      if (!up && !p.redis.servesWithout) ready = false;
    }
    if (p.invalidations) {
      const sub = p.invalidations();
      checks.invalidations = sub === "subscribed" ? "ok" : sub === "lost" ? "degraded" : "not subscribed";
      if (sub === "never") ready = false;
    }
    return reply.code(ready ? 200 : 503).send({ status: ready ? (Object.values(checks).every((c) => c === "ok") ? "ready" : "degraded") : "not ready", checks });
  });
  return loop;
}
