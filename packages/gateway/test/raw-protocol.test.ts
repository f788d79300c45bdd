/**
 * The protocol beyond node-zookeeper-client, on raw sockets: both handshake forms, create2, TTL,
 * containers, addWatch, setWatches2, removeWatches, checkWatches, multiRead, whoAmI,
 * getEphemerals, getAllChildrenNumber, four-letter words, and reply order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err, EventType, OpCode, WatcherType } from '../src/codes.js';
import { type Gateway, startGateway } from '../src/index.js';
import { JuteWriter } from '../src/jute/io.js';
import { MultiRequest, MultiResponse } from '../src/jute/multi.js';
import * as R from '../src/jute/records.js';
import { bytes, closedBy, createReq, openSocket, RawClient } from './raw-client.js';

describe('raw ZooKeeper protocol on the gateway', () => {
  let gw: Gateway;
  let a: RawClient;
  let b: RawClient;

  beforeAll(async () => {
    gw = await startGateway({ port: 0, log: () => undefined });
    a = await RawClient.open(gw.port);
    b = await RawClient.open(gw.port);
  });
  afterAll(async () => {
    a.close();
    b.close();
    await gw.close();
  });

  it('answers each handshake form in kind and negotiates the timeout within 4000..40000', async () => {
    expect(a.connect.readOnly).toBe(false);
    expect(a.connect.timeOut).toBe(10_000);
    expect(a.connect.passwd.byteLength).toBe(16);
    expect(a.connect.sessionId).not.toBe(0n);
    const old = await RawClient.open(gw.port, { timeOut: 1000 }, true);
    expect(old.connect.readOnly).toBeUndefined();
    expect(old.connect.timeOut).toBe(4000);
    const long = await RawClient.open(gw.port, { timeOut: 999_999 });
    expect(long.connect.timeOut).toBe(40_000);
    expect((await old.call(OpCode.ping)).err).toBe(Err.OK);
    old.close();
    long.close();
  });

  it('create2, createContainer and createTTL answer the path and Stat; bad flags, ACLs and TTLs are refused', async () => {
    const c2 = await a.call(OpCode.create2, R.CreateRequest, createReq('/c2', 0, 'hello'));
    expect(c2.err).toBe(Err.OK);
    const res = R.Create2Response.read(c2.r);
    expect(res.path).toBe('/c2');
    expect(res.stat.dataLength).toBe(5);
    expect(res.stat.czxid).toBe(res.stat.mzxid);
    expect(c2.zxid).toBeGreaterThanOrEqual(res.stat.czxid);
    const seq = await a.call(OpCode.create2, R.CreateRequest, createReq('/c2/s-', 2));
    expect(R.Create2Response.read(seq.r).path).toBe('/c2/s-0000000000');
    const cont = await a.call(OpCode.createContainer, R.CreateRequest, createReq('/box', 4));
    expect(R.Create2Response.read(cont.r).path).toBe('/box');
    const ttl = await a.call(OpCode.createTTL, R.CreateTTLRequest, { ...createReq('/ttl', 5), ttl: 60_000n });
    expect(ttl.err).toBe(Err.OK);
    expect(R.Create2Response.read(ttl.r).stat.ephemeralOwner).toBe(0n);
    expect((await a.call(OpCode.create, R.CreateRequest, createReq('/bad', 9))).err).toBe(Err.BADARGUMENTS);
    expect((await a.call(OpCode.create, R.CreateRequest, { ...createReq('/bad'), acl: [] })).err).toBe(
      Err.INVALIDACL,
    );
    expect((await a.call(OpCode.create, R.CreateRequest, createReq('/bad', 5))).err).toBe(Err.BADARGUMENTS);
    const noTtl = { ...createReq('/bad', 0), ttl: 10n };
    expect((await a.call(OpCode.createTTL, R.CreateTTLRequest, noTtl)).err).toBe(Err.BADARGUMENTS);
    const plain = await a.call(OpCode.create, R.CreateRequest, createReq('/plain'));
    expect(R.PathResponse.read(plain.r).path).toBe('/plain');
    expect(plain.r.remaining).toBe(0);
  });

  it('check, sync and getChildren2 answer as ZooKeeper does', async () => {
    await a.call(OpCode.create, R.CreateRequest, createReq('/chk'));
    const ok = await a.call(OpCode.check, R.PathVersionRequest, { path: '/chk', version: 0 });
    expect(ok.err).toBe(Err.OK);
    expect(R.StatResponse.read(ok.r).stat.version).toBe(0);
    expect((await a.call(OpCode.check, R.PathVersionRequest, { path: '/chk', version: 4 })).err).toBe(
      Err.BADVERSION,
    );
    expect((await a.call(OpCode.check, R.PathVersionRequest, { path: '/none', version: 0 })).err).toBe(
      Err.NONODE,
    );
    const sync = await a.call(OpCode.sync, R.PathRequest, { path: '/chk' });
    expect(R.PathResponse.read(sync.r).path).toBe('/chk');
    const kids = await a.call(OpCode.getChildren2, R.PathWatchRequest, { path: '/', watch: false });
    const gc = R.GetChildren2Response.read(kids.r);
    expect(gc.children).toContain('chk');
    expect(gc.stat.numChildren).toBe(gc.children.length);
  });

  it('persistent and recursive watches (addWatch) fire on every change until removed', async () => {
    await a.call(OpCode.create, R.CreateRequest, createReq('/pw'));
    const add = await a.call(OpCode.addWatch, R.AddWatchRequest, { path: '/pw', mode: 0 });
    expect(add.err).toBe(Err.OK);
    expect(R.ErrorResponse.read(add.r).err).toBe(0);
    expect((await a.call(OpCode.addWatch, R.AddWatchRequest, { path: '/pw', mode: 1 })).err).toBe(Err.OK);
    for (const v of ['1', '2']) {
      await b.call(OpCode.setData, R.SetDataRequest, { path: '/pw', data: bytes(v), version: -1 });
      expect(await a.notification('/pw')).toMatchObject({ type: EventType.NodeDataChanged });
    }
    await b.call(OpCode.create, R.CreateRequest, createReq('/pw/kid'));
    // The recursive watch reports the child's creation; the persistent one its parent's change.
    const events = [await a.notification('/pw/kid'), await a.notification('/pw')];
    expect(events.map((e) => e.type)).toEqual([EventType.NodeCreated, EventType.NodeChildrenChanged]);
    expect(
      (await a.call(OpCode.checkWatches, R.PathTypeRequest, { path: '/pw', type: WatcherType.Persistent }))
        .err,
    ).toBe(Err.OK);
    expect(
      (await a.call(OpCode.checkWatches, R.PathTypeRequest, { path: '/pw', type: WatcherType.Children })).err,
    ).toBe(Err.NOWATCHER);
    expect(
      (await a.call(OpCode.removeWatches, R.PathTypeRequest, { path: '/pw', type: WatcherType.Any })).err,
    ).toBe(Err.OK);
    expect(
      (await a.call(OpCode.removeWatches, R.PathTypeRequest, { path: '/pw', type: WatcherType.Any })).err,
    ).toBe(Err.NOWATCHER);
    await b.call(OpCode.setData, R.SetDataRequest, { path: '/pw', data: bytes('3'), version: -1 });
    await b.call(OpCode.create, R.CreateRequest, createReq('/pw/kid2'));
    // A later watch's event proves no earlier one was still on its way.
    await a.call(OpCode.exists, R.PathWatchRequest, { path: '/pw/kid2', watch: true });
    await b.call(OpCode.delete, R.PathVersionRequest, { path: '/pw/kid2', version: -1 });
    expect(await a.notification('/pw/kid2')).toMatchObject({ type: EventType.NodeDeleted });
    expect(a.notifications).toEqual([]);
  });

  it('removeWatches removes one class: a data watch goes, the child watch on the same node stays', async () => {
    await a.call(OpCode.create, R.CreateRequest, createReq('/rw'));
    await a.call(OpCode.getData, R.PathWatchRequest, { path: '/rw', watch: true });
    await a.call(OpCode.getChildren, R.PathWatchRequest, { path: '/rw', watch: true });
    expect(
      (await a.call(OpCode.removeWatches, R.PathTypeRequest, { path: '/rw', type: WatcherType.Data })).err,
    ).toBe(Err.OK);
    expect(
      (await a.call(OpCode.checkWatches, R.PathTypeRequest, { path: '/rw', type: WatcherType.Data })).err,
    ).toBe(Err.NOWATCHER);
    await b.call(OpCode.setData, R.SetDataRequest, { path: '/rw', data: bytes('x'), version: -1 });
    await b.call(OpCode.create, R.CreateRequest, createReq('/rw/k'));
    expect(await a.notification('/rw')).toMatchObject({ type: EventType.NodeChildrenChanged });
    expect(a.notifications).toEqual([]);
  });

  it('multiRead answers each getData and getChildren with its result or its error', async () => {
    await a.call(OpCode.create, R.CreateRequest, createReq('/mr', 0, 'data'));
    await a.call(OpCode.create, R.CreateRequest, createReq('/mr/x'));
    const rep = await a.call(OpCode.multiRead, MultiRequest, [
      { type: 4, req: { path: '/mr', watch: false } },
      { type: 8, req: { path: '/mr', watch: false } },
      { type: 4, req: { path: '/mr/none', watch: false } },
    ]);
    const results = MultiResponse.read(rep.r);
    expect(results[0]).toMatchObject({ type: 4, res: { data: bytes('data') } });
    expect(results[1]).toEqual({ type: 8, res: { children: ['x'] } });
    expect(results[2]).toEqual({ type: -1, err: Err.NONODE });
  });

  it('multi answers create2 sub-ops with a Stat and a failed multi with one error per op', async () => {
    const ok = await a.call(OpCode.multi, MultiRequest, [
      { type: 15, req: createReq('/mu') },
      { type: 1, req: createReq('/mu/a') },
      { type: 13, req: { path: '/mu', version: 0 } },
    ]);
    const results = MultiResponse.read(ok.r);
    expect(results.map((r) => r.type)).toEqual([15, 1, 13]);
    expect(results[0]).toMatchObject({ type: 15, res: { path: '/mu' } });
    const failed = await a.call(OpCode.multi, MultiRequest, [
      { type: 1, req: createReq('/mu/b') },
      { type: 2, req: { path: '/mu/none', version: -1 } },
      { type: 1, req: createReq('/mu/c') },
    ]);
    expect(failed.err).toBe(Err.OK);
    expect(MultiResponse.read(failed.r)).toEqual([
      { type: -1, err: Err.OK },
      { type: -1, err: Err.NONODE },
      { type: -1, err: Err.RUNTIMEINCONSISTENCY },
    ]);
    expect((await a.call(OpCode.exists, R.PathWatchRequest, { path: '/mu/b', watch: false })).err).toBe(
      Err.NONODE,
    );
  });

  it('whoAmI answers the ip id, then the digest user after auth', async () => {
    const before = R.WhoAmIResponse.read((await a.call(OpCode.whoAmI)).r);
    expect(before.clientInfo).toEqual([{ authScheme: 'ip', user: '127.0.0.1' }]);
    a.send(OpCode.auth, R.AuthPacket, { type: 0, scheme: 'digest', auth: bytes('bob:pw') }, -4);
    const auth = await a.reply();
    expect(auth).toMatchObject({ xid: -4, err: Err.OK });
    const after = R.WhoAmIResponse.read((await a.call(OpCode.whoAmI)).r);
    expect(after.clientInfo).toEqual([
      { authScheme: 'ip', user: '127.0.0.1' },
      { authScheme: 'digest', user: 'bob' },
    ]);
  });

  it('getEphemerals lists the session’s ephemerals under a prefix; getAllChildrenNumber counts descendants', async () => {
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge'));
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge/e1', 1));
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge/e-', 3));
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge/p'));
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge/p/q'));
    await a.call(OpCode.create, R.CreateRequest, createReq('/ge-other', 1));
    await b.call(OpCode.create, R.CreateRequest, createReq('/ge/theirs', 1));
    await a.call(OpCode.delete, R.PathVersionRequest, { path: '/ge/e1', version: -1 });
    const eph = await a.call(OpCode.getEphemerals, R.GetEphemeralsRequest, { prefixPath: '/ge/' });
    expect(R.GetEphemeralsResponse.read(eph.r).ephemerals).toEqual(['/ge/e-0000000001']);
    const all = await a.call(OpCode.getEphemerals, R.GetEphemeralsRequest, { prefixPath: '/' });
    expect(R.GetEphemeralsResponse.read(all.r).ephemerals).toEqual(['/ge-other', '/ge/e-0000000001']);
    const n = await a.call(OpCode.getAllChildrenNumber, R.PathRequest, { path: '/ge' });
    expect(R.GetAllChildrenNumberResponse.read(n.r).totalNumber).toBe(4);
    expect((await a.call(OpCode.getAllChildrenNumber, R.PathRequest, { path: '/nope' })).err).toBe(
      Err.NONODE,
    );
  });

  it('answers replies in request order with non-decreasing zxids, however long each takes', async () => {
    const xids: number[] = [];
    for (let i = 0; i < 20; i++) {
      xids.push(a.send(OpCode.getAllChildrenNumber, R.PathRequest, { path: '/' }));
      xids.push(a.send(OpCode.create, R.CreateRequest, createReq(`/order-${i}`)));
      xids.push(a.send(OpCode.ping, undefined, undefined, -2));
    }
    const got: number[] = [];
    let zxid = 0n;
    for (let i = 0; i < xids.length; i++) {
      const rep = await a.reply();
      got.push(rep.xid);
      expect(rep.err).toBe(Err.OK);
      expect(rep.zxid).toBeGreaterThanOrEqual(zxid);
      zxid = rep.zxid;
    }
    expect(got).toEqual(xids);
  });

  it('answers a burst of pipelined requests beyond the in-flight bound in full and in order', async () => {
    const w = new JuteWriter();
    const n = 2500;
    for (let i = 1; i <= n; i++) {
      const one = new JuteWriter();
      R.RequestHeader.write(one, { xid: 100_000 + i, type: i % 2 === 0 ? OpCode.ping : OpCode.exists });
      if (i % 2 === 1) R.PathWatchRequest.write(one, { path: '/', watch: false });
      w.bytes(one.frame());
    }
    a.socket.write(w.finish());
    for (let i = 1; i <= n; i++) expect((await a.reply()).xid).toBe(100_000 + i);
  });

  it('answers reconfig, sasl and unknown opcodes UNIMPLEMENTED and keeps serving', async () => {
    expect((await a.call(OpCode.reconfig)).err).toBe(Err.UNIMPLEMENTED);
    expect((await a.call(OpCode.sasl)).err).toBe(Err.UNIMPLEMENTED);
    expect((await a.call(77)).err).toBe(Err.UNIMPLEMENTED);
    expect((await a.call(OpCode.exists, R.PathWatchRequest, { path: '/', watch: false })).err).toBe(Err.OK);
  });

  it('answers the four-letter words in ZooKeeper’s formats', async () => {
    const ask = async (word: string) => {
      const s = await openSocket(gw.port);
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.write(word);
      await closedBy(s);
      return Buffer.concat(chunks).toString();
    };
    expect(await ask('ruok')).toBe('imok');
    expect(await ask('isro')).toBe('rw');
    const srvr = await ask('srvr');
    expect(srvr).toMatch(
      /^Zookeeper version: .*\nLatency min\/avg\/max: .*\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: \d+\nZxid: 0x[0-9a-f]+\nMode: standalone\nNode count: \d+\n$/,
    );
    expect(Number(/Node count: (\d+)/.exec(srvr)?.[1])).toBeGreaterThan(10);
    expect(await ask('stat')).toMatch(/Clients:\n \/127\.0\.0\.1:\d+\[1\]\(queued=\d+,recved=\d+,sent=\d+/);
    expect(await ask('mntr')).toMatch(/^zk_version\t.*\nzk_server_state\tstandalone\n/);
    expect(await ask('conf')).toContain(`clientPort=${gw.port}\n`);
    expect(await ask('wchs')).toBe('wchs is not executed because it is not in the whitelist.\n');
  });

  it('closes a session on closeSession: reply, then the connection ends and its ephemerals go', async () => {
    const c = await RawClient.open(gw.port);
    await c.call(OpCode.create, R.CreateRequest, createReq('/bye', 1));
    const closed = closedBy(c.socket);
    expect((await c.call(OpCode.closeSession)).err).toBe(Err.OK);
    await closed;
    expect((await a.call(OpCode.exists, R.PathWatchRequest, { path: '/bye', watch: false })).err).toBe(
      Err.NONODE,
    );
    const again = await RawClient.open(gw.port, { sessionId: c.connect.sessionId, passwd: c.connect.passwd });
    expect(again.connect).toMatchObject({ timeOut: 0, sessionId: 0n });
    await closedBy(again.socket);
  });
});
