// The ZooKeeper client's side of a dropped connection, over the gateway: the session is resumed
// with its id and password, its watches are re-armed with setWatches2 (firing those whose node
// changed meanwhile), and requests issued while disconnected go out once it is back. The portable
// suite never drops a connection of a live session; these tests do.
import { CreateMode, type SessionState } from '@faaskeeper/core';
import { gate, guaranteeKit, recorder } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import type { WireClient } from '../support/wire-client.js';
import { wireGatewayTarget } from '../support/wire-client-target.js';

describe('a ZooKeeper client whose connection to the gateway drops', { timeout: 10_000 }, () => {
  const kit = guaranteeKit(wireGatewayTarget);

  it('resumes its session, keeps its ephemerals and hears of the changes it missed', async () => {
    const { connect } = await kit.deploy({ sessionTimeoutMs: 5000 });
    const [zk, other] = await Promise.all([connect(), connect()]);
    const wire = zk as unknown as WireClient;
    await other.create('/x', '0');
    await other.create('/p');
    await zk.create('/mine', '', { mode: CreateMode.EPHEMERAL });
    const data = recorder();
    const children = recorder();
    const created = recorder();
    const untouched = recorder();
    await zk.getData('/x', { watch: data.watcher });
    await zk.getChildren('/p', { watch: children.watcher });
    expect(await zk.exists('/later', { watch: created.watcher })).toBeNull();
    await zk.exists('/p', { watch: untouched.watcher });
    const states: SessionState[] = [];
    zk.on('state', (s) => states.push(s));
    const session = zk.sessionId;

    const back = gate();
    kit.onCleanup(back.open);
    wire.dropConnection(back.wait());
    await kit.eventually(() => zk.state === 'DISCONNECTED', 'the client to notice the drop');
    // Changes made while the client is away: the gateway holds none of its watches now.
    await other.setData('/x', '1');
    await other.create('/p/c');
    await other.create('/later');
    const issuedWhileAway = zk.getData('/x');
    back.open();
    await kit.eventually(() => zk.state === 'CONNECTED', 'the client to reconnect');

    expect((await issuedWhileAway).stat.version).toBe(1);
    await zk.sync('/');
    expect(zk.sessionId).toBe(session);
    expect(states).toEqual(['DISCONNECTED', 'CONNECTED']);
    expect(data.events).toEqual(['NodeDataChanged /x']);
    expect(children.events).toEqual(['NodeChildrenChanged /p']);
    expect(created.events).toEqual(['NodeCreated /later']);
    expect(untouched.events).toEqual([]);
    expect(await other.exists('/mine')).not.toBeNull();
    // The watch whose node did not change was re-armed, not fired: it fires on the next change.
    await other.setData('/p', 'now');
    await zk.sync('/');
    expect(untouched.events).toEqual(['NodeDataChanged /p']);
  });
});
