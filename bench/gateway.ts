/**
 * Gateway benchmark on loopback. The simulator (its own process) is the upstream; the same load
 * goes to it directly, through the baseline proxy (bench/baseline-proxy.ts, its own process) and
 * through Latchkey (the whole app from createApp, its own process: a live key with rate limits and
 * a spend limit, metering and usage written). Prints requests/s at 32 connections, p50/p99 latency
 * at 1 and 32 connections, CPU µs per request of the proxy process, JSON and streaming, and RSS.
 *   node dist/bench/gateway.js [--seconds 5] [--rounds 3] [--only json|stream] [--profile <dir>] [--limits] [--access-log]
 * (--access-log: Latchkey writes its access log line per request, to a standard error sent to /dev/null by the caller)
 * With --limits it also compares, JSON at 32 connections: no limits at all; spend limits and
 * credits on (in-process counters); rate limits with Redis on one node and on two nodes (the load
 * split between them, over one PostgreSQL), and the Redis round trip's cost at 1 connection.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { Client } from "undici";
import { median, percentile, printTable } from "./table.js";

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
/** Latchkey runs with the V8 flags its launcher gives it (bin/latchkey.js, npm start). */
const APP_FLAGS = ["--max-semi-space-size=4"];

interface Stats { cpuMicros: number; rss: number; heapTotal: number; heapUsed: number; external: number }

/**
 * Answers the parent's stats requests. `settle`, given by Latchkey's child, finishes the work a
 * run left behind before the figures are taken (the last usage batch, and the roll-up, which
 * otherwise runs on its 15 s timer, often while another target is being measured), so that
 * Latchkey's CPU per request includes it.
 */
function answerStats(settle?: () => Promise<void>): void {
  // Exit cleanly on SIGTERM so that --cpu-prof (see --profile) writes its profile.
  process.once("SIGTERM", () => process.exit(0));
  process.on("message", (m: { cmd: string; settle?: boolean }) => {
    if (m.cmd !== "stats") return;
    void (m.settle && settle ? settle() : Promise.resolve()).then(() => {
      const c = process.cpuUsage();
      const mem = process.memoryUsage();
      process.send!({ stats: { cpuMicros: c.user + c.system, rss: mem.rss, heapTotal: mem.heapTotal, heapUsed: mem.heapUsed, external: mem.external } });
    });
  });
}

async function child(): Promise<void> {
  if (role === "sim") {
    const { createSimulatorServer } = await import("../src/providers/index.js");
    const sim = await createSimulatorServer({ paceMs: 0 });
    answerStats();
    process.send!({ ready: { url: sim.url } });
  } else if (role === "baseline") {
    const { startBaselineProxy } = await import("./baseline-proxy.js");
    const p = await startBaselineProxy(arg("--upstream")!);
    answerStats();
    process.send!({ ready: { url: p.url } });
  } else if (role === "app") {
    const { loadConfig } = await import("../src/config/index.js");
    const { createApp } = await import("../src/main.js");
    const dataDir = arg("--data-dir")!;
    const mode = arg("--mode") ?? "limits";
    const redis = mode.startsWith("redis") ? { redisUrl: process.env.LATCHKEY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379", redisPrefix: arg("--redis-prefix"), nodeCount: 2 } : {};
    const databaseUrl = arg("--database-url");
    const app = await createApp(loadConfig({ env: {}, overrides: { dataDir, port: 0, logLevel: process.argv.includes("--access-log") ? "info" : "warn", masterKey: "33".repeat(32), ...redis, ...(databaseUrl ? { databaseUrl } : {}) } }));
    const url = await app.listen();
    // The recorder writes every 100 ms; then the roll-up counts what it wrote.
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
    process.send!({ ready: { url, key } });
  }
}

interface Target { name: string; proc: ChildProcess; url: string; key: string }

function start(r: string, extra: string[] = [], execArgv: string[] = []): Promise<{ proc: ChildProcess; url: string; key: string }> {
  const passOn = process.argv.includes("--access-log") ? ["--access-log"] : [];
  const proc = fork(fileURLToPath(import.meta.url), ["--role", r, ...extra, ...passOn], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv });
  return new Promise((resolve, reject) => {
    proc.once("error", reject);
    proc.once("exit", (code) => reject(new Error(`${r} exited with ${code}`)));
    proc.on("message", (m: { ready?: { url: string; key?: string } }) => {
      if (m.ready) resolve({ proc, url: m.ready.url, key: m.ready.key ?? "sk-direct" });
    });
  });
}

/** The child's CPU time and memory; with `settle`, after it has finished the work a run left behind. */
function stats(proc: ChildProcess, settle = false): Promise<Stats> {
  return new Promise((resolve) => {
    const on = (m: { stats?: Stats }) => {
      if (m.stats) {
        proc.off("message", on);
        resolve(m.stats);
      }
    };
    proc.on("message", on);
    proc.send({ cmd: "stats", settle });
  });
}

const body = (stream: boolean) => JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "Hello, benchmark. Please answer briefly." }] });

/** One connection, one request at a time, timed with a high-resolution clock (autocannon rounds to ms). */
async function sequential(t: Target, stream: boolean, seconds: number) {
  const client = new Client(t.url, { pipelining: 1 });
  const headers = { "x-api-key": t.key, "anthropic-version": "2023-06-01", "content-type": "application/json" };
  const payload = body(stream);
  const times: number[] = [];
  let errors = 0;
  const before = await stats(t.proc);
  const until = performance.now() + seconds * 1000;
  while (performance.now() < until) {
    const started = performance.now();
    const r = await client.request({ path: "/v1/messages", method: "POST", headers, body: payload });
    await r.body.arrayBuffer();
    times.push(performance.now() - started);
    if (r.statusCode !== 200) errors++;
  }
  const after = await stats(t.proc, true);
  await client.close();
  times.sort((a, b) => a - b);
  return { rps: times.length / seconds, p50: percentile(times, 50), p99: percentile(times, 99), cpu: (after.cpuMicros - before.cpuMicros) / times.length, errors, rss: after.rss };
}

async function load(t: Target, stream: boolean, connections: number, seconds: number) {
  if (connections === 1) return sequential(t, stream, seconds);
  const before = await stats(t.proc);
  const r = await autocannon({
    url: `${t.url}/v1/messages`, method: "POST", connections, duration: seconds,
    headers: { "x-api-key": t.key, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: body(stream),
  });
  const after = await stats(t.proc, true);
  const done = r.requests.total;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu: done ? (after.cpuMicros - before.cpuMicros) / done : NaN, errors: r.errors + r.non2xx, rss: after.rss };
}

/** The same load split over several nodes at once: summed throughput, CPU per request over all. */
async function loadSplit(nodes: Target[], connections: number, seconds: number) {
  const before = await Promise.all(nodes.map((n) => stats(n.proc)));
  const runs = await Promise.all(nodes.map((n) => autocannon({
    url: `${n.url}/v1/messages`, method: "POST", connections: connections / nodes.length, duration: seconds,
    headers: { "x-api-key": n.key, "anthropic-version": "2023-06-01", "content-type": "application/json" }, body: body(false),
  })));
  const after = await Promise.all(nodes.map((n) => stats(n.proc, true)));
  const done = runs.reduce((s, r) => s + r.requests.total, 0);
  const cpu = after.reduce((s, a, i) => s + a.cpuMicros - before[i]!.cpuMicros, 0);
  return { rps: runs.reduce((s, r) => s + r.requests.average, 0), cpu: cpu / done, errors: runs.reduce((s, r) => s + r.errors + r.non2xx, 0) };
}

/** --limits: what limits, credits and Redis cost, measured side by side in one run. */
async function limitsComparison(simUrl: string, root: string, procs: ChildProcess[]): Promise<void> {
  const prefix = `lkbench:${process.pid}:`;
  const app = async (mode: string, dir = mkdtempSync(join(root, `${mode}-`)), extra: string[] = []) => {
    const a = await start("app", ["--upstream", simUrl, "--data-dir", dir, "--mode", mode, "--redis-prefix", prefix, ...extra], APP_FLAGS);
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
    const one = await sequential(ts[0]!, false, SECONDS);
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

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "latchkey-bench-gw-"));
  const procs: ChildProcess[] = [];
  try {
    const sim = await start("sim");
    procs.push(sim.proc);
    const profile = arg("--profile");
    const base = await start("baseline", ["--upstream", sim.url], profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}/baseline`] : []);
    procs.push(base.proc);
    const app = await start("app", ["--upstream", sim.url, "--data-dir", dataDir], [...APP_FLAGS, ...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : [])]);
    procs.push(app.proc);
    const targets: Target[] = [
      { name: "direct (simulator)", ...sim },
      { name: "baseline proxy", ...base },
      { name: "latchkey", ...app },
    ];
    const idleRss = (await stats(app.proc)).rss;
    const rows: (string | number)[][] = [];
    const summary: Record<string, { ratio: number; ratios: number[]; addedP50: number }> = {};
    const only = arg("--only");
    for (const stream of only ? [only === "stream"] : [false, true]) {
      for (const t of targets) await load(t, stream, 8, 1); // warm-up
      const kind = stream ? "stream" : "json";
      const ones = new Map<Target, Awaited<ReturnType<typeof sequential>>>();
      for (const t of targets) ones.set(t, await sequential(t, stream, SECONDS));
      // At 32 connections the targets take turns, ROUNDS times: the machine's speed drifts over a
      // run, and a ratio of two runs taken side by side is steadier than one of runs a minute apart.
      const rounds = new Map<Target, Awaited<ReturnType<typeof load>>[]>(targets.map((t) => [t, []]));
      const ratios: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        for (const t of targets) rounds.get(t)!.push(await load(t, stream, 32, SECONDS));
        ratios.push(rounds.get(targets[2]!)!.at(-1)!.rps / rounds.get(targets[1]!)!.at(-1)!.rps);
      }
      summary[kind] = { ratio: median(ratios), ratios, addedP50: ones.get(targets[2]!)!.p50 - ones.get(targets[1]!)!.p50 };
      for (const t of targets) {
        const one = ones.get(t)!;
        const many = rounds.get(t)!;
        const m = (f: (r: (typeof many)[number]) => number) => median(many.map(f));
        rows.push([`${t.name}, ${kind}`, Math.round(m((r) => r.rps)), one.p50.toFixed(3), one.p99.toFixed(3), m((r) => r.p50).toFixed(1), m((r) => r.p99).toFixed(1),
          Math.round(one.cpu), Math.round(m((r) => r.cpu)), `${Math.round(Math.max(...many.map((r) => r.rss)) / 1048576)}`, one.errors + many.reduce((s, r) => s + r.errors, 0)]);
      }
    }
    printTable(`gateway benchmark (loopback, ${SECONDS}s per run, simulator upstream; at 32 connections the median of ${ROUNDS} rounds taken in turns)`,
      ["target", "req/s @32", "p50 ms @1", "p99 ms @1", "p50 ms @32", "p99 ms @32", "CPU µs/req @1", "CPU µs/req @32", "RSS MB", "errors"], rows);
    console.log(`latchkey RSS: ${Math.round(idleRss / 1048576)} MB idle after start, ${Math.round((await stats(app.proc)).rss / 1048576)} MB after the runs (target < 150 MB)`);
    for (const [kind, s] of Object.entries(summary)) {
      console.log(`${kind}: latchkey/baseline throughput ${s.ratio.toFixed(2)}x, median of rounds ${s.ratios.map((r) => r.toFixed(2)).join(", ")} (target >= 0.80); added p50 at 1 connection ${s.addedP50.toFixed(3)} ms (target <= 0.30)`);
    }
    if (process.argv.includes("--limits")) {
      for (const p of [base.proc, app.proc]) p.kill("SIGTERM");
      await limitsComparison(sim.url, dataDir, procs);
    }
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (role) await child();
else await main();
