// A session's requests reach the writer with every seq, without gaps, even when a request is refused
// or given up unsent. A writer that admits a session's requests strictly in seq order (GCP's push
// order guard waits for lastSeq + 1) would otherwise wait forever after such a request.
import { limitTransactionItems } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  decodeMessage,
  type FaaSKeeperError,
  ManualClock,
  type Queue,
  type SessionItem,
  settle,
  type WriteRequest,
} from '../../src/index.js';

async function lastSeqOf(
  service: ReturnType<typeof createEmbeddedService>,
  session: string,
): Promise<number> {
  const item = await service.ports.systemStore.get({ kind: 'session', id: session });
  if (item === undefined) throw new Error(`no session item for ${session}`);
  return (item.value as SessionItem).lastSeq;
}

describe('session seq numbers reach the writer without gaps', () => {
  it('a refused request uses up its seq, as an applied one does', async () => {
    const service = createEmbeddedService({
      clock: new ManualClock(),
      wrap: { systemStore: (inner) => limitTransactionItems(inner, 25) },
    });
    try {
      const zk = await service.connect();
      await zk.create('/l');
      const before = await lastSeqOf(service, zk.sessionId);
      const refused = await zk
        .multi(Array.from({ length: 40 }, (_, i) => ({ op: 'create' as const, path: `/l/${i}` })))
        .catch((e: unknown) => e);
      expect((refused as FaaSKeeperError).code).toBe('BADARGUMENTS');
      // The refusal was committed with the session's lastSeq moved past the refused request.
      expect(await lastSeqOf(service, zk.sessionId)).toBe(before + 1);
      await zk.sync('/');
      expect(await lastSeqOf(service, zk.sessionId)).toBe(before + 2);
    } finally {
      await service.close();
    }
  });

  it('a request given up unsent goes out as a ping of the same seq, so the next one is not held', async () => {
    const clock = new ManualClock();
    let failing = false;
    const sent: WriteRequest[] = [];
    const flaky = (inner: Queue): Queue => ({
      name: inner.name,
      capabilities: inner.capabilities,
      send: async (messages) => {
        if (failing) throw new Error('injected: the writer queue is unreachable');
        await inner.send(messages);
        for (const m of messages) sent.push(decodeMessage<WriteRequest>(m.body));
      },
      receive: (options) => inner.receive(options),
      ack: (receipts) => inner.ack(receipts),
      release: (receipts) => inner.release(receipts),
    });
    const service = createEmbeddedService({ clock, operationTimeoutMs: 5_000, wrap: { writerQueue: flaky } });
    try {
      const zk = await service.connect();
      await zk.create('/a', 'v0');
      failing = true;
      const lost = zk.setData('/a', 'never').catch((e: unknown) => e);
      for (let t = 0; t < 6_000; t += 500) {
        await clock.advance(500);
        await settle(5);
      }
      expect(((await lost) as FaaSKeeperError).code).toBe('CONNECTIONLOSS');
      failing = false;
      await zk.sync('/');
      const mine = sent.filter((r) => String(r.session) === zk.sessionId);
      const seqs = mine.map((r) => r.seq);
      // Every seq from the first request on, in order, each once: the given-up one as a ping.
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => (seqs[0] as number) + i));
      const givenUp = mine.find(
        (r) => r.op.type === 'ping' && r.seq === (seqs[seqs.length - 1] as number) - 1,
      );
      expect(givenUp, 'the given-up request was sent as a ping of its seq').toBeDefined();
      expect((await zk.getData('/a')).data).toEqual(new TextEncoder().encode('v0'));
    } finally {
      await service.close();
    }
  });
});
