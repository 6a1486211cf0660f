import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { createSimulatorServer } from "../providers/index.js";
import type { CliContext } from "./context.js";
import { CliError } from "./context.js";
import { nonNegativeInt, positiveInt } from "./options.js";
import { cloudIdentities, collect, describeClouds, type CloudFlags } from "./simulator-clouds.js";

interface SimulatorFlags extends CloudFlags {
  port?: number;
  host?: string;
  paceMs?: number;
  tlsKey?: string;
  tlsCert?: string;
}

/** `latchkey simulator`: the simulated providers and clouds as a standalone upstream for tests and benchmarks. */
export function registerSimulatorCommand(program: Command, ctx: CliContext): void {
  program.command("simulator").description("run the provider simulator (Anthropic, OpenAI and Gemini; Bedrock, Vertex AI, Azure OpenAI and Entra ID) as an HTTP server")
    .option("--port <n>", "port (default 8421)", positiveInt)
    .option("--host <host>", "address to listen on (default 127.0.0.1)")
    .option("--pace-ms <n>", "milliseconds between streamed tokens (default 0)", nonNegativeInt)
    .option("--clouds <file>", "JSON file of the identities the clouds accept: aws, bedrockApiKeys, google, azureKeys, azureDeployments, entraApps")
    .option("--aws-key <id:secret[:token]>", "Bedrock: an AWS access key whose SigV4 signatures are checked (repeatable)", collect)
    .option("--bedrock-api-key <key>", "Bedrock: an API key accepted as a bearer token (repeatable)", collect)
    .option("--google-service-account <file>", "Vertex AI: a service-account key file whose JWT grants /token accepts (repeatable)", collect)
    .option("--azure-key <key>", "Azure OpenAI: an accepted api-key (repeatable)", collect)
    .option("--azure-deployment <name=model>", "Azure OpenAI: a deployment and its model (repeatable; any name when none)", collect)
    .option("--entra-app <tenant:client:secret>", "Entra ID: an app whose client-credential tokens Azure OpenAI accepts (repeatable; needs --tls-*)", collect)
    .option("--tls-key <file>", "serve HTTPS with this private key (PEM); Entra ID clients refuse a plain-HTTP authority")
    .option("--tls-cert <file>", "the certificate (PEM) for --tls-key")
    .action(async (o: SimulatorFlags) => {
      if (!o.tlsKey !== !o.tlsCert) throw new CliError("--tls-key and --tls-cert go together");
      const clouds = cloudIdentities(o);
      const tls = o.tlsKey && o.tlsCert ? { key: readFileSync(o.tlsKey), cert: readFileSync(o.tlsCert) } : undefined;
      const sim = await createSimulatorServer({ port: o.port ?? 8421, host: o.host ?? "127.0.0.1", paceMs: o.paceMs ?? 0, clouds, tls });
      ctx.out.write(`simulator listening on ${sim.url}\n`);
      for (const line of describeClouds(clouds)) ctx.out.write(`  ${line}\n`);
      ctx.out.write(`faults: header x-simulator-fault or 'sim-fault:<429|500|503|529|die|slow>' in the prompt, or a credential containing 'fail-<fault>'\n`);
      await new Promise<void>((resolve) => {
        const stop = () => void sim.close().then(resolve);
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
    });
}
