import type { Operation } from './checker.js';

/**
 * Records a concurrent history: each operation's invocation and return get ticks of one counter,
 * which only grows, so "returned before invoked" is exact. An operation that never completes (or
 * whose outcome is unknown) returns at `Infinity`.
 */
export class HistoryRecorder<I, O> {
  private tick = 0;
  readonly ops: Operation<I, O>[] = [];

  /**
   * Marks an invocation; call the returned function with the output when it returns. It returns
   * the recorded operation, which may still be settled later (see {@link resolve}).
   */
  invoke(client: number, input: I): (output: O, unknownOutcome?: boolean) => Operation<I, O> {
    const call = ++this.tick;
    return (output, unknownOutcome = false) => {
      const op: Operation<I, O> = {
        client,
        input,
        output,
        call,
        return: unknownOutcome ? Number.POSITIVE_INFINITY : ++this.tick,
      };
      this.ops.push(op);
      return op;
    };
  }

  /** A tick of the history's clock now (e.g. when a late reply shows how an operation ended). */
  stamp(): number {
    return ++this.tick;
  }

  /**
   * Settles an operation of unknown outcome once its result is learnt: its output and the tick by
   * which it had returned, or `undefined` to drop it (it took no effect).
   */
  resolve(op: Operation<I, O>, outcome: { output: O; return: number } | undefined): void {
    const i = this.ops.indexOf(op);
    if (i < 0) return;
    if (outcome === undefined) this.ops.splice(i, 1);
    else this.ops[i] = { ...op, output: outcome.output, return: outcome.return };
  }

  /**
   * Records an operation that ran alone after everything else (e.g. a final read of the drained
   * state). Operations of unknown outcome keep their open end: "never took effect" is one of the
   * outcomes, and it is the one ordered after these reads.
   */
  final(client: number, input: I, output: O): void {
    const call = ++this.tick;
    this.ops.push({ client, input, output, call, return: ++this.tick });
  }
}
