import type { Command } from "commander";
import { createSimulatorServer } from "../providers/index.js";
import type { CliContext } from "./context.js";
import { nonNegativeInt, positiveInt } from "./options.js";

/** `latchkey simulator`: the simulated provider as a standalone upstream for tests and benchmarks. */
export function registerSimulatorCommand(program: Command, ctx: CliContext): void {
  program.command("simulator").description("run the provider simulator (Anthropic, OpenAI and Gemini dialects) as an HTTP server")
    .option("--port <n>", "port (default 8421)", positiveInt)
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--pace-ms <n>", "milliseconds between streamed tokens (default 0)", nonNegativeInt)
    .action(async (o: { port?: number; host?: string; paceMs?: number }) => {
      const sim = await createSimulatorServer({ port: o.port ?? 8421, host: o.host ?? "127.0.0.1", paceMs: o.paceMs ?? 0 });
      ctx.out.write(`simulator listening on ${sim.url}\n`);
      ctx.out.write(`faults: header x-simulator-fault or 'sim-fault:<429|500|503|529|die|slow>' in the prompt, or a credential containing 'fail-<fault>'\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void sim.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
