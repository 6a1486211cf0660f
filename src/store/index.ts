import type { MasterKeys } from "../lib/envelope.js";
import { AlertStore, WebhookStore } from "./alerts.js";
import { AuditStore } from "./audit.js";
import { BatchStore } from "./batches.js";
import { CreditStore } from "./credits.js";
import { UsageRollupStore } from "./usage-rollups.js";
import { CredentialStore } from "./credentials.js";
import { CredentialFingerprintStore } from "./credential-fingerprints.js";
import { ModelStore } from "./models.js";
import type { Database } from "./database.js";
import { KeyStore } from "./keys.js";
import { KvStore } from "./kv.js";
import { LeaseStore } from "./leases.js";
import { OrgStore } from "./orgs.js";
import { UsageStore } from "./usage.js";
import { UserStore } from "./users.js";
import { InlineUsageWriter, type UsageWriter } from "./usage-writer.js";

export * from "./alerts.js";
export * from "./audit.js";
export * from "./batches.js";
export * from "./credits.js";
export * from "./usage-rollups.js";
export * from "./credentials.js";
export * from "./master-key-check.js";
export { CredentialFingerprintStore, type FingerprintMatch } from "./credential-fingerprints.js";
export * from "./models.js";
export { DEFAULT_MODELS } from "./model-defaults.js";
export * from "./database.js";
export * from "./keys.js";
export * from "./kv.js";
export * from "./leases.js";
export * from "./orgs.js";
export * from "./types.js";
export * from "./usage.js";
export * from "./usage-writer.js";
export { WorkerUsageWriter, type WorkerUsageWriterOptions } from "./usage-worker.js";
export * from "./test-usage.js";
export * from "./users.js";
export type { Tables } from "./schema.js";

/** Every store over one database; built once in main.ts and handed to the services. */
export interface Store {
  readonly database: Database;
  readonly orgs: OrgStore;
  readonly keys: KeyStore;
  readonly audit: AuditStore;
  readonly usage: UsageStore;
  /** Writes usage batches and roll-ups: this store's connection, or a thread of its own (main.ts chooses). */
  readonly usageWriter: UsageWriter;
  readonly leases: LeaseStore;
  readonly kv: KvStore;
  readonly credentials: CredentialStore;
  readonly credentialFingerprints: CredentialFingerprintStore;
  readonly models: ModelStore;
  readonly users: UserStore;
  readonly rollups: UsageRollupStore;
  readonly credits: CreditStore;
  readonly alerts: AlertStore;
  readonly webhooks: WebhookStore;
  readonly batches: BatchStore;
}

/**
 * Every store over `database`. The master key seals the audit log (a store without it can read the
 * log, but neither append to it nor verify it).
 */
export function createStore(database: Database, opts: {
  masterKey?: MasterKeys;
  /** Another usage writer than this store's own connection (default InlineUsageWriter). */
  usageWriter?: (stores: { usage: UsageStore }) => UsageWriter;
} = {}): Store {
  const usage = new UsageStore(database);
  const rollups = new UsageRollupStore(database);
  const credits = new CreditStore(database);
  const keys = new KeyStore(database);
  return {
    database,
    usageWriter: opts.usageWriter?.({ usage }) ?? new InlineUsageWriter({ usage, rollups, credits, keys }),
    orgs: new OrgStore(database),
    keys,
    audit: new AuditStore(database, opts.masterKey),
    usage,
    leases: new LeaseStore(database, usage),
    kv: new KvStore(database),
    credentials: new CredentialStore(database),
    credentialFingerprints: new CredentialFingerprintStore(database),
    models: new ModelStore(database),
    users: new UserStore(database),
    rollups,
    credits,
    alerts: new AlertStore(database),
    webhooks: new WebhookStore(database),
    batches: new BatchStore(database),
  };
}
export * from "./backup.js";
export * from "./copy-store.js";
