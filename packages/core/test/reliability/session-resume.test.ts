// A session handed over to another client (a ZooKeeper client reconnecting through another gateway
// process): the session, its ephemerals and its watch registrations stay, the replaced client's
// requests are refused (SESSIONMOVED) without effect and without using up a seq, and the new client
// numbers on in FIFO order. See docs/guarantees.md "Sessions" and session/resume.ts.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  encodeMessage,
  type FaaSKeeperClient,
  FaaSKeeperError,
  ManualClock,
  type MemoryChannel,
  PROTOCOL_VERSION,
  type SessionItem,
  settle,
  type WatchedEvent,
  WRITER_GROUP,
  type WriteRequest,
} from '../../src/index.js';
import { signRequest } from '../../src/session/auth.js';

type Service = ReturnType<typeof createEmbeddedService>;

/** The key of the tests' sessions: a resumer needs it, as a gateway derives it from its secret. */
const KEY = new Uint8Array(32).fill(7);

async function sessionItem(service: Service, session: string): Promise<SessionItem | undefined> {
  return (await service.ports.systemStore.get<SessionItem>({ kind: 'session', id: session }))?.value;
}

/** Sends a request as the session's first incarnation would (the replaced client), straight to the writer. */
async function sendAsReplaced(service: Service, session: number, seq: number, op: WriteRequest['op']) {
  const request: WriteRequest = { v: PROTOCOL_VERSION, id: `stale:${session}:${seq}`, session, seq, op };
  await service.ports.writerQueue.send([
    { body: signRequest(KEY, encodeMessage(request)), group: WRITER_GROUP, dedupId: request.id },
  ]);
  await settle(20);
}

const codeOf = (e: unknown) => (e instanceof FaaSKeeperError ? e.code : String(e));

describe('a session resumed by another client', () => {
  let service: Service;
  beforeEach(() => {
    service = createEmbeddedService({ clock: new ManualClock(), operationTimeoutMs: 5_000 });
  });
  afterEach(async () => {
    await service.close();
  });

  const resume = (a: FaaSKeeperClient) =>
    service.connect({ sessionId: a.sessionNumber, resume: true, sessionKey: KEY, sessionTimeoutMs: 10_000 });

  it('a session resumed by another client keeps its ephemerals and watches', async () => {
    const a = await service.connect({ sessionKey: KEY });
    const other = await service.connect({ sessionKey: KEY });
    await a.create('/e', 'mine', { mode: 'EPHEMERAL' });
    await a.create('/w', 'v0');
    const aEvents: WatchedEvent[] = [];
    await a.getData('/w', { watch: (e) => aEvents.push(e) });
    const b = await resume(a);
    expect(b.sessionId).toBe(a.sessionId);
    expect(b.incarnation).not.toBe(0);
    await settle(20);
    // The replaced client learns it: its session went elsewhere.
    expect(a.state).toBe('EXPIRED');
    expect((await b.exists('/e'))?.ephemeralOwner).toBe(a.sessionNumber);
    // The writer kept the session's registration on /w: the new client re-arms its watcher there
    // (as the gateway does from the ZooKeeper client's setWatches) and gets the event once.
    const stored = await service.ports.systemStore.get<{ dataWatches?: number[] }>({
      kind: 'node',
      id: '/w',
    });
    expect(stored?.value.dataWatches).toContain(a.sessionNumber);
    const bEvents: WatchedEvent[] = [];
    await b.exists('/w', { watch: (e) => bEvents.push(e) });
    await other.setData('/w', 'v1');
    await b.sync('/');
    await settle(20);
    expect(bEvents).toEqual([{ type: 'NodeDataChanged', path: '/w' }]);
    expect(aEvents).toEqual([]);
    // The session still owns its ephemeral, until the new client closes it.
    expect((await other.exists('/e'))?.ephemeralOwner).toBe(a.sessionNumber);
    await b.close();
    await other.sync('/');
    expect(await other.exists('/e')).toBeNull();
    expect((service.ports.channel as MemoryChannel).size).toBe(1); // only `other`'s channel is left
  });

  it('requests of the replaced incarnation are refused with SESSIONMOVED and change nothing', async () => {
    const a = await service.connect({ sessionKey: KEY });
    await a.create('/n', 'v0');
    const b = await resume(a);
    await settle(20);
    expect(codeOf(await a.create('/x').catch((e: unknown) => e))).toBe('SESSIONEXPIRED');
    // A request of the old incarnation that still reaches the writer (sent before the client learnt it
    // was replaced) is dropped: no node, no renewal, and its seq is not used up.
    const before = (await sessionItem(service, b.sessionId))!;
    await sendAsReplaced(service, a.sessionNumber, before.lastSeq + 1, {
      type: 'create',
      path: '/x',
      data: new Uint8Array(),
      mode: 'PERSISTENT',
    });
    await sendAsReplaced(service, a.sessionNumber, before.lastSeq + 2, {
      type: 'setData',
      path: '/n',
      data: new TextEncoder().encode('stale'),
      version: -1,
    });
    const after = (await sessionItem(service, b.sessionId))!;
    expect(after.lastSeq).toBe(before.lastSeq);
    expect(after.expiresAt).toBe(before.expiresAt);
    expect(await b.exists('/x')).toBeNull();
    expect((await b.getData('/n')).stat.version).toBe(0);
    // The new incarnation numbers on from the writer's lastSeq: its requests are applied.
    await b.setData('/n', 'v1');
    expect((await sessionItem(service, b.sessionId))!.lastSeq).toBe(before.lastSeq + 1);
  });

  it("the old incarnation's close does not end the session", async () => {
    const a = await service.connect({ sessionKey: KEY });
    await a.create('/e', '', { mode: 'EPHEMERAL' });
    const b = await resume(a);
    await settle(20);
    // The replaced client's own close ends only that client.
    await a.close();
    expect(a.state).toBe('CLOSED');
    // And a close request of the old incarnation that reaches the writer is refused.
    const { lastSeq } = (await sessionItem(service, b.sessionId))!;
    await sendAsReplaced(service, a.sessionNumber, lastSeq + 1, { type: 'closeSession' });
    await b.sync('/');
    expect(b.state).toBe('CONNECTED');
    expect(await sessionItem(service, b.sessionId)).toBeDefined();
    expect((await b.exists('/e'))?.ephemeralOwner).toBe(a.sessionNumber);
  });

  it('FIFO order holds across the hand-over', async () => {
    const a = await service.connect({ sessionKey: KEY });
    await a.create('/f', '0');
    // The old client's requests still in flight when the session is resumed: each is applied before
    // the resume or refused, never after the new client's.
    const fromA = Array.from({ length: 8 }, (_, i) =>
      a.setData('/f', `a${i}`).then(
        () => 'applied',
        (e: unknown) => codeOf(e),
      ),
    );
    const b = await resume(a);
    const fromB = Array.from({ length: 8 }, (_, i) => b.setData('/f', `b${i}`));
    const stats = await Promise.all(fromB);
    const outcomes = await Promise.all(fromA);
    const applied = outcomes.filter((o) => o === 'applied').length;
    // Applied ones are a prefix of A's requests, the rest refused.
    expect(outcomes).toEqual([
      ...Array<string>(applied).fill('applied'),
      ...Array<string>(8 - applied).fill('SESSIONMOVED'),
    ]);
    expect(stats.map((s) => s.version)).toEqual(Array.from({ length: 8 }, (_, i) => applied + i + 1));
    const final = await b.getData('/f');
    expect(new TextDecoder().decode(final.data)).toBe('b7');
  });

  it("a malformed request uses up its seq only when it is the current incarnation's", async () => {
    const a = await service.connect({ sessionKey: KEY });
    const b = await resume(a);
    const send = async (seq: number, inc: number | undefined) => {
      const body = JSON.stringify({
        v: PROTOCOL_VERSION,
        id: `bad:${seq}:${inc}`,
        session: a.sessionNumber,
        seq,
        ...(inc === undefined ? {} : { inc }),
        op: { type: 'nonsense' },
      });
      await service.ports.writerQueue.send([
        { body: signRequest(KEY, body), group: WRITER_GROUP, dedupId: `bad:${seq}:${inc}` },
      ]);
      await settle(20);
    };
    const { lastSeq } = (await sessionItem(service, b.sessionId))!;
    await send(lastSeq + 1, undefined);
    expect((await sessionItem(service, b.sessionId))!.lastSeq).toBe(lastSeq);
    await send(lastSeq + 1, b.incarnation);
    expect((await sessionItem(service, b.sessionId))!.lastSeq).toBe(lastSeq + 1);
  });

  it('a redelivered resume of a replaced incarnation does not hand the session back', async () => {
    const a = await service.connect({ sessionKey: KEY });
    const b = await resume(a);
    const c = await resume(a);
    await settle(20);
    expect(b.state).toBe('EXPIRED');
    // B's resume again, as a retried writer batch would apply it.
    const request: WriteRequest = {
      v: PROTOCOL_VERSION,
      id: `again:${b.incarnation}`,
      session: a.sessionNumber,
      seq: 1,
      inc: b.incarnation,
      op: { type: 'resumeSession', incarnation: b.incarnation },
    };
    await service.ports.writerQueue.send([
      { body: signRequest(KEY, encodeMessage(request)), group: WRITER_GROUP, dedupId: request.id },
    ]);
    await settle(20);
    expect((await sessionItem(service, c.sessionId))!.incarnation).toBe(c.incarnation);
    await c.create('/still-c');
    expect(c.state).toBe('CONNECTED');
  });

  it("the replaced incarnation's channel stays for its notice, and goes with the session at the latest", async () => {
    const removed: string[] = [];
    /** The secret tag each incarnation's client subscribed with, by `session:incarnation`. */
    const tags = new Map<string, string>();
    let memory: MemoryChannel | undefined;
    const spied = createEmbeddedService({
      clock: new ManualClock(),
      wrap: {
        channel: (inner) => {
          memory = inner as MemoryChannel;
          return {
            maxMessageBytes: inner.maxMessageBytes,
            send: (session, messages, inc, tag) => inner.send(session, messages, inc, tag),
            subscribe: (session, onMessages, inc, tag) => {
              if (tag !== undefined) tags.set(`${session}:${inc ?? 0}`, tag);
              return inner.subscribe(session, onMessages, inc, tag);
            },
            remove: async (session, inc, tag) => {
              removed.push(`${session}:${inc ?? 0}:${tag === undefined ? 'bootstrap' : 'secret'}`);
              await inner.remove(session, inc, tag);
            },
          };
        },
      },
    });
    const secretOnes = () => removed.filter((r) => r.endsWith(':secret')).sort();
    try {
      const a = await spied.connect({ sessionKey: KEY });
      // A's deliveries are held: it never reads its MOVED notice (a client that went away).
      memory!.hold(a.sessionNumber, 0, tags.get(`${a.sessionNumber}:0`));
      const b = await spied.connect({ sessionId: a.sessionNumber, resume: true, sessionKey: KEY });
      await b.sync('/');
      expect(secretOnes()).toEqual([]); // the notice waits in A's channel
      // Each client removed its bootstrap channel once it had its channel key.
      await settle(20);
      expect(removed.sort()).toEqual(
        [`${a.sessionNumber}:0:bootstrap`, `${a.sessionNumber}:${b.incarnation}:bootstrap`].sort(),
      );
      await b.close();
      await settle(20);
      // The session's end removes B's channel and the one A never removed.
      expect(secretOnes()).toEqual(
        [`${a.sessionNumber}:${b.incarnation}:secret`, `${a.sessionNumber}:0:secret`].sort(),
      );
    } finally {
      await spied.close();
    }
  });

  it('a resume of a session that ended, or never was, is answered SESSIONEXPIRED', async () => {
    const a = await service.connect({ sessionKey: KEY });
    await a.close();
    const refused = await resume(a).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('SESSIONEXPIRED');
    const unknown = await service
      .connect({ sessionId: 123_456_789, resume: true, sessionKey: KEY })
      .catch((e: unknown) => e);
    expect(codeOf(unknown)).toBe('SESSIONEXPIRED');
    // The refused resumers leave no channel behind.
    await settle(20);
    expect((service.ports.channel as MemoryChannel).size).toBe(0);
  });
});
