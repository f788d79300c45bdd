/*
 * FIFO client order (docs/guarantees.md "FIFO client order"): a client's operations take effect in
 * the order it issued them. Requests keep their order in the writer queue; reads do not go through
 * it, so a read waits for every earlier request of its client to be answered, and a request issued
 * after a read is not sent until that read is answered (else a slow read could see a write its own
 * client issued later).
 *
 * Both waits are the rare case: most reads find the client's last request answered and most sends
 * find no read in flight. So nothing is allocated per request, and a read's promise to wait on is
 * made only when a request asks for it.
 */

interface ReadInFlight {
  /** The seq of the last request issued before the read. */
  after: number;
  /** Resolves once the read has ended; made when a request first waits for it. */
  done?: Promise<void>;
  end?: () => void;
}

const ignore = (): void => {};

/** Where a client's direct reads stand relative to its requests. */
export class FifoOrder {
  private lastSeq = 0;
  /** The last request issued; `undefined` once it is known to have ended. */
  private last: Promise<unknown> | undefined;
  /** Resolves once `last` has ended (it may reject: the read only waits for it to end). */
  private lastEnded: Promise<void> | undefined;
  private readonly reads = new Set<ReadInFlight>();

  /**
   * A request `seq` was issued; `settled` resolves or rejects once it is answered or has failed
   * (its rejection is its caller's to handle: it is only waited for here).
   */
  issued(seq: number, settled: Promise<unknown>): void {
    this.lastSeq = seq;
    this.last = settled;
    this.lastEnded = undefined;
  }

  /** Runs a direct read after every request issued before it, holding later requests until it is done. */
  read<T>(run: () => Promise<T>): Promise<T> {
    const earlier = this.earlierRequest();
    const entry: ReadInFlight = { after: this.lastSeq };
    this.reads.add(entry);
    let done: Promise<T>;
    try {
      done = earlier === undefined ? run() : earlier.then(run);
    } catch (error) {
      done = Promise.reject(error);
    }
    // Registered before the caller's own reaction: the hold is gone when the caller resumes.
    const end = () => {
      this.reads.delete(entry);
      entry.end?.();
    };
    done.then(end, end);
    return done;
  }

  /**
   * The oldest reads still in flight: requests with a seq above `after` must not be sent before
   * `done` has resolved. `undefined` when no read holds anything back.
   */
  hold(): { after: number; done: Promise<unknown> } | undefined {
    if (this.reads.size === 0) return undefined;
    let after = Number.POSITIVE_INFINITY;
    for (const r of this.reads) after = Math.min(after, r.after);
    const oldest: Promise<void>[] = [];
    for (const r of this.reads) if (r.after === after) oldest.push(ended(r));
    return { after, done: Promise.all(oldest) };
  }

  /** What a read must wait for: the end of the last request, or `undefined` when it has ended. */
  private earlierRequest(): Promise<void> | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    if (this.lastEnded === undefined) {
      const clear = () => {
        if (this.last === last) {
          this.last = undefined;
          this.lastEnded = undefined;
        }
      };
      this.lastEnded = last.then(clear, clear);
    }
    return this.lastEnded;
  }
}

/** A promise that resolves once the read `r` has ended. */
function ended(r: ReadInFlight): Promise<void> {
  if (r.done === undefined) {
    let resolve: () => void = ignore;
    r.done = new Promise<void>((res) => {
      resolve = res;
    });
    r.end = resolve;
  }
  return r.done;
}
