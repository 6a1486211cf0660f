/**
 * The floor for the gateway benchmark: the bare undici proxy (baseline-proxy.ts) plus the least a
 * metering gateway does for each request, written by hand for one key, one provider and one
 * dialect, with nothing configurable and no error handling beyond a status. Its ratio to the bare
 * proxy is as near as a gateway that keeps Latchkey's guarantees can come on the machine measured;
 * Latchkey's ratio to it is what Latchkey's own way of doing the work costs.
 *
 * Per request, as Latchkey does it: the key hashed and looked up; the body parsed; a requests
 * counter and a spend reservation (the request's cost bound); a reservation line in an append-only
 * journal before the upstream call and the usage line before the answer ends, each group-committed
 * with one write(2) a turn; Anthropic's twelve rate-limit headers and a request id; the answer's
 * usage read (parsed for JSON, scanned for streams); the usage row batched every 100 ms to a
 * thread that inserts it into SQLite (WAL) with usage_events' indexes (floor-writer.ts).
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, writeSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { Pool, type Dispatcher } from "undici";
import { listenLocal, type LocalServer } from "./targets.js";

interface Key { id: string; orgId: string; workspaceId: string; window: number; requests: number; spentNano: number; reservedNano: number }
interface Call { id: string; at: number; hr: number; key: Key; model: string; stream: boolean; boundNano: number; headers: Record<string, string> }

const RATE_NAMES = ["requests", "tokens", "input-tokens", "output-tokens"].map((n) => [`anthropic-ratelimit-${n}-limit`, `anthropic-ratelimit-${n}-remaining`, `anthropic-ratelimit-${n}-reset`] as const);
const SPEND_LIMIT_NANO = 1e18;
/** Nano-dollars a token, in and out (claude-haiku-4-5's list price). */
const PRICE_IN = 1000;
const PRICE_OUT = 5000;

/** Lines handed over this turn go out in one write(2) at the next (setImmediate); then their waiters run. */
class Journal {
  private batch = "";
  private waiters: (() => void)[] = [];
  private scheduled = false;
  constructor(private readonly fd: number) {}
  append(line: string, then: () => void): void {
    this.batch += line;
    this.waiters.push(then);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.commit());
    }
  }
  private commit(): void {
    this.scheduled = false;
    writeSync(this.fd, this.batch);
    this.batch = "";
    const told = this.waiters;
    this.waiters = [];
    for (const w of told) w();
  }
}

class Forward implements Dispatcher.DispatchHandler {
  private status = 0;
  private parts: Buffer[] = [];
  private inputTokens = 0;
  private outputTokens = 0;
  constructor(private readonly res: ServerResponse, private readonly call: Call, private readonly done: (c: Call, status: number, input: number, output: number, end: () => void) => void) {}
  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.res.on("drain", () => controller.resume());
  }
  onResponseStart(_c: Dispatcher.DispatchController, status: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = status;
    const out: Record<string, string> = { "content-type": String(headers["content-type"]), "request-id": this.call.id, ...this.call.headers };
    if (headers["content-length"] !== undefined) out["content-length"] = String(headers["content-length"]);
    this.res.writeHead(status, out);
  }
  onResponseData(c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.call.stream) {
      const s = chunk.toString("latin1");
      const i = s.lastIndexOf('"input_tokens":');
      if (i >= 0) this.inputTokens = parseInt(s.slice(i + 15), 10);
      const o = s.lastIndexOf('"output_tokens":');
      if (o >= 0) this.outputTokens = parseInt(s.slice(o + 16), 10);
    } else this.parts.push(chunk);
    if (!this.res.write(chunk)) c.pause();
  }
  onResponseEnd(): void {
    let input = this.inputTokens;
    let output = this.outputTokens;
    if (!this.call.stream) {
      const usage = (JSON.parse(Buffer.concat(this.parts).toString("utf8")) as { usage: { input_tokens: number; output_tokens: number } }).usage;
      input = usage.input_tokens;
      output = usage.output_tokens;
    }
    // As Latchkey does: the bytes not yet sent wait, corked, for the usage line, and leave with the end in one write.
    this.res.cork();
    this.done(this.call, this.status, input, output, () => {
      this.res.end();
      this.res.uncork();
    });
  }
  onResponseError(): void {
    if (!this.res.headersSent) this.res.writeHead(502);
    this.res.end();
  }
}

export async function startFloorGateway(upstream: string, dataDir: string, port = 0): Promise<LocalServer> {
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
  const fd = openSync(join(dataDir, "floor-journal.jsonl"), "a");
  const journal = new Journal(fd);
  // Under the test runner this module is TypeScript: the thread runs the built script.
  const script = import.meta.url.endsWith(".ts") ? new URL("../dist/bench/floor-writer.js", import.meta.url) : new URL("./floor-writer.js", import.meta.url);
  const writer = new Worker(script, { workerData: { file: join(dataDir, "floor-usage.db") } });
  let pending: (string | number)[] = [];
  const flush = setInterval(() => {
    if (pending.length === 0) return;
    writer.postMessage(pending);
    pending = [];
  }, 100);
  const keys = new Map<string, Key>();
  let seq = 0;
  let resetSecond = -1;
  let resetText = "";

  const finished = (c: Call, status: number, input: number, output: number, end: () => void) => {
    const costNano = input * PRICE_IN + output * PRICE_OUT;
    const ms = performance.now() - c.hr;
    // usage_events' columns: ids, what was called, tokens (cache write and read), cost, status, error, streamed, aborted, latency, time to first byte.
    const row = [c.id, c.at, c.key.orgId, c.key.workspaceId, c.key.id, "anthropic", c.model, "messages", input, output, 0, 0, costNano, status, "", c.stream ? 1 : 0, 0, ms, ms];
    journal.append(`${JSON.stringify(["e", ...row])}\n`, () => {
      c.key.reservedNano -= c.boundNano;
      c.key.spentNano += costNano;
      for (const v of row) pending.push(v);
      end();
    });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const hr = performance.now();
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const presented = req.headers["x-api-key"];
      if (typeof presented !== "string") return void res.writeHead(401).end();
      const hash = createHash("sha256").update(presented).digest("hex");
      let key = keys.get(hash);
      if (!key) keys.set(hash, (key = { id: `key_${hash.slice(0, 12)}`, orgId: "org_floor", workspaceId: "wrk_floor", window: 0, requests: 0, spentNano: 0, reservedNano: 0 }));
      const body = JSON.parse(raw.toString("utf8")) as { model?: unknown; max_tokens?: number; stream?: boolean };
      if (typeof body.model !== "string") return void res.writeHead(400).end();
      const minute = Math.floor(at / 60_000);
      if (key.window !== minute) {
        key.window = minute;
        key.requests = 0;
      }
      key.requests++;
      const boundNano = (raw.length >> 2) * PRICE_IN + (body.max_tokens ?? 4096) * PRICE_OUT;
      if (key.spentNano + key.reservedNano + boundNano > SPEND_LIMIT_NANO) return void res.writeHead(429).end();
      key.reservedNano += boundNano;
      const second = Math.ceil(at / 1000);
      if (second !== resetSecond) {
        resetSecond = second;
        resetText = new Date(second * 1000).toISOString().replace(".000Z", "Z");
      }
      const remaining = String(100_000_000 - key.requests);
      const headers: Record<string, string> = {};
      for (const [limit, left, reset] of RATE_NAMES) {
        headers[limit] = "100000000";
        headers[left] = remaining;
        headers[reset] = resetText;
      }
      const call: Call = { id: `req_${at.toString(36)}${(seq++).toString(36).padStart(8, "0")}`, at, hr, key, model: body.model, stream: body.stream === true, boundNano, headers };
      const upstreamHeaders = { "x-api-key": "sk-ant-floor-upstream", "anthropic-version": String(req.headers["anthropic-version"] ?? "2023-06-01"), "content-type": "application/json", "content-length": String(raw.length) };
      const reservation = ["r", call.id, at, key.orgId, key.workspaceId, key.id, "anthropic", call.model, "messages", call.stream ? 1 : 0, boundNano];
      journal.append(`${JSON.stringify(reservation)}\n`, () => {
        pool.dispatch({ path: req.url ?? "/", method: "POST", headers: upstreamHeaders, body: raw }, new Forward(res, call, finished));
      });
    });
  });
  return listenLocal(server, port, async () => {
    clearInterval(flush);
    await pool.close();
    await writer.terminate();
    closeSync(fd);
  });
}
