import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit } from './helpers.js';

/** Sequential nodes get unique, increasing suffixes from the parent's cversion, on `target`. */
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

      it("takes the suffix from the parent's cversion, which counts deletes too", async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/q');
        expect(await zk.create('/q/n-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe(
          '/q/n-0000000000',
        );
        await zk.create('/q/plain');
        await zk.delete('/q/plain');
        // cversion is now 3: one sequential create, one create, one delete.
        expect((await zk.exists('/q'))!.cversion).toBe(3);
        expect(await zk.create('/q/n-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL })).toBe(
          '/q/n-0000000003',
        );
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
