import { describe, expect, it } from 'vitest';
import { CreateMode, createEmbeddedService, type SystemNodeItem } from '../../src/index.js';
import { checkFinalState, drain, unwrapPort } from '../../src/testkit/faults/index.js';

describe('sequential names on a deployment written before the creation counter', () => {
  it('counts on from the cversion of a parent that has no counter, never meeting a name given before', async () => {
    const service = createEmbeddedService();
    const zk = await service.connect();
    await zk.create('/q');
    await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL }); // n-0000000000
    await zk.create('/q/x');
    await zk.delete('/q/x');
    // The former rule named sequential nodes by the parent's cversion: the next was n-0000000003.
    await zk.create('/q/n-0000000003');
    expect((await zk.exists('/q'))!.cversion).toBe(4);
    // A setData writes the parent's item whole: its child Stat, kept in the writer state since the
    // creates and deletes (writer/child-stats.ts), is in the item again, as that version wrote it.
    await zk.setData('/q', '');
    // The parent's item as that version of the writer left it: no creation counter.
    const store = unwrapPort(service.ports.systemStore);
    const item = (await store.get<SystemNodeItem>({ kind: 'node', id: '/q' }))!;
    expect(item.value.node!.createdChildren).toBe(3);
    const { createdChildren: _dropped, ...legacy } = item.value.node!;
    await store.transact([
      { type: 'put', kind: 'node', id: '/q', value: { ...item.value, node: legacy }, expect: item.version },
    ]);
    // Counting creations (3) would name n-0000000003 again; counting on from cversion does not.
    expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe('/q/n-0000000004');
    await zk.create('/q/y');
    await zk.delete('/q/y');
    // From then on the counter is kept and deletes do not count.
    expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe('/q/n-0000000006');
    await drain(service);
    expect(await checkFinalState(service)).toEqual([]);
    await zk.close();
    await service.close();
  });
});
