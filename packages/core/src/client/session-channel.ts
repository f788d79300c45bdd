/*
 * The channel of one incarnation of a session (docs/guarantees.md "Sessions"): the opener's
 * (incarnation 0) or a resumer's (a random id, so that a session resumed through another gateway
 * gets replies on a channel of its own). It owns the subscription (paused while idle) and the
 * channel's removal when the incarnation ends: a refused resume leaves nothing behind, and a
 * replaced incarnation removes its channel once it has read the MOVED notice.
 */
import type { EventEmitter } from 'node:events';
import type { Channel } from '../ports/channel.js';
import { IdleChannel } from './idle-channel.js';

/** The subscription and lifetime of one session incarnation's channel. */
export class SessionChannel {
  private subscription: IdleChannel | undefined;

  /**
   * @param channel - the deployment's channel
   * @param session - the session's number
   * @param incarnation - 0 for the client that opened the session, else the resumer's id
   * @param report - told failures nobody awaits (a later subscribe, a close after expiry)
   */
  constructor(
    private readonly channel: Channel,
    private readonly session: number,
    readonly incarnation: number,
    private readonly report: (error: unknown) => void,
  ) {}

  /** Subscribes `onMessages`; must resolve before the session's first request is sent. */
  async open(onMessages: (messages: string[]) => void): Promise<void> {
    const subscription = new IdleChannel(
      this.channel,
      this.session,
      onMessages,
      this.report,
      this.incarnation,
    );
    await subscription.open();
    this.subscription = subscription;
  }

  /** A message may come (a request was sent, or the client lost touch): take messages again. */
  resume(): void {
    this.subscription?.resume();
  }

  /** Nothing can come: stop polling where the channel loses nothing by it. */
  pause(): void {
    this.subscription?.pause();
  }

  /** Ends the subscription (close, or the end of a session). @throws what the channel's close throws. */
  close(): Promise<void> {
    return this.subscription?.close() ?? Promise.resolve();
  }

  /**
   * The session was not opened or resumed: close, and remove a resumer's channel, which was this
   * client's alone. @throws what closing the subscription throws.
   */
  async abandon(): Promise<void> {
    await this.close();
    if (this.incarnation !== 0)
      await this.channel.remove(this.session, this.incarnation).catch((e: unknown) => this.report(e));
  }

  /**
   * The session ended for this client while nobody awaits it (expired, or moved to another
   * incarnation): close, and for `moved` remove this incarnation's channel. Failures go to `report`.
   */
  end(moved: boolean): void {
    const closing = this.close();
    const done = moved ? closing.then(() => this.channel.remove(this.session, this.incarnation)) : closing;
    done.catch((error: unknown) => this.report(error));
  }
}

/**
 * Work nobody awaits failed (`what`: by default a channel subscribe or close): to the client's
 * 'error' listeners, or a process warning.
 */
export function reportChannelFailure(
  client: EventEmitter,
  sessionId: string,
  error: unknown,
  what = 'subscribing to or closing the channel',
): void {
  if (client.listenerCount('error') > 0) client.emit('error', error);
  else process.emitWarning(`FaaSKeeper: ${what} of session ${sessionId} failed: ${String(error)}`);
}
