/*
 * ZooKeeper's client hands over the reply of a read that set a watch before any event of that
 * watch (and keeps every event in channel order). Here the watched read and the change that fires
 * its watch are committed in one writer batch, so the distributor sends the read's reply and the
 * event to the reader in one channel delivery; the reader must still see its read answered first.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FaaSKeeperClient } from '../../src/client/client.js';
import type { WatchedEvent } from '../../src/client/types.js';
import { createEmbeddedService, type EmbeddedService } from '../../src/embedded/embedded-service.js';
import type { Channel } from '../../src/ports/channel.js';
import type { OutgoingMessage, Queue } from '../../src/ports/queue.js';
import { decodeMessage } from '../../src/protocol/codec.js';
import { interceptPort } from '../../src/testkit/faults/index.js';

/** The body types of each channel delivery, per session. */
type Deliveries = Map<number, string[][]>;

interface Harness {
  service: EmbeddedService;
  deliveries: Deliveries;
  /**
   * Gathers the next `count` request messages sent to the writer queue (their senders go on as if
   * sent) and hands them to the queue in one send, so that the writer takes them as one batch.
   * `issued` waits until `n` of them have been gathered.
   */
  gather(count: number): { issued(n: number): Promise<void>; sent: Promise<void> };
}

/** An embedded deployment whose writer batches a test can compose, recording channel deliveries. */
function harness(): Harness {
  let gathering: { count: number; messages: OutgoingMessage[]; flush: () => void } | undefined;
  let sendInner: ((messages: OutgoingMessage[]) => Promise<unknown>) | undefined;
  const deliveries: Deliveries = new Map();
  const writerQueue = (q: Queue) =>
    interceptPort(q, ['send'], async (_method, args, call) => {
      sendInner = (messages) => call([messages]);
      const g = gathering;
      if (g === undefined) return call();
      g.messages.push(...(args[0] as OutgoingMessage[]));
      if (g.messages.length >= g.count) g.flush();
      return undefined;
    });
  const channel = (c: Channel) =>
    interceptPort(c, ['subscribe'], (_method, args, call) => {
      const [session, onMessages, incarnation] = args as [number, (m: string[]) => void, number?];
      return call([
        session,
        (messages: string[]) => {
          const types = messages.map((m) => (decodeMessage(m) as { body: { type: string } }).body.type);
          deliveries.set(session, [...(deliveries.get(session) ?? []), types]);
          onMessages(messages);
        },
        incarnation,
      ]);
    });
  // Unsealed, so that the recorder can name each message's type.
  const service = createEmbeddedService({ channelSecret: false, wrap: { writerQueue, channel } });
  return {
    service,
    deliveries,
    gather(count) {
      let flushed!: () => void;
      const sent = new Promise<void>((resolve) => {
        flushed = resolve;
      });
      const g = {
        count,
        messages: [] as OutgoingMessage[],
        flush: () => {
          gathering = undefined;
          void sendInner!(g.messages).then(flushed);
        },
      };
      gathering = g;
      return {
        async issued(n) {
          await until(() => gathering !== g || g.messages.length >= n);
        },
        sent,
      };
    },
  };
}

/** Lets the event loop turn until `done` holds (a bounded wait: a hang fails the test). */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    if (turn > 10_000) throw new Error('the condition never held');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

describe('a watch registered by a read fires only after that read’s reply is delivered', () => {
  let h: Harness;
  let a: FaaSKeeperClient;
  let b: FaaSKeeperClient;
  const start = async () => {
    h = harness();
    a = await h.service.connect();
    b = await h.service.connect();
  };
  afterEach(async () => {
    await h.service.close();
  });
  /** Whether some delivery to `client` held exactly `types` in a row. */
  const deliveredTogether = (client: FaaSKeeperClient, types: string[]) =>
    (h.deliveries.get(client.sessionNumber) ?? []).some((d) => d.join() === types.join());

  it('runs the .then continuation of getData before the watcher, when both come in one delivery', async () => {
    await start();
    await b.create('/g', 'v1');
    const seen: string[] = [];
    const batch = h.gather(2);
    const read = a
      .getData('/g', { watch: (e) => seen.push(`event ${e.type}`) })
      .then((r) => seen.push(`reply ${new TextDecoder().decode(r.data)}`));
    await batch.issued(1);
    const write = b.setData('/g', 'v2');
    await batch.sent;
    await Promise.all([read, write]);
    await until(() => seen.length === 2);
    expect(deliveredTogether(a, ['reply', 'event'])).toBe(true);
    expect(seen).toEqual(['reply v1', 'event NodeDataChanged']);
  });

  it('returns from await exists() before its watch fires for the creation in the same delivery', async () => {
    await start();
    const seen: string[] = [];
    const batch = h.gather(2);
    const read = (async () => {
      const stat = await a.exists('/e', { watch: (e) => seen.push(`event ${e.type}`) });
      seen.push(`reply ${stat === null ? 'none' : 'exists'}`);
    })();
    await batch.issued(1);
    const write = b.create('/e');
    await batch.sent;
    await Promise.all([read, write]);
    await until(() => seen.length === 2);
    expect(deliveredTogether(a, ['reply', 'event'])).toBe(true);
    expect(seen).toEqual(['reply none', 'event NodeCreated']);
  });

  it('resolves addWatch before the persistent watch it adds fires', async () => {
    await start();
    await b.create('/w', 'v1');
    const seen: string[] = [];
    const batch = h.gather(2);
    const added = a
      .addWatch('/w', (e) => seen.push(`event ${e.type}`), 'PERSISTENT')
      .then(() => seen.push('reply'));
    await batch.issued(1);
    const write = b.setData('/w', 'v2');
    await batch.sent;
    await Promise.all([added, write]);
    await until(() => seen.length === 2);
    expect(deliveredTogether(a, ['reply', 'event'])).toBe(true);
    expect(seen).toEqual(['reply', 'event NodeDataChanged']);
  });

  // getChildren lists the children after its reply (docs/scale.md): a listing that already shows
  // the new child is data newer than the change, so that change's event comes first.
  it('delivers the event of a child change before a getChildren whose listing shows it', async () => {
    await start();
    await b.create('/c');
    const seen: string[] = [];
    const batch = h.gather(2);
    const read = a
      .getChildren('/c', { watch: (e) => seen.push(`event ${e.type}`) })
      .then((r) => seen.push(`reply [${r.children.join()}]`));
    await batch.issued(1);
    const write = b.create('/c/x');
    await batch.sent;
    await Promise.all([read, write]);
    await until(() => seen.length === 2);
    expect(deliveredTogether(a, ['reply', 'event'])).toBe(true);
    expect(seen).toEqual(['event NodeChildrenChanged', 'reply [x]']);
  });

  it('keeps every event and reply of the delivery in channel order around the read', async () => {
    await start();
    await b.create('/p', 'p1');
    await b.create('/q', 'q1');
    const seen: string[] = [];
    const log = (who: string) => (e: WatchedEvent) => seen.push(`${who} ${e.type} ${e.path}`);
    await a.addWatch('/q', log('persistent'), 'PERSISTENT');
    const batch = h.gather(5);
    // In one batch: a change the persistent watch sees, the watched read, the change that fires
    // the read's watch, another change the persistent watch sees, and the reader's own write.
    const writes: Promise<unknown>[] = [b.setData('/q', 'q2')];
    await batch.issued(1);
    const read = a.getData('/p', { watch: log('read') }).then(() => seen.push('reply getData'));
    await batch.issued(2);
    writes.push(b.setData('/p', 'p2'));
    await batch.issued(3);
    writes.push(b.setData('/q', 'q3'));
    await batch.issued(4);
    const created = a.create('/mine').then(() => seen.push('reply create'));
    await batch.sent;
    await Promise.all([read, created, ...writes]);
    await until(() => seen.length === 5);
    expect(deliveredTogether(a, ['event', 'reply', 'event', 'event', 'reply'])).toBe(true);
    expect(seen).toEqual([
      'persistent NodeDataChanged /q',
      'reply getData',
      'read NodeDataChanged /p',
      'persistent NodeDataChanged /q',
      'reply create',
    ]);
  });
});
