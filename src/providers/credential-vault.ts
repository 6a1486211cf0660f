import { isDependencyFailure } from "../errors/index.js";
import type { MasterKeys } from "../lib/envelope.js";
import type { ProviderCredential, Store } from "../store/index.js";

export interface UsableCredential extends ProviderCredential {
  secret: string;
}

export interface VaultOptions {
  now?: () => number;
  /** How long a list is used without asking the store (a lost invalidation is healed by then). */
  ttlMs?: number;
  /** How long a list is still served when the store cannot be reached (README: the key cache's stale time). */
  staleMs?: number;
  onInvalidate?: () => void;
  /** Told once per failed reload that is answered from the stale list. */
  onStale?: (orgId: string, err: unknown) => void;
  /**
   * Told of a credential none of the master keys opens, left out of the list: sealed under a newer
   * key by a node that rolled to it while this one still runs the old one. Without this the list fails whole.
   */
  onUnopened?: (orgId: string, credentialId: string) => void;
}

/**
 * Decrypted provider credentials, per organization, kept in memory for a short time so the
 * request path never touches the database or AES for them. Changes call `invalidate()`, which
 * `onInvalidate` carries to the other nodes; `ttlMs` bounds staleness if a message is lost. An
 * invalidated or expired list is kept as a fallback: while the store cannot be reached it is
 * served for `staleMs` after it was last loaded, so an outage (or a Redis reconnect that drops
 * every cache) does not take every live key down with it.
 */
export class CredentialVault {
  private readonly byOrg = new Map<string, { at: number; current: boolean; list: UsableCredential[] }>();
  private readonly loading = new Map<string, Promise<UsableCredential[]>>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly staleMs: number;

  constructor(private readonly store: Store, private readonly masterKey: MasterKeys, private readonly o: VaultOptions = {}) {
    this.now = o.now ?? Date.now;
    this.ttlMs = o.ttlMs ?? 30_000;
    this.staleMs = Math.max(o.staleMs ?? 300_000, this.ttlMs);
  }

  /** Cached list when fresh (no promise on the hot path); null when it must be loaded. */
  peek(orgId: string): UsableCredential[] | null {
    const hit = this.byOrg.get(orgId);
    return hit && hit.current && this.now() - hit.at < this.ttlMs ? hit.list : null;
  }

  async forOrg(orgId: string): Promise<UsableCredential[]> {
    const hit = this.peek(orgId);
    if (hit) return hit;
    let p = this.loading.get(orgId);
    if (!p) {
      const unopened = this.o.onUnopened;
      p = this.store.credentials.listWithSecrets(orgId, this.masterKey, unopened && ((id) => unopened(orgId, id))).then((list) => {
        this.byOrg.set(orgId, { at: this.now(), current: true, list });
        return list;
      }, (err: unknown) => {
        const old = this.byOrg.get(orgId);
        if (!old || this.now() - old.at >= this.staleMs || !isDependencyFailure(err)) throw err;
        this.o.onStale?.(orgId, err);
        return old.list;
      }).finally(() => this.loading.delete(orgId));
      this.loading.set(orgId, p);
    }
    return p;
  }

  /** Marks every decrypted list for reloading after a change on this node, and announces it. */
  invalidate(): void {
    this.forget();
    this.o.onInvalidate?.();
  }

  /** Marks every decrypted list for reloading (another node changed a credential, or messages may have been missed). */
  forget(): void {
    for (const entry of this.byOrg.values()) entry.current = false;
  }
}
