/**
 * Session leases: how an idle client keeps its session alive without a write through the ordered
 * write path (docs/guarantees.md "Sessions"). Each open session has a small `lease` item in the
 * system store, created and removed by the writer with the session; the client renews it with one
 * conditional write of its own, answered by the store itself.
 */

import type { GroupMembership, SignedRenewal } from '../session/lease.js';

/**
 * Where a lease item is: the number of its session (or group) and its item id (`leaseId`,
 * `groupLeaseId` in `session/lease.ts`), which only a holder of the session's (group's) key can
 * compute — so a client that knows only a session's number cannot address its lease.
 */
export interface LeaseKey {
  /** The session's number (a group's: the group's). */
  readonly owner: number;
  /** The lease item's id. */
  readonly id: string;
}

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
   * Sets the lease `lease` (of session `lease.owner`) to `renewal` (the client's clock and its MAC under the session key,
   * `signRenewal`; stored as given) if the lease exists, and bumps its version, so that a writer
   * about to expire the session on the version it read fails its commit and checks again. Never
   * creates a lease.
   * @returns `'absent'` when the store holds no lease item `lease.id`.
   * @throws PortError (or a subclass) when the store cannot be reached.
   */
  renew(lease: LeaseKey, renewal: SignedRenewal): Promise<LeaseRenewal>;
  /** Group leases on the same store, where it offers them (one renewal for many sessions). */
  readonly groups?: GroupLeases;
}

/**
 * Group leases, for a process that serves many sessions (the ZooKeeper gateway): one lease item per
 * group, renewed once per period for all its members, instead of one renewal per session. A member
 * session's own lease item then names its group instead of holding a time (see `session/lease.ts`),
 * so the group item stays the same size however many sessions it covers. Offered by stores where a
 * renewal is a billed write (DynamoDB, memory); absent where renewals are messages (GCP).
 */
export interface GroupLeases {
  /**
   * Sets group `group.owner`'s lease item `group.id` to `renewal` (the renewer's clock, signed with the group's key:
   * `signGroupRenewal`), creating it when absent: a group covers no session by itself, only the
   * sessions that {@link GroupLeases.join} it.
   * @throws PortError when the store cannot be reached.
   */
  renewGroup(group: LeaseKey, renewal: SignedRenewal): Promise<void>;
  /**
   * Puts session `lease.owner` under `group`: its lease item `lease.id` becomes `membership` (`groupMembership`: the group's
   * key sealed under the session key) and then lives as long as the group's is renewed. Never
   * creates a lease. @returns `'absent'` when the session has no lease (it has ended).
   */
  join(lease: LeaseKey, group: number, membership: GroupMembership): Promise<LeaseRenewal>;
  /**
   * Takes session `lease.owner` out of `group`, its lease item `lease.id` set to `renewal` (signed with the session key), only
   * if it is still under `group` (a resume through another process, or its end, may have taken it
   * meanwhile). @returns `'absent'` when it was not under `group`.
   */
  leave(lease: LeaseKey, group: number, renewal: SignedRenewal): Promise<LeaseRenewal>;
}
