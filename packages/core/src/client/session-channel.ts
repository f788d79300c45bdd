/*
 * The channel of one incarnation of a session (docs/guarantees.md "Sessions"): the opener's
 * (incarnation 0) or a resumer's (a random id, so that a session resumed through another gateway
 * gets replies on a channel of its own). It owns the subscription (paused while idle) and the
 * channel's removal when the incarnation ends: a refused resume leaves nothing behind, and a
 * replaced incarnation removes its channel once it has read the MOVED notice.
 *
 * Each incarnation has two channels (ports/channel.ts, docs/guarantees.md "Availability of a
 * session's channel"): the client listens on the bootstrap one, named after the session, until the
 * open (or resume) reply hands it the channel key; then on the one named by the key's secret tag,
 * where everything else was sent (messages sent meanwhile wait there), and it removes the
 * bootstrap one. Where channels are not sealed (no key) the bootstrap channel is the only one.
 */
import type { EventEmitter } from 'node:events';
import type { Channel } from '../ports/channel.js';
import { channelTag } from '../session/channel-tag.js';
import { IdleChannel } from './idle-channel.js';

/** The subscription and lifetime of one session incarnation's channel. */
export class SessionChannel {
  private subscription: IdleChannel | undefined;
  private onMessages: ((messages: string[]) => void) | undefined;
  /** The secret channel's tag, once the client has the channel key. */
  private tag: string | undefined;
  /** The bootstrap channel's close and removal, once the secret channel took over. */
  private bootstrapGone: Promise<void> = Promise.resolve();

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

  /**
   * Subscribes `onMessages` to the bootstrap channel; must resolve before the session's first
   * request (its open or resume) is sent.
   */
  async open(onMessages: (messages: string[]) => void): Promise<void> {
    const subscription = new IdleChannel(
      this.channel,
      this.session,
      onMessages,
      this.report,
      this.incarnation,
    );
    await subscription.open();
    this.onMessages = onMessages;
    this.subscription = subscription;
  }

  /**
   * The open or resume reply handed over the channel `key` (`undefined`: channels are not sealed,
   * the bootstrap channel stays the channel): `onMessages` takes the secret channel's messages from
   * now on, and the bootstrap channel is closed and removed (a failure of that goes to `report`:
   * the session's end removes it too). Both deliver to the same subscriber, which drops a message
   * it had by its order key.
   * @throws what subscribing to the secret channel throws; the bootstrap subscription stays then.
   */
  async named(key: Uint8Array | undefined): Promise<void> {
    const bootstrap = this.subscription;
    if (key === undefined || this.onMessages === undefined || this.tag !== undefined) return;
    const tag = channelTag(key, this.session, this.incarnation);
    const secret = new IdleChannel(
      this.channel,
      this.session,
      this.onMessages,
      this.report,
      this.incarnation,
      tag,
    );
    await secret.open();
    this.tag = tag;
    this.subscription = secret;
    // Nothing more comes on the bootstrap channel (its one message, the reply, is taken).
    try {
      await bootstrap?.close();
    } catch (error) {
      // Its poll ends with the channel's removal anyway: not the open's failure.
      this.report(error);
    }
    // Not awaited by the open (a request's worth of latency); `close` waits for it.
    this.bootstrapGone = this.channel
      .remove(this.session, this.incarnation)
      .catch((error: unknown) => this.report(error));
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
  async close(): Promise<void> {
    await this.bootstrapGone;
    await this.subscription?.close();
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
    const done = moved
      ? closing.then(() => this.channel.remove(this.session, this.incarnation, this.tag))
      : closing;
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
