/**
 * What translation costs, two ways.
 * 1. The codec work a translated request adds to a pass-through one, timed in process over many
 *    requests: the caller's body decoded and the provider's encoded, and the provider's real
 *    answer (the simulator's bytes, JSON and a 12-token stream) decoded and written in the
 *    caller's dialect. This is the figure held to the design's budget (60 µs a request): it does
 *    not move with the load on the machine.
 * 2. With --e2e, Latchkey's whole CPU per request under load (autocannon, 16 connections), when
 *    the caller's dialect is the provider's and when it is not. The simulator (its own process)
 *    answers the same Messages call in every case. On a shared machine this figure is noisy.
 *   node dist/bench/translation.js [--e2e] [--seconds 4] [--rounds 3] [--connections 16]
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, printTable } from "./table.js";

type Autocannon = (o: Record<string, unknown>) => Promise<{ requests: { total: number; average: number }; errors: number; non2xx: number }>;
const arg = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const role = arg("--role");
const SECONDS = Number(arg("--seconds") ?? 4);
const ROUNDS = Number(arg("--rounds") ?? 3);
const CONNECTIONS = Number(arg("--connections") ?? 16);
/** The µs of extra CPU per translated request the design allows. */
const BUDGET_US = 60;

const PROMPT = "Hello, benchmark. Please answer briefly.";
const CASES = [
  { name: "pass-through (Messages → Anthropic)", path: "/v1/messages", body: (stream: boolean) => ({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: PROMPT }] }) },
  { name: "translated (Chat → Anthropic)", path: "/v1/chat/completions", body: (stream: boolean) => ({ model: "claude-haiku-4-5", max_completion_tokens: 64, stream, messages: [{ role: "user", content: PROMPT }] }) },
  { name: "translated (Gemini → Anthropic)", path: (stream: boolean) => `/v1beta/models/claude-haiku-4-5:${stream ? "streamGenerateContent?alt=sse" : "generateContent"}`, body: () => ({ contents: [{ role: "user", parts: [{ text: PROMPT }] }], generationConfig: { maxOutputTokens: 64 } }) },
];

function answerStats(): void {
  process.once("SIGTERM", () => process.exit(0));
  process.on("message", (m: { cmd: string }) => {
    if (m.cmd !== "stats") return;
    // The recorder writes every 100 ms: let the run's last batch land inside the measurement.
    setTimeout(() => {
      const c = process.cpuUsage();
      process.send!({ stats: { cpuMicros: c.user + c.system } });
    }, 250);
  });
}

async function child(): Promise<void> {
  if (role === "sim") {
    const { createSimulatorServer } = await import("../src/providers/index.js");
    const sim = await createSimulatorServer({ paceMs: 0 });
    answerStats();
    process.send!({ ready: { url: sim.url } });
    return;
  }
  const { loadConfig } = await import("../src/config/index.js");
  const { createApp } = await import("../src/main.js");
  const app = await createApp(loadConfig({ env: {}, overrides: { dataDir: arg("--data-dir")!, port: 0, logLevel: "warn", masterKey: "33".repeat(32), allowPrivateUpstreams: "127.0.0.0/8" } }));
  const url = await app.listen();
  const admin = app.bootstrap!.created!.adminKey;
  const api = async (path: string, body: unknown) => {
    const r = await fetch(`${url}${path}`, { method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return (await r.json()) as { key: string };
  };
  await api("/api/v1/credentials", { provider: "anthropic", name: "bench", secret: "sk-ant-bench-upstream-secret", base_url: arg("--upstream") });
  const { key } = await api("/api/v1/keys", { name: "bench", kind: "live", allowed_models: ["claude-*"] });
  answerStats();
  process.send!({ ready: { url, key } });
}

function start(r: string, extra: string[]): Promise<{ proc: ChildProcess; url: string; key: string }> {
  const proc = fork(fileURLToPath(import.meta.url), ["--role", r, ...extra], { stdio: ["ignore", "inherit", "inherit", "ipc"], execArgv: ["--max-semi-space-size=4"] });
  return new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`${r} exited with ${code}`)));
    proc.on("message", (m: { ready?: { url: string; key?: string } }) => {
      if (m.ready) resolve({ proc, url: m.ready.url, key: m.ready.key ?? "" });
    });
  });
}

function cpu(proc: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: { stats?: { cpuMicros: number } }) => {
      if (!m.stats) return;
      proc.off("message", on);
      resolve(m.stats.cpuMicros);
    };
    proc.on("message", on);
    proc.send({ cmd: "stats" });
  });
}

/** µs per request of the codec work alone, for each caller reaching a Claude model. */
async function codecCost(simUrl: string): Promise<number> {
  const { CODECS } = await import("../src/providers/index.js");
  const upstream = async (stream: boolean) => {
    const r = await fetch(`${simUrl}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(CASES[0]!.body(stream)) });
    return Buffer.from(await r.arrayBuffer());
  };
  const answers = { json: await upstream(false), stream: await upstream(true) };
  const rows: (string | number)[][] = [];
  let worst = 0;
  const N = 20_000;
  // Counts what the encoders wrote, so that the work cannot be optimised away.
  let written = 0;
  for (const stream of [false, true]) {
    for (const [caller, c] of [["chat", CASES[1]!], ["gemini", CASES[2]!], ["responses", { body: (st: boolean) => ({ model: "claude-haiku-4-5", input: PROMPT, max_output_tokens: 64, stream: st }) }]] as const) {
      const raw = Buffer.from(JSON.stringify(c.body(stream)));
      const once = (translate: boolean) => {
        // The handler parses the body on both paths; only what follows is translation's.
        const body = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        if (!translate) return;
        const canonical = CODECS[caller].decodeRequest(body, "anthropic");
        canonical.stream = stream;
        Buffer.from(JSON.stringify(CODECS.anthropic.encodeRequest(canonical, { model: "claude-haiku-4-5", maxOutputTokens: 64_000 })));
        if (stream) {
          const dec = CODECS.anthropic.newStreamDecoder();
          const enc = CODECS[caller].newStreamEncoder({ model: "claude-haiku-4-5", includeUsage: false, sse: true, requestId: "req_bench" });
          let out = "";
          for (const ev of dec.push(answers.stream)) out += enc.encode(ev);
          for (const ev of dec.end()) out += enc.encode(ev);
          written += out.length + enc.end(dec.done).length;
        } else {
          const upstreamBody = JSON.parse(answers.json.toString("utf8")) as Record<string, unknown>;
          JSON.stringify(CODECS[caller].encodeResponse(CODECS.anthropic.decodeResponse(upstreamBody), "claude-haiku-4-5"));
        }
      };
      // CPU time, not wall time: on a shared machine the process may wait for a core between samples.
      const batch = (translate: boolean) => {
        const c0 = process.cpuUsage();
        for (let i = 0; i < N; i++) once(translate);
        const c = process.cpuUsage(c0);
        return (c.user + c.system) / N;
      };
      batch(true);
      const rounds: number[] = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push(batch(true) - batch(false));
      const us = median(rounds);
      worst = Math.max(worst, us);
      rows.push([`${stream ? "stream" : "JSON"}: ${caller} → anthropic`, us.toFixed(1)]);
    }
  }
  if (written === 0) throw new Error("the stream encoders wrote nothing");
  printTable(`Codec work a translated request adds, in process, median of ${ROUNDS} rounds of ${N} requests`, ["caller → provider", "extra µs/request"], rows);
  return worst;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-bench-translation-"));
  const procs: ChildProcess[] = [];
  try {
    const sim = await start("sim", []);
    procs.push(sim.proc);
    const worst = await codecCost(sim.url);
    console.log(`\nWorst extra CPU of a translated request: ${worst.toFixed(1)} µs (budget ${BUDGET_US} µs): ${worst <= BUDGET_US ? "within" : "OVER"}`);
    if (process.argv.includes("--e2e")) await endToEnd(sim.url, dir, procs);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}

async function endToEnd(simUrl: string, dir: string, procs: ChildProcess[]): Promise<void> {
  const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;
  {
    const app = await start("app", ["--upstream", simUrl, "--data-dir", dir]);
    procs.push(app.proc);
    const rows: (string | number)[][] = [];
    let worst = 0;
    for (const stream of [false, true]) {
      const perCase: number[][] = CASES.map(() => []);
      for (let round = 0; round <= ROUNDS; round++) {
        for (const [i, c] of CASES.entries()) {
          const path = typeof c.path === "string" ? c.path : c.path(stream);
          const run = (duration: number) => autocannon({
            url: `${app.url}${path}`, method: "POST", connections: CONNECTIONS, duration,
            headers: { authorization: `Bearer ${app.key}`, "content-type": "application/json" }, body: JSON.stringify(c.body(stream)),
          });
          const before = await cpu(app.proc);
          const r = await run(round === 0 ? 1 : SECONDS);
          const after = await cpu(app.proc);
          if (r.errors + r.non2xx > 0) throw new Error(`${c.name}: ${r.errors + r.non2xx} failed requests`);
          // Round 0 warms the code up and is not counted.
          if (round > 0) perCase[i]!.push((after - before) / r.requests.total);
        }
      }
      const base = median(perCase[0]!);
      for (const [i, c] of CASES.entries()) {
        const us = median(perCase[i]!);
        if (i > 0) worst = Math.max(worst, us - base);
        rows.push([`${stream ? "stream" : "JSON"}: ${c.name}`, us.toFixed(1), i === 0 ? "" : (us - base).toFixed(1)]);
      }
    }
    printTable(`Latchkey CPU per request end to end, ${CONNECTIONS} connections, median of ${ROUNDS} rounds of ${SECONDS} s`, ["case", "µs/request", "extra µs over pass-through"], rows);
    console.log(`\nEnd to end, the worst translated case cost ${worst.toFixed(1)} µs more than pass-through (noisy on a shared machine).`);
  }
}

if (role) await child();
else await main();
