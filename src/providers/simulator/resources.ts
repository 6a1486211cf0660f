import type { IncomingMessage, ServerResponse } from "node:http";
import { planScript, promptText, simId } from "./script.js";

/** Anthropic message batches the simulator holds (in memory, for its lifetime): each ends at once. */
const batches = new Map<string, { created: string; requests: { custom_id: string; params: Record<string, unknown> }[] }>();

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, "content-type": "application/json" });
  res.end(JSON.stringify(payload));
}

function batchObject(id: string, host: string): unknown {
  const b = batches.get(id)!;
  return {
    id, type: "message_batch", processing_status: "ended", created_at: b.created, ended_at: b.created, expires_at: b.created, archived_at: null, cancel_initiated_at: null,
    request_counts: { processing: 0, succeeded: b.requests.length, errored: 0, canceled: 0, expired: 0 },
    results_url: `http://${host}/v1/messages/batches/${id}/results`,
  };
}

/** Answers the stored-resource endpoints it knows (message batches, stored responses); false for any other path. */
export function answerResource(req: IncomingMessage, res: ServerResponse, path: string, text: string): boolean {
  const anthropic = { "request-id": simId("req_sim") };
  const openai = { "x-request-id": simId("req_sim") };
  const host = req.headers.host ?? "127.0.0.1";
  if (path === "/v1/messages/batches" && req.method === "POST") {
    const body = JSON.parse(text || "{}") as { requests?: { custom_id: string; params: Record<string, unknown> }[] };
    const id = simId("msgbatch_sim");
    batches.set(id, { created: new Date().toISOString(), requests: body.requests ?? [] });
    send(res, 200, batchObject(id, host), anthropic);
    return true;
  }
  const batch = /^\/v1\/messages\/batches\/([A-Za-z0-9_.-]+)(\/results)?$/.exec(path);
  if (batch && req.method === "GET") {
    const b = batches.get(batch[1]!);
    if (!b) send(res, 404, { type: "error", error: { type: "not_found_error", message: "simulator: no such batch" } }, anthropic);
    else if (!batch[2]) send(res, 200, batchObject(batch[1]!, host), anthropic);
    else {
      const lines = b.requests.map((r) => {
        const s = planScript(JSON.stringify(r.params), {}, (r.params.max_tokens as number | undefined) ?? null, promptText(r.params), null);
        const message = {
          id: simId("msg_sim"), type: "message", role: "assistant", model: r.params.model, content: [{ type: "text", text: s.words.join("") }],
          stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: s.inputTokens, output_tokens: s.words.length, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
        };
        return JSON.stringify({ custom_id: r.custom_id, result: { type: "succeeded", message } });
      });
      res.writeHead(200, { ...anthropic, "content-type": "application/binary" });
      res.end(lines.join("\n") + "\n");
    }
    return true;
  }
  const stored = /^\/v1\/responses\/([A-Za-z0-9_.-]+)(\/input_items)?$/.exec(path);
  if (stored && req.method === "GET") {
    if (stored[2]) send(res, 200, { object: "list", data: [], first_id: null, last_id: null, has_more: false }, openai);
    else send(res, 200, { id: stored[1], object: "response", created_at: Math.floor(Date.now() / 1000), status: "completed", model: "gpt-5", output: [], usage: null, error: null }, openai);
    return true;
  }
  return false;
}
