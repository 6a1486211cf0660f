import { z } from "zod";
import { cidrList, flag, proxyTrust } from "./values.js";

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const prefix = z.string().regex(/^[A-Za-z0-9_-]{2,24}$/, "2 to 24 letters, digits, '_' or '-'");

/** Every setting, with its default. Environment names are LATCHKEY_ + the upper-snake path. */
export const configSchema = z.object({
  dataDir: z.string().min(1).default("./.latchkey"),
  databaseUrl: z.string().min(1).optional(),
  redisUrl: z.string().regex(/^rediss?:\/\//, "a redis:// or rediss:// URL").optional(),
  /** Prefix of every Redis key and channel; deployments sharing one Redis need different ones. */
  redisPrefix: z.string().regex(/^[A-Za-z0-9:_-]{1,32}$/, "1 to 32 letters, digits, ':', '_' or '-'").default("lk:"),
  host: z.string().min(1).default("127.0.0.1"),
  port: port.default(8420),
  /** A second port, on the same host, serving GET /metrics without a key (for a scraper's network); unset: none. */
  metricsPort: port.optional(),
  /** Base URL people and the CLI reach this server at; derived from host and port when unset. */
  publicUrl: z.string().url().optional(),
  masterKey: z.string().optional(),
  /** The master key being replaced: opened alongside masterKey (which seals) while nodes roll to a new key. */
  masterKeyPrevious: z.string().optional(),
  pepper: z.string().min(16, "at least 16 characters").optional(),
  keyPrefixLive: prefix.default("lk_live_"),
  keyPrefixTest: prefix.default("lk_test_"),
  keyPrefixPublishable: prefix.default("lk_pub_"),
  keyPrefixAdmin: prefix.default("lk_admin_"),
  logLevel: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** Largest request body the gateway and API accept, in bytes. */
  maxBodyBytes: positiveInt.default(32 * 1024 * 1024),
  /**
   * How long an idle client connection is kept for its next request (advertised in `Keep-Alive`).
   * Longer than the idle timeout of any load balancer in front, which reuses connections without
   * reading that header: one the server closed under it answers its next client with a 502.
   */
  keepAliveTimeoutMs: positiveInt.default(65_000),
  upstreamConnectTimeoutMs: positiveInt.default(10_000),
  upstreamFirstByteTimeoutMs: positiveInt.default(300_000),
  upstreamIdleTimeoutMs: positiveInt.default(120_000),
  upstreamMaxAttempts: z.coerce.number().int().min(1).max(10).default(3),
  /** Requests one key may have in flight to one upstream origin (its pool has 256 connections): a fair share. */
  upstreamKeyShare: positiveInt.default(64),
  /**
   * Concurrent requests a key may have in flight (across providers and nodes) when its own rate
   * limits name none; 0: no default. A key's own `concurrent_requests` replaces it.
   */
  keyConcurrentRequests: z.coerce.number().int().min(0).default(100),
  /** How long a request over its key's share waits for a slot before a 429. */
  upstreamQueueTimeoutMs: positiveInt.default(10_000),
  /** How long a budget reservation lives when the request that made it never settles. */
  reservationLeaseSeconds: positiveInt.default(900),
  usageRetentionDays: positiveInt.default(90),
  /**
   * The longest one database statement, or one transaction, may take (PostgreSQL statement_timeout;
   * on SQLite the wait for its single connection and a transaction's hold on it); past it the
   * operation fails and its transaction rolls back instead of holding the database.
   */
  statementTimeoutMs: positiveInt.default(15_000),
  /** How many gateway nodes share the limits; the per-node share when Redis is unreachable. */
  nodeCount: positiveInt.default(1),
  redisFailureSpend: z.enum(["closed", "open"]).default("closed"),
  redisFailureRate: z.enum(["local", "open", "closed"]).default("local"),
  /** JSON array of GitHub secret-scanning public keys: [{"key_identifier","key"}]. */
  githubPublicKeys: z.string().optional(),
  /** Seconds a verified key keeps working from cache while the database is unreachable. */
  keyCacheStaleSeconds: positiveInt.default(300),
  /** Which provider serves a model the catalog does not list: `glob=provider,…`, tried in order (default claude-*, gpt-*, o[0-9]*, chatgpt-*, gemini-*). */
  modelPatterns: z.string().regex(/^\s*[^=,\s]+\s*=\s*[a-z-]+\s*(,\s*[^=,\s]+\s*=\s*[a-z-]+\s*)*$/, "glob=provider pairs separated by commas").optional(),
  /** Proxies whose X-Forwarded-For is believed (see values.ts): off, a hop count, or CIDRs. */
  trustProxy: proxyTrust.default({ kind: "none" }),
  /**
   * Addresses and ranges Latchkey may connect to on a user's say-so although they are loopback,
   * private or link-local (lib/outbound.ts): a local vLLM or Ollama, an internal proxy. Empty: none.
   */
  allowPrivateUpstreams: cidrList.default([]),
  /** The level of the access log's line per gateway and management request; "off" writes none. */
  accessLogLevel: z.enum(["trace", "debug", "info", "warn", "off"]).default("info"),
  /** PEM files: with both, the server speaks HTTPS on its port. */
  tlsCertFile: z.string().min(1).optional(),
  tlsKeyFile: z.string().min(1).optional(),
  /** OpenTelemetry, read from the standard variables (OTEL_…, see STANDARD_ENV_NAMES); tracing is on when an endpoint is set. */
  otelExporterOtlpEndpoint: z.string().url().optional(),
  otelExporterOtlpTracesEndpoint: z.string().url().optional(),
  otelTracesExporter: z.enum(["otlp", "none"]).optional(),
  otelServiceName: z.string().min(1).default("latchkey"),
  /** OpenTelemetry's switch for the whole SDK; a yes/no setting like every other (`flag`). */
  otelSdkDisabled: flag.default(false),
}).refine((c) => (c.tlsCertFile === undefined) === (c.tlsKeyFile === undefined), {
  message: "set both tlsCertFile and tlsKeyFile (LATCHKEY_TLS_CERT_FILE, LATCHKEY_TLS_KEY_FILE), or neither", path: ["tlsCertFile"],
});

/** Settings read from a name of their own standard rather than LATCHKEY_… (OpenTelemetry's). */
export const STANDARD_ENV_NAMES: Record<string, string> = {
  otelExporterOtlpEndpoint: "OTEL_EXPORTER_OTLP_ENDPOINT",
  otelExporterOtlpTracesEndpoint: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  otelTracesExporter: "OTEL_TRACES_EXPORTER",
  otelServiceName: "OTEL_SERVICE_NAME",
  otelSdkDisabled: "OTEL_SDK_DISABLED",
};

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Settings that are secrets and so may also be given as <NAME>_FILE. */
export const SECRET_SETTINGS = ["masterKey", "masterKeyPrevious", "pepper", "databaseUrl", "redisUrl", "githubPublicKeys"] as const;
