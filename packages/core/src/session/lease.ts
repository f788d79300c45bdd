/**
 * Session leases (docs/guarantees.md "Sessions"): liveness kept out of the ordered write path.
 *
 * Guarantee kept: sessions — a session lives until its timeout (plus the clock-skew margin) has
 * passed since its last sign of life, where a sign of life is either a request the writer admitted
 * (`SessionItem.expiresAt`, the writer's clock) or a renewal of its lease (`lease/<id>`, the time
 * the client renewed it by its own clock). The writer creates the lease with the session and
 * removes it with the session, in the same transaction, so a renewal finds a lease exactly while
 * the session is open; a client's renewal bumps the lease's version, so an expiry committed on the
 * version read before the renewal fails and is checked again. A session under a group lease (a
 * gateway's sessions, `lease-group.ts`) lives by its group's renewals instead, and its expiry is
 * committed on the group item's version too.
 */
import type { SessionItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';

/** The lease item's id of a session. */
export const leaseId = (session: number): string => String(session);

/**
 * The lease item's id of a group lease (`GroupLeases`): `g<group>`, apart from every session's.
 * Its value is the time of the group's last renewal.
 */
export const groupLeaseId = (group: number): string => `g${group}`;

/**
 * The group a session's lease value names, if it names one. A member session's lease holds minus
 * its group's number: a plain number, so that joining is the same one-attribute conditional
 * update as a renewal (DynamoDB: the client's grant covers nothing else), and a renewal time is
 * never negative.
 */
export function coveringGroup(lease: unknown): number | undefined {
  return typeof lease === 'number' && Number.isSafeInteger(lease) && lease < 0 ? -lease : undefined;
}

/**
 * The renewal time a session's lease stands for: its own value, or, for a member of a group, the
 * group's last renewal (`group` looks up a lease item's value by id; `undefined` when absent).
 */
export function leaseRenewal(lease: unknown, group: (id: string) => unknown): unknown {
  const g = coveringGroup(lease);
  return g === undefined ? lease : group(groupLeaseId(g));
}

/**
 * The time after which `session` is past its timeout: the later of its request-renewed deadline
 * and its last lease renewal plus the timeout. `renewals` are the lease's renewal time
 * ({@link leaseRenewal}) and the session's folded renewal (`lease-inbox.ts`); one that is not a
 * time (absent, hand-made, a group reference left unresolved) is ignored.
 */
export function sessionDeadline(session: SessionItem, ...renewals: unknown[]): number {
  let deadline = session.expiresAt;
  for (const at of renewals)
    if (typeof at === 'number' && Number.isFinite(at) && at >= 0)
      deadline = Math.max(deadline, at + session.timeoutMs);
  return deadline;
}

/** Creates (or resets) the lease of a session being opened, renewed as of `now`. */
export async function openLease(chunk: Chunk, session: number, now: number): Promise<void> {
  await chunk.overlay.get('lease', leaseId(session));
  chunk.overlay.set('lease', leaseId(session), now);
}

/** Removes the lease of a session being ended (a later renewal then finds none: EXPIRED). */
export async function dropLease(chunk: Chunk, session: number): Promise<void> {
  await chunk.overlay.get('lease', leaseId(session));
  chunk.overlay.set('lease', leaseId(session), undefined);
}

/**
 * A ping of an open session: the client fell back to it because its renewal found no lease (a
 * session opened before leases existed). Gives the session its lease, so that it renews cheaply
 * from now on; a session that has one keeps it untouched.
 */
export async function ensureLease(chunk: Chunk, session: number): Promise<void> {
  const lease = await chunk.overlay.get('lease', leaseId(session));
  if (lease === undefined) chunk.overlay.set('lease', leaseId(session), chunk.clock.now());
}
