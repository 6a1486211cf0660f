import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import pc from "picocolors";
import { databaseUrl } from "../main.js";
import type { Config } from "../config/index.js";
import { loadMasterKey, loadPreviousMasterKey, masterKeyFingerprint } from "../master-key.js";
import { generateMasterKey, parseMasterKey } from "../lib/envelope.js";
import { openDatabase, rotateMasterKey, sqliteInUse } from "../store/index.js";
import { CliError, EXIT, printObject, printTable, shortTime, type CliContext } from "./context.js";
import { nonNegativeInt, positiveInt } from "./options.js";
import { configFrom } from "./up.js";

interface AddOptions {
  provider: string; name: string; fromEnv?: string; stdin?: boolean; baseUrl?: string; workspace?: string; weight?: number; priority?: number;
  region?: string; project?: string; resource?: string; apiVersion?: string; preset?: string; api?: string; model?: string[]; modelDialect?: string[];
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--model claude-sonnet-4-6=anthropic.claude-sonnet-4-6` or `--model 'deepseek-*'`: the model, and its name upstream. */
function parseModelOption(m: string): string | { model: string; upstream: string } {
  const eq = m.indexOf("=");
  return eq < 0 ? m : { model: m.slice(0, eq), upstream: m.slice(eq + 1) };
}

/**
 * The models given with `--model`, each with the API named for it by `--model-dialect model=chat`
 * (a host that takes only Chat Completions for it); a dialect for a model not given is refused.
 */
function modelsFrom(models: string[], dialects: string[] = []): (string | Record<string, string>)[] {
  const out: (string | Record<string, string>)[] = models.map(parseModelOption);
  for (const d of dialects) {
    const eq = d.lastIndexOf("=");
    if (eq <= 0) throw new CliError(`--model-dialect ${d}: give it as <model>=<dialect> (anthropic, chat, responses or gemini)`);
    const name = d.slice(0, eq);
    const i = out.findIndex((m) => (typeof m === "string" ? m : m.model) === name);
    if (i < 0) throw new CliError(`--model-dialect ${d}: no --model ${name} is given`);
    const m = out[i]!;
    out[i] = { ...(typeof m === "string" ? { model: m } : m), dialect: d.slice(eq + 1) };
  }
  return out;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8").trim();
}

/** The per-provider settings a credential takes, the same for `add` and `update`. */
function withSettingOptions(c: Command): Command {
  return c
    .option("--region <region>", "Bedrock: AWS region; Vertex AI: location (us-east5, global…)")
    .option("--project <id>", "Vertex AI: Google Cloud project (default: the service account's)")
    .option("--resource <name>", "Azure OpenAI: the resource name (https://<name>.openai.azure.com)")
    .option("--api-version <v>", "Azure OpenAI: api-version (default 2024-10-21)")
    .option("--api <api>", "Bedrock: invoke, or converse to reach Anthropic models through Converse too (other families always go through it)")
    .option("--preset <name>", "OpenAI-compatible: mistral, deepseek, groq, xai, openrouter, together, fireworks, ollama or vllm");
}

/** The settings given on the command line, as the API takes them; undefined when none was given. */
function settingsFrom(o: Partial<AddOptions>): Record<string, string> | undefined {
  const given = Object.entries({ region: o.region, project: o.project, resource: o.resource, api_version: o.apiVersion, preset: o.preset, api: o.api })
    .filter((e): e is [string, string] => e[1] !== undefined);
  return given.length ? Object.fromEntries(given) : undefined;
}

/** `latchkey credentials …`: provider keys, stored encrypted; the secret never comes back. */
export function registerCredentialsCommand(program: Command, ctx: CliContext): void {
  const cmd = program.command("credentials").description("upstream provider credentials (stored encrypted; shown as hints only)");

  withSettingOptions(cmd.command("add")
    .description("store a provider credential; give the secret with --from-env or --stdin, never as an argument")
    .requiredOption("--provider <provider>", "anthropic, openai, gemini, openai-compatible, azure-openai, bedrock, vertex or simulator")
    .requiredOption("--name <name>", "a name for people")
    .option("--from-env <VAR>", "read the secret from this environment variable")
    .option("--stdin", "read the secret from standard input")
    .option("--base-url <url>", "another endpoint: a regional one, a proxy, the standalone simulator")
    .option("--workspace <id>", "only this workspace uses it (default: the whole organization)")
    .option("--weight <n>", "share of traffic among deployments of equal priority (default 1)", positiveInt)
    .option("--priority <n>", "deployments of lower priority are tried first (default 0)", nonNegativeInt)
    .option("--model <model[=upstream]>", "a model it serves (id, alias or pattern with *), with its name upstream (a Bedrock id, an Azure deployment); repeatable", collect)
    .option("--model-dialect <model=dialect>", "the API the host takes for a model given with --model, when not the provider's usual one (chat: a host that serves Chat Completions only); repeatable", collect))
    .action(async (o: AddOptions) => {
      let secret: string | undefined;
      if (o.fromEnv) {
        secret = ctx.env[o.fromEnv];
        if (!secret) throw new CliError(`the environment variable ${o.fromEnv} is empty or unset`);
      } else if (o.stdin) {
        // Only when asked: a script's stdin is often an open pipe that nobody writes to, and
        // reading it whenever it is not a terminal waited there for ever.
        secret = await readStdin();
      }
      if (!secret) throw new CliError("give the secret with --from-env VAR or on standard input (--stdin)");
      const body: Record<string, unknown> = { provider: o.provider, name: o.name, secret };
      if (o.baseUrl) body.base_url = o.baseUrl;
      if (o.workspace) body.workspace_id = o.workspace;
      if (o.weight) body.weight = o.weight;
      if (o.priority !== undefined) body.priority = o.priority;
      const settings = settingsFrom(o);
      if (settings) body.settings = settings;
      if (o.modelDialect?.length && !o.model?.length) throw new CliError("--model-dialect names a model given with --model");
      if (o.model?.length) body.models = modelsFrom(o.model, o.modelDialect);
      printObject(ctx, await ctx.api("POST", "/api/v1/credentials", body));
    });

  cmd.command("list").description("list credentials").action(async () => {
    const r = await ctx.api("GET", "/api/v1/credentials");
    const rows = (r.data as Record<string, unknown>[]).map((c) => [
      c.id, c.provider, c.name, c.hint, c.base_url ?? "", c.workspace_id ?? "(organization)", c.priority, c.weight,
      ((c.models ?? []) as { model: string; upstream: string | null; dialect?: string | null }[])
        .map((m) => (m.upstream ? `${m.model}=${m.upstream}` : m.model) + (m.dialect ? ` (${m.dialect})` : "")).join(", ") || "(provider's)",
      shortTime(c.created_at as string),
    ] as (string | number | null)[]);
    printTable(ctx, ["id", "provider", "name", "hint", "base url", "workspace", "priority", "weight", "models", "created"], rows, r);
  });

  withSettingOptions(cmd.command("update <id>").description("change a credential without giving its secret again (name, base URL, weight, priority, settings, models)")
    .option("--name <name>", "a new name")
    .option("--base-url <url>", "another endpoint ('none' for the provider's own)")
    .option("--weight <n>", "share of traffic among deployments of equal priority", positiveInt)
    .option("--priority <n>", "deployments of lower priority are tried first", nonNegativeInt)
    .option("--model <model[=upstream]>", "replaces the models it serves; repeatable", collect)
    .option("--model-dialect <model=dialect>", "the API the host takes for a model given with --model (chat, responses, anthropic, gemini); repeatable", collect))
    .action(async (id: string, o: Partial<AddOptions> & { name?: string }) => {
      const body: Record<string, unknown> = {};
      if (o.name) body.name = o.name;
      if (o.baseUrl) body.base_url = o.baseUrl === "none" ? null : o.baseUrl;
      if (o.weight) body.weight = o.weight;
      if (o.priority !== undefined) body.priority = o.priority;
      const settings = settingsFrom(o);
      if (settings) body.settings = settings;
      if (o.modelDialect?.length && !o.model?.length) throw new CliError("--model-dialect names a model given with --model");
      if (o.model?.length) body.models = modelsFrom(o.model, o.modelDialect);
      if (Object.keys(body).length === 0) throw new CliError("nothing to change: give at least one option");
      printObject(ctx, await ctx.api("PATCH", `/api/v1/credentials/${encodeURIComponent(id)}`, body));
    });

  cmd.command("remove <id>").description("delete a credential").action(async (id: string) => {
    const r = await ctx.api("DELETE", `/api/v1/credentials/${encodeURIComponent(id)}`);
    if (ctx.globals.json) printObject(ctx, r);
    else ctx.out.write(`removed ${id}\n`);
  });

  cmd.command("test <id>").description("check a credential against its provider").action(async (id: string) => {
    const r = await ctx.api("POST", `/api/v1/credentials/${encodeURIComponent(id)}/test`);
    printObject(ctx, r);
    if (!r.ok) process.exitCode = EXIT.negative;
  });

  cmd.command("rotate-master").description("re-wrap every sealed record's data key under a new master key, or, with LATCHKEY_MASTER_KEY_PREVIOUS set, from that key to the current one (works on the database directly)")
    .option("--data-dir <dir>", "data directory (default ./.latchkey)")
    .option("--new-key-env <VAR>", "the new master key (64 hex or base64) from this environment variable; otherwise one is generated into <data dir>/master.key")
    .action(async (o: { dataDir?: string; newKeyEnv?: string }) => {
      const config = configFrom(o, ctx.env);
      if (config.masterKeyPrevious) return finishRollingRotation(ctx, config, o);
      const old = loadMasterKey(config.masterKey, config.dataDir).key;
      const fromFile = !config.masterKey;
      if (!fromFile && !o.newKeyEnv) throw new CliError("the master key comes from LATCHKEY_MASTER_KEY: give the new one with --new-key-env VAR");
      const next = o.newKeyEnv ? parseMasterKey(ctx.env[o.newKeyEnv] ?? "") : generateMasterKey();
      const file = join(config.dataDir, "master.key");
      const url = databaseUrl(config);
      // A running server keeps the old key in memory: its credentials would fail until a restart.
      if (!/^postgres(ql)?:\/\//.test(url) && sqliteInUse(url.replace(/^sqlite:/, ""))) {
        throw new CliError(`${url} is open in another process: stop the server, rotate, then start it with the new key`);
      }
      const db = openDatabase({ url });
      try {
        // The new key reaches the disk before any record depends on it, and replaces the old file only after the commit.
        if (fromFile) writeFileSync(`${file}.new`, `${next.toString("hex")}\n`, { mode: 0o600 });
        const { credentials: n, audit } = await rotateMasterKey(db, old, next);
        if (fromFile) renameSync(`${file}.new`, file);
        const auditNote = audit.ok ? null : `the audit log was already broken at record ${audit.brokenAt!.seq} (${audit.brokenAt!.id}): `
          + `${audit.brokenAt!.reason}; it was left unsealed under the new key and keeps failing verification`;
        if (ctx.globals.json) printObject(ctx, { rewrapped: n, master_key: fromFile ? file : o.newKeyEnv, audit_resealed: audit.ok, audit_broken_at: audit.brokenAt ?? null });
        else {
          ctx.out.write(`re-wrapped ${n} sealed record${n === 1 ? "" : "s"} (provider credentials, webhook secrets)\n`);
          ctx.out.write(auditNote ? `${pc.yellow("!")} ${auditNote}\n` : `re-sealed the audit log (${audit.count} records); checkpoints taken before need taking again\n`);
          ctx.out.write(fromFile ? `the new master key is in ${file}; restart the server\n` : `set LATCHKEY_MASTER_KEY to the new key from ${o.newKeyEnv} and restart the server\n`);
        }
      } catch (err) {
        if (fromFile) rmSync(`${file}.new`, { force: true });
        throw new CliError(`rotation failed, nothing changed: ${(err as Error).message}`);
      } finally {
        await db.close();
      }
    });
}

/**
 * The last step of a rolling rotation: every node runs with the new LATCHKEY_MASTER_KEY and the
 * old one as LATCHKEY_MASTER_KEY_PREVIOUS, so each opens records under either key; this re-wraps
 * what is still under the old one. The servers may keep running (they hold both keys).
 */
async function finishRollingRotation(ctx: CliContext, config: Config, o: { newKeyEnv?: string }): Promise<void> {
  if (o.newKeyEnv) throw new CliError("LATCHKEY_MASTER_KEY_PREVIOUS is set: rotate-master re-wraps from it to the current master key, and takes no --new-key-env");
  const current = loadMasterKey(config.masterKey, config.dataDir).key;
  let previous: Buffer;
  try {
    previous = loadPreviousMasterKey(config.masterKeyPrevious, current)!;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const url = databaseUrl(config);
  // On SQLite the one server holding the file cannot be asked which keys it has: stop it, as for a plain rotation.
  if (!/^postgres(ql)?:\/\//.test(url) && sqliteInUse(url.replace(/^sqlite:/, ""))) {
    throw new CliError(`${url} is open in another process: stop the server, rotate, then start it with the current key alone`);
  }
  const db = openDatabase({ url });
  try {
    const { credentials: n, audit } = await rotateMasterKey(db, [previous], current).catch((err: Error) => {
      throw new CliError(`rotation failed, nothing changed: ${err.message}`);
    });
    if (ctx.globals.json) {
      return printObject(ctx, { rewrapped: n, master_key_fingerprint: masterKeyFingerprint(current), audit_resealed: audit.ok, audit_broken_at: audit.brokenAt ?? null });
    }
    ctx.out.write(`re-wrapped ${n} sealed record${n === 1 ? "" : "s"} from the previous master key to the current one (fingerprint ${masterKeyFingerprint(current)})\n`);
    ctx.out.write(audit.ok ? `re-sealed the audit log (${audit.count} records); checkpoints taken before need taking again\n`
      : `${pc.yellow("!")} the audit log was already broken at record ${audit.brokenAt!.seq}: ${audit.brokenAt!.reason}; it was left as it was\n`);
    ctx.out.write("every record now opens with the current key alone: remove LATCHKEY_MASTER_KEY_PREVIOUS from each node at its next restart\n");
  } finally {
    await db.close();
  }
}
