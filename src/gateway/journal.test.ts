import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { UsageEvent } from "../store/index.js";
import { NoJournal, readJournal, UsageJournal, type JournalReservation } from "./journal.js";

const reservation = (id: string): JournalReservation => ({
  id, at: 1, orgId: "org_1", workspaceId: "wrk_1", keyId: "key_1", provider: "anthropic", model: "m", endpoint: "messages", streamed: true, amountNano: 500,
});
const event = (id: string): UsageEvent => ({
  id, at: 1, orgId: "org_1", workspaceId: "wrk_1", keyId: "key_1", provider: "anthropic", model: "m", endpoint: "messages", inputTokens: 1, outputTokens: 2,
  cacheWriteTokens: 0, cacheReadTokens: 0, costNano: 7, status: 200, errorCode: null, streamed: false, aborted: false, latencyMs: 1, ttfbMs: 1,
});

describe("usage journal", () => {
  it("gives back finished events and charges open reservations their bound; a torn last line is skipped", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }));
    const a = j.reserve(reservation("req_a"));
    j.reserve(reservation("req_b"));
    j.settle(event("req_a"), a);
    j.settle(event("req_c")); // a refusal: recorded, never reserved
    appendFileSync(file, '["e","req_torn",1,'); // the line being written when the process died
    const { events, unreadable } = readJournal(file);
    expect(unreadable).toBe(1);
    expect(events.map((e) => [e.id, e.costNano, e.errorCode]).sort()).toEqual([["req_a", 7, null], ["req_b", 500, "lease_expired"], ["req_c", 7, null]]);
  });

  it("rotates down to what is still open or unwritten, and forgets nothing it still needs", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }), 4_096);
    const open = j.reserve(reservation("req_open"));
    const entries = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const entry = j.reserve(reservation(`req_${i}`));
      entries.add(entry);
      j.settle(event(`req_${i}`), entry);
      j.settle(event(`req_${i}`), entry); // a second settle of the same entry frees nothing more
    }
    expect([...entries]).toEqual([1]); // a settled entry is taken again by the next reservation
    const unwritten = event("req_unwritten");
    j.settle(unwritten);
    j.durable(Array.from({ length: 100 }, (_, i) => event(`req_${i}`)), [unwritten]);
    expect(statSync(file).size).toBeLessThan(4_096);
    const ids = readJournal(file).events.map((e) => e.id).sort();
    expect(ids).toEqual(["req_open", "req_unwritten"]);
    j.settle(event("req_open"), open);
    j.durable([event("req_open")], [unwritten]);
    j.close();
    // Recovery writes what the file still holds; an id already stored counts once.
    expect(readJournal(file).events.map((e) => e.id).sort(), "an event not yet durable keeps the file").toEqual(["req_open", "req_unwritten"]);
  });

  it("removes its file at a clean stop only when nothing is open or unwritten", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }));
    const entry = j.reserve(reservation("req_a"));
    j.settle(event("req_a"), entry);
    j.settle(event("req_b"));
    j.durable([event("req_a"), event("req_b")], []);
    j.close();
    expect(existsSync(file)).toBe(false);
    const kept = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const k = new UsageJournal(kept, pino({ level: "silent" }));
    k.reserve(reservation("req_never_finished"));
    k.close();
    expect(readJournal(kept).events.map((e) => [e.id, e.errorCode])).toEqual([["req_never_finished", "lease_expired"]]);
  });

  it("group-commits the lines of a turn: a waiter is told only once its line is in the file, and order is kept", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }));
    const ids = () => readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as [string, string]);
    const told: string[][] = [];
    const waiter = (name: string) => ({ journaled: () => told.push([name, ...ids().map(([tag, id]) => `${tag} ${id}`)]) });
    j.reserve(reservation("req_a"), waiter("a"));
    j.reserve(reservation("req_b"), waiter("b"));
    j.nextWaits(waiter("a done"));
    j.settle(event("req_a"));
    expect(statSync(file).size).toBe(0); // nothing written yet: the turn's lines wait for one write
    expect(told).toEqual([]);
    await new Promise((r) => setImmediate(r));
    const all = ["r req_a", "r req_b", "e req_a"];
    expect(told).toEqual([["a", ...all], ["b", ...all], ["a done", ...all]]);
    // A line without a waiter goes at once, behind the lines still waiting.
    j.reserve(reservation("req_c"), waiter("c"));
    j.settle(event("req_d"));
    expect(ids().slice(3).map(([, id]) => id)).toEqual(["req_c", "req_d"]);
    await new Promise((r) => setImmediate(r));
    expect(told.map((t) => t[0])).toEqual(["a", "b", "a done", "c"]);
    expect(readJournal(file).events.map((e) => e.id).sort()).toEqual(["req_a", "req_b", "req_c", "req_d"]);
  });

  it("reads back every field of what it wrote, text that needs escaping included", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }));
    const full: UsageEvent = {
      ...event("req_full"), model: 'a "quoted"\nmodel\u0001', errorCode: "upstream_error", streamed: true, aborted: true, ttfbMs: null,
      costNano: 123_456_789_012, deployment: "cred_x", attempts: 3,
    };
    const open: JournalReservation = { ...reservation("req_open"), model: "m\\n", streamed: false, amountNano: 9_007_199_254_740 };
    j.reserve(open);
    j.reserve(reservation("req_full"));
    j.settle(full);
    const { events, unreadable } = readJournal(file);
    expect(unreadable).toBe(0);
    expect(events.find((e) => e.id === "req_full")).toEqual(full);
    expect(events.find((e) => e.id === "req_open")).toMatchObject({ model: "m\\n", streamed: false, costNano: 9_007_199_254_740, errorCode: "lease_expired" });
  });

  it("still reads a journal written in the earlier one-object-a-line format, and counts a line it cannot place", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    appendFileSync(file, `${JSON.stringify({ r: reservation("req_old_open") })}\n${JSON.stringify({ r: reservation("req_old") })}\n`);
    appendFileSync(file, `${JSON.stringify({ e: event("req_old") })}\n["x","req_unknown"]\n`);
    const j = new UsageJournal(file, pino({ level: "silent" }));
    j.settle(event("req_new"));
    const { events, unreadable } = readJournal(file);
    expect(unreadable).toBe(1);
    expect(events.map((e) => [e.id, e.costNano, e.errorCode]).sort()).toEqual([["req_new", 7, null], ["req_old", 7, null], ["req_old_open", 500, "lease_expired"]]);
  });

  it("without a journal, tells each waiter once and at once, and only the event it waits for", () => {
    const j = new NoJournal();
    const told: string[] = [];
    const waiter = (name: string) => ({ journaled: () => told.push(name) });
    j.reserve(reservation("req_a"), waiter("reserved"));
    expect(told).toEqual(["reserved"]);
    j.reserve(reservation("req_b"));
    j.nextWaits(waiter("finished"));
    j.settle(event("req_a"));
    j.settle(event("req_b")); // nobody waits for this one
    expect(told).toEqual(["reserved", "finished"]);
  });
});
