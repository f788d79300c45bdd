/**
 * Session leases (docs/guarantees.md "Sessions"): liveness kept out of the ordered write path.
 *
 * Guarantee kept: sessions — a session lives until its timeout (plus the clock-skew margin) has
 * passed since its last sign of life, where a sign of life is either a request the writer admitted
 * (`SessionItem.expiresAt`, the writer's clock) or a renewal of its lease (`lease/<id>`, the time
 * the client renewed it by its own clock). The writer creates the lease with the session and
 * removes it with the session, in the same transaction, so a renewal finds a lease exactly while
 * the session is open; a client's renewal bumps the lease's version, so an expiry committed on the
 * version read before the renewal fails and is checked again. A renewal counts only when it carries
 * its owner's MAC (docs/guarantees.md "Security model"): a client without the session key can
 * neither extend the session nor make an old renewal count for more than its owner signed. A session under a group lease (a
 * gateway's sessions, `lease-group.ts`) lives by its group's renewals instead, and its expiry is
 * committed on the group item's version too.
 */
import { Buffer } from 'node:buffer';
import type { SessionItem } from '../protocol/messages.js';
import type { Chunk } from '../writer/chunk.js';
import { decodeSessionKey, seal, textMac, textMacMatches, unseal } from './auth.js';

/**
 * A lease renewal as a client writes it: the client's clock at the renewal, and a MAC under the
 * session key over the session id and that time (a group renewal: under the group's key, over the
 * group's number and time). Only the session's client (or its group's process) can make one, and
 * one copied later counts for no more than the time its owner signed.
 */
export interface SignedRenewal {
  at: number;
  mac: string;
}

/**
 * A member session's lease (`lease-group.ts`): the group it lives by, and the group's key sealed
 * under the session key for this session and group — so the functions, which hold the session key,
 * can check the group's renewals, and no one else can put the session under a group.
 */
export interface GroupMembership {
  g: number;
  k: string;
}

/** The lease item's id of a session. */
export const leaseId = (session: number): string => String(session);

/**
 * The lease item's id of a group lease (`GroupLeases`): `g<group>`, apart from every session's.
 * Its value is the group's last {@link SignedRenewal}.
 */
export const groupLeaseId = (group: number): string => `g${group}`;

const renewalText = (session: number, at: number): string => `fk-lease:${session}:${at}`;
const groupRenewalText = (group: number, at: number): string => `fk-lease-group:${group}:${at}`;
const membershipAad = (session: number, group: number): string => `fk-lease-member:${session}:${group}`;

/** The renewal of `session` as of `at`, signed with its session key. */
export const signRenewal = (key: Uint8Array, session: number, at: number): SignedRenewal => ({
  at,
  mac: textMac(key, renewalText(session, at)),
});

/** The renewal of group `group` as of `at`, signed with the group's key. */
export const signGroupRenewal = (groupKey: Uint8Array, group: number, at: number): SignedRenewal => ({
  at,
  mac: textMac(groupKey, groupRenewalText(group, at)),
});

/** `session`'s lease naming group `group`, its key sealed under the session key. */
export const groupMembership = (
  key: Uint8Array,
  session: number,
  group: number,
  groupKey: Uint8Array,
): GroupMembership => ({
  g: group,
  k: Buffer.from(seal(key, groupKey, membershipAad(session, group))).toString('base64url'),
});

/** `value` as a renewal's shape (not yet checked), or undefined. */
function asRenewal(value: unknown): SignedRenewal | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { at, mac } = value as Partial<SignedRenewal>;
  return typeof at === 'number' && Number.isFinite(at) && at >= 0 && typeof mac === 'string'
    ? { at, mac }
    : undefined;
}

/** The group a session's lease value names (a {@link GroupMembership}), if it names one. */
export function coveringGroup(lease: unknown): number | undefined {
  if (typeof lease !== 'object' || lease === null) return undefined;
  const { g, k } = lease as Partial<GroupMembership>;
  return typeof g === 'number' && Number.isSafeInteger(g) && g > 0 && typeof k === 'string' ? g : undefined;
}

/**
 * The time of a group lease's last renewal as its item says, unchecked: only for removing groups
 * no one renews any more (a forged time there keeps an item, never a session, alive).
 */
export const groupRenewedAt = (value: unknown): number | undefined => asRenewal(value)?.at;

/**
 * The renewal time a session's lease stands for, if its owner vouched for it: its own renewal
 * with a MAC under the session key, or, for a member of a group, the group's last renewal with a
 * MAC under the group key its membership seals (`group` looks up a lease item's value by id).
 * Anything else — an unsigned or wrongly signed time, a membership the session key does not open,
 * the value the writer left at the open — is no renewal: the session then lives by its requests
 * (`SessionItem.expiresAt`) and by the renewals folded for it, checked the same way.
 */
export function verifiedRenewal(
  session: SessionItem,
  lease: unknown,
  group: (id: string) => unknown,
): number | undefined {
  if (session.key === undefined) return undefined;
  const key = decodeSessionKey(session.key);
  const own = asRenewal(lease);
  if (own !== undefined)
    return textMacMatches(key, renewalText(session.id, own.at), own.mac) ? own.at : undefined;
  const g = coveringGroup(lease);
  if (g === undefined) return undefined;
  let groupKey: Uint8Array;
  try {
    groupKey = unseal(
      key,
      new Uint8Array(Buffer.from((lease as GroupMembership).k, 'base64url')),
      membershipAad(session.id, g),
    );
  } catch {
    // A membership not sealed under this session's key (forged, or moved from another session):
    // it puts the session under no group.
    return undefined;
  }
  const renewal = asRenewal(group(groupLeaseId(g)));
  return renewal !== undefined && textMacMatches(groupKey, groupRenewalText(g, renewal.at), renewal.mac)
    ? renewal.at
    : undefined;
}

/**
 * The time after which `session` is past its timeout: the later of its request-renewed deadline
 * and its last verified renewal plus the timeout. `renewals` are {@link verifiedRenewal}'s answer
 * and the session's folded renewal (`lease-inbox.ts`, checked when folded); `undefined` is none.
 */
export function sessionDeadline(session: SessionItem, ...renewals: (number | undefined)[]): number {
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
