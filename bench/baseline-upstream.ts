/**
 * The upstream for the gateway benchmark: a node:http server that costs as little as it can. It
 * answers every POST with one fixed Anthropic Messages body, or, when the request asks for a
 * stream, one fixed 22-event SSE stream, so that what is measured is the proxy in front of it.
 */
import { createServer } from "node:http";
import { listenLocal, type LocalServer } from "./targets.js";

const MODEL = "claude-haiku-4-5";
const USAGE_IN = 12;
const USAGE_OUT = 16;

const JSON_BODY = Buffer.from(JSON.stringify({
  id: "msg_bench0000000000000000", type: "message", role: "assistant", model: MODEL,
  content: [{ type: "text", text: "Hello! This is a fixed answer from the benchmark upstream." }],
  stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: USAGE_IN, output_tokens: USAGE_OUT },
}));

/** message_start, content_block_start, ping, 16 deltas, content_block_stop, message_delta, message_stop. */
function streamEvents(): Buffer {
  const ev = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  const parts = [
    ev("message_start", { type: "message_start", message: { id: "msg_bench0000000000000000", type: "message", role: "assistant", model: MODEL, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: USAGE_IN, output_tokens: 1 } } }),
    ev("content_block_start", { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }),
    ev("ping", { type: "ping" }),
  ];
  for (let i = 0; i < 16; i++) parts.push(ev("content_block_delta", { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `word${i} ` } }));
  parts.push(
    ev("content_block_stop", { type: "content_block_stop", index: 0 }),
    ev("message_delta", { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: USAGE_OUT } }),
    ev("message_stop", { type: "message_stop" }),
  );
  return Buffer.from(parts.join(""));
}

/** The stream's events, each its own write, as a provider sends them. */
export const STREAM_EVENT_COUNT = 22;
const STREAM_CHUNKS = streamEvents().toString().split(/(?<=\n\n)/).map((s) => Buffer.from(s));

const JSON_HEADERS = { "content-type": "application/json", "content-length": String(JSON_BODY.length) };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };
const STREAM_FLAG = Buffer.from('"stream":true');

export async function startBenchUpstream(port = 0): Promise<LocalServer> {
  if (STREAM_CHUNKS.length !== STREAM_EVENT_COUNT) throw new Error(`bench upstream: ${STREAM_CHUNKS.length} events, expected ${STREAM_EVENT_COUNT}`);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      if (body.includes(STREAM_FLAG)) {
        res.writeHead(200, SSE_HEADERS);
        for (const c of STREAM_CHUNKS) res.write(c);
        res.end();
      } else {
        res.writeHead(200, JSON_HEADERS);
        res.end(JSON_BODY);
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  return listenLocal(server, port);
}
