import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { guaranteeKit, recorder } from './helpers.js';

/** Container nodes go with their last child and TTL nodes expire after their TTL, on `target`. */
export function describeContainersTtlGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    const clockSkewMs = 1000;
    const heartbeatIntervalMs = 500;
    const ttlHarness = () => kit.deploy({ clockSkewMs, heartbeatIntervalMs, sessionTimeoutMs: 10_000 });

    describe('container nodes', () => {
      it('removes a container once its last child goes', async () => {
        const { connect } = await ttlHarness();
        const [zk, watcher] = await Promise.all([connect(), connect()]);
        await zk.create('/c', 'box', { mode: CreateMode.CONTAINER });
        await zk.create('/c/a');
        await zk.create('/c/b', '', { mode: CreateMode.EPHEMERAL });
        const w = recorder();
        await watcher.exists('/c', { watch: w.watcher });

        await zk.delete('/c/a');
        await zk.sync('/');
        expect(await zk.exists('/c')).not.toBeNull(); // one child left

        await zk.delete('/c/b');
        await zk.sync('/');
        expect(await zk.exists('/c')).toBeNull();
        await watcher.sync('/');
        expect(w.events).toEqual(['NodeDeleted /c']);
      });

      it('removes a container whose last child went with its session', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const [owner, other] = await Promise.all([connect(), connect()]);
        await other.create('/c', '', { mode: CreateMode.CONTAINER });
        await owner.create('/c/member', '', { mode: CreateMode.EPHEMERAL });
        await owner.close();
        await other.sync('/');
        expect(await other.exists('/c')).toBeNull();
        // Nothing more happens later.
        await kit.advance(clock, 2000);
        await kit.heartbeatNow(deployment, other);
        expect((await other.getChildren('/')).children).toEqual([]);
      });

      it('keeps a container that never had a child', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const zk = await connect();
        await zk.create('/empty', '', { mode: CreateMode.CONTAINER });
        await zk.create('/other');
        await zk.delete('/other');
        await zk.setData('/empty', 'touched');
        await kit.advance(clock, 5000);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/empty')).not.toBeNull();
        // And it goes only after it has had a child and lost it.
        await zk.create('/empty/kid');
        expect(await zk.exists('/empty')).not.toBeNull();
        await zk.delete('/empty/kid');
        await zk.sync('/');
        expect(await zk.exists('/empty')).toBeNull();
      });

      it('removes a container emptied by a multi', async () => {
        const zk = await (await ttlHarness()).connect();
        await zk.create('/c', '', { mode: CreateMode.CONTAINER });
        await zk.create('/c/x');
        await zk.create('/c/y');
        await zk.multi([
          { op: 'delete', path: '/c/x' },
          { op: 'delete', path: '/c/y' },
        ]);
        await zk.sync('/');
        expect(await zk.exists('/c')).toBeNull();
      });
    });

    describe('TTL nodes', () => {
      const ttlMs = 5000;

      it('expires a childless TTL node after its TTL, and not before', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const [zk, watcher] = await Promise.all([connect(), connect()]);
        await zk.create('/t', 'short-lived', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs });
        const w = recorder();
        await watcher.exists('/t', { watch: w.watcher });

        await kit.advance(clock, ttlMs - 100);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).not.toBeNull();

        await kit.advance(clock, 100 + clockSkewMs + heartbeatIntervalMs + 100);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).toBeNull();
        await watcher.sync('/');
        expect(w.events).toEqual(['NodeDeleted /t']);
      });

      it('keeps a TTL node while it has a child, and expires it once the child goes', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const zk = await connect();
        await zk.create('/t', '', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs });
        await zk.create('/t/child');
        await kit.advance(clock, 3 * ttlMs);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).not.toBeNull();

        await zk.delete('/t/child');
        // Its TTL counts from its last modification (long ago), so it goes at the next heartbeat.
        await kit.advance(clock, heartbeatIntervalMs + 100);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).toBeNull();
      });

      it('counts the TTL from the last modification of the node', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const zk = await connect();
        await zk.create('/t', '0', { mode: CreateMode.PERSISTENT_WITH_TTL, ttlMs });
        await kit.advance(clock, ttlMs - 1000);
        await zk.setData('/t', '1'); // a new mtime: the TTL starts again
        await kit.advance(clock, ttlMs - 500);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).not.toBeNull();
        await kit.advance(clock, 500 + clockSkewMs + heartbeatIntervalMs + 100);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists('/t')).toBeNull();
      });

      it('expires sequential TTL nodes too, each by its own clock', async () => {
        const { deployment, clock, connect } = await ttlHarness();
        const zk = await connect();
        const first = await zk.create('/s-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttlMs });
        expect(first).toBe('/s-0000000000');
        await kit.advance(clock, 3000);
        const second = await zk.create('/s-', '', { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttlMs });
        await kit.advance(clock, ttlMs - 3000 + clockSkewMs + heartbeatIntervalMs + 100);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists(first)).toBeNull();
        expect(await zk.exists(second)).not.toBeNull();
        await kit.advance(clock, 3000);
        await kit.heartbeatNow(deployment, zk);
        expect(await zk.exists(second)).toBeNull();
      });
    });
  });
}
