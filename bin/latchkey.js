#!/usr/bin/env -S node --max-semi-space-size=4
// A young generation of 4 MiB a half (V8's default grows to 16): the gateway's per-request garbage
// dies young either way, and the server stays about 20 MB smaller under load at the same
// throughput (bench/gateway.ts starts it with the same flag). `npm start` passes it too.
import { run } from "../dist/src/cli/index.js";

run(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    process.stderr.write(`latchkey: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
