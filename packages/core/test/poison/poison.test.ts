// Poison input (DESIGN.md §5): the writer queue is reachable by every client, so anything may
// arrive there. A malformed or hostile request must get a clear BADARGUMENTS reply when it names
// a sender, and must never block the ordered queue behind it.
import { afterEach, describe, expect, it } from 'vitest';
import {
  byteLength,
  type ChannelMessage,
  CreateMode,
  createEmbeddedService,
  DISTRIBUTOR_GROUP,
  decodeMessage,
  type EmbeddedService,
  encodeMessage,
  type FaaSKeeperClient,
  FaaSKeeperError,
  LimitExceededError,
  MAX_DATA_BYTES,
  type MemoryQueue,
  PROTOCOL_VERSION,
  type SessionItem,
  type SystemStore,
  WRITER_GROUP,
  WRITER_STATE_ID,
  type WriterState,
} from '../../src/index.js';
import { encodeSessionKey, newSessionKey, signRequest } from '../../src/session/auth.js';
import { waitUntil } from '../../src/testkit/contracts/support.js';
import { visibleZxid } from '../../src/testkit/faults/final-state.js';

/** A session id no client uses: the suite listens on its channel as the "sender". */
let nextSession = 9_000_000_001;

interface Harness {
  service: EmbeddedService;
  /** A well-behaved client whose operations are queued behind the poison. */
  zk: FaaSKeeperClient;
  functionErrors: unknown[];
}

const open: EmbeddedService[] = [];

async function start(): Promise<Harness> {
  const functionErrors: unknown[] = [];
  // Short operation timeout: a blocked queue fails the test quickly instead of hanging it.
  // Channels unsealed: the suite reads replies off raw channels (sealing is tested in hostile.test.ts).
  const service = createEmbeddedService({
    channelSecret: false,
    operationTimeoutMs: 5000,
    onFunctionError: (_name, error) => functionErrors.push(error),
  });
  open.push(service);
  const zk = await service.connect();
  return { service, zk, functionErrors };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Puts a raw body straight into the writer queue, as a hostile client could. */
async function inject(
  service: EmbeddedService,
  body: string,
  dedupId = `poison-${nextSession++}`,
): Promise<void> {
  await service.ports.writerQueue.send([{ body, group: WRITER_GROUP, dedupId }]);
}

/** Subscribes to a session's channel and collects the decoded messages. */
async function listen(service: EmbeddedService, session: number): Promise<ChannelMessage[]> {
  const got: ChannelMessage[] = [];
  await service.ports.channel.subscribe(session, (messages) => {
    for (const m of messages) got.push(decodeMessage<ChannelMessage>(m));
  });
  return got;
}

/** Waits for the reply to `seq` on a collected channel. */
async function replyTo(got: ChannelMessage[], seq: number) {
  await waitUntil(
    () => got.some((m) => m.body.type === 'reply' && m.body.seq === seq),
    `the reply to seq ${seq}`,
    5000,
  );
  const m = got.find((x) => x.body.type === 'reply' && x.body.seq === seq)!;
  return m.body as Extract<ChannelMessage['body'], { type: 'reply' }>;
}

/** A request envelope from a fresh session, with `patch` applied over a valid ping. */
function request(patch: Record<string, unknown>, session = nextSession++) {
  return {
    session,
    body: { v: PROTOCOL_VERSION, id: `${session}:1`, session, seq: 1, op: { type: 'ping' }, ...patch },
  };
}

/** Injects `body` from `session` and expects a BADARGUMENTS reply whose message matches `why`. */
async function expectRefused(
  h: Harness,
  session: number,
  body: unknown,
  why: RegExp,
  seq = 1,
): Promise<void> {
  const got = await listen(h.service, session);
  await inject(h.service, typeof body === 'string' ? body : encodeMessage(body));
  const reply = await replyTo(got, seq);
  expect(reply.result).toBeUndefined();
  expect(reply.error?.code).toBe('BADARGUMENTS');
  expect(reply.error?.message).toMatch(why);
  // A reply stays small whatever the request held (it must fit a channel message).
  expect(reply.error!.message.length).toBeLessThan(1000);
}

/** The well-behaved client's next write completes: nothing blocks the queue. */
async function expectQueueFlows(h: Harness, tag: string): Promise<void> {
  expect(await h.zk.create(`/after-${tag}`, tag)).toBe(`/after-${tag}`);
  expect(new TextDecoder().decode((await h.zk.getData(`/after-${tag}`)).data)).toBe(tag);
}

const create = (path: unknown, extra: Record<string, unknown> = {}) => ({
  type: 'create',
  path,
  data: new Uint8Array([1]),
  mode: 'PERSISTENT',
  ...extra,
});

describe('poison requests in the writer queue', () => {
  it('drops a body that is not JSON and keeps serving the requests behind it', async () => {
    const h = await start();
    await inject(h.service, 'this is {not json');
    await inject(h.service, '');
    await inject(h.service, '\u0000\u0001\u0002');
    await expectQueueFlows(h, 'not-json');
  });

  it('drops JSON that is not a request object and keeps serving', async () => {
    const h = await start();
    for (const body of ['null', '42', '"text"', '[]', '[{"v":1}]', '{"$b":"AAAA"}', 'true'])
      await inject(h.service, body);
    await expectQueueFlows(h, 'not-object');
  });

  it('refuses an unknown protocol version, naming it, to the sender', async () => {
    const h = await start();
    const { session, body } = request({ v: 99 });
    await expectRefused(h, session, body, /protocol version 99/);
    await expectQueueFlows(h, 'version');
  });

  it('refuses requests with missing or malformed fields', async () => {
    const h = await start();
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ id: undefined }, /needs an id/],
      [{ id: 'x'.repeat(201) }, /needs an id/],
      [{ op: undefined }, /needs an op/],
      [{ op: 'ping' }, /needs an op/],
      [{ ack: 'soon' }, /ack must be a zxid/],
      [{ op: { type: 'create' } }, /mode|path/],
      [{ op: { type: 'openSession', timeoutMs: -5 } }, /timeoutMs/],
      [{ op: { type: 'delete', path: '/a', version: 'latest' } }, /version/],
      [{ op: { type: 'setData', path: '/a', data: 'not bytes', version: -1 } }, /data must be bytes/],
      [{ op: { type: 'removeWatches', path: '/a', classes: ['everything'] } }, /watch classes/],
    ];
    for (const [patch, why] of cases) {
      const { session, body } = request(patch);
      await expectRefused(h, session, body, why);
    }
    await expectQueueFlows(h, 'fields');
  });

  it('drops a request without a session or seq, which has no one to answer, and keeps serving', async () => {
    const h = await start();
    const { body } = request({});
    await inject(h.service, encodeMessage({ ...body, session: undefined }));
    await inject(h.service, encodeMessage({ ...body, seq: -1 }));
    await inject(h.service, encodeMessage({ ...body, session: 'me' }));
    await expectQueueFlows(h, 'no-sender');
  });

  it('refuses bad paths', async () => {
    const h = await start();
    const paths: [unknown, RegExp][] = [
      ['relative', /start with \//],
      ['', /not be empty/],
      ['/a//b', /empty segment/],
      ['/a/../b', /\. or \.\./],
      ['/trailing/', /end with \//],
      ['/nul\u0000char', /forbidden character/],
      [42, /must be a string/],
    ];
    for (const [path, why] of paths) {
      const { session, body } = request({ op: create(path) });
      await expectRefused(h, session, body, why);
    }
    await expectQueueFlows(h, 'paths');
  });

  it('refuses an unknown op type', async () => {
    const h = await start();
    const { session, body } = request({ op: { type: 'dropAllTables', path: '/' } });
    await expectRefused(h, session, body, /unknown request type "dropAllTables"/);
    const multi = request({
      op: {
        type: 'multi',
        ops: [{ op: 'create', path: '/m', data: new Uint8Array(), mode: 'PERSISTENT' }, { op: 'rename' }],
      },
    });
    await expectRefused(h, multi.session, multi.body, /unknown multi op "rename"/);
    await expectQueueFlows(h, 'unknown-op');
  });

  it('refuses data over the 1 MiB node limit, in a create, a setData and a multi', async () => {
    const h = await start();
    const big = new Uint8Array(MAX_DATA_BYTES + 1);
    for (const op of [
      create('/big', { data: big }),
      { type: 'setData', path: '/', data: big, version: -1 },
      { type: 'multi', ops: [{ op: 'create', path: '/big', data: big, mode: 'PERSISTENT' }] },
    ]) {
      const { session, body } = request({ op });
      await expectRefused(h, session, body, new RegExp(`${MAX_DATA_BYTES + 1} bytes, over the limit`));
    }
    await expectQueueFlows(h, 'big-data');
  });

  it('refuses a null-data flag that is not true, beside non-empty bytes, or on an op without data', async () => {
    const h = await start();
    const empty = new Uint8Array(0);
    const cases: [Record<string, unknown>, RegExp][] = [
      [create('/n', { data: empty, nullData: false }), /nullData must be true when present, not false/],
      [create('/n', { data: empty, nullData: 'yes' }), /nullData must be true/],
      [create('/n', { nullData: true }), /null data must come with empty bytes/],
      [{ type: 'setData', path: '/', data: new Uint8Array([1]), version: -1, nullData: true }, /empty bytes/],
      [{ type: 'delete', path: '/a', version: -1, nullData: true }, /only allowed on create and setData/],
      [{ type: 'sync', path: '/', nullData: true }, /only allowed on create and setData/],
      [{ type: 'multi', ops: [], nullData: true }, /only allowed on create and setData/],
      [
        { type: 'multi', ops: [{ op: 'check', path: '/', version: -1, nullData: true }] },
        /only allowed on create and setData/,
      ],
      [
        {
          type: 'multi',
          ops: [{ op: 'setData', path: '/', data: new Uint8Array([1]), version: -1, nullData: true }],
        },
        /empty bytes/,
      ],
    ];
    for (const [op, why] of cases) {
      const { session, body } = request({ op });
      await expectRefused(h, session, body, why);
    }
    await expectQueueFlows(h, 'null-flag');
  });

  it('accepts the null-data flag on create and setData, alone and in a multi, and stores null', async () => {
    const h = await start();
    const empty = new Uint8Array(0);
    const ops = [
      create('/raw', { data: empty, nullData: true }),
      { type: 'setData', path: '/raw', data: empty, version: -1, nullData: true },
      {
        type: 'multi',
        ops: [
          { op: 'create', path: '/raw-m', data: empty, mode: 'PERSISTENT', nullData: true },
          { op: 'setData', path: '/raw-m', data: empty, version: 0, nullData: true },
        ],
      },
    ];
    for (const op of ops) {
      // A session of its own, opened first (a write from an unknown session would find it expired).
      const key = newSessionKey();
      const { session, body } = request({
        op: { type: 'openSession', timeoutMs: 10_000, key: encodeSessionKey(key) },
      });
      const got = await listen(h.service, session);
      await inject(h.service, signRequest(key, encodeMessage(body)));
      expect((await replyTo(got, 1)).error).toBeUndefined();
      await inject(h.service, signRequest(key, encodeMessage({ ...body, id: `${session}:2`, seq: 2, op })));
      expect((await replyTo(got, 2)).error).toBeUndefined();
    }
    for (const path of ['/raw', '/raw-m']) {
      const read = await h.zk.getData(path);
      expect(read.nullData).toBe(true);
      expect(read.stat).toMatchObject({ version: 1, dataLength: 0 });
    }
  });

  it('refuses a system op from a client session, and the session it names lives on', async () => {
    const h = await start();
    const target = Number(h.zk.sessionId);
    const expire = request({ op: { type: 'expireSession', target } });
    await expectRefused(h, expire.session, expire.body, /heartbeat only/);
    const ttl = request({ op: { type: 'expireTtl', path: '/x', mzxid: 1 } });
    await expectRefused(h, ttl.session, ttl.body, /heartbeat only/);
    expect(await h.service.ports.systemStore.get({ kind: 'session', id: String(target) })).toBeDefined();
    expect(h.zk.state).toBe('CONNECTED');
    await expectQueueFlows(h, 'system-op');
  });

  it('drops a client op that claims the heartbeat session 0 without acting on it', async () => {
    const h = await start();
    await h.zk.create('/keep', 'x');
    const { body } = request({ session: 0, seq: 0, op: { type: 'delete', path: '/keep', version: -1 } });
    await inject(h.service, encodeMessage(body));
    await expectQueueFlows(h, 'session-zero');
    expect(await h.zk.exists('/keep')).not.toBeNull();
  });

  it('refuses an openSession that would take over a live session, and the owner keeps it', async () => {
    const h = await start();
    const session = Number(h.zk.sessionId);
    const hijack = {
      v: PROTOCOL_VERSION,
      id: `hijack-${session}`,
      session,
      seq: 1_000_000,
      op: { type: 'openSession', timeoutMs: 1 },
    };
    await inject(h.service, encodeMessage(hijack));
    await expectQueueFlows(h, 'hijack');
    // The refused takeover changed nothing: the owner's timeout and sequence stand.
    const item = await h.service.ports.systemStore.get<SessionItem>({ kind: 'session', id: String(session) });
    expect(item?.value.timeoutMs).toBe(10_000);
    expect(item?.value.lastSeq).toBeLessThan(1_000_000);
  });

  it('refuses a multi with 100k ops without trying them', async () => {
    const h = await start();
    const ops = Array.from({ length: 100_000 }, () => ({ op: 'check', path: '/', version: -1 }));
    const { session, body } = request({ op: { type: 'multi', ops } });
    await expectRefused(h, session, body, /at most 1000 ops/);
    await expectQueueFlows(h, 'huge-multi');
  });

  it('survives deeply nested garbage, as the body and inside a field', async () => {
    const h = await start();
    const depth = 200_000;
    await inject(h.service, `${'['.repeat(depth)}${']'.repeat(depth)}`);
    await inject(h.service, `{"v":1,"op":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`);
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    for (const [field, why] of [
      ['path', /path must be a string/],
      ['mode', /unknown create mode/],
      ['ttlMs', /ttlMs/],
    ] as const) {
      const { session, body } = request({ op: create('/n', { [field]: '@NESTED@' }) });
      await expectRefused(h, session, encodeMessage(body).replace('"@NESTED@"', nested), why);
    }
    await expectQueueFlows(h, 'nested');
  });

  it('keeps replies small when a field echoed in the error is huge', async () => {
    const h = await start();
    // Quotes double in size each time the reply is JSON-encoded: a naive echo outgrows every limit.
    const mode = '"'.repeat(1_500_000);
    const { session, body } = request({ op: create('/q', { mode }) });
    await expectRefused(h, session, body, /unknown create mode/);
    const type = request({ op: { type: '\\'.repeat(1_000_000) } });
    await expectRefused(h, type.session, type.body, /unknown request type/);
    await expectQueueFlows(h, 'huge-echo');
  });

  it('serves the requests of a batch around a poison one', async () => {
    const h = await start();
    const other = await h.service.connect();
    const writes = [h.zk.create('/before', 'b'), other.create('/other', 'o')];
    await inject(h.service, 'garbage between writes');
    const bad = request({ op: create('no-slash') });
    const got = await listen(h.service, bad.session);
    await inject(h.service, encodeMessage(bad.body));
    writes.push(h.zk.create('/after', 'a'));
    await Promise.all(writes);
    expect((await replyTo(got, 1)).error?.code).toBe('BADARGUMENTS');
    expect((await h.zk.getChildren('/')).children.sort()).toEqual(['after', 'before', 'other']);
    await other.close();
  });

  it('never lets a poison request fail the writer function (no retry loop)', async () => {
    const h = await start();
    const { session, body } = request({ op: create('/x', { mode: 'IMMORTAL' }) });
    await expectRefused(h, session, body, /unknown create mode/);
    await expectQueueFlows(h, 'no-retry');
    expect(h.functionErrors).toEqual([]);
  });
});

describe('results too big for one distributor message', () => {
  it('splits a batch of large writes so that every committed batch can be forwarded', async () => {
    const h = await start();
    const others = await Promise.all([1, 2, 3, 4].map(() => h.service.connect()));
    const data = new Uint8Array(MAX_DATA_BYTES).fill(7);
    // Five 1 MiB creates in one writer batch encode to ~7 MB, over the 4 MiB distributor message.
    const paths = await Promise.all([h.zk, ...others].map((c, i) => c.create(`/big${i}`, data)));
    expect(paths).toEqual(['/big0', '/big1', '/big2', '/big3', '/big4']);
    expect((await others[3]!.getData('/big0')).data.byteLength).toBe(MAX_DATA_BYTES);
    expect(h.functionErrors).toEqual([]);
    await expectQueueFlows(h, 'split');
    await Promise.all(others.map((c) => c.close()));
  });

  it('refuses a single request whose result cannot fit a distributor message, and keeps serving', async () => {
    const functionErrors: unknown[] = [];
    const limit = 256 * 1024; // SQS's message limit before 2025
    const service = createEmbeddedService({
      // The limit is the distributor queue's: batches go through it.
      distribution: 'queue',
      operationTimeoutMs: 5000,
      onFunctionError: (_name, error) => functionErrors.push(error),
      wrap: {
        distributorQueue: (q) => ({
          name: q.name,
          capabilities: { ...q.capabilities, maxMessageBytes: limit },
          send: async (messages) => {
            for (const m of messages) {
              const size = new TextEncoder().encode(m.body).byteLength;
              if (size > limit) throw new LimitExceededError('distributor message', size, limit);
            }
            return q.send(messages);
          },
          receive: (o) => q.receive(o),
          ack: (r) => q.ack(r),
          release: (r) => q.release(r),
          interrupt: () => (q as MemoryQueue).interrupt(),
        }),
      },
    });
    open.push(service);
    const zk = await service.connect();
    const other = await service.connect();
    const fits = new Uint8Array(120 * 1024).fill(1);
    // Two that fit alone but not together: they go in two batches.
    expect(await Promise.all([zk.create('/fit1', fits), other.create('/fit2', fits)])).toEqual([
      '/fit1',
      '/fit2',
    ]);
    const error = await zk.create('/too-big', new Uint8Array(400 * 1024)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FaaSKeeperError);
    expect((error as FaaSKeeperError).code).toBe('BADARGUMENTS');
    expect((error as FaaSKeeperError).message).toMatch(/more than one batch can hold \(262144/);
    expect(await zk.exists('/too-big')).toBeNull();
    expect(await other.create('/after-too-big', 'ok')).toBe('/after-too-big');
    expect(functionErrors).toEqual([]);
    await other.close();
  });
});

/** The embedded system store with a finite item limit, as DynamoDB (400 KB) has. */
function limitedStore(maxItemBytes: number) {
  return (store: SystemStore): SystemStore => ({
    capabilities: { ...store.capabilities, maxItemBytes },
    get: (key) => store.get(key),
    getMany: (keys) => store.getMany(keys),
    list: (kind) => store.list(kind),
    query: (kind, prefix, page) => store.query(kind, prefix, page),
    increment: (key, by) => store.increment(key, by),
    transact: async (ops) => {
      for (const op of ops) {
        if (op.type !== 'put') continue;
        const size = byteLength(encodeMessage(op.value));
        if (size > maxItemBytes) throw new LimitExceededError(`item ${op.kind}/${op.id}`, size, maxItemBytes);
      }
      return store.transact(ops);
    },
  });
}

describe('results too big for the system store', () => {
  async function startLimited(maxItemBytes: number): Promise<Harness> {
    const functionErrors: unknown[] = [];
    const service = createEmbeddedService({
      operationTimeoutMs: 5000,
      onFunctionError: (_name, error) => functionErrors.push(error),
      wrap: { systemStore: limitedStore(maxItemBytes) },
    });
    open.push(service);
    return { service, zk: await service.connect(), functionErrors };
  }

  it('splits batches so that the writer state item of each fits the store', async () => {
    const h = await startLimited(64 * 1024);
    const others = await Promise.all([1, 2, 3, 4].map(() => h.service.connect()));
    const data = new Uint8Array(20 * 1024).fill(3);
    const paths = await Promise.all([h.zk, ...others].map((c, i) => c.create(`/n${i}`, data)));
    expect(paths).toEqual(['/n0', '/n1', '/n2', '/n3', '/n4']);
    expect(h.functionErrors).toEqual([]);
    await Promise.all(others.map((c) => c.close()));
  });

  it('refuses a request whose data cannot fit the store, and keeps serving', async () => {
    const h = await startLimited(64 * 1024);
    const error = await h.zk.create('/huge', new Uint8Array(100 * 1024)).catch((e: unknown) => e);
    expect((error as FaaSKeeperError).code).toBe('BADARGUMENTS');
    expect(await h.zk.exists('/huge')).toBeNull();
    await expectQueueFlows(h, 'store-limit');
    expect(h.functionErrors).toEqual([]);
  });

  it('refuses a request that would overflow another item (its session), and keeps serving', async () => {
    const h = await startLimited(16 * 1024);
    const other = await h.service.connect();
    const name = 'x'.repeat(900);
    let refused: FaaSKeeperError | undefined;
    let created = 0;
    // Every ephemeral node is listed in its session's item, which grows past the limit.
    for (let i = 0; i < 40 && refused === undefined; i++) {
      await h.zk.create(`/e${i}`, '');
      try {
        await h.zk.create(`/e${i}/${name}`, '', { mode: CreateMode.EPHEMERAL });
        created++;
      } catch (error) {
        refused = error as FaaSKeeperError;
      }
    }
    expect(created).toBeGreaterThan(5);
    expect(refused?.code).toBe('BADARGUMENTS');
    // The writer state's redo log carries the session item too, so the chunk budget may refuse it
    // before the store does.
    expect(refused?.message).toMatch(/exceed a limit of the system store|more than one batch can hold/);
    expect(await other.create('/other-still-writes', 'ok')).toBe('/other-still-writes');
    await expectQueueFlows(h, 'session-limit');
    expect(h.functionErrors).toEqual([]);
    await other.close();
  });
});

describe('poison batches in the distributor queue', () => {
  it('drops unreadable batches and applies the later ones', async () => {
    const h = await start();
    const q = h.service.ports.distributorQueue;
    const poison = [
      'not json',
      '{"v":99,"items":[]}',
      '{"v":1,"items":"none"}',
      'null',
      `{"v":1,"batch":1,"zxid":0,"ev":0,"items":[{"type":"txn","zxid":1,"writes":null,"events":[]}]}`,
      `{"v":1,"batch":1,"zxid":0,"ev":0,"items":[null, 5, {"type":"teleport"}]}`,
      `{"v":1,"items":[]}`,
      `{"v":1,"batch":2,"zxid":"max","ev":0,"items":[]}`,
      `{"v":1,"batch":3,"zxid":7,"ev":0,"items":[{"type":"reply","zxid":7,"to":null}]}`,
    ];
    await expectQueueFlows(h, 'distributor-before');
    const watermark = await h.service.ports.userStore.getWatermark();
    for (const [i, body] of poison.entries())
      await q.send([{ body, group: DISTRIBUTOR_GROUP, dedupId: `poison-batch-${i}` }]);
    await expectQueueFlows(h, 'distributor');
    await expectQueueFlows(h, 'distributor-2');
    // The watermark only moved with the real batches, never to a poison batch's garbage (a
    // create closes with its parent's record and leaves it where it is), and the store is
    // visible up to the writer's zxid.
    const after = await h.service.ports.userStore.getWatermark();
    const state = (await h.service.ports.systemStore.get<WriterState>({ kind: 'meta', id: WRITER_STATE_ID }))
      ?.value;
    expect(Number.isSafeInteger(after) && after >= watermark && after <= (state?.zxid ?? 0)).toBe(true);
    expect(await visibleZxid(h.service.ports.userStore, h.service.ports.systemStore, state)).toBe(
      state?.zxid,
    );
  });
});
