import { afterEach, describe, expect, it } from 'vitest';
import { CreateMode, type FaaSKeeperClient } from '../../src/index.js';
import { TreeCache, type TreeCacheEvent } from '../../src/recipes/index.js';
import { eventually, type Harness, harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const decoder = new TextDecoder();

/** The subtree as the service holds it now: path → data. */
async function snapshot(zk: FaaSKeeperClient, path: string, out = new Map<string, string>()) {
  const { data } = await zk.getData(path);
  out.set(path, decoder.decode(data));
  for (const child of (await zk.getChildren(path)).children) await snapshot(zk, `${path}/${child}`, out);
  return out;
}

function cached(cache: TreeCache): Map<string, string> {
  return new Map(cache.paths().map((p) => [p, cache.getString(p)!]));
}

describe('TreeCache', () => {
  it('loads the subtree on start', async () => {
    h = await harness(1);
    const zk = h.clients[0]!;
    await zk.create('/cfg', 'root');
    await zk.create('/cfg/a', '1');
    await zk.create('/cfg/a/b', '2');
    await zk.create('/other', 'x');
    const cache = new TreeCache(zk, '/cfg');
    await cache.start();
    expect(cached(cache)).toEqual(await snapshot(zk, '/cfg'));
    expect(cache.children('/cfg')).toEqual(['a']);
    expect(cache.get('/other')).toBeUndefined();
    expect(cache.get('/cfg/a/b')?.stat.version).toBe(0);
    await cache.close();
  });

  it('follows creates, updates and deletes made by another client, in order', async () => {
    h = await harness(2);
    const [reader, writer] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    await writer.create('/cfg', '');
    const cache = new TreeCache(reader, '/cfg');
    const events: string[] = [];
    cache.on('changed', (e: TreeCacheEvent) => events.push(`${e.type} ${e.path}`));
    await cache.start();
    await writer.create('/cfg/db', 'host=a');
    await writer.create('/cfg/db/pool', '10');
    await writer.setData('/cfg/db', 'host=b');
    await writer.multi([
      { op: 'create', path: '/cfg/flags', data: 'on' },
      { op: 'create', path: '/cfg/flags/x', data: '1' },
    ]);
    await writer.create('/cfg/tmp', 't', { mode: CreateMode.EPHEMERAL });
    await writer.delete('/cfg/db/pool');
    await eventually(() => cache.get('/cfg/db/pool') === undefined && cache.get('/cfg/tmp') !== undefined);
    await cache.flush();
    expect(cached(cache)).toEqual(await snapshot(reader, '/cfg'));
    expect(cache.getString('/cfg/db')).toBe('host=b');
    expect(cache.children('/cfg')).toEqual(['db', 'flags', 'tmp']);
    expect(events.slice(0, 3)).toEqual(['added /cfg', 'added /cfg/db', 'added /cfg/db/pool']);
    expect(events).toContain('updated /cfg/db');
    expect(events.at(-1)).toBe('removed /cfg/db/pool');
    await cache.close();
  });

  it('drops a deleted subtree and picks up a root created later', async () => {
    h = await harness(2);
    const [reader, writer] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    const cache = new TreeCache(reader, '/late');
    await cache.start();
    expect(cache.paths()).toEqual([]);
    await writer.create('/late', 'v1');
    await writer.create('/late/child', 'c');
    await eventually(() => cache.getString('/late/child') === 'c');
    await writer.delete('/late/child');
    await writer.delete('/late');
    await eventually(() => cache.paths().length === 0);
    await cache.close();
  });

  it('drops the ephemeral nodes of a session that expires', async () => {
    h = await harness(2);
    const [reader, member] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    await reader.create('/members', '');
    await member.create('/members/m1', 'up', { mode: CreateMode.EPHEMERAL });
    const cache = new TreeCache(reader, '/members');
    await cache.start();
    expect(cache.children('/members')).toEqual(['m1']);
    await h.expire(member);
    await eventually(() => cache.children('/members')?.length === 0);
    await cache.close();
  });

  it('stops following after close()', async () => {
    h = await harness(2);
    const [reader, writer] = h.clients as [FaaSKeeperClient, FaaSKeeperClient];
    await writer.create('/closed', '');
    const cache = new TreeCache(reader, '/closed');
    await cache.start();
    await cache.close();
    await writer.create('/closed/x', '');
    await reader.sync('/');
    expect(cache.paths()).toEqual([]);
    expect(h.traffic.events.get(reader.sessionNumber) ?? 0).toBe(0);
  });
});
