import { describe, expect, it } from 'vitest';
import { MAX_DATA_BYTES } from '../../model/limits.js';
import type { Stat } from '../../model/stat.js';
import { MARKER_EVENTS, type UserStore } from '../../ports/user-store.js';
import type { ChildEntry, NodeRecord } from '../../protocol/messages.js';
import { mapLimit } from '../../util/map-limit.js';
import { binaryBytes, type FixtureCleanup, firstByteDifference, withFixture } from './support.js';

/** What a {@link describeUserStoreContract} factory returns: a fresh, empty store. */
export interface UserStoreFixture extends FixtureCleanup {
  store: UserStore;
}

/** Tuning for slow stores (cloud services). */
export interface UserStoreContractOptions {
  /** Per-test timeout in ms. Default vitest's. */
  timeoutMs?: number;
}

function stat(over: Partial<Stat> = {}): Stat {
  return {
    czxid: 3,
    mzxid: 5,
    pzxid: 4,
    ctime: 1_700_000_000_000,
    mtime: 1_700_000_000_500,
    version: 2,
    cversion: 1,
    aversion: 0,
    ephemeralOwner: 0,
    dataLength: 0,
    numChildren: 0,
    ...over,
  };
}

function record(data: Uint8Array, over: Partial<NodeRecord> = {}): NodeRecord {
  return { data, stat: stat({ dataLength: data.byteLength }), txZxid: 5, ...over };
}

/** Entries in one order, for comparing listings (which come in no particular order). */
function sortEntries(entries: ChildEntry[]): ChildEntry[] {
  const key = (e: ChildEntry) => `${e.name}\u0000${e.czxid}\u0000${e.dzxid ?? ''}`;
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function expectBytes(got: Uint8Array | undefined, want: Uint8Array): void {
  expect(got).toBeInstanceOf(Uint8Array);
  expect(got!.byteLength).toBe(want.byteLength);
  expect(firstByteDifference(got!, want)).toBe(-1);
}

/**
 * The {@link UserStore} contract: registers a vitest `describe` block that runs, against a fresh
 * store from `factory` per test, every behaviour the distributor and the client rely on.
 *
 * Pins: a miss returns `undefined` (never throws); deleting a missing record is not an error; node
 * data round-trips byte-exact (empty, binary, up to {@link MAX_DATA_BYTES}); stat, zxid, `ev`, the
 * first layout's epoch, the null-data flag and the tombstone flag round-trip; records are copied in
 * and out; paths are exact keys; the watermark starts at 0; a session's marker round-trips, is
 * replaced whole, is removed by an empty list, and is neither a record nor another session's marker;
 * the child index lists exactly a parent's own entries (live and tombstones, names of any
 * characters, every page of a large listing), entries are idempotent to put and delete, and records
 * and entries do not mix; the protected zone's records (up to the size limit) and entries are apart
 * from the open zone's, and a stub's `protected` flag round-trips.
 */
export function describeUserStoreContract(
  name: string,
  factory: () => Promise<UserStoreFixture>,
  options: UserStoreContractOptions = {},
): void {
  const test = (title: string, body: (store: UserStore) => Promise<void>) =>
    it(title, () => withFixture(factory, (f) => body(f.store)), options.timeoutMs);

  describe(`UserStore contract: ${name}`, () => {
    test('returns undefined for a missing record, never throws', async (store) => {
      expect(await store.get('/missing')).toBeUndefined();
      expect(await store.get('/')).toBeUndefined();
    });

    test('deleting a missing record is not an error', async (store) => {
      await store.delete('/missing');
      await store.put('/a', record(new Uint8Array([1])));
      await store.delete('/a');
      await store.delete('/a');
      expect(await store.get('/a')).toBeUndefined();
    });

    test('round-trips a whole record: stat, zxid, ev, epoch', async (store) => {
      const r: NodeRecord = {
        data: new TextEncoder().encode('hello'),
        stat: stat({ dataLength: 5, numChildren: 2, ephemeralOwner: 2 ** 52 - 1 }),
        txZxid: 5,
        ev: 4,
        epoch: { '17': 4, '4503599627370495': 5 },
      };
      await store.put('/a', r);
      const got = await store.get('/a');
      expect(got).toBeDefined();
      expectBytes(got!.data, r.data);
      expect({ ...got, data: undefined }).toEqual({ ...r, data: undefined });
    });

    test('round-trips a record that stands in for the watermark (complete), and one that does not', async (store) => {
      await store.put('/lone', record(new TextEncoder().encode('x'), { complete: true, txZxid: 8 }));
      expect((await store.get('/lone'))?.complete).toBe(true);
      await store.put('/lone', record(new TextEncoder().encode('y'), { txZxid: 9 }));
      expect((await store.get('/lone'))?.complete).toBeUndefined();
      // A record that names the record closing its distribution, a path like any other.
      await store.put('/lone', record(new TextEncoder().encode('z'), { txZxid: 10, closer: '/a b/ä' }));
      expect((await store.get('/lone'))?.closer).toBe('/a b/ä');
      await store.put('/lone', record(new TextEncoder().encode('z'), { txZxid: 11 }));
      expect((await store.get('/lone'))?.closer).toBeUndefined();
    });

    test('round-trips a tombstone', async (store) => {
      await store.put('/gone', record(new Uint8Array(0), { deleted: true, txZxid: 9 }));
      const got = await store.get('/gone');
      expect(got?.deleted).toBe(true);
      expect(got?.txZxid).toBe(9);
    });

    test('round-trips empty data as empty bytes', async (store) => {
      await store.put('/empty', record(new Uint8Array(0)));
      expectBytes((await store.get('/empty'))?.data, new Uint8Array(0));
    });

    test('round-trips null data apart from empty data, and a record without the null flag gains none', async (store) => {
      await store.put('/null', record(new Uint8Array(0), { nullData: true }));
      await store.put('/empty', record(new Uint8Array(0)));
      const nul = await store.get('/null');
      expect(nul?.nullData).toBe(true);
      expectBytes(nul?.data, new Uint8Array(0));
      const empty = await store.get('/empty');
      expect(empty).toBeDefined();
      expect('nullData' in empty!).toBe(false);
      // A put without the flag replaces a null record entirely (setData with bytes clears null).
      await store.put('/null', record(new Uint8Array([7])));
      expect('nullData' in (await store.get('/null'))!).toBe(false);
    });

    test('round-trips binary data byte-exact, every byte value included', async (store) => {
      const data = binaryBytes(70_000, 3);
      await store.put('/bin', record(data));
      expectBytes((await store.get('/bin'))?.data, data);
    });

    test('round-trips data of the node size limit (1 MiB) byte-exact', async (store) => {
      const data = binaryBytes(MAX_DATA_BYTES, 11);
      await store.put('/max', record(data));
      expectBytes((await store.get('/max'))?.data, data);
    });

    test('a put replaces the record and a delete removes it', async (store) => {
      await store.put('/a', record(new Uint8Array([1])));
      await store.put('/a', record(new Uint8Array([2, 2]), { txZxid: 6 }));
      const got = await store.get('/a');
      expectBytes(got?.data, new Uint8Array([2, 2]));
      expect(got?.txZxid).toBe(6);
      expect(got?.epoch).toBeUndefined();
      expect(got?.ev).toBeUndefined();
      expect(got?.deleted).toBeUndefined();
      await store.delete('/a');
      expect(await store.get('/a')).toBeUndefined();
    });

    test('keeps paths exact: root, prefixes, spaces and unicode are distinct keys', async (store) => {
      const paths = ['/', '/a', '/a/b', '/ab', '/a b', '/ä/日本', '/a/b/c-0000000007'];
      await Promise.all(paths.map((p, i) => store.put(p, record(new Uint8Array([i])))));
      for (const [i, p] of paths.entries()) expectBytes((await store.get(p))?.data, new Uint8Array([i]));
      await store.delete('/a');
      expect(await store.get('/a')).toBeUndefined();
      expect(await store.get('/a/b')).toBeDefined();
      expect(await store.get('/ab')).toBeDefined();
    });

    test('copies records: mutating what was put or what was got never changes the store', async (store) => {
      const r = record(new Uint8Array([1, 2, 3]), { epoch: { '1': 1 } });
      await store.put('/a', r);
      r.data[0] = 9;
      r.stat.version = 77;
      r.epoch!['1'] = 99;
      const got = (await store.get('/a'))!;
      got.data[1] = 9;
      got.stat.numChildren = 5;
      const again = (await store.get('/a'))!;
      expectBytes(again.data, new Uint8Array([1, 2, 3]));
      expect(again.stat).toEqual(stat({ dataLength: 3 }));
      expect(again.epoch).toEqual({ '1': 1 });
    });

    test('the watermark starts at 0 and reads back what was put', async (store) => {
      expect(await store.getWatermark()).toBe(0);
      await store.putWatermark(7);
      expect(await store.getWatermark()).toBe(7);
      await store.putWatermark(Number.MAX_SAFE_INTEGER);
      expect(await store.getWatermark()).toBe(Number.MAX_SAFE_INTEGER);
    });

    test('the watermark is not a node: it never shows up as a record', async (store) => {
      await store.putWatermark(3);
      for (const p of ['/', '/watermark', '/_watermark', '/meta']) expect(await store.get(p)).toBeUndefined();
    });

    test("a session's marker round-trips, is replaced whole and is removed by an empty list", async (store) => {
      const big = 2 ** 52 - 1;
      expect(await store.getMarker(17)).toBeUndefined();
      const events = Array.from(
        { length: MARKER_EVENTS },
        (_, i) => Number.MAX_SAFE_INTEGER - MARKER_EVENTS + i,
      );
      await store.putMarker(big, events);
      await store.putMarker(17, [3, 5]);
      expect(await store.getMarker(big)).toEqual(events);
      expect(await store.getMarker(17)).toEqual([3, 5]);
      await store.putMarker(17, [9]);
      expect(await store.getMarker(17)).toEqual([9]);
      await store.putMarker(17, []);
      expect(await store.getMarker(17)).toBeUndefined();
      await store.putMarker(17, []);
      expect(await store.getMarker(big)).toEqual(events);
    });

    test('a marker is not a node and leaves records and the watermark alone', async (store) => {
      await store.putWatermark(4);
      await store.put('/17', record(new Uint8Array([1])));
      await store.putMarker(17, [2]);
      for (const p of ['/', '/owed', '/owed/17', '/17/owed']) expect(await store.get(p)).toBeUndefined();
      expectBytes((await store.get('/17'))?.data, new Uint8Array([1]));
      expect(await store.getWatermark()).toBe(4);
      await store.putMarker(17, []);
      expect(await store.get('/17')).toBeDefined();
    });

    test("the child index lists a parent's own entries only, live and tombstones, any name", async (store) => {
      const names = ['b', 'a-0000000001', 'ä 日本', 'x@3', 'y~4', 'with space', 'z@1~2'];
      for (const [i, name] of names.entries()) await store.putChild({ parent: '/p', name, czxid: 10 + i });
      await store.putChild({ parent: '/p', name: 'b', czxid: 10, dzxid: 30 });
      await store.putChild({ parent: '/p', name: 'b', czxid: 31 });
      // Neighbours that share a prefix of the parent's path, and the root's own children.
      await store.putChild({ parent: '/pp', name: 'other', czxid: 40 });
      await store.putChild({ parent: '/p/b', name: 'grandchild', czxid: 41 });
      await store.putChild({ parent: '/', name: 'p', czxid: 2 });
      // A store that keeps a tombstone in place of its live entry lists the ended life once.
      const inPlace = store.childTombstoneInPlace === true;
      const want: ChildEntry[] = [
        ...names
          .map((name, i) => ({ parent: '/p', name, czxid: 10 + i }))
          .filter((e) => !inPlace || e.name !== 'b'),
        { parent: '/p', name: 'b', czxid: 10, dzxid: 30 },
        { parent: '/p', name: 'b', czxid: 31 },
      ];
      expect(sortEntries(await store.listChildren('/p'))).toEqual(sortEntries(want));
      expect(await store.listChildren('/')).toEqual([{ parent: '/', name: 'p', czxid: 2 }]);
      expect(await store.listChildren('/p/b')).toEqual([{ parent: '/p/b', name: 'grandchild', czxid: 41 }]);
      expect(await store.listChildren('/none')).toEqual([]);
      // Entries are not records, and records are not entries.
      expect(await store.get('/p/b')).toBeUndefined();
      await store.put('/q', record(new Uint8Array([1])));
      expect(await store.listChildren('/')).toEqual([{ parent: '/', name: 'p', czxid: 2 }]);
    });

    test('child entries are idempotent: a second put keeps one, a delete removes exactly one, twice is fine', async (store) => {
      const live: ChildEntry = { parent: '/p', name: 'n', czxid: 5 };
      const tomb: ChildEntry = { ...live, dzxid: 9 };
      await store.putChild(live);
      await store.putChild(live);
      await store.putChild(tomb);
      if (store.childTombstoneInPlace === true) {
        // The tombstone replaced the live entry, and one delete removes the life.
        expect(await store.listChildren('/p')).toEqual([tomb]);
        await store.deleteChild(tomb);
        expect(await store.listChildren('/p')).toEqual([]);
        await store.putChild(tomb);
        await store.deleteChild(live);
        expect(await store.listChildren('/p')).toEqual([]);
        await store.putChild(tomb);
      } else {
        expect(sortEntries(await store.listChildren('/p'))).toEqual(sortEntries([live, tomb]));
        await store.deleteChild(live);
        await store.deleteChild(live);
        expect(await store.listChildren('/p')).toEqual([tomb]);
      }
      await store.deleteChild(tomb);
      await store.deleteChild({ parent: '/never', name: 'n', czxid: 1 });
      expect(await store.listChildren('/p')).toEqual([]);
    });

    test('the child index lists every entry of a parent with more than one page of them (2,500)', async (store) => {
      const n = 2_500;
      const entries = Array.from({ length: n }, (_, i) => ({ parent: '/big', name: `c${i}`, czxid: i + 1 }));
      await mapLimit(entries, 50, (e) => store.putChild(e));
      const got = await store.listChildren('/big');
      expect(got).toHaveLength(n);
      expect(sortEntries(got)).toEqual(sortEntries(entries));
    });

    test('the protected zone is apart from the open one: a stub and its record, deleted one at a time', async (store) => {
      const secret = binaryBytes(MAX_DATA_BYTES, 5);
      const stub = record(new Uint8Array(0), { protected: true, ev: 3 });
      await store.put('/p', stub);
      await store.put(
        '/p',
        record(secret, { acl: [{ perms: 1, id: { scheme: 'digest', id: 'u:h' } }] }),
        'protected',
      );
      const open = await store.get('/p');
      expect(open?.protected).toBe(true);
      expect(open?.ev).toBe(3);
      expect(open?.data.byteLength).toBe(0);
      expect(open?.acl).toBeUndefined();
      const full = await store.get('/p', 'protected');
      expectBytes(full?.data, secret);
      expect(full?.protected).toBeUndefined();
      expect(full?.acl).toEqual([{ perms: 1, id: { scheme: 'digest', id: 'u:h' } }]);
      expect(await store.get('/other', 'protected')).toBeUndefined();
      await store.delete('/p');
      expect(await store.get('/p')).toBeUndefined();
      expectBytes((await store.get('/p', 'protected'))?.data, secret);
      await store.delete('/p', 'protected');
      await store.delete('/p', 'protected');
      expect(await store.get('/p', 'protected')).toBeUndefined();
    });

    test("the protected zone's child entries are listed only there", async (store) => {
      const hidden: ChildEntry = { parent: '/p', name: 'hidden name', czxid: 4 };
      const shown: ChildEntry = { parent: '/p', name: 'shown', czxid: 6 };
      await store.putChild(hidden, 'protected');
      await store.putChild(shown);
      expect(await store.listChildren('/p')).toEqual([shown]);
      expect(await store.listChildren('/p', 'protected')).toEqual([hidden]);
      await store.deleteChild(hidden);
      expect(await store.listChildren('/p', 'protected')).toEqual([hidden]);
      await store.deleteChild(hidden, 'protected');
      expect(await store.listChildren('/p', 'protected')).toEqual([]);
      expect(await store.listChildren('/p')).toEqual([shown]);
    });
  });
}
