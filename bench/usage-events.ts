/** Shared by the usage benchmarks: synthetic usage events, 0.25 ms apart (4,000 requests a second). */
import { newId } from "../src/lib/index.js";
import type { UsageEvent } from "../src/store/index.js";

/** The `n`th event from `t0` on, its key the `n`th of `keys` in turn, spread over `workspaces`. */
export function syntheticUsage(n: number, t0: number, keys: number, workspaces: number): UsageEvent {
  const k = n % keys;
  const at = t0 + Math.floor(n / 4);
  return {
    id: newId("req", at), at, orgId: "org_bench0000000000000000", workspaceId: `wrk_bench${String(k % workspaces).padStart(16, "0")}`,
    keyId: `key_bench${String(k).padStart(16, "0")}`, provider: "anthropic", model: "claude-haiku-4-5", endpoint: "messages",
    inputTokens: 12, outputTokens: 30, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 162_000, status: 200, errorCode: null,
    streamed: false, aborted: false, latencyMs: 3, ttfbMs: 3, deployment: "crd_bench", attempts: 1,
  };
}
