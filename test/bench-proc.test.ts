import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { machineTicks, machineTicksOf, procCpuMicros, statTicks, TICK_MICROS } from "../bench/proc.js";
import { SERVICES_REQUIRED } from "./support/services.js";

/** Linux's /proc, which the gateway bench reads; elsewhere its figures print as "n/a", said aloud here. */
const hasProc = ((): boolean => {
  if (existsSync("/proc/self/stat")) return true;
  if (SERVICES_REQUIRED) throw new Error("/proc is required (LATCHKEY_TEST_SERVICES=required): the gateway bench reads CPU times from it");
  console.warn("\n*** no /proc on this machine: the bench's CPU readers are tested on fixed text only. ***\n");
  return false;
})();

describe("the bench's CPU figures from /proc", () => {
  it("reads a thread's user and system ticks after its name, however many spaces and parentheses the name holds", () => {
    // Fields after the name: state, ppid, pgrp, session, tty, tpgid, flags, minflt, cminflt, majflt, cmajflt, utime (14), stime (15), cutime, cstime.
    const rest = "R 1 2 3 0 -1 4194304 10 0 0 0 1234 56 7 8 20 0 9";
    expect(statTicks(`4321 (node) ${rest}`)).toBe(1234 + 56);
    expect(statTicks(`4321 (a) b (c) d) ${rest}`)).toBe(1234 + 56);
  });

  it("counts the machine's busy time as all but idle and iowait, and guest time once", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice
    const stat = "cpu  100 5 50 1000 20 3 7 4 30 1\ncpu0 50 2 25 500 10 1 3 2 15 0\nintr 12345\n";
    expect(machineTicksOf(stat)).toEqual({ busy: 100 + 5 + 50 + 3 + 7 + 4, all: 100 + 5 + 50 + 1000 + 20 + 3 + 7 + 4 });
  });

  it.runIf(hasProc)("measures this process's main thread as it works, and the machine around it", () => {
    const mainBefore = procCpuMicros(process.pid, process.pid)!;
    const processBefore = procCpuMicros(process.pid)!;
    const machineBefore = machineTicks()!;
    // Work on this thread until the process has used 200 ms more CPU (by its own account).
    const start = process.cpuUsage();
    let sink = 0;
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 200_000) for (let i = 0; i < 100_000; i++) sink += Math.sqrt(i);
    expect(sink).toBeGreaterThan(0);
    const main = procCpuMicros(process.pid, process.pid)! - mainBefore;
    const all = procCpuMicros(process.pid)! - processBefore;
    const machine = machineTicks()!;
    // The main thread did most of the work (other threads of the process may have run meanwhile), and no more than the process did.
    expect(main).toBeGreaterThanOrEqual(100_000);
    expect(main).toBeLessThanOrEqual(all + TICK_MICROS);
    expect((machine.busy - machineBefore.busy) * TICK_MICROS).toBeGreaterThanOrEqual(main - 3 * TICK_MICROS);
    expect(machine.all).toBeGreaterThan(machineBefore.all);
    expect(procCpuMicros(process.pid, 2 ** 22 + 1), "a thread that does not exist").toBeNull();
  });
});
