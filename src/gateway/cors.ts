import type { IncomingMessage, ServerResponse } from "node:http";
import { normalizeOrigin, type VerifiedKey } from "../keys/index.js";
import type { Store } from "../store/index.js";

const REFRESH_MS = 10_000;
const EXPOSED = "request-id, x-request-id, retry-after, anthropic-ratelimit-requests-remaining, x-ratelimit-remaining-requests";

/**
 * CORS for browser callers (publishable keys). A preflight carries no key, so it is answered for
 * an origin only when some active key allows that origin; the real request is then checked
 * against its own key's allow-list by verification.
 */
export class CorsPolicy {
  private origins = new Set<string>();
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;

  constructor(private readonly store: Store, private readonly now: () => number) {}

  async preflight(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const origin = normalizeOrigin(String(req.headers.origin ?? ""));
    if (origin && (await this.known(origin))) {
      res.writeHead(204, {
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": String(req.headers["access-control-request-headers"] ?? "authorization, content-type, x-api-key, x-goog-api-key, anthropic-version"),
        "access-control-max-age": "600",
        vary: "origin",
      });
    } else {
      res.writeHead(403, { vary: "origin" });
    }
    res.end();
  }

  /** Adds the CORS answer headers when the key allows the request's origin. */
  decorate(req: IncomingMessage, res: ServerResponse, entry: VerifiedKey): void {
    const raw = req.headers.origin;
    if (!raw || !entry.key.allowedOrigins) return;
    const origin = normalizeOrigin(raw);
    if (!origin || !entry.key.allowedOrigins.includes(origin)) return;
    res.setHeader("access-control-allow-origin", origin);
    res.setHeader("access-control-expose-headers", EXPOSED);
    res.setHeader("vary", "origin");
  }

  private async known(origin: string): Promise<boolean> {
    if (this.now() - this.loadedAt > REFRESH_MS) {
      this.loading ??= this.load().finally(() => (this.loading = null));
      await this.loading;
    }
    return this.origins.has(origin);
  }

  private async load(): Promise<void> {
    const rows = await this.store.database.db.selectFrom("api_keys").select("allowed_origins")
      .where("status", "=", "active").where("allowed_origins", "is not", null).execute();
    const next = new Set<string>();
    for (const r of rows) for (const o of JSON.parse(r.allowed_origins ?? "[]") as string[]) next.add(o);
    this.origins = next;
    this.loadedAt = this.now();
  }
}
