/** The ceiling rule as properties: random principals asking for random grants never gain power, and are not refused what they hold. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ADMIN_SCOPES } from "../keys/index.js";
import { USER_ROLES } from "../store/index.js";
import { adminKeyExcess, limitsExcess, loosenedLimits, roleExcess, type KeyLimits } from "./ceiling.js";
import { ROLE_SCOPES } from "./users-roles.js";

/** The concrete permissions a scope list gives (write implies read; "*" is everything and itself). */
function power(scopes: readonly string[]): Set<string> {
  const out = new Set<string>(scopes.includes("*") ? ["*"] : []);
  for (const s of scopes.includes("*") ? ADMIN_SCOPES : scopes) {
    out.add(s);
    if (s.endsWith(":write")) out.add(s.replace(/:write$/, ":read"));
  }
  return out;
}
const within = (a: Set<string>, b: Set<string>) => [...a].every((x) => b.has(x));

const scopeList = fc.subarray([...ADMIN_SCOPES, "*"], { maxLength: 8 });
const holder = fc.oneof(
  fc.record({ type: fc.constant("key" as const), scopes: scopeList, workspaceIds: fc.constant(null), role: fc.constant(undefined) }),
  fc.constantFrom(...USER_ROLES).map((role) => ({
    type: "user" as const, role, scopes: [...ROLE_SCOPES[role]], workspaceIds: role === "developer" ? ["wrk_a"] : null,
  })),
);

describe("the ceiling rule", () => {
  it("never lets an admin key get more than its maker holds, nor a workspace-limited maker make one", () => {
    fc.assert(fc.property(holder, scopeList, (h, asked) => {
      const refused = adminKeyExcess(h, asked) !== null;
      const escalates = h.workspaceIds !== null || !within(power(asked), power(h.scopes));
      expect(refused).toBe(escalates);
    }), { numRuns: 2000 });
  });

  it("never lets anyone give a role beyond their own power; owners only from owners or '*' keys", () => {
    fc.assert(fc.property(holder, fc.constantFrom(...USER_ROLES), (h, role) => {
      const allowed = roleExcess(h, role) === null;
      if (!allowed) return;
      expect(h.workspaceIds).toBeNull();
      if (role === "owner") expect(h.role === "owner" || (h.type === "key" && h.scopes.includes("*"))).toBe(true);
      else expect(within(power(ROLE_SCOPES[role].filter((s) => s !== "models:read")), power(h.scopes))).toBe(true);
    }), { numRuns: 2000 });
  });

  const count = fc.option(fc.integer({ min: 1, max: 1000 }), { nil: null });
  const rates = fc.option(fc.record({ requestsPerMinute: count, tokensPerMinute: count, concurrentRequests: count }), { nil: null });
  const spend = fc.option(fc.record({ amountNano: fc.integer({ min: 0, max: 10 ** 12 }), period: fc.constantFrom("day", "month") }), { nil: null });
  const list = fc.option(fc.subarray(["a", "b", "c", "d"]), { nil: null });
  const limits: fc.Arbitrary<KeyLimits> = fc.record({ rateLimits: rates, spendLimit: spend, allowedModels: list, ipAllowlist: list, allowedOrigins: list, expiresAt: fc.option(fc.integer({ min: 1, max: 100 }), { nil: null }) });

  /** Whether `next` lets the key do something `old` did not: some limit removed or raised. */
  function looser(old: KeyLimits, next: KeyLimits): boolean {
    const n = (v: number | null | undefined) => v ?? Infinity;
    // No rate limits and rate limits that are all null are the same: nothing beyond the defaults.
    const none = { requestsPerMinute: null, tokensPerMinute: null, concurrentRequests: null };
    const o = old.rateLimits ?? none, x = next.rateLimits ?? none;
    if (n(x.requestsPerMinute) > n(o.requestsPerMinute) || n(x.tokensPerMinute) > n(o.tokensPerMinute) || n(x.concurrentRequests) > n(o.concurrentRequests)) return true;
    if (old.spendLimit && (!next.spendLimit || next.spendLimit.period !== old.spendLimit.period || next.spendLimit.amountNano > old.spendLimit.amountNano)) return true;
    for (const f of ["allowedModels", "ipAllowlist", "allowedOrigins"] as const) {
      const a = old[f], b = next[f];
      if (a && (!b || b.some((v) => !a.includes(v)))) return true;
    }
    return old.expiresAt != null && (next.expiresAt == null || next.expiresAt > old.expiresAt);
  }

  it("refuses loosening a key's limits exactly when the change loosens them and the caller lacks workspaces:write", () => {
    fc.assert(fc.property(holder, limits, limits, (h, old, next) => {
      expect(loosenedLimits(old, next).length > 0).toBe(looser(old, next));
      const mayLoosen = h.workspaceIds === null && (h.scopes.includes("*") || h.scopes.includes("workspaces:write"));
      expect(limitsExcess(h, old, next) !== null).toBe(!mayLoosen && looser(old, next));
    }), { numRuns: 3000 });
  });
});
