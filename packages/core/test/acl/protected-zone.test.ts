// The distributor's side of nodes without world READ (docs/guarantees.md "Reading nodes directly"):
// what a read through the writer answers, and that a zone change survives a crash half-way.
import { describe, expect, it } from 'vitest';
import { createDistributor } from '../../src/distributor/distributor.js';
import { MemoryChannel } from '../../src/memory/memory-channel.js';
import { MemoryUserStore } from '../../src/memory/memory-user-store.js';
import { rootStat } from '../../src/model/stat.js';
import { decodeMessage, encodeMessage } from '../../src/protocol/codec.js';
import {
  type ACL,
  type ChannelMessage,
  type DistributorBatch,
  type DistributorItem,
  PROTOCOL_VERSION,
} from '../../src/protocol/messages.js';
import { interceptPort, PORT_METHODS } from '../../src/testkit/faults/index.js';

const owner: ACL[] = [{ perms: 31, id: { scheme: 'digest', id: 'owner:hash' } }];
const SESSION = 5;
const secret = new TextEncoder().encode('the secret');

function batchOf(batch: number, zxid: number, items: DistributorItem[]): DistributorBatch {
  return { v: PROTOCOL_VERSION, batch, zxid, items };
}

const run = (distributor: ReturnType<typeof createDistributor>, b: DistributorBatch) =>
  distributor([{ id: `m${b.batch}`, body: encodeMessage(b), group: 'g', attempt: 1, receipt: 'r' }], {
    deadline: Number.MAX_SAFE_INTEGER,
    functionName: 'distributor',
  });

/** Creates `/p` (data `secret`; protected unless `open`) with one child `kid`, at zxids 2 and 3. */
function created(open = false): DistributorItem[] {
  const acl = open ? {} : { acl: owner };
  const parent = { ...rootStat(), czxid: 2, mzxid: 2, pzxid: 2, dataLength: secret.length };
  return [
    {
      type: 'txn',
      zxid: 2,
      writes: [{ path: '/p', put: true, stat: parent, data: secret, ...acl }],
      kids: [{ parent: '/', name: 'p', czxid: 2 }],
      events: [],
    },
    {
      type: 'txn',
      zxid: 3,
      writes: [
        { path: '/p/kid', put: true, stat: { ...rootStat(), czxid: 3 }, data: new Uint8Array(0) },
        { path: '/p', put: true, stat: { ...parent, pzxid: 3, cversion: 1, numChildren: 1 }, ...acl },
      ],
      kids: [{ parent: '/p', name: 'kid', czxid: 3 }],
      events: [],
    },
  ];
}

describe('a protected node in the distributor', () => {
  it('answers a read through the writer with only what the writer checked: exists the Stat, getACL no data, getChildren the names', async () => {
    const store = new MemoryUserStore();
    const channel = new MemoryChannel();
    const distributor = createDistributor({ userStore: store, channel });
    const to = (seq: number) => ({ session: SESSION, seq });
    await run(
      distributor,
      batchOf(1, 3, [
        ...created(),
        { type: 'read', zxid: 3, to: to(1), path: '/p', statOnly: true },
        { type: 'read', zxid: 3, to: to(2), path: '/p', aclOnly: true },
        { type: 'read', zxid: 3, to: to(3), path: '/p', children: true },
      ]),
    );
    const got: ChannelMessage[] = [];
    await channel.subscribe(SESSION, (messages) =>
      got.push(...messages.map((m) => decodeMessage<ChannelMessage>(m))),
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    const results = got.map((m) => (m.body.type === 'reply' ? m.body.result : undefined));
    expect(results).toHaveLength(3);
    const [exists, acl, children] = results as {
      type: 'read';
      record: Record<string, unknown>;
      children?: string[];
    }[];
    expect((exists!.record.data as Uint8Array).length).toBe(0);
    expect(exists!.record.acl).toBeUndefined();
    expect((acl!.record.data as Uint8Array).length).toBe(0);
    expect(acl!.record.acl).toEqual(owner);
    expect(new TextDecoder().decode(children!.record.data as Uint8Array)).toBe('the secret');
    expect(children!.children).toEqual(['kid']);
    // The stores: a stub in the open zone, the record and the child entry in the protected one.
    expect(await store.get('/p')).toMatchObject({ protected: true, data: new Uint8Array(0), txZxid: 3 });
    expect((await store.get('/p'))?.acl).toBeUndefined();
    expect(await store.listChildren('/p')).toEqual([]);
    expect(await store.listChildren('/p', 'protected')).toEqual([{ parent: '/p', name: 'kid', czxid: 3 }]);
  });

  it('a zone change interrupted after the watermark is finished by the redelivered batch: no entry is left in the open zone', async () => {
    const store = new MemoryUserStore();
    const distributor0 = createDistributor({ userStore: store, channel: new MemoryChannel() });
    // /p created world-readable (no ACL), with its child.
    await run(distributor0, batchOf(1, 3, created(true)));
    expect(await store.listChildren('/p')).toHaveLength(1);
    // setACL to owner only, at zxid 4; the removal of the open zone's entries fails once.
    let failures = 1;
    const faulty = interceptPort(store, PORT_METHODS.userStore, async (method, _args, call) => {
      if (method === 'deleteChild' && failures-- > 0) throw new Error('crash after the watermark');
      return call();
    });
    const distributor = createDistributor({ userStore: faulty, channel: new MemoryChannel() });
    const parent = (await store.get('/p'))!.stat;
    const setAcl = batchOf(2, 4, [
      {
        type: 'txn',
        zxid: 4,
        writes: [{ path: '/p', put: true, stat: { ...parent, aversion: 1 }, acl: owner, moved: true }],
        events: [],
      },
    ]);
    await expect(run(distributor, setAcl)).rejects.toThrow('crash after the watermark');
    expect(await store.getWatermark()).toBe(4);
    expect(await store.listChildren('/p')).toHaveLength(1);
    await run(distributor, setAcl);
    expect(await store.listChildren('/p')).toEqual([]);
    expect(await store.listChildren('/p', 'protected')).toEqual([{ parent: '/p', name: 'kid', czxid: 3 }]);
    expect((await store.get('/p'))?.protected).toBe(true);
    expect(new TextDecoder().decode((await store.get('/p', 'protected'))!.data)).toBe('the secret');
  });
});
