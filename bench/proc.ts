/**
 * CPU time from Linux's /proc, for the benches: a process's, one of its threads', and the whole
 * machine's. Each reader answers null where there is no /proc (the bench then says "n/a").
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** µs in one clock tick, the unit of /proc's CPU times (getconf CLK_TCK; 100 a second where it cannot be read). */
export const TICK_MICROS = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const hz = Number(r.stdout?.trim());
  return 1e6 / (Number.isFinite(hz) && hz > 0 ? hz : 100);
})();

/**
 * User + system clock ticks from a /proc/<pid>/stat (or /proc/<pid>/task/<tid>/stat) line: fields
 * 14 and 15, counted after the command name, which is in parentheses and may hold spaces and parentheses itself.
 */
export function statTicks(stat: string): number {
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}

/**
 * From /proc/stat's first line (every core together), the ticks the cores were busy and the ticks
 * in all: user, nice, system, idle, iowait, irq, softirq and steal. Idle and iowait are time no
 * core worked; guest time is already inside user and nice, so it is not added again.
 */
export function machineTicksOf(procStat: string): { busy: number; all: number } {
  const f = procStat.split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  return { busy: all - f[3]! - f[4]!, all };
}

/**
 * A process's user + system CPU time in µs; with `thread`, that thread's alone (the main thread's
 * id is the process's).
 */
export function procCpuMicros(pid: number, thread?: number): number | null {
  try {
    return statTicks(readFileSync(thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`, "utf8")) * TICK_MICROS;
  } catch {
    return null;
  }
}

/** The machine's CPU time so far, all cores, in clock ticks: busy, and in all. */
export function machineTicks(): { busy: number; all: number } | null {
  try {
    return machineTicksOf(readFileSync("/proc/stat", "utf8"));
  } catch {
    return null;
  }
}
