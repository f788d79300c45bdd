/**
 * Public calls that set a watch, and the hold on their watch's events: the reply of such a call
 * reaches its caller before the events of the watch it set, even when both arrive in one channel
 * delivery (ZooKeeper's order; docs/guarantees.md "Ordered notifications").
 */

import { EventHold } from './channel-inbox.js';
import type { WatchedReadRequest } from './consistent-reader.js';
import type { Watcher } from './types.js';

/** A public call being issued; `answered` is the promise its caller awaits. */
interface Call {
  answered?: Promise<unknown>;
}

/** Ties each watch-setting reply to the promise its caller holds, and holds events behind it. */
export class WatchedCalls {
  /** Watch events wait here behind a reply that set a watch, until that reply's caller has it. */
  readonly hold = new EventHold();
  /** The public call with a watcher whose request is being issued (see {@link run}). */
  private issuing: Call | undefined;

  /**
   * The consistent reader's request hook around `send`: a watched read issued by {@link run} holds
   * events once its reply is taken.
   */
  readRequest(send: WatchedReadRequest): WatchedReadRequest {
    return (op, onReply) => {
      // Issued synchronously by the public read in `run`: `issuing` is that call.
      const call = op.unwatched === true ? undefined : this.issuing;
      return send(op, (reply) => {
        onReply(reply);
        this.holdFor(call);
      });
    };
  }

  /**
   * Runs a public read and returns its very promise: with a watcher, the reply that sets the watch
   * holds the watch's events back until that promise (the one the caller awaits) has settled. The
   * read issues its request synchronously, while `issuing` names this call.
   */
  run<T>(watcher: Watcher | undefined, read: () => Promise<T>): Promise<T> {
    if (watcher === undefined) return read();
    const call: Call = {};
    this.issuing = call;
    let answered: Promise<T>;
    try {
      answered = read();
    } finally {
      this.issuing = undefined;
    }
    call.answered = answered;
    return answered;
  }

  /**
   * An addWatch: `issue` sends the request and calls `replied` when its reply registers the
   * watch; events then wait until the returned promise has settled.
   */
  addWatch(issue: (replied: () => void) => Promise<void>): Promise<void> {
    const call: Call = {};
    const answered = issue(() => this.holdFor(call));
    call.answered = answered;
    return answered;
  }

  private holdFor(call: Call | undefined): void {
    if (call?.answered !== undefined) this.hold.until(call.answered);
  }
}
