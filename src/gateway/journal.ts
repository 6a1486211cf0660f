import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import type { Logger } from "pino";
import { putUsageValues, usageFromValues, USAGE_VALUES, type Store, type UsageEvent } from "../store/index.js";

/** What a request is known to be before it leaves (its usage event's own fields): enough to charge it if the process dies. */
export type JournalReservation = Pick<UsageEvent, "id" | "at" | "orgId" | "workspaceId" | "keyId" | "provider" | "model" | "endpoint" | "streamed"> & {
  /** The request's cost bound: what the lease rule charges if it never finishes. */
  amountNano: number;
};

/**
 * Waits for its journal line: told once the line is written (or its write failed, which is logged),
 * in the event-loop turn after it was handed over.
 */
export interface JournalWaiter {
  journaled(): void;
}

/**
 * Where the request path hands its usage lines: the usage journal, or `NoJournal` when the gateway
 * runs without one. A line handed over with a waiter is written before the waiter is told.
 */
export interface Journal {
  /**
   * A reservation, before its request leaves; with a waiter, the request leaves when the waiter is
   * told. Answers the reservation's entry, which the request's event closes (`settle`).
   */
  reserve(r: JournalReservation, waiter?: JournalWaiter): number;
  /** The next `settle` waits: the waiter is told once that event's line is written. */
  nextWaits(waiter: JournalWaiter): void;
  /** A finished request's event, before its answer ends; `entry` is its reservation's (`reserve`'s answer), if it had one. */
  settle(e: UsageEvent, entry?: number): void;
  /**
   * Events now in the database (or its spool): no longer the journal's to keep. `waiting` are the
   * events still to be written (the recorder's queue): what a rotation keeps.
   */
  durable(batch: readonly UsageEvent[], waiting: readonly UsageEvent[]): void;
  /** At a clean stop, after the last usage is written. */
  close(): void;
}

/**
 * No journal (a gateway built without a file: embedded, or in tests): nothing is written, and a
 * waiter is told at once, as if its line were on disk, so the request path is the same either way.
 */
export class NoJournal implements Journal {
  private nextWaiter: JournalWaiter | null = null;

  reserve(_r: JournalReservation, waiter?: JournalWaiter): number {
    waiter?.journaled();
    return NO_ENTRY;
  }

  nextWaits(waiter: JournalWaiter): void {
    this.nextWaiter = waiter;
  }

  settle(_e: UsageEvent, _entry?: number): void {
    const waiter = this.nextWaiter;
    this.nextWaiter = null;
    waiter?.journaled();
  }

  durable(): void {}

  close(): void {}
}

/** `settle`'s entry for an event that had no reservation. */
export const NO_ENTRY = -1;

/** Rewritten (open reservations and unwritten events only) once it grows past this. */
const ROTATE_BYTES = 8 * 1024 * 1024;

/**
 * Durable metering on one node: an append-only file in the data directory. A reservation line is
 * written before a request leaves, its usage event when it finishes (before the event waits in the
 * recorder's batch), so a crash loses neither. Lines go out with write(2) on an O_APPEND file: a
 * killed process loses nothing the kernel has, so no fsync on the request path (a power cut may
 * lose the last moments; the usage spool, written rarely, is fsynced). A line handed over with a
 * waiter is group-committed: the lines of one event-loop turn go out in one write(2) at the next
 * turn (setImmediate), and only then are their waiters told, so the request that waits (its upstream
 * call, or the end of its answer) still goes after its line is on disk; a write(2) costs about as
 * much for eight lines as for one. A line without a waiter is written at once, after the lines
 * still waiting, so the file keeps the order lines were handed over in. `recoverJournal` runs at
 * start: every finished request's event is written (ids are request ids, so an event already
 * stored counts once) and every reservation that never finished is charged in full under its
 * request id with error code `lease_expired`: the lease rule of budget.ts, applied at once since
 * the process that held the lease is known to be gone.
 */
export class UsageJournal implements Journal {
  private fd: number;
  private bytes = 0;
  /**
   * Open reservations, for a rotation to write again: each in an entry of its own, which `reserve`
   * answers and the event's `settle` frees. Kept as the objects rather than their lines (a line kept
   * here lived long enough to be promoted, and left the old generation to collect: about 700 bytes a
   * request), and in entries rather than a map keyed by request id (a map that gains and loses an
   * entry every request rebuilds its table in the old generation every few dozen requests). The
   * events not yet durable the recorder holds anyway, and hands over with each `durable`.
   */
  private readonly open: (JournalReservation | null)[] = [];
  private readonly freeEntries: number[] = [];
  private openCount = 0;
  /** Events settled here and not yet durable. */
  private unwritten = 0;
  private failed = false;
  /** Lines handed over with a waiter this turn, not yet written. */
  private batch = "";
  private waiters: JournalWaiter[] = [];
  private scheduled = false;
  private nextWaiter: JournalWaiter | null = null;

  constructor(private readonly file: string, private readonly logger: Logger, private readonly rotateBytes = ROTATE_BYTES) {
    this.fd = openSync(file, "a");
  }

  /** A reservation, before its request leaves; with a waiter, the request leaves when the waiter is told. */
  reserve(r: JournalReservation, waiter?: JournalWaiter): number {
    const entry = this.freeEntries.pop() ?? this.open.length;
    this.open[entry] = r;
    this.openCount++;
    this.write(reservationLine(r), waiter);
    return entry;
  }

  /**
   * The next `settle` waits: its line goes out with this turn's others, and the waiter (whose
   * answer ends once told) is told after the write.
   */
  nextWaits(waiter: JournalWaiter): void {
    this.nextWaiter = waiter;
  }

  /** A finished request's event, before its answer ends: written at once, unless `nextWaits` named a waiter. */
  settle(e: UsageEvent, entry = NO_ENTRY): void {
    const waiter = this.nextWaiter ?? undefined;
    this.nextWaiter = null;
    // The id check makes a second settle of the same entry (or a stale one) change nothing.
    if (entry >= 0 && this.open[entry]?.id === e.id) {
      this.open[entry] = null;
      this.freeEntries.push(entry);
      this.openCount--;
    }
    this.unwritten++;
    this.write(eventLine(e), waiter);
  }

  /** Writes this turn's lines in one write(2), then tells their waiters. */
  commit(): void {
    this.scheduled = false;
    if (this.batch) {
      this.append(this.batch);
      this.batch = "";
    }
    const told = this.waiters;
    this.waiters = [];
    for (const w of told) {
      try {
        w.journaled();
      } catch (err) {
        this.logger.error({ err }, "a request waiting for the usage journal failed");
      }
    }
  }

  /** Events now in the database (or its spool): no longer the journal's to keep. */
  durable(batch: readonly UsageEvent[], waiting: readonly UsageEvent[]): void {
    this.unwritten -= batch.length;
    if (this.bytes > this.rotateBytes) this.rotate(waiting);
  }

  /** After a clean stop nothing is left to recover, and the file goes. */
  close(): void {
    this.commit();
    closeSync(this.fd);
    if (this.openCount === 0 && this.unwritten <= 0 && !this.failed) unlinkSync(this.file);
  }

  private write(line: string, waiter: JournalWaiter | undefined): void {
    if (waiter) {
      this.batch += line;
      this.waiters.push(waiter);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(commitTurn, this);
      }
      return;
    }
    // Written at once, behind the lines still waiting for this turn's write.
    if (this.batch) {
      line = this.batch + line;
      this.batch = "";
    }
    this.append(line);
  }

  private append(line: string): void {
    try {
      this.bytes += writeSync(this.fd, line);
      if (this.failed) this.logger.info({ file: this.file }, "the usage journal is written again");
      this.failed = false;
    } catch (err) {
      if (!this.failed) this.logger.error({ err, file: this.file }, "cannot write the usage journal: a crash now would lose in-flight usage");
      this.failed = true;
    }
  }

  /** Replaces the file by one that holds only what is still needed (written aside, then renamed over it). */
  private rotate(waiting: readonly UsageEvent[]): void {
    const next = `${this.file}.next`;
    try {
      const fd = openSync(next, "w");
      try {
        let text = "";
        for (const r of this.open) if (r) text += reservationLine(r);
        for (const e of waiting) text += eventLine(e);
        this.bytes = text.length ? writeSync(fd, text) : 0;
      } finally {
        closeSync(fd);
      }
      renameSync(next, this.file);
      closeSync(this.fd);
      this.fd = openSync(this.file, "a");
      // The lines waiting for this turn's write are in the new file already (those still needed).
      this.batch = "";
    } catch (err) {
      this.logger.error({ err, file: this.file }, "cannot rotate the usage journal; it keeps growing");
    }
  }
}

/*
 * A line is a JSON array, its first element a tag: ["r", <reservation's fields>] or ["e", <the event's
 * column values>] (as the usage store takes them, store/usage.ts). Positional lines are about 40% of
 * the bytes of keyed objects and take half the time to write; JSON still escapes what needs it.
 * Files written before kept one object a line ({"r": {...}} or {"e": {...}}): readJournal reads both.
 */
function reservationLine(r: JournalReservation): string {
  return `${JSON.stringify(["r", r.id, r.at, r.orgId, r.workspaceId, r.keyId, r.provider, r.model, r.endpoint, r.streamed ? 1 : 0, r.amountNano])}\n`;
}

function reservationFrom(v: readonly unknown[]): JournalReservation {
  return {
    id: v[1] as string, at: v[2] as number, orgId: v[3] as string, workspaceId: v[4] as string, keyId: v[5] as string,
    provider: v[6] as string, model: v[7] as string, endpoint: v[8] as string, streamed: v[9] === 1, amountNano: v[10] as number,
  };
}

function eventLine(e: UsageEvent): string {
  const v: unknown[] = new Array(1 + USAGE_VALUES);
  v[0] = "e";
  putUsageValues(e, v, 1);
  return `${JSON.stringify(v)}\n`;
}

function commitTurn(j: UsageJournal): void {
  j.commit();
}

/** What a journal left by a previous process held: events to write, reservations to charge. */
export function readJournal(file: string): { events: UsageEvent[]; unreadable: number } {
  if (!existsSync(file)) return { events: [], unreadable: 0 };
  const reserved = new Map<string, JournalReservation>();
  const finished = new Map<string, UsageEvent>();
  let unreadable = 0;
  for (const text of readFileSync(file, "utf8").split("\n")) {
    if (!text) continue;
    try {
      const line = JSON.parse(text) as unknown[] | { r?: JournalReservation; e?: UsageEvent };
      if (Array.isArray(line)) {
        if (line[0] === "r" && line.length === 11) reserved.set(line[1] as string, reservationFrom(line));
        else if (line[0] === "e" && line.length === 1 + USAGE_VALUES) finished.set(line[1] as string, usageFromValues(line, 1));
        else unreadable++;
      } else {
        if (line.r) reserved.set(line.r.id, line.r);
        if (line.e) finished.set(line.e.id, line.e);
      }
    } catch {
      unreadable++; // the line being appended when the process died
    }
  }
  const events = [...finished.values()];
  for (const r of reserved.values()) {
    if (finished.has(r.id)) continue;
    events.push({
      id: r.id, at: r.at, orgId: r.orgId, workspaceId: r.workspaceId, keyId: r.keyId, provider: r.provider, model: r.model, endpoint: r.endpoint,
      inputTokens: 0, outputTokens: 0, cacheWriteTokens: 0, cacheReadTokens: 0, costNano: r.amountNano, status: 0, errorCode: "lease_expired",
      streamed: r.streamed, aborted: true, latencyMs: 0, ttfbMs: null,
    });
  }
  return { events, unreadable };
}

/**
 * Settles what a dead process left in its journal, before this one serves: writes the events in
 * bounded transactions, then removes the file. A store that cannot take them leaves the file for
 * the next start (and the error in the log).
 */
export async function recoverJournal(file: string, store: Store, logger: Logger): Promise<{ events: number; charged: number }> {
  const { events, unreadable } = readJournal(file);
  if (!existsSync(file)) return { events: 0, charged: 0 };
  for (let i = 0; i < events.length; i += 1_000) await store.usage.insertMany(events.slice(i, i + 1_000));
  unlinkSync(file);
  const charged = events.filter((e) => e.errorCode === "lease_expired").length;
  if (events.length || unreadable) logger.warn({ events: events.length, chargedByLease: charged, unreadable }, "usage journal of a previous run recovered");
  return { events: events.length, charged };
}
