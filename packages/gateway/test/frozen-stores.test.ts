/**
 * The gateway's own deployment shares values between its stores and their callers (no copy in or
 * out). That is sound only while neither the core nor the gateway changes a value it put or got:
 * this runs ZooKeeper's operations through the gateway over a deployment whose stores are frozen,
 * where any such change throws.
 */
import { createEmbeddedService } from '@faaskeeper/core';
import zookeeper from 'node-zookeeper-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Gateway, startGateway } from '../src/index.js';
import { call, connectZk, type Zk } from './nzc-helpers.js';
import { waitUntil } from './raw-client.js';

const buf = (s: string) => Buffer.from(s);

describe('the gateway over frozen stores', () => {
  const errors: unknown[] = [];
  const deployment = createEmbeddedService({
    channelSecret: false,
    values: 'frozen',
    onFunctionError: (name, error) => errors.push([name, error]),
  });
  let gw: Gateway;
  let zk: Zk;
  let other: Zk;

  beforeAll(async () => {
    gw = await startGateway({ port: 0, deployment, log: () => {} });
    zk = await connectZk(gw.connectString);
    other = await connectZk(gw.connectString);
  });
  afterAll(async () => {
    zk.close();
    await gw.close();
    await deployment.close();
  });

  it('changes no value it put or got: every operation answers and no function fails', async () => {
    const events: string[] = [];
    await call((cb) => zk.create('/f', buf('1'), cb));
    await call((cb) => zk.create('/f/e', buf('e'), zookeeper.CreateMode.EPHEMERAL, cb));
    await call((cb) => other.create('/f/s', buf('s'), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, cb));
    await call((cb) => zk.getData('/f', (e) => events.push(`data ${e.getName()}`), cb));
    await call((cb) => zk.getChildren('/f', (e) => events.push(`children ${e.getName()}`), cb));
    await call((cb) => zk.exists('/g', (e) => events.push(`exists ${e.getName()}`), cb));
    await call((cb) => other.setData('/f', buf('22'), -1, cb));
    await call((cb) => other.create('/g', buf(''), cb));
    await call((cb) =>
      zk.transaction().check('/f', 1).setData('/g', buf('3')).create('/f/c', buf('c')).commit(cb),
    );
    await call((cb) => zk.setACL('/g', [new zookeeper.ACL(1, new zookeeper.Id('world', 'anyone'))], -1, cb));
    other.close();
    // The other session's ephemeral goes once its close is through (node-zookeeper-client's close
    // does not wait for it).
    await waitUntil(
      async () => (await call<[string[]]>((cb) => zk.getChildren('/f', cb)))[0].length === 2,
      "the other session's ephemeral to go",
    );
    const [children] = await call<[string[]]>((cb) => zk.getChildren('/f', cb));
    expect(children.sort()).toEqual(['c', 'e']);
    await call((cb) => zk.remove('/f/c', -1, cb));
    const [data, stat] = await call<[Buffer, zookeeper.Stat]>((cb) => zk.getData('/g', cb));
    expect(data.toString()).toBe('3');
    expect(stat.aversion).toBe(1);
    const [acl] = await call<[zookeeper.ACL[]]>((cb) => zk.getACL('/g', cb));
    expect(acl).toHaveLength(1);
    expect(events.sort()).toEqual([
      'children NODE_CHILDREN_CHANGED',
      'data NODE_DATA_CHANGED',
      'exists NODE_CREATED',
    ]);
    expect(errors).toEqual([]);
  });
});
