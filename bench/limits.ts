/**
 * Micro-benchmark of the limits: admit+settle (rate) and reserve+settle (budget) per second on the
 * memory and Redis backends, sequential and with many requests in flight, and the Redis round
 * trip at p50/p99. Prints a table.
 *   npx tsc -p tsconfig.json && node dist/bench/limits.js   (BENCH_SECONDS=3 per row)
 * Redis: LATCHKEY_TEST_REDIS_URL (default redis://127.0.0.1:6379); keys under a random prefix, deleted at the end.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import {
  MemoryBudgetCounter, MemoryRateLimiter, RedisBudgetCounter, RedisRateLimiter, creditSubject,
  type BudgetCounter, type BudgetSubject, type RateLimiter, type RateSubject,
} from "../src/limits/index.js";
import { percentile, printTable } from "./table.js";

const REDIS_URL = process.env.LATCHKEY_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const IN_FLIGHT = 64;

const rateSubjects: RateSubject[] = [
  { id: "key:key_bench", requestsPerMinute: 1e9, tokensPerMinute: 1e12, concurrentRequests: 1e6 },
  { id: "wrk:wrk_bench", requestsPerMinute: 1e9, tokensPerMinute: 1e12, concurrentRequests: 1e6 },
];
const budgetSubjects: BudgetSubject[] = [
  { id: "key:key_bench", limitNano: 1e15, period: "day" },
  { id: "wrk:wrk_bench", limitNano: 1e15, period: "month" },
  creditSubject("org_bench"),
];

let seq = 0;

async function rateOnce(rate: RateLimiter, lat: number[] | null): Promise<void> {
  const t0 = performance.now();
  const d = await rate.admit({ subjects: rateSubjects, tokens: 2000, requestId: `req_${++seq}`, tag: "org_bench" });
  const t1 = performance.now();
  await rate.settle(d.ticket!, 1500);
  if (lat) lat.push(t1 - t0, performance.now() - t1);
}

async function budgetOnce(budget: BudgetCounter, lat: number[] | null): Promise<void> {
  const t0 = performance.now();
  const r = await budget.reserve({ subjects: budgetSubjects, amountNano: 30_000, requestId: `req_${++seq}`, tag: "org_bench" });
  const t1 = performance.now();
  if (r.outcome !== "admitted") throw new Error(`bench reservation ${r.outcome}`);
  await budget.settle(r.reservation, 20_000);
  if (lat) lat.push(t1 - t0, performance.now() - t1);
}

/** Pairs per second with `inFlight` loops running at once, for SECONDS. */
async function throughput(run: (lat: number[] | null) => Promise<void>, inFlight: number, lat: number[] | null): Promise<number> {
  const until = performance.now() + SECONDS * 1000;
  let done = 0;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (performance.now() < until) { await run(lat); done++; }
  }));
  return done / SECONDS;
}

function pct(xs: number[], p: number): string {
  return xs.length ? `${(percentile([...xs].sort((a, b) => a - b), p) * 1000).toFixed(0)} µs` : "";
}

/** Server-side EVALSHA totals (the whole server: other clients' scripts would count too). */
async function scriptStats(redis: Redis): Promise<{ calls: number; usec: number }> {
  const m = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(await redis.info("commandstats"));
  return { calls: Number(m?.[1] ?? 0), usec: Number(m?.[2] ?? 0) };
}

function perCall(a: { calls: number; usec: number }, b: { calls: number; usec: number }): string {
  return b.calls > a.calls ? `${((b.usec - a.usec) / (b.calls - a.calls)).toFixed(1)} µs` : "";
}

async function loadBudgets(budget: BudgetCounter): Promise<void> {
  for (const s of budgetSubjects) {
    if (s.period === "balance") await budget.loadBalance(s.id, 1e15, "org_bench");
    else await budget.load(s.id, s.period, 0, "org_bench");
  }
}

async function main(): Promise<void> {
  const table: (string | number)[][] = [];
  const memRate = new MemoryRateLimiter();
  const memBudget = new MemoryBudgetCounter();
  await loadBudgets(memBudget);
  await throughput((l) => rateOnce(memRate, l), 1, null); // warm-up
  table.push(["memory", "rate admit+settle", 1, (await throughput((l) => rateOnce(memRate, l), 1, null)).toFixed(0), "", "", ""]);
  table.push(["memory", "budget reserve+settle", 1, (await throughput((l) => budgetOnce(memBudget, l), 1, null)).toFixed(0), "", "", ""]);

  const redis = new Redis(REDIS_URL);
  const prefix = `lkbench:${randomBytes(4).toString("hex")}:`;
  try {
    const rate = new RedisRateLimiter({ redis, prefix });
    const budget = new RedisBudgetCounter({ redis, prefix });
    await loadBudgets(budget);
    await throughput((l) => rateOnce(rate, l), 4, null); // warm-up, loads the scripts
    for (const inFlight of [1, IN_FLIGHT]) {
      const rl: number[] = [], bl: number[] = [];
      let before = await scriptStats(redis);
      const rps = await throughput((l) => rateOnce(rate, l), inFlight, rl);
      table.push(["redis", "rate admit+settle", inFlight, rps.toFixed(0), pct(rl, 50), pct(rl, 99), perCall(before, await scriptStats(redis))]);
      before = await scriptStats(redis);
      const bps = await throughput((l) => budgetOnce(budget, l), inFlight, bl);
      table.push(["redis", "budget reserve+settle", inFlight, bps.toFixed(0), pct(bl, 50), pct(bl, 99), perCall(before, await scriptStats(redis))]);
    }
    const pings: number[] = [];
    for (let i = 0; i < 2000; i++) { const t = performance.now(); await redis.ping(); pings.push(performance.now() - t); }
    table.push(["redis", "PING (bare round trip)", 1, "", pct(pings, 50), pct(pings, 99), ""]);
  } finally {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
    redis.disconnect();
  }
  printTable(
    `Limits: ${SECONDS} s per row; rate = 2 subjects (key, workspace) x requests, tokens, concurrency; budget = 3 subjects (key day, workspace month, credits)`,
    ["backend", "operation", "in flight", "pairs/s", "call p50", "call p99", "Redis CPU/script"],
    table,
  );
}

await main();
