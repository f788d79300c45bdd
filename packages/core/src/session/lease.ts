/**
 * Session leases (docs/guarantees.md "Sessions"): liveness kept out of the ordered write path.
 *
 * Guarantee kept: sessions — a session lives until its timeout (plus the clock-skew margin) has
 * passed since its last sign of life, where a sign of life is either a request the writer admitted
 * (`SessionItem.expiresAt`, the writer's clock) or a renewal of its lease (`lease/<id>.<tag>`, the
 * time the client renewed it by its own clock). The writer creates the lease with the session and
 * removes it with the session, in the same transaction, so a renewal finds a lease exactly while
 * the session is open; a client's renewal bumps the lease's version, so an expiry committed on the
 * version read before the renewal fails and is checked again. A renewal counts only when it carries
 * its owner's MAC (docs/guarantees.md "Security model"): a client without the session key can
 * neither extend the session nor make an old renewal count for more than its owner signed. A
 * session under a group lease (a gateway's sessions, `lease-group.ts`) lives by its group's
 * renewals instead, and its expiry is committed on the group item's version too.
 *
 * Guarantee kept: lease availability — a lease item's id carries a tag only the session key (a
 * group item's: the group key) gives ({@link leaseId}, {@link groupLeaseId}), and clients can
 * update lease items but not read or list them, so a client that knows only a session's id cannot
 * overwrite its lease and hide its renewals; whatever it writes under other ids is never read.
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

/**
 * Characters of a lease key's tag: 22 base64url characters, 132 bits of an HMAC-SHA256 — past any
 * guessing, and short enough to keep a lease item within one write unit.
 */
const LEASE_TAG_CHARS = 22;

/**
 * The lease item's id of a session: `<session>.<tag>`, the tag an HMAC of the session id under the
 * session key. Session ids are public (every ephemeral node names its owner); the session key is
 * known only to its client and the functions, so no other client can address the lease — it holds
 * only UpdateItem on the lease partition, no read or list, and cannot find the id either
 * (docs/guarantees.md "Lease availability").
 */
export const leaseId = (key: Uint8Array, session: number): string =>
  `${session}.${textMac(key, `fk-lease-key:${session}`).slice(0, LEASE_TAG_CHARS)}`;

/**
 * The lease item's id of a stored session: {@link leaseId} under its key, or its bare id for a
 * session opened without a key (an older client, whose renewals count for nothing anyway).
 */
export const leaseIdOf = (session: SessionItem): string =>
  session.key === undefined ? String(session.id) : leaseId(decodeSessionKey(session.key), session.id);

/**
 * The lease item's id of a group lease (`GroupLeases`): `g<group>.<tag>`, apart from every
 * session's, the tag an HMAC of the group's number under the group's key — which only the group's
 * process holds, and the functions unseal from a member's lease. Its value is the group's last
 * {@link SignedRenewal}.
 */
export const groupLeaseId = (groupKey: Uint8Array, group: number): string =>
  `g${group}.${textMac(groupKey, `fk-lease-group-key:${group}`).slice(0, LEASE_TAG_CHARS)}`;

/** Whether lease item id `id` has a group lease's shape (`g…`; a session's begins with a digit). */
export const isGroupLeaseId = (id: string): boolean => id.startsWith('g');

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

/** The group a session's lease puts it under, as the functions see it: its number, item id and key. */
export interface CoveringGroup {
  group: number;
  /** The group item's id ({@link groupLeaseId}), computed from the unsealed key. */
  id: string;
  key: Uint8Array;
}

/**
 * The group `lease` (the value of `session`'s lease item) puts `session` under, if its membership
 * opens under the session key: the group's key unsealed from it, and from that the group item's id.
 * A membership the session key does not open (forged, or moved from another session) names none.
 */
export function groupOf(session: SessionItem, lease: unknown): CoveringGroup | undefined {
  const g = coveringGroup(lease);
  if (g === undefined || session.key === undefined) return undefined;
  try {
    const key = unseal(
      decodeSessionKey(session.key),
      new Uint8Array(Buffer.from((lease as GroupMembership).k, 'base64url')),
      membershipAad(session.id, g),
    );
    return { group: g, id: groupLeaseId(key, g), key };
  } catch {
    // Not sealed under this session's key for this group: it puts the session under no group.
    return undefined;
  }
}

/**
 * The renewal time a session's lease stands for, if its owner vouched for it: its own renewal
 * with a MAC under the session key, or, for a member of a group, the group's last renewal with a
 * MAC under the group key its membership seals (`group` looks up a lease item's value by id: the
 * group item's, whose id only that key gives). Anything else — an unsigned or wrongly signed time,
 * a membership the session key does not open, the value the writer left at the open — is no
 * renewal: the session then lives by its requests (`SessionItem.expiresAt`) and by the renewals
 * folded for it, checked the same way.
 */
export function verifiedRenewal(
  session: SessionItem,
  lease: unknown,
  group: (id: string) => unknown,
): number | undefined {
  if (session.key === undefined) return undefined;
  const own = asRenewal(lease);
  if (own !== undefined)
    return textMacMatches(decodeSessionKey(session.key), renewalText(session.id, own.at), own.mac)
      ? own.at
      : undefined;
  const covering = groupOf(session, lease);
  if (covering === undefined) return undefined;
  const renewal = asRenewal(group(covering.id));
  return renewal !== undefined &&
    textMacMatches(covering.key, groupRenewalText(covering.group, renewal.at), renewal.mac)
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

/** Creates (or resets) the lease of `session`, being opened, renewed as of `now`. */
export async function openLease(chunk: Chunk, session: SessionItem, now: number): Promise<void> {
  const id = leaseIdOf(session);
  await chunk.overlay.get('lease', id);
  chunk.overlay.set('lease', id, now);
}

/** Removes the lease of `session`, being ended (a later renewal then finds none: EXPIRED). */
export async function dropLease(chunk: Chunk, session: SessionItem): Promise<void> {
  const id = leaseIdOf(session);
  await chunk.overlay.get('lease', id);
  chunk.overlay.set('lease', id, undefined);
}

/**
 * A ping of open session `session`: the client fell back to it because its renewal found no lease
 * (a session opened before leases existed, or before leases were keyed by the session key). Gives
 * the session its lease, so that it renews cheaply from now on; a session that has one keeps it
 * untouched.
 */
export async function ensureLease(chunk: Chunk, session: SessionItem): Promise<void> {
  const id = leaseIdOf(session);
  const lease = await chunk.overlay.get('lease', id);
  if (lease === undefined) chunk.overlay.set('lease', id, chunk.clock.now());
}
