/**
 * What the gateway benches (gateway.ts, instructions.ts) share: the request they send every
 * target, asking a target process (a child with an IPC channel) for something, and the loopback
 * listening of the servers they start.
 */
import type { ChildProcess } from "node:child_process";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** The V8 flags Latchkey's launcher gives it (bin/latchkey.js, npm start); the floor gateway runs with the same. */
export const LAUNCHER_FLAGS = ["--max-semi-space-size=4"];

/** The benches' request: a short Messages call to a Claude model, JSON or streamed. */
export const requestBody = (stream: boolean) => JSON.stringify({ model: "claude-haiku-4-5", max_tokens: 64, stream, messages: [{ role: "user", content: "Hello, benchmark. Please answer briefly." }] });
export const requestHeaders = (key: string) => ({ "x-api-key": key, "anthropic-version": "2023-06-01", "content-type": "application/json" });

/**
 * Sends a child `message` and waits for its answer, the message that carries `field`; fails if the
 * child exits first (a target that crashed mid-run would otherwise leave the bench waiting forever).
 */
export function ask<T>(proc: ChildProcess, message: Record<string, unknown>, field: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const what = `bench process ${proc.pid ?? "?"}`;
    if (proc.exitCode !== null || proc.signalCode !== null) {
      reject(new Error(`${what} has exited (${proc.signalCode ?? proc.exitCode}); nothing answers '${field}'`));
      return;
    }
    const on = (m: Record<string, unknown>) => {
      if (!(field in m)) return;
      stop();
      resolve(m[field] as T);
    };
    const exited = (code: number | null, signal: NodeJS.Signals | null) => {
      stop();
      reject(new Error(`${what} exited (${signal ?? code}) before it answered '${field}'`));
    };
    const stop = () => {
      proc.off("message", on);
      proc.off("exit", exited);
    };
    proc.on("message", on);
    proc.once("exit", exited);
    proc.send(message);
  });
}

/** A bench server listening on loopback: its URL, and a close that cuts every connection. */
export interface LocalServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/** Listens on loopback (`port` 0: any free one); `close` stops the server, then runs `after` (its pools, threads, files). */
export async function listenLocal(server: Server, port: number, after: () => Promise<unknown> | void = () => undefined): Promise<LocalServer> {
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return {
    server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await after();
    },
  };
}
