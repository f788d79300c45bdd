import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/testkit/faults/prng.js';
import {
  checkLinearizable,
  type Model,
  type Operation,
  type ZInput,
  type ZOutput,
  znodeModel,
} from '../../src/testkit/linearizability/index.js';

type Op = Operation<ZInput, ZOutput>;
const op = (client: number, call: number, ret: number, input: ZInput, output: ZOutput): Op => ({
  client,
  call,
  return: ret,
  input,
  output,
});
const ok = (extra: { data?: string; version?: number | null } = {}): ZOutput => ({ type: 'ok', ...extra });
const err = (code: 'NONODE' | 'NODEEXISTS' | 'BADVERSION'): ZOutput => ({ type: 'error', code });
const unknown: ZOutput = { type: 'unknown' };
const check = (history: Op[], initial = {}) => checkLinearizable(znodeModel(initial), history);

describe('linearizability checker (znode model)', () => {
  it('accepts a sequential history that follows the model', () => {
    const r = check([
      op(1, 1, 2, { op: 'create', path: '/a', data: 'x' }, ok()),
      op(1, 3, 4, { op: 'get', path: '/a' }, ok({ data: 'x', version: 0 })),
      op(1, 5, 6, { op: 'set', path: '/a', data: 'y', version: 0 }, ok({ version: 1 })),
      op(1, 7, 8, { op: 'set', path: '/a', data: 'z', version: 0 }, err('BADVERSION')),
      op(1, 9, 10, { op: 'exists', path: '/a' }, ok({ version: 1 })),
      op(1, 11, 12, { op: 'delete', path: '/a', version: 1 }, ok()),
      op(1, 13, 14, { op: 'get', path: '/a' }, err('NONODE')),
    ]);
    expect(r.ok).toBe(true);
  });

  it('rejects a read of a value that was never written', () => {
    const r = check([
      op(1, 1, 2, { op: 'create', path: '/a', data: 'x' }, ok()),
      op(2, 3, 4, { op: 'get', path: '/a' }, ok({ data: 'q', version: 0 })),
    ]);
    expect(r.ok).toBe(false);
    expect(r.failing?.keys).toEqual(['/a']);
  });

  it('rejects a stale read after a write returned (not linearizable, though sequentially consistent)', () => {
    const r = check(
      [
        op(1, 1, 2, { op: 'set', path: '/a', data: 'new', version: -1 }, ok({ version: 1 })),
        op(2, 3, 4, { op: 'get', path: '/a' }, ok({ data: 'old', version: 0 })),
      ],
      { '/a': { data: 'old', version: 0 } },
    );
    expect(r.ok).toBe(false);
  });

  it('accepts either order for overlapping operations', () => {
    const initial = { '/a': { data: 'old', version: 0 } };
    expect(
      check(
        [
          op(1, 1, 4, { op: 'set', path: '/a', data: 'new', version: -1 }, ok({ version: 1 })),
          op(2, 2, 3, { op: 'get', path: '/a' }, ok({ data: 'old', version: 0 })),
        ],
        initial,
      ).ok,
    ).toBe(true);
    expect(
      check(
        [
          op(1, 1, 4, { op: 'set', path: '/a', data: 'new', version: -1 }, ok({ version: 1 })),
          op(2, 2, 3, { op: 'get', path: '/a' }, ok({ data: 'new', version: 1 })),
        ],
        initial,
      ).ok,
    ).toBe(true);
  });

  it('rejects a read that goes back in time after a later read saw the new value', () => {
    const r = check(
      [
        op(1, 1, 10, { op: 'set', path: '/a', data: 'new', version: -1 }, ok({ version: 1 })),
        op(2, 2, 3, { op: 'get', path: '/a' }, ok({ data: 'new', version: 1 })),
        op(3, 4, 5, { op: 'get', path: '/a' }, ok({ data: 'old', version: 0 })),
      ],
      { '/a': { data: 'old', version: 0 } },
    );
    expect(r.ok).toBe(false);
  });

  it('rejects two successful creates of one node without a delete between', () => {
    const r = check([
      op(1, 1, 5, { op: 'create', path: '/a', data: 'x' }, ok()),
      op(2, 2, 6, { op: 'create', path: '/a', data: 'y' }, ok()),
    ]);
    expect(r.ok).toBe(false);
  });

  it('rejects a write applied twice (the version counts every set)', () => {
    const r = check(
      [
        op(1, 1, 2, { op: 'set', path: '/a', data: 'x', version: -1 }, ok({ version: 1 })),
        op(1, 3, 4, { op: 'exists', path: '/a' }, ok({ version: 2 })),
      ],
      { '/a': { data: 'old', version: 0 } },
    );
    expect(r.ok).toBe(false);
  });

  it('rejects a lost acknowledged write', () => {
    const r = check([
      op(1, 1, 2, { op: 'create', path: '/a', data: 'x' }, ok()),
      op(2, 3, 4, { op: 'exists', path: '/a' }, ok({ version: null })),
    ]);
    expect(r.ok).toBe(false);
  });

  it('lets an operation of unknown outcome take effect or not', () => {
    const pending = op(1, 1, Number.POSITIVE_INFINITY, { op: 'create', path: '/a', data: 'x' }, unknown);
    expect(check([pending, op(2, 3, 4, { op: 'get', path: '/a' }, ok({ data: 'x', version: 0 }))]).ok).toBe(
      true,
    );
    expect(check([pending, op(2, 3, 4, { op: 'get', path: '/a' }, err('NONODE'))]).ok).toBe(true);
    // But it takes effect at most once, at one point: seen, then unseen, is wrong.
    expect(
      check([
        pending,
        op(2, 3, 4, { op: 'get', path: '/a' }, ok({ data: 'x', version: 0 })),
        op(2, 5, 6, { op: 'get', path: '/a' }, err('NONODE')),
      ]).ok,
    ).toBe(false);
  });

  it('checks a multi atomically: no reader sees half of it', () => {
    const multi: ZInput = {
      op: 'multi',
      ops: [
        { op: 'create', path: '/a', data: '1' },
        { op: 'create', path: '/b', data: '1' },
      ],
    };
    expect(
      check([
        op(1, 1, 10, multi, ok()),
        op(2, 2, 3, { op: 'exists', path: '/a' }, ok({ version: 0 })),
        op(2, 4, 5, { op: 'exists', path: '/b' }, ok({ version: null })),
      ]).ok,
    ).toBe(false);
    expect(
      check([
        op(1, 1, 10, multi, ok()),
        op(2, 2, 3, { op: 'exists', path: '/a' }, ok({ version: 0 })),
        op(2, 4, 5, { op: 'exists', path: '/b' }, ok({ version: 0 })),
      ]).ok,
    ).toBe(true);
    // A failed multi applies nothing.
    expect(
      check(
        [
          op(
            1,
            1,
            2,
            {
              op: 'multi',
              ops: [
                { op: 'create', path: '/b', data: '1' },
                { op: 'check', path: '/a', version: 3 },
              ],
            },
            err('BADVERSION'),
          ),
          op(1, 3, 4, { op: 'exists', path: '/b' }, ok({ version: 0 })),
        ],
        { '/a': { data: '', version: 0 } },
      ).ok,
    ).toBe(false);
  });

  it('checks disjoint paths apart (P-compositionality) and names the failing one', () => {
    const history: Op[] = [];
    for (let i = 0; i < 5; i++) {
      history.push(op(1, 4 * i + 1, 4 * i + 2, { op: 'create', path: `/p${i}`, data: 'x' }, ok()));
      history.push(op(2, 4 * i + 3, 4 * i + 4, { op: 'get', path: `/p${i}` }, ok({ data: 'x', version: 0 })));
    }
    history.push(op(3, 100, 101, { op: 'get', path: '/p3' }, err('NONODE')));
    const r = check(history);
    expect(r.partitions).toBe(5);
    expect(r.ok).toBe(false);
    expect(r.failing?.keys).toEqual(['/p3']);
    expect(r.failing?.report).toContain('not linearizable');
  });

  it('decides a wide concurrent history quickly thanks to memoization', () => {
    // 8 clients, 10 rounds each of fully overlapping blind writes then reads: the naive search is
    // exponential, the memoized one visits each (set, state) once.
    const history: Op[] = [];
    let t = 0;
    for (let round = 0; round < 10; round++) {
      const start = ++t;
      const ends: number[] = [];
      for (let c = 0; c < 8; c++) ends.push(t + 20 + c);
      for (let c = 0; c < 8; c++)
        history.push(
          op(c, start, ends[c]!, { op: 'set', path: '/a', data: `r${round}`, version: -1 }, unknown),
        );
      t += 40;
      history.push(
        op(9, ++t, ++t, { op: 'get', path: '/a' }, ok({ data: `r${round}`, version: 8 * (round + 1) })),
      );
    }
    const r = checkLinearizable(znodeModel({ '/a': { data: '', version: 0 } }), history, {
      maxSteps: 200_000,
    });
    expect(r.ok).toBe(true);
  });

  it('reports undecided when the step limit is reached', () => {
    // The state remembers the order of the ops, so memoization cannot prune, and the last op's
    // output is impossible: only an exhaustive search over 10! orders could refute it.
    const model: Model<string, number, number> = {
      init: () => '',
      step: (s, input, output) => (output < 0 ? undefined : `${s},${input}`),
      hash: (s) => s,
    };
    const history: Operation<number, number>[] = Array.from({ length: 10 }, (_, i) => ({
      client: i,
      call: 0,
      return: 100,
      input: i,
      output: 0,
    }));
    history.push({ client: 99, call: 101, return: 102, input: 99, output: -1 });
    expect(checkLinearizable(model, history, { maxSteps: 500 }).ok).toBe('unknown');
  });

  it('agrees with a brute-force search on 400 small random histories', () => {
    const model = znodeModel();
    // Every order that respects real time, tried one by one: the definition, without cleverness.
    const brute = (ops: Op[]): boolean => {
      const used = new Array<boolean>(ops.length).fill(false);
      const go = (state: ReturnType<typeof model.init>, depth: number): boolean => {
        if (depth === ops.length) return true;
        for (let i = 0; i < ops.length; i++) {
          if (used[i]) continue;
          // i may go next only if no unused op returned before i was invoked.
          if (ops.some((o, j) => !used[j] && j !== i && o.return < ops[i]!.call)) continue;
          const next = model.step(state, ops[i]!.input, ops[i]!.output);
          if (next === undefined) continue;
          used[i] = true;
          if (go(next, depth + 1)) return true;
          used[i] = false;
        }
        return false;
      };
      return go(model.init(), 0);
    };
    const rng = new Rng(42);
    let agreedBad = 0;
    for (let round = 0; round < 400; round++) {
      // A real sequential run on two paths, then overlapping windows around each op's point.
      let state = model.init();
      const ops: Op[] = [];
      const n = rng.between(2, 7);
      for (let k = 0; k < n; k++) {
        const path = rng.pick(['/a', '/b']);
        const pick = rng.int(5);
        const input: ZInput =
          pick === 0
            ? { op: 'get', path }
            : pick === 1
              ? { op: 'create', path, data: `d${k}` }
              : pick === 2
                ? { op: 'set', path, data: `d${k}`, version: rng.chance(0.5) ? -1 : rng.int(2) }
                : pick === 3
                  ? { op: 'delete', path, version: -1 }
                  : { op: 'exists', path };
        // The true output: try each candidate until the model accepts it.
        const node = state.get(path);
        const candidates: ZOutput[] = [
          ok(node ? { data: node.data, version: node.version } : {}),
          ok({ version: node ? node.version : null }),
          ok({ version: node ? node.version + 1 : 0 }),
          ok(),
          err('NONODE'),
          err('NODEEXISTS'),
          err('BADVERSION'),
        ];
        const output = candidates.find((c) => model.step(state, input, c) !== undefined)!;
        state = model.step(state, input, output)!;
        const point = 10 * (k + 1);
        ops.push(op(k % 3, point - rng.int(15), point + rng.int(15), input, output));
      }
      expect(check(ops).ok).toBe(true);
      // Corrupt one output: the checker must agree with brute force either way.
      const victim = rng.int(ops.length);
      const bad = ops.map((o, i) =>
        i === victim
          ? { ...o, output: rng.pick([err('NONODE'), ok({ data: 'zz', version: 9 }), ok({ version: null })]) }
          : o,
      );
      const expected = brute(bad);
      expect(check(bad).ok).toBe(expected);
      if (!expected) agreedBad++;
    }
    expect(agreedBad).toBeGreaterThan(50);
  });
});
