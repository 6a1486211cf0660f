import { appendFileSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { describe, expect, it } from "vitest";
import type { UsageEvent } from "../store/index.js";
import { readJournal, UsageJournal, type JournalReservation } from "./journal.js";

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
    j.reserve(reservation("req_a"));
    j.reserve(reservation("req_b"));
    j.settle(event("req_a"));
    j.settle(event("req_c")); // a refusal: recorded, never reserved
    appendFileSync(file, '{"e":{"id":"req_torn","at":'); // the line being written when the process died
    const { events, unreadable } = readJournal(file);
    expect(unreadable).toBe(1);
    expect(events.map((e) => [e.id, e.costNano, e.errorCode]).sort()).toEqual([["req_a", 7, null], ["req_b", 500, "lease_expired"], ["req_c", 7, null]]);
  });

  it("rotates down to what is still open or unwritten, and forgets nothing it still needs", () => {
    const file = join(mkdtempSync(join(tmpdir(), "latchkey-journal-")), "j.jsonl");
    const j = new UsageJournal(file, pino({ level: "silent" }), 4_096);
    j.reserve(reservation("req_open"));
    for (let i = 0; i < 100; i++) {
      j.reserve(reservation(`req_${i}`));
      j.settle(event(`req_${i}`));
    }
    j.settle(event("req_unwritten"));
    j.durable(Array.from({ length: 100 }, (_, i) => event(`req_${i}`)));
    expect(statSync(file).size).toBeLessThan(4_096);
    const ids = readJournal(file).events.map((e) => e.id).sort();
    expect(ids).toEqual(["req_open", "req_unwritten"]);
    j.settle(event("req_open"));
    j.durable([event("req_open"), event("req_unwritten")]);
    j.close();
    expect(readJournal(file).events).toEqual([]);
  });
});
