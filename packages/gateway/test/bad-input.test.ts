/**
 * Bad input gets what ZooKeeper gives it (an error reply or a closed connection) and never disturbs
 * another session.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Err, OpCode } from '../src/codes.js';
import { type Gateway, type GatewayLogEntry, startGateway } from '../src/index.js';
import { JuteWriter } from '../src/jute/io.js';
import * as R from '../src/jute/records.js';
import { bytes, closedBy, createReq, openSocket, RawClient, stillServes, waitUntil } from './raw-client.js';

describe('bad input', () => {
  let gw: Gateway;
  let other: RawClient;
  const reasons: string[] = [];
  beforeAll(async () => {
    gw = await startGateway({
      port: 0,
      maxBuffer: 600_000,
      connectTimeoutMs: 300,
      maxQueuedBytes: 256 * 1024,
      log: (l) => {
        if (l.reason !== undefined) reasons.push(l.reason);
      },
    });
    other = await RawClient.open(gw.port);
  });
  afterAll(async () => {
    other.close();
    await gw.close();
  });

  const rawFrame = (len: number, body: Uint8Array = new Uint8Array(0)) => {
    const b = Buffer.alloc(4 + body.byteLength);
    b.writeInt32BE(len, 0);
    b.set(body, 4);
    return b;
  };

  it('closes a connection whose frame is over maxBuffer or negative, before or after the handshake', async () => {
    for (const len of [600_001, -5]) {
      const s = await openSocket(gw.port);
      s.write(rawFrame(len));
      await closedBy(s);
      const c = await RawClient.open(gw.port);
      c.socket.write(rawFrame(len));
      await closedBy(c.socket);
    }
    await stillServes(other, 'oversized');
  });

  it('answers a malformed request body MARSHALLINGERROR and keeps the connection', async () => {
    const c = await RawClient.open(gw.port);
    const w = new JuteWriter().int(9).int(OpCode.getData).int(1000).bytes(bytes('/x'));
    c.socket.write(w.frame());
    expect(await c.reply()).toMatchObject({ xid: 9, err: Err.MARSHALLINGERROR });
    const multi = new JuteWriter().int(10).int(OpCode.multi).int(99).bool(false).int(-1);
    c.socket.write(multi.frame());
    expect(await c.reply()).toMatchObject({ xid: 10, err: Err.MARSHALLINGERROR });
    expect((await c.call(OpCode.exists, R.PathWatchRequest, { path: '/', watch: false })).err).toBe(Err.OK);
    c.close();
  });

  it('closes a connection on a frame shorter than a request header, a malformed handshake, or a truncated frame', async () => {
    const c = await RawClient.open(gw.port);
    c.socket.write(rawFrame(3, new Uint8Array([1, 2, 3])));
    await closedBy(c.socket);
    const s = await openSocket(gw.port);
    s.write(rawFrame(10, new Uint8Array(10)));
    await closedBy(s);
    const t = await RawClient.open(gw.port);
    t.socket.end(rawFrame(100, new Uint8Array(10)));
    await closedBy(t.socket);
    await stillServes(other, 'truncated');
  });

  it('closes a connection that never completes its handshake after connectTimeoutMs', async () => {
    // Taken before the connection exists: the gateway's timer cannot start earlier. Taken once
    // connected, it could come later than that start (this thread descheduled in between).
    const started = Date.now();
    const s = await openSocket(gw.port);
    s.write(Buffer.from([0, 0, 0, 44, 0, 0]));
    await closedBy(s, 3000);
    expect(reasons).toContain('no handshake within 300 ms');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await stillServes(other, 'handshake');
  });

  it('drops a client that stops reading its replies once maxQueuedBytes are queued', async () => {
    const c = await RawClient.open(gw.port);
    const big = new Uint8Array(500_000).fill(7);
    expect((await c.call(OpCode.create, R.CreateRequest, createReq('/big', 0, big))).err).toBe(Err.OK);
    c.socket.pause();
    const closed = closedBy(c.socket, 20_000);
    for (let i = 0; i < 200; i++) c.send(OpCode.getData, R.PathWatchRequest, { path: '/big', watch: false });
    await closed;
    expect(reasons).toContain(`over ${256 * 1024} bytes queued: the client is not reading`);
    await stillServes(other, 'slow-reader');
  });
});

describe('maxClientCnxns', () => {
  it('refuses connections from one address beyond maxClientCnxns by closing them', async () => {
    const logs: GatewayLogEntry[] = [];
    const gw = await startGateway({ port: 0, maxClientCnxns: 2, log: (l) => logs.push(l) });
    try {
      const a = await RawClient.open(gw.port);
      const b = await RawClient.open(gw.port);
      const c = await openSocket(gw.port);
      await closedBy(c);
      expect(logs.map((l) => l.event)).toContain('refused');
      await stillServes(a, 'cnxns-a');
      // b's slot is free once the gateway has seen b's connection close (it logs that as it frees it).
      const bRemote = `127.0.0.1:${b.socket.localPort}`;
      b.close();
      await waitUntil(
        () => logs.some((l) => l.event === 'closed' && l.remote === bRemote),
        "the gateway to see b's connection close",
      );
      const d = await RawClient.open(gw.port);
      await stillServes(d, 'cnxns-d');
      a.close();
      d.close();
    } finally {
      await gw.close();
    }
  });
});

describe('arbitrary requests on a live connection', () => {
  it('are answered in order or close that connection, and never disturb another session', async () => {
    const gw = await startGateway({ port: 0, log: () => undefined });
    const other = await RawClient.open(gw.port);
    const ops = Object.values(OpCode).filter((op) => op !== OpCode.closeSession);
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(fc.constantFrom(...ops), fc.integer({ min: -20, max: 120 })),
          fc.uint8Array({ maxLength: 120 }),
          async (type, body) => {
            const c = await RawClient.open(gw.port);
            const w = new JuteWriter().int(7).int(type).bytes(body);
            c.socket.write(w.frame());
            const ping = c.send(OpCode.ping, undefined, undefined, -2);
            try {
              // Either both answers come, in order, or the connection closes.
              const first = await c.reply();
              if (first.xid !== 7) throw new Error(`first reply xid ${first.xid}`);
              expect((await c.reply()).xid).toBe(ping);
            } catch (error) {
              if (!c.socket.destroyed && !c.socket.readableEnded) throw error;
            } finally {
              c.close();
            }
          },
        ),
        { seed: 42, numRuns: 60 },
      );
      await stillServes(other, 'fuzz');
    } finally {
      other.close();
      await gw.close();
    }
  }, 60_000);
});
