import { z } from "zod";
import { AppError } from "../errors/index.js";
import { hashKey } from "../keys/index.js";
import { feedbackFor, isValidLatchkeyKey, parsePartnerReport, verifyGithubSignature, type ReportOutcome } from "../leaks/index.js";
import { leakDigest } from "../lib/index.js";
import { checkLeakedCredentials } from "./credential-leaks.js";
import type { Actor } from "../keys/index.js";
import { changeableKey } from "./keys-routes.js";
import { presentKey } from "./present.js";
import { defineRoute, type RouteDef } from "./route.js";
import type { AdminServices } from "./services.js";

interface GithubKey { key_identifier: string; key: string }

function githubKeys(s: AdminServices): GithubKey[] {
  if (!s.config.githubPublicKeys) return [];
  try {
    const parsed = JSON.parse(s.config.githubPublicKeys) as { public_keys?: GithubKey[] } | GithubKey[];
    return Array.isArray(parsed) ? parsed : (parsed.public_keys ?? []);
  } catch {
    return [];
  }
}

/** Revokes a leaked key at once and records where it was found; safe to call twice. */
async function revokeLeaked(s: AdminServices, keyId: string, orgId: string, where: Record<string, unknown>, actor: Actor) {
  const key = await s.keys.revoke(keyId, { ...actor, orgId }, `leaked: ${String(where.url ?? where.source ?? "reported")}`);
  s.logger.warn({ keyId, where }, "leaked key revoked");
  await s.alerts.keyLeaked(orgId, keyId, { name: key.name, workspace_id: key.workspaceId, created_by: key.createdBy, found: where, revoked_at: new Date(key.revokedAt ?? s.clock.now()).toISOString() });
  return key;
}

export const leakRoutes: RouteDef[] = [
  defineRoute({
    method: "POST", path: "/api/v1/leaks/github", tag: "leaks", rawBody: true,
    summary: "GitHub secret scanning partner endpoint: verifies the signature, revokes reported live keys at once, alerts on reported provider credentials",
    handler: async ({ rawBody, headers, services: s, requestId, ip }) => {
      const keys = githubKeys(s);
      const keyId = headers["github-public-key-identifier"] as string | undefined;
      const signature = headers["github-public-key-signature"] as string | undefined;
      if (!rawBody || keys.length === 0 || !verifyGithubSignature(rawBody, keyId, signature, keys)) {
        s.logger.warn({ ip, keyId: keyId ?? null, requestId }, "leak report refused: missing or bad signature");
        throw new AppError("unauthenticated", "the report's signature is missing or does not verify against a configured GitHub public key");
      }
      const matches = parsePartnerReport(rawBody);
      const outcomes: ReportOutcome[] = [];
      for (const m of matches) {
        let ours = false;
        if (isValidLatchkeyKey(m.token, Object.values(s.prefixes))) {
          const key = await s.store.keys.getByHash(hashKey(m.token, s.config.pepper));
          if (key) {
            ours = true;
            await revokeLeaked(s, key.id, key.orgId, { url: m.url, source: m.source, type: m.type, reporter: "github" }, { id: "github-secret-scanning", orgId: key.orgId, requestId, clientIp: ip });
          }
        }
        if (!ours) {
          // Not a Latchkey key: perhaps one of the provider credentials this deployment holds.
          const found = { url: m.url, source: m.source, type: m.type, reporter: "github" };
          ours = (await checkLeakedCredentials(s, [leakDigest(m.token)], null, found)).size > 0;
        }
        outcomes.push({ token: m.token, type: m.type, isOurKey: ours });
      }
      return { body: feedbackFor(outcomes) };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/credentials/lookup", tag: "credentials",
    summary: "Which provider credentials found secrets are, by the SHA-256 of each (the plaintext never leaves the client); raises credential.leaked once per credential",
    body: z.strictObject({
      sha256: z.array(z.string().regex(/^[0-9a-f]{64}$/, "a lowercase hex SHA-256")).min(1).max(1000),
      source: z.string().max(500).optional(),
    }),
    handler: async ({ body, principal, actor, services: s }) => {
      const found = { source: body.source ?? null, reporter: actor.id };
      const byDigest = await checkLeakedCredentials(s, body.sha256, principal.orgId, found);
      const data = body.sha256.map((sha) => ({ sha256: sha, found: byDigest.has(sha), credentials: byDigest.get(sha) ?? [] }));
      return { body: { data } };
    },
  }),
  defineRoute({
    method: "POST", path: "/api/v1/keys/:id/report-leak", tag: "keys",
    summary: "Report a key as leaked: revoked at once, with where it was found",
    body: z.strictObject({ url: z.string().max(2000).optional(), note: z.string().max(1000).optional() }).default({}),
    handler: async ({ params, body, principal, actor, services: s }) => {
      const key = await changeableKey(s, principal, params.id!);
      const revoked = await revokeLeaked(s, key.id, key.orgId, { url: body.url ?? null, note: body.note ?? null, reporter: actor.id }, actor);
      return { body: presentKey(revoked, s.clock.now()) };
    },
  }),
];
