import type { Kysely, Selectable } from "kysely";
import { canonicalJson, sha256Hex } from "../lib/index.js";
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
  /** The first record whose link is broken, and why. */
  brokenAt?: { seq: number; id: string; reason: string };
}

/** The hash of one audit record: SHA-256 of the previous hash and the record's canonical JSON. */
export function auditHash(prevHash: string, e: NewAuditEvent): string {
  return sha256Hex(`${prevHash}\n${canonicalJson({
    id: e.id, at: e.at, org_id: e.orgId, actor: e.actor, action: e.action, target: e.target,
    changes: e.changes, request_id: e.requestId, client_ip: e.clientIp,
  })}`);
}

/** The append-only, hash-chained audit log. */
export class AuditStore {
  constructor(private readonly database: Database) {}

  /** Appends inside the caller's transaction, so the change and its record commit together. */
  async append(e: NewAuditEvent, trx: Kysely<Tables>): Promise<AuditEvent> {
    let head = trx.selectFrom("audit_head").selectAll().where("id", "=", 1);
    if (this.database.dialect === "postgres") head = head.forUpdate();
    const { hash: prevHash, count } = await head.executeTakeFirstOrThrow();
    const hash = auditHash(prevHash, e);
    await trx.insertInto("audit_events").values({
      id: e.id, at: e.at, org_id: e.orgId, actor: e.actor, action: e.action, target: e.target,
      changes: JSON.stringify(e.changes), request_id: e.requestId, client_ip: e.clientIp, prev_hash: prevHash, hash,
    }).execute();
    await trx.updateTable("audit_head").set({ hash, count: Number(count) + 1 }).where("id", "=", 1).execute();
    return { ...e, seq: Number(count) + 1, prevHash, hash };
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

  /** Walks the whole chain; reports the first record that was altered, removed or inserted. */
  async verify(): Promise<ChainCheck> {
    const db = this.database.db;
    let prev = GENESIS_HASH;
    let count = 0;
    let lastSeq = 0;
    const batch = 5000;
    for (;;) {
      const rows = await db.selectFrom("audit_events").selectAll().where("seq", ">", lastSeq).orderBy("seq").limit(batch).execute();
      for (const row of rows) {
        const e = toEvent(row);
        if (e.prevHash !== prev) return { ok: false, count, brokenAt: { seq: e.seq, id: e.id, reason: "its link to the previous record is broken (a record before it was removed or altered)" } };
        if (auditHash(prev, e) !== e.hash) return { ok: false, count, brokenAt: { seq: e.seq, id: e.id, reason: "its content does not match its hash (the record was altered)" } };
        prev = e.hash;
        count++;
        lastSeq = e.seq;
      }
      if (rows.length < batch) break;
    }
    const head = await db.selectFrom("audit_head").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
    if (head.hash !== prev || Number(head.count) !== count) {
      return { ok: false, count, brokenAt: { seq: lastSeq + 1, id: "(end of log)", reason: `the log ends early: ${Number(head.count) - count} record(s) at the end were removed` } };
    }
    return { ok: true, count };
  }
}

function toEvent(r: Selectable<AuditEventRow>): AuditEvent {
  return {
    seq: Number(r.seq), id: r.id, at: r.at, orgId: r.org_id, actor: r.actor, action: r.action, target: r.target,
    changes: JSON.parse(r.changes) as Record<string, unknown>, requestId: r.request_id, clientIp: r.client_ip, prevHash: r.prev_hash, hash: r.hash,
  };
}
