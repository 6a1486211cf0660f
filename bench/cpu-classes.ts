/**
 * Where a target's main thread spends its CPU, by class of code, from Linux's `perf` (Debian
 * package `linux-perf`): `perf record -e cpu-clock` samples the thread every 250 µs of its own CPU
 * time, in the kernel as in user space, and V8 names its compiled JavaScript in /tmp/perf-<pid>.map
 * when the target runs with --perf-basic-prof.
 *
 * Why not V8's own profiler (--profile): it samples wall time. A thread preempted in a syscall (a
 * loopback write wakes the reader, which may take the core) is sampled there all the while: a
 * --cpu-prof profile of Latchkey under load put 145 µs a request in `writev`, where CPU samples
 * put 35-44 µs in the whole kernel. Nor does it tell V8's builtins (property access, calls) or
 * the kernel apart. CPU samples put each 250 µs where the thread spent it.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Each sample stands for this much of the thread's CPU time (perf's -c, in ns for cpu-clock). */
export const SAMPLE_NS = 250_000;

export const CPU_CLASSES = [
  "kernel (sockets, syscalls, interrupts)",
  "JavaScript: Latchkey's",
  "JavaScript: the bench's own (floor, proxy)",
  "JavaScript and wasm: dependencies (undici)",
  "JavaScript: Node's (http, streams, events)",
  "V8 builtins (property access, calls, strings)",
  "garbage collection",
  "V8 runtime, other",
  "Node native (llhttp, libuv, crypto)",
  "malloc and free",
  "libc, other",
  "other",
] as const;
export type CpuClass = (typeof CPU_CLASSES)[number];

/** A symbol's samples, by symbol and object (perf script's `sym` and `dso`). */
export type SymbolSamples = Map<string, { sym: string; dso: string; samples: number }>;

const GC = /Scaveng|MarkCompact|Marking|Marker|Sweep|Evacuat|Compactor|RecordWrite|RememberedSet|SlotSet|GCTracer|Heap::Collect|Heap::Perform|ConcurrentMark|MinorMC|WriteBarrier/;

/** The class of one sample's symbol in its object (perf script's `sym` and `dso`). */
export function classify(sym: string, dso: string): CpuClass {
  if (dso.includes("kernel")) return "kernel (sockets, syscalls, interrupts)";
  // V8's names for a script's code in its perf map (Node 20 and 24): functions, a script's top level, eval.
  if (sym.startsWith("JS:") || sym.startsWith("Script:") || sym.startsWith("Eval:")) {
    if (sym.includes("/dist/src/")) return "JavaScript: Latchkey's";
    if (sym.includes("/dist/bench/")) return "JavaScript: the bench's own (floor, proxy)";
    if (sym.includes("/node_modules/")) return "JavaScript and wasm: dependencies (undici)";
    if (sym.includes(" node:")) return "JavaScript: Node's (http, streams, events)";
    // The only WebAssembly in these processes is undici's HTTP parser (llhttp).
    if (sym.includes("wasm")) return "JavaScript and wasm: dependencies (undici)";
    if (sym.includes("file://")) return "other";
    // Code V8 made itself, without a script (stubs, handlers).
    return "V8 builtins (property access, calls, strings)";
  }
  if (sym.startsWith("RegExp:") || sym.startsWith("Builtins_") || sym.startsWith("Builtin:") || sym.startsWith("BytecodeHandler:")) {
    return "V8 builtins (property access, calls, strings)";
  }
  if (GC.test(sym)) return "garbage collection";
  if (sym.startsWith("v8::") || sym.startsWith("cppgc::") || sym.startsWith("Runtime_")) return "V8 runtime, other";
  if (/^(node::|uv_|uv__|llhttp|ossl_|OPENSSL_|EVP_|SHA|sha\d|hdr_|nghttp|brotli|simdutf|ada::)/.test(sym)) return "Node native (llhttp, libuv, crypto)";
  if (dso.includes("libc")) {
    return /malloc|free|_int_|unlink_chunk|consolidate|tcache|realloc|calloc|memalign/.test(sym) ? "malloc and free" : "libc, other";
  }
  if (dso.endsWith("/node") || dso === "node") return "V8 runtime, other";
  return "other";
}

/**
 * Samples by symbol, from `perf script -F ip,sym,dso`: each line `<ip> <symbol> (<object>)`.
 * `jit` names an address in V8's code by the process's map (jitNames) instead of perf's reading of it.
 */
export function samplesBySymbol(script: string, jit?: (mapFile: string, ip: number) => string | null): SymbolSamples {
  const out: SymbolSamples = new Map();
  for (const line of script.split("\n")) {
    const m = /^\s*([0-9a-f]+)\s+(.*?)\s*\(([^()]*)\)\s*$/.exec(line);
    if (!m) continue;
    const dso = m[3]!;
    // JIT names end "+0x1f" in some perf versions: the offset is not part of the function.
    const named = (jit && dso.startsWith("/tmp/perf-") ? jit(dso, parseInt(m[1]!, 16)) : null) ?? m[2]!.replace(/\+0x[0-9a-f]+$/, "");
    const sym = named || "[unknown]";
    const key = `${sym}\t${dso}`;
    const s = out.get(key);
    if (s) s.samples++;
    else out.set(key, { sym, dso, samples: 1 });
  }
  return out;
}

/** µs of CPU a request by class, for `requests` requests. */
export function cpuByClass(symbols: SymbolSamples, requests: number): Map<CpuClass, number> {
  const out = new Map<CpuClass, number>(CPU_CLASSES.map((c) => [c, 0]));
  for (const { sym, dso, samples } of symbols.values()) {
    const c = classify(sym, dso);
    out.set(c, out.get(c)! + (samples * SAMPLE_NS) / 1000 / requests);
  }
  return out;
}

/**
 * perf record's options: CPU time, quietly, and no build-id cache. By default perf copies every
 * object it sampled into ~/.debug, the node binary among them: 109 MB a recording.
 */
const RECORD = ["-q", "-e", "cpu-clock", "--no-buildid-cache"];

/** null when `perf record` works here; otherwise why not, to print. */
export function perfProblem(): string | null {
  const v = spawnSync("perf", ["--version"], { encoding: "utf8" });
  if (v.error) return "perf is not installed (Debian package linux-perf)";
  const r = spawnSync("perf", ["record", ...RECORD, "-o", "/dev/null", "--", "true"], { encoding: "utf8" });
  if (r.status !== 0) return `perf record fails here (perf_event_paranoid, or a sandbox without perf_event_open): ${(r.stderr || r.stdout).trim().split("\n")[0]}`;
  return null;
}

/** Samples one thread (a process's main thread: its pid) into `file` until `stop()`. */
export async function recordThread(tid: number, file: string): Promise<{ stop(): Promise<void> }> {
  const p = spawn("perf", ["record", ...RECORD, "-c", String(SAMPLE_NS), "-t", String(tid), "-o", file], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  p.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  // perf opens its counters before it writes the file's header; a short wait lets it attach.
  await new Promise((r) => setTimeout(r, 300));
  if (p.exitCode !== null) throw new Error(`perf record exited at once: ${err.trim()}`);
  return {
    async stop() {
      p.kill("SIGINT");
      const code = await exited;
      // perf record ends with 0 on SIGINT, or with the signal's status on some versions.
      if (code !== 0 && code !== null && code !== 130) throw new Error(`perf record failed (${code}): ${err.trim()}`);
    },
  };
}

/**
 * V8 appends a line to /tmp/perf-<pid>.map for each piece of code it makes, and never takes one
 * back: once code is freed its addresses go to newer code, and perf may still name them after the
 * old (a module's top-level code, run once at start, showed up under load). Names an address by
 * the newest entry that covers it: of entries that overlap, the older are dropped.
 */
export function jitNames(map: string): (ip: number) => string | null {
  const lines = map.split("\n");
  // Kept ranges, sorted by start and disjoint, the newest entries taken first.
  const starts: number[] = [];
  const ends: number[] = [];
  const names: string[] = [];
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(lines[i]!);
    if (!m) continue;
    const start = parseInt(m[1]!, 16);
    const end = start + parseInt(m[2]!, 16);
    // The first kept range that ends after this one starts: they overlap if it starts before this one ends.
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    if (lo < starts.length && starts[lo]! < end) continue;
    starts.splice(lo, 0, start);
    ends.splice(lo, 0, end);
    names.splice(lo, 0, m[3]!);
  }
  return (ip) => {
    // The last range that starts at or before ip.
    let lo = 0, hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= ip) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && ip < ends[lo - 1]! ? names[lo - 1]! : null;
  };
}

/** The samples of a perf.data file, by symbol; V8's code named by its map as it stands now (jitNames). */
export function readRecording(file: string): SymbolSamples {
  const r = spawnSync("perf", ["script", "-i", file, "-F", "ip,sym,dso"], { encoding: "utf8", maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`perf script failed: ${r.stderr.trim().split("\n")[0]}`);
  const maps = new Map<string, ((ip: number) => string | null) | null>();
  return samplesBySymbol(r.stdout, (mapFile, ip) => {
    if (!maps.has(mapFile)) {
      let names: ((ip: number) => string | null) | null = null;
      try {
        names = jitNames(readFileSync(mapFile, "utf8"));
      } catch {
        // No map (the process ran without --perf-basic-prof): perf's own names, if any.
      }
      maps.set(mapFile, names);
    }
    return maps.get(mapFile)?.(ip) ?? null;
  });
}
