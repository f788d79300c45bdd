import {
  CreateMode,
  FaaSKeeperClient,
  FaaSKeeperError,
  type WatchedEvent,
  type Watcher,
} from '@faaskeeper/client';
import {
  type Channel,
  type ChannelMessage,
  createEmbeddedService,
  decodeMessage,
  type EmbeddedService,
  type EmbeddedServiceOptions,
  encodeMessage,
  type ReplyResult,
} from '@faaskeeper/core';
import { afterEach, describe, expect, it } from 'vitest';

let service: EmbeddedService | undefined;
afterEach(async () => {
  await service?.close();
  service = undefined;
});

function deploy(options: EmbeddedServiceOptions = {}): EmbeddedService {
  service = createEmbeddedService(options);
  return service;
}

/** A watcher that records its events as `"<type> <path>"`. */
function recorder(): { watcher: Watcher; events: string[] } {
  const events: string[] = [];
  return { watcher: (e: WatchedEvent) => events.push(`${e.type} ${e.path}`), events };
}

/** Wraps each client's channel so that `rewrite` sees (and may change) every message it receives. */
function channelThrough(rewrite: (m: ChannelMessage) => ChannelMessage): EmbeddedServiceOptions {
  return {
    // Unsealed, so that `rewrite` can read and change the messages (sealing: hostile.test.ts).
    channelSecret: false,
    wrapClientChannel: (inner: Channel): Channel => ({
      maxMessageBytes: inner.maxMessageBytes,
      send: (session, messages) => inner.send(session, messages),
      remove: (session) => inner.remove(session),
      subscribe: (session, onMessages) =>
        inner.subscribe(session, (messages) =>
          onMessages(messages.map((t) => encodeMessage(rewrite(decodeMessage<ChannelMessage>(t))))),
        ),
    }),
  };
}

/** A deployment whose clients get `to` wherever the writer replied with a result of type `from`. */
function replyRewritten(from: ReplyResult['type'], to: ReplyResult): EmbeddedServiceOptions {
  return channelThrough((m) =>
    m.body.type === 'reply' && m.body.result?.type === from ? { ...m, body: { ...m.body, result: to } } : m,
  );
}

async function rejection(p: Promise<unknown>): Promise<FaaSKeeperError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FaaSKeeperError);
  return error as FaaSKeeperError;
}

describe('createWithStat', () => {
  it('resolves the created path with the Stat the node has right after the create', async () => {
    const zk = await deploy().connect();
    await zk.create('/jobs');
    const { path, stat } = await zk.createWithStat('/jobs/job-', 'payload', {
      mode: CreateMode.EPHEMERAL_SEQUENTIAL,
    });
    expect(path).toBe('/jobs/job-0000000000');
    expect(stat).toEqual(await zk.exists(path));
    expect(stat.czxid).toBe(stat.mzxid);
    expect(stat.version).toBe(0);
    expect(stat.dataLength).toBe(7);
    expect(stat.ephemeralOwner).toBe(zk.sessionNumber);
  });

  it('fails as create does: NODEEXISTS, NONODE without a parent, BADARGUMENTS for a bad path', async () => {
    const zk = await deploy().connect();
    await zk.createWithStat('/a');
    expect((await rejection(zk.createWithStat('/a'))).code).toBe('NODEEXISTS');
    expect((await rejection(zk.createWithStat('/missing/child'))).code).toBe('NONODE');
    expect((await rejection(zk.createWithStat('a/relative'))).code).toBe('BADARGUMENTS');
  });
});

describe('null data', () => {
  it('sends the nullData flag only for null data, never for absent or empty data, and getData answers it', async () => {
    const sent: Record<string, unknown>[] = [];
    const zk = await deploy({
      wrapHandler: (name, handler) =>
        name !== 'writer'
          ? handler
          : (messages, context) => {
              for (const m of messages) sent.push(decodeMessage<{ op: Record<string, unknown> }>(m.body).op);
              return handler(messages, context);
            },
    }).connect();
    await zk.create('/absent');
    await zk.create('/empty', '');
    await zk.create('/null', null);
    await zk.setData('/empty', null);
    await zk.setData('/null', new Uint8Array(0));
    await zk.multi([
      { op: 'create', path: '/m', data: null },
      { op: 'setData', path: '/m', data: 'x' },
    ]);
    const writes = sent.filter((op) => op.type !== 'openSession' && op.type !== 'ping');
    expect(writes.map((op) => [op.type, op.path, 'nullData' in op ? op.nullData : 'absent'])).toEqual([
      ['create', '/absent', 'absent'],
      ['create', '/empty', 'absent'],
      ['create', '/null', true],
      ['setData', '/empty', true],
      ['setData', '/null', 'absent'],
      ['multi', undefined, 'absent'],
    ]);
    const multiOps = writes[5]!.ops as Record<string, unknown>[];
    expect(multiOps.map((o) => o.nullData)).toEqual([true, undefined]);
    expect('nullData' in multiOps[1]!).toBe(false);
    expect((await zk.getData('/empty')).nullData).toBe(true);
    expect('nullData' in (await zk.getData('/null'))).toBe(false);
    expect('nullData' in (await zk.getData('/m'))).toBe(false);
  });

  it('refuses data that is neither bytes, a string nor null with BADARGUMENTS before sending it', async () => {
    const zk = await deploy().connect();
    const bad = 42 as unknown as Uint8Array;
    for (const p of [
      zk.create('/n', bad),
      zk.setData('/', bad),
      zk.multi([{ op: 'create', path: '/n', data: bad }]),
    ]) {
      const error = await rejection(p);
      expect(error.code).toBe('BADARGUMENTS');
      expect(error.message).toMatch(/a Uint8Array, a string or null/);
    }
  });
});

describe('removeWatches by type', () => {
  it("type 'data' removes the getData and exists watches, and the writer stops sending their events", async () => {
    const events: ChannelMessage['body'][] = [];
    const svc = deploy(
      channelThrough((m) => {
        if (m.body.type === 'event') events.push(m.body);
        return m;
      }),
    );
    const [a, b] = await Promise.all([svc.connect(), svc.connect()]);
    await b.create('/p');
    const [data, exists, children] = [recorder(), recorder(), recorder()];
    await a.getData('/p', { watch: data.watcher });
    await a.exists('/p', { watch: exists.watcher });
    await a.getChildren('/p', { watch: children.watcher });
    await a.removeWatches('/p', undefined, { type: 'data' });
    await b.setData('/p', '1');
    await b.create('/p/c');
    await a.sync('/');
    expect(data.events).toEqual([]);
    expect(exists.events).toEqual([]);
    expect(children.events).toEqual(['NodeChildrenChanged /p']);
    // Only the children registration was left at the writer: no data event reached the channel.
    expect(events.map((e) => (e.type === 'event' ? `${e.event.type} ${e.classes}` : e.type))).toEqual([
      'NodeChildrenChanged children',
    ]);
  });

  it("type 'children' removes only the children watch", async () => {
    const svc = deploy();
    const [a, b] = await Promise.all([svc.connect(), svc.connect()]);
    await b.create('/p');
    const [data, children] = [recorder(), recorder()];
    await a.getData('/p', { watch: data.watcher });
    await a.getChildren('/p', { watch: children.watcher });
    await a.removeWatches('/p', children.watcher, { type: 'children' });
    await b.create('/p/c');
    await b.setData('/p', '1');
    await a.sync('/');
    expect(children.events).toEqual([]);
    expect(data.events).toEqual(['NodeDataChanged /p']);
  });

  it("types 'persistent' and 'recursive' each leave the other addWatch mode in place", async () => {
    const svc = deploy();
    const [a, b] = await Promise.all([svc.connect(), svc.connect()]);
    await b.create('/p');
    const [persistent, recursive] = [recorder(), recorder()];
    // One function in both modes: the type says which registration goes.
    const both = recorder();
    await a.addWatch('/p', persistent.watcher, 'PERSISTENT');
    await a.addWatch('/p', recursive.watcher, 'PERSISTENT_RECURSIVE');
    await a.addWatch('/p', both.watcher, 'PERSISTENT');
    await a.addWatch('/p', both.watcher, 'PERSISTENT_RECURSIVE');
    await a.removeWatches('/p', undefined, { type: 'persistent' });
    await b.create('/p/c');
    await a.sync('/');
    expect(persistent.events).toEqual([]);
    expect(recursive.events).toEqual(['NodeCreated /p/c']);
    expect(both.events).toEqual(['NodeCreated /p/c']);
    await a.removeWatches('/p', both.watcher, { type: 'recursive' });
    await b.setData('/p/c', '1');
    await a.sync('/');
    expect(recursive.events).toEqual(['NodeCreated /p/c', 'NodeDataChanged /p/c']);
    expect(both.events).toEqual(['NodeCreated /p/c']);
  });

  it('throws NOWATCHER when no watch of that type matches, and removes nothing then', async () => {
    const svc = deploy();
    const [a, b] = await Promise.all([svc.connect(), svc.connect()]);
    await b.create('/p');
    const data = recorder();
    await a.getData('/p', { watch: data.watcher });
    expect((await rejection(a.removeWatches('/p', undefined, { type: 'children' }))).code).toBe('NOWATCHER');
    expect((await rejection(a.removeWatches('/p', data.watcher, { type: 'persistent' }))).code).toBe(
      'NOWATCHER',
    );
    await b.setData('/p', '1');
    await a.sync('/');
    expect(data.events).toEqual(['NodeDataChanged /p']);
  });

  it('refuses an unknown type with BADARGUMENTS', async () => {
    const zk = await deploy().connect();
    const bad = { type: 'everything' } as unknown as { type: 'any' };
    expect((await rejection(zk.removeWatches('/', undefined, bad))).code).toBe('BADARGUMENTS');
  });
});

describe('lastZxid', () => {
  it('is the highest zxid the client has seen, and never goes back', async () => {
    const svc = deploy();
    const [a, b] = await Promise.all([svc.connect(), svc.connect()]);
    const seen = [a.lastZxid];
    let last = 0;
    for (let i = 0; i < 5; i++) last = (await b.createWithStat(`/n${i}`)).stat.czxid;
    seen.push(a.lastZxid);
    // Nothing of b's writes comes on a's channel, but reading b's newest node makes a learn a
    // watermark that covers it.
    expect((await a.getData('/n4')).stat.czxid).toBe(last);
    expect(a.lastZxid).toBeGreaterThanOrEqual(last);
    seen.push(a.lastZxid);
    await a.sync('/');
    seen.push(a.lastZxid);
    const { stat } = await a.createWithStat('/mine');
    seen.push(a.lastZxid);
    // Nothing was written after a's create: its reply is the newest thing a has seen.
    expect(a.lastZxid).toBe(stat.czxid);
    expect(seen).toEqual([...seen].sort((x, y) => x - y));
  });
});

describe('typed replies', () => {
  it('fails a request whose reply is of another kind with SYSTEMERROR instead of casting it', async () => {
    const svc = deploy(replyRewritten('setData', { type: 'delete' }));
    const zk = await svc.connect();
    expect(zk).toBeInstanceOf(FaaSKeeperClient);
    await zk.create('/p', 'x');
    const error = await rejection(zk.setData('/p', 'y'));
    expect(error.code).toBe('SYSTEMERROR');
    expect(error.message).toMatch(/setData request got a delete reply/);
    // The client goes on: later requests are answered as usual.
    expect(await zk.create('/q')).toBe('/q');
  });

  it('registers no watch when a watched read gets a reply of another kind', async () => {
    const svc = deploy(replyRewritten('read', { type: 'sync' }));
    const zk = await svc.connect();
    await zk.create('/p');
    const w = recorder();
    expect((await rejection(zk.getData('/p', { watch: w.watcher }))).code).toBe('SYSTEMERROR');
    expect((await rejection(zk.removeWatches('/p', w.watcher))).code).toBe('NOWATCHER');
    await zk.setData('/p', 'changed');
    await zk.sync('/');
    expect(w.events).toEqual([]);
  });
});
