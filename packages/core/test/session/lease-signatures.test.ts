// Signed lease renewals and sealed request bodies (docs/guarantees.md "Security model"): what the
// heartbeat and the writer accept as a session's renewal, and what opens a sealed request.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/index.js';
import { encodeMessage } from '../../src/protocol/codec.js';
import type { SessionItem } from '../../src/protocol/messages.js';
import {
  encodeSessionKey,
  newSessionKey,
  openRequest,
  sealedRequestOf,
  sealRequest,
} from '../../src/session/auth.js';
import {
  groupLeaseId,
  groupMembership,
  groupOf,
  isGroupLeaseId,
  leaseId,
  leaseIdOf,
  sessionDeadline,
  signGroupRenewal,
  signRenewal,
  verifiedRenewal,
} from '../../src/session/lease.js';

const key = newSessionKey();
const session = (id: number, k: Uint8Array | undefined = key): SessionItem => ({
  id,
  timeoutMs: 1000,
  expiresAt: 5000,
  lastSeq: 1,
  ephemerals: [],
  watchPaths: [],
  ...(k === undefined ? {} : { key: encodeSessionKey(k) }),
});
const none = () => undefined;
/** A session item without a key (opened before session keys): nothing can vouch for it. */
const keyless: SessionItem = (({ key: _key, ...rest }) => rest)(session(7));

describe('signed lease renewals', () => {
  it("a renewal counts for the time its owner signed, and only under the session's key and id", () => {
    const s = session(7);
    expect(verifiedRenewal(s, signRenewal(key, 7, 9000), none)).toBe(9000);
    expect(verifiedRenewal(s, signRenewal(newSessionKey(), 7, 9000), none)).toBeUndefined();
    // Another session's renewal, copied over: signed for its own id.
    expect(verifiedRenewal(s, signRenewal(key, 8, 9000), none)).toBeUndefined();
    // Its time moved forward: the MAC no longer matches.
    expect(verifiedRenewal(s, { ...signRenewal(key, 7, 9000), at: 99_000 }, none)).toBeUndefined();
    // A bare time (as leases were before) or the writer's open value is no renewal.
    expect(verifiedRenewal(s, 99_000, none)).toBeUndefined();
    expect(verifiedRenewal(keyless, signRenewal(key, 7, 9000), none)).toBeUndefined();
    expect(sessionDeadline(s, verifiedRenewal(s, 99_000, none))).toBe(5000);
    expect(sessionDeadline(s, verifiedRenewal(s, signRenewal(key, 7, 9000), none))).toBe(10_000);
  });

  it("a member lives by its group's renewal only when its membership opens with its key and the group's renewal carries the group key's MAC", () => {
    const s = session(7);
    const gk = newSessionKey();
    const groupValue = signGroupRenewal(gk, 42, 8000);
    const lookup = (id: string) => (id === groupLeaseId(gk, 42) ? groupValue : undefined);
    expect(verifiedRenewal(s, groupMembership(key, 7, 42, gk), lookup)).toBe(8000);
    // Sealed under another key, or for another session or group: no group at all.
    expect(verifiedRenewal(s, groupMembership(newSessionKey(), 7, 42, gk), lookup)).toBeUndefined();
    expect(verifiedRenewal(s, { ...groupMembership(key, 8, 42, gk), g: 42 }, lookup)).toBeUndefined();
    expect(verifiedRenewal(s, { ...groupMembership(key, 7, 43, gk), g: 42 }, lookup)).toBeUndefined();
    // The group renewed with another key (a forged group item).
    const forged = signGroupRenewal(newSessionKey(), 42, 8000);
    expect(verifiedRenewal(s, groupMembership(key, 7, 42, gk), () => forged)).toBeUndefined();
    // A valid group renewal, but under an id other than the one the group key gives: not read.
    expect(
      verifiedRenewal(s, groupMembership(key, 7, 42, gk), (id) => (id === 'g42' ? groupValue : undefined)),
    ).toBeUndefined();
  });
});

describe('lease item ids (docs/guarantees.md "Lease availability")', () => {
  it("a session's lease id is its number and a 132-bit tag only its key gives, the same wherever it is computed", () => {
    const id = leaseId(key, 7);
    expect(id).toMatch(/^7\.[A-Za-z0-9_-]{22}$/);
    // Client, writer and heartbeat compute it alike: from the key, or from the stored session.
    expect(leaseId(new Uint8Array(key), 7)).toBe(id);
    expect(leaseIdOf(session(7))).toBe(id);
    // Another key, or another session under the same key: another id.
    expect(leaseId(newSessionKey(), 7)).not.toBe(id);
    expect(leaseId(key, 8).split('.')[1]).not.toBe(id.split('.')[1]);
    // A session opened without a key keeps its bare id (its renewals count for nothing anyway).
    expect(leaseIdOf(keyless)).toBe('7');
    expect(isGroupLeaseId(id)).toBe(false);
  });

  it('tags look random: over 2,000 keys no two collide and every character position takes many values', () => {
    const tags = Array.from({ length: 2000 }, () => leaseId(newSessionKey(), 7).split('.')[1]!);
    expect(new Set(tags).size).toBe(tags.length);
    for (let i = 0; i < 22; i++) expect(new Set(tags.map((t) => t[i])).size).toBeGreaterThan(40);
  });

  it("a group's item id comes from the group key, which the functions unseal from a member's lease", () => {
    const gk = newSessionKey();
    const id = groupLeaseId(gk, 42);
    expect(id).toMatch(/^g42\.[A-Za-z0-9_-]{22}$/);
    expect(isGroupLeaseId(id)).toBe(true);
    expect(groupLeaseId(newSessionKey(), 42)).not.toBe(id);
    const covering = groupOf(session(7), groupMembership(key, 7, 42, gk));
    expect(covering?.group).toBe(42);
    expect(covering?.id).toBe(id);
    // A membership the session key does not open names no group, so no group item is looked up.
    expect(groupOf(session(7), groupMembership(newSessionKey(), 7, 42, gk))).toBeUndefined();
    expect(groupOf(keyless, groupMembership(key, 7, 42, gk))).toBeUndefined();
  });
});

describe('sealed request bodies', () => {
  it("open under the session's key for that session only, and show nothing of the request", () => {
    const signed = encodeMessage({ v: 1, session: 7, seq: 2, op: { type: 'setData', path: '/secret-path' } });
    const body = sealRequest(key, 7, signed);
    expect(body).not.toContain('secret-path');
    const sealed = sealedRequestOf(decodeMessage(body));
    expect(sealed?.session).toBe(7);
    expect(openRequest(key, 7, sealed!.box)).toBe(signed);
    expect(() => openRequest(newSessionKey(), 7, sealed!.box)).toThrow();
    expect(() => openRequest(key, 8, sealed!.box)).toThrow();
    const flipped = new Uint8Array(sealed!.box);
    flipped[20]! ^= 1;
    expect(() => openRequest(key, 7, flipped)).toThrow();
  });
});
