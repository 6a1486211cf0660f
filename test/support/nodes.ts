/**
 * Tests that run whole `latchkey up` processes and the CLI against their data: the servers, data
 * directories and other clean-ups a test starts are kept here and undone by `close()` in afterAll.
 */
import { execFile, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startUp } from "./processes.js";

const ROOT = join(import.meta.dirname, "..", "..");

export interface UpNode { proc: ChildProcess; url: string; admin: string | null }

/** The `latchkey` command, run to its end, quiet but for what it prints itself. */
export function latchkeyCli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [join(ROOT, "bin", "latchkey.js"), ...args], {
    env: { ...process.env, NO_COLOR: "1", LATCHKEY_LOG_LEVEL: "fatal", ...env }, encoding: "utf8", timeout: timeoutMs,
  });
}

/**
 * The same, without blocking this process: for a command run while the test's own traffic flows.
 * (spawnSync stops the event loop; the servers then close the idle keep-alive sockets, and the
 * first requests after it fail with "other side closed" on sockets the client still thinks open.)
 */
export function latchkeyCliAsync(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "bin", "latchkey.js"), ...args], {
      env: { ...process.env, NO_COLOR: "1", LATCHKEY_LOG_LEVEL: "fatal", ...env }, encoding: "utf8", timeout: timeoutMs,
    }, (err, stdout, stderr) => resolve({ status: err ? (typeof err.code === "number" ? err.code : null) : 0, stdout, stderr }));
  });
}

/** SIGTERM, and waits for the process to exit (a graceful stop: it finishes what it was doing). */
export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((ok) => proc.once("exit", ok));
  proc.kill("SIGTERM");
  await exited;
}

/** The management API of a server as its admin: status and parsed body. */
export function adminApi(url: string, admin: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const r = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: (await r.json()) as any };
  };
}

/** One Anthropic message through a server's gateway; resolves with the status once the answer is read. */
export function sendMessage(url: string, key: string, content = "sim-tokens:7"): Promise<number> {
  return fetch(`${url}/v1/messages`, {
    method: "POST", headers: { "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" },
    body: JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 16, messages: [{ role: "user", content }] }),
  }).then(async (r) => (await r.text(), r.status));
}

/** Servers and data directories a test starts, all stopped and removed by `close()`. */
export class UpNodes {
  private readonly dirs: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  /** A new, empty data directory. */
  dir(name: string): string {
    const d = mkdtempSync(join(tmpdir(), `latchkey-${name}-`));
    this.dirs.push(d);
    return d;
  }

  /** `latchkey up` on a data directory, killed at `close()` if still running. */
  async start(dataDir: string, env: Record<string, string> = {}): Promise<UpNode> {
    const node = await startUp(dataDir, env);
    this.procs.push(node.proc);
    return node;
  }

  /** Something else to undo at the end (a simulator, a PostgreSQL schema, Redis keys), in the order given. */
  onClose(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async close(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    for (const c of this.cleanups) await c();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}
