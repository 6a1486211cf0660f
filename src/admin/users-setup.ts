import { randomBytes } from "node:crypto";
import { safeEqual, sha256Hex } from "../lib/index.js";
import type { Kysely } from "kysely";
import type { Tables } from "../store/index.js";
import type { AdminServices } from "./services.js";

const SETUP_KEY = "console.setup_token_hash";

/**
 * While no owner exists, makes a fresh one-time setup token (only its hash is kept; a restart
 * replaces it) and answers the console link that uses it. Answers null once an owner exists.
 * The link is absolute when the public URL is configured, else a path on this server.
 */
export async function ensureOwnerSetupLink(s: AdminServices): Promise<string | null> {
  if ((await s.store.users.countByRole("owner")) > 0) return null;
  const token = randomBytes(24).toString("base64url");
  await s.store.kv.set(SETUP_KEY, sha256Hex(token), s.clock.now());
  const path = `/console/setup?token=${token}`;
  return s.config.publicUrl ? new URL(path, s.config.publicUrl).toString() : path;
}

export async function setupTokenMatches(s: AdminServices, token: string): Promise<boolean> {
  const stored = await s.store.kv.get(SETUP_KEY);
  return !!stored && safeEqual(stored, sha256Hex(token));
}

/**
 * Uses the token up inside the transaction that creates the first owner: one conditional update,
 * so of two sign-ups racing with the same link (on one node or several) exactly one succeeds.
 */
export async function consumeSetupToken(s: AdminServices, token: string, trx: Kysely<Tables>): Promise<boolean> {
  const r = await trx.updateTable("kv").set({ value: "", updated_at: s.clock.now() })
    .where("key", "=", SETUP_KEY).where("value", "=", sha256Hex(token)).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}
