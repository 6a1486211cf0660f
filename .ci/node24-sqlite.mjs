// Loaded with `--import` (through NODE_OPTIONS) by .ci/node24-suite, in every Node 24 process of
// its run: vitest, its workers and every server a test spawns. better-sqlite3 is a native module
// built for one Node ABI; node_modules/ holds the build for the machine's Node 20, which the
// Node 20 run (and anything else using this tree meanwhile) keeps using. Here every module of that
// package resolves instead to the copy built for this runtime's ABI in .ci/node24/better-sqlite3/,
// so nothing in node_modules/ is changed.
import { existsSync, readFileSync } from "node:fs";
import { registerHooks } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const from = pathToFileURL(`${root}node_modules/better-sqlite3/`).href;
const copy = `${root}.ci/node24/better-sqlite3/node_modules/better-sqlite3/`;
const to = pathToFileURL(copy).href;

const stamp = `${copy}build/abi`;
if (!existsSync(stamp) || readFileSync(stamp, "utf8").trim() !== process.versions.modules) {
  throw new Error(`.ci/node24-sqlite.mjs: no better-sqlite3 built for Node ABI ${process.versions.modules} in ${copy} (.ci/node24-suite builds it)`);
}

registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    return resolved.url.startsWith(from) ? { ...resolved, url: to + resolved.url.slice(from.length) } : resolved;
  },
});
