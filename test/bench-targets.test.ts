import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ask } from "../bench/targets.js";

/** The gateway benches ask their target processes for figures over IPC; a target that dies must fail the bench, not hang it. */
describe("asking a bench target process", () => {
  const child = (script: string) => spawn(process.execPath, ["-e", script], { stdio: ["ignore", "ignore", "inherit", "ipc"] });

  it("answers with the field of the child's reply", async () => {
    const p = child("process.on('message', (m) => { process.send({ other: 1 }); process.send({ pong: m.n * 2 }); process.disconnect(); })");
    await expect(ask<number>(p, { n: 21 }, "pong")).resolves.toBe(42);
  });

  it("fails when the child exits without answering, and when it had exited already", async () => {
    const p = child("process.on('message', () => process.exit(3))");
    await expect(ask(p, { cmd: "sample" }, "settled")).rejects.toThrow(/exited \(3\) before it answered 'settled'/);
    await expect(ask(p, { cmd: "sample" }, "settled")).rejects.toThrow(/has exited \(3\)/);
  });
});
