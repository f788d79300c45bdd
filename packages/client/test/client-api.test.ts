import {
  CreateMode,
  ErrorCodes,
  FaaSKeeperClient,
  FaaSKeeperError,
  isFaaSKeeperError,
  type WatchedEvent,
} from '@faaskeeper/client';
import * as recipes from '@faaskeeper/client/recipes';
import { createEmbeddedService, type EmbeddedService } from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';

let service: EmbeddedService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

const text = (data: Uint8Array) => new TextDecoder().decode(data);

describe('@faaskeeper/client', () => {
  it('re-exports the client of the embedded deployment, its modes and its errors', async () => {
    service = createEmbeddedService();
    const zk = await service.connect();
    expect(zk).toBeInstanceOf(FaaSKeeperClient);
    expect(zk.state).toBe('CONNECTED');
    expect(await zk.create('/app', 'v0')).toBe('/app');
    const seq = await zk.create('/app/job-', 'x', { mode: CreateMode.PERSISTENT_SEQUENTIAL });
    expect(seq).toBe('/app/job-0000000000');
    const events: WatchedEvent[] = [];
    expect(text((await zk.getData('/app', { watch: (e) => events.push(e) })).data)).toBe('v0');
    expect((await zk.setData('/app', 'v1', { version: 0 })).version).toBe(1);
    expect(events).toEqual([{ type: 'NodeDataChanged', path: '/app' }]);
    const stale = zk.setData('/app', 'v2', { version: 0 });
    await expect(stale).rejects.toBeInstanceOf(FaaSKeeperError);
    await expect(stale).rejects.toMatchObject({ code: 'BADVERSION', errno: ErrorCodes.BADVERSION });
    await zk.delete(seq);
    await zk.delete('/app');
    expect(await zk.exists('/app')).toBeNull();
    const missing = await zk.getData('/app').catch((e: unknown) => e);
    expect(isFaaSKeeperError(missing, 'NONODE')).toBe(true);
    await zk.close();
    expect(zk.state).toBe('CLOSED');
  });

  it('exports the recipes from @faaskeeper/client/recipes', () => {
    for (const name of ['Mutex', 'ReadWriteLock', 'LeaderLatch', 'Barrier', 'DoubleBarrier', 'TreeCache'])
      expect(typeof (recipes as Record<string, unknown>)[name]).toBe('function');
  });
});
