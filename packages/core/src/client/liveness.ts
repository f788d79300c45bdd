/*
 * Sessions (docs/guarantees.md "Sessions and ephemeral nodes"): an idle client pings every third of
 * its session timeout so that its session and its ephemeral nodes live on; silence on the channel
 * for two thirds of the timeout shows as DISCONNECTED, a message heard shows CONNECTED again, and
 * a session that ended is EXPIRED or CLOSED for good.
 */

import { FaaSKeeperError } from '../model/errors.js';
import type { Clock, TimerHandle } from '../ports/clock.js';
import type { SessionState } from './types.js';

/** A new session id: 52 random bits, never 0. */
export function randomSessionId(): number {
  const b = new Uint32Array(2);
  globalThis.crypto.getRandomValues(b);
  // 52 random bits, never 0: a safe integer, like ZooKeeper's 64-bit ids but exact in JS numbers.
  return (b[0]! & 0xfffff) * 2 ** 32 + b[1]! || 1;
}

/** The session's state as the client sees it, and the pings that keep it alive. */
export class Liveness {
  private current: SessionState = 'CONNECTING';
  private lastSentAt = 0;
  private lastHeardAt = 0;
  private pingTimer: TimerHandle | undefined;

  /**
   * @param clock - the client's clock
   * @param timeoutMs - the session timeout
   * @param onState - told every change of state, in order
   * @param ping - sends a ping request (any request renews the session)
   */
  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly onState: (state: SessionState) => void,
    private readonly ping: () => void,
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

  /** The session was opened: CONNECTED, and pings start. */
  opened(): void {
    this.lastHeardAt = this.clock.now();
    this.set('CONNECTED');
    this.schedulePing();
  }

  /** A request was issued: the session is being renewed, no ping is needed for a while. */
  sent(): void {
    this.lastSentAt = this.clock.now();
  }

  /** Sending to the writer queue failed: the client cannot reach the deployment. */
  sendFailed(): void {
    if (this.current === 'CONNECTED') this.set('DISCONNECTED');
  }

  /** A channel message arrived: the deployment is reachable. */
  heard(): void {
    this.lastHeardAt = this.clock.now();
    if (this.current === 'DISCONNECTED') this.set('CONNECTED');
  }

  /** The session ended: pings stop, and the state is final. */
  end(state: 'EXPIRED' | 'CLOSED'): void {
    if (this.pingTimer !== undefined) this.clock.clearTimeout(this.pingTimer);
    this.pingTimer = undefined;
    this.set(state);
  }

  private set(state: SessionState): void {
    if (this.current === state) return;
    this.current = state;
    this.onState(state);
  }

  /** Pings when idle, so the session stays alive. */
  private schedulePing(): void {
    const interval = Math.max(1, Math.floor(this.timeoutMs / 3));
    this.pingTimer = this.clock.setTimeout(() => {
      if (this.current === 'CLOSED' || this.current === 'EXPIRED') return;
      const now = this.clock.now();
      // As ZooKeeper's client: silence for two thirds of the session timeout means disconnected.
      if (now - this.lastHeardAt > (this.timeoutMs * 2) / 3 && this.current === 'CONNECTED')
        this.set('DISCONNECTED');
      if (now - this.lastSentAt >= interval || this.current === 'DISCONNECTED') this.ping();
      this.schedulePing();
    }, interval);
  }
}
