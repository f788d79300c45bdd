/**
 * The guarantees page's examples (docs/guarantees.md), each a guarantee a client can rely on.
 * `run()` executes them against the embedded deployment (packages/cli/test/docs-snippets.test.ts).
 */
import assert from 'node:assert/strict';
import { type FaaSKeeperClient, FaaSKeeperError, type WatchedEvent } from '@faaskeeper/client';
import { createEmbeddedService } from '@faaskeeper/core';

/** Runs every example of the page. */
export async function run(): Promise<void> {
  const service = createEmbeddedService();
  const zk = await service.connect();
  const reader = await service.connect();
  const writer = await service.connect();
  await atomicMulti(zk);
  await fifoOrder(zk);
  await compareAndSet(zk);
  await orderedNotifications(reader, writer);
  await syncThenRead(reader, writer);
  await service.close();
}

async function atomicMulti(zk: FaaSKeeperClient): Promise<void> {
  // #region atomic-multi
  await zk.create('/accounts');
  await zk.create('/accounts/alice', '100');
  try {
    await zk.multi([
      { op: 'setData', path: '/accounts/alice', data: '50' },
      { op: 'create', path: '/accounts/bob', data: '50' },
      { op: 'check', path: '/accounts/alice', version: 7 }, // fails: alice is at version 1 by then
    ]);
  } catch (error) {
    assert.ok(error instanceof FaaSKeeperError && error.code === 'BADVERSION');
    assert.deepEqual(
      error.results?.map((r) => r.code),
      ['OK', 'OK', 'BADVERSION'],
    );
  }
  // Nothing of the failed multi was applied.
  assert.equal(new TextDecoder().decode((await zk.getData('/accounts/alice')).data), '100');
  assert.equal(await zk.exists('/accounts/bob'), null);
  // #endregion atomic-multi
}

async function fifoOrder(zk: FaaSKeeperClient): Promise<void> {
  // #region fifo-order
  // Issued without waiting: they still take effect in the order this client sent them.
  const created = zk.create('/jobs', 'queued');
  const updated = zk.setData('/jobs', 'running');
  const read = zk.getData('/jobs'); // a read waits for this client's earlier writes
  await Promise.all([created, updated]);
  assert.equal(new TextDecoder().decode((await read).data), 'running');
  // #endregion fifo-order
}

async function compareAndSet(zk: FaaSKeeperClient): Promise<void> {
  // #region compare-and-set
  await zk.create('/counter', '0');
  async function increment(): Promise<void> {
    for (;;) {
      const { data, stat } = await zk.getData('/counter');
      const next = String(Number(new TextDecoder().decode(data)) + 1);
      try {
        await zk.setData('/counter', next, { version: stat.version });
        return;
      } catch (error) {
        if (!(error instanceof FaaSKeeperError && error.code === 'BADVERSION')) throw error;
        // Someone else incremented first: read again and retry.
      }
    }
  }
  await Promise.all([increment(), increment(), increment()]);
  assert.equal(new TextDecoder().decode((await zk.getData('/counter')).data), '3');
  // #endregion compare-and-set
}

async function orderedNotifications(reader: FaaSKeeperClient, writer: FaaSKeeperClient): Promise<void> {
  // #region ordered-notifications
  await writer.create('/settings', 'v1');
  const events: WatchedEvent[] = [];
  await reader.getData('/settings', { watch: (event) => events.push(event) });
  await writer.setData('/settings', 'v2');
  const { data } = await reader.getData('/settings');
  // A reader that sees v2 has already received the event of the change that wrote it.
  if (new TextDecoder().decode(data) === 'v2')
    assert.deepEqual(events, [{ type: 'NodeDataChanged', path: '/settings' }]);
  // #endregion ordered-notifications
}

async function syncThenRead(reader: FaaSKeeperClient, writer: FaaSKeeperClient): Promise<void> {
  // #region sync
  await writer.create('/release', '1.4.0');
  // The writer may tell the reader "it's out" over another channel; the reader syncs first,
  // then its read is guaranteed to see every write acknowledged before the sync.
  await reader.sync('/release');
  assert.equal(new TextDecoder().decode((await reader.getData('/release')).data), '1.4.0');
  // #endregion sync
}
