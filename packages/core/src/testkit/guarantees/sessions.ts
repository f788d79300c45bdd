import { describe, expect, it } from 'vitest';
import { CreateMode, type SessionState } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, limitTransactionItems, recorder } from './helpers.js';

/** Sessions: expiry of vanished clients with their ephemerals, close(), partitions, on `target`. */
export function describeSessionsGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    const sessionTimeoutMs = 3000;
    const clockSkewMs = 1000;
    const heartbeatIntervalMs = 500;
    /** Past the point where the heartbeat must have expired a silent session. */
    const pastExpiry = sessionTimeoutMs + clockSkewMs + heartbeatIntervalMs + 500;

    const sessionHarness = () => kit.deploy({ sessionTimeoutMs, clockSkewMs, heartbeatIntervalMs });

    describe('sessions', () => {
      it("expires a vanished client's session: its ephemerals go with watch events, and it sees EXPIRED", async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const [gone, watcher] = await Promise.all([connect(), connect()]);
        const states: SessionState[] = [];
        gone.on('state', (s) => states.push(s));
        await gone.create('/e', 'mine', { mode: CreateMode.EPHEMERAL });
        await watcher.create('/dir');
        await gone.create('/dir/seq-', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
        await gone.create('/kept', 'persistent');
        const exists = recorder();
        const children = recorder();
        await watcher.exists('/e', { watch: exists.watcher });
        await watcher.getChildren('/dir', { watch: children.watcher });

        deployment.partition(gone);
        // Still there just before the session can expire (its deadline plus the allowed clock skew).
        await kit.advance(clock, sessionTimeoutMs + clockSkewMs - 100);
        await kit.heartbeatNow(deployment, watcher);
        expect(await watcher.exists('/e')).not.toBeNull();
        expect(exists.events).toEqual([]);

        await kit.advance(clock, pastExpiry - (sessionTimeoutMs + clockSkewMs - 100));
        // The scheduled heartbeat has found the session meanwhile: its ephemerals go, with events.
        await kit.eventually(
          () => exists.events.length > 0 && children.events.length > 0,
          'the watch events of the expired ephemerals',
        );
        await watcher.sync('/');
        expect(await watcher.exists('/e')).toBeNull();
        expect((await watcher.getChildren('/dir')).children).toEqual([]);
        expect(await watcher.exists('/kept')).not.toBeNull();
        expect(exists.events).toEqual(['NodeDeleted /e']);
        expect(children.events).toEqual(['NodeChildrenChanged /dir']);
        expect(gone.state).not.toBe('EXPIRED'); // it cannot have heard yet

        deployment.heal(gone);
        await watcher.sync('/');
        await kit.advance(clock, 10);
        await kit.eventually(() => gone.state === 'EXPIRED', 'the client to hear of its expiry');
        expect(gone.state).toBe('EXPIRED');
        expect(states.at(-1)).toBe('EXPIRED');
        await expectError(gone.getData('/kept'), 'SESSIONEXPIRED');
        await expectError(gone.create('/after'), 'SESSIONEXPIRED');
        await expectError(gone.setData('/kept', 'x'), 'SESSIONEXPIRED');
        await expectError(gone.sync('/'), 'SESSIONEXPIRED');
        expect(await watcher.exists('/after')).toBeNull();
      });

      it('a live idle session keeps its ephemerals over the same time, its lease renewals keeping it alive', async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const [live, other] = await Promise.all([connect(), connect()]);
        await live.create('/live', '', { mode: CreateMode.EPHEMERAL });
        const w = recorder();
        await other.exists('/live', { watch: w.watcher });
        await kit.advance(clock, 3 * pastExpiry);
        await kit.heartbeatNow(deployment, other);
        expect(live.state).toBe('CONNECTED');
        expect(await other.exists('/live')).not.toBeNull();
        expect(w.events).toEqual([]);
        expect(await live.create('/still-works')).toBe('/still-works');
      });

      it('close() removes the ephemerals at once, with watch events', async () => {
        const { connect } = await sessionHarness();
        const [closing, other] = await Promise.all([connect(), connect()]);
        await closing.create('/e1', '', { mode: CreateMode.EPHEMERAL });
        await closing.create('/e2', '', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
        await closing.create('/p', 'persistent');
        const w = recorder();
        await other.exists('/e1', { watch: w.watcher });
        const states: SessionState[] = [];
        closing.on('state', (s) => states.push(s));

        await closing.close();
        // No clock movement: the deletion happened as part of the close.
        expect(await other.exists('/e1')).toBeNull();
        expect(await other.exists('/e20000000001')).toBeNull();
        expect((await other.getChildren('/')).children).toEqual(['p']);
        await other.sync('/');
        expect(w.events).toEqual(['NodeDeleted /e1']);
        expect(closing.state).toBe('CLOSED');
        expect(states).toEqual(['CLOSED']);
        await expectError(closing.getData('/p'), 'SESSIONEXPIRED');
        await expectError(closing.create('/x'), 'SESSIONEXPIRED');
      });

      it('ends the session in one transaction: all its ephemerals go with one zxid', async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const [gone, other] = await Promise.all([connect(), connect()]);
        for (const d of ['/d1', '/d2', '/d3']) {
          await other.create(d);
          await gone.create(`${d}/e`, '', { mode: CreateMode.EPHEMERAL });
        }
        deployment.partition(gone);
        await kit.advance(clock, pastExpiry);
        await kit.heartbeatNow(deployment, other);
        const parents = await Promise.all(['/d1', '/d2', '/d3'].map(async (d) => (await other.exists(d))!));
        for (const p of parents) expect(p.numChildren).toBe(0);
        // Each parent's last child change is the session's end: the same zxid for all three.
        expect(new Set(parents.map((p) => p.pzxid)).size).toBe(1);
        await other.create('/next');
        expect((await other.exists('/next'))!.czxid).toBeGreaterThan(parents[0]!.pzxid);
      });

      it('a partition shorter than the session timeout keeps the session and its ephemerals', async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const [zk, other] = await Promise.all([connect(), connect()]);
        await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
        const w = recorder();
        await other.exists('/mine', { watch: w.watcher });
        deployment.partition(zk);
        await kit.advance(clock, sessionTimeoutMs - 1000);
        deployment.heal(zk);
        expect(await zk.create('/after-heal')).toBe('/after-heal');
        await kit.advance(clock, 2 * pastExpiry);
        await kit.heartbeatNow(deployment, other);
        expect(zk.state).toBe('CONNECTED');
        expect(await other.exists('/mine')).not.toBeNull();
        expect(w.events).toEqual([]);
      });

      it('fails the requests pending at expiry with SESSIONEXPIRED and applies none of them', async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const [gone, other] = await Promise.all([connect(), connect()]);
        deployment.partition(gone);
        const pending = [
          expectError(gone.create('/queued'), 'SESSIONEXPIRED'),
          expectError(gone.setData('/', 'x'), 'SESSIONEXPIRED'),
        ];
        await kit.advance(clock, pastExpiry);
        // The session has ended (the heartbeat's expiry is applied) before the client reconnects.
        await kit.heartbeatNow(deployment, other);
        deployment.heal(gone);
        await Promise.all(pending);
        await other.sync('/');
        expect(await other.exists('/queued')).toBeNull();
        expect((await other.exists('/'))!.version).toBe(0);
      });

      it('close() after expiry resolves and leaves the client CLOSED', async () => {
        const { deployment, clock, connect } = await sessionHarness();
        const zk = await connect();
        deployment.partition(zk);
        await kit.advance(clock, pastExpiry);
        deployment.heal(zk);
        await kit.advance(clock, 10);
        await kit.eventually(() => zk.state === 'EXPIRED', 'the client to hear of its expiry');
        expect(zk.state).toBe('EXPIRED');
        await zk.close();
        expect(zk.state).toBe('CLOSED');
        await expectError(zk.exists('/'), 'SESSIONEXPIRED');
      });

      it('closes a session holding more watches than one store transaction takes: its ephemerals go', async () => {
        // A system store that takes 25 items per transaction (DynamoDB takes 100): the close cannot
        // also remove 60 watch registrations in its own transaction, and must not be refused for it.
        const { connect } = await kit.deploy({
          wrap: { systemStore: (inner) => limitTransactionItems(inner, 25) },
        });
        const [closing, other] = await Promise.all([connect(), connect()]);
        await closing.create('/held', '', { mode: CreateMode.EPHEMERAL });
        await Promise.all(
          Array.from({ length: 60 }, (_, i) => closing.exists(`/w${i}`, { watch: () => {} })),
        );
        const w = recorder();
        await other.exists('/held', { watch: w.watcher });
        await closing.close();
        expect(closing.state).toBe('CLOSED');
        await other.sync('/');
        expect(await other.exists('/held')).toBeNull();
        expect(w.events).toEqual(['NodeDeleted /held']);
        // The paths it watched are free to use, and a new session opens as usual.
        await other.create('/w0');
        const next = await connect();
        expect(await next.exists('/w0')).not.toBeNull();
      });
    });
  });
}
