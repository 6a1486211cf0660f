/**
 * What the gateway benches (gateway.ts, instructions.ts) share: the request they send every
 * target, and asking a target process (a child with an IPC channel) for something.
 */
import type { ChildProcess } from "node:child_process";

/** The V8 flags Latchkey's launcher gives it (bin/latchkey.js, npm start); the floor gateway runs with the same. */
export const LAUNCHER_FLAGS = ["--max-semi-space-size=4"];

/** The benches' request: a short Messages call to a Claude model, JSON or streamed. */
export const requestBody = (stream: boolean) => JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "Hello, benchmark. Please answer briefly." }] });
export const requestHeaders = (key: string) => ({ "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" });

/** Sends a child `message` and waits for its answer, the message that carries `field`. */
export function ask<T>(proc: ChildProcess, message: Record<string, unknown>, field: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (!(field in m)) return;
      proc.off("message", on);
      resolve(m[field] as T);
    };
    proc.on("message", on);
    proc.send(message);
  });
}
