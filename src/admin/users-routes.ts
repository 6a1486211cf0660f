import { randomBytes } from "node:crypto";
import { z } from "zod";
import { AppError, NotFoundError } from "../errors/index.js";
import { newId, sha256Hex, toIso } from "../lib/index.js";
import { USER_ROLES, type User, type UserInvitation, type UserRole } from "../store/index.js";
import { audited } from "./audit.js";
import { within } from "./authorize.js";
import { roleExcess } from "./ceiling.js";
import { defineRoute, type Principal, type RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";
import { checkOrigin } from "./sessions.js";
import { presentUser, signedIn } from "./sessions-routes.js";
import { hashPassword } from "./users-passwords.js";
import { principalForUser } from "./users-roles.js";
import { disableKeysBeyond } from "./users-keys.js";
import { consumeSetupToken, setupTokenMatches } from "./users-setup.js";

const INVITATION_TTL_MS = 7 * 24 * 3600_000;
const email = z.email().max(320).transform((e) => e.toLowerCase());
const password = z.string().min(10, "use at least 10 characters").max(200);
const name = z.string().trim().min(1).max(200);
const workspaceIds = z.array(z.string().max(64)).max(500).nullable();

function presentInvitation(i: UserInvitation) {
  return {
    id: i.id, object: "invitation", email: i.email, role: i.role, workspace_ids: i.workspaceIds, created_by: i.createdBy,
    created_at: toIso(i.createdAt), expires_at: toIso(i.expiresAt), accepted_at: toIso(i.acceptedAt),
  };
}

async function checkWorkspaces(s: AdminServices, orgId: string, ids: string[] | null | undefined): Promise<void> {
  for (const id of ids ?? []) {
    const ws = await s.store.orgs.getWorkspace(id);
    if (!ws || ws.orgId !== orgId) throw new AppError("invalid_request", `no workspace ${id}`);
  }
}

/** The ceiling for people: nobody makes, changes, removes or invites a role above their own power. */
function guardRole(p: Principal, role: UserRole): void {
  within(roleExcess(p, role));
}

async function ownUser(s: AdminServices, p: Principal, id: string): Promise<User> {
  const u = await s.store.users.getById(id);
  if (!u || u.orgId !== p.orgId) throw new NotFoundError("user");
  return u;
}

async function newUser(s: AdminServices, orgId: string, f: { email: string; name: string; password: string; role: UserRole; workspaceIds: string[] | null }): Promise<User> {
  if (await s.store.users.getByEmail(f.email)) throw new AppError("conflict", `a user with the email ${f.email} already exists`);
  const now = s.clock.now();
  return {
    id: newId("usr", now), orgId, email: f.email, name: f.name, passwordHash: await hashPassword(f.password), role: f.role,
    workspaceIds: f.role === "developer" ? (f.workspaceIds ?? []) : null, createdAt: now, updatedAt: now, lastSignInAt: null,
  };
}

export const userRoutes: RouteDef[] = [
  defineRoute({
    method: "GET", path: "/api/v1/setup", tag: "users", summary: "Whether the console still needs its first owner",
    handler: async ({ services: s }) => ({ body: { needs_owner: (await s.store.users.countByRole("owner")) === 0 } }),
  }),
  defineRoute({
    method: "POST", path: "/api/v1/setup", tag: "users", summary: "Create the first owner with the one-time link printed by `latchkey up`; signs them in",
    body: z.strictObject({ token: z.string().min(1).max(200), email, password, name: name.optional() }),
    handler: async ({ body, ip, headers, actor, services: s }) => {
      checkOrigin(s, headers);
      if ((await s.store.users.countByRole("owner")) > 0) throw new AppError("conflict", "the console already has an owner; sign in instead");
      if (!(await setupTokenMatches(s, body.token))) throw new AppError("forbidden", "this setup link is not valid; use the newest link printed by `latchkey up`");
      const org = await s.store.orgs.getOrganization();
      if (!org) throw new NotFoundError("organization");
      const user = await newUser(s, org.id, { email: body.email, name: body.name ?? body.email, password: body.password, role: "owner", workspaceIds: null });
      await audited(s, { ...actor, id: user.id, orgId: org.id }, "user.created", user.id, { email: user.email, role: "owner", via: "setup" }, async (trx) => {
        if (!(await consumeSetupToken(s, body.token, trx))) throw new AppError("conflict", "this setup link was just used; sign in instead");
        await s.store.users.insert(user, trx);
      });
      return signedIn(s, user, ip, headers, 201);
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/users", tag: "users", summary: "Console users and their roles",
    handler: async ({ principal, services: s }) => ({ body: { data: (await s.store.users.list(principal.orgId)).map(presentUser), has_more: false } }),
  }),
  defineRoute({
    method: "PATCH", path: "/api/v1/users/:id", tag: "users", summary: "Change a user's name, role or workspaces",
    body: z.strictObject({ name: name.optional(), role: z.enum(USER_ROLES).optional(), workspace_ids: workspaceIds.optional() }),
    handler: async ({ params, body, principal, actor, services: s }) => {
      const u = await ownUser(s, principal, params.id!);
      guardRole(principal, u.role);
      const role = body.role ?? u.role;
      guardRole(principal, role);
      if (u.role === "owner" && role !== "owner" && (await s.store.users.countByRole("owner")) <= 1) throw new AppError("conflict", "the organization needs at least one owner");
      await checkWorkspaces(s, principal.orgId, body.workspace_ids);
      const ws = role === "developer" ? (body.workspace_ids !== undefined ? (body.workspace_ids ?? []) : (u.workspaceIds ?? [])) : null;
      await audited(s, actor, "user.updated", u.id, body as Record<string, unknown>, (trx) =>
        s.store.users.update(u.id, { name: body.name, role, workspaceIds: ws, updatedAt: s.clock.now() }, trx));
      const updated = (await s.store.users.getById(u.id))!;
      await disableKeysBeyond(s, u.id, u.orgId, principalForUser(updated), actor);
      return { body: presentUser(updated) };
    },
  }),
  defineRoute({
    method: "DELETE", path: "/api/v1/users/:id", tag: "users", summary: "Remove a user and end their sessions",
    handler: async ({ params, principal, actor, services: s }) => {
      const u = await ownUser(s, principal, params.id!);
      guardRole(principal, u.role);
      if (u.role === "owner" && (await s.store.users.countByRole("owner")) <= 1) throw new AppError("conflict", "the organization needs at least one owner");
      await audited(s, actor, "user.deleted", u.id, { email: u.email }, (trx) => s.store.users.delete(u.id, trx));
      const keys = await disableKeysBeyond(s, u.id, u.orgId, null, actor);
      return { body: { id: u.id, deleted: true, disabled_keys: keys } };
    },
  }),
  defineRoute({
    method: "GET", path: "/api/v1/users/invitations", tag: "users", summary: "Invitations not yet accepted",
    handler: async ({ principal, services: s }) => ({ body: { data: (await s.store.users.listPendingInvitations(principal.orgId, s.clock.now())).map(presentInvitation), has_more: false } }),
  }),
  defineRoute({
    method: "POST", path: "/api/v1/users/invitations", tag: "users", summary: "Invite someone: answers a one-time link (no mail is sent)",
    body: z.strictObject({ email, role: z.enum(USER_ROLES), workspace_ids: workspaceIds.optional() }),
    handler: async ({ body, principal, actor, services: s }) => {
      guardRole(principal, body.role);
      await checkWorkspaces(s, principal.orgId, body.workspace_ids);
      if (await s.store.users.getByEmail(body.email)) throw new AppError("conflict", `${body.email} already has an account`);
      const now = s.clock.now();
      const token = randomBytes(24).toString("base64url");
      const inv: UserInvitation = {
        id: newId("inv", now), tokenHash: sha256Hex(token), orgId: principal.orgId, email: body.email, role: body.role,
        workspaceIds: body.role === "developer" ? (body.workspace_ids ?? []) : null, createdBy: principal.id, createdAt: now,
        expiresAt: now + INVITATION_TTL_MS, acceptedAt: null,
      };
      await audited(s, actor, "invitation.created", inv.id, { email: inv.email, role: inv.role, workspace_ids: inv.workspaceIds }, (trx) => s.store.users.insertInvitation(inv, trx));
      const path = `/console/accept?token=${token}`;
      const url = s.config.publicUrl ? new URL(path, s.config.publicUrl).toString() : path;
      return { status: 201, body: { ...presentInvitation(inv), token, url } };
    },
  }),
  defineRoute({
    method: "DELETE", path: "/api/v1/users/invitations/:id", tag: "users", summary: "Withdraw an invitation",
    handler: async ({ params, principal, actor, services: s }) => {
      // Unknown: refused inside the transaction, so no audit record says it was withdrawn.
      await audited(s, actor, "invitation.deleted", params.id!, {}, async (trx) => {
        if (!(await s.store.users.deleteInvitation(params.id!, principal.orgId, trx))) throw new NotFoundError("invitation");
      });
      return { body: { id: params.id, deleted: true } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/invitations/inspect", tag: "users", summary: "The email and role an invitation link is for",
    body: z.strictObject({ token: z.string().min(1).max(200) }),
    handler: async ({ body, services: s }) => {
      const inv = await s.store.users.getInvitationByHash(sha256Hex(body.token));
      if (!inv || inv.acceptedAt !== null || inv.expiresAt <= s.clock.now()) throw new AppError("not_found", "this invitation link is not valid any more; ask for a new one");
      return { body: { email: inv.email, role: inv.role, expires_at: toIso(inv.expiresAt) } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/invitations/accept", tag: "users", summary: "Accept an invitation: choose a password; signs the new user in",
    body: z.strictObject({ token: z.string().min(1).max(200), password, name: name.optional() }),
    handler: async ({ body, ip, headers, actor, services: s }) => {
      checkOrigin(s, headers);
      const inv = await s.store.users.getInvitationByHash(sha256Hex(body.token));
      if (!inv || inv.acceptedAt !== null || inv.expiresAt <= s.clock.now()) throw new AppError("not_found", "this invitation link is not valid any more; ask for a new one");
      const user = await newUser(s, inv.orgId, { email: inv.email, name: body.name ?? inv.email, password: body.password, role: inv.role, workspaceIds: inv.workspaceIds });
      await audited(s, { ...actor, id: user.id, orgId: inv.orgId }, "user.created", user.id, { email: user.email, role: user.role, via: inv.id }, async (trx) => {
        if (!(await s.store.users.acceptInvitation(inv.id, s.clock.now(), trx))) throw new AppError("conflict", "this invitation was just used");
        await s.store.users.insert(user, trx);
      });
      return signedIn(s, user, ip, headers, 201);
    },
  }),
];
