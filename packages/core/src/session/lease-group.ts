/**
 * One lease for the sessions of one process (the ZooKeeper gateway): instead of each session
 * renewing its own lease (a billed write per session every 0.6 of its timeout), the process renews
 * one group lease item for all of them, and each member session's lease names the group
 * (`lease.ts`). N idle sessions then cost one renewal per period, not N.
 *
 * Guarantee kept: sessions — a member lives while its process renews the group (the heartbeat and
 * the writer's expiry read the group's time for it, and the expiry commits on the group item's
 * version), and a session whose client went away stops being renewed at once: {@link LeaseGroup.hold}
 * takes it out of the group with its lease set to the client's last sign of life, and nothing
 * renews it until its client comes back, so it expires within its timeout of that moment even if
 * the process dies meanwhile — ZooKeeper's expiry after a client's disconnect. The group's renewals
 * are signed with a key of its own (random per process), which each member's lease holds sealed
 * under the member's session key (`lease.ts`), so the functions can check them and no other client
 * can put a session under a group or renew one.
 */
import { randomBytes } from 'node:crypto';
import { randomSessionId } from '../client/liveness.js';
import { FaaSKeeperError } from '../model/errors.js';
import { type Clock, systemClock, type TimerHandle } from '../ports/clock.js';
import type { GroupLeases, LeaseKey, LeaseRenewal, LeaseRenewer } from '../ports/session-lease.js';
import { SESSION_KEY_BYTES } from './auth.js';
import {
  groupLeaseId,
  groupMembership,
  leaseId,
  type SignedRenewal,
  signGroupRenewal,
  signRenewal,
} from './lease.js';

/**
 * How often the group is renewed, as a share of its members' shortest timeout: half, so that a
 * failed renewal has four retries (every tenth) before a member's lease could lapse.
 */
export const GROUP_RENEWAL_SHARE = 0.5;

/** How soon a failed group renewal is retried, as a share of the shortest timeout. */
const RETRY_SHARE = 0.1;

/** Options of {@link LeaseGroup}. */
export interface LeaseGroupOptions {
  /** The clock lease times are taken from (the clients' clock). Default the process clock. */
  clock?: Clock;
  /** Told each group renewal that failed (it is retried); default: dropped. */
  onError?: (error: unknown) => void;
  /** The group's number (tests); default a random 52-bit one, so every process has its own. */
  id?: number;
  /** The key its renewals are signed with (tests); default 32 random bytes, its process's own. */
  key?: Uint8Array;
}

/**
 * A session of the group: renewed by the group, by itself (not yet in), by nobody (client away),
 * or found ended (its lease is gone).
 */
interface Member {
  state: 'own' | 'covered' | 'held' | 'ended';
  timeoutMs: number;
  /** The member's session key: its membership and its leave's renewal are signed with it. */
  key: Uint8Array;
  /** The member's lease item (its id derived from the session key). */
  lease: LeaseKey;
  /** The member's joins and leaves, one at a time in the order asked. */
  chain: Promise<unknown>;
}

/** A process's group lease and its member sessions. */
export class LeaseGroup {
  /** The group's number (its item is `lease/g<id>.<tag>`, `groupLeaseId`). */
  readonly id: number;
  /** The key the group's renewals are signed with (sealed into each member's lease). */
  private readonly key: Uint8Array;
  /** The group's lease item: its id derived from the group's key, so only the functions find it. */
  private readonly item: LeaseKey;
  private readonly clock: Clock;
  private readonly members = new Map<number, Member>();
  /** When the last group renewal that succeeded was made (the group item's value). */
  private renewedAt = Number.NEGATIVE_INFINITY;
  private renewing: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private closed = false;
  private renewalCount = 0;

  constructor(
    private readonly leases: GroupLeases,
    private readonly options: LeaseGroupOptions = {},
  ) {
    this.id = options.id ?? randomSessionId();
    this.key = options.key ?? new Uint8Array(randomBytes(SESSION_KEY_BYTES));
    this.item = { owner: this.id, id: groupLeaseId(this.key, this.id) };
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The renewer a member session's client uses (`ClientOptions.lease`): while the session is in the
   * group its renewals cost nothing (answered from the group's last renewal, renewing the group
   * first if that is stale); before it joins, `own` renews it as before.
   */
  renewer(own: LeaseRenewer): LeaseRenewer {
    return {
      ...(own.renewalShare === undefined ? {} : { renewalShare: own.renewalShare }),
      renew: (lease, renewal) => this.renewMember(own, lease, renewal),
    };
  }

  /** Group renewals made so far (figures, tests). */
  get renewals(): number {
    return this.renewalCount;
  }

  /** Sessions the group renews now. */
  get covered(): number {
    let n = 0;
    for (const m of this.members.values()) if (m.state === 'covered') n++;
    return n;
  }

  /**
   * Puts `session` (timeout `timeoutMs`, session key `key`) in the group: the group is renewed
   * first if stale, then the session's lease names it (one conditional write). A client that came
   * back after {@link LeaseGroup.hold} is put back the same way.
   * @returns `'absent'` when the session has no lease (it ended).
   * @throws PortError when the store cannot be reached (the session then keeps renewing itself).
   */
  cover(session: number, timeoutMs: number, key: Uint8Array): Promise<LeaseRenewal> {
    const m = this.member(session, timeoutMs, key);
    m.state = m.state === 'covered' ? 'covered' : 'own';
    return this.inOrder(m, async () => {
      if (this.clock.now() - this.renewedAt > this.periodOf(timeoutMs)) await this.renewGroup();
      const found = await this.leases.join(m.lease, this.id, this.membership(session, m));
      // A hold asked meanwhile (the client left again) comes after this in the chain and wins.
      if (this.members.get(session) === m && m.state === 'own') {
        m.state = found === 'renewed' ? 'covered' : 'ended';
        this.schedule();
      }
      return found;
    });
  }

  /**
   * The client of `session` went away at `at` (default now): nothing renews the session from now
   * on, and its lease is set to `at` (if it is still in the group), so that it expires within its
   * timeout of `at` unless its client comes back ({@link LeaseGroup.cover}).
   */
  hold(session: number, at = this.clock.now()): Promise<LeaseRenewal> {
    const m = this.members.get(session);
    if (m === undefined) return Promise.resolve('absent');
    const was = m.state;
    m.state = 'held';
    // Asked even when the join was still in flight (it comes first in the chain); the condition makes
    // it a no-op for a lease that never named the group.
    return this.inOrder(m, () =>
      was === 'ended'
        ? Promise.resolve<LeaseRenewal>('absent')
        : this.leases.leave(m.lease, this.id, signRenewal(m.key, session, at)),
    );
  }

  /** `session` ended: the group no longer answers for it. */
  release(session: number): void {
    this.members.delete(session);
    if (this.covered === 0) this.stopTimer();
  }

  /** Stops renewing the group (its members' leases then lapse within their timeouts). */
  close(): void {
    this.closed = true;
    this.stopTimer();
  }

  private member(session: number, timeoutMs: number, key: Uint8Array): Member {
    let m = this.members.get(session);
    if (m === undefined) {
      m = {
        state: 'own',
        timeoutMs,
        key,
        lease: { owner: session, id: leaseId(key, session) },
        chain: Promise.resolve(),
      };
      this.members.set(session, m);
    }
    m.timeoutMs = timeoutMs;
    if (m.key !== key) m.lease = { owner: session, id: leaseId(key, session) };
    m.key = key;
    return m;
  }

  /** The lease value that puts `session` under this group. */
  private membership(session: number, m: Member) {
    return groupMembership(m.key, session, this.id, this.key);
  }

  /** Runs `step` after the member's earlier joins and leaves. */
  private inOrder<T>(m: Member, step: () => Promise<T>): Promise<T> {
    const run = m.chain.then(step);
    // Safe to drop here: the caller awaits `run` and gets its failure from it; this copy of the
    // chain only orders the member's next step, which must run whether or not this one failed.
    m.chain = run.catch(() => undefined);
    return run;
  }

  private async renewMember(
    own: LeaseRenewer,
    lease: LeaseKey,
    renewal: SignedRenewal,
  ): Promise<LeaseRenewal> {
    const m = this.members.get(lease.owner);
    if (m === undefined || m.state === 'own') return own.renew(lease, renewal);
    // No lease: the client pings, and the writer tells it the session has ended.
    if (m.state === 'ended') return 'absent';
    // Its client is away: its lease stays at the client's last sign of life, and no renewal may move
    // it (the process ends the session when the client does not come back within the timeout, or
    // the heartbeat does; its client learns it from its channel, or at its next request).
    if (m.state === 'held') return 'renewed';
    if (this.clock.now() - this.renewedAt > this.periodOf(m.timeoutMs)) await this.renewGroup();
    return 'renewed';
  }

  /** The group's renewal period for a timeout. */
  private periodOf(timeoutMs: number): number {
    return timeoutMs * GROUP_RENEWAL_SHARE;
  }

  /** The shortest timeout among covered members, or undefined when none is covered. */
  private shortestTimeout(): number | undefined {
    let min: number | undefined;
    for (const m of this.members.values())
      if (m.state === 'covered') min = Math.min(min ?? Number.POSITIVE_INFINITY, m.timeoutMs);
    return min;
  }

  /** One group renewal, shared by everyone who asks while it is in flight. */
  private renewGroup(): Promise<void> {
    this.renewing ??= (async () => {
      // A closed group renews nothing: its members' leases lapse, as when its process stops.
      if (this.closed)
        throw new FaaSKeeperError('CONNECTIONLOSS', 'CONNECTIONLOSS: the group lease is closed');
      const at = this.clock.now();
      try {
        await this.leases.renewGroup(this.item, signGroupRenewal(this.key, this.id, at));
        this.renewalCount++;
        const before = this.renewedAt;
        this.renewedAt = Math.max(this.renewedAt, at);
        if (before + (this.shortestTimeout() ?? Number.POSITIVE_INFINITY) < at) this.recheck();
      } finally {
        this.renewing = undefined;
      }
    })();
    return this.renewing;
  }

  /**
   * After a gap in the group's renewals longer than a member's timeout (the store was unreachable),
   * the heartbeat may have ended members meanwhile: each covered member joins again (a conditional
   * write), and one whose lease is gone is told so at its next renewal (`'absent'`), since a client
   * whose channel is paused learns its session's end from its renewals alone.
   */
  private recheck(): void {
    for (const [session, m] of this.members) {
      if (m.state !== 'covered') continue;
      this.inOrder(m, () => this.leases.join(m.lease, this.id, this.membership(session, m))).then(
        (found) => {
          if (found === 'absent' && m.state === 'covered') m.state = 'ended';
        },
        // Unreachable again: the next gap's recheck asks again.
        (error: unknown) => this.options.onError?.(error),
      );
    }
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sets the timer for the next group renewal (or its retry `retryMs` from now). */
  private schedule(retryMs?: number): void {
    this.stopTimer();
    const shortest = this.shortestTimeout();
    if (this.closed || shortest === undefined) return;
    const due = retryMs ?? this.renewedAt + this.periodOf(shortest) - this.clock.now();
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.renewGroup().then(
          () => this.schedule(),
          (error: unknown) => {
            this.options.onError?.(error);
            const shortestNow = this.shortestTimeout();
            if (shortestNow !== undefined) this.schedule(shortestNow * RETRY_SHARE);
          },
        );
      },
      Math.max(1, Math.floor(due)),
    );
  }
}
