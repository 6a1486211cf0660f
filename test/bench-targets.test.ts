import { fork, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
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

describe("a bench target process", () => {
  it("exits when the bench that started it is gone (its IPC channel closed), rather than keep its port", async () => {
    // Under the test runner the bench is TypeScript: the target runs the built script, as the floor's thread does.
    const p = fork(fileURLToPath(new URL("../dist/bench/gateway.js", import.meta.url)), ["--role", "upstream"], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    try {
      const ready = await new Promise<{ url: string }>((resolve) => p.on("message", (m: { ready?: { url: string } }) => m.ready && resolve(m.ready)));
      expect((await fetch(ready.url, { method: "POST", body: "{}" })).status).toBe(200);
      const exited = new Promise<string>((resolve) => {
        p.once("exit", (code) => resolve(`exited with ${code}`));
        setTimeout(() => resolve("still running 5 s after its bench went"), 5000).unref();
      });
      p.disconnect();
      expect(await exited).toBe("exited with 0");
      await expect(fetch(ready.url, { method: "POST", body: "{}" })).rejects.toThrow();
    } finally {
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    }
  });
});
