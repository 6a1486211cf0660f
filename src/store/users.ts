import type { Kysely, Selectable } from "kysely";
import type { Database } from "./database.js";
import { parseJson, toJson } from "./json.js";
import type { Tables } from "./schema.js";

export interface UserRow {
  id: string;
  org_id: string;
  email: string;
  name: string;
  password_hash: string;
  role: string;
  workspace_ids: string | null;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}

export interface UserSessionRow {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  client_ip: string | null;
  user_agent: string | null;
}

export interface UserInvitationRow {
  id: string;
  token_hash: string;
  org_id: string;
  email: string;
  role: string;
  workspace_ids: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  accepted_at: number | null;
}

declare module "./schema.js" {
  interface Tables {
    users: UserRow;
    user_sessions: UserSessionRow;
    user_invitations: UserInvitationRow;
  }
}

export const USER_ROLES = ["owner", "admin", "developer", "billing", "viewer"] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface User {
  id: string;
  orgId: string;
  /** Lower-cased. */
  email: string;
  name: string;
  passwordHash: string;
  role: UserRole;
  /** The workspaces a developer may act in; null for every other role. */
  workspaceIds: string[] | null;
  createdAt: number;
  updatedAt: number;
  lastSignInAt: number | null;
}

export interface UserSession {
  id: string;
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  clientIp: string | null;
  userAgent: string | null;
}

export interface UserInvitation {
  id: string;
  tokenHash: string;
  orgId: string;
  email: string;
  role: UserRole;
  workspaceIds: string[] | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
}

export type UserChanges = Partial<Pick<User, "name" | "role" | "workspaceIds" | "passwordHash" | "lastSignInAt">> & { updatedAt: number };

/** Console users, their sessions (by token hash) and invitations (by token hash). */
export class UserStore {
  constructor(private readonly database: Database) {}

  async insert(u: User, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("users").values({
      id: u.id, org_id: u.orgId, email: u.email, name: u.name, password_hash: u.passwordHash, role: u.role,
      workspace_ids: toJson(u.workspaceIds), created_at: u.createdAt, updated_at: u.updatedAt, last_sign_in_at: u.lastSignInAt,
    }).execute();
  }

  async getById(id: string, db: Kysely<Tables> = this.database.db): Promise<User | null> {
    const row = await db.selectFrom("users").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async getByEmail(email: string, db: Kysely<Tables> = this.database.db): Promise<User | null> {
    const row = await db.selectFrom("users").selectAll().where("email", "=", email.toLowerCase()).executeTakeFirst();
    return row ? toUser(row) : null;
  }

  async list(orgId: string): Promise<User[]> {
    const rows = await this.database.db.selectFrom("users").selectAll().where("org_id", "=", orgId).orderBy("created_at").execute();
    return rows.map(toUser);
  }

  async countByRole(role: UserRole, db: Kysely<Tables> = this.database.db): Promise<number> {
    const r = await db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).where("role", "=", role).executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async update(id: string, c: UserChanges, db: Kysely<Tables> = this.database.db): Promise<void> {
    const set: Partial<UserRow> = { updated_at: c.updatedAt };
    if (c.name !== undefined) set.name = c.name;
    if (c.role !== undefined) set.role = c.role;
    if (c.workspaceIds !== undefined) set.workspace_ids = toJson(c.workspaceIds);
    if (c.passwordHash !== undefined) set.password_hash = c.passwordHash;
    if (c.lastSignInAt !== undefined) set.last_sign_in_at = c.lastSignInAt;
    await db.updateTable("users").set(set).where("id", "=", id).execute();
  }

  async delete(id: string, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.deleteFrom("user_sessions").where("user_id", "=", id).execute();
    await db.deleteFrom("users").where("id", "=", id).execute();
  }

  async insertSession(s: UserSession, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("user_sessions").values({
      id: s.id, token_hash: s.tokenHash, user_id: s.userId, created_at: s.createdAt, last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt, client_ip: s.clientIp, user_agent: s.userAgent,
    }).execute();
  }

  async getSessionByHash(tokenHash: string): Promise<UserSession | null> {
    const row = await this.database.db.selectFrom("user_sessions").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return row ? toSession(row) : null;
  }

  async touchSession(id: string, at: number): Promise<void> {
    await this.database.db.updateTable("user_sessions").set({ last_seen_at: at }).where("id", "=", id).execute();
  }

  async deleteSession(id: string): Promise<void> {
    await this.database.db.deleteFrom("user_sessions").where("id", "=", id).execute();
  }

  /** Signs a user out everywhere; answers how many sessions ended. */
  async deleteSessionsOf(userId: string, db: Kysely<Tables> = this.database.db): Promise<number> {
    const r = await db.deleteFrom("user_sessions").where("user_id", "=", userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpiredSessions(now: number): Promise<void> {
    await this.database.db.deleteFrom("user_sessions").where("expires_at", "<=", now).execute();
  }

  async insertInvitation(i: UserInvitation, db: Kysely<Tables> = this.database.db): Promise<void> {
    await db.insertInto("user_invitations").values({
      id: i.id, token_hash: i.tokenHash, org_id: i.orgId, email: i.email, role: i.role, workspace_ids: toJson(i.workspaceIds),
      created_by: i.createdBy, created_at: i.createdAt, expires_at: i.expiresAt, accepted_at: i.acceptedAt,
    }).execute();
  }

  async getInvitationByHash(tokenHash: string, db: Kysely<Tables> = this.database.db): Promise<UserInvitation | null> {
    const row = await db.selectFrom("user_invitations").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    return row ? toInvitation(row) : null;
  }

  async listPendingInvitations(orgId: string, now: number): Promise<UserInvitation[]> {
    const rows = await this.database.db.selectFrom("user_invitations").selectAll().where("org_id", "=", orgId)
      .where("accepted_at", "is", null).where("expires_at", ">", now).orderBy("created_at", "desc").execute();
    return rows.map(toInvitation);
  }

  /** Marks an invitation used; false when another request used it first. */
  async acceptInvitation(id: string, at: number, db: Kysely<Tables> = this.database.db): Promise<boolean> {
    const r = await db.updateTable("user_invitations").set({ accepted_at: at }).where("id", "=", id).where("accepted_at", "is", null).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async deleteInvitation(id: string, orgId: string, db: Kysely<Tables> = this.database.db): Promise<boolean> {
    const r = await db.deleteFrom("user_invitations").where("id", "=", id).where("org_id", "=", orgId).executeTakeFirst();
    return Number(r.numDeletedRows) === 1;
  }
}

function toUser(r: Selectable<UserRow>): User {
  return {
    id: r.id, orgId: r.org_id, email: r.email, name: r.name, passwordHash: r.password_hash, role: r.role as UserRole,
    workspaceIds: parseJson<string[]>(r.workspace_ids), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
    lastSignInAt: r.last_sign_in_at == null ? null : Number(r.last_sign_in_at),
  };
}

function toSession(r: Selectable<UserSessionRow>): UserSession {
  return {
    id: r.id, tokenHash: r.token_hash, userId: r.user_id, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at),
    expiresAt: Number(r.expires_at), clientIp: r.client_ip, userAgent: r.user_agent,
  };
}

function toInvitation(r: Selectable<UserInvitationRow>): UserInvitation {
  return {
    id: r.id, tokenHash: r.token_hash, orgId: r.org_id, email: r.email, role: r.role as UserRole, workspaceIds: parseJson<string[]>(r.workspace_ids),
    createdBy: r.created_by, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at), acceptedAt: r.accepted_at == null ? null : Number(r.accepted_at),
  };
}
