/**
 * A linearizability checker for recorded histories, after Wing & Gong with Lowe's just-in-time
 * linearization and the memoization of Porcupine (a (linearized set, state) pair is explored at
 * most once), split by P-compositionality: operations on disjoint keys are checked apart.
 */

/** One completed (or abandoned) operation of a history. */
export interface Operation<I, O> {
  /** Who issued it (operations of one client never overlap). */
  client: number;
  input: I;
  output: O;
  /** When it was invoked and when it returned, on one monotonic timeline; `Infinity` for an op whose outcome is unknown. */
  call: number;
  return: number;
}

/** A sequential specification. */
export interface Model<S, I, O> {
  /** The state before any operation (of one partition). */
  init(): S;
  /** The state after `input` returning `output` in `state`, or `undefined` when that output is impossible there. */
  step(state: S, input: I, output: O): S | undefined;
  /** A canonical text of a state (memoization key). */
  hash(state: S): string;
  /** Keys an operation touches; operations with no key in common are checked apart. */
  keys?(input: I): string[];
  /** A line describing an operation in failure reports. */
  describe?(op: Operation<I, O>): string;
}

/** The verdict on a history. */
export interface LinearizabilityResult<I, O> {
  /** `true`: linearizable; `false`: not; `'unknown'`: the search hit its step limit. */
  ok: boolean | 'unknown';
  /** Number of independent partitions checked. */
  partitions: number;
  /** Search steps taken, all partitions. */
  steps: number;
  /** The operations of the first partition that is not linearizable (or undecided). */
  failing?: { keys: string[]; ops: Operation<I, O>[]; report: string };
}

/** Options of {@link checkLinearizable}. */
export interface CheckOptions {
  /** Most search steps per partition before giving up with `'unknown'`. Default 2,000,000. */
  maxSteps?: number;
}

interface Entry<I, O> {
  id: number;
  time: number;
  isCall: boolean;
  input: I;
  output: O;
  match: Entry<I, O> | undefined;
  prev: Entry<I, O> | undefined;
  next: Entry<I, O> | undefined;
}

/** Checks whether `history` is linearizable with respect to `model`. */
export function checkLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): LinearizabilityResult<I, O> {
  const parts = partition(model, history);
  let steps = 0;
  for (const part of parts) {
    const r = checkPartition(model, part.ops, options.maxSteps ?? 2_000_000);
    steps += r.steps;
    if (r.ok !== true) {
      const describe = model.describe ?? ((op: Operation<I, O>) => JSON.stringify(op));
      const lines = [...part.ops]
        .sort((a, b) => a.call - b.call)
        .map((op) => `  [${op.call}, ${op.return}] c${op.client} ${describe(op)}`);
      return {
        ok: r.ok,
        partitions: parts.length,
        steps,
        failing: {
          keys: part.keys,
          ops: part.ops,
          report: `${r.ok === false ? 'not linearizable' : 'undecided'} on ${part.keys.join(', ')} (longest linearizable prefix: ${r.best} of ${part.ops.length} ops):\n${lines.join('\n')}`,
        },
      };
    }
  }
  return { ok: true, partitions: parts.length, steps };
}

function partition<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
): { keys: string[]; ops: Operation<I, O>[] }[] {
  if (model.keys === undefined) return [{ keys: ['*'], ops: [...history] }];
  // Union-find over keys: ops that share a key (directly or through others) stay together.
  const parent = new Map<string, string>();
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  const keysOf = history.map((op) => {
    const ks = model.keys!(op.input);
    for (const k of ks) if (!parent.has(k)) parent.set(k, k);
    for (let i = 1; i < ks.length; i++) parent.set(find(ks[i]!), find(ks[0]!));
    return ks;
  });
  const groups = new Map<string, { keys: Set<string>; ops: Operation<I, O>[] }>();
  history.forEach((op, i) => {
    const ks = keysOf[i]!;
    const root = ks.length === 0 ? '' : find(ks[0]!);
    let g = groups.get(root);
    if (g === undefined) {
      g = { keys: new Set(), ops: [] };
      groups.set(root, g);
    }
    for (const k of ks) g.keys.add(k);
    g.ops.push(op);
  });
  return [...groups.values()].map((g) => ({ keys: [...g.keys].sort(), ops: g.ops }));
}

function checkPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: readonly Operation<I, O>[],
  maxSteps: number,
): { ok: boolean | 'unknown'; steps: number; best: number } {
  const events: Entry<I, O>[] = [];
  ops.forEach((op, id) => {
    const call: Entry<I, O> = {
      id,
      time: op.call,
      isCall: true,
      input: op.input,
      output: op.output,
      match: undefined,
      prev: undefined,
      next: undefined,
    };
    const ret: Entry<I, O> = { ...call, time: op.return, isCall: false };
    call.match = ret;
    events.push(call, ret);
  });
  // By time; on a tie a call goes first (the two operations overlap).
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head = { next: undefined } as unknown as Entry<I, O>;
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  const lift = (e: Entry<I, O>) => {
    e.prev!.next = e.next;
    if (e.next) e.next.prev = e.prev;
    const m = e.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (e: Entry<I, O>) => {
    const m = e.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    e.prev!.next = e;
    if (e.next) e.next.prev = e;
  };

  const cache = new Set<string>();
  const stack: { entry: Entry<I, O>; state: S }[] = [];
  let state = model.init();
  let linearized = 0n;
  let steps = 0;
  let best = 0;
  let entry = head.next;
  while (head.next !== undefined) {
    if (++steps > maxSteps) return { ok: 'unknown', steps, best };
    if (entry === undefined) return { ok: false, steps, best };
    if (entry.isCall) {
      const next = model.step(state, entry.input, entry.match!.output);
      if (next !== undefined) {
        const bits = linearized | (1n << BigInt(entry.id));
        const key = `${bits.toString(36)}|${model.hash(next)}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ entry, state });
          state = next;
          linearized = bits;
          if (stack.length > best) best = stack.length;
          lift(entry);
          entry = head.next;
          continue;
        }
      }
      entry = entry.next;
    } else {
      // A return with its call not linearized: undo the last choice and try the next candidate.
      const top = stack.pop();
      if (top === undefined) return { ok: false, steps, best };
      state = top.state;
      linearized &= ~(1n << BigInt(top.entry.id));
      unlift(top.entry);
      entry = top.entry.next;
    }
  }
  return { ok: true, steps, best };
}
