import { describe, expect, it } from 'vitest';
import type { FaaSKeeperClient } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { ChannelDelays, guaranteeKit, text, track } from './helpers.js';

/** Ordered notifications: a watch event comes before any data written after its change, on `target`. */
export function describeOrderingGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    // Ordered notifications (DESIGN.md §4): a client sees a watch event before it can see any data
    // written after the change that fired it, and before the reply to its own later operations.
    // Client A's channel is held back in these tests, so that A's reads reach the user store long
    // before A's event could arrive: only the epoch mechanism makes the read wait.

    const A = 1001;
    const B = 2002;

    async function setup() {
      const channel = new ChannelDelays(kit);
      const h = await kit.deploy({ wrapClientChannel: channel.wrapClientChannel });
      const a = await h.connect({ sessionId: A });
      const b = await h.connect({ sessionId: B });
      return { ...h, a, b, channel };
    }

    /** Lets every runnable callback and immediate run, so that anything not blocked finishes. */
    const quiesce = () => kit.quiet();

    describe('ordered notifications', () => {
      it('delivers the watch event before the new data', async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await b.create('/y', 'old');
        const order: string[] = [];
        await a.getData('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });

        channel.hold(A);
        await b.setData('/x', 'new');
        await b.setData('/y', 'new'); // written after the change that fired A's watch
        await kit.eventually(() => channel.heldCount(A) > 0, "A's event to reach its channel");

        const readY = track(a.getData('/y').then((r) => order.push(`read /y ${text(r.data)}`)));
        const readX = track(a.getData('/x').then((r) => order.push(`read /x ${text(r.data)}`)));
        await quiesce();
        // The records are in the user store, but they name A's undelivered event: the reads wait.
        expect(readY.done).toBe(false);
        expect(readX.done).toBe(false);
        expect(order).toEqual([]);

        channel.release(A);
        await Promise.all([readY.promise, readX.promise]);
        expect(order[0]).toBe('event NodeDataChanged /x');
        expect(order.slice(1).sort()).toEqual(['read /x new', 'read /y new']);
      });

      it('delivers the watch event before data written by a later write in another subtree', async () => {
        const { a, b, channel } = await setup();
        await b.create('/watched');
        await b.create('/far');
        await b.create('/far/away');
        const order: string[] = [];
        await a.getChildren('/watched', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });

        channel.hold(A);
        await b.create('/watched/child');
        await b.setData('/far/away', 'after');
        const read = track(a.getData('/far/away').then((r) => order.push(`read ${text(r.data)}`)));
        await quiesce();
        expect(read.done).toBe(false);

        channel.release(A);
        await read.promise;
        expect(order).toEqual(['event NodeChildrenChanged /watched', 'read after']);
      });

      it('lets reads of data older than the change return at once', async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await b.create('/untouched', 'before');
        const events: string[] = [];
        await a.getData('/x', { watch: (e) => events.push(e.type) });

        channel.hold(A);
        await b.setData('/x', 'new');
        // A record written before the change names no pending event of A: no reason to wait.
        const r = await a.getData('/untouched');
        expect(text(r.data)).toBe('before');
        expect(events).toEqual([]);
        channel.release(A);
        await a.sync('/');
        expect(events).toEqual(['NodeDataChanged']);
      });

      it("runs the event callback before the client's own later setData resolves", async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await a.create('/z', 'a');
        const order: string[] = [];
        await a.getData('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });

        channel.hold(A);
        await b.setData('/x', 'new');
        const write = track(a.setData('/z', 'b').then((s) => order.push(`setData v${s.version}`)));
        // Let A's write go through the writer and distributor: its reply is now queued behind the event.
        await b.sync('/');
        await quiesce();
        expect(write.done).toBe(false);

        channel.release(A);
        await write.promise;
        expect(order).toEqual(['event NodeDataChanged /x', 'setData v1']);
      });

      it("fires the watch on the client's own change before its setData resolves", async () => {
        const { a } = await setup();
        await a.create('/own', '0');
        const order: string[] = [];
        await a.getData('/own', { watch: (e) => order.push(`event ${e.type}`) });
        await a.setData('/own', '1').then(() => order.push('setData resolved'));
        expect(order).toEqual(['event NodeDataChanged', 'setData resolved']);
      });

      it('delivers events to one client in zxid order across paths', async () => {
        const { a, b } = await setup();
        const paths = ['/o1', '/o2', '/o3', '/o4'];
        for (const p of paths) await b.create(p);
        const events: string[] = [];
        for (const p of paths) await a.getData(p, { watch: (e) => events.push(e.path) });
        const order = [3, 0, 2, 1].map((i) => paths[i]!);
        await Promise.all(order.map((p) => b.setData(p, 'x')));
        await a.sync('/');
        expect(events).toEqual(order);
      });

      it('delivers a pending event before the reply of a read-with-watch issued later', async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await b.create('/y', 'old');
        const order: string[] = [];
        await a.exists('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });
        channel.hold(A);
        await b.setData('/x', 'new');
        const read = track(
          a.getData('/y', { watch: () => {} }).then((r: Awaited<ReturnType<FaaSKeeperClient['getData']>>) => {
            order.push(`read ${text(r.data)}`);
          }),
        );
        await b.sync('/');
        await quiesce();
        expect(read.done).toBe(false);
        channel.release(A);
        await read.promise;
        expect(order).toEqual(['event NodeDataChanged /x', 'read old']);
      });

      it('delivers a persistent watch event before the new data', async () => {
        const { a, b, channel } = await setup();
        await b.create('/tree');
        const order: string[] = [];
        await a.addWatch('/tree', (e) => order.push(`event ${e.type} ${e.path}`), 'PERSISTENT_RECURSIVE');
        channel.hold(A);
        await b.create('/tree/leaf', 'v1');
        const read = track(a.getData('/tree/leaf').then((r) => order.push(`read ${text(r.data)}`)));
        await quiesce();
        expect(read.done).toBe(false);
        channel.release(A);
        await read.promise;
        expect(order).toEqual(['event NodeCreated /tree/leaf', 'read v1']);
      });

      it('stops holding reads once the client has taken the event', async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await a.getData('/x', { watch: () => {} });
        channel.hold(A);
        await b.setData('/x', 'new');
        channel.release(A);
        await a.sync('/'); // the event is in
        // New records still name A's event until A's next request acknowledges it; having taken it,
        // A reads them without waiting even while its channel is slow again.
        channel.hold(A);
        await b.create('/later', 'fresh');
        expect(text((await a.getData('/later')).data)).toBe('fresh');
        channel.release(A);
      });

      it('delivers the watch event before a later deletion is visible', async () => {
        const { a, b, channel } = await setup();
        await b.create('/x', 'old');
        await b.create('/y', 'doomed');
        await b.create('/dir');
        await b.create('/dir/sub');
        await b.create('/dir/sub/leaf');
        const order: string[] = [];
        await a.getData('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });

        channel.hold(A);
        await b.setData('/x', 'new');
        await b.delete('/y'); // deleted after the change that fired A's watch
        await b.multi([
          { op: 'delete', path: '/dir/sub/leaf' },
          { op: 'delete', path: '/dir/sub' },
        ]);
        const exists = track(a.exists('/y').then((s) => order.push(`exists /y ${String(s)}`)));
        const data = track(
          a.getData('/y').catch((e: { code: string }) => order.push(`getData /y ${e.code}`)),
        );
        const deep = track(a.exists('/dir/sub/leaf').then((s) => order.push(`exists leaf ${String(s)}`)));
        await quiesce();
        // The nodes are gone from the store, but seeing that would be seeing data newer than the event.
        expect(exists.done).toBe(false);
        expect(data.done).toBe(false);
        expect(deep.done).toBe(false);

        channel.release(A);
        await Promise.all([exists.promise, data.promise, deep.promise]);
        expect(order[0]).toBe('event NodeDataChanged /x');
        expect(order.slice(1).sort()).toEqual(['exists /y null', 'exists leaf null', 'getData /y NONODE']);
      });

      it('answers reads of missing nodes at once when no watch event can be pending', async () => {
        const { a, b, channel } = await setup();
        await b.create('/y');
        channel.hold(A);
        await b.delete('/y');
        // A has no watch, so nothing can be owed to it: the read need not wait for its channel.
        expect(await a.exists('/y')).toBeNull();
        expect(await a.exists('/never/was')).toBeNull();
        channel.release(A);
      });
    });
  });
}
