import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { configSchema, SECRET_SETTINGS, STANDARD_ENV_NAMES, type Config } from "./schema.js";

/** Bad configuration: every problem is listed, not only the first. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

export function envName(setting: string): string {
  const standard = STANDARD_ENV_NAMES[setting];
  if (standard) return standard;
  return `LATCHKEY_${setting.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** Path of a JSON config file; default $LATCHKEY_CONFIG, else ./latchkey.config.json when present. */
  file?: string;
  /** Settings that win over everything (CLI flags). */
  overrides?: Record<string, unknown>;
}

/** Reads the configuration once: file, then environment, then overrides; all problems reported. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};

  const file = options.file ?? env.LATCHKEY_CONFIG ?? (existsSync("latchkey.config.json") ? "latchkey.config.json" : undefined);
  if (file) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(resolve(file), "utf8"));
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) Object.assign(raw, parsed);
      else problems.push(`${file}: must hold a JSON object`);
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }

  for (const key of Object.keys(configSchema.shape)) {
    const name = envName(key);
    const value = env[name];
    if (value !== undefined && value !== "") raw[key] = value;
    if ((SECRET_SETTINGS as readonly string[]).includes(key)) {
      const path = env[`${name}_FILE`];
      if (path) {
        try {
          raw[key] = readFileSync(path, "utf8").trim();
        } catch (err) {
          problems.push(`${name}_FILE: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
    }
  }
  Object.assign(raw, options.overrides ?? {});

  const known = new Set(Object.keys(configSchema.shape));
  for (const key of Object.keys(raw)) if (!known.has(key)) problems.push(`${key}: unknown setting`);

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = String(issue.path[0] ?? "");
      problems.push(`${key} (${envName(key)}): ${issue.message}`);
    }
  }
  if (problems.length > 0 || !result.success) throw new ConfigError(problems);
  return result.data;
}

/** LATCHKEY_* variables read by the CLI, the hook and the tests rather than the server. */
const OTHER_READERS = new Set(["LATCHKEY_CONFIG", "LATCHKEY_URL", "LATCHKEY_ADMIN_KEY", "LATCHKEY_CLI_CONFIG", "LATCHKEY_NODE", "LATCHKEY_BIN"]);

/**
 * LATCHKEY_* variables that name no setting: a misspelt LATCHKEY_TRUST_PROXI would otherwise be
 * ignored in silence, leaving the default its author meant to change.
 */
export function unknownEnvironment(env: NodeJS.ProcessEnv): string[] {
  const known = new Set(OTHER_READERS);
  for (const key of Object.keys(configSchema.shape)) {
    known.add(envName(key));
    if ((SECRET_SETTINGS as readonly string[]).includes(key)) known.add(`${envName(key)}_FILE`);
  }
  return Object.keys(env).filter((n) => n.startsWith("LATCHKEY_") && !n.startsWith("LATCHKEY_TEST_") && !known.has(n)).sort();
}
