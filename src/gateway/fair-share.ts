/**
 * A fair share of each upstream's connection pool: one key holds at most `perKey` requests in
 * flight to one origin (a pool has 256 connections; the default share is 64), and a request over
 * its share waits in its key's queue for at most `queueMs`. So 256 slow requests from one key
 * cannot hold every connection while other keys wait (they did, 14 s). Counters are plain maps
 * keyed by "origin key"; only a waiting request makes a closure. A counter back at zero stays, until
 * a prune every PRUNE_EVERY such releases: a key with one request at a time would otherwise add and
 * delete its entry every request, and a map whose entries come and go rebuilds its table every few
 * dozen changes, in the old generation for a long-lived map.
 */
/** Releases to zero between two prunes of the idle counters. */
export const PRUNE_EVERY = 4096;

export class FairShare {
  private readonly inflight = new Map<string, number>();
  private readonly waiters = new Map<string, (() => void)[]>();
  private idleReleases = 0;

  constructor(private readonly perKey: number, private readonly queueMs: number) {}

  /** true at once when under the share; else a promise: true once a slot is handed over, false after the queue timeout. */
  acquire(slot: string): true | Promise<boolean> {
    const n = this.inflight.get(slot) ?? 0;
    if (n < this.perKey) {
      this.inflight.set(slot, n + 1);
      return true;
    }
    return new Promise<boolean>((resolve) => {
      let queue = this.waiters.get(slot);
      if (!queue) this.waiters.set(slot, (queue = []));
      const wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = queue.indexOf(wake);
        if (i >= 0) queue.splice(i, 1);
        if (queue.length === 0 && this.waiters.get(slot) === queue) this.waiters.delete(slot);
        resolve(false);
      }, this.queueMs);
      queue.push(wake);
    });
  }

  /** Slots held, over every origin and key. */
  inUse(): number {
    let n = 0;
    for (const held of this.inflight.values()) n += held;
    return n;
  }

  /** A request done with its slot: handed to the first waiter of its key, else freed. */
  release(slot: string): void {
    const queue = this.waiters.get(slot);
    const next = queue?.shift();
    if (next) {
      if (queue!.length === 0) this.waiters.delete(slot);
      next();
      return;
    }
    const n = (this.inflight.get(slot) ?? 1) - 1;
    this.inflight.set(slot, n > 0 ? n : 0);
    if (n <= 0 && ++this.idleReleases >= PRUNE_EVERY) this.pruneIdle();
  }

  /** Origin-key pairs with a counter: those in flight, and idle ones until the next prune. */
  get tracked(): number {
    return this.inflight.size;
  }

  private pruneIdle(): void {
    this.idleReleases = 0;
    for (const [slot, n] of this.inflight) if (n === 0) this.inflight.delete(slot);
  }
}
