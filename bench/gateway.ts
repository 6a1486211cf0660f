/**
 * Gateway benchmark on loopback, load from `wrk` (a C load generator: `apt-get install wrk`).
 * Four processes besides the load generator: a minimal node:http upstream (bench/baseline-upstream.ts:
 * a fixed JSON body, a fixed 22-event SSE stream), the bare undici proxy (bench/baseline-proxy.ts),
 * the floor gateway (bench/floor-gateway.ts: that proxy plus the least per-request work a metering
 * gateway does, written by hand) and Latchkey (the whole app from createApp: a live key with rate
 * limits and a spend limit, metering, usage written to SQLite). They take turns, round after round, and the table
 * shows medians: requests/s at 32 connections, p50/p99 latency at 1 and 32 connections, CPU µs per
 * request (the proxy process's CPU time from /proc/<pid>/stat), its main thread's alone and how busy
 * that thread was (what bounds req/s when it nears 100%), and RSS after the runs.
 *   node dist/bench/gateway.js [--seconds 5] [--rounds 3] [--warm 1] [--only json|stream] [--profile <dir>]
 *     [--trace-gc <file>] [--limits] [--offload] [--perf] [--access-log] [--autocannon] [--v8-flags "<flags>"]
 * --profile: the undici proxy, the floor gateway and Latchkey write a V8 CPU profile (--cpu-prof) into <dir>; --trace-gc: Latchkey runs
 * with --trace-gc, its standard output into <file>; --access-log: Latchkey writes its access log
 * line per request (to a standard error sent to /dev/null by the caller). Without wrk on the PATH
 * (or with --autocannon) the load comes from autocannon, a Node process on the same cores, which
 * squeezes every ratio toward 1: the output says so. After the rounds, one more run a target with
 * V8's GC profiler on tells what a request allocates, how much of it reaches the old generation and
 * what the collections cost: counts, which hold on a machine too noisy for CPU times to.
 * --v8-flags replaces the V8 flags Latchkey and the floor gateway run with. Each measured run
 * follows --warm seconds (1) of the same load, timed apart: see WARM_SECONDS.
 * Below the table: each target's CPU µs a request over the proxy's (the work it adds to a request:
 * a ratio to the proxy grows when only the proxy's own cost falls, the sockets' for one), and all
 * cores' CPU µs a request (the target's, wrk's and the upstream's together: when the cores are
 * near full, what bounds req/s).
 * --offload adds a fourth target, the bare proxy with its upstream leg on a worker thread
 * (bench/offload-proxy.ts): whether moving work off the main thread raises req/s on this machine.
 * --perf (needs Linux's perf, Debian package linux-perf) runs the three targets with V8's
 * --perf-basic-prof and ends with one more run a target under `perf record` on its main thread:
 * its CPU a request by class of code, and the symbols where Latchkey spends most over the floor.
 * With --limits it also compares, JSON at 32 connections: no limits at all; spend limits and
 * credits on (in-process counters); rate limits with Redis on one node and on two nodes (the load
 * split between them, over one PostgreSQL).
 */
import { fork, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { GCProfiler } from "node:v8";
import { CPU_CLASSES, cpuByClass, perfProblem, readRecording, recordThread, SAMPLE_NS, type CpuClass } from "./cpu-classes.js";
import { heapActivity, heapNow, type HeapActivity, type HeapPoint } from "./heap.js";
import { machineTicks, procCpuMicros, TICK_MICROS } from "./proc.js";
import { median, printTable } from "./table.js";
import { ask, LAUNCHER_FLAGS, requestBody, requestHeaders } from "./targets.js";

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  non2xx: number;
}
type Autocannon = (o: Record<string, unknown>) => Promise<AutocannonResult>;
// autocannon ships no type declarations; this is the part used here. Loaded by the parent only:
// in the children (Latchkey among them) it would add its own memory (about 26 MB) to their RSS.
let loaded: Autocannon | null = null;
const autocannon: Autocannon = (o) => (loaded ??= createRequire(import.meta.url)("autocannon") as Autocannon)(o);

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const role = arg("--role");
const SECONDS = Number(arg("--seconds") ?? 5);
const ROUNDS = Number(arg("--rounds") ?? 3);
/** Runs at one connection are shorter: their figures settle sooner. */
const SECONDS_ONE = Math.max(2, Math.round(SECONDS * 0.6));
/**
 * Seconds of load, not counted, before each measured run. A target sits idle while the others
 * run, and idle, V8's memory reducer collects the heap in full: in Latchkey, --trace-deopt showed
 * the request path's optimized code dropped then ("weak objects"), and with --no-memory-reducer
 * the first second back cost no more than the next. That second runs partly in V8's lower tiers;
 * it is timed on its own and given below the table. --warm 0 measures from the first request.
 */
const WARM_SECONDS = Number(arg("--warm") ?? 1);
/**
 * Latchkey runs with the V8 flags its launcher gives it (bin/latchkey.js, npm start), the floor
 * gateway with the same; --v8-flags "<flags>" replaces them in both, to try others.
 */
const APP_FLAGS = arg("--v8-flags")?.split(" ").filter(Boolean) ?? LAUNCHER_FLAGS;

/**
 * What Latchkey's usage writer did (rows inserted, batches, roll-up passes, ms), as the writer
 * counts it: on the main thread, or on the usage thread (SQLite file), whose time is not the main thread's.
 */
interface Writer { rows: number; batches: number; insertMs: number; rollups: number; rollupMs: number; mainThread: boolean }
let writerStats: () => Writer | null = () => null;

/** The child's main-thread event-loop delay from the first run on (ms): a stall shows here as it does in p99. */
let loopDelay: () => { p99: number; max: number } | null = () => null;

/**
 * Starts measuring the event-loop delay; every target does, so that Latchkey's can be read against
 * the proxy's and the floor gateway's. Under load at 32 connections the delay is mostly the length
 * of one turn of the loop, which serves every socket ready at once: a long turn is busy, not stalled.
 */
function watchLoop(): void {
  // Under an instruction counter (bench/instructions.ts) a 1 ms timer would be counted as work.
  if (process.argv.includes("--no-loop-delay")) return;
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  loopDelay = () => ({ p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 });
}

/** What a child answers when sampled (Latchkey's child adds its usage writer). */
interface Settled { cpuMicros: number; rss: number; loop?: { p99: number; max: number } | null; writer: Writer | null }

/**
 * Answers the parent. `settle`, given by Latchkey's child, finishes the work a run left behind
 * before the figures are taken (the last usage batch, and the roll-up, which otherwise runs on its
 * 15 s timer, often while another target is being measured), so that Latchkey's CPU per request
 * includes it. The CPU time itself is read by the parent from /proc.
 */
function answerStats(settle?: () => Promise<void>): void {
  // Exit cleanly on SIGTERM so that --cpu-prof (see --profile) writes its profile; and when the
  // bench that started this process is gone however it went (killed, a broken pipe): its IPC
  // channel closes, and a target left running would hold its port and data directory for good.
  process.once("SIGTERM", () => process.exit(0));
  process.once("disconnect", () => process.exit(0));
  let gc: ({ profiler: GCProfiler } & HeapPoint) | null = null;
  process.on("message", (m: { cmd: string; settle: boolean }) => {
    if (m.cmd === "gc-start") {
      gc = { profiler: new GCProfiler(), ...heapNow() };
      gc.profiler.start();
      process.send!({ gcStarted: true });
      return;
    }
    if (m.cmd === "gc-stop" && gc) {
      const result = gc.profiler.stop();
      process.send!({ gc: heapActivity(result, gc, heapNow()) });
      gc = null;
      return;
    }
    if (m.cmd !== "sample") return;
    void (m.settle && settle ? settle() : Promise.resolve()).then(() => {
      const c = process.cpuUsage();
      const settled: Settled = { cpuMicros: c.user + c.system, rss: process.memoryUsage().rss, loop: loopDelay(), writer: writerStats() };
      process.send!({ settled });
    });
  });
}

async function child(): Promise<void> {
  if (role === "upstream") {
    const { startBenchUpstream } = await import("./baseline-upstream.js");
    const up = await startBenchUpstream();
    answerStats();
    process.send!({ ready: { url: up.url } });
  } else if (role === "baseline" || role === "offload" || role === "floor") {
    const upstream = arg("--upstream")!;
    const p = role === "baseline" ? await (await import("./baseline-proxy.js")).startBaselineProxy(upstream)
      : role === "offload" ? await (await import("./offload-proxy.js")).startOffloadProxy(upstream)
        : await (await import("./floor-gateway.js")).startFloorGateway(upstream, arg("--data-dir")!);
    answerStats();
    watchLoop();
    process.send!({ ready: { url: p.url } });
  } else if (role === "app") {
    const { loadConfig } = await import("../src/config/index.js");
    const { createApp } = await import("../src/main.js");
    const dataDir = arg("--data-dir")!;
    const mode = arg("--mode") ?? "limits";
    const redis = mode.startsWith("redis") ? { redisUrl: process.env.LATCHKEY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", redisPrefix: arg("--redis-prefix"), nodeCount: 2 } : {};
    const databaseUrl = arg("--database-url");
    const app = await createApp(loadConfig({ env: {}, overrides: { dataDir, port: 0, logLevel: process.argv.includes("--access-log") ? "info" : "warn", masterKey: "33".repeat(32), allowPrivateUpstreams: "127.0.0.0/8", ...redis, ...(databaseUrl ? { databaseUrl } : {}) } }));
    const url = await app.listen();
    // The recorder writes every 100 ms; then the roll-up counts what it wrote.
    writerStats = () => app.services.store.usageWriter.stats();
    const settle = async () => {
      await new Promise((r) => setTimeout(r, 250));
      await app.services.usageRollups.runOnce();
    };
    const joining = arg("--key");
    if (joining) {
      answerStats(settle);
      process.send!({ ready: { url, key: joining } });
      return;
    }
    const admin = app.bootstrap!.created!.adminKey;
    const api = async (method: string, path: string, body: unknown) => {
      const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
      return (await r.json()) as { key: string };
    };
    await api("POST", "/api/v1/credentials", { provider: "anthropic", name: "bench", secret: "sk-ant-bench-upstream-secret", base_url: arg("--upstream") });
    const rate = { rate_limits: { requests_per_minute: 100_000_000, tokens_per_minute: 1_000_000_000_000, concurrent_requests: 10_000 } };
    const spend = { spend_limit: { amount_usd: "1000000", period: "month" } };
    // limits: everything (the main table); credits: spend limits and credits only; redis: rate limits only.
    const limits = mode === "none" ? {} : mode === "credits" ? spend : mode.startsWith("redis") ? rate : { ...rate, ...spend };
    if (mode === "credits") {
      await api("PATCH", "/api/v1/credits/settings", { credits_enabled: true });
      await api("POST", "/api/v1/credits", { amount_usd: "1000000", note: "bench" });
      await api("PATCH", "/api/v1/organization", { spend_limit: { amount_usd: "1000000", period: "month" } });
    }
    const { key } = await api("POST", "/api/v1/keys", { name: "bench", kind: "live", allowed_models: ["claude-*"], ...limits });
    answerStats(settle);
    watchLoop();
    process.send!({ ready: { url, key } });
  }
}

interface Target { name: string; proc: ChildProcess; url: string; key: string }
interface Run {
  rps: number; requests: number; p50: number; p99: number; errors: number; cpu: number; rss: number;
  /** The main thread's CPU µs a request, and the share of the run it was busy (NaN without /proc). */
  mainCpu: number; mainBusy: number;
  /** The share of all cores' time that was busy over the run: every process, the load generator's and the upstream's included. */
  machineBusy: number;
  /** All cores' busy CPU µs a request over the run: the target's, the load generator's and the upstream's together. */
  machineCpu: number;
}

function start(r: string, extra: string[] = [], execArgv: string[] = [], stdout: "inherit" | number = "inherit"): Promise<{ proc: ChildProcess; url: string; key: string }> {
  const passOn = process.argv.includes("--access-log") ? ["--access-log"] : [];
  const proc = fork(fileURLToPath(import.meta.url), ["--role", r, ...extra, ...passOn], { stdio: ["ignore", stdout, "inherit", "ipc"], execArgv });
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => reject(new Error(`${r} exited with ${code}`)));
    proc.on("message", (m: { ready?: { url: string; key?: string } }) => {
      if (m.ready) resolve({ proc, url: m.ready.url, key: m.ready.key ?? "sk-direct" });
    });
  });
}

/**
 * The process's CPU time and RSS; with `settle`, after it has finished the work a run left behind.
 * Read from /proc where there is one, else as the process itself reports them.
 */
async function sample(proc: ChildProcess, settle: boolean): Promise<Settled> {
  const settled = await ask<Settled>(proc, { cmd: "sample", settle }, "settled");
  const cpu = procCpuMicros(proc.pid!);
  let rss = settled.rss;
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, "utf8"));
    if (kb) rss = Number(kb[1]) * 1024;
  } catch { /* no /proc: the process's own figure */ }
  return { cpuMicros: cpu ?? settled.cpuMicros, rss, loop: settled.loop, writer: settled.writer };
}

const useWrk = !process.argv.includes("--autocannon") && spawnSync("wrk", ["--version"]).error === undefined;
let scriptDir = "";

/** A wrk script that POSTs the request and prints the figures as one JSON line when done. */
function wrkScript(key: string, stream: boolean): string {
  const file = join(scriptDir, `${stream ? "stream" : "json"}-${key.replace(/\W/g, "").slice(-12)}.lua`);
  const lua = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  writeFileSync(file, [
    `wrk.method = "POST"`,
    `wrk.body = ${lua(requestBody(stream))}`,
    ...Object.entries(requestHeaders(key)).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`),
    "done = function(summary, latency, requests)",
    "  local e = summary.errors",
    `  io.write(string.format('WRKJSON {"requests":%d,"duration":%d,"p50":%.0f,"p99":%.0f,"errors":%d,"status":%d}\\n',`,
    "    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))",
    "end",
  ].join("\n"));
  return file;
}

interface Load { rps: number; requests: number; p50: number; p99: number; errors: number }

/** One load run; latencies in ms. */
async function generate(url: string, key: string, stream: boolean, connections: number, seconds: number): Promise<Load> {
  if (!useWrk) {
    const r = await autocannon({ url: `${url}/v1/messages`, method: "POST", connections, duration: seconds, headers: requestHeaders(key), body: requestBody(stream) });
    return { rps: r.requests.average, requests: r.requests.total, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.non2xx };
  }
  const out = await new Promise<string>((resolve, reject) => {
    const p = spawn("wrk", ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", wrkScript(key, stream), `${url}/v1/messages`], { stdio: ["ignore", "pipe", "inherit"] });
    let text = "";
    p.stdout.on("data", (c: Buffer) => (text += c.toString()));
    p.once("error", reject);
    p.once("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk exited with ${code}: ${text}`))));
  });
  const line = out.split("\n").find((l) => l.startsWith("WRKJSON "));
  if (!line) throw new Error(`wrk printed no figures: ${out}`);
  const w = JSON.parse(line.slice(8)) as { requests: number; duration: number; p50: number; p99: number; errors: number; status: number };
  return { rps: w.requests / (w.duration / 1e6), requests: w.requests, p50: w.p50 / 1000, p99: w.p99 / 1000, errors: w.errors + w.status };
}

/** A figure rounded to `digits`, or "n/a" where it could not be read (no /proc). */
function orNa(x: number, digits: number, unit = ""): string {
  return Number.isFinite(x) ? `${x.toFixed(digits)}${unit}` : "n/a";
}

/**
 * One run against one target, with the target's CPU time per request over it: the whole process's
 * (after it has settled), and its main thread's over the load alone, with the share of the run's
 * wall time that thread was busy. A main thread busy for nearly all of the run is what bounds its
 * requests a second: its work runs on one core however many the process's other threads use.
 */
async function load(t: Target, stream: boolean, connections: number, seconds: number): Promise<Run> {
  const before = await sample(t.proc, false);
  const mainBefore = procCpuMicros(t.proc.pid!, t.proc.pid!);
  const machineBefore = machineTicks();
  const r = await generate(t.url, t.key, stream, connections, seconds);
  const machineAfter = machineTicks();
  const mainAfter = procCpuMicros(t.proc.pid!, t.proc.pid!);
  const after = await sample(t.proc, true);
  const main = mainBefore === null || mainAfter === null ? NaN : mainAfter - mainBefore;
  return {
    ...r, cpu: r.requests ? (after.cpuMicros - before.cpuMicros) / r.requests : NaN, rss: after.rss,
    mainCpu: r.requests ? main / r.requests : NaN, mainBusy: r.rps ? main / ((r.requests / r.rps) * 1e6) : NaN,
    machineBusy: machineBefore && machineAfter ? (machineAfter.busy - machineBefore.busy) / (machineAfter.all - machineBefore.all) : NaN,
    machineCpu: machineBefore && machineAfter && r.requests ? ((machineAfter.busy - machineBefore.busy) * TICK_MICROS) / r.requests : NaN,
  };
}

/** The same load split over several nodes at once: summed throughput, CPU per request over all. */
async function loadSplit(nodes: Target[], connections: number, seconds: number) {
  const before = await Promise.all(nodes.map((n) => sample(n.proc, false)));
  const runs = await Promise.all(nodes.map((n) => generate(n.url, n.key, false, connections / nodes.length, seconds)));
  const after = await Promise.all(nodes.map((n) => sample(n.proc, true)));
  const done = runs.reduce((s, r) => s + r.requests, 0);
  const cpu = after.reduce((s, a, i) => s + a.cpuMicros - before[i]!.cpuMicros, 0);
  return { rps: runs.reduce((s, r) => s + r.rps, 0), cpu: cpu / done, errors: runs.reduce((s, r) => s + r.errors, 0) };
}

/** --limits: what limits, credits and Redis cost, measured side by side in one run. */
async function limitsComparison(upstreamUrl: string, root: string, procs: ChildProcess[]): Promise<void> {
  const prefix = `lkbench:${process.pid}:`;
  const app = async (mode: string, dir = mkdtempSync(join(root, `${mode}-`)), extra: string[] = []) => {
    const a = await start("app", ["--upstream", upstreamUrl, "--data-dir", dir, "--mode", mode, "--redis-prefix", prefix, ...extra], APP_FLAGS);
    procs.push(a.proc);
    return a;
  };
  const none = await app("none");
  const credits = await app("credits");
  // Two nodes as deployed: one PostgreSQL (a private schema) and one Redis, the same key on both.
  const pgUrl = process.env.LATCHKEY_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test";
  const schema = `lkbench_${process.pid}`;
  // Imported here, not at the top, for the same reason as autocannon: the children need not carry it.
  const { default: pg } = await import("pg");
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const databaseUrl = `${pgUrl}${pgUrl.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  try {
    const redisA = await app("redis", undefined, ["--database-url", databaseUrl]);
    const redisB = await app("redis", undefined, ["--database-url", databaseUrl, "--key", redisA.key]);
    await compareLimits([
      ["no limits", [{ name: "none", ...none }]],
      ["spend limits + credits (in process)", [{ name: "credits", ...credits }]],
      ["rate limits in Redis, PostgreSQL store, 1 node", [{ name: "redis", ...redisA }]],
      ["rate limits in Redis, PostgreSQL store, 2 nodes", [{ name: "redis A", ...redisA }, { name: "redis B", ...redisB }]],
    ]);
    for (const p of [redisA.proc, redisB.proc]) p.kill("SIGTERM");
  } finally {
    await new Promise((r) => setTimeout(r, 500));
    await admin.query(`drop schema if exists ${schema} cascade`);
    await admin.end();
  }
}

async function compareLimits(targets: [string, Target[]][]): Promise<void> {
  for (const [, ts] of targets) for (const t of ts) await load(t, false, 8, 1);
  const rows: (string | number)[][] = [];
  let baseRps = 0;
  let baseP50 = 0;
  for (const [name, ts] of targets) {
    const one = await load(ts[0]!, false, 1, SECONDS_ONE);
    const many = ts.length > 1 ? await loadSplit(ts, 32, SECONDS) : await load(ts[0]!, false, 32, SECONDS);
    if (name === "no limits") {
      baseRps = many.rps;
      baseP50 = one.p50;
    }
    rows.push([name, Math.round(many.rps), `${((many.rps / baseRps) * 100).toFixed(0)}%`, one.p50.toFixed(3), `${((one.p50 - baseP50) * 1000).toFixed(0)}`, one.p99.toFixed(3), Math.round(many.cpu), one.errors + many.errors]);
  }
  printTable(`limits, credits and Redis (JSON, loopback, ${SECONDS}s per run)`,
    ["latchkey with", "req/s @32", "vs none", "p50 ms @1", "added p50 µs", "p99 ms @1", "CPU µs/req @32", "errors"], rows);
  console.log("targets: spend limits and credits on within 10% of off; two nodes over Redis exact (see test/multinode.test.ts)");
}

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/**
 * One more run a target, with V8's GC profiler on in it: what each request allocates, how much of
 * it reaches the old generation (which only a mark-compact frees, and whose size sets the heap's),
 * and the collections that follow. Counts, not times, so they hold on a noisy machine where CPU
 * figures do not; kept out of the rounds above, since the profiler reads the heap at every collection.
 */
async function heapPass(targets: Target[], kinds: boolean[]): Promise<void> {
  const rows: (string | number)[][] = [];
  for (const stream of kinds) {
    for (const t of targets) {
      await ask(t.proc, { cmd: "gc-start" }, "gcStarted");
      const r = await generate(t.url, t.key, stream, 32, SECONDS_ONE);
      const h = await ask<HeapActivity>(t.proc, { cmd: "gc-stop" }, "gc");
      const per = (x: number, n = 1) => (x * n) / r.requests;
      rows.push([`${t.name}, ${stream ? "stream" : "JSON"}`, r.requests, per(h.allocated / 1024).toFixed(1), Math.round(per(h.toOld)),
        per(h.scavenges, 1000).toFixed(1), per(h.markCompacts, 100_000).toFixed(1), per(h.gcMicros).toFixed(1)]);
    }
  }
  printTable(`heap per request (V8's GC profiler on, one more ${SECONDS_ONE}s run at 32 connections a target, not part of the figures above)`,
    ["target", "requests", "KB allocated/req", "B to old gen/req", "scavenges/1k req", "mark-compacts/100k req", "GC pauses µs/req"], rows);
}

/**
 * With --perf, one more run a target with `perf record` on its main thread (cpu-classes.ts): its
 * CPU a request by class of code (kernel, Latchkey's JavaScript, V8's builtins, the collector...),
 * the breakdown V8's wall-time profiler cannot give; then the symbols where Latchkey spends most
 * over the floor gateway. The main thread only: it is what bounds req/s here (the table's column).
 */
async function perfPass(targets: Target[], kinds: boolean[], dir: string): Promise<void> {
  const head = ["class (main thread, CPU µs a request @32)"];
  const byTarget: Map<CpuClass, number>[] = [];
  // µs a request by symbol, for each target and kind (`${name}/${stream}`).
  const symbols = new Map<string, Map<string, number>>();
  for (const stream of kinds) {
    for (const t of targets) {
      const file = join(dir, `${t.name.replace(/\W/g, "-")}-${stream ? "stream" : "json"}.data`);
      // As before a measured run: the target sat idle while the others were sampled.
      if (WARM_SECONDS > 0) await generate(t.url, t.key, stream, 32, WARM_SECONDS);
      const rec = await recordThread(t.proc.pid!, file);
      const r = await generate(t.url, t.key, stream, 32, SECONDS_ONE);
      await rec.stop();
      const found = readRecording(file);
      head.push(`${t.name}, ${stream ? "stream" : "JSON"}`);
      byTarget.push(cpuByClass(found, r.requests));
      const per = new Map<string, number>();
      for (const s of found.values()) per.set(s.sym, (per.get(s.sym) ?? 0) + (s.samples * SAMPLE_NS) / 1000 / r.requests);
      symbols.set(`${t.name}/${stream}`, per);
    }
  }
  const rows: (string | number)[][] = CPU_CLASSES.map((c) => [c, ...byTarget.map((m) => m.get(c)!.toFixed(1))]);
  rows.push(["all", ...byTarget.map((m) => [...m.values()].reduce((a, b) => a + b, 0).toFixed(1))]);
  printTable(`main thread's CPU by class of code (perf record -e cpu-clock, one more ${SECONDS_ONE}s run at 32 connections a target, not part of the figures above)`, head, rows);
  // Latchkey against the floor, kind by kind: the symbols where it spends most more.
  for (const stream of kinds) {
    const floor = symbols.get(`floor gateway/${stream}`)!;
    const lk = symbols.get(`latchkey/${stream}`)!;
    const names = new Set([...floor.keys(), ...lk.keys()]);
    const top = [...names].map((n) => [n, (lk.get(n) ?? 0) - (floor.get(n) ?? 0)] as const).sort((a, b) => b[1] - a[1]).slice(0, 12);
    console.log(`${stream ? "stream" : "json"}: latchkey's main thread over the floor gateway's, the 12 symbols with the most more (µs a request): `
      + top.map(([n, d]) => `${n.replace(/file:\/\/\S*\/dist\//, "").replace(/\S*\/node_modules\//, "")} ${d.toFixed(2)}`).join("; "));
  }
}

async function main(): Promise<void> {
  const perf = process.argv.includes("--perf");
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-bench-gw-"));
  scriptDir = mkdtempSync(join(tmpdir(), "latchkey-bench-wrk-"));
  const procs: ChildProcess[] = [];
  let gcLog: number | null = null;
  try {
    if (useWrk) console.log(`load generator: wrk (${spawnSync("wrk", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]!.trim()})`);
    else console.log("LOAD GENERATOR: autocannon, NOT wrk (wrk is not on the PATH, or --autocannon was given): it runs in Node on the same cores as the targets and squeezes every ratio toward 1; install wrk (apt-get install wrk) for figures worth comparing");
    if (perf) {
      const problem = perfProblem();
      if (problem) throw new Error(`--perf: ${problem}`);
    }
    // V8 names its compiled code for perf in /tmp/perf-<pid>.map (removed below).
    const perfFlags = perf ? ["--perf-basic-prof"] : [];
    const upstream = await start("upstream");
    procs.push(upstream.proc);
    const profile = arg("--profile");
    const base = await start("baseline", ["--upstream", upstream.url], [...perfFlags, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}/baseline`] : [])]);
    procs.push(base.proc);
    const traceGc = arg("--trace-gc");
    if (traceGc) gcLog = openSync(traceGc, "w");
    const app = await start("app", ["--upstream", upstream.url, "--data-dir", dataDir],
      [...APP_FLAGS, ...perfFlags, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []), ...(traceGc ? ["--trace-gc"] : [])], gcLog ?? "inherit");
    procs.push(app.proc);
    // The floor gateway runs with Latchkey's V8 flags: the two differ in how they do the work, not in the heap they have.
    const floor = await start("floor", ["--upstream", upstream.url, "--data-dir", mkdtempSync(join(dataDir, "floor-"))],
      [...APP_FLAGS, ...perfFlags, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}/floor`] : [])]);
    procs.push(floor.proc);
    const targets: Target[] = [{ name: "undici proxy", ...base }, { name: "floor gateway", ...floor }, { name: "latchkey", ...app }];
    if (process.argv.includes("--offload")) {
      const offload = await start("offload", ["--upstream", upstream.url]);
      procs.push(offload.proc);
      targets.push({ name: "offload proxy", ...offload });
    }
    const idleRss = (await sample(app.proc, false)).rss;
    const only = arg("--only");
    const kinds = only ? [only === "stream"] : [false, true];
    for (const stream of kinds) for (const t of targets) await load(t, stream, 8, 2); // warm-up
    const runs = new Map<string, { many: Run[]; one: Run[]; cold: Run[] }>();
    const at = (t: Target, stream: boolean) => {
      const k = `${t.name}/${stream}`;
      if (!runs.has(k)) runs.set(k, { many: [], one: [], cold: [] });
      return runs.get(k)!;
    };
    // The targets take turns, in alternating order, ROUNDS times: the machine's speed drifts
    // over a run, and a ratio of two runs taken side by side is steadier than one of runs a minute apart.
    // Ratios of a to b; `over` is a's CPU µs a request over b's (a difference: the work a adds,
    // which a ratio hides when b's own cost changes).
    type Ratios = { rps: number[]; p99: number[]; cpu: number[]; main: number[]; machine: number[]; over: number[] };
    const pairs: Record<string, { proxy: Ratios; floorToProxy: Ratios; floor: Ratios; offload: Ratios }> = {};
    const push = (into: Ratios, a: Run, b: Run) => {
      into.rps.push(a.rps / b.rps);
      into.p99.push(a.p99 / b.p99);
      into.cpu.push(a.cpu / b.cpu);
      into.main.push(a.mainCpu / b.mainCpu);
      into.machine.push(a.machineCpu / b.machineCpu);
      into.over.push(a.cpu - b.cpu);
    };
    for (let i = 0; i < ROUNDS; i++) {
      const order = i % 2 === 0 ? targets : [...targets].reverse();
      for (const stream of kinds) {
        for (const t of order) {
          if (WARM_SECONDS > 0) at(t, stream).cold.push(await load(t, stream, 32, WARM_SECONDS));
          at(t, stream).many.push(await load(t, stream, 32, SECONDS));
        }
        for (const t of order) {
          if (WARM_SECONDS > 0) await generate(t.url, t.key, stream, 1, WARM_SECONDS);
          at(t, stream).one.push(await load(t, stream, 1, SECONDS_ONE));
        }
        const [proxy, fl, lk, off] = targets.map((t) => at(t, stream).many.at(-1)!) as [Run, Run, Run, Run | undefined];
        const empty = () => ({ rps: [], p99: [], cpu: [], main: [], machine: [], over: [] });
        const p = (pairs[stream ? "stream" : "json"] ??= { proxy: empty(), floorToProxy: empty(), floor: empty(), offload: empty() });
        push(p.proxy, lk, proxy);
        push(p.floorToProxy, fl, proxy);
        push(p.floor, lk, fl);
        if (off) push(p.offload, off, proxy);
      }
    }
    const rows: (string | number)[][] = [];
    for (const stream of kinds) {
      for (const t of targets) {
        const { many, one } = at(t, stream);
        const m = (rs: Run[], f: (r: Run) => number) => median(rs.map(f));
        rows.push([`${t.name}, ${stream ? "stream" : "JSON"}`, Math.round(m(many, (r) => r.rps)), m(one, (r) => r.p50).toFixed(3), m(one, (r) => r.p99).toFixed(3),
          m(many, (r) => r.p50).toFixed(2), m(many, (r) => r.p99).toFixed(2), Math.round(m(one, (r) => r.cpu)), Math.round(m(many, (r) => r.cpu)),
          orNa(m(many, (r) => r.mainCpu), 0), orNa(m(many, (r) => r.mainBusy * 100), 0, "%"), orNa(m(many, (r) => r.machineBusy * 100), 0, "%"),
          Math.round(Math.max(...many.map((r) => r.rss)) / 1048576), [...many, ...one].reduce((s, r) => s + r.errors, 0)]);
      }
    }
    printTable(`gateway vs a bare undici proxy (loopback, minimal node:http upstream, ${useWrk ? "wrk" : "autocannon"}; medians of ${ROUNDS} interleaved rounds, ${SECONDS}s at 32 connections, ${SECONDS_ONE}s at 1)`,
      ["target", "req/s @32", "p50 ms @1", "p99 ms @1", "p50 ms @32", "p99 ms @32", "CPU µs/req @1", "CPU µs/req @32", "main thread µs/req @32", "main thread busy @32", "all cores busy @32", "RSS MB", "errors"], rows);
    console.log("main thread: that thread's CPU alone over the runs at 32 connections, and the share of their wall time it was busy; near 100% while the cores are not all busy, it is what bounds req/s");
    if (WARM_SECONDS > 0) {
      for (const stream of kinds) {
        const cold = targets.map((t) => {
          const { many, cold: first } = at(t, stream);
          const c = median(first.map((r) => r.mainCpu)), w = median(many.map((r) => r.mainCpu));
          return `${t.name} ${orNa(c, 0)} µs (${ratio(c, w)} its run's), ${Math.round(median(first.map((r) => r.rps)))} req/s`;
        });
        console.log(`${stream ? "stream" : "json"}: the first ${WARM_SECONDS}s back at 32 connections after sitting idle while the others ran (not in the table), main thread CPU a request and req/s, medians: ${cold.join("; ")}`);
      }
    }
    const last = await sample(app.proc, true);
    console.log(`\nlatchkey RSS: ${Math.round(idleRss / 1048576)} MB idle after start, ${Math.round(last.rss / 1048576)} MB after the runs (target < 150 MB)`);
    const loops = [["undici proxy", (await sample(base.proc, false)).loop], ["floor gateway", (await sample(floor.proc, false)).loop], ["latchkey", last.loop]] as const;
    console.log(`main thread's event-loop delay over all runs (1 ms resolution; at 32 connections mostly one busy turn of the loop): `
      + loops.map(([name, l]) => `${name} p99 ${l?.p99.toFixed(1)} ms, max ${l?.max.toFixed(1)} ms`).join("; "));
    const w = last.writer;
    if (w?.rows) {
      // Off the main thread the time is the usage thread's own (its CPU is in the process's, above), not a stall.
      console.log(`latchkey usage writer, ${w.mainThread ? "on the main thread" : "on its own thread (not the main thread's time)"}: `
        + `${w.rows} rows in ${w.batches} batches (${Math.round(w.rows / w.batches)} a batch), ${((w.insertMs * 1000) / w.rows).toFixed(1)} µs a row inserted, `
        + `${w.rollups} roll-up passes, ${((w.rollupMs * 1000) / w.rows).toFixed(1)} µs a row rolled up (wall time)`);
    }
    const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
    for (const [kind, { proxy: p, floorToProxy: f, floor: l, offload: o }] of Object.entries(pairs)) {
      console.log(`${kind}: latchkey/undici proxy, median of interleaved pairs (rounds): req/s @32 ${ratio(median(p.rps), 1)} (${list(p.rps)}; target >= 0.90), `
        + `p99 @32 ${ratio(median(p.p99), 1)} (${list(p.p99)}; target <= 1.5), CPU/req @32 ${ratio(median(p.cpu), 1)} (${list(p.cpu)}; target <= 1.2), `
        + `main thread CPU/req @32 ${ratio(median(p.main), 1)} (${list(p.main)}); CPU over the proxy's ${Math.round(median(p.over))} µs a request`);
      console.log(`${kind}: floor gateway/undici proxy (as near as a metering gateway comes on this machine): req/s @32 ${ratio(median(f.rps), 1)}, `
        + `p99 @32 ${ratio(median(f.p99), 1)}, CPU/req @32 ${ratio(median(f.cpu), 1)}, CPU over the proxy's ${Math.round(median(f.over))} µs a request; `
        + `latchkey/floor gateway: req/s @32 ${ratio(median(l.rps), 1)}, `
        + `p99 @32 ${ratio(median(l.p99), 1)}, CPU/req @32 ${ratio(median(l.cpu), 1)}, main thread CPU/req @32 ${ratio(median(l.main), 1)}`);
      const machine = targets.map((t) => `${t.name} ${orNa(median(at(t, kind === "stream").many.map((r) => r.machineCpu)), 0)}`).join(", ");
      console.log(`${kind}: all cores' CPU µs a request @32 (the target's, wrk's and the upstream's together): ${machine}`);
      if (o.rps.length) {
        console.log(`${kind}: offload proxy/undici proxy (the upstream leg on a worker thread): req/s @32 ${ratio(median(o.rps), 1)} (${list(o.rps)}), `
          + `main thread CPU/req @32 ${ratio(median(o.main), 1)}, CPU/req @32 ${ratio(median(o.cpu), 1)}, all cores' CPU/req @32 ${ratio(median(o.machine), 1)}`);
      }
    }
    // Not the offload proxy: V8's GC profiler sees one thread's heap, and half its work is on another.
    await heapPass(targets.slice(0, 3), kinds);
    // Not the offload proxy either: half its work is on a thread this pass does not sample.
    if (perf) await perfPass(targets.slice(0, 3), kinds, scriptDir);
    if (process.argv.includes("--limits")) {
      for (const p of [base.proc, floor.proc, app.proc]) p.kill("SIGTERM");
      await limitsComparison(upstream.url, dataDir, procs);
    }
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    if (perf) for (const p of procs) rmSync(`/tmp/perf-${p.pid}.map`, { force: true });
    if (gcLog !== null) closeSync(gcLog);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scriptDir, { recursive: true, force: true });
  }
}

if (role) await child();
else await main();
