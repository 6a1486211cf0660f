import type { TokenUsage } from "../providers/index.js";
import { toUsage } from "../providers/index.js";
import type { PassMeter } from "./passthrough-routes.js";

const NL = 0x0a;

/** One line of results: Anthropic's `result` or OpenAI's `response`. */
interface BatchLine {
  result?: { type?: string; message?: { model?: unknown; usage?: unknown } };
  response?: { status_code?: number; body?: { model?: unknown; usage?: unknown } };
}
const MAX_LINE = 16 * 1024 * 1024;

/**
 * Reads a batch's results (JSON Lines) as they pass to the client and adds up the usage of each
 * model: Anthropic's `result.message.usage` of succeeded requests, OpenAI's
 * `response.body.usage` of requests answered 200. The bytes go on unchanged.
 */
export class BatchResultsMeter {
  private carry: Buffer | null = null;
  readonly byModel = new Map<string, TokenUsage>();
  lines = 0;

  constructor(private readonly kind: PassMeter) {}

  push(chunk: Buffer): void {
    let buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    let start = 0;
    for (let nl = buf.indexOf(NL, start); nl >= 0; nl = buf.indexOf(NL, start)) {
      this.line(buf.toString("utf8", start, nl));
      start = nl + 1;
    }
    buf = buf.subarray(start);
    if (buf.length > 0 && buf.length <= MAX_LINE) this.carry = Buffer.from(buf);
  }

  end(): void {
    if (this.carry) this.line(this.carry.toString("utf8"));
    this.carry = null;
  }

  private line(text: string): void {
    if (!text.trim()) return;
    let row: BatchLine;
    try {
      row = JSON.parse(text) as BatchLine;
    } catch {
      return;
    }
    let model: unknown;
    let usage: unknown;
    if (this.kind === "anthropic_batch_results") {
      if (row.result?.type !== "succeeded") return;
      model = row.result.message?.model;
      usage = row.result.message?.usage;
    } else {
      if (row.response?.status_code !== 200) return;
      model = row.response.body?.model;
      usage = row.response.body?.usage;
    }
    if (typeof model !== "string" || !usage || typeof usage !== "object") return;
    const u = toUsage(this.kind === "anthropic_batch_results" ? "anthropic" : "openai", JSON.stringify(usage));
    if (!u) return;
    this.lines++;
    const sum = this.byModel.get(model) ?? { input: 0, output: 0, cacheWrite: 0, cacheRead: 0 };
    sum.input += u.input;
    sum.output += u.output;
    sum.cacheWrite += u.cacheWrite;
    sum.cacheRead += u.cacheRead;
    this.byModel.set(model, sum);
  }
}
