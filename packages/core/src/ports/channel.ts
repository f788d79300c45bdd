/**
 * Server-to-client delivery for one session (an SQS queue or Pub/Sub subscription per session,
 * or memory). Messages to one session arrive in send order, at least once.
 */
export interface ChannelSubscription {
  close(): Promise<void>;
  /**
   * Stops taking messages once the receive under way (if any) has ended, without ending the
   * subscription; optional. A channel that polls (SQS) has it: aborting a long poll mid-wait can
   * leave the service holding the next message for that dead request (hidden until its visibility
   * timeout, or lost if the session's channel is removed meanwhile), so a pause lets the poll under
   * way run out — what it brings is still delivered — and starts no other.
   */
  pause?(): void;
  /** Takes messages again after {@link pause}: polls at once unless a poll is still under way. */
  resume?(): void;
}

/**
 * Every method takes the session's `incarnation` too: a session resumed by another client (a
 * ZooKeeper client that reconnected through another gateway process) gets a channel of its own per
 * incarnation, so that the replaced client's polling cannot take the new one's messages.
 * Incarnation 0 (the client that opened the session) is the session's first channel.
 *
 * And a `tag`: each incarnation has two channels (docs/guarantees.md "Availability of a session's
 * channel"). Without a tag, the bootstrap channel, named after the session and incarnation alone,
 * which carries only what a client must read before it has its channel key (the open or resume
 * reply, a resume's SESSIONEXPIRED answer); with one, the channel whose name holds the tag
 * (`channelTag`, secret: derived from the session's channel key), which carries everything else. A
 * channel whose clients hold cloud credentials names its queues (topics, subscriptions) after the
 * tag, so that only whoever holds the channel key can reach them; one in memory keeps a mailbox
 * per tag. Where channels are not sealed (no channel secret) everything uses the bootstrap channel.
 */
export interface Channel {
  /** Largest message body, in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /**
   * An idle client with nothing to receive may stop taking messages until it sends a request
   * (docs/guarantees.md "Sessions"): through the subscription's `pause` and `resume` where it has
   * them, otherwise by closing it and subscribing again later, which must then lose and cost
   * nothing (the session's queue and what it holds stay). Default false.
   */
  readonly pausable?: boolean;
  /**
   * Sends messages to a session in order (to its channel named by `tag`, else to its bootstrap
   * channel), creating the channel if it does not exist yet. Sending to a session nobody listens to
   * is not an error.
   */
  send(session: number, messages: string[], incarnation?: number, tag?: string): Promise<void>;
  /**
   * Starts delivery of a session's messages (of its channel named by `tag`, else of its bootstrap
   * channel) to `onMessages`, in order, creating the channel if it does not exist yet; a batch
   * counts as delivered when the callback returns (a throw redelivers it).
   */
  subscribe(
    session: number,
    onMessages: (messages: string[]) => void,
    incarnation?: number,
    tag?: string,
  ): Promise<ChannelSubscription>;
  /**
   * Removes what the channel keeps for a closed session: the channel named by `tag`, else the
   * bootstrap one. `drained`: nothing on it is left to read (a sealed deployment's bootstrap channel
   * carried only the open reply), so an adapter that otherwise keeps unread messages for the client
   * (Pub/Sub: the subscription outlives its topic) may remove everything at once.
   */
  remove(session: number, incarnation?: number, tag?: string, options?: { drained?: boolean }): Promise<void>;
  /**
   * Creates a session's channel named by `tag` before its first message, where creating channels is
   * the sender's job (Pub/Sub: clients create nothing). The distributor calls it before it sends
   * the open or resume reply, so that the client finds the channel it moves to. Optional.
   */
  prepare?(session: number, incarnation: number, tag: string): Promise<void>;
  /**
   * The bootstrap channel of a resume the writer refused (the distributor has just sent its
   * SESSIONEXPIRED answer there): nothing more goes to it, and no session end will remove it. An
   * adapter whose clients cannot delete what they pull (Pub/Sub) marks it for {@link reap}, which
   * removes it once its client has had time to read the answer. Optional: where the client removes
   * its own channel (SQS, memory), nothing is left behind and the method is absent.
   */
  abandon?(session: number, incarnation: number): Promise<void>;
  /**
   * Removes what channels ended earlier still keep for their clients (Pub/Sub: a removed secret
   * channel's subscription, detached from its deleted topic; an abandoned bootstrap channel) once
   * their grace has passed, so that the client had time to read what was left. Only channels that
   * `remove` or `abandon` marked: a live session's channel is never touched. The heartbeat calls it
   * on every run, after its expiries; it must cost little when there is nothing to reap. Optional:
   * an adapter whose `remove` leaves nothing behind (SQS deletes the queue, memory drops the
   * mailbox once read) has none.
   */
  reap?(): Promise<void>;
}
