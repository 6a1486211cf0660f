#!/usr/bin/env node
// Runs every benchmark (or those named: `npm run bench -- verify gateway`) from the built code.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(root, "dist", "bench");
if (!existsSync(built)) {
  console.error("bench: build first (npm run build)");
  process.exit(2);
}
const order = ["verify", "gateway", "translation", "limits", "usage-report", "usage-insert", "main-writes", "leaks-scan"];
// Modules the benchmarks load, not benchmarks: run alone, they print nothing or fail (floor-writer
// is a worker thread's script).
const helpers = new Set(["table", "heap", "proc", "targets", "usage-events", "floor-gateway", "floor-writer", "offload-proxy"]);
// Run only when named: instructions needs valgrind and takes about ten minutes.
const whenNamed = new Set(["instructions"]);
const available = readdirSync(built).filter((f) => f.endsWith(".js") && !f.startsWith("baseline")).map((f) => f.slice(0, -3)).filter((n) => !helpers.has(n));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = (wanted.length ? wanted : [...order.filter((n) => available.includes(n)), ...available.filter((n) => !order.includes(n) && !whenNamed.has(n)).sort()]);
let failed = 0;
for (const name of names) {
  if (!available.includes(name)) {
    console.error(`bench: no benchmark named ${name} (have: ${available.join(", ")})`);
    failed++;
    continue;
  }
  console.log(`\n### ${name}`);
  const r = spawnSync(process.execPath, [join(built, `${name}.js`)], { stdio: "inherit", cwd: root });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
