#!/usr/bin/env -S node --max-semi-space-size=8
// A young generation of 8 MiB a half (V8's default grows to 16). A request allocates about 30 KB,
// nearly all of it dead by the next scavenge, and a scavenge costs what survives it, about the same
// whatever the size: at 4 MiB the gateway spent 17 µs of GC a request, at 8 about 10, at 16 about 7
// (the GC-profiler table of bench/gateway.ts, which starts it with the same flag), while the default
// commits another 16 MB. `npm start` and the Dockerfile pass it too.
import { run } from "../dist/src/cli/index.js";

run(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`latchkey: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
