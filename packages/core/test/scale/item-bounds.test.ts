// No item grows with the number of sessions or watches (issue 12, item 3; docs/scale.md §3): with
// N sessions that each hold an ephemeral, a persistent watch and two one-shot watches (one on a
// node all of them watch, one on a path of their own), the largest item of each kind is the same
// size at N = 2,000 as at N = 20, before and after the shared node fires, and stays under the
// stated bounds; every registration goes with its session.
import { describe, expect, it } from 'vitest';
import { largestSystemItems } from '../../src/bench/item-sizes.js';
import { createEmbeddedService, type FaaSKeeperClient, ManualClock } from '../../src/index.js';
import type { ItemKind } from '../../src/ports/system-store.js';
import { checkFinalState, drain, unwrapPort } from '../../src/testkit/faults/index.js';
import { mapLimit } from '../../src/util/map-limit.js';
import { MAX_CHILD_STATS } from '../../src/writer/child-stats.js';

/** The bounds docs/scale.md §3 states, in bytes of an item's JSON (id and value). */
const BOUND: Partial<Record<ItemKind, number>> = {
  // A node item: its node (Stat, kind, ACL) and at most 8 inline watchers per class, + its path.
  node: 1024,
  // A session item: its fields and at most 256 remembered paths / 32 KiB (here: a few short ones).
  session: 1024,
  // The writer state (outside the batch after a fire: `last` holds the batch's output) and the
  // other meta items: the 2 KiB filter and scalars.
  meta: 4096,
  watch: 256,
  pwatch: 256,
  cleanup: 256,
};

type Sizes = Partial<Record<ItemKind, number>>;

async function run(n: number): Promise<{ loaded: Sizes; afterFire: Sizes; left: Sizes; problems: string[] }> {
  const service = createEmbeddedService({ clock: new ManualClock() });
  const zk = await service.connect();
  for (const p of ['/e', '/q', '/pw', '/s', '/m']) await zk.create(p, 'x');
  let events = 0;
  const count = () => {
    events++;
  };
  const sessions: FaaSKeeperClient[] = await mapLimit(
    Array.from({ length: n }, (_, i) => i),
    32,
    async (i) => {
      const c = await service.connect();
      await c.create(`/e/s${i}`, 'eph', { mode: 'EPHEMERAL' });
      await c.addWatch('/pw', count, 'PERSISTENT_RECURSIVE');
      await c.getData('/q', { watch: count });
      await c.exists(`/m/${i}`, { watch: count });
      return c;
    },
  );
  const system = unwrapPort(service.ports.systemStore);
  const sizes = async (): Promise<Sizes> => {
    await drain(service);
    const largest = await largestSystemItems(system);
    return Object.fromEntries(Object.entries(largest).map(([k, v]) => [k, v.bytes]));
  };
  const loaded = await sizes();
  // The fires: N one-shot watchers of /q, N recursive watchers of /pw; then an unrelated write.
  await zk.setData('/q', 'y');
  await zk.create('/pw/child', 'z');
  await zk.setData('/s', 'y');
  await drain(service);
  expect(events).toBe(2 * n);
  const afterFire = await sizes();
  await mapLimit(sessions, 32, (c) => c.close());
  await zk.setData('/s', 'z');
  const left = await sizes();
  const problems = await checkFinalState(service);
  await zk.close();
  await service.close();
  return { loaded, afterFire, left, problems };
}

describe('no item that grows with the number of sessions or watches', () => {
  it('keeps the largest item of each kind the same size for 20 and 2,000 sessions with ephemerals and watches', async () => {
    const small = await run(20);
    const large = await run(2000);
    for (const phase of ['loaded', 'afterFire', 'left'] as const) {
      for (const [kind, bytes] of Object.entries(large[phase]) as [ItemKind, number][]) {
        // Equal up to the digits of larger ids and zxids; the writer state (meta) also keeps a few
        // parents' child Stats (writer/child-stats.ts), whose five numbers each have two digits
        // more at 100 times the children.
        const digits = 24 + (kind === 'meta' ? MAX_CHILD_STATS * 5 * 2 : 0);
        expect(bytes, `${phase} ${kind}`).toBeLessThanOrEqual((small[phase][kind] ?? 0) + digits);
        expect(bytes, `${phase} ${kind}`).toBeLessThanOrEqual(BOUND[kind] ?? 1024);
      }
    }
    // The shared node's registrations past the inline ones and the persistent watches are items.
    expect(large.loaded.watch).toBeDefined();
    expect(large.loaded.pwatch).toBeDefined();
    // Every session's ephemeral, registrations and fired generations are gone once it closed.
    for (const r of [small, large]) {
      expect(r.left.watch).toBeUndefined();
      expect(r.left.pwatch).toBeUndefined();
      expect(r.left.cleanup).toBeUndefined();
      expect(r.problems).toEqual([]);
    }
  }, 300_000);
});
