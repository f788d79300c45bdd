/**
 * Sessions across connections: resume, setWatches on reconnect, expiry, passwords.
 */
import { createHmac } from 'node:crypto';
import { createEmbeddedService } from '@faaskeeper/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err, EventType, OpCode, Xid } from '../src/codes.js';
import { type Gateway, type GatewayLogEntry, startGateway } from '../src/index.js';
import * as R from '../src/jute/records.js';
import { bytes, closedBy, createReq, RawClient, sleep, stillServes, waitUntil } from './raw-client.js';

describe('sessions across connections', () => {
  let gw: Gateway;
  let other: RawClient;
  beforeAll(async () => {
    gw = await startGateway({ port: 0, minSessionTimeoutMs: 1000, log: () => undefined });
    other = await RawClient.open(gw.port);
  });
  afterAll(async () => {
    other.close();
    await gw.close();
  });

  it('setWatches2 on reconnect fires at once what changed since relativeZxid and arms the rest', async () => {
    const a = await RawClient.open(gw.port, { timeOut: 8000 });
    for (const p of ['/sw', '/sw/d', '/sw/same', '/sw/gone', '/sw/c', '/sw/p', '/sw/cgone'])
      await a.call(OpCode.create, R.CreateRequest, createReq(p));
    const last = await a.call(OpCode.exists, R.PathWatchRequest, { path: '/sw', watch: false });
    const rel = last.zxid;
    a.close();
    await other.call(OpCode.setData, R.SetDataRequest, { path: '/sw/d', data: bytes('x'), version: -1 });
    await other.call(OpCode.create, R.CreateRequest, createReq('/sw/e'));
    await other.call(OpCode.create, R.CreateRequest, createReq('/sw/c/kid'));
    await other.call(OpCode.delete, R.PathVersionRequest, { path: '/sw/gone', version: -1 });
    await other.call(OpCode.delete, R.PathVersionRequest, { path: '/sw/cgone', version: -1 });
    const back = await RawClient.open(gw.port, {
      sessionId: a.connect.sessionId,
      passwd: a.connect.passwd,
      timeOut: 8000,
    });
    expect(back.connect.sessionId).toBe(a.connect.sessionId);
    back.send(
      OpCode.setWatches2,
      R.SetWatches2,
      {
        relativeZxid: rel,
        dataWatches: ['/sw/d', '/sw/same', '/sw/gone'],
        existWatches: ['/sw/e', '/sw/later'],
        childWatches: ['/sw/c', '/sw/cgone'],
        persistentWatches: ['/sw/p'],
        persistentRecursiveWatches: [],
      },
      Xid.setWatches,
    );
    expect(await back.reply()).toMatchObject({ xid: Xid.setWatches, err: Err.OK });
    // Fired before the reply, in ZooKeeper's order: data, exist, then child watches.
    expect(back.notifications.map((n) => [n.path, n.type])).toEqual([
      ['/sw/d', EventType.NodeDataChanged],
      ['/sw/gone', EventType.NodeDeleted],
      ['/sw/e', EventType.NodeCreated],
      ['/sw/c', EventType.NodeChildrenChanged],
      ['/sw/cgone', EventType.NodeDeleted],
    ]);
    back.notifications.length = 0;
    // The unchanged ones were armed: they fire on the next change.
    await other.call(OpCode.setData, R.SetDataRequest, { path: '/sw/same', data: bytes('y'), version: -1 });
    expect(await back.notification('/sw/same')).toMatchObject({ type: EventType.NodeDataChanged });
    await other.call(OpCode.create, R.CreateRequest, createReq('/sw/later'));
    expect(await back.notification('/sw/later')).toMatchObject({ type: EventType.NodeCreated });
    for (const v of ['1', '2']) {
      await other.call(OpCode.setData, R.SetDataRequest, { path: '/sw/p', data: bytes(v), version: -1 });
      expect(await back.notification('/sw/p')).toMatchObject({ type: EventType.NodeDataChanged });
    }
    back.close();
  });

  it('a second connection resuming the session drops the first; a wrong password drops it too and is told Expired', async () => {
    const a = await RawClient.open(gw.port);
    const firstClosed = closedBy(a.socket);
    const b = await RawClient.open(gw.port, { sessionId: a.connect.sessionId, passwd: a.connect.passwd });
    expect(b.connect.sessionId).toBe(a.connect.sessionId);
    expect(b.connect.timeOut).toBe(a.connect.timeOut);
    await firstClosed;
    await stillServes(b, 'resumed');
    const bClosed = closedBy(b.socket);
    const thief = await RawClient.open(gw.port, {
      sessionId: a.connect.sessionId,
      passwd: new Uint8Array(16).fill(1),
    });
    expect(thief.connect).toMatchObject({ timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16) });
    await closedBy(thief.socket);
    await bClosed;
    const c = await RawClient.open(gw.port, { sessionId: a.connect.sessionId, passwd: a.connect.passwd });
    expect(c.connect.sessionId).toBe(a.connect.sessionId);
    c.close();
  });

  it('closes a session whose client does not come back within the timeout (its ephemerals go)', async () => {
    // Still there 400 ms after the client left: the timeout leaves 1.6 s for this thread to be
    // late (a loaded machine), where 1 s left 0.6 s and the check could land after the expiry.
    const a = await RawClient.open(gw.port, { timeOut: 2000 });
    expect(a.connect.timeOut).toBe(2000);
    await a.call(OpCode.create, R.CreateRequest, createReq('/gone-eph', 1));
    a.close();
    const left = Date.now();
    const exists = async () =>
      (await other.call(OpCode.exists, R.PathWatchRequest, { path: '/gone-eph', watch: false })).err;
    await sleep(400);
    expect(await exists()).toBe(Err.OK);
    // Gone once the timeout has passed (polled: a loaded machine may take a moment longer).
    while ((await exists()) === Err.OK && Date.now() - left < 10_000) await sleep(50);
    expect(await exists()).toBe(Err.NONODE);
    expect(Date.now() - left).toBeGreaterThanOrEqual(2000);
    const again = await RawClient.open(gw.port, { sessionId: a.connect.sessionId, passwd: a.connect.passwd });
    expect(again.connect.sessionId).toBe(0n);
  });

  it('expires a session whose connected client sends nothing, not even pings, for its timeout', async () => {
    // 2 s, so that several notifications reach the silent client within its timeout even when
    // the process stalls for a while (with 1 s, a 700 ms stall left three writes).
    const a = await RawClient.open(gw.port, { timeOut: 2000 });
    expect(a.connect.timeOut).toBe(2000);
    await a.call(OpCode.create, R.CreateRequest, createReq('/silent-eph', 1));
    // Notifications the gateway sends do not count as signs of life from the client.
    await a.call(OpCode.addWatch, R.AddWatchRequest, { path: '/silent-eph', mode: 0 });
    const writer = await RawClient.open(gw.port);
    let writes = 0;
    const busy = setInterval(() => {
      writes++;
      writer.send(OpCode.setData, R.SetDataRequest, { path: '/silent-eph', data: bytes('x'), version: -1 });
    }, 150);
    try {
      await closedBy(a.socket, 5000);
    } finally {
      clearInterval(busy);
      writer.close();
    }
    expect(writes).toBeGreaterThan(3);
    expect(a.framesReceived).toBeGreaterThan(4);
    // The client reconnects the moment its connection drops, as ZooKeeper's clients do: its session
    // is over, so it is told Expired (timeout 0, session 0), never connected again, even though the
    // gateway closes the connection before the FaaSKeeper session's close is applied.
    const again = await RawClient.open(gw.port, { sessionId: a.connect.sessionId, passwd: a.connect.passwd });
    expect(again.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
    await closedBy(again.socket);
    // The gateway closes the connection as the session ends, then closes its FaaSKeeper session,
    // which deletes the ephemeral: that comes after the close the client sees.
    await waitUntil(
      async () =>
        (await other.call(OpCode.exists, R.PathWatchRequest, { path: '/silent-eph', watch: false })).err ===
        Err.NONODE,
      "the expired session's ephemeral to go",
    );
  });

  it('tells a session it ended Expired at once, even before its FaaSKeeper close is applied', async () => {
    // The deployment's clients close only when the test lets them: a resume sent to the
    // deployment now would be applied before the close, and the ended session would come back.
    const deployment = createEmbeddedService();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow = await startGateway({
      port: 0,
      minSessionTimeoutMs: 1000,
      log: () => undefined,
      deployment: {
        connect: async (options) => {
          const client = await deployment.connect(options);
          const close = client.close.bind(client);
          client.close = async () => {
            await held;
            await close();
          };
          return client;
        },
      },
    });
    const watcher = await RawClient.open(slow.port);
    try {
      const a = await RawClient.open(slow.port, { timeOut: 1000 });
      await a.call(OpCode.create, R.CreateRequest, createReq('/held-eph', 1));
      // Silent for its timeout: the gateway ends the session and closes the connection.
      await closedBy(a.socket, 5000);
      const again = await RawClient.open(slow.port, {
        sessionId: a.connect.sessionId,
        passwd: a.connect.passwd,
      });
      expect(again.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
      await closedBy(again.socket);
      const exists = async () =>
        (await watcher.call(OpCode.exists, R.PathWatchRequest, { path: '/held-eph', watch: false })).err;
      // The close is still held, so the ephemeral is there: the Expired answer did not wait for it.
      expect(await exists()).toBe(Err.OK);
      release();
      await waitUntil(async () => (await exists()) === Err.NONODE, "the ended session's ephemeral to go");
    } finally {
      release();
      watcher.close();
      await slow.close();
      await deployment.close();
    }
  });

  it('answers an unknown session Expired', async () => {
    const x = await RawClient.open(gw.port, { sessionId: 12345n, passwd: new Uint8Array(16) });
    expect(x.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
    await closedBy(x.socket);
  });
});

describe('session passwords', () => {
  it('are HMAC-SHA256(secret, sessionId) cut to 16 bytes, so any gateway with the secret can check them', async () => {
    const service = createEmbeddedService();
    const logs: GatewayLogEntry[] = [];
    const one = await startGateway({
      port: 0,
      deployment: service,
      secret: 'shared',
      log: (l) => logs.push(l),
    });
    const two = await startGateway({ port: 0, deployment: service, secret: 'shared', log: () => undefined });
    try {
      const c = await RawClient.open(one.port);
      const id = Buffer.alloc(8);
      id.writeBigInt64BE(c.connect.sessionId);
      const expected = createHmac('sha256', 'shared').update(id).digest().subarray(0, 16);
      expect(Buffer.from(c.connect.passwd).equals(expected)).toBe(true);
      await stillServes(c, 'hmac');
      const hex = `0x${c.connect.sessionId.toString(16)}`;
      c.close();
      // Gateway one lets the session go once it has seen the connection close; resumed elsewhere
      // before that, the session would move away from a connection it still serves.
      await waitUntil(
        () =>
          logs.some(
            (l) =>
              l.event === 'closed' && l.session === hex && l.reason === 'the client closed the connection',
          ),
        'gateway one to see the connection close',
      );
      // The other process checks the password by itself and takes the session over.
      const elsewhere = await RawClient.open(two.port, {
        sessionId: c.connect.sessionId,
        passwd: c.connect.passwd,
      });
      expect(elsewhere.connect.sessionId).toBe(c.connect.sessionId);
      await stillServes(elsewhere, 'hmac-elsewhere');
      elsewhere.close();
      expect(logs).toContainEqual(
        expect.objectContaining({ event: 'connected', remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) }),
      );
      expect(logs).toContainEqual(expect.objectContaining({ event: 'session-opened', session: hex }));
      expect(logs).toContainEqual(
        expect.objectContaining({
          event: 'closed',
          session: hex,
          reason: 'the client closed the connection',
        }),
      );
    } finally {
      await one.close();
      await two.close();
      await service.close();
    }
  });

  it('say in the log when the secret is random', async () => {
    const saved = process.env.FAASKEEPER_GATEWAY_SECRET;
    delete process.env.FAASKEEPER_GATEWAY_SECRET;
    const logs: GatewayLogEntry[] = [];
    const gw = await startGateway({ port: 0, log: (l) => logs.push(l) });
    await gw.close();
    if (saved !== undefined) process.env.FAASKEEPER_GATEWAY_SECRET = saved;
    expect(logs).toContainEqual(expect.objectContaining({ level: 'warn', event: 'secret' }));
  });
});
