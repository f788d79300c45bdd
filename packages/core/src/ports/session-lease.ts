/**
 * Session leases: how an idle client keeps its session alive without a write through the ordered
 * write path (docs/guarantees.md "Sessions"). Each open session has a small `lease` item in the
 * system store, created and removed by the writer with the session; the client renews it with one
 * conditional write of its own, answered by the store itself.
 */

/** What a renewal found: the lease renewed, or no lease (the session is gone, or predates leases). */
export type LeaseRenewal = 'renewed' | 'absent';

/** The client's side of a lease: one conditional write per renewal. */
export interface LeaseRenewer {
  /**
   * How often an idle client renews, as a share of its session timeout. Default 0.6: the rarest
   * that leaves 40 % of the timeout for a retry, for renewals billed like a store write; a renewal
   * that costs next to nothing (a small message) may come more often, for more margin.
   */
  readonly renewalShare?: number;
  /**
   * Sets the lease of `session` to `at` (the client's clock) if the lease exists, and bumps its
   * version, so that a writer about to expire the session on the version it read fails its commit
   * and checks again. Never creates a lease.
   * @returns `'absent'` when the store holds no lease of the session.
   * @throws PortError (or a subclass) when the store cannot be reached.
   */
  renew(session: number, at: number): Promise<LeaseRenewal>;
}
