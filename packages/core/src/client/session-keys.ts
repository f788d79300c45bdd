/*
 * A session's keys on the client side (docs/guarantees.md "Security model"): the session key its
 * requests are signed with, sent once inside `openSession` (only the writer reads the writer
 * queue), and the channel key the writer hands back wrapped under it, with which the distributor
 * seals every message on the session's channel. Its lease renewals are signed with the session key
 * too, so that no other client can keep the session alive.
 */

import type { LeaseKey } from '../ports/session-lease.js';
import { encodeSessionKey, newSessionKey, unwrapChannelKey } from '../session/auth.js';
import { leaseId, type SignedRenewal, signRenewal } from '../session/lease.js';
import type { ChannelSealing } from './channel-inbox.js';

/** The session key and the channel sealing that the open or resume reply completes. */
export class SessionKeys {
  /** The key requests are signed with. */
  readonly key: Uint8Array;
  /** What the channel inbox opens sealed messages with (its key arrives with the open reply). */
  readonly sealing: ChannelSealing;
  private leaseKey: LeaseKey | undefined;

  /** @param key - the session's key (a resumer's must be the one it was opened with); default random */
  constructor(
    private readonly session: number,
    key: Uint8Array | undefined,
  ) {
    this.key = key ?? newSessionKey();
    this.sealing = { session };
  }

  /** The session's lease item (its id derived from the session key: no other client can name it). */
  get lease(): LeaseKey {
    this.leaseKey ??= { owner: this.session, id: leaseId(this.key, this.session) };
    return this.leaseKey;
  }

  /** The session key as `openSession` carries it. */
  get encoded(): string {
    return encodeSessionKey(this.key);
  }

  /** The session's lease renewal as of `at`, signed with the session key (session/lease.ts). */
  renewal(at: number): SignedRenewal {
    return signRenewal(this.key, this.session, at);
  }

  /** Unwraps the channel key from the open or resume reply, before the channel's next message. */
  take(wrapped: string | undefined): void {
    if (wrapped !== undefined) this.sealing.key = unwrapChannelKey(this.key, this.session, wrapped);
  }
}
