/*
 * FIFO client order (docs/guarantees.md "FIFO client order"): a client's operations take effect in
 * the order it issued them. Requests keep their order in the writer queue; reads do not go through
 * it, so a read waits for every earlier request of its client to be answered, and a request issued
 * after a read is not sent until that read is answered (else a slow read could see a write its own
 * client issued later).
 */

interface ReadInFlight {
  /** The seq of the last request issued before the read. */
  after: number;
  done: Promise<unknown>;
}

/** Where a client's direct reads stand relative to its requests. */
export class FifoOrder {
  private lastSeq = 0;
  private lastSettled: Promise<unknown> = Promise.resolve();
  private readonly reads = new Set<ReadInFlight>();

  /** A request `seq` was issued; `settled` resolves once it is answered or has failed. */
  issued(seq: number, settled: Promise<unknown>): void {
    this.lastSeq = seq;
    this.lastSettled = settled;
  }

  /** Runs a direct read after every request issued before it, holding later requests until it is done. */
  async read<T>(run: () => Promise<T>): Promise<T> {
    const earlier = this.lastSettled;
    const done = (async () => {
      await earlier;
      return run();
    })();
    // The read's failure goes to its caller; the hold only needs to know that it ended.
    const entry = { after: this.lastSeq, done: done.catch(() => undefined) };
    this.reads.add(entry);
    try {
      return await done;
    } finally {
      this.reads.delete(entry);
    }
  }

  /**
   * The oldest reads still in flight: requests with a seq above `after` must not be sent before
   * `done` has resolved. `undefined` when no read holds anything back.
   */
  hold(): { after: number; done: Promise<unknown> } | undefined {
    let after = Number.POSITIVE_INFINITY;
    for (const r of this.reads) after = Math.min(after, r.after);
    if (after === Number.POSITIVE_INFINITY) return undefined;
    const oldest = [...this.reads].filter((r) => r.after === after).map((r) => r.done);
    return { after, done: Promise.all(oldest) };
  }
}
