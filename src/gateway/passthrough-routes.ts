import type { GatewayScope } from "../keys/index.js";
import type { WireDialect } from "../providers/index.js";

/** How a pass-through answer is metered: batch results billed once, at the batch price, when read. */
export type PassMeter = "anthropic_batch_results" | "openai_file_content";

/** An endpoint forwarded as it is to the provider that owns it (stateful resources: one account, see pickStable). */
export interface PassThrough {
  provider: "anthropic" | "openai" | "gemini";
  scope: GatewayScope;
  meter: PassMeter | null;
  /** The resource id in the path (the batch or file whose results are metered). */
  resourceId: string | null;
}

type Rule = [methods: string, pattern: RegExp, dialect: WireDialect, pass: Omit<PassThrough, "resourceId">];

const ID = "([A-Za-z0-9_.-]+)";
const RULES: Rule[] = [
  ["GET DELETE", new RegExp(`^/v1/responses/${ID}$`), "openai", { provider: "openai", scope: "responses", meter: null }],
  ["GET", new RegExp(`^/v1/responses/${ID}/input_items$`), "openai", { provider: "openai", scope: "responses", meter: null }],
  ["POST", new RegExp(`^/v1/responses/${ID}/cancel$`), "openai", { provider: "openai", scope: "responses", meter: null }],
  ["GET POST", /^\/v1\/files$/, "openai", { provider: "openai", scope: "batches", meter: null }],
  ["GET DELETE", new RegExp(`^/v1/files/${ID}$`), "openai", { provider: "openai", scope: "batches", meter: null }],
  ["GET", new RegExp(`^/v1/files/${ID}/content$`), "openai", { provider: "openai", scope: "batches", meter: "openai_file_content" }],
  ["GET POST", /^\/v1\/batches$/, "openai", { provider: "openai", scope: "batches", meter: null }],
  ["GET", new RegExp(`^/v1/batches/${ID}$`), "openai", { provider: "openai", scope: "batches", meter: null }],
  ["POST", new RegExp(`^/v1/batches/${ID}/cancel$`), "openai", { provider: "openai", scope: "batches", meter: null }],
  ["GET POST", /^\/v1\/messages\/batches$/, "anthropic", { provider: "anthropic", scope: "batches", meter: null }],
  ["GET DELETE", new RegExp(`^/v1/messages/batches/${ID}$`), "anthropic", { provider: "anthropic", scope: "batches", meter: null }],
  ["POST", new RegExp(`^/v1/messages/batches/${ID}/cancel$`), "anthropic", { provider: "anthropic", scope: "batches", meter: null }],
  ["GET", new RegExp(`^/v1/messages/batches/${ID}/results$`), "anthropic", { provider: "anthropic", scope: "batches", meter: "anthropic_batch_results" }],
  ["GET POST", /^\/v1(?:beta)?\/cachedContents$/, "gemini", { provider: "gemini", scope: "gemini", meter: null }],
  ["GET PATCH DELETE", new RegExp(`^/v1(?:beta)?/cachedContents/${ID}$`), "gemini", { provider: "gemini", scope: "gemini", meter: null }],
];

/** The pass-through endpoint at a method and path: its dialect and how it is forwarded; "method" when only the method is wrong. */
export function matchPassThrough(method: string, path: string): { dialect: WireDialect; pass: PassThrough } | "method" | null {
  let wrongMethod = false;
  for (const [methods, pattern, dialect, pass] of RULES) {
    const m = pattern.exec(path);
    if (!m) continue;
    if (!methods.split(" ").includes(method)) {
      wrongMethod = true;
      continue;
    }
    return { dialect, pass: { ...pass, resourceId: m[1] ?? null } };
  }
  return wrongMethod ? "method" : null;
}
