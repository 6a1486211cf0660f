/**
 * What a process's heap did over a bench run, from V8's GC profiler (node:v8 GCProfiler): bytes
 * allocated, bytes that reached the old generation, and the collections. Counts, not times: they
 * hold on a machine too noisy for CPU figures to.
 */
import { getHeapSpaceStatistics, getHeapStatistics, type GCProfilerResult } from "node:v8";

export interface HeapActivity {
  /** Bytes allocated on the JS heap, every space. */
  allocated: number;
  /** Bytes that reached the old generation: promoted by a scavenge, or allocated there directly. */
  toOld: number;
  scavenges: number;
  markCompacts: number;
  /** The collections' pauses on the main thread (the profiler's `cost`), in µs. */
  gcMicros: number;
}

/** The heap in use, and its old generation's part. */
export interface HeapPoint {
  used: number;
  old: number;
}

type Space = { spaceName: string; spaceUsedSize: number };

/** Bytes in use in the old generation (old, code and large-object spaces): what only a mark-compact frees. */
function oldGeneration(spaces: readonly Space[]): number {
  let n = 0;
  for (const x of spaces) if (x.spaceName !== "new_space" && x.spaceName !== "new_large_object_space" && x.spaceName !== "read_only_space") n += x.spaceUsedSize;
  return n;
}

/** The heap in use now. */
export function heapNow(): HeapPoint {
  return { used: getHeapStatistics().used_heap_size, old: oldGeneration(getHeapSpaceStatistics().map((x) => ({ spaceName: x.space_name, spaceUsedSize: x.space_used_size }))) };
}

/**
 * Allocation and collections between `start` and `end`, from the profile of the collections in
 * between. Between two collections the heap grows by exactly what was allocated (nothing is freed
 * then); the old generation grows by what was allocated there directly (pretenured and large
 * objects) and, across a scavenge, by what survived it and was promoted.
 */
export function heapActivity(r: Pick<GCProfilerResult, "statistics">, start: HeapPoint, end: HeapPoint): HeapActivity {
  const a: HeapActivity = { allocated: 0, toOld: 0, scavenges: 0, markCompacts: 0, gcMicros: 0 };
  let used = start.used;
  let old = start.old;
  for (const g of r.statistics) {
    const beforeOld = oldGeneration(g.beforeGC.heapSpaceStatistics);
    const afterOld = oldGeneration(g.afterGC.heapSpaceStatistics);
    a.allocated += Math.max(0, g.beforeGC.heapStatistics.usedHeapSize - used);
    a.toOld += Math.max(0, beforeOld - old);
    if (g.gcType === "Scavenge") {
      a.scavenges++;
      a.toOld += Math.max(0, afterOld - beforeOld);
    } else if (g.gcType === "MarkSweepCompact") {
      a.markCompacts++;
    }
    a.gcMicros += g.cost;
    used = g.afterGC.heapStatistics.usedHeapSize;
    old = afterOld;
  }
  a.allocated += Math.max(0, end.used - used);
  a.toOld += Math.max(0, end.old - old);
  return a;
}
