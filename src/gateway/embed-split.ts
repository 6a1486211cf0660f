import type { Dispatcher } from "undici";

/** Gemini's batchEmbedContents takes at most this many requests a call. */
export const GEMINI_EMBED_BATCH = 100;

type DispatchOnly = Pick<Dispatcher, "dispatch">;

/**
 * A dispatcher that sends a batchEmbedContents body of more than GEMINI_EMBED_BATCH requests as
 * several calls, one after another, and hands the exchange one answer: the embeddings joined in
 * order and the usage added up, so it is translated and metered once, as if Gemini had answered in
 * one call. The first answer that is not a success (or not JSON) is handed on as it came, so
 * fallback and error translation work as for one call.
 */
export function splitGeminiEmbeds(pool: DispatchOnly): DispatchOnly {
  return {
    dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
      void run(pool, opts, handler);
      return true;
    },
  };
}

/** How many requests a batchEmbedContents body holds (0 when it is not one). */
export function embedRequestCount(body: Record<string, unknown> | undefined): number {
  return Array.isArray(body?.requests) ? (body!.requests as unknown[]).length : 0;
}

class Controller implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

async function run(pool: DispatchOnly, opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): Promise<void> {
  const controller = new Controller();
  handler.onRequestStart?.(controller, {});
  const embeddings: unknown[] = [];
  let prompt = 0;
  let reported = true;
  let last: { status: number; headers: Record<string, string | string[] | undefined> } | null = null;
  try {
    const whole = JSON.parse(String(opts.body)) as { requests: unknown[] };
    for (let i = 0; i < whole.requests.length; i += GEMINI_EMBED_BATCH) {
      if (controller.aborted) return;
      const body = JSON.stringify({ ...whole, requests: whole.requests.slice(i, i + GEMINI_EMBED_BATCH) });
      const headers = { ...(opts.headers as Record<string, string>), "content-length": String(Buffer.byteLength(body)) };
      const answer = await (pool as Dispatcher).request({ ...opts, body, headers } as Dispatcher.RequestOptions);
      const bytes = Buffer.from(await answer.body.arrayBuffer());
      type EmbedAnswer = { embeddings?: unknown[]; usageMetadata?: { promptTokenCount?: number } };
      let parsed: EmbedAnswer | null = null;
      try {
        parsed = answer.statusCode < 300 ? JSON.parse(bytes.toString("utf8")) as EmbedAnswer : null;
      } catch {
        parsed = null;
      }
      if (!parsed || !Array.isArray(parsed.embeddings)) {
        if (controller.aborted) return;
        handler.onResponseStart?.(controller, answer.statusCode, answer.headers, "");
        if (bytes.length) handler.onResponseData?.(controller, bytes);
        handler.onResponseEnd?.(controller, {});
        return;
      }
      embeddings.push(...parsed.embeddings);
      const count = parsed.usageMetadata?.promptTokenCount;
      if (typeof count === "number") prompt += count;
      else reported = false;
      last = { status: answer.statusCode, headers: answer.headers };
    }
  } catch (err) {
    if (!controller.aborted) handler.onResponseError?.(controller, err as Error);
    return;
  }
  if (controller.aborted || !last) return;
  // Usage last, as Gemini sends it: the meter reads it from the body's tail. Absent when any call
  // reported none, so the whole answer is billed on the estimate rather than on part of it.
  const merged = Buffer.from(JSON.stringify(reported ? { embeddings, usageMetadata: { promptTokenCount: prompt, totalTokenCount: prompt } } : { embeddings }));
  const headers: Record<string, string | string[] | undefined> = { ...last.headers, "content-length": String(merged.length) };
  delete headers["content-encoding"];
  handler.onResponseStart?.(controller, last.status, headers, "");
  handler.onResponseData?.(controller, merged);
  handler.onResponseEnd?.(controller, {});
}
