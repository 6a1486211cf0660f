import { GCProfiler, type GCProfilerResult } from "node:v8";
import { describe, expect, it } from "vitest";
import { heapActivity, heapNow } from "../bench/heap.js";

/** A collection as V8's GC profiler reports it, with only the fields heapActivity reads. */
function gc(gcType: string, cost: number, before: { used: number; old: number }, after: { used: number; old: number }): GCProfilerResult["statistics"][number] {
  const side = (p: { used: number; old: number }) => ({
    heapStatistics: { usedHeapSize: p.used } as GCProfilerResult["statistics"][number]["beforeGC"]["heapStatistics"],
    // The old generation is split over its spaces; the young ones must not count.
    heapSpaceStatistics: [
      { spaceName: "new_space", spaceUsedSize: p.used - p.old },
      { spaceName: "old_space", spaceUsedSize: p.old - 10 },
      { spaceName: "code_space", spaceUsedSize: 10 },
      { spaceName: "new_large_object_space", spaceUsedSize: 0 },
    ] as GCProfilerResult["statistics"][number]["beforeGC"]["heapSpaceStatistics"],
  });
  return { gcType, cost, beforeGC: side(before), afterGC: side(after) };
}

describe("the bench's heap accounting", () => {
  it("counts what was allocated between collections, and what reached the old generation", () => {
    const a = heapActivity({
      statistics: [
        // 4,000 allocated, 100 of it straight into the old generation; the scavenge promotes 200.
        gc("Scavenge", 900, { used: 5000, old: 700 }, { used: 1500, old: 900 }),
        // 2,000 more, 100 of it old; a mark-compact frees old bytes and promotes nothing by itself.
        gc("MarkSweepCompact", 4000, { used: 3500, old: 1000 }, { used: 800, old: 700 }),
        gc("ProcessWeakCallbacks", 5, { used: 800, old: 700 }, { used: 800, old: 700 }),
      ],
    }, { used: 1000, old: 600 }, { used: 1800, old: 750 });
    expect(a).toEqual({ allocated: 4000 + 2000 + 1000, toOld: 100 + 200 + 100 + 50, scavenges: 1, markCompacts: 1, gcMicros: 4905 });
  });

  it("measures a real heap: short-lived garbage is allocated and collected young, what is kept reaches the old generation", () => {
    const profiler = new GCProfiler();
    const start = heapNow();
    profiler.start();
    // Arrays of doubles: 8 bytes an element whether or not V8 compresses pointers.
    const kept: number[][] = [];
    let sink = 0;
    for (let i = 0; i < 40_000; i++) {
      const garbage = new Array<number>(256).fill(i + 0.5); // about 2 KB, dead at once
      sink += garbage.length;
      if (i % 8 === 0) kept.push(new Array<number>(256).fill(i + 0.5)); // 5,000 of them kept: about 10 MB
    }
    const a = heapActivity(profiler.stop(), start, heapNow());
    expect(sink).toBe(40_000 * 256);
    expect(kept).toHaveLength(5000);
    const kb = 2048;
    expect(a.allocated).toBeGreaterThan(45_000 * kb * 0.9);
    expect(a.allocated).toBeLessThan(45_000 * kb * 2);
    expect(a.scavenges).toBeGreaterThan(0);
    expect(a.toOld).toBeGreaterThan(5000 * kb * 0.5);
    expect(a.toOld).toBeLessThan(a.allocated / 2);
  });
});
