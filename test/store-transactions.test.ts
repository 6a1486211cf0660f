/**
 * One operation, one transaction, by construction (store/transaction.ts), on every backend: a store
 * call inside `inTransaction` runs in it whether or not it is handed the transaction; a handle
 * taken before the transaction began fails at once instead of waiting on it; nothing waits or
 * holds the database past the statement timeout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newId } from "../src/lib/index.js";
import { StoreUnavailableError } from "../src/errors/index.js";
import { createStore, inTransaction, migrate, openDatabase, type Database, type Store } from "../src/store/index.js";
import { backends, type TestBackend } from "./support/backends.js";

const all = await backends();
const TIMEOUT_MS = 400;

for (const b of all) {
  describe.skipIf(!b.available)(`store transactions on ${b.name}`, () => {
    let backend: TestBackend;
    let database: Database;
    let store: Store;
    const orgId = newId("org");

    beforeAll(async () => {
      backend = await b.create();
      database = openDatabase({ url: backend.url, statementTimeoutMs: TIMEOUT_MS });
      await migrate(database);
      store = createStore(database);
      await store.orgs.insertOrganization({ id: orgId, name: "o", rateLimits: null, spendLimit: null, settings: {}, createdAt: 1 });
    });
    afterAll(async () => {
      await database?.close();
      await backend?.cleanup();
    });

    const invitation = (id: string) => ({
      id, tokenHash: id, orgId, email: `${id}@example.com`, role: "viewer" as const, workspaceIds: null, createdBy: "t", createdAt: 1, expiresAt: 2, acceptedAt: null,
    });

    it("runs a store call that was not handed the transaction inside it, and rolls it back with it", async () => {
      const id = newId("inv");
      const failed = inTransaction(database, async () => {
        await store.users.insertInvitation(invitation(id));
        expect(await store.users.deleteInvitation(id, orgId)).toBe(true);
        await store.users.insertInvitation(invitation(id));
        throw new Error("refused half-way");
      });
      await expect(failed).rejects.toThrow("refused half-way");
      expect(await store.users.getInvitationByHash(id)).toBeNull();
    });

    it("joins an open transaction instead of opening a second one", async () => {
      const id = newId("inv");
      await expect(inTransaction(database, async () => {
        await inTransaction(database, () => store.users.insertInvitation(invitation(id)));
        throw new Error("outer fails");
      })).rejects.toThrow("outer fails");
      expect(await store.users.getInvitationByHash(id)).toBeNull();
    });

    it("refuses at once a handle captured before the transaction began", async () => {
      const root = database.db;
      const started = Date.now();
      await expect(inTransaction(database, () => root.selectFrom("organizations").selectAll().execute())).rejects.toThrow(/inside an open transaction/);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
      expect(await store.orgs.getOrganizationById(orgId)).not.toBeNull();
    });

    it("rolls back a transaction held past the statement timeout and frees the database", async () => {
      const id = newId("inv");
      const started = Date.now();
      const stuck = inTransaction(database, async () => {
        await store.users.insertInvitation(invitation(id));
        await new Promise((r) => setTimeout(r, TIMEOUT_MS * 3));
      });
      await expect(stuck).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 2.5);
      expect(await store.users.getInvitationByHash(id)).toBeNull();
      expect(await store.orgs.getOrganizationById(orgId)).not.toBeNull();
    });

    it.runIf(b.name === "postgres")("ends a statement that runs past the timeout on the server", async () => {
      const { sql } = await import("kysely");
      await expect(sql`select pg_sleep(2)`.execute(database.db)).rejects.toThrow(/statement timeout/);
    });
  });
}

describe("the single SQLite connection", () => {
  it("answers a caller kept waiting past the timeout with StoreUnavailableError, then serves again", async () => {
    const short = openDatabase({ url: ":memory:", statementTimeoutMs: 200 });
    try {
      await migrate(short);
      const store = createStore(short);
      // A caller holding the connection by hand (as a migration would) for longer than the limit.
      let release!: () => void;
      const held = short.db.connection().execute(() => new Promise<void>((r) => (release = r)));
      await new Promise((r) => setTimeout(r, 20));
      const started = Date.now();
      await expect(store.orgs.getOrganization()).rejects.toBeInstanceOf(StoreUnavailableError);
      expect(Date.now() - started).toBeLessThan(1_000);
      release();
      await held;
      expect(await store.orgs.getOrganization()).toBeNull();
    } finally {
      await short.close();
    }
  });
});
