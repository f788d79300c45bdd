// Watch registrations kept as items of their own (docs/scale.md §3): one-shot watchers past the
// node item's inline few (a generation of `watch` items), persistent watches (`pwatch` items found
// through the writer state's path filter), and the later removal of fired generations.
import { describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  type EmbeddedService,
  type FaaSKeeperClient,
  ManualClock,
  type WatchedEvent,
  WRITER_STATE_ID,
  type WriterState,
} from '../../src/index.js';
import { checkFinalState, drain, unwrapPort } from '../../src/testkit/faults/index.js';
import { limitTransactionItems } from '../../src/testkit/guarantees/helpers.js';
import { INLINE_WATCHERS } from '../../src/watch/one-shot.js';

/** More watchers than the node item holds inline: the rest are `watch` items. */
const MANY = INLINE_WATCHERS * 3 + 1;

async function start(
  maxTransactionItems?: number,
): Promise<{ service: EmbeddedService; zk: FaaSKeeperClient }> {
  const service = createEmbeddedService({
    clock: new ManualClock(),
    ...(maxTransactionItems === undefined
      ? {}
      : { wrap: { systemStore: (s) => limitTransactionItems(s, maxTransactionItems) } }),
  });
  return { service, zk: await service.connect() };
}

async function sessions(service: EmbeddedService, n: number): Promise<FaaSKeeperClient[]> {
  const out: FaaSKeeperClient[] = [];
  for (let i = 0; i < n; i++) out.push(await service.connect());
  return out;
}

/** Per client, the events it got. */
const recorder = (n: number) => {
  const got: WatchedEvent[][] = Array.from({ length: n }, () => []);
  return { got, watcher: (i: number) => (e: WatchedEvent) => got[i]!.push(e) };
};

const watchItems = async (service: EmbeddedService) =>
  (await unwrapPort(service.ports.systemStore).list('watch')).length;

async function finish(service: EmbeddedService, clients: FaaSKeeperClient[]) {
  for (const c of clients) await c.close();
  await drain(service);
  expect(await checkFinalState(service)).toEqual([]);
  await service.close();
}

describe('one-shot watches past the inline watchers', () => {
  it('fire once each, for the first change after their registration only, and re-register', async () => {
    const { service, zk } = await start();
    await zk.create('/n', 'a');
    const cs = await sessions(service, MANY);
    const r = recorder(MANY);
    for (const [i, c] of cs.entries()) await c.getData('/n', { watch: r.watcher(i) });
    expect(await watchItems(service)).toBe(MANY - INLINE_WATCHERS);
    await zk.setData('/n', 'b');
    await zk.setData('/n', 'c');
    await drain(service);
    for (const g of r.got) expect(g).toEqual([{ type: 'NodeDataChanged', path: '/n' }]);
    // The fired generation's items are gone after the batch.
    expect(await watchItems(service)).toBe(0);
    for (const [i, c] of cs.entries()) await c.getData('/n', { watch: r.watcher(i) });
    await zk.delete('/n');
    await drain(service);
    for (const g of r.got)
      expect(g).toEqual([
        { type: 'NodeDataChanged', path: '/n' },
        { type: 'NodeDeleted', path: '/n' },
      ]);
    await finish(service, [zk, ...cs]);
  });

  it('exists watches on a missing path fire on its creation, and a removed one does not', async () => {
    const { service, zk } = await start();
    const cs = await sessions(service, MANY);
    const r = recorder(MANY);
    for (const [i, c] of cs.entries()) expect(await c.exists('/later', { watch: r.watcher(i) })).toBeNull();
    // One inline watcher and one past the inline ones remove theirs.
    await cs[0]!.removeWatches('/later');
    await cs[MANY - 1]!.removeWatches('/later');
    await zk.create('/later', 'x');
    await drain(service);
    for (const [i, g] of r.got.entries())
      expect(g, `session ${i}`).toEqual(
        i === 0 || i === MANY - 1 ? [] : [{ type: 'NodeCreated', path: '/later' }],
      );
    await finish(service, [zk, ...cs]);
  });

  it('child watches past the inline ones fire once on a child created, and close removes unfired ones', async () => {
    const { service, zk } = await start();
    await zk.create('/p');
    await zk.create('/quiet');
    const cs = await sessions(service, MANY);
    const r = recorder(MANY);
    for (const [i, c] of cs.entries()) {
      await c.getChildren('/p', { watch: r.watcher(i) });
      await c.getChildren('/quiet', { watch: () => {} });
    }
    await zk.create('/p/a');
    await zk.create('/p/b');
    await drain(service);
    for (const g of r.got) expect(g).toEqual([{ type: 'NodeChildrenChanged', path: '/p' }]);
    // The registrations on /quiet never fired: the sessions' close removes them (final state).
    expect(await watchItems(service)).toBe(MANY - INLINE_WATCHERS);
    await finish(service, [zk, ...cs]);
  });

  it('removes a fired generation in bounded commits when a transaction takes few items', async () => {
    const { service, zk } = await start(10);
    await zk.create('/n', 'a');
    const cs = await sessions(service, 60);
    const r = recorder(60);
    for (const [i, c] of cs.entries()) await c.getData('/n', { watch: r.watcher(i) });
    await zk.setData('/n', 'b');
    await drain(service);
    for (const g of r.got) expect(g).toEqual([{ type: 'NodeDataChanged', path: '/n' }]);
    expect(await watchItems(service)).toBe(0);
    expect((await unwrapPort(service.ports.systemStore).list('cleanup')).length).toBe(0);
    await finish(service, [zk, ...cs]);
  });
});

describe('persistent watches as items', () => {
  it('match the changed path, its parent and recursive ancestors, and nothing else, past filter rebuilds', async () => {
    const { service, zk } = await start();
    await zk.create('/p');
    await zk.create('/a');
    await zk.create('/a/b');
    const n = 120;
    const cs = await sessions(service, n);
    const r = recorder(n + 2);
    // Distinct paths for most sessions: the filter is rebuilt larger several times.
    for (const [i, c] of cs.entries()) await c.addWatch(`/p/${i}`, r.watcher(i), 'PERSISTENT');
    const [rec, plain] = await sessions(service, 2);
    await rec!.addWatch('/a', r.watcher(n), 'PERSISTENT_RECURSIVE');
    await plain!.addWatch('/a', r.watcher(n + 1), 'PERSISTENT');
    await zk.create('/p/77', 'x');
    await zk.setData('/p/77', 'y');
    await zk.create('/a/b/c', 'x');
    await zk.setData('/a', 'y');
    await zk.create('/z', 'x');
    await drain(service);
    for (const [i, g] of r.got.slice(0, n).entries())
      expect(g, `session ${i}`).toEqual(
        i === 77
          ? [
              { type: 'NodeCreated', path: '/p/77' },
              { type: 'NodeDataChanged', path: '/p/77' },
            ]
          : [],
      );
    expect(r.got[n]).toEqual([
      { type: 'NodeCreated', path: '/a/b/c' },
      { type: 'NodeDataChanged', path: '/a' },
    ]);
    expect(r.got[n + 1]).toEqual([{ type: 'NodeDataChanged', path: '/a' }]);
    await rec!.removeWatches('/a');
    await zk.setData('/a', 'z');
    await drain(service);
    expect(r.got[n]).toHaveLength(2);
    expect(r.got[n + 1]).toHaveLength(2);
    expect((await unwrapPort(service.ports.systemStore).list('pwatch')).length).toBe(n + 1);
    await finish(service, [zk, ...cs, rec!, plain!]);
  });
});

describe('persistent watches of a writer state written before they were items', () => {
  it('still fire, move into pwatch items after the next batch, and leave the state', async () => {
    const { service, zk } = await start();
    await zk.create('/old');
    const [c] = await sessions(service, 1);
    const got: WatchedEvent[] = [];
    // The client's own record of the watch, as an older deployment's client would hold it...
    await c!.addWatch('/old', (e) => got.push(e), 'PERSISTENT');
    await drain(service);
    // ...and the server's in the old place: the item goes, the state lists it (layout before items).
    const system = unwrapPort(service.ports.systemStore);
    const [item] = await system.list<{ session: number }>('pwatch');
    const state = (await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))!;
    const { pwatchFilter: _filter, ...rest } = state.value;
    await system.transact([
      { type: 'delete', kind: 'pwatch', id: item!.id, expect: item!.version },
      {
        type: 'put',
        kind: 'meta',
        id: WRITER_STATE_ID,
        value: {
          ...rest,
          persistentWatches: [{ session: c!.sessionNumber, path: '/old', recursive: false }],
        },
        expect: state.version,
      },
    ]);
    await zk.setData('/old', 'a');
    await drain(service);
    expect(got).toEqual([{ type: 'NodeDataChanged', path: '/old' }]);
    const after = (await system.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))!.value;
    expect(after.persistentWatches).toBeUndefined();
    expect((await system.list('pwatch')).map((i) => i.id)).toEqual([item!.id]);
    await zk.setData('/old', 'b');
    await drain(service);
    expect(got).toHaveLength(2);
    await finish(service, [zk, c!]);
  });
});
