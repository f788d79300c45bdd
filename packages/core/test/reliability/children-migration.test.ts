import { describe, expect, it } from 'vitest';
import { createEmbeddedService, migrateChildIndex, type SystemNodeItem } from '../../src/index.js';
import { checkFinalState, drain, unwrapPort } from '../../src/testkit/faults/index.js';

describe('a deployment written before children became their own entries (layout 1)', () => {
  it('answers getChildren as the old lists said once migrateChildIndex has run, and drops the old lists as items are rewritten', async () => {
    const service = createEmbeddedService();
    const zk = await service.connect();
    for (const p of ['/a', '/a/x', '/a/y', '/a/y/z', '/b']) await zk.create(p);
    await drain(service);
    // Turn the stores into layout 1: child lists in the items and records, no index.
    const system = unwrapPort(service.ports.systemStore);
    const user = unwrapPort(service.ports.userStore);
    const lists: Record<string, string[]> = { '/': ['a', 'b'], '/a': ['x', 'y'], '/a/y': ['z'] };
    for (const [parent, names] of Object.entries(lists)) {
      const item = (await system.get<SystemNodeItem>({ kind: 'node', id: parent }))!;
      const node = { ...item.value.node!, children: names };
      await system.transact([
        { type: 'put', kind: 'node', id: parent, value: { ...item.value, node }, expect: item.version },
      ]);
      const record = (await user.get(parent))!;
      await user.put(parent, { ...record, children: names } as typeof record);
      for (const e of await user.listChildren(parent)) await user.deleteChild(e);
    }
    // Unmigrated, the index disagrees with the Stat: the read refuses rather than answer wrong.
    await expect(zk.getChildren('/a')).rejects.toMatchObject({ code: 'SYSTEMERROR' });

    expect(await migrateChildIndex(system, user)).toBe(5);
    // Idempotent: a second run writes the same entries.
    expect(await migrateChildIndex(system, user)).toBe(5);
    for (const [parent, names] of Object.entries(lists))
      expect(await zk.getChildren(parent)).toMatchObject({
        children: names,
        stat: { numChildren: names.length },
      });
    // The index agrees with the tree; the old lists are still in the three items and records.
    expect((await checkFinalState(service)).sort()).toEqual(
      ['/', '/a', '/a/y']
        .flatMap((p) => [
          `${p}: the item still holds a child list`,
          `${p}: the user-store record still holds a child list`,
        ])
        .sort(),
    );
    // Writes go on; each parent's old list goes as its item is rewritten (any write of it).
    await zk.delete('/a/x');
    await zk.create('/a/w');
    await zk.setData('/a/y', 'v');
    await zk.create('/b/c');
    await zk.delete('/b/c');
    await zk.create('/c');
    expect((await zk.getChildren('/a')).children).toEqual(['w', 'y']);
    expect((await zk.getChildren('/')).children).toEqual(['a', 'b', 'c']);
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });
});
