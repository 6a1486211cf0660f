import type { ProviderCredential, Store } from "../store/index.js";

export interface UsableCredential extends ProviderCredential {
  secret: string;
}

/**
 * Decrypted provider credentials, per organization, kept in memory for a short time so the
 * request path never touches the database or AES for them. Changes call `invalidate()`, which
 * `onInvalidate` carries to the other nodes; `ttlMs` bounds staleness if a message is lost.
 */
export class CredentialVault {
  private readonly byOrg = new Map<string, { at: number; list: UsableCredential[] }>();
  private readonly loading = new Map<string, Promise<UsableCredential[]>>();

  constructor(
    private readonly store: Store,
    private readonly masterKey: Buffer,
    private readonly now: () => number = Date.now,
    private readonly ttlMs = 30_000,
    private readonly onInvalidate?: () => void,
  ) {}

  /** Cached list when fresh (no promise on the hot path); null when it must be loaded. */
  peek(orgId: string): UsableCredential[] | null {
    const hit = this.byOrg.get(orgId);
    return hit && this.now() - hit.at < this.ttlMs ? hit.list : null;
  }

  async forOrg(orgId: string): Promise<UsableCredential[]> {
    const hit = this.peek(orgId);
    if (hit) return hit;
    let p = this.loading.get(orgId);
    if (!p) {
      p = this.store.credentials.listWithSecrets(orgId, this.masterKey).then((list) => {
        this.byOrg.set(orgId, { at: this.now(), list });
        return list;
      }).finally(() => this.loading.delete(orgId));
      this.loading.set(orgId, p);
    }
    return p;
  }

  /** Forgets every decrypted list after a change on this node, and announces it. */
  invalidate(): void {
    this.forget();
    this.onInvalidate?.();
  }

  /** Forgets every decrypted list (another node changed a credential). */
  forget(): void {
    this.byOrg.clear();
  }
}

/**
 * The credentials to try for a provider, in order: a workspace's own credentials when it has
 * any, else the organization's; shuffled by weight (a weight-w credential comes first w times as
 * often as a weight-1 one).
 */
export function pickCredentials(all: UsableCredential[], provider: string, workspaceId: string, random: () => number = Math.random): UsableCredential[] {
  const own = all.filter((c) => c.provider === provider && c.workspaceId === workspaceId);
  const pool = own.length ? own : all.filter((c) => c.provider === provider && c.workspaceId === null);
  if (pool.length <= 1) return pool;
  // Weighted shuffle (Efraimidis–Spirakis): key = u^(1/w), largest first.
  return pool.map((c) => ({ c, k: Math.pow(random(), 1 / Math.max(1, c.weight)) })).sort((a, b) => b.k - a.k).map((x) => x.c);
}
