import type { Kysely } from "kysely";
import { masterKeyList, openSecret, openSecretWithAny, rewrapEnvelope, sealingKey, sealSecret, type MasterKeys } from "../lib/envelope.js";
import { webhookSecretAad } from "./alerts.js";
import { resealAuditChain, type ChainCheck } from "./audit.js";
import { credentialAad } from "./credential-aad.js";
import { writeFingerprints } from "./credential-fingerprints.js";
import { inTransaction, type Database } from "./database.js";
import type { Tables } from "./schema.js";

export interface ProviderCredentialRow {
  id: string;
  org_id: string;
  workspace_id: string | null;
  provider: string;
  name: string;
  base_url: string | null;
  weight: number;
  hint: string;
  /** JSON: provider settings (region, project, API version); not secret. */
  settings: string;
  /** JSON: CredentialModel[]. */
  models: string;
  priority: number;
  wrapped_key: string;
  ciphertext: string;
  created_at: number;
  created_by: string | null;
}

declare module "./schema.js" {
  interface Tables {
    provider_credentials: ProviderCredentialRow;
  }
}

/** Prices of one deployment in micro-USD per million tokens, where they differ from the model's. */
export interface DeploymentPrice {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

/**
 * A model a credential serves: `match` is a catalog id or alias, or a pattern with `*`; `upstream`
 * is its name at the provider when it differs (a Bedrock model id, an Azure deployment name).
 */
export interface CredentialModel {
  match: string;
  upstream?: string | undefined;
  /** Lower goes first; the credential's own priority when absent. */
  priority?: number | undefined;
  weight?: number | undefined;
  price?: DeploymentPrice | undefined;
  /**
   * The API this model is reached through on this credential when it is not the provider's usual
   * one (a host that serves only Chat Completions): callers of another dialect are translated into it.
   */
  dialect?: "anthropic" | "chat" | "responses" | "gemini" | undefined;
}

/** A provider credential as the rest of the system sees it: never the secret, only a hint. */
export interface ProviderCredential {
  id: string;
  orgId: string;
  /** null: the whole organization. */
  workspaceId: string | null;
  provider: string;
  name: string;
  baseUrl: string | null;
  weight: number;
  hint: string;
  /** Provider settings: region, project, api_version, preset… (never secrets). */
  settings: Record<string, string>;
  /** The models it serves; empty: every model of its provider (and its preset's patterns). */
  models: CredentialModel[];
  /** Deployments of lower priority are tried first. */
  priority: number;
  createdAt: number;
  createdBy: string | null;
}

export interface NewCredential extends Omit<ProviderCredential, "hint" | "settings" | "models" | "priority"> {
  secret: string;
  settings?: Record<string, string> | undefined;
  models?: CredentialModel[] | undefined;
  priority?: number | undefined;
}

/** The changeable fields of a credential; absent ones stay as they are. */
export interface CredentialPatch {
  name?: string | undefined;
  baseUrl?: string | null | undefined;
  weight?: number | undefined;
  priority?: number | undefined;
  settings?: Record<string, string> | undefined;
  models?: CredentialModel[] | undefined;
}

/** First 7 and last 4 characters, enough to recognise a key and useless to an attacker. */
export function secretHint(secret: string): string {
  return secret.length <= 12 ? "…" : `${secret.slice(0, 7)}…${secret.slice(-4)}`;
}

/** Upstream provider keys, envelope-encrypted under the master key. */
export class CredentialStore {
  constructor(private readonly database: Database) {}

  async insert(c: NewCredential, masterKey: MasterKeys, db: Kysely<Tables> = this.database.db): Promise<ProviderCredential> {
    const env = sealSecret(sealingKey(masterKey), c.secret, credentialAad(c.id, c.provider));
    const record: ProviderCredential = { ...withoutSecret(c), hint: secretHint(c.secret) };
    await db.insertInto("provider_credentials").values({
      id: c.id, org_id: c.orgId, workspace_id: c.workspaceId, provider: c.provider, name: c.name, base_url: c.baseUrl,
      weight: c.weight, hint: record.hint, settings: JSON.stringify(record.settings), models: JSON.stringify(record.models), priority: record.priority,
      wrapped_key: env.wrappedKey, ciphertext: env.ciphertext, created_at: c.createdAt, created_by: c.createdBy,
    }).execute();
    await writeFingerprints(db, c, c.secret, sealingKey(masterKey));
    return record;
  }

  async list(orgId: string): Promise<ProviderCredential[]> {
    const rows = await this.database.db.selectFrom("provider_credentials").selectAll().where("org_id", "=", orgId).orderBy("id").execute();
    return rows.map(toCredential);
  }

  async get(id: string): Promise<ProviderCredential | null> {
    const row = await this.database.db.selectFrom("provider_credentials").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  /** Changes what is not secret (name, base URL, weight, priority, settings, models); the secret and provider stay. */
  async update(id: string, patch: CredentialPatch, db: Kysely<Tables> = this.database.db): Promise<ProviderCredential | null> {
    const set: Partial<ProviderCredentialRow> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.baseUrl !== undefined) set.base_url = patch.baseUrl;
    if (patch.weight !== undefined) set.weight = patch.weight;
    if (patch.priority !== undefined) set.priority = patch.priority;
    if (patch.settings !== undefined) set.settings = JSON.stringify(patch.settings);
    if (patch.models !== undefined) set.models = JSON.stringify(patch.models);
    if (Object.keys(set).length) await db.updateTable("provider_credentials").set(set).where("id", "=", id).execute();
    const row = await db.selectFrom("provider_credentials").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toCredential(row) : null;
  }

  async delete(id: string, db: Kysely<Tables> = this.database.db): Promise<boolean> {
    const r = await db.deleteFrom("provider_credentials").where("id", "=", id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Every credential of the organization with its decrypted secret; for the gateway's cache only.
   * A credential none of the keys opens (sealed under a newer master key by a node that already
   * rolled to it) is left out and named to `unopened`, so the others keep serving.
   */
  async listWithSecrets(orgId: string, masterKey: MasterKeys, unopened?: (id: string) => void): Promise<Array<ProviderCredential & { secret: string }>> {
    const rows = await this.database.db.selectFrom("provider_credentials").selectAll().where("org_id", "=", orgId).orderBy("id").execute();
    const out: Array<ProviderCredential & { secret: string }> = [];
    for (const r of rows) {
      let secret: string;
      try {
        secret = openSecretWithAny(masterKey, { wrappedKey: r.wrapped_key, ciphertext: r.ciphertext }, credentialAad(r.id, r.provider));
      } catch (err) {
        if (!unopened) throw err;
        unopened(r.id);
        continue;
      }
      out.push({ ...toCredential(r), secret });
    }
    return out;
  }

  async secretOf(id: string, masterKey: MasterKeys): Promise<string | null> {
    const r = await this.database.db.selectFrom("provider_credentials").selectAll().where("id", "=", id).executeTakeFirst();
    return r ? openSecretWithAny(masterKey, { wrappedKey: r.wrapped_key, ciphertext: r.ciphertext }, credentialAad(r.id, r.provider)) : null;
  }
}

/** Which of `keys` opens the data key of an envelope (null: none). */
export function keyThatOpens(keys: readonly Buffer[], envelope: { wrappedKey: string; ciphertext: string }, aad: string): Buffer | null {
  for (const k of keys) {
    try {
      openSecret(k, envelope, aad);
      return k;
    } catch {
      // not this one
    }
  }
  return null;
}

/**
 * Moves every sealed record (provider credentials and webhook signing secrets) to `newMaster`:
 * data keys wrapped by any of `oldMasters` are re-wrapped, those already under `newMaster` (written
 * by a node that rolled to it first) are left as they are, and every credential's leak fingerprints
 * are re-keyed, in one transaction: every record moves or none does. Re-seals the audit log in the
 * same transaction. Returns how many records were re-wrapped and the audit log's check before it
 * was re-sealed (a broken log is left unsealed under the new key: it stays broken).
 */
export async function rotateMasterKey(database: Database, oldMasters: MasterKeys, newMaster: Buffer): Promise<{ credentials: number; audit: ChainCheck }> {
  const keys = [newMaster, ...masterKeyList(oldMasters).filter((k) => !k.equals(newMaster))];
  return inTransaction(database, async (trx) => {
    let rewrapped = 0;
    const rows = await trx.selectFrom("provider_credentials").select(["id", "org_id", "provider", "wrapped_key", "ciphertext"]).execute();
    for (const r of rows) {
      const envelope = { wrappedKey: r.wrapped_key, ciphertext: r.ciphertext };
      const aad = credentialAad(r.id, r.provider);
      const key = keyThatOpens(keys, envelope, aad);
      if (!key) throw new Error(`credential ${r.id} opens with none of the master keys given`);
      if (key !== newMaster) {
        await trx.updateTable("provider_credentials").set({ wrapped_key: rewrapEnvelope(key, newMaster, envelope, aad).wrappedKey }).where("id", "=", r.id).execute();
        rewrapped++;
      }
      // Leak fingerprints are keyed from the master key too.
      await writeFingerprints(trx, { id: r.id, orgId: r.org_id }, openSecret(key, envelope, aad), newMaster);
    }
    const hooks = await trx.selectFrom("webhook_endpoints").select(["id", "wrapped_key", "ciphertext"]).execute();
    for (const h of hooks) {
      const envelope = { wrappedKey: h.wrapped_key, ciphertext: h.ciphertext };
      const key = keyThatOpens(keys, envelope, webhookSecretAad(h.id));
      if (!key) throw new Error(`webhook endpoint ${h.id} opens with none of the master keys given`);
      if (key === newMaster) continue;
      await trx.updateTable("webhook_endpoints").set({ wrapped_key: rewrapEnvelope(key, newMaster, envelope, webhookSecretAad(h.id)).wrappedKey }).where("id", "=", h.id).execute();
      rewrapped++;
    }
    // So are the audit log's seals.
    const audit = await resealAuditChain(database, keys, newMaster);
    return { credentials: rewrapped, audit };
  });
}

function withoutSecret(c: NewCredential): Omit<ProviderCredential, "hint"> {
  return {
    id: c.id, orgId: c.orgId, workspaceId: c.workspaceId, provider: c.provider, name: c.name, baseUrl: c.baseUrl, weight: c.weight,
    settings: c.settings ?? {}, models: c.models ?? [], priority: c.priority ?? 0, createdAt: c.createdAt, createdBy: c.createdBy,
  };
}

function toCredential(r: ProviderCredentialRow): ProviderCredential {
  return {
    id: r.id, orgId: r.org_id, workspaceId: r.workspace_id, provider: r.provider, name: r.name, baseUrl: r.base_url,
    weight: r.weight, hint: r.hint, settings: parseJson(r.settings, {}), models: parseJson(r.models, []), priority: Number(r.priority ?? 0),
    createdAt: Number(r.created_at), createdBy: r.created_by,
  };
}

function parseJson<T>(text: string | null | undefined, fallback: T): T {
  return text ? (JSON.parse(text) as T) : fallback;
}
