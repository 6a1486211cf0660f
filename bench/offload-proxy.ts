/**
 * The bare undici proxy (baseline-proxy.ts) with its upstream leg on a worker thread: the main
 * thread keeps the client's sockets (node:http) and hands each request over; the worker makes the
 * upstream call with an undici Pool and hands the answer back. Messages are batched a turn at a
 * time each way (every request finished this turn in one message, every upstream event in one),
 * the bytes copied into one buffer a message and transferred, so the hand-over costs as little as
 * it can.
 *
 * It answers one question for the gateway benchmark (`--offload`): does work moved off the main
 * thread raise requests a second on the machine measured? The main thread then does about half
 * the proxy's work a request; whether req/s follows depends on whether the cores have room for
 * the worker's share and the hand-over's cost. No back-pressure towards the worker and no abort
 * when a client goes: enough for a benchmark whose clients read everything, not for a gateway.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { Pool, type Dispatcher } from "undici";
import { answerHeaders, forwardedHeaders } from "./baseline-proxy.js";
import { listenLocal, type LocalServer } from "./targets.js";

/** A request, main thread to worker: its body is bytes [from, to) of the message's buffer. */
interface Ask { id: number; method: string; path: string; headers: Record<string, string>; from: number; to: number }
/**
 * What happened to one request in one turn of the worker, worker to main thread: the head if it
 * came, body bytes (bytes [from, to) of the message's buffer), whether it ended. Events of one
 * request that come one after another share an item; the main thread applies items in order.
 */
interface Tell { id: number; status?: number; headers?: OutgoingHttpHeaders; from: number; to: number; end: boolean }

/**
 * Collects items a turn at a time and posts them in one message, with all their bytes copied
 * into one buffer, transferred: one copy and one transfer a turn, however many items and chunks.
 */
class Batch<T extends { from: number; to: number }> {
  private items: T[] = [];
  private bytes: Buffer[] = [];
  private size = 0;
  constructor(private readonly post: (items: T[], buffer: ArrayBuffer) => void) {}
  /** Adds an item to this turn's message (its bytes follow with `append`). */
  add(item: T): void {
    if (this.items.length === 0) setImmediate(() => this.flush());
    item.from = item.to = this.size;
    this.items.push(item);
  }
  /** Bytes of `item`, the last item added (so that its bytes stay contiguous). */
  append(item: T, b: Buffer): void {
    this.bytes.push(b);
    this.size += b.length;
    item.to = this.size;
  }
  private flush(): void {
    const items = this.items;
    // A buffer of its own (not a slice of Node's shared pool), so that it can be transferred.
    const all = Buffer.allocUnsafeSlow(this.size);
    let at = 0;
    for (const b of this.bytes) at += b.copy(all, at);
    this.items = [];
    this.bytes = [];
    this.size = 0;
    this.post(items, all.buffer as ArrayBuffer);
  }
}

function runWorker(upstream: string): void {
  const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30_000 });
  const port = parentPort!;
  // The turn's last item: what comes next for the same request joins it (its bytes are the
  // buffer's last, so they stay contiguous); anything for another request starts a new one.
  let last: Tell | null = null;
  const out = new Batch<Tell>((items, buffer) => {
    last = null;
    port.postMessage({ items, buffer }, [buffer]);
  });
  const tell = (id: number): Tell => {
    if (last?.id !== id) {
      last = { id, from: 0, to: 0, end: false };
      out.add(last);
    }
    return last;
  };
  port.on("message", ({ items, buffer }: { items: Ask[]; buffer: ArrayBuffer }) => {
    const all = Buffer.from(buffer);
    for (const a of items) {
      const body = all.subarray(a.from, a.to);
      a.headers["content-length"] = String(body.length);
      pool.dispatch({ path: a.path, method: a.method as Dispatcher.HttpMethod, headers: a.headers, body }, {
        onRequestStart() {},
        onResponseStart(_c, status, headers) {
          const t = tell(a.id);
          t.status = status;
          t.headers = answerHeaders(headers);
        },
        onResponseData(_c, chunk) {
          out.append(tell(a.id), chunk);
        },
        onResponseEnd() {
          tell(a.id).end = true;
        },
        onResponseError() {
          const t = tell(a.id);
          t.status ??= 502;
          t.end = true;
        },
      });
    }
  });
}

export async function startOffloadProxy(upstream: string, port = 0): Promise<LocalServer> {
  // Under the test runner this module is TypeScript: the thread runs the built script.
  const script = import.meta.url.endsWith(".ts") ? new URL("../dist/bench/offload-proxy.js", import.meta.url) : new URL(import.meta.url);
  const worker = new Worker(script, { workerData: { offloadUpstream: upstream } });
  const open = new Map<number, ServerResponse>();
  let next = 0;
  worker.on("message", ({ items, buffer }: { items: Tell[]; buffer: ArrayBuffer }) => {
    const all = Buffer.from(buffer);
    for (const t of items) {
      const res = open.get(t.id);
      if (!res) continue;
      // An upstream that fails after its head went out ends the answer as it stands (so does the bare proxy).
      if (t.status !== undefined && !res.headersSent) res.writeHead(t.status, t.headers);
      const body = t.to > t.from ? all.subarray(t.from, t.to) : null;
      if (t.end) {
        open.delete(t.id);
        res.end(body ?? undefined);
      } else if (body) res.write(body);
    }
  });
  const asks = new Batch<Ask>((items, buffer) => worker.postMessage({ items, buffer }, [buffer]));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ask: Ask = { id: next++, method: req.method ?? "GET", path: req.url ?? "/", headers: forwardedHeaders(req.headers), from: 0, to: 0 };
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      open.set(ask.id, res);
      asks.add(ask);
      for (const c of chunks) asks.append(ask, c);
    });
  });
  return listenLocal(server, port, () => worker.terminate());
}

if (!isMainThread && (workerData as { offloadUpstream?: string } | null)?.offloadUpstream) runWorker((workerData as { offloadUpstream: string }).offloadUpstream);
