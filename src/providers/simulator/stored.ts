import type { IncomingMessage, ServerResponse } from "node:http";
import { planScript, promptText, simId } from "./script.js";

/**
 * OpenAI files and batches, and Gemini cached contents, held in memory for the simulator's
 * lifetime, so the gateway's pass-through paths (and the metering of batch results) can be
 * exercised end to end. A batch completes at once: its output file holds one answer a request.
 */
interface StoredFile { id: string; filename: string; purpose: string; bytes: Buffer; created: number }
interface Batch { id: string; endpoint: string; input: string; output: string; window: string; created: number; metadata: unknown; count: number; status: string }

const files = new Map<string, StoredFile>();
const batches = new Map<string, Batch>();
const caches = new Map<string, Record<string, unknown>>();

const now = () => Math.floor(Date.now() / 1000);

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

function fileObject(f: StoredFile): unknown {
  return { id: f.id, object: "file", bytes: f.bytes.length, created_at: f.created, filename: f.filename, purpose: f.purpose, status: "processed", expires_at: null, status_details: null };
}

function batchObject(b: Batch): unknown {
  return {
    id: b.id, object: "batch", endpoint: b.endpoint, errors: null, input_file_id: b.input, completion_window: b.window, status: b.status,
    output_file_id: b.output, error_file_id: null, created_at: b.created, in_progress_at: b.created, expires_at: b.created + 86_400, finalizing_at: b.created,
    completed_at: b.created, failed_at: null, expired_at: null, cancelling_at: null, cancelled_at: b.status === "cancelled" ? now() : null,
    request_counts: { total: b.count, completed: b.count, failed: 0 }, metadata: b.metadata ?? null,
  };
}

/** One line of a batch's output: what the endpoint would have answered the request, with its usage. */
function answerLine(line: { custom_id?: unknown; url?: unknown; body?: Record<string, unknown> }): string {
  const body = line.body ?? {};
  const s = planScript(JSON.stringify(body), {}, (body.max_completion_tokens ?? body.max_tokens ?? null) as number | null, promptText(body), null);
  const model = String(body.model ?? "gpt-4o-mini");
  const answer = line.url === "/v1/embeddings"
    ? { object: "list", model, data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2, 0.3] }], usage: { prompt_tokens: s.inputTokens, total_tokens: s.inputTokens } }
    : {
      id: simId("chatcmpl-sim"), object: "chat.completion", created: now(), model,
      choices: [{ index: 0, message: { role: "assistant", content: s.words.join(""), refusal: null }, finish_reason: "stop", logprobs: null }],
      usage: { prompt_tokens: s.inputTokens, completion_tokens: s.words.length, total_tokens: s.inputTokens + s.words.length },
    };
  return JSON.stringify({ id: simId("batch_req_sim"), custom_id: line.custom_id, response: { status_code: 200, request_id: simId("req_sim"), body: answer }, error: null });
}

function createBatch(text: string): Batch | string {
  const b = JSON.parse(text || "{}") as { input_file_id?: string; endpoint?: string; completion_window?: string; metadata?: unknown };
  const input = files.get(String(b.input_file_id));
  if (!input) return `No file with id '${String(b.input_file_id)}'.`;
  const lines = input.bytes.toString("utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as Parameters<typeof answerLine>[0]);
  const out: StoredFile = { id: simId("file-sim"), filename: "batch_output.jsonl", purpose: "batch_output", bytes: Buffer.from(lines.map(answerLine).join("\n") + "\n"), created: now() };
  files.set(out.id, out);
  const batch: Batch = { id: simId("batch_sim"), endpoint: String(b.endpoint ?? "/v1/chat/completions"), input: input.id, output: out.id, window: String(b.completion_window ?? "24h"), created: now(), metadata: b.metadata, count: lines.length, status: "completed" };
  batches.set(batch.id, batch);
  return batch;
}

/** A multipart upload's file and purpose (the SDKs send `purpose` and `file` fields). */
async function upload(req: IncomingMessage, raw: Buffer): Promise<StoredFile> {
  const form = await new Response(new Uint8Array(raw), { headers: { "content-type": String(req.headers["content-type"] ?? "") } }).formData();
  const file = form.get("file");
  const bytes = file && typeof file !== "string" ? Buffer.from(await file.arrayBuffer()) : Buffer.from(String(file ?? ""));
  const filename = file && typeof file !== "string" ? file.name : "upload.jsonl";
  return { id: simId("file-sim"), filename, purpose: String(form.get("purpose") ?? "batch"), bytes, created: now() };
}

/** Answers OpenAI's files and batches; false for any other path. */
export function answerOpenAIStored(req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): boolean {
  const h = { "x-request-id": simId("req_sim") };
  const notFound = (what: string) => send(res, 404, { error: { message: `simulator: no such ${what}`, type: "invalid_request_error", param: null, code: null } }, h);
  const method = req.method ?? "GET";
  if (path === "/v1/files") {
    if (method === "GET") send(res, 200, { object: "list", data: [...files.values()].map(fileObject), has_more: false }, h);
    else {
      upload(req, raw).then((f) => {
        files.set(f.id, f);
        send(res, 200, fileObject(f), h);
      }, (err: unknown) => send(res, 400, { error: { message: `simulator: ${(err as Error).message}`, type: "invalid_request_error" } }, h));
    }
    return true;
  }
  const file = /^\/v1\/files\/([A-Za-z0-9_.-]+)(\/content)?$/.exec(path);
  if (file) {
    const f = files.get(file[1]!);
    if (!f) notFound("file");
    else if (method === "DELETE") {
      files.delete(f.id);
      send(res, 200, { id: f.id, object: "file", deleted: true }, h);
    } else if (file[2]) {
      res.writeHead(200, { ...h, "content-type": "application/octet-stream" });
      res.end(f.bytes);
    } else send(res, 200, fileObject(f), h);
    return true;
  }
  if (path === "/v1/batches") {
    if (method === "GET") send(res, 200, { object: "list", data: [...batches.values()].map(batchObject), first_id: null, last_id: null, has_more: false }, h);
    else {
      const b = createBatch(raw.toString("utf8"));
      if (typeof b === "string") send(res, 400, { error: { message: `simulator: ${b}`, type: "invalid_request_error", param: "input_file_id", code: null } }, h);
      else send(res, 200, batchObject(b), h);
    }
    return true;
  }
  const batch = /^\/v1\/batches\/([A-Za-z0-9_.-]+)(\/cancel)?$/.exec(path);
  if (batch) {
    const b = batches.get(batch[1]!);
    if (!b) notFound("batch");
    else send(res, 200, batchObject(b), h);
    return true;
  }
  return false;
}

/** Answers Gemini's cachedContents (v1 and v1beta); false for any other path. */
export function answerGeminiCaches(req: IncomingMessage, res: ServerResponse, path: string, text: string): boolean {
  const m = /^\/v1(?:beta)?\/cachedContents(?:\/([A-Za-z0-9_.-]+))?$/.exec(path);
  if (!m) return false;
  const h = { "x-request-id": simId("req_sim") };
  const method = req.method ?? "GET";
  if (!m[1]) {
    if (method === "GET") send(res, 200, { cachedContents: [...caches.values()] }, h);
    else {
      const body = JSON.parse(text || "{}") as Record<string, unknown>;
      const at = new Date().toISOString();
      const name = `cachedContents/${simId("sim")}`;
      const ttl = Number.parseInt(String(body.ttl ?? "3600s"), 10) || 3600;
      const tokens = Math.max(1, Math.ceil(Buffer.byteLength(promptText({ contents: body.contents, systemInstruction: body.systemInstruction })) / 4));
      const cache = {
        name, model: body.model, displayName: body.displayName ?? "", createTime: at, updateTime: at,
        expireTime: new Date(Date.now() + ttl * 1000).toISOString(), usageMetadata: { totalTokenCount: tokens },
      };
      caches.set(name, cache);
      send(res, 200, cache, h);
    }
    return true;
  }
  const name = `cachedContents/${m[1]}`;
  const cache = caches.get(name);
  if (!cache) send(res, 404, { error: { code: 404, message: `simulator: ${name} not found`, status: "NOT_FOUND" } }, h);
  else if (method === "DELETE") {
    caches.delete(name);
    send(res, 200, {}, h);
  } else if (method === "PATCH") {
    const body = JSON.parse(text || "{}") as Record<string, unknown>;
    const ttl = Number.parseInt(String(body.ttl ?? "0"), 10);
    if (ttl > 0) cache.expireTime = new Date(Date.now() + ttl * 1000).toISOString();
    cache.updateTime = new Date().toISOString();
    send(res, 200, cache, h);
  } else send(res, 200, cache, h);
  return true;
}
