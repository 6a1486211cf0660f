/**
 * The usage report over a month of 10 million usage events, from roll-ups (SQLite).
 *   npx tsc -p tsconfig.json && node dist/bench/usage-report.js   (BENCH_EVENTS, default 10000000)
 *
 * How the data is made, honestly: 10 million events are generated in memory (random key, model,
 * tokens, cost, spread over 30 days) and aggregated per (hour, key, model) exactly as the roll-up
 * job aggregates them; the hourly and daily roll-up rows are then written with prepared statements
 * in big transactions. The raw events themselves are not stored, except the last hour's (inserted
 * unrolled), so the report also takes its "not yet rolled up" path. 200 keys in 20 workspaces,
 * 6 models from 3 providers.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import BetterSqlite3 from "better-sqlite3";
import { createStore, migrate, openDatabase, type UsageEvent } from "../src/store/index.js";
import { buildUsageReport, type GroupField } from "../src/usage/index.js";
import { percentile, printTable } from "./table.js";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000_000);
const DAYS = 30;
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 0, 1);
const MODELS = [["anthropic", "claude-sonnet-4-5"], ["anthropic", "claude-haiku-4-5"], ["openai", "gpt-5"], ["openai", "gpt-5-mini"], ["gemini", "gemini-2.5-pro"], ["gemini", "gemini-2.5-flash"]] as const;
const KEYS = Array.from({ length: 200 }, (_, i) => ({ key: `key_bench${String(i).padStart(16, "0")}`, ws: `wrk_bench${String(i % 20).padStart(16, "0")}` }));
const ORG = "org_bench0000000000000000";

let rng = 42;
const rand = () => ((rng = (rng * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-"));
const file = join(dir, "bench.db");
try {
  const database = openDatabase({ url: file });
  await migrate(database);
  await database.close();

  const t0 = performance.now();
  const db = new BetterSqlite3(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const insert = db.prepare(`insert into usage_rollups (width, bucket_start, org_id, workspace_id, key_id, provider, model, requests, errors, input_tokens, cache_write_tokens, cache_read_tokens, output_tokens, cost_nano)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    on conflict (width, org_id, bucket_start, workspace_id, key_id, provider, model) do update set requests = requests + excluded.requests, errors = errors + excluded.errors,
    input_tokens = input_tokens + excluded.input_tokens, cache_write_tokens = cache_write_tokens + excluded.cache_write_tokens, cache_read_tokens = cache_read_tokens + excluded.cache_read_tokens,
    output_tokens = output_tokens + excluded.output_tokens, cost_nano = cost_nano + excluded.cost_nano`);
  const hours = DAYS * 24;
  const perHour = Math.floor(EVENTS / hours);
  const lastHourEvents: UsageEvent[] = [];
  let rows = 0;
  const flush = db.transaction((width: string, bucket: number, agg: Map<number, number[]>) => {
    for (const [g, a] of agg) {
      const k = KEYS[Math.floor(g / MODELS.length)]!;
      const m = MODELS[g % MODELS.length]!;
      insert.run(width, bucket, ORG, k.ws, k.key, m[0], m[1], a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
      rows += 1;
    }
  });
  let day = new Map<number, number[]>();
  for (let h = 0; h < hours; h++) {
    const agg = new Map<number, number[]>();
    const n = h === hours - 1 ? EVENTS - perHour * (hours - 1) : perHour;
    const lastHour = h === hours - 1;
    for (let i = 0; i < n; i++) {
      const g = Math.floor(rand() * KEYS.length * MODELS.length);
      const input = 200 + Math.floor(rand() * 4000);
      const output = 50 + Math.floor(rand() * 1000);
      const cost = input * 3000 + output * 15000;
      const error = rand() < 0.01 ? 1 : 0;
      if (lastHour) {
        const k = KEYS[Math.floor(g / MODELS.length)]!;
        const m = MODELS[g % MODELS.length]!;
        lastHourEvents.push({ id: `req_b${String(i).padStart(24, "0")}`, at: T0 + h * HOUR + Math.floor((i / n) * HOUR), orgId: ORG, workspaceId: k.ws, keyId: k.key, provider: m[0], model: m[1], endpoint: "/v1/messages",
          inputTokens: input, outputTokens: output, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: cost, status: error ? 500 : 200, errorCode: null, streamed: false, aborted: false, latencyMs: 100, ttfbMs: 50 });
        continue;
      }
      for (const target of [agg, day]) {
        let a = target.get(g);
        if (!a) target.set(g, (a = [0, 0, 0, 0, 0, 0, 0]));
        a[0]! += 1; a[1]! += error; a[2]! += input; a[5]! += output; a[6]! += cost;
      }
    }
    flush("h", T0 + h * HOUR, agg);
    if ((h + 1) % 24 === 0) {
      flush("d", T0 + (h - 23) * HOUR, day);
      day = new Map();
    }
  }
  db.close();
  const genSeconds = (performance.now() - t0) / 1000;

  const database2 = openDatabase({ url: file });
  const store = createStore(database2);
  for (let i = 0; i < lastHourEvents.length; i += 5000) await store.usage.insertMany(lastHourEvents.slice(i, i + 5000));
  const now = T0 + DAYS * 24 * HOUR;
  const table: (string | number)[][] = [];
  const cases: [string, "1d" | "1h", GroupField[], number][] = [
    ["month, 1d, no grouping", "1d", [], 31], ["month, 1d, by model", "1d", ["model"], 31], ["month, 1d, by workspace", "1d", ["workspace_id"], 31],
    ["month, 1d, by key", "1d", ["api_key_id"], 31], ["month, 1d, by key and model", "1d", ["api_key_id", "model"], 31], ["week, 1h, by model", "1h", ["model"], 168],
  ];
  let total = 0;
  for (const [name, width, groupBy, limit] of cases) {
    const times: number[] = [];
    let results = 0;
    for (let i = 0; i < 15; i++) {
      const s = performance.now();
      const rep = await buildUsageReport(store, { orgId: ORG, start: width === "1d" ? T0 : now - 7 * 24 * HOUR, end: now, width, groupBy, filters: {}, limit }, now);
      times.push(performance.now() - s);
      results = rep!.buckets.reduce((n, b) => n + b.rows.length, 0);
      if (i === 0 && groupBy.length === 0) total = rep!.buckets.reduce((n, b) => n + (b.rows[0]?.requests ?? 0), 0);
    }
    times.sort((a, b) => a - b);
    table.push([name, results, percentile(times, 50).toFixed(1), percentile(times, 95).toFixed(1)]);
  }
  printTable(`Usage report over ${EVENTS.toLocaleString("en-US")} events (${total.toLocaleString("en-US")} counted by the report; ${rows.toLocaleString("en-US")} roll-up rows generated in ${genSeconds.toFixed(1)} s as the roll-up job would write them, last hour's ${lastHourEvents.length.toLocaleString("en-US")} events left raw and unrolled), SQLite`,
    ["report", "result rows", "p50 ms", "p95 ms"], table);
  await database2.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
