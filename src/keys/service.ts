import type { Kysely } from "kysely";
import { NotFoundError, ValidationError, type FieldIssue } from "../errors/index.js";
import { newId, type Clock } from "../lib/index.js";
import { inTransaction, type ApiKey, type KeyFilter, type Page, type PageRequest, type RateLimits, type SpendLimit, type Store, type Tables } from "../store/index.js";
import type { Actor } from "./actor.js";
import { generateKey, keyHint, type KeyKind, type KeyPrefixes } from "./format.js";
import { hashKey } from "./hash.js";
import { normalizeOrigin, parseCidr } from "./matchers.js";
import { isKnownScope } from "./scopes.js";
import type { KeyVerifier } from "./verify.js";

export const MAX_METADATA_BYTES = 4096;
export const DEFAULT_ROLL_GRACE_SECONDS = 24 * 3600;

export interface KeySettings {
  name: string;
  workspaceId: string;
  kind: KeyKind;
  scopes?: string[] | undefined;
  allowedModels?: string[] | null | undefined;
  ipAllowlist?: string[] | null | undefined;
  allowedOrigins?: string[] | null | undefined;
  rateLimits?: RateLimits | null | undefined;
  spendLimit?: SpendLimit | null | undefined;
  expiresAt?: number | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export type KeyUpdate = Partial<Omit<KeySettings, "workspaceId" | "kind">>;

/** A created or rolled key: the record and the plaintext, which exists only in this value. */
export interface IssuedKey {
  key: ApiKey;
  plaintext: string;
}

/** Issues, changes, rolls and revokes keys; every change commits with its audit record. */
export class KeyService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly prefixes: KeyPrefixes,
    private readonly verifier: KeyVerifier,
    private readonly pepper?: string,
  ) {}

  async issue(s: KeySettings, actor: Actor, opts: { rolledFrom?: string; trx?: Kysely<Tables> } = {}): Promise<IssuedKey> {
    const now = this.clock.now();
    const scopes = s.scopes ?? ["*"];
    const issues = validateSettings({ ...s, scopes }, now);
    if (issues.length) throw new ValidationError(issues);
    const plaintext = generateKey(this.prefixes[s.kind]);
    const key: ApiKey = {
      id: newId("key", now), orgId: actor.orgId, workspaceId: s.workspaceId, name: s.name, kind: s.kind,
      keyHash: hashKey(plaintext, this.pepper), hint: keyHint(plaintext), scopes,
      allowedModels: s.allowedModels ?? null, ipAllowlist: s.ipAllowlist ?? null,
      allowedOrigins: s.allowedOrigins?.map((o) => normalizeOrigin(o)!) ?? null,
      rateLimits: s.rateLimits ?? null, spendLimit: s.spendLimit ?? null, metadata: s.metadata ?? {}, status: "active",
      expiresAt: s.expiresAt ?? null, createdAt: now, createdBy: actor.id, updatedAt: now, lastUsedAt: null, revokedAt: null,
      rolledFrom: opts.rolledFrom ?? null,
    };
    const write = async (trx: Kysely<Tables>) => {
      const ws = await this.store.orgs.getWorkspace(s.workspaceId, trx);
      if (!ws || ws.orgId !== actor.orgId) throw new ValidationError([{ field: "workspace_id", message: "no such workspace" }]);
      if (ws.archivedAt !== null) throw new ValidationError([{ field: "workspace_id", message: "the workspace is archived" }]);
      await this.store.keys.insert(key, trx);
      await this.audit(trx, actor, opts.rolledFrom ? "key.rolled" : "key.created", key.id, { ...describe(key), ...(opts.rolledFrom ? { rolled_from: opts.rolledFrom } : {}) });
    };
    if (opts.trx) await write(opts.trx);
    else await inTransaction(this.store.database, write);
    this.verifier.forgetUnknown(key.keyHash);
    return { key, plaintext };
  }

  async get(id: string, orgId: string): Promise<ApiKey> {
    const key = await this.store.keys.getById(id);
    if (!key || key.orgId !== orgId) throw new NotFoundError("key");
    return key;
  }

  list(filter: Omit<KeyFilter, "now">, page: PageRequest): Promise<Page<ApiKey>> {
    return this.store.keys.list({ ...filter, now: this.clock.now() }, page);
  }

  async update(id: string, u: KeyUpdate, actor: Actor): Promise<ApiKey> {
    const now = this.clock.now();
    return this.change(id, actor, "key.updated", async (key) => {
      const merged = { ...settingsOf(key), ...stripUndefined(u) };
      const issues = validateSettings(merged, now, u);
      if (issues.length) throw new ValidationError(issues);
      if (key.status === "revoked") throw new ValidationError([{ field: "status", message: "a revoked key cannot be changed" }]);
      const changes = { ...stripUndefined(u), ...(u.allowedOrigins ? { allowedOrigins: u.allowedOrigins.map((o) => normalizeOrigin(o)!) } : {}) };
      return changes;
    });
  }

  disable(id: string, actor: Actor, reason?: string): Promise<ApiKey> {
    return this.change(id, actor, "key.disabled", async (key) => {
      if (key.status === "revoked") throw new ValidationError([{ field: "status", message: "the key is revoked" }]);
      return { status: "disabled" };
    }, reason ? { reason } : {});
  }

  enable(id: string, actor: Actor): Promise<ApiKey> {
    return this.change(id, actor, "key.enabled", async (key) => {
      if (key.status === "revoked") throw new ValidationError([{ field: "status", message: "a revoked key cannot be enabled again" }]);
      return { status: "active" };
    });
  }

  /** Permanent: the key stays listed for the record but never works again. */
  revoke(id: string, actor: Actor, reason?: string): Promise<ApiKey> {
    const now = this.clock.now();
    return this.change(id, actor, "key.revoked", async (key) => {
      if (key.status === "revoked") return {};
      return { status: "revoked", revokedAt: now };
    }, reason ? { reason } : {});
  }

  /**
   * A new key with the same settings; the old one keeps working until `graceSeconds` from now
   * (never longer than its own expiry), then expires by itself. 0 ends it at once.
   */
  async roll(id: string, graceSeconds: number, actor: Actor): Promise<{ issued: IssuedKey; old: ApiKey }> {
    const now = this.clock.now();
    if (!Number.isInteger(graceSeconds) || graceSeconds < 0) throw new ValidationError([{ field: "grace_seconds", message: "must be a whole number of seconds, 0 or more" }]);
    return inTransaction(this.store.database, async (trx) => {
      const old = await this.store.keys.getById(id, trx);
      if (!old || old.orgId !== actor.orgId) throw new NotFoundError("key");
      if (old.status === "revoked") throw new ValidationError([{ field: "id", message: "a revoked key cannot be rolled" }]);
      const deadline = now + graceSeconds * 1000;
      const settings = settingsOf(old);
      if (settings.expiresAt !== null && settings.expiresAt !== undefined && settings.expiresAt <= now) settings.expiresAt = null;
      const issued = await this.issue(settings, actor, { rolledFrom: old.id, trx });
      const expiresAt = old.expiresAt !== null && old.expiresAt < deadline ? old.expiresAt : deadline;
      await this.store.keys.update(old.id, { expiresAt, updatedAt: now }, trx);
      await this.audit(trx, actor, "key.roll_scheduled", old.id, { expires_at: new Date(expiresAt).toISOString(), replaced_by: issued.key.id });
      this.verifier.invalidateKey(old.id);
      return { issued, old: { ...old, expiresAt, updatedAt: now } };
    });
  }

  private async change(id: string, actor: Actor, action: string, decide: (key: ApiKey) => Promise<Partial<ApiKey>>, extra: Record<string, unknown> = {}): Promise<ApiKey> {
    const now = this.clock.now();
    const updated = await inTransaction(this.store.database, async (trx) => {
      const key = await this.store.keys.getById(id, trx);
      if (!key || key.orgId !== actor.orgId) throw new NotFoundError("key");
      const changes = await decide(key);
      if (Object.keys(changes).length === 0) return key;
      await this.store.keys.update(id, { ...changes, updatedAt: now }, trx);
      await this.audit(trx, actor, action, id, { ...describe(changes), ...extra });
      return { ...key, ...changes, updatedAt: now };
    });
    this.verifier.invalidateKey(id);
    return updated;
  }

  private async audit(trx: Kysely<Tables>, actor: Actor, action: string, target: string, changes: Record<string, unknown>): Promise<void> {
    await this.store.audit.append({
      id: newId("aud", this.clock.now()), at: this.clock.now(), orgId: actor.orgId, actor: actor.id, action, target,
      changes, requestId: actor.requestId, clientIp: actor.clientIp,
    }, trx);
  }
}

function settingsOf(k: ApiKey): KeySettings {
  return {
    name: k.name, workspaceId: k.workspaceId, kind: k.kind, scopes: k.scopes, allowedModels: k.allowedModels,
    ipAllowlist: k.ipAllowlist, allowedOrigins: k.allowedOrigins, rateLimits: k.rateLimits, spendLimit: k.spendLimit,
    expiresAt: k.expiresAt, metadata: k.metadata,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The fields of a change worth recording; never a hash or a plaintext. */
function describe(c: Partial<ApiKey>): Record<string, unknown> {
  const { keyHash: _h, ...rest } = c;
  return Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
}

/** Domain rules the schema alone cannot express; every problem is returned, named by field. */
export function validateSettings(s: KeySettings, now: number, changed: Partial<KeySettings> = s): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const surface = s.kind === "admin" ? "admin" : "gateway";
  for (const scope of s.scopes ?? []) {
    if (!isKnownScope(surface, scope)) issues.push({ field: "scopes", message: `unknown ${surface} scope '${scope}'` });
  }
  for (const cidr of s.ipAllowlist ?? []) {
    if (!parseCidr(cidr)) issues.push({ field: "ip_allowlist", message: `'${cidr}' is not an IPv4 or IPv6 address or CIDR block` });
  }
  for (const origin of s.allowedOrigins ?? []) {
    if (!normalizeOrigin(origin)) issues.push({ field: "allowed_origins", message: `'${origin}' is not an http(s) origin` });
  }
  if (s.kind === "publishable" && !(s.allowedOrigins && s.allowedOrigins.length)) {
    issues.push({ field: "allowed_origins", message: "publishable keys need at least one allowed origin" });
  }
  // A publishable key sits in a browser for anyone to copy: it must say what it may use and how much.
  if (s.kind === "publishable" && !(s.allowedModels && s.allowedModels.length)) {
    issues.push({ field: "allowed_models", message: "publishable keys need a model list" });
  }
  if (s.kind === "publishable" && !s.rateLimits?.requestsPerMinute && !s.spendLimit) {
    issues.push({ field: "rate_limits", message: "publishable keys need a requests_per_minute limit or a spend limit" });
  }
  if (changed.expiresAt !== undefined && changed.expiresAt !== null && changed.expiresAt <= now) {
    issues.push({ field: "expires_at", message: "must be in the future" });
  }
  if (s.metadata !== undefined && Buffer.byteLength(JSON.stringify(s.metadata)) > MAX_METADATA_BYTES) {
    issues.push({ field: "metadata", message: `must be at most ${MAX_METADATA_BYTES} bytes of JSON` });
  }
  return issues;
}
