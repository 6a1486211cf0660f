/**
 * Instructions per request, counted by valgrind's callgrind (Debian package `valgrind`): a CPU
 * figure that holds on a loaded machine, where the CPU times of bench/gateway.ts move by a third
 * from one run to the next. The same targets as there (the bare undici proxy, the floor gateway,
 * Latchkey with a live key, rate and spend limits, usage written to SQLite; started by
 * gateway.js's own child roles) run one after another, each alone under callgrind, against the
 * minimal upstream, which runs natively. The requests come from this process, which is not
 * counted, over 32 connections. For each target and kind: a warm-up (V8 compiles the hot paths),
 * the work it left behind waited for; then batches, each: the counters zeroed, exactly --requests
 * requests, the work they leave waited for (Latchkey: every usage row written and rolled up), the
 * counters dumped. The figure is the median batch's instructions of every thread (the usage
 * thread and V8's helper threads too) divided by its requests; the range shows the batches'
 * spread (a WAL checkpoint or a mark-compact lands in one batch, and V8 goes on optimizing for
 * thousands of requests at valgrind's speed). The main thread's own count (callgrind separates
 * threads) is given beside it: the request path without the usage thread, and much steadier.
 *   node dist/bench/instructions.js [--requests 1000] [--warmup 8000] [--batches 5] [--only json|stream]
 *     [--targets proxy,floor,latchkey] [--keep <dir>]
 * --targets runs only those named (a change to Latchkey is tried against the previous build in a
 * few minutes with `--targets latchkey`); a ratio to a target not run reads "-".
 * Not counted: the kernel's work for the process (the socket reads and writes), cache misses and
 * stalls, so a ratio here is a ratio of user-space instructions, not of CPU time. Under valgrind a
 * target runs some 50 times slower, so work on a wall-clock timer (roll-ups, cache refreshes,
 * statements prepared by the periodic jobs) is shared by fewer requests than at full speed: the
 * same length of time with no requests is counted too, and the table gives the figures with and
 * without it. Likewise a usage batch (every 100 ms) holds some fifty times fewer rows than at full
 * speed, so what is paid once a batch weighs more a request here than it does there.
 * --keep <dir> keeps the callgrind files (callgrind_annotate reads them: native code by name; JIT-compiled
 * JavaScript has no symbols, its instructions land on the native caller).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { median, printTable } from "./table.js";
import { ask, LAUNCHER_FLAGS, requestBody, requestHeaders } from "./targets.js";

const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const REQUESTS = Number(arg("--requests") ?? 1000);
const WARMUP = Number(arg("--warmup") ?? 8000);
const CONNECTIONS = 32;
const BATCHES = Number(arg("--batches") ?? 5);
const GATEWAY_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "gateway.js");

interface Target { name: string; proc: ChildProcess; url: string; key: string; out: string; dumps: number }

/** Starts one of gateway.js's child roles, under callgrind when `out` (its files' prefix) is given. */
function start(name: string, role: string, extra: string[], execArgv: string[], out: string | null, log: number): Promise<Target> {
  const node = [...execArgv, GATEWAY_SCRIPT, "--role", role, "--no-loop-delay", ...extra];
  // Counting from the start, zeroed before the measured requests: callgrind_control reaches the process through vgdb.
  const proc = out
    ? spawn("valgrind", ["--tool=callgrind", "--separate-threads=yes", `--callgrind-out-file=${out}.%p`, process.execPath, ...node], { stdio: ["ignore", "ignore", log, "ipc"] })
    : spawn(process.execPath, node, { stdio: ["ignore", "ignore", log, "ipc"] });
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
    proc.on("message", (m: { ready?: { url: string; key?: string } }) => {
      if (m.ready) resolve({ name, proc, url: m.ready.url, key: m.ready.key ?? "sk-direct", out: out ?? "", dumps: 0 });
    });
  });
}

/** Exactly `count` requests over CONNECTIONS connections; every one must be answered 200. */
async function drive(pool: Pool, key: string, stream: boolean, count: number): Promise<void> {
  let sent = 0;
  const failed: number[] = [];
  const body = requestBody(stream);
  const headers = requestHeaders(key);
  const connection = async () => {
    while (sent < count) {
      sent++;
      const r = await pool.request({ path: "/v1/messages", method: "POST", headers, body });
      await r.body.text();
      if (r.statusCode !== 200) failed.push(r.statusCode);
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, connection));
  if (failed.length) throw new Error(`${failed.length} of ${count} requests were refused (${[...new Set(failed)].join(", ")})`);
}

/**
 * Waits for the work the requests left behind. Latchkey: until its usage writer has written a row
 * for each of the `served` requests, then the roll-up (its child's settle). The floor gateway's
 * writer reports nothing: a second, many of its 100 ms batches even at valgrind's speed.
 */
async function settle(t: Target, served: number): Promise<void> {
  if (t.name !== "latchkey") {
    await new Promise((r) => setTimeout(r, 1000));
    return;
  }
  const deadline = Date.now() + 300_000;
  for (;;) {
    const s = await ask<{ writer: { rows: number } | null }>(t.proc, { cmd: "sample", settle: true }, "settled");
    if ((s.writer?.rows ?? 0) >= served) return;
    if (Date.now() > deadline) throw new Error(`latchkey wrote ${s.writer?.rows ?? 0} usage rows of ${served}`);
  }
}

function control(t: Target, flag: string): void {
  const r = spawnSync("callgrind_control", [flag, String(t.proc.pid)], { encoding: "utf8" });
  if (r.status !== 0 || !r.stdout.includes("OK")) throw new Error(`callgrind_control ${flag} ${t.name}: ${r.stdout}${r.stderr}`);
}

/**
 * Dumps the counters and reads the dump's totals: every thread's, and the main thread's alone (the
 * request path, without the usage thread's batches, roll-ups and checkpoints, which land in one
 * batch or another and make the total jump). A dump is one file a thread, `<out>.<pid>.<n>-<thread>`.
 */
function dump(t: Target): { all: number; main: number } {
  control(t, "--dump");
  t.dumps++;
  const prefix = `${basename(t.out)}.${t.proc.pid}.${t.dumps}-`;
  const counts = { all: 0, main: -1 };
  for (const f of readdirSync(dirname(t.out)).filter((n) => n.startsWith(prefix))) {
    const m = /^summary:\s+(\d+)/m.exec(readFileSync(join(dirname(t.out), f), "utf8"));
    if (!m) throw new Error(`${t.name}: no summary in callgrind's dump ${f}`);
    counts.all += Number(m[1]);
    if (f === `${prefix}01`) counts.main = Number(m[1]);
  }
  if (counts.main < 0) throw new Error(`${t.name}: callgrind wrote no dump ${prefix}01 for the main thread`);
  return counts;
}

async function main(): Promise<void> {
  if (spawnSync("valgrind", ["--version"]).error || spawnSync("callgrind_control", ["--version"]).error) {
    console.error("instructions: needs valgrind and callgrind_control on the PATH (apt-get install valgrind)");
    process.exit(2);
  }
  const only = arg("--only");
  const targets = (arg("--targets") ?? "proxy,floor,latchkey").split(",");
  const unknown = targets.filter((t) => !["proxy", "floor", "latchkey"].includes(t));
  if (unknown.length || (only !== undefined && only !== "json" && only !== "stream")) {
    console.error(`instructions: --targets takes proxy, floor and latchkey${unknown.length ? `, not ${unknown.join(", ")}` : ""}; --only takes json or stream`);
    process.exit(2);
  }
  const keep = arg("--keep");
  const dir = keep ?? mkdtempSync(join(tmpdir(), "latchkey-bench-ir-"));
  mkdirSync(dir, { recursive: true });
  const log = openSync(join(dir, "valgrind.log"), "a");
  const kinds = only ? [only === "stream"] : [false, true];
  const procs: ChildProcess[] = [];
  const began = Date.now();
  try {
    const upstream = await start("upstream", "upstream", [], [], null, log);
    procs.push(upstream.proc);
    const counted = ([
      ["undici proxy", "baseline", ["--upstream", upstream.url], [], "proxy"],
      ["floor gateway", "floor", ["--upstream", upstream.url, "--data-dir", mkdtempSync(join(dir, "floor-"))], LAUNCHER_FLAGS, "floor"],
      ["latchkey", "app", ["--upstream", upstream.url, "--data-dir", mkdtempSync(join(dir, "app-"))], LAUNCHER_FLAGS, "latchkey"],
    ] as [string, string, string[], string[], string][]).filter((t) => targets.includes(t[4]));
    const perRequest = new Map<string, { counted: number; low: number; high: number; idle: number; main: number; mainLow: number; mainHigh: number }>();
    for (const [name, role, extra, execArgv] of counted) {
      const t = await start(name, role, extra, execArgv, join(dir, role), log);
      procs.push(t.proc);
      const pool = new Pool(t.url, { connections: CONNECTIONS });
      let served = 0;
      for (const stream of kinds) {
        const at = Date.now();
        await drive(pool, t.key, stream, WARMUP);
        await settle(t, (served += WARMUP));
        const series: number[] = [];
        const mains: number[] = [];
        const windows: number[] = [];
        while (series.length < BATCHES) {
          control(t, "--zero");
          const zeroed = Date.now();
          await drive(pool, t.key, stream, REQUESTS);
          await settle(t, (served += REQUESTS));
          const counts = dump(t);
          series.push(counts.all / REQUESTS);
          mains.push(counts.main / REQUESTS);
          windows.push(Date.now() - zeroed);
          console.log(`${name}, ${stream ? "stream" : "JSON"}: batch ${series.length}, ${Math.round(series.at(-1)! / 1000)}k instructions/req, main thread ${Math.round(mains.at(-1)! / 1000)}k (${Math.round((Date.now() - at) / 1000)} s)`);
        }
        // The same length of time with no requests: what the target's timers cost, which valgrind's
        // slowness spreads over fewer requests than full speed does.
        control(t, "--zero");
        await new Promise((r) => setTimeout(r, median(windows)));
        perRequest.set(`${name}/${stream}`, {
          counted: median(series), low: Math.min(...series), high: Math.max(...series), idle: dump(t).all / REQUESTS,
          main: median(mains), mainLow: Math.min(...mains), mainHigh: Math.max(...mains),
        });
      }
      await pool.close();
      t.proc.kill("SIGTERM");
    }
    const rows: (string | number)[][] = [];
    for (const stream of kinds) {
      const of = (name: string) => perRequest.get(`${name}/${stream}`);
      const net = (name: string) => of(name)!.counted - of(name)!.idle;
      const ratio = (name: string, to: string, f: (n: string) => number) => (of(to) ? `${(f(name) / f(to)).toFixed(2)}x` : "-");
      for (const [name] of counted) {
        const x = of(name)!;
        rows.push([`${name}, ${stream ? "stream" : "JSON"}`, Math.round(x.counted / 1000), `${Math.round(x.low / 1000)}-${Math.round(x.high / 1000)}`, ratio(name, "undici proxy", (n) => of(n)!.counted),
          Math.round(x.idle / 1000), Math.round(net(name) / 1000), ratio(name, "undici proxy", net), ratio(name, "floor gateway", net),
          Math.round(x.main / 1000), `${Math.round(x.mainLow / 1000)}-${Math.round(x.mainHigh / 1000)}`, ratio(name, "undici proxy", (n) => of(n)!.main), ratio(name, "floor gateway", (n) => of(n)!.main)]);
      }
    }
    printTable(`instructions per request (callgrind, every thread, user space only; ${WARMUP} requests of warm-up, then the median of ${BATCHES} batches of ${REQUESTS} at ${CONNECTIONS} connections; ${Math.round((Date.now() - began) / 1000)} s)`,
      ["target", "k instr/req", "batches' range", "vs proxy", "k idle/req", "k instr/req less idle", "vs proxy", "vs floor", "main thread k/req", "range", "vs proxy", "vs floor"], rows);
    console.log("idle: the same length of time with no requests, over as many requests (timers, which valgrind's slowness spreads over fewer requests than full speed)");
    console.log("main thread: the request path alone, without the usage thread (its batches, roll-ups and checkpoints are what make one batch's total jump) and V8's helper threads");
    console.log("the CPU target is Latchkey <= 1.2x the undici proxy; this counts user-space instructions only, not the kernel's socket work, which is a larger share of the proxy's CPU time");
    if (keep) console.log(`callgrind files kept in ${dir} (callgrind_annotate <file>)`);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    closeSync(log);
    if (!keep) {
      await new Promise((r) => setTimeout(r, 500));
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

await main();
