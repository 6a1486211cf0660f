import { describe, expect, it } from "vitest";
import { TimeLog } from "./time-log.js";

describe("TimeLog", () => {
  it("matches a plain array through growth, sliding, shrinking and late corrections", () => {
    const log = new TimeLog(true);
    // The model: every entry ever pushed, by absolute index, and the oldest still queued.
    const times: number[] = [];
    const amounts: number[] = [];
    let first = 0;
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    let now = 0;
    // Bursts of up to 20,000 entries then quiet spells: the arrays grow, slide and shrink.
    for (let step = 0; step < 60_000; step++) {
      now += random() < 0.001 ? 30_000 : 1;
      const burst = Math.floor(step / 15_000) % 2 === 0;
      if (burst || random() < 0.05) {
        const amount = Math.floor(random() * 100);
        expect(log.push(now, amount)).toBe(times.length);
        times.push(now);
        amounts.push(amount);
      }
      if (random() < 0.3 && times.length > 0) {
        const abs = Math.floor(random() * times.length);
        const amount = Math.floor(random() * 100);
        log.correct(abs, amount, now - 60_000);
        if (abs >= first && times[abs]! > now - 60_000) amounts[abs] = amount;
      }
      log.expire(now - 60_000);
      while (first < times.length && times[first]! <= now - 60_000) first++;
      if (step % 997 === 0) {
        expect(log.size).toBe(times.length - first);
        expect(log.sum).toBe(amounts.slice(first).reduce((a, b) => a + b, 0));
        if (log.size > 0) {
          expect(log.timeAt(0)).toBe(times[first]);
          expect(log.amountAt(log.size - 1)).toBe(amounts.at(-1));
        }
      }
    }
  });

  it("keeps no amounts when made without them", () => {
    const log = new TimeLog(false);
    log.push(1, 50);
    log.push(2, 50);
    expect(log.sum).toBe(0);
    expect(log.amountAt(0)).toBe(0);
    log.expire(1);
    expect(log.size).toBe(1);
    expect(log.timeAt(0)).toBe(2);
  });
});
