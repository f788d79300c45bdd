/*
 * Sessions (docs/guarantees.md "Sessions and ephemeral nodes"): an idle client renews its session's
 * lease every 0.6 of its session timeout (one conditional write, answered by the store), so that
 * its session and its ephemeral nodes live on; without a lease port it pings through the writer
 * every third of it. Silence (no channel message, no answered renewal) for two thirds of the
 * timeout shows as DISCONNECTED, a sign of life shows CONNECTED again, and a session that ended
 * is EXPIRED or CLOSED for good.
 */

import { FaaSKeeperError } from '../model/errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { LeaseRenewal } from '../ports/session-lease.js';
import { delay } from '../util/async.js';
import type { SessionState } from './types.js';

/** A new session id: 52 random bits, never 0. */
export function randomSessionId(): number {
  const b = new Uint32Array(2);
  globalThis.crypto.getRandomValues(b);
  // 52 random bits, never 0: a safe integer, like ZooKeeper's 64-bit ids but exact in JS numbers.
  return (b[0]! & 0xfffff) * 2 ** 32 + b[1]! || 1;
}

/** How often a session's lease is renewed, as a share of its timeout (docs/guarantees.md "Sessions"). */
export const LEASE_RENEWAL_SHARE = 0.6;

/** How often a renewal is retried while the deployment cannot be reached, as a share of the timeout. */
const RETRY_SHARE = 0.1;

/**
 * The session's state as the client sees it, and the renewals that keep it alive: with a lease
 * (`renew` given), one conditional write to the lease every 0.6 of the timeout when idle; without,
 * a ping request through the writer every third of it (as before leases).
 */
export class Liveness {
  private current: SessionState = 'CONNECTING';
  /** When the last renewal began: a lease renewal sent (and answered), or a request issued. */
  private lastRenewedAt = 0;
  private lastHeardAt = 0;
  private timer: TimerHandle | undefined;
  /** A lease renewal is in flight: one at a time, so the lease only moves forward. */
  private renewing = false;
  /** Renewals failed in a row (unreachable store): the back-off of the next retry. */
  private failures = 0;
  /** Renewals in a row that found no lease. */
  private absent = 0;

  /**
   * @param clock - the client's clock
   * @param timeoutMs - the session timeout
   * @param onState - told every change of state, in order
   * @param ping - sends a ping request (any request renews the session)
   * @param renew - renews the session's lease as of the given time; without it, the client pings
   * @param hooks - `idle`: called at each timer tick while CONNECTED (the client may pause its
   *   channel); `gone`: two renewals in a row found no lease, the ping between them did not give
   *   the session one — it has ended (the channel's notice may never come to a paused client);
   *   `renewalShare`: the share of the timeout between renewals (default {@link LEASE_RENEWAL_SHARE})
   */
  constructor(
    private readonly clock: Clock,
    private timeoutMs: number,
    private readonly onState: (state: SessionState) => void,
    private readonly ping: () => void,
    private readonly renew?: (at: number) => Promise<LeaseRenewal>,
    private readonly hooks: { idle?: () => void; gone?: () => void; renewalShare?: number } = {},
  ) {}

  /** The session's state. */
  get state(): SessionState {
    return this.current;
  }

  /** Whether the session is open (requests given up unsent still owe the writer their seq). */
  get open(): boolean {
    return this.current === 'CONNECTED' || this.current === 'DISCONNECTED';
  }

  /** @throws FaaSKeeperError SESSIONEXPIRED once the session expired or the client closed. */
  checkUsable(): void {
    if (this.current === 'EXPIRED')
      throw new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the session has expired');
    if (this.current === 'CLOSED')
      throw new FaaSKeeperError('SESSIONEXPIRED', 'SESSIONEXPIRED: the client is closed');
  }

  /** The session's timeout, ms. */
  get sessionTimeoutMs(): number {
    return this.timeoutMs;
  }

  /** The session's timeout is `timeoutMs` after all (a resumed session keeps the one it was opened with). */
  retime(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
  }

  /** The session was opened: CONNECTED, and renewals start. */
  opened(): void {
    this.lastHeardAt = this.clock.now();
    this.lastRenewedAt = this.lastHeardAt;
    this.set('CONNECTED');
    this.schedule();
  }

  /** A request was issued: the session is being renewed, no renewal is needed for a while. */
  sent(): void {
    this.lastRenewedAt = this.clock.now();
  }

  /** Sending to the deployment failed: the client cannot reach it. */
  sendFailed(): void {
    if (this.current === 'CONNECTED') this.set('DISCONNECTED');
  }

  /** A channel message or a renewal's answer arrived: the deployment is reachable. */
  heard(): void {
    this.lastHeardAt = this.clock.now();
    if (this.current === 'DISCONNECTED') this.set('CONNECTED');
  }

  /** The session ended: renewals stop, and the state is final. */
  end(state: 'EXPIRED' | 'CLOSED'): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.set(state);
  }

  private get ended(): boolean {
    return this.current === 'CLOSED' || this.current === 'EXPIRED';
  }

  private set(state: SessionState): void {
    if (this.current === state) return;
    this.current = state;
    this.onState(state);
  }

  /** Renews when idle, and notices silence; one timer, set for the next thing due. */
  private schedule(): void {
    let delay = this.renewEveryMs();
    if (this.renew !== undefined) {
      const now = this.clock.now();
      // While a renewal is in flight the next is not due; while DISCONNECTED, retry soon.
      const renewAt = this.renewing ? Number.POSITIVE_INFINITY : this.lastRenewedAt + delay;
      const retryAt =
        this.current === 'DISCONNECTED' ? now + this.timeoutMs * RETRY_SHARE : Number.POSITIVE_INFINITY;
      const silentAt =
        this.current === 'CONNECTED'
          ? this.lastHeardAt + (this.timeoutMs * 2) / 3 + 1
          : Number.POSITIVE_INFINITY;
      delay = Math.min(renewAt, retryAt, silentAt) - now;
    }
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(1, Math.floor(delay)));
  }

  /** Sets the timer again after a renewal's answer changed what is due next. */
  private reschedule(): void {
    if (this.ended) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.schedule();
  }

  private renewEveryMs(): number {
    const share = this.renew === undefined ? 1 / 3 : (this.hooks.renewalShare ?? LEASE_RENEWAL_SHARE);
    return Math.max(1, Math.floor(this.timeoutMs * share));
  }

  private tick(): void {
    this.timer = undefined;
    if (this.ended) return;
    const now = this.clock.now();
    // As ZooKeeper's client: silence for two thirds of the session timeout means disconnected.
    if (now - this.lastHeardAt > (this.timeoutMs * 2) / 3 && this.current === 'CONNECTED')
      this.set('DISCONNECTED');
    const due = now - this.lastRenewedAt >= this.renewEveryMs() || this.current === 'DISCONNECTED';
    if (due) {
      if (this.renew === undefined) this.ping();
      else this.renewLease(this.renew, now);
    }
    if (this.current === 'CONNECTED') this.hooks.idle?.();
    this.schedule();
  }

  /**
   * One lease renewal. Its answer is a sign of life of the deployment; a missing lease means the
   * session is gone (or predates leases): the client then pings through the writer, which answers
   * SESSIONEXPIRED for a gone session (EXPIRED) or gives an old one its lease.
   */
  private renewLease(renew: (at: number) => Promise<LeaseRenewal>, at: number): void {
    if (this.renewing) return;
    this.renewing = true;
    renew(at).then(
      (found) => {
        this.renewing = false;
        if (this.ended) return;
        this.failures = 0;
        if (found === 'renewed') {
          this.absent = 0;
          this.lastRenewedAt = Math.max(this.lastRenewedAt, at);
          this.heard();
        } else if (++this.absent >= 2 && this.hooks.gone !== undefined) {
          this.hooks.gone();
          return;
        } else this.ping();
        this.reschedule();
      },
      () => {
        // Unreachable: shown as DISCONNECTED, and retried — by the timer, and after a short real-time
        // back-off as the request pipeline retries its sends, so that a client whose clock stands
        // still (or whose timer is far) reconnects as soon as the store answers again.
        this.renewing = false;
        if (this.ended) return;
        this.sendFailed();
        this.reschedule();
        this.failures++;
        void delay(Math.min(1000, 5 * 2 ** Math.min(this.failures, 8))).then(() => {
          if (this.current === 'DISCONNECTED') this.renewLease(renew, this.clock.now());
        });
      },
    );
  }
}
