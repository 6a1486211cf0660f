/** `credentials rotate-master` on SQLite refuses while a server holds the database, and changes nothing. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startUp } from "./support/processes.js";

const ROOT = join(import.meta.dirname, "..");
const cli = (args: string[]) => spawnSync(process.execPath, [join(ROOT, "bin", "latchkey.js"), ...args], {
  env: { ...process.env, NO_COLOR: "1", LATCHKEY_LOG_LEVEL: "fatal" }, encoding: "utf8", timeout: 30_000,
});

describe("rotate-master against a running server", () => {
  const dir = mkdtempSync(join(tmpdir(), "latchkey-rotate-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("refuses while the server runs, and rotates once it has stopped", async () => {
    const up = await startUp(dir);
    const before = readFileSync(join(dir, "master.key"), "utf8");
    try {
      const r = cli(["credentials", "rotate-master", "--data-dir", dir]);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/open in another process: stop the server/);
      expect(readFileSync(join(dir, "master.key"), "utf8")).toBe(before);
    } finally {
      const exited = new Promise((ok) => up.proc.once("exit", ok));
      up.proc.kill("SIGTERM");
      await exited;
    }
    const ok = cli(["credentials", "rotate-master", "--data-dir", dir]);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(readFileSync(join(dir, "master.key"), "utf8")).not.toBe(before);
  }, 60_000);
});
