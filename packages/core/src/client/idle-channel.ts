/*
 * The session's channel subscription, closed while the client has nothing to receive (docs/
 * guarantees.md "Sessions"): an idle client — no request in flight, no watch registered — is owed
 * no channel message (every message is a reply, a watch event, or the session's end, which the
 * lease renewal learns too), so on a channel where subscribing again loses and costs nothing
 * (`Channel.pausable`) it stops polling until it sends its next request: through the
 * subscription's own `pause` and `resume` where it has them (a polling channel lets the poll under
 * way run out: aborting it could lose the next message), else by closing and subscribing again.
 */
import type { Channel, ChannelSubscription } from '../ports/channel.js';

/** A session's channel subscription that can be paused while idle and resumed on demand. */
export class IdleChannel {
  private subscription: ChannelSubscription | undefined;
  private wanted = true;
  private ended = false;
  /** Subscribes and closes one at a time, in the order asked. */
  private chain: Promise<void> = Promise.resolve();

  /**
   * @param channel - the deployment's channel
   * @param session - the session whose messages to take
   * @param onMessages - the subscriber, the same across pauses (it drops redelivered messages)
   * @param report - told a failed subscribe or close after the first (nobody awaits those)
   * @param incarnation - the session's incarnation whose channel this is (0: the opener's)
   * @param tag - the secret tag naming the channel (`Channel`); absent: the bootstrap channel
   */
  constructor(
    private readonly channel: Channel,
    private readonly session: number,
    private readonly onMessages: (messages: string[]) => void,
    private readonly report: (error: unknown) => void,
    private readonly incarnation = 0,
    private readonly tag?: string,
  ) {}

  /** The first subscription (connect). @throws what the channel's subscribe throws. */
  async open(): Promise<void> {
    this.subscription = await this.channel.subscribe(
      this.session,
      this.onMessages,
      this.incarnation,
      this.tag,
    );
  }

  /** Whether the subscription is paused (tests, figures). */
  get paused(): boolean {
    return !this.wanted;
  }

  /** A message may come: subscribe again if paused (or if subscribing again failed). */
  resume(): void {
    if (this.ended || (this.wanted && this.subscription !== undefined)) return;
    this.wanted = true;
    this.sync();
  }

  /** Nothing can come: stop taking messages, where the channel loses nothing by it. */
  pause(): void {
    if (this.ended || !this.wanted || this.channel.pausable !== true) return;
    this.wanted = false;
    this.sync();
  }

  /** Ends the subscription for good. */
  close(): Promise<void> {
    this.ended = true;
    this.wanted = false;
    const closing = this.step();
    // The caller of close() gets the failure from `closing`; the chain only orders later steps.
    this.chain = closing.catch(() => undefined);
    return closing;
  }

  private sync(): void {
    this.chain = this.step().catch((error: unknown) => this.report(error));
  }

  /** Brings the subscription to what is wanted, after whatever is under way. */
  private step(): Promise<void> {
    return this.chain.then(async () => {
      const s = this.subscription;
      if (this.wanted && !this.ended) {
        if (s === undefined)
          this.subscription = await this.channel.subscribe(
            this.session,
            this.onMessages,
            this.incarnation,
            this.tag,
          );
        else s.resume?.();
      } else if (s !== undefined) {
        // Paused, not ended: a subscription that pauses by itself stays (resume takes it up again).
        if (!this.ended && s.pause !== undefined && s.resume !== undefined) {
          s.pause();
          return;
        }
        this.subscription = undefined;
        await s.close();
      }
    });
  }
}
