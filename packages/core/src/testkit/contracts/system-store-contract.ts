import { describe, expect, it } from 'vitest';
import { ConditionFailedError, isRetryable, LimitExceededError } from '../../ports/errors.js';
import type { ItemKey, SystemStore } from '../../ports/system-store.js';
import { binaryBytes, type FixtureCleanup, firstByteDifference, put, withFixture } from './support.js';
import { describeQueryCases } from './system-store-queries.js';

/** What a {@link describeSystemStoreContract} factory returns: a fresh, empty store. */
export interface SystemStoreFixture extends FixtureCleanup {
  store: SystemStore;
}

/** Tuning for stores whose calls are slow or limited (cloud services). */
export interface SystemStoreContractOptions {
  /** How many concurrent writers race in the concurrency cases. Default 20. */
  concurrency?: number;
  /** Per-test timeout in ms. Default vitest's. */
  timeoutMs?: number;
}

async function conditionFailure(promise: Promise<unknown>): Promise<ConditionFailedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConditionFailedError);
  return error as ConditionFailedError;
}

/**
 * The {@link SystemStore} contract: registers a vitest `describe` block that runs every behaviour
 * the writer relies on against stores made by `factory` (one fresh store per test). Any adapter
 * package runs it in a few lines:
 *
 * ```ts
 * describeSystemStoreContract('DynamoSystemStore', async () => {
 *   const store = new DynamoSystemStore({ table: uniqueTableName() });
 *   return { store, cleanup: () => store.dropTable() };
 * });
 * ```
 *
 * Pins: misses return `undefined` (never throw); versions start at 1 and grow by one; failed
 * conditions throw {@link ConditionFailedError} with the failing op's `index` and change nothing;
 * transactions are all-or-nothing; exactly one of N concurrent conditional creators wins;
 * `increment` is atomic; values (including bytes) are copied in and out; the advertised
 * capabilities are enforced with {@link LimitExceededError}.
 */
export function describeSystemStoreContract(
  name: string,
  factory: () => Promise<SystemStoreFixture>,
  options: SystemStoreContractOptions = {},
): void {
  const n = options.concurrency ?? 20;
  const test = (title: string, body: (store: SystemStore) => Promise<void>) =>
    it(title, () => withFixture(factory, (f) => body(f.store)), options.timeoutMs);
  const a: ItemKey = { kind: 'node', id: '/a' };
  const b: ItemKey = { kind: 'node', id: '/b' };
  const c: ItemKey = { kind: 'node', id: '/c' };

  describe(`SystemStore contract: ${name}`, () => {
    describe('reads', () => {
      test('returns undefined for a missing item, never throws', async (store) => {
        expect(await store.get({ kind: 'node', id: '/missing' })).toBeUndefined();
        expect(await store.get({ kind: 'session', id: '42' })).toBeUndefined();
      });

      test('getMany answers in the order asked, undefined for each miss', async (store) => {
        await store.transact([put(a, { n: 1 }, 'absent'), put(c, { n: 3 }, 'absent')]);
        const got = await store.getMany<{ n: number }>([b, a, { kind: 'meta', id: '/a' }, c]);
        expect(got).toHaveLength(4);
        expect(got[0]).toBeUndefined();
        expect(got[1]).toEqual({ kind: 'node', id: '/a', version: 1, value: { n: 1 } });
        expect(got[2]).toBeUndefined();
        expect(got[3]).toEqual({ kind: 'node', id: '/c', version: 1, value: { n: 3 } });
        expect(await store.getMany([])).toEqual([]);
      });

      test('lists an empty kind as []', async (store) => {
        expect(await store.list('ttl')).toEqual([]);
        await store.transact([put(a, 1, 'absent')]);
        expect(await store.list('session')).toEqual([]);
      });

      test('lists every item of one kind and nothing of another', async (store) => {
        await store.transact([
          put({ kind: 'session', id: '1' }, { id: 1 }, 'absent'),
          put({ kind: 'session', id: '22' }, { id: 22 }, 'absent'),
          put({ kind: 'node', id: '1' }, 'node one', 'absent'),
          put({ kind: 'ttl', id: '/x' }, { path: '/x' }, 'absent'),
        ]);
        const sessions = await store.list<{ id: number }>('session');
        expect(sessions.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
          { kind: 'session', id: '1', version: 1, value: { id: 1 } },
          { kind: 'session', id: '22', version: 1, value: { id: 22 } },
        ]);
        expect(await store.list('ttl')).toEqual([
          { kind: 'ttl', id: '/x', version: 1, value: { path: '/x' } },
        ]);
      });

      test('keeps ids exact: slashes, prefixes, spaces and unicode are distinct keys', async (store) => {
        const ids = ['/', '/a', '/a/b', '/a/b/', '/a b', '/ä/日本', '/a\u{1F600}'];
        await store.transact(ids.map((id, i) => put({ kind: 'node', id }, i, 'absent')));
        const got = await store.getMany<number>(ids.map((id) => ({ kind: 'node', id })));
        expect(got.map((g) => g?.value)).toEqual(ids.map((_, i) => i));
        expect((await store.list('node')).map((i) => i.id).sort()).toEqual([...ids].sort());
      });
    });

    describe('queries by id prefix', () => describeQueryCases(test));

    describe('conditional writes', () => {
      test('versions start at 1 and grow by one on every put', async (store) => {
        await store.transact([put(a, 'v1', 'absent')]);
        expect((await store.get(a))?.version).toBe(1);
        await store.transact([put(a, 'v2', 1)]);
        expect(await store.get(a)).toEqual({ ...a, version: 2, value: 'v2' });
        await store.transact([put(a, 'v3', 'any')]);
        expect(await store.get(a)).toEqual({ ...a, version: 3, value: 'v3' });
        await store.transact([put(b, 'b1', 'any')]);
        expect((await store.get(b))?.version).toBe(1);
      });

      test('a re-created item starts again at version 1', async (store) => {
        await store.transact([put(a, 'x', 'absent')]);
        await store.transact([put(a, 'y', 1)]);
        await store.transact([{ type: 'delete', ...a, expect: 2 }]);
        expect(await store.get(a)).toBeUndefined();
        await store.transact([put(a, 'z', 'absent')]);
        expect(await store.get(a)).toEqual({ ...a, version: 1, value: 'z' });
      });

      test('put expecting absent on an existing item fails with index and current version, changing nothing', async (store) => {
        await store.transact([put(a, 'first', 'absent')]);
        const error = await conditionFailure(store.transact([put(a, 'second', 'absent')]));
        expect(error.index).toBe(0);
        expect(error.current).toBe(1);
        expect(error.retryable).toBe(false);
        expect(await store.get(a)).toEqual({ ...a, version: 1, value: 'first' });
      });

      test('put expecting a version that does not match fails, changing nothing', async (store) => {
        await store.transact([put(a, 'v1', 'absent')]);
        await store.transact([put(a, 'v2', 1)]);
        const stale = await conditionFailure(store.transact([put(a, 'stale', 1)]));
        expect(stale.index).toBe(0);
        expect(stale.current).toBe(2);
        const missing = await conditionFailure(store.transact([put(b, 'ghost', 1)]));
        expect(missing.current).toBeUndefined();
        expect(await store.get(a)).toEqual({ ...a, version: 2, value: 'v2' });
        expect(await store.get(b)).toBeUndefined();
      });

      test('delete with a failed condition fails and keeps the item', async (store) => {
        await store.transact([put(a, 'keep', 'absent')]);
        const error = await conditionFailure(store.transact([{ type: 'delete', ...a, expect: 7 }]));
        expect(error.current).toBe(1);
        await conditionFailure(store.transact([{ type: 'delete', ...a, expect: 'absent' }]));
        expect(await store.get(a)).toEqual({ ...a, version: 1, value: 'keep' });
      });

      test('deleting a missing item without a condition is not an error', async (store) => {
        await store.transact([{ type: 'delete', ...a, expect: 'any' }]);
        await store.transact([{ type: 'delete', ...a, expect: 'absent' }]);
        expect(await store.get(a)).toBeUndefined();
      });

      test(`exactly one of ${n} concurrent conditional creators wins`, async (store) => {
        const results = await Promise.allSettled(
          Array.from({ length: n }, (_, i) => store.transact([put(a, { winner: i }, 'absent')])),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          // A loser sees the winner's item, or contention it may retry (DynamoDB TransactionConflict).
          if (r.status === 'rejected')
            expect(r.reason instanceof ConditionFailedError || isRetryable(r.reason)).toBe(true);
        }
        expect(await store.get(a)).toEqual({ ...a, version: 1, value: { winner: winners[0] } });
      });

      test(`exactly one of ${n} concurrent updaters of one version wins`, async (store) => {
        await store.transact([put(a, { winner: -1 }, 'absent')]);
        const results = await Promise.allSettled(
          Array.from({ length: n }, (_, i) => store.transact([put(a, { winner: i }, 1)])),
        );
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        expect(await store.get(a)).toEqual({ ...a, version: 2, value: { winner: winners[0] } });
      });
    });

    describe('transactions', () => {
      test('apply every op or none, naming the failing op by index', async (store) => {
        await store.transact([put(c, 'c1', 'absent')]);
        const error = await conditionFailure(
          store.transact([put(a, 'a', 'absent'), put(b, 'b', 'absent'), put(c, 'c?', 5)]),
        );
        expect(error.index).toBe(2);
        expect(error.current).toBe(1);
        expect(await store.getMany([a, b, c])).toEqual([
          undefined,
          undefined,
          { ...c, version: 1, value: 'c1' },
        ]);
      });

      test('name the first failing op when several fail', async (store) => {
        await store.transact([put(b, 'b', 'absent'), put(c, 'c', 'absent')]);
        const error = await conditionFailure(
          store.transact([put(a, 'a', 'absent'), put(b, 'b?', 'absent'), put(c, 'c?', 'absent')]),
        );
        expect(error.index).toBe(1);
        expect(await store.get(a)).toBeUndefined();
      });

      test('deletes and checks take part: a failed check undoes the deletes and puts', async (store) => {
        await store.transact([put(a, 'a', 'absent'), put(b, 'b', 'absent')]);
        const error = await conditionFailure(
          store.transact([
            { type: 'delete', ...a, expect: 1 },
            put(c, 'c', 'absent'),
            { type: 'check', ...b, expect: 2 },
          ]),
        );
        expect(error.index).toBe(2);
        expect(error.current).toBe(1);
        expect(await store.getMany([a, b, c])).toEqual([
          { ...a, version: 1, value: 'a' },
          { ...b, version: 1, value: 'b' },
          undefined,
        ]);
      });

      test('a passing check changes nothing and the rest applies', async (store) => {
        await store.transact([put(a, 'a', 'absent'), put(b, 'b', 'absent')]);
        await store.transact([
          { type: 'check', ...b, expect: 1 },
          { type: 'delete', ...a, expect: 1 },
          put(c, 'c', 'absent'),
          { type: 'check', kind: 'node', id: '/never', expect: 'absent' },
        ]);
        expect(await store.getMany([a, b, c])).toEqual([
          undefined,
          { ...b, version: 1, value: 'b' },
          { ...c, version: 1, value: 'c' },
        ]);
      });

      test('a transaction touching one item twice is refused and changes nothing', async (store) => {
        await expect(
          store.transact([put(a, 1, 'absent'), put(b, 2, 'absent'), put(a, 3, 'any')]),
        ).rejects.toThrow();
        expect(await store.getMany([a, b])).toEqual([undefined, undefined]);
      });

      test('enforces maxTransactionItems with LimitExceededError, writing nothing', async (store) => {
        const max = store.capabilities.maxTransactionItems;
        expect(max).toBeGreaterThan(1);
        if (!Number.isFinite(max)) {
          // An unlimited store must really take big transactions (the writer sizes its batches by this).
          const ops = Array.from({ length: 1000 }, (_, i) =>
            put({ kind: 'node', id: `/big${i}` }, i, 'absent'),
          );
          await store.transact(ops);
          expect((await store.list('node')).length).toBe(1000);
          return;
        }
        const full = Array.from({ length: max }, (_, i) => put({ kind: 'node', id: `/ok${i}` }, i, 'absent'));
        await store.transact(full);
        expect((await store.list('node')).length).toBe(max);
        const over = Array.from({ length: max + 1 }, (_, i) =>
          put({ kind: 'session', id: `${i}` }, i, 'absent'),
        );
        const error = await store.transact(over).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).actual).toBe(max + 1);
        expect((error as LimitExceededError).limit).toBe(max);
        expect(await store.list('session')).toEqual([]);
      });

      test('enforces maxItemBytes with LimitExceededError, writing nothing', async (store) => {
        const max = store.capabilities.maxItemBytes;
        expect(max).toBeGreaterThan(1000);
        if (!Number.isFinite(max)) {
          const big = 'x'.repeat(1536 * 1024);
          await store.transact([put(a, { big }, 'absent')]);
          expect((await store.get<{ big: string }>(a))?.value.big).toBe(big);
          return;
        }
        const fits = 'y'.repeat(Math.floor(max / 2));
        await store.transact([put(a, { fits }, 'absent')]);
        const error = await store
          .transact([put(b, 'small', 'absent'), put(c, { big: 'x'.repeat(max + 1) }, 'absent')])
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(LimitExceededError);
        expect((error as LimitExceededError).limit).toBe(max);
        expect((error as LimitExceededError).actual).toBeGreaterThan(max);
        expect(await store.getMany([b, c])).toEqual([undefined, undefined]);
        expect((await store.get<{ fits: string }>(a))?.value.fits).toBe(fits);
      });
    });

    describe('values', () => {
      test('round-trip plain data: nested objects, arrays, unicode, null, safe integers', async (store) => {
        const value = {
          s: 'ä 日本 \u{1F600} "quoted" \\ back',
          n: Number.MAX_SAFE_INTEGER,
          neg: -1,
          f: 0.5,
          t: true,
          nil: null,
          list: [1, 'two', [3], { four: 4 }, null],
          empty: { o: {}, a: [] as unknown[], s: '' },
        };
        await store.transact([put(a, value, 'absent')]);
        expect((await store.get(a))?.value).toEqual(value);
      });

      test('round-trip bytes inside values byte-exact (the writer keeps node data there)', async (store) => {
        const bytes = binaryBytes(4096, 7);
        await store.transact([
          put(
            a,
            { data: bytes, empty: new Uint8Array(0), nested: [{ d: bytes.subarray(10, 20) }] },
            'absent',
          ),
        ]);
        const got = (await store.get<{ data: Uint8Array; empty: Uint8Array; nested: { d: Uint8Array }[] }>(
          a,
        ))!.value;
        expect(got.data).toBeInstanceOf(Uint8Array);
        expect(firstByteDifference(got.data, bytes)).toBe(-1);
        expect(got.empty).toBeInstanceOf(Uint8Array);
        expect(got.empty.byteLength).toBe(0);
        expect(firstByteDifference(got.nested[0]!.d, bytes.subarray(10, 20))).toBe(-1);
      });

      test('copies values: mutating what was put or what was got never changes the store', async (store) => {
        const value = { list: [1, 2], inner: { x: 1 }, data: new Uint8Array([1, 2, 3]) };
        await store.transact([put(a, value, 'absent')]);
        value.list.push(3);
        value.inner.x = 99;
        value.data[0] = 200;
        const first = (await store.get<typeof value>(a))!;
        first.value.list.push(4);
        first.value.inner.x = 42;
        first.value.data[1] = 201;
        const [many] = await store.getMany<typeof value>([a]);
        many!.value.list.length = 0;
        const [listed] = await store.list<typeof value>('node');
        listed!.value.inner.x = -5;
        const again = (await store.get<typeof value>(a))!.value;
        expect(again.list).toEqual([1, 2]);
        expect(again.inner).toEqual({ x: 1 });
        expect([...again.data]).toEqual([1, 2, 3]);
      });
    });

    describe('increment', () => {
      test('creates the counter at 0 and returns the new value', async (store) => {
        const key: ItemKey = { kind: 'meta', id: 'counter' };
        expect(await store.increment(key)).toBe(1);
        expect(await store.increment(key, 5)).toBe(6);
        expect((await store.get<number>(key))?.value).toBe(6);
      });

      test(`is atomic under ${n} concurrent increments`, async (store) => {
        const key: ItemKey = { kind: 'meta', id: 'counter' };
        const got = await Promise.all(Array.from({ length: n }, () => store.increment(key)));
        expect([...got].sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect((await store.get<number>(key))?.value).toBe(n);
      });
    });
  });
}
