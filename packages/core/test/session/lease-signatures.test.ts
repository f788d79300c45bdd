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
    const lookup = (id: string) => (id === groupLeaseId(42) ? groupValue : undefined);
    expect(verifiedRenewal(s, groupMembership(key, 7, 42, gk), lookup)).toBe(8000);
    // Sealed under another key, or for another session or group: no group at all.
    expect(verifiedRenewal(s, groupMembership(newSessionKey(), 7, 42, gk), lookup)).toBeUndefined();
    expect(verifiedRenewal(s, { ...groupMembership(key, 8, 42, gk), g: 42 }, lookup)).toBeUndefined();
    expect(verifiedRenewal(s, { ...groupMembership(key, 7, 43, gk), g: 42 }, lookup)).toBeUndefined();
    // The group renewed with another key (a forged group item).
    const forged = signGroupRenewal(newSessionKey(), 42, 8000);
    expect(verifiedRenewal(s, groupMembership(key, 7, 42, gk), () => forged)).toBeUndefined();
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
