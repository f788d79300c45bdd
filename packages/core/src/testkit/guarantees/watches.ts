import { describe, expect, it } from 'vitest';
import { CreateMode } from '../../index.js';
import type { DeploymentTarget } from '../target.js';
import { expectError, guaranteeKit, recorder } from './helpers.js';

/** One-shot and persistent watches fire exactly as ZooKeeper's do, on `target`. */
export function describeWatchesGuarantees(target: DeploymentTarget): void {
  describe(target.name, { timeout: target.testTimeoutMs }, () => {
    const kit = guaranteeKit(target);

    // A watcher's events arrive on its client's channel in zxid order, before the reply to any later
    // request of that client: `await zk.sync('/')` is therefore a deterministic "all events so far are in".

    describe('watches', () => {
      it('fires a one-shot data watch exactly once', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/x', '0');
        const w = recorder();
        await a.getData('/x', { watch: w.watcher });
        await b.setData('/x', '1');
        await b.setData('/x', '2');
        await b.delete('/x');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /x']);
      });

      it('fires a one-shot child watch exactly once', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/p');
        const w = recorder();
        await a.getChildren('/p', { watch: w.watcher });
        await b.setData('/p', 'not a child change');
        await b.create('/p/1');
        await b.create('/p/2');
        await a.sync('/');
        expect(w.events).toEqual(['NodeChildrenChanged /p']);
      });

      it("create fires the node's exists watch and the parent's child watch", async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/p');
        const exists = recorder();
        const children = recorder();
        expect(await a.exists('/p/c', { watch: exists.watcher })).toBeNull();
        await a.getChildren('/p', { watch: children.watcher });
        await b.create('/p/c');
        await a.sync('/');
        expect(exists.events).toEqual(['NodeCreated /p/c']);
        expect(children.events).toEqual(['NodeChildrenChanged /p']);
      });

      it('an exists watch on a missing node fires on its creation', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        const w = recorder();
        expect(await a.exists('/later', { watch: w.watcher })).toBeNull();
        await b.create('/other');
        await a.sync('/');
        expect(w.events).toEqual([]);
        await b.create('/later', '', { mode: CreateMode.EPHEMERAL });
        await a.sync('/');
        expect(w.events).toEqual(['NodeCreated /later']);
      });

      it("delete fires the node's data and exists watches and the parent's child watch", async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/p');
        await a.create('/p/c');
        const data = recorder();
        const exists = recorder();
        const children = recorder();
        const ownChildren = recorder();
        await a.getData('/p/c', { watch: data.watcher });
        await a.exists('/p/c', { watch: exists.watcher });
        await a.getChildren('/p', { watch: children.watcher });
        await a.getChildren('/p/c', { watch: ownChildren.watcher });
        await b.delete('/p/c');
        await a.sync('/');
        expect(data.events).toEqual(['NodeDeleted /p/c']);
        expect(exists.events).toEqual(['NodeDeleted /p/c']);
        expect(children.events).toEqual(['NodeChildrenChanged /p']);
        // A child watch on the deleted node itself hears of the deletion too, as in ZooKeeper.
        expect(ownChildren.events).toEqual(['NodeDeleted /p/c']);
      });

      it('calls a watcher set by several reads of one path once per event', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await a.create('/x');
        const w = recorder();
        await a.getData('/x', { watch: w.watcher });
        await a.exists('/x', { watch: w.watcher });
        await b.setData('/x', '1');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /x']);
      });

      it('notifies every client that watches the node', async () => {
        const { connect } = await kit.deploy();
        const clients = await Promise.all([connect(), connect(), connect()]);
        await clients[0]!.create('/shared');
        const ws = clients.map(() => recorder());
        for (const [i, zk] of clients.entries()) await zk.getData('/shared', { watch: ws[i]!.watcher });
        await clients[0]!.setData('/shared', 'x');
        for (const zk of clients) await zk.sync('/');
        for (const w of ws) expect(w.events).toEqual(['NodeDataChanged /shared']);
      });

      it("a recursive watch sees its descendants' create, change and delete and stays armed", async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/r');
        await b.create('/elsewhere');
        const w = recorder();
        await a.addWatch('/r', w.watcher, 'PERSISTENT_RECURSIVE');
        await b.create('/r/a');
        await b.create('/r/a/b', 'x');
        await b.setData('/r/a/b', 'y');
        await b.setData('/r/a/b', 'z');
        await b.setData('/elsewhere', 'not watched');
        await b.create('/rx'); // a sibling whose name starts with the watched path: not a descendant
        await b.delete('/r/a/b');
        await b.setData('/r', 'self');
        await a.sync('/');
        expect(w.events).toEqual([
          'NodeCreated /r/a',
          'NodeCreated /r/a/b',
          'NodeDataChanged /r/a/b',
          'NodeDataChanged /r/a/b',
          'NodeDeleted /r/a/b',
          'NodeDataChanged /r',
        ]);
        // Still armed after all of that.
        await b.create('/r/again');
        await a.sync('/');
        expect(w.events.at(-1)).toBe('NodeCreated /r/again');
      });

      it('a persistent watch stays armed for the node and its child list', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        const w = recorder();
        await a.addWatch('/p', w.watcher, 'PERSISTENT');
        await b.setData('/p', '1');
        await b.setData('/p', '2');
        await b.create('/p/c');
        await b.setData('/p/c', 'a grandchild-level change is not watched');
        await b.delete('/p/c');
        await b.setData('/p', '3');
        await a.sync('/');
        expect(w.events).toEqual([
          'NodeDataChanged /p',
          'NodeDataChanged /p',
          'NodeChildrenChanged /p',
          'NodeChildrenChanged /p',
          'NodeDataChanged /p',
        ]);
      });

      it('a persistent watch on a missing node sees its creation and deletion', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        const w = recorder();
        await a.addWatch('/ghost', w.watcher, 'PERSISTENT');
        await b.create('/ghost');
        await b.delete('/ghost');
        await b.create('/ghost');
        await a.sync('/');
        expect(w.events).toEqual(['NodeCreated /ghost', 'NodeDeleted /ghost', 'NodeCreated /ghost']);
      });

      it('removeWatches stops delivery to a persistent watcher', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        const w = recorder();
        const kept = recorder();
        await a.addWatch('/p', w.watcher, 'PERSISTENT_RECURSIVE');
        await a.addWatch('/p', kept.watcher, 'PERSISTENT');
        await b.setData('/p', '1');
        await a.sync('/');
        await a.removeWatches('/p', w.watcher);
        await b.setData('/p', '2');
        await b.create('/p/c');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /p']);
        // The other watcher on the same path is untouched.
        expect(kept.events).toEqual(['NodeDataChanged /p', 'NodeDataChanged /p', 'NodeChildrenChanged /p']);
      });

      it('removeWatches stops delivery to one-shot watchers', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        const data = recorder();
        const children = recorder();
        await a.getData('/p', { watch: data.watcher });
        await a.getChildren('/p', { watch: children.watcher });
        await a.removeWatches('/p');
        await b.setData('/p', '1');
        await b.create('/p/c');
        await a.sync('/');
        expect(data.events).toEqual([]);
        expect(children.events).toEqual([]);
      });

      it('removeWatches throws NOWATCHER when there is no such watch', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        await expectError(a.removeWatches('/p'), 'NOWATCHER');
        const w = recorder();
        await a.getData('/p', { watch: w.watcher });
        await expectError(
          a.removeWatches('/p', () => {}),
          'NOWATCHER',
        );
        // A fired one-shot watch is gone: removing it afterwards finds nothing.
        await b.setData('/p', 'x');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /p']);
        await expectError(a.removeWatches('/p', w.watcher), 'NOWATCHER');
      });

      it('delivers the events of one change to a persistent and a one-shot watcher alike', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        const oneShot = recorder();
        const persistent = recorder();
        await a.getData('/p', { watch: oneShot.watcher });
        await a.addWatch('/p', persistent.watcher, 'PERSISTENT');
        await b.setData('/p', '1');
        await b.setData('/p', '2');
        await a.sync('/');
        expect(oneShot.events).toEqual(['NodeDataChanged /p']);
        expect(persistent.events).toEqual(['NodeDataChanged /p', 'NodeDataChanged /p']);
      });

      it('a recursive watch on the root sees every change in the tree', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        const w = recorder();
        await a.addWatch('/', w.watcher, 'PERSISTENT_RECURSIVE');
        await b.create('/x');
        await b.create('/x/y');
        await b.setData('/x/y', '1');
        await b.delete('/x/y');
        await a.sync('/');
        expect(w.events).toEqual([
          'NodeCreated /x',
          'NodeCreated /x/y',
          'NodeDataChanged /x/y',
          'NodeDeleted /x/y',
        ]);
      });

      it("fires the client's watches on its own changes before those changes resolve", async () => {
        const zk = await (await kit.deploy()).connect();
        await zk.create('/p');
        await zk.create('/p/c');
        const order: string[] = [];
        await zk.getChildren('/p', { watch: (e) => order.push(`${e.type} ${e.path}`) });
        await zk.exists('/p/c', { watch: (e) => order.push(`${e.type} ${e.path}`) });
        await zk.delete('/p/c').then(() => order.push('deleted'));
        expect(order).toEqual(['NodeDeleted /p/c', 'NodeChildrenChanged /p', 'deleted']);
      });

      it('a watch set on a node that is deleted and created again fires once', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/x');
        const w = recorder();
        await a.exists('/x', { watch: w.watcher });
        await b.delete('/x');
        await b.create('/x');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDeleted /x']);
        // Set again, it fires again.
        await a.exists('/x', { watch: w.watcher });
        await b.delete('/x');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDeleted /x', 'NodeDeleted /x']);
      });

      it('a closed session gets no more events and leaves no watch behind', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/x');
        const w = recorder();
        await a.getData('/x', { watch: w.watcher });
        await a.addWatch('/', w.watcher, 'PERSISTENT_RECURSIVE');
        await a.close();
        await b.setData('/x', '1');
        await b.create('/y');
        await b.sync('/');
        expect(w.events).toEqual([]);
      });

      it('an exists watch on an existing node fires on its data change', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/x');
        const w = recorder();
        expect(await a.exists('/x', { watch: w.watcher })).not.toBeNull();
        await b.setData('/x', '1');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDataChanged /x']);
      });

      it('data watches ignore child changes and child watches ignore data changes', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/p');
        await b.create('/p/c');
        const data = recorder();
        const children = recorder();
        await a.getData('/p', { watch: data.watcher });
        await a.getChildren('/p', { watch: children.watcher });
        await b.create('/p/d');
        await a.sync('/');
        expect(data.events).toEqual([]);
        expect(children.events).toEqual(['NodeChildrenChanged /p']);
        await a.getChildren('/p', { watch: children.watcher });
        await b.setData('/p', 'x');
        await b.setData('/p/c', 'x');
        await a.sync('/');
        expect(data.events).toEqual(['NodeDataChanged /p']);
        expect(children.events).toEqual(['NodeChildrenChanged /p']);
      });

      it('an exists watch under a missing parent fires when the node is finally created', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        const w = recorder();
        expect(await a.exists('/a/b', { watch: w.watcher })).toBeNull();
        await b.create('/a');
        await a.sync('/');
        expect(w.events).toEqual([]);
        await b.create('/a/b');
        await a.sync('/');
        expect(w.events).toEqual(['NodeCreated /a/b']);
      });

      it('a recursive watch sees the watched node itself deleted and created again', async () => {
        const { connect } = await kit.deploy();
        const [a, b] = await Promise.all([connect(), connect()]);
        await b.create('/r');
        const w = recorder();
        await a.addWatch('/r', w.watcher, 'PERSISTENT_RECURSIVE');
        await b.delete('/r');
        await b.create('/r');
        await b.create('/r/k');
        await a.sync('/');
        expect(w.events).toEqual(['NodeDeleted /r', 'NodeCreated /r', 'NodeCreated /r/k']);
      });
    });
  });
}
