import { asStoreError, type ApiKey, type Store, type Workspace } from "../store/index.js";
import { StoreUnavailableError } from "../errors/index.js";
import type { Clock } from "../lib/index.js";
import { parseKey, type KeyPrefixes } from "./format.js";
import { hashKey } from "./hash.js";
import { compileIpAllowlist, compileModelGlobs } from "./matchers.js";
import { hasScope } from "./scopes.js";

export type VerifyCode =
  | "VALID" | "MALFORMED" | "NOT_FOUND" | "DISABLED" | "REVOKED" | "EXPIRED"
  | "FORBIDDEN_IP" | "FORBIDDEN_ORIGIN" | "FORBIDDEN_SCOPE" | "FORBIDDEN_MODEL";

export interface VerifyContext {
  /** "gateway" refuses admin keys; "management" accepts only admin keys. */
  surface?: "gateway" | "management";
  /** The endpoint family (gateway) or permission (management) the call needs. */
  scope?: string;
  ip?: string;
  /** The request's Origin header; publishable keys require one on their allow-list. */
  origin?: string | null;
  /** The model, after alias resolution. */
  model?: string;
  /**
   * Every name of that model (a catalog model's id and its aliases): allowed when the key allows
   * any of them, as the gateway decides. Without it, `model` alone is checked.
   */
  modelNames?: readonly string[];
}

/** A key as verification sees it: the record, its workspace and compiled allow-lists. */
export interface VerifiedKey {
  key: ApiKey;
  workspace: Workspace;
  allowsModel: (model: string) => boolean;
  allowsIp: ((ip: string) => boolean) | null;
  loadedAt: number;
}

/** A denial is data: `valid` false with a code and a message safe to show the caller. */
export type VerifyResult =
  | { valid: true; code: "VALID"; entry: VerifiedKey }
  | { valid: false; code: Exclude<VerifyCode, "VALID">; message: string; entry?: VerifiedKey };

export interface VerifierOptions {
  store: Store;
  clock: Clock;
  prefixes: KeyPrefixes;
  pepper?: string | undefined;
  /** How long a cached key is trusted before it is re-read (explicit invalidation covers changes). */
  refreshMs?: number;
  /** How long a cached key keeps working while the store is unreachable. */
  staleMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  /**
   * Told of every local invalidation, so other nodes can drop the same entries (main.ts carries
   * it over Redis pub/sub). Invalidations that arrive from other nodes are not passed on again.
   */
  onInvalidate?: (message: InvalidationMessage) => void;
}

/** What one node tells the others after a change: one key, or everything. */
export type InvalidationMessage = { keyId: string } | { all: true };

/** Longer than any key of any prefix: refused before it is hashed. */
const MAX_KEY_LENGTH = 256;
const MALFORMED: VerifyResult = Object.freeze({ valid: false, code: "MALFORMED", message: "The API key is malformed." });
const NOT_FOUND: VerifyResult = Object.freeze({ valid: false, code: "NOT_FOUND", message: "The API key is not valid." });

/**
 * Verifies keys: checksum first (no store access for a malformed key), then a cache of verified
 * keys by hash with explicit invalidation, and a short negative cache for unknown hashes.
 */
export class KeyVerifier {
  private readonly byHash = new Map<string, VerifiedKey>();
  private readonly hashById = new Map<string, string>();
  private readonly unknown = new Map<string, number>();
  /** Workspaces change rarely and every change calls invalidateAll: one read serves all their keys. */
  private readonly workspaces = new Map<string, { workspace: Workspace; loadedAt: number }>();
  private readonly lastUsedWritten = new Map<string, number>();
  private readonly lastUsedPending = new Map<string, number>();
  private readonly refreshMs: number;
  private readonly staleMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;

  constructor(private readonly o: VerifierOptions) {
    this.refreshMs = o.refreshMs ?? 60_000;
    this.staleMs = o.staleMs ?? 300_000;
    this.negativeTtlMs = o.negativeTtlMs ?? 10_000;
    this.maxEntries = o.maxEntries ?? 100_000;
  }

  async verify(plaintext: string, ctx: VerifyContext = {}): Promise<VerifyResult> {
    return this.verifyNow(plaintext, ctx);
  }

  /**
   * `verify`, answered at once (no promise) when the caches decide: a malformed key, a cached key,
   * a recently unknown hash. The gateway's hot path calls this to save a promise and a microtask.
   */
  verifyNow(plaintext: string, ctx: VerifyContext = {}): VerifyResult | Promise<VerifyResult> {
    if (plaintext.length > MAX_KEY_LENGTH) return MALFORMED;
    const hash = hashKey(plaintext, this.o.pepper);
    const now = this.o.clock.now();
    // A cached hash is a key issued here, so its checksum was right: the check is skipped for it.
    const cached = this.byHash.get(hash);
    if (cached && now - cached.loadedAt < this.refreshMs) return this.authorize(cached, ctx, now);
    if (!parseKey(plaintext, this.o.prefixes)) return MALFORMED;
    return this.lookup(hash, now).then((entry) => (entry ? this.authorize(entry, ctx, now) : NOT_FOUND));
  }

  /** Looks a key up by its stored hash (used by verify and by leak lookups). */
  async lookup(hash: string, now = this.o.clock.now()): Promise<VerifiedKey | null> {
    const cached = this.byHash.get(hash);
    if (cached && now - cached.loadedAt < this.refreshMs) return cached;
    const negative = this.unknown.get(hash);
    if (negative !== undefined && negative > now) return null;
    try {
      const entry = await this.load(hash, now);
      if (!entry) {
        if (cached) this.forget(hash);
        if (this.unknown.size >= this.maxEntries) this.unknown.delete(this.unknown.keys().next().value!);
        this.unknown.set(hash, now + this.negativeTtlMs);
      }
      return entry;
    } catch (err) {
      const e = asStoreError(err);
      // The database is down: a key verified recently keeps working for a bounded time.
      if (e instanceof StoreUnavailableError && cached && now - cached.loadedAt < this.staleMs) return cached;
      throw e;
    }
  }

  private async load(hash: string, now: number): Promise<VerifiedKey | null> {
    const key = await this.o.store.keys.getByHash(hash);
    if (!key) return null;
    const workspace = await this.workspace(key.workspaceId, now);
    if (!workspace) return null;
    const keyModels = compileModelGlobs(key.allowedModels);
    const wsModels = compileModelGlobs(workspace.allowedModels);
    const entry: VerifiedKey = {
      key,
      workspace,
      allowsModel: (m) => (keyModels ? keyModels(m) : true) && (wsModels ? wsModels(m) : true),
      allowsIp: compileIpAllowlist(key.ipAllowlist),
      loadedAt: now,
    };
    if (this.byHash.size >= this.maxEntries) this.forget(this.byHash.keys().next().value!);
    this.byHash.set(hash, entry);
    this.hashById.set(key.id, hash);
    this.unknown.delete(hash);
    return entry;
  }

  private async workspace(id: string, now: number): Promise<Workspace | null> {
    const cached = this.workspaces.get(id);
    if (cached && now - cached.loadedAt < 60_000) return cached.workspace;
    const workspace = await this.o.store.orgs.getWorkspace(id);
    if (workspace) this.workspaces.set(id, { workspace, loadedAt: now });
    return workspace;
  }

  private authorize(entry: VerifiedKey, ctx: VerifyContext, now: number): VerifyResult {
    const { key } = entry;
    if (key.status === "revoked") return { valid: false, code: "REVOKED", message: "The API key has been revoked.", entry };
    if (key.status === "disabled") return { valid: false, code: "DISABLED", message: "The API key is disabled.", entry };
    if (key.expiresAt !== null && key.expiresAt <= now) return { valid: false, code: "EXPIRED", message: "The API key has expired.", entry };
    if (entry.workspace.archivedAt !== null) return { valid: false, code: "DISABLED", message: "The API key's workspace is archived.", entry };
    if (ctx.surface === "gateway" && key.kind === "admin") {
      return { valid: false, code: "FORBIDDEN_SCOPE", message: "Admin keys cannot call the gateway; use a live, test or publishable key.", entry };
    }
    if (ctx.surface === "management" && key.kind !== "admin") {
      return { valid: false, code: "FORBIDDEN_SCOPE", message: "Only admin keys can call the management API.", entry };
    }
    if (ctx.scope !== undefined && !hasScope(key.scopes, ctx.scope)) {
      return { valid: false, code: "FORBIDDEN_SCOPE", message: `The API key does not have the '${ctx.scope}' scope.`, entry };
    }
    if (entry.allowsIp && (ctx.ip === undefined || !entry.allowsIp(ctx.ip))) {
      return { valid: false, code: "FORBIDDEN_IP", message: "The API key may not be used from this IP address.", entry };
    }
    if (key.kind === "publishable" || (key.allowedOrigins && ctx.origin)) {
      const origins = key.allowedOrigins ?? [];
      if (!ctx.origin || !origins.includes(ctx.origin)) {
        return { valid: false, code: "FORBIDDEN_ORIGIN", message: "The API key may not be used from this origin.", entry };
      }
    }
    const names = ctx.modelNames ?? (ctx.model !== undefined ? [ctx.model] : null);
    if (names && !names.some((n) => entry.allowsModel(n))) {
      return { valid: false, code: "FORBIDDEN_MODEL", message: `The API key may not use the model '${ctx.model}'.`, entry };
    }
    this.noteUse(key.id, now);
    return { valid: true, code: "VALID", entry };
  }

  /** Remembers a use; at most one write per key per minute reaches the store (see flushLastUsed). */
  private noteUse(keyId: string, now: number): void {
    const written = this.lastUsedWritten.get(keyId);
    if (written !== undefined && now - written < 60_000) return;
    this.lastUsedWritten.set(keyId, now);
    this.lastUsedPending.set(keyId, now);
  }

  /** Writes pending last-used times in one batch; called on a timer by the composition root. */
  async flushLastUsed(): Promise<void> {
    if (this.lastUsedPending.size === 0) return;
    const batch = new Map(this.lastUsedPending);
    this.lastUsedPending.clear();
    try {
      await this.o.store.usageWriter.touchKeys(batch);
    } catch {
      for (const [id, at] of batch) if (!this.lastUsedPending.has(id)) this.lastUsedPending.set(id, at);
    }
  }

  /** Drops a key from the cache (after any change to it), so the next use re-reads it. */
  invalidateKey(keyId: string, fromOtherNode = false): void {
    const hash = this.hashById.get(keyId);
    if (hash) this.forget(hash);
    if (!fromOtherNode) this.o.onInvalidate?.({ keyId });
  }

  /** Drops everything (after a workspace or organization change). */
  invalidateAll(fromOtherNode = false): void {
    this.byHash.clear();
    this.hashById.clear();
    this.workspaces.clear();
    this.unknown.clear();
    if (!fromOtherNode) this.o.onInvalidate?.({ all: true });
  }

  /** Applies an invalidation another node published. */
  applyRemote(message: InvalidationMessage): void {
    if ("all" in message) this.invalidateAll(true);
    else this.invalidateKey(message.keyId, true);
  }

  /** Forgets a hash in the negative cache, e.g. right after a key with that hash is created. */
  forgetUnknown(hash: string): void {
    this.unknown.delete(hash);
  }

  private forget(hash: string): void {
    const entry = this.byHash.get(hash);
    if (entry) this.hashById.delete(entry.key.id);
    this.byHash.delete(hash);
  }

  get cacheSize(): number {
    return this.byHash.size;
  }
}
