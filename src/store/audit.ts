import type { Kysely, Selectable } from "kysely";
import { auditKey, canonicalJson, checkpointSeal, headSeal, recordSeal, sealMatches, sha256Hex } from "../lib/index.js";
import { masterKeyList, type MasterKeys } from "../lib/envelope.js";
import type { Database } from "./database.js";
import type { AuditEventRow, Tables } from "./schema.js";
import type { AuditEvent } from "./types.js";

export const GENESIS_HASH = "0".repeat(64);

export type NewAuditEvent = Omit<AuditEvent, "seq" | "prevHash" | "hash">;

export interface AuditFilter {
  since?: number | undefined;
  until?: number | undefined;
  actor?: string | undefined;
  target?: string | undefined;
  action?: string | undefined;
  /** Events with a seq below this (newest first paging). */
  beforeSeq?: number | undefined;
  limit: number;
}

export interface ChainCheck {
  ok: boolean;
  count: number;
  /** The first record whose link or seal is broken, and why. */
  brokenAt?: { seq: number; id: string; reason: string };
  /** The last record walked: what a checkpoint records. */
  head: { count: number; hash: string };
  /** Records written before seals existed: checked by their hashes, covered by the first sealed record's link. */
  unsealed: number;
  /** False when walked without the master key: links and hashes checked, seals not (a copy's faithfulness, not its authenticity). */
  sealsChecked: boolean;
}

/** The signed head, exported to be kept elsewhere; verification against it catches a rollback. */
export interface AuditCheckpoint {
  count: number;
  hash: string;
  at: string;
  seal: string;
}

/** The hash of one audit record: SHA-256 of the previous hash and the record's canonical JSON. */
export function auditHash(prevHash: string, e: NewAuditEvent): string {
  return sha256Hex(`${prevHash}\n${canonicalJson({
    id: e.id, at: e.at, org_id: e.orgId, actor: e.actor, action: e.action, target: e.target,
    changes: e.changes, request_id: e.requestId, client_ip: e.clientIp,
  })}`);
}

// Written on a head that no longer matched its seal: it is never sealed again, so verification keeps saying so.
const HEAD_BROKEN = "broken";

/**
 * The append-only, hash-chained audit log, each record and the head sealed under a key derived
 * from the master key (lib/audit-seal.ts). Without the master key it can be listed, not written or verified.
 */
export class AuditStore {
  /** Seal keys of the master keys held, the current one first (two while nodes roll to a new master key). */
  private readonly keys: Buffer[];

  constructor(private readonly database: Database, masterKey?: MasterKeys) {
    this.keys = masterKey ? masterKeyList(masterKey).map(auditKey) : [];
  }

  /**
   * The seal key the log is kept under: the one its head is sealed with. While nodes roll to a new
   * master key, some hold only the old one; every node goes on sealing under the key the log has
   * until `rotate-master` re-seals it, so none of them finds the head sealed by a key it lacks.
   */
  private sealKey(head?: { seal: string | null; count: number | string; hash: string; sealed_after: number | string }): Buffer {
    if (this.keys.length === 0) throw new Error("the audit log is sealed with a key from the master key: build the store with it");
    if (!head || head.seal === null || this.keys.length === 1) return this.keys[0]!;
    return this.keys.find((k) => headIntact(k, head.seal, Number(head.count), head.hash, Number(head.sealed_after))) ?? this.keys[0]!;
  }

  /** Appends inside the caller's transaction, so the change and its record commit together. */
  async append(e: NewAuditEvent, trx: Kysely<Tables>): Promise<AuditEvent> {
    let q = trx.selectFrom("audit_head").selectAll().where("id", "=", 1);
    if (this.database.dialect === "postgres") q = q.forUpdate();
    const head = await q.executeTakeFirstOrThrow();
    const key = this.sealKey(head);
    const count = Number(head.count);
    const sealedAfter = Number(head.sealed_after);
    const intact = headIntact(key, head.seal, count, head.hash, sealedAfter);
    const prevHash = head.hash;
    const position = count + 1;
    const hash = auditHash(prevHash, e);
    await trx.insertInto("audit_events").values({
      id: e.id, at: e.at, org_id: e.orgId, actor: e.actor, action: e.action, target: e.target, changes: JSON.stringify(e.changes),
      request_id: e.requestId, client_ip: e.clientIp, prev_hash: prevHash, hash, seal: recordSeal(key, position, hash),
    }).execute();
    await trx.updateTable("audit_head")
      .set({ hash, count: position, seal: intact ? headSeal(key, position, hash, sealedAfter) : HEAD_BROKEN })
      .where("id", "=", 1).execute();
    return { ...e, seq: position, prevHash, hash };
  }

  async list(f: AuditFilter): Promise<AuditEvent[]> {
    let q = this.database.db.selectFrom("audit_events").selectAll();
    if (f.since !== undefined) q = q.where("at", ">=", f.since);
    if (f.until !== undefined) q = q.where("at", "<", f.until);
    if (f.actor) q = q.where("actor", "=", f.actor);
    if (f.target) q = q.where("target", "=", f.target);
    if (f.action) q = q.where("action", "=", f.action);
    if (f.beforeSeq !== undefined) q = q.where("seq", "<", f.beforeSeq);
    const rows = await q.orderBy("seq", "desc").limit(f.limit).execute();
    return rows.map(toEvent);
  }

  /**
   * Walks the whole chain; reports the first record altered, removed, inserted or moved, records cut
   * from the end, and, given a checkpoint, a log that no longer holds what the checkpoint saw. A
   * store built without the master key checks links and hashes only (and takes no checkpoint).
   */
  async verify(checkpoint?: AuditCheckpoint): Promise<ChainCheck> {
    const db = this.database.db;
    const head = await db.selectFrom("audit_head").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
    const key = this.keys.length > 0 || checkpoint ? this.sealKey(head) : null;
    const sealedAfter = Number(head.sealed_after);
    let prev = GENESIS_HASH;
    let count = 0;
    let lastSeq = 0;
    const result = (brokenAt?: ChainCheck["brokenAt"]): ChainCheck => ({
      ok: !brokenAt, count, head: { count, hash: prev }, unsealed: Math.min(sealedAfter, count), sealsChecked: key !== null, ...(brokenAt ? { brokenAt } : {}),
    });
    if (key && checkpoint && !sealMatches(checkpoint.seal, checkpointSeal(key, checkpoint.count, checkpoint.hash, checkpoint.at))) {
      return result({ seq: 0, id: "(checkpoint)", reason: "the checkpoint does not match its seal: it was altered, or sealed under another master key" });
    }
    const batch = 5000;
    for (;;) {
      const rows = await db.selectFrom("audit_events").selectAll().where("seq", ">", lastSeq).orderBy("seq").limit(batch).execute();
      for (const row of rows) {
        const e = toEvent(row);
        const position = count + 1;
        const broken = (reason: string) => result({ seq: e.seq, id: e.id, reason });
        if (e.prevHash !== prev) return broken("its link to the previous record is broken (a record before it was removed, altered or moved)");
        if (auditHash(prev, e) !== e.hash) return broken("its content does not match its hash (the record was altered)");
        if (key && position > sealedAfter && !sealMatches(row.seal, recordSeal(key, position, e.hash))) {
          return broken("it does not match its seal (the record was rewritten, or records before it were removed or moved, and the chain recomputed)");
        }
        if (key && position <= sealedAfter && row.seal !== null) return broken("it carries a seal, yet the head says sealing began after it (the head was reset)");
        if (checkpoint && position === checkpoint.count && e.hash !== checkpoint.hash) {
          return broken(`it differs from the record the checkpoint of ${checkpoint.at} saw at position ${position} (the log before it was rewritten)`);
        }
        prev = e.hash;
        count = position;
        lastSeq = e.seq;
      }
      if (rows.length < batch) break;
    }
    if (checkpoint && count < checkpoint.count) {
      return result({ seq: lastSeq + 1, id: "(end of log)", reason: `the log holds ${count} records, the checkpoint of ${checkpoint.at} saw ${checkpoint.count}: records were removed from the end` });
    }
    if (head.hash !== prev || Number(head.count) !== count) {
      return result({ seq: lastSeq + 1, id: "(end of log)", reason: `the log ends early: ${Number(head.count) - count} record(s) at the end were removed` });
    }
    if (key && !headIntact(key, head.seal, count, head.hash, sealedAfter)) {
      return result({ seq: lastSeq + 1, id: "(end of log)", reason: "the head does not match its seal: records were removed from the end, or the head was rewritten" });
    }
    return result();
  }

  /** A checkpoint of the log as it is now, sealed; refused (null, with the check) when the log does not verify. */
  async checkpoint(now: number): Promise<{ check: ChainCheck; checkpoint: AuditCheckpoint | null }> {
    const head = await this.database.db.selectFrom("audit_head").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
    const key = this.sealKey(head);
    const check = await this.verify();
    if (!check.ok) return { check, checkpoint: null };
    const at = new Date(now).toISOString();
    const { count, hash } = check.head;
    return { check, checkpoint: { count, hash, at, seal: checkpointSeal(key, count, hash, at) } };
  }
}

function headIntact(key: Buffer, seal: string | null, count: number, hash: string, sealedAfter: number): boolean {
  // Unsealed only while nothing sealed was written yet (a log from before seals, or an empty one).
  if (seal === null) return count === sealedAfter;
  return sealMatches(seal, headSeal(key, count, hash, sealedAfter));
}

/**
 * Re-seals the chain under a new master key, inside the caller's transaction, after verifying it
 * under the old one. A chain that does not verify is left as it is (re-sealing would hide the
 * break): the check says why, and it keeps failing verification. Hashes never change, so
 * checkpoints keep their positions and hashes, but need sealing anew.
 */
export async function resealAuditChain(database: Database, oldMaster: MasterKeys, newMaster: Buffer): Promise<ChainCheck> {
  // Checked under the key the log is sealed with: an old one, or the new one when a rotation is run again.
  // With neither matching the head, the first old key decides, as before two keys existed.
  const check = await new AuditStore(database, [...masterKeyList(oldMaster).filter((k) => !k.equals(newMaster)), newMaster]).verify();
  if (!check.ok) return check;
  const key = auditKey(newMaster);
  const db = database.db;
  const head = await db.selectFrom("audit_head").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
  const sealedAfter = Number(head.sealed_after);
  let position = 0;
  let lastSeq = 0;
  for (;;) {
    const rows = await db.selectFrom("audit_events").select(["seq", "hash"]).where("seq", ">", lastSeq).orderBy("seq").limit(5000).execute();
    for (const r of rows) {
      position++;
      lastSeq = Number(r.seq);
      if (position > sealedAfter) await db.updateTable("audit_events").set({ seal: recordSeal(key, position, r.hash) }).where("seq", "=", r.seq).execute();
    }
    if (rows.length < 5000) break;
  }
  if (head.seal !== null) {
    await db.updateTable("audit_head").set({ seal: headSeal(key, Number(head.count), head.hash, sealedAfter) }).where("id", "=", 1).execute();
  }
  return check;
}

function toEvent(r: Selectable<AuditEventRow>): AuditEvent {
  return {
    seq: Number(r.seq), id: r.id, at: r.at, orgId: r.org_id, actor: r.actor, action: r.action, target: r.target,
    changes: JSON.parse(r.changes) as Record<string, unknown>, requestId: r.request_id, clientIp: r.client_ip, prevHash: r.prev_hash, hash: r.hash,
  };
}
