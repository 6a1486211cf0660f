/** Real processes a fault test kills and restarts: `latchkey up`, and a private redis-server. */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { connect, createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { LOOPBACK_UPSTREAMS } from "./loopback.js";

const ROOT = join(import.meta.dirname, "..", "..");

const START_TIMEOUT_MS = 60_000;

/** `latchkey up` on a data directory; resolves with its URL (and the admin key on a first run). */
export async function startUp(dataDir: string, env: Record<string, string> = {}): Promise<{ proc: ChildProcess; url: string; admin: string | null }> {
  const proc = spawn(process.execPath, [join(ROOT, "bin", "latchkey.js"), "up", "--port", "0", "--data-dir", dataDir], {
    env: { ...process.env, LATCHKEY_LOG_LEVEL: "fatal", LATCHKEY_ALLOW_PRIVATE_UPSTREAMS: LOOPBACK_UPSTREAMS, NO_COLOR: "1", ...env }, stdio: ["ignore", "pipe", "ignore"],
  });
  let out = "";
  proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  // A deadline, not a count of polls: on a loaded machine (the whole suite on two cores) a start
  // has been seen to take over 15 s, and a timer fires late there too.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!/running at http/.test(out) && proc.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  // The banner goes on after the URL: on a first run the admin key comes a few lines later.
  const bannerDeadline = Date.now() + 10_000;
  while (/running at http/.test(out) && !/Try the gateway|admin key saved/.test(out) && proc.exitCode === null && Date.now() < bannerDeadline) await new Promise((r) => setTimeout(r, 20));
  const url = /running at (http:\/\/\S+)/.exec(out)?.[1];
  if (!url) {
    proc.kill("SIGKILL");
    throw new Error(`latchkey up did not start: ${out}`);
  }
  return { proc, url, admin: /lk_admin_[0-9A-Za-z]{36}/.exec(out)?.[0] ?? null };
}

/**
 * A loopback port whose connections are refused, for an upstream that cannot be reached. Not a
 * `freePort`: that one comes from the kernel's ephemeral range, from which every `listen(0)` of
 * the suite's parallel files draws too, and one of them took it between the test choosing it and
 * connecting (a "refused" deployment then answered from another file's simulator). This one is
 * below that range (32768 and up on Linux), where nothing in the suite listens, and is checked to
 * refuse a connection now.
 */
export async function refusedPort(): Promise<number> {
  for (let tries = 0; tries < 20; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const refused = await new Promise<boolean>((done) => {
      const socket = connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        done(false);
      });
      socket.once("error", (err: NodeJS.ErrnoException) => done(err.code === "ECONNREFUSED"));
    });
    if (refused) return port;
  }
  throw new Error("no refused loopback port found below the ephemeral range");
}

/** A free loopback port: nothing listens on it (connections are refused) until a server takes it, say one that must come back on the same port after a restart. */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((ok) => s.listen(0, "127.0.0.1", ok));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((ok) => s.close(() => ok()));
  return port;
}

/** A redis-server of the test's own, without persistence: a restart loses everything, as an unpersisted Redis does. */
export class OwnRedis {
  private proc: ChildProcess | null = null;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const proc = spawn("redis-server", ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "ignore"] });
    this.proc = proc;
    let out = "";
    proc.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !/Ready to accept connections/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
    if (!/Ready to accept connections/.test(out)) throw new Error(`redis-server did not start: ${out}`);
  }

  /** SIGKILL: no goodbye to clients, nothing saved. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((ok) => proc.once("exit", ok));
    proc.kill("SIGKILL");
    await exited;
  }
}

/**
 * Runs an SDK conformance script (`<runtime> <script> <gateway url> <key> <models…>`) and gives its
 * standard output. Not spawnSync: the gateway answering the script runs on this process's event loop.
 */
export function runConformanceScript(runtime: string, script: string, url: string, key: string, models: string[]): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    execFile(runtime, [script, url, key, ...models], { encoding: "utf8", timeout: 240_000, maxBuffer: 16 << 20 }, (err, out, stderr) => {
      if (err) reject(new Error(`${script} failed: ${err.message} ${stderr.slice(-2000)}`));
      else resolve(out);
    });
  });
}
