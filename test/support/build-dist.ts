/**
 * Vitest global setup: the CLI tests run `bin/latchkey.js`, which runs dist/. `npm test` builds it
 * first; a run of single test files builds it here, once, when a source file is newer than the
 * build, so no test file builds it for itself (two files building at once under load timed out,
 * and rewrote dist/ under servers other files had started from it).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const BUILT = join(ROOT, "dist", "src", "main.js");

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

export default function setup(): void {
  if (existsSync(BUILT) && statSync(BUILT).mtimeMs >= newestSource(join(ROOT, "src"))) return;
  console.log("dist/ is older than src/: building it once for the CLI tests (tsc -p tsconfig.json)");
  // tsc emits even when work in progress elsewhere has type errors; the type check belongs to npm test.
  spawnSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.json")], { cwd: ROOT, stdio: "inherit" });
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing after the build`);
}
