// Ordered notifications rest on the order in which the distributor writes: a session's marker
// `owed/<session>` must be in place before any record of the batch that sends it the event becomes
// usable (before the watermark moves; the distributor writes it before the records). These tests
// pause the distributor at the marker (embedded only: they need a hook on its user store).
import { describe, expect, it } from 'vitest';
import {
  createDistributor,
  type DistributorBatch,
  encodeMessage,
  MemoryChannel,
  MemoryUserStore,
  PROTOCOL_VERSION,
  rootStat,
  type UserStore,
} from '../../src/index.js';
import { interceptPort, PORT_METHODS } from '../../src/testkit/faults/index.js';
import { ChannelDelays, embeddedTarget, gate, guaranteeKit, text, track } from '../../src/testkit/index.js';

const A = 1001;
const B = 2002;

describe('the marker comes before the records it covers (ordered notifications, embedded only)', () => {
  const kit = guaranteeKit(embeddedTarget);

  it('a reader holding a watch never sees data of a fire whose marker is not written yet', async () => {
    const markerGate = gate();
    kit.onCleanup(markerGate.open);
    let armed = false;
    let paused = false;
    const channel = new ChannelDelays(kit);
    const { connect } = await kit.deploy({
      wrapClientChannel: channel.wrapClientChannel,
      wrap: {
        userStore: (inner: UserStore) =>
          interceptPort(inner, PORT_METHODS.userStore, async (method, args, call) => {
            if (armed && method === 'putMarker' && args[0] === A) {
              armed = false;
              paused = true;
              await markerGate.wait();
            }
            return call();
          }),
      },
    });
    const a = await connect({ sessionId: A });
    const b = await connect({ sessionId: B });
    await b.create('/x', 'old');
    await b.create('/y', 'old');
    const order: string[] = [];
    await a.getData('/x', { watch: (e) => order.push(`event ${e.type} ${e.path}`) });

    channel.hold(A);
    armed = true;
    // One transaction fires A's watch and writes /y: /y's record carries the fire in `ev`.
    const fire = track(
      b.multi([
        { op: 'setData', path: '/x', data: new TextEncoder().encode('new'), version: -1 },
        { op: 'setData', path: '/y', data: new TextEncoder().encode('new'), version: -1 },
      ]),
    );
    await kit.eventually(() => paused, 'the distributor to reach A’s marker');
    // The distributor waits at the marker. Had it published the batch first, A would read the new
    // /y, find no marker and return it before its event: the read must give the old data or wait.
    const early = track(a.getData('/y').then((r) => order.push(`read /y ${text(r.data)}`)));
    await kit.quiet();
    expect(order.filter((o) => o === 'read /y new')).toEqual([]);

    markerGate.open();
    await fire.promise;
    const late = track(a.getData('/y').then((r) => order.push(`read /y ${text(r.data)}`)));
    await kit.quiet();
    // The batch is visible now, and the marker names A's event: the read of the new /y waits.
    expect(late.done).toBe(false);
    expect(order).not.toContain('read /y new');

    channel.release(A);
    await Promise.all([early.promise, late.promise]);
    const firstNew = order.indexOf('read /y new');
    expect(firstNew).toBeGreaterThan(order.indexOf('event NodeDataChanged /x'));
    expect(order.indexOf('event NodeDataChanged /x')).toBeGreaterThanOrEqual(0);
  });

  it('a reader holding only unfired watches reads data after a fire to others without waiting', async () => {
    const channel = new ChannelDelays(kit);
    const { connect } = await kit.deploy({ wrapClientChannel: channel.wrapClientChannel });
    const a = await connect({ sessionId: A });
    const b = await connect({ sessionId: B });
    const c = await connect();
    await b.create('/x', 'old');
    await b.create('/y', 'old');
    await b.create('/z', 'quiet');
    await a.getData('/x', { watch: () => {} });
    await c.getData('/z', { watch: () => {} });
    channel.hold(A);
    channel.hold(c.sessionNumber);
    await b.setData('/x', 'new');
    await b.setData('/y', 'new');
    // /y's `ev` is past C's channel position, but C's marker names no event: nothing is owed.
    expect(text((await c.getData('/y')).data)).toBe('new');
    channel.release(c.sessionNumber);
    channel.release(A);
  });
});

describe('the distributor writes markers first (ordered notifications)', () => {
  it('puts every marker before any record and the closing record, and stamps records with ev', async () => {
    const calls: string[] = [];
    const store = new MemoryUserStore();
    const userStore = interceptPort(store, PORT_METHODS.userStore, async (method, args, call) => {
      if (method !== 'get' && method !== 'getWatermark') calls.push(`${method} ${String(args[0])}`);
      return call();
    });
    const distributor = createDistributor({ userStore, channel: new MemoryChannel() });
    const write = (path: string) => ({ path, put: true as const, stat: rootStat(), children: [] });
    const event = (session: number) => ({
      session,
      type: 'NodeDataChanged' as const,
      path: '/a',
      classes: ['data' as const],
    });
    const batch: DistributorBatch = {
      v: PROTOCOL_VERSION,
      batch: 1,
      zxid: 4,
      ev: 1,
      items: [
        { type: 'txn', zxid: 2, writes: [write('/b')], events: [] },
        { type: 'txn', zxid: 3, writes: [write('/a')], events: [event(7), event(8)] },
        { type: 'txn', zxid: 4, writes: [write('/c')], events: [event(7)] },
      ],
    };
    const message = { id: 'm1', body: encodeMessage(batch), group: 'g', attempt: 1, receipt: 'r' };
    await distributor([message], { deadline: Number.MAX_SAFE_INTEGER, functionName: 'distributor' });
    const firstRecord = calls.findIndex((c) => c.startsWith('put '));
    const markers = calls.filter((c) => c.startsWith('putMarker'));
    expect(markers.sort()).toEqual(['putMarker 7', 'putMarker 8']);
    expect(calls.slice(0, 2).sort()).toEqual(['putMarker 7', 'putMarker 8']);
    expect(firstRecord).toBe(2);
    // The batch closes with its last txn's record (/c existed before it), written last: no watermark.
    expect(calls.at(-1)).toBe('put /c');
    expect(calls.some((c) => c.startsWith('putWatermark'))).toBe(false);
    expect((await store.get('/c'))?.complete).toBe(true);
    expect(await store.getMarker(7)).toEqual([3, 4]);
    expect(await store.getMarker(8)).toEqual([3]);
    expect((await store.get('/b'))?.ev).toBe(1);
    expect((await store.get('/a'))?.ev).toBe(3);
    expect((await store.get('/c'))?.ev).toBe(4);
  });
});
