/** The process as operators run it: `latchkey up`, then SIGTERM while a request is under way. */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createStore, openDatabase } from "../src/store/index.js";

const ROOT = join(import.meta.dirname, "..");

describe("latchkey up", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-up-"));
  let running: ChildProcess | null = null;
  afterAll(() => {
    // A failed assertion before SIGTERM must not leave the server running.
    if (running && running.exitCode === null && running.signalCode === null) running.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("finishes a request under way on SIGTERM, writes its usage and exits 0", async () => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "latchkey.js"), "up", "--port", "0", "--data-dir", join(dir, "data")], {
      cwd: dir, env: { ...process.env, NO_COLOR: "1", LATCHKEY_LOG_LEVEL: "warn" }, stdio: ["ignore", "pipe", "pipe"],
    });
    running = child;
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    // A deadline, not a count of polls: on a loaded machine a first start (which creates the
    // organization and its keys) has taken over 10 s, and a timer fires late there too.
    for (const deadline = Date.now() + 60_000; !/lk_test_[0-9A-Za-z]{36}/.test(out) && child.exitCode === null && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
    const url = /running at (http:\/\/\S+)/.exec(out)?.[1];
    const testKey = /lk_test_[0-9A-Za-z]{36}/.exec(out)?.[0];
    if (!url || !testKey) throw new Error(`latchkey up did not print its URL and test key: ${out}`);

    const started = Date.now();
    const inFlight = fetch(`${url}/v1/messages`, {
      method: "POST", headers: { "x-api-key": testKey, "anthropic-version": "2023-06-01", "content-type": "application/json" },
      body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 32, messages: [{ role: "user", content: "sim-fault:slow sim-delay:1500" }] }),
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    const res = await inFlight;
    const body = (await res.json()) as { type: string; usage: { output_tokens: number } };
    expect(res.status).toBe(200);
    expect(body.type).toBe("message");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(await exited).toBe(0);

    const database = openDatabase({ url: join(dir, "data", "latchkey.db") });
    const events = await createStore(database).usage.count();
    await database.close();
    expect(events).toBe(1);
  });
});
