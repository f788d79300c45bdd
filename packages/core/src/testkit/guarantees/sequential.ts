import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit } from './helpers.js';

/**
 * Sequential nodes get unique, increasing suffixes: the number of children ever created under the
 * parent (as ZooKeeper 3.8 names them), on `target`.
 */
export function describeSequentialGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    describe('sequential nodes', () => {
      it('gives ten racing clients unique, 10-digit, increasing /lock- suffixes', async () => {
        const { connect } = await kit.deploy();
        const clients = await Promise.all(Array.from({ length: 10 }, () => connect()));
        const paths = await Promise.all(
          clients.map((zk) => zk.create('/lock-', zk.sessionId, { mode: CreateMode.EPHEMERAL_SEQUENTIAL })),
        );
        for (const p of paths) expect(p).toMatch(/^\/lock-\d{10}$/);
        expect(new Set(paths).size).toBe(10);

        // In the order the writer applied them (czxid order), the suffixes increase.
        const stats = await Promise.all(
          paths.map(async (p) => ({ p, stat: (await clients[0]!.exists(p))! })),
        );
        const byZxid = stats.sort((x, y) => x.stat.czxid - y.stat.czxid);
        const suffixes = byZxid.map(({ p }) => Number(p.slice('/lock-'.length)));
        for (let i = 1; i < suffixes.length; i++) expect(suffixes[i]!).toBeGreaterThan(suffixes[i - 1]!);
        // A fresh root has cversion 0, so the ten suffixes are exactly 0..9.
        expect(suffixes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        // Each node belongs to the client that created it.
        for (const [i, zk] of clients.entries())
          expect((await zk.exists(paths[i]!))!.ephemeralOwner).toBe(zk.sessionNumber);
        expect((await clients[0]!.getChildren('/')).children).toEqual(paths.map((p) => p.slice(1)).sort());
      });

      // Checked against Apache ZooKeeper 3.8.0 (zkCli.sh and node-zookeeper-client): the suffix is
      // the number of children the parent has ever had created, while the parent's cversion counts
      // creates and deletes. ZooKeeper keeps the creation count and reports cversion as
      // 2 * creations - numChildren. Observed: `/q/n-` created three times, `/q/x` created and
      // deleted -> cversion 5, next name /q/n-0000000004; deleting a sequential node does not count
      // either; a multi [create /u/a, delete /u/a, create -s /u/s-] names /u/s-0000000001; two
      // ephemerals deleted by their session's close do not count.
      it('numbers a sequential node by the children ever created under the parent, not counting deletes', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/q');
        for (const n of [0, 1, 2])
          expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe(
            `/q/n-000000000${n}`,
          );
        await zk.create('/q/x');
        await zk.delete('/q/x');
        // cversion counts the delete; the suffix does not.
        expect((await zk.exists('/q'))!.cversion).toBe(5);
        expect(await zk.create('/q/n-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL })).toBe(
          '/q/n-0000000004',
        );
        expect((await zk.exists('/q'))!.cversion).toBe(6);
        // Deleting a sequential node does not give its number back, nor count.
        await zk.delete('/q/n-0000000004');
        expect((await zk.exists('/q'))!.cversion).toBe(7);
        expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe(
          '/q/n-0000000005',
        );
        await zk.delete('/q/n-0000000005');
        await zk.delete('/q/n-0000000000');
        expect((await zk.exists('/q'))!.cversion).toBe(10);
        expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe(
          '/q/n-0000000006',
        );
        expect((await zk.getChildren('/q')).children).toEqual([
          'n-0000000001',
          'n-0000000002',
          'n-0000000006',
        ]);
      });

      it('counts a child created and deleted in the same multi as one creation', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/u');
        const results = await zk.multi([
          { op: 'create', path: '/u/a' },
          { op: 'delete', path: '/u/a' },
          { op: 'create', path: '/u/s-', mode: CreateMode.PERSISTENT_SEQUENTIAL },
        ]);
        expect(results[2]).toEqual({ op: 'create', path: '/u/s-0000000001' });
        expect((await zk.exists('/u'))!.cversion).toBe(3);
      });

      it("does not count the ephemerals a session's close deletes", async () => {
        const { connect } = await kit.deploy();
        const [zk, closing] = await Promise.all([connect(), connect()]);
        await zk.create('/e');
        await closing.create('/e/a', '', { mode: CreateMode.EPHEMERAL });
        await closing.create('/e/b-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
        await closing.close();
        expect(await zk.create('/e/s-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe(
          '/e/s-0000000002',
        );
        expect((await zk.exists('/e'))!.cversion).toBe(5);
      });

      it('appends the suffix to a prefix ending in a slash', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/s');
        expect(await zk.create('/s/', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe('/s/0000000000');
        expect(await zk.create('/s/', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe('/s/0000000001');
      });

      it('gives sequential nodes created in one multi consecutive suffixes', async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/m');
        const results = await zk.multi([
          { op: 'create', path: '/m/x-', mode: CreateMode.PERSISTENT_SEQUENTIAL },
          { op: 'create', path: '/m/x-', mode: CreateMode.PERSISTENT_SEQUENTIAL },
        ]);
        expect(results).toEqual([
          { op: 'create', path: '/m/x-0000000000' },
          { op: 'create', path: '/m/x-0000000001' },
        ]);
      });
    });
  });
}
