import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import pc from "picocolors";
import Table from "cli-table3";

/** Exit codes every command uses. */
export const EXIT = { ok: 0, negative: 1, usage: 2, refused: 3, unreachable: 4 } as const;

/** A failure to report as one line, with its exit code; never a stack trace. */
export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode: number = EXIT.usage) {
    super(message);
  }
}

export interface CliConnection {
  url: string;
  adminKey?: string | undefined;
}

export interface CliContext {
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
  /** Calls the management API; throws CliError with the server's message on a refusal. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  api(method: string, path: string, body?: unknown): Promise<any>;
  connection(): CliConnection;
  /** Global flags given before the command. */
  globals: { url?: string; adminKey?: string; json?: boolean };
}

/** Where `latchkey up` writes the CLI settings: `<data dir>/cli.json`. */
export function cliConfigPath(env: NodeJS.ProcessEnv): string {
  return env.LATCHKEY_CLI_CONFIG ?? join(env.LATCHKEY_DATA_DIR ?? "./.latchkey", "cli.json");
}

function readCliConfig(env: NodeJS.ProcessEnv): Partial<CliConnection> {
  for (const p of [cliConfigPath(env), join(homedir(), ".config", "latchkey", "cli.json")]) {
    if (existsSync(p)) {
      try {
        const c = JSON.parse(readFileSync(p, "utf8")) as { url?: string; admin_key?: string };
        return { url: c.url, adminKey: c.admin_key };
      } catch {
        throw new CliError(`cannot read ${p}: not valid JSON`);
      }
    }
  }
  return {};
}

export function createContext(globals: CliContext["globals"], env: NodeJS.ProcessEnv = process.env, out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): CliContext {
  const connection = (): CliConnection => {
    const file = readCliConfig(env);
    return {
      url: (globals.url ?? env.LATCHKEY_URL ?? file.url ?? "http://127.0.0.1:8420").replace(/\/$/, ""),
      adminKey: globals.adminKey ?? env.LATCHKEY_ADMIN_KEY ?? file.adminKey,
    };
  };
  return {
    out, err, env, globals, connection,
    async api(method, path, body) {
      const c = connection();
      if (!c.adminKey) throw new CliError("no admin key: pass --admin-key, set LATCHKEY_ADMIN_KEY, or run `latchkey up` once to write the CLI config");
      let res: Response;
      try {
        res = await fetch(`${c.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${c.adminKey}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
          body: body !== undefined ? JSON.stringify(body) : undefined,
        });
      } catch (e) {
        throw new CliError(`cannot reach the server at ${c.url} (${(e as { cause?: { code?: string } }).cause?.code ?? (e as Error).message}); is \`latchkey up\` running?`, EXIT.unreachable);
      }
      const text = await res.text();
      let data: unknown = undefined;
      try {
        data = text ? JSON.parse(text) : undefined;
      } catch {
        data = text;
      }
      if (!res.ok) {
        const e = (data as { error?: { message?: string; fields?: { field: string; message: string }[] } })?.error;
        throw new CliError(e?.message ?? `${res.status} ${res.statusText}`, res.status >= 500 ? EXIT.unreachable : EXIT.refused);
      }
      return data;
    },
  };
}

/** Prints rows as a table for people, or the raw value as JSON for scripts. */
export function printTable(ctx: CliContext, head: string[], rows: (string | number | null | undefined)[][], raw: unknown): void {
  if (ctx.globals.json) {
    ctx.out.write(`${JSON.stringify(raw, null, 2)}\n`);
    return;
  }
  if (rows.length === 0) {
    ctx.out.write(pc.dim("(none)\n"));
    return;
  }
  const table = new Table({ head: head.map((h) => pc.bold(h)), style: { head: [], border: [] } });
  for (const r of rows) table.push(r.map((c) => (c === null || c === undefined ? pc.dim("—") : String(c))));
  ctx.out.write(`${table.toString()}\n`);
}

/** Prints one object as aligned "field  value" lines, or JSON. */
export function printObject(ctx: CliContext, obj: Record<string, unknown>): void {
  if (ctx.globals.json) {
    ctx.out.write(`${JSON.stringify(obj, null, 2)}\n`);
    return;
  }
  const width = Math.max(...Object.keys(obj).map((k) => k.length));
  for (const [k, v] of Object.entries(obj)) {
    const text = v === null || v === undefined ? pc.dim("—") : typeof v === "object" ? JSON.stringify(v) : String(v);
    ctx.out.write(`${pc.dim(k.padEnd(width))}  ${text}\n`);
  }
}

export function shortTime(iso: string | null | undefined): string | null {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : null;
}
