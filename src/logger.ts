import pino, { type Logger } from "pino";

/** Header and field paths that may carry a secret; pino replaces them before a line is written. */
export const REDACT_PATHS = [
  "req.headers.authorization", "req.headers[\"x-api-key\"]", "req.headers[\"x-goog-api-key\"]", "req.headers.cookie",
  "headers.authorization", "headers[\"x-api-key\"]", "headers[\"x-goog-api-key\"]", "headers.cookie",
  "*.secret", "*.key", "*.password", "secret", "key", "password", "apiKey", "*.apiKey",
];

/**
 * The process logger: JSON lines, secrets redacted by path, and every string scrubbed of anything
 * shaped like a key by `scrub` (the leak detector's redaction), so a key in a URL or an upstream
 * error message never reaches the log either.
 */
export function createLogger(level: string, scrub: (s: string) => string, destination?: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: "latchkey" },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    formatters: {
      log(obj) {
        return scrubObject(obj, scrub, 0) as Record<string, unknown>;
      },
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((a) => (typeof a === "string" ? scrub(a) : a)) as Parameters<typeof method>;
        return method.apply(this, scrubbed);
      },
    },
  }, destination ?? stderrDestination());
}

/** Standard error, written asynchronously (pino batches lines off the request path). */
export function stderrDestination(): pino.DestinationStream {
  return pino.destination({ dest: 2, sync: false });
}

/**
 * The access log's logger, over the same destination as the process logger. Its lines are built
 * by Latchkey from ids, codes, numbers and catalog model ids, so the general redaction (path
 * wildcards and a scrubbed copy of every object) is skipped; the one field a person chose, the
 * key's name, is still scrubbed. Measured in process: about 20 µs of CPU a line instead of 41.
 */
export function createAccessLogger(level: string, scrub: (s: string) => string, destination: pino.DestinationStream): Logger {
  return pino({
    level,
    base: { service: "latchkey" },
    formatters: {
      log(obj) {
        if (typeof obj.keyName === "string") obj.keyName = scrub(obj.keyName);
        return obj;
      },
    },
  }, destination);
}

function scrubObject(v: unknown, scrub: (s: string) => string, depth: number): unknown {
  if (typeof v === "string") return scrub(v);
  if (depth > 6 || v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map((x) => scrubObject(x, scrub, depth + 1));
  if (v instanceof Error) return { message: scrub(v.message), name: v.name };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrubObject(x, scrub, depth + 1);
  return out;
}
