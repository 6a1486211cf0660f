import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { classify, cpuByClass, jitNames, perfProblem, readRecording, recordThread, SAMPLE_NS, samplesBySymbol } from "../bench/cpu-classes.js";
import { SERVICES_REQUIRED } from "./support/services.js";

/** `perf record` on this machine: the gateway bench's --perf pass needs it; without it, said aloud here. */
const perfUsable = ((): boolean => {
  const problem = perfProblem();
  if (problem === null) return true;
  if (SERVICES_REQUIRED) throw new Error(`perf is required (LATCHKEY_TEST_SERVICES=required): ${problem}`);
  console.warn(`\n*** ${problem}: the bench's CPU classes are tested on fixed text only. ***\n`);
  return false;
})();

describe("the bench's CPU classes from perf", () => {
  it("puts each symbol in its class: the kernel, whose JavaScript, V8's builtins, the collector, allocation", () => {
    const cases: [string, string, string][] = [
      ["pvm_irq_enable", "[kernel.kallsyms]", "kernel (sockets, syscalls, interrupts)"],
      ["JS:*serve file:///srv/latchkey/dist/src/gateway/handler.js:29:21", "/tmp/perf-7.map", "JavaScript: Latchkey's"],
      ["JS:*onResponseEnd file:///srv/latchkey/dist/bench/floor-gateway.js:91:3", "/tmp/perf-7.map", "JavaScript: the bench's own (floor, proxy)"],
      ["JS:*_resume /srv/latchkey/node_modules/undici/lib/dispatcher/client.js:589:18", "/tmp/perf-7.map", "JavaScript and wasm: dependencies (undici)"],
      ["JS:wasm-function[20]-20-turbofan", "/tmp/perf-7.map", "JavaScript and wasm: dependencies (undici)"],
      ["JS:*writeOrBuffer node:internal/streams/writable:548:23", "/tmp/perf-7.map", "JavaScript: Node's (http, streams, events)"],
      ["JS:*spin file:///tmp/probe.js:1:1", "/tmp/perf-7.map", "other"],
      ["Script:~ file:///srv/latchkey/dist/src/main.js", "/tmp/perf-7.map", "JavaScript: Latchkey's"],
      ["Eval:~ node:internal/process/execution:1:1", "/tmp/perf-7.map", "JavaScript: Node's (http, streams, events)"],
      ["Builtin:ArrayPrototypePush", "/tmp/perf-7.map", "V8 builtins (property access, calls, strings)"],
      ["Builtins_KeyedLoadIC_Megamorphic", "/usr/bin/node", "V8 builtins (property access, calls, strings)"],
      ["RegExp:[^\\t\\x20-\\x7e\\x80-\\xff]", "/tmp/perf-7.map", "V8 builtins (property access, calls, strings)"],
      ["v8::internal::ScavengerCollector::CollectGarbage", "/usr/bin/node", "garbage collection"],
      ["v8::internal::Scavenger::ScavengeObject<v8::internal::FullHeapObjectSlot>", "/usr/bin/node", "garbage collection"],
      ["v8::internal::JsonParser<unsigned char>::ParseJsonValue", "/usr/bin/node", "V8 runtime, other"],
      ["llhttp__internal_execute", "/usr/bin/node", "Node native (llhttp, libuv, crypto)"],
      ["node::StreamBase::Writev", "/usr/bin/node", "Node native (llhttp, libuv, crypto)"],
      ["sha256_block_data_order", "/usr/bin/node", "Node native (llhttp, libuv, crypto)"],
      ["_int_malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6", "malloc and free"],
      ["__memmove_avx512_unaligned_erms", "/usr/lib/x86_64-linux-gnu/libc.so.6", "libc, other"],
      ["[unknown]", "[unknown]", "other"],
    ];
    for (const [sym, dso, want] of cases) expect([sym, classify(sym, dso)]).toEqual([sym, want]);
  });

  it("reads perf script's lines, parentheses in a symbol's name included, and counts each symbol's samples", () => {
    const text = [
      "     7eff9f659445 Builtins_StoreIC (/usr/bin/node)",
      " ffffffff81e7a132 sock_def_readable ([kernel.kallsyms])",
      "     7eff9f659447 Builtins_StoreIC (/usr/bin/node)",
      "     7eff7fa225bd JS:*writeOrBuffer node:internal/streams/writable:548:23 (/tmp/perf-7001.map)",
      "     7eff7fa225c0 JS:*writeOrBuffer node:internal/streams/writable:548:23+0x2bd (/tmp/perf-7001.map)",
      "     55d0c0ffee00 v8::internal::(anonymous namespace)::Invoke (/usr/bin/node)",
      "                0 [unknown] ([unknown])",
      "a line perf would never print",
      "",
    ].join("\n");
    const got = [...samplesBySymbol(text).values()].map((s) => [s.sym, s.dso, s.samples]);
    expect(got).toEqual([
      ["Builtins_StoreIC", "/usr/bin/node", 2],
      ["sock_def_readable", "[kernel.kallsyms]", 1],
      ["JS:*writeOrBuffer node:internal/streams/writable:548:23", "/tmp/perf-7001.map", 2],
      ["v8::internal::(anonymous namespace)::Invoke", "/usr/bin/node", 1],
      ["[unknown]", "[unknown]", 1],
    ]);
    // 7 samples of 250 µs over 4 requests: 437.5 µs a request, each class its share.
    const per = cpuByClass(samplesBySymbol(text), 4);
    expect(per.get("V8 builtins (property access, calls, strings)")).toBeCloseTo((2 * SAMPLE_NS) / 1000 / 4, 6);
    expect(per.get("kernel (sockets, syscalls, interrupts)")).toBeCloseTo(62.5, 6);
    expect(per.get("V8 runtime, other")).toBeCloseTo(62.5, 6);
    expect([...per.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(437.5, 6);
  });

  it("names V8's code by the newest map entry that covers an address: freed code's addresses go to newer code", () => {
    const names = jitNames([
      "1000 100 JS:~<anonymous> file:///app/node_modules/fast-uri/lib/utils.js:1:1", // run once at start, then freed
      "2000 10 Builtins_Stub",
      "1080 40 JS:*serve file:///app/dist/src/gateway/handler.js:29:21", // newer, where the first was
      "3000 20 JS:*old file:///app/x.js:1:1",
      "3010 20 JS:*newer file:///app/y.js:1:1", // overlaps the end of the one before
      "",
    ].join("\n"));
    expect(names(0x1090)).toBe("JS:*serve file:///app/dist/src/gateway/handler.js:29:21");
    expect(names(0x10bf)).toBe("JS:*serve file:///app/dist/src/gateway/handler.js:29:21");
    // The start-up code is gone as a whole: an address only it covered is no longer named after it.
    expect(names(0x1010)).toBeNull();
    expect(names(0x10c0)).toBeNull();
    expect(names(0x2005)).toBe("Builtins_Stub");
    expect(names(0x200f)).toBe("Builtins_Stub");
    expect(names(0x2010)).toBeNull();
    expect(names(0x3005)).toBeNull();
    expect(names(0x3015)).toBe("JS:*newer file:///app/y.js:1:1");
    expect(names(0x500)).toBeNull();
    // As perf script prints them, a stale name is replaced, an unnamed address is named.
    const script = "     1090 JS:~<anonymous> file:///app/node_modules/fast-uri/lib/utils.js:1:1 (/tmp/perf-9.map)\n     3015 [unknown] (/tmp/perf-9.map)\n     4000 [unknown] (/tmp/perf-9.map)\n";
    const got = [...samplesBySymbol(script, (file, ip) => (file === "/tmp/perf-9.map" ? names(ip) : null)).values()].map((x) => x.sym);
    expect(got).toEqual(["JS:*serve file:///app/dist/src/gateway/handler.js:29:21", "JS:*newer file:///app/y.js:1:1", "[unknown]"]);
  });

  it.runIf(perfUsable)("samples a real thread: a busy JavaScript function is named, and its samples add up to the CPU it used", async () => {
    const dir = mkdtempSync(join(tmpdir(), "latchkey-perf-test-"));
    const script = join(dir, "probe.js");
    // Busy for 1.5 s in a function with a name to find, then idle until killed: idle time must not count.
    writeFileSync(script, [
      "function latchkeyPerfProbe(n) { let x = 0; for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003; return x; }",
      "const until = Date.now() + 1500; let sink = 0;",
      "while (Date.now() < until) sink += latchkeyPerfProbe(100000);",
      "process.stdout.write(`busy ${sink > -1}\\n`);",
      "setInterval(() => {}, 1000);",
    ].join("\n"));
    const child = spawn(process.execPath, ["--perf-basic-prof", script], { stdio: ["ignore", "pipe", "inherit"] });
    // perf keeps its build-id cache under $HOME: here a home of the test's own, to see it stays empty.
    const home = process.env.HOME;
    process.env.HOME = dir;
    try {
      let rec: Awaited<ReturnType<typeof recordThread>>;
      try {
        rec = await recordThread(child.pid!, join(dir, "probe.data"));
      } finally {
        process.env.HOME = home;
      }
      await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
      await new Promise((r) => setTimeout(r, 700)); // idle: no samples
      await rec.stop();
      const found = [...readRecording(join(dir, "probe.data")).values()];
      const total = found.reduce((n, s) => n + s.samples, 0);
      // The 300 ms the recorder takes to attach come off the 1.5 s busy; scheduling takes some more.
      const cpuMs = (total * SAMPLE_NS) / 1e6;
      expect(cpuMs).toBeGreaterThan(500);
      expect(cpuMs).toBeLessThan(1700);
      const probe = found.filter((s) => s.sym.includes("latchkeyPerfProbe")).reduce((n, s) => n + s.samples, 0);
      expect(probe / total).toBeGreaterThan(0.5);
      // Without --no-buildid-cache perf copied the node binary there, 109 MB a recording.
      expect(existsSync(join(dir, ".debug"))).toBe(false);
    } finally {
      child.kill("SIGKILL");
      rmSync(`/tmp/perf-${child.pid}.map`, { force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
