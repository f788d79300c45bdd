// Errors the functions and the runtime cannot throw to a caller are logged once with their cause
// (issue 11): a batch the distributor drops, a poll that fails. Before the Logger port, both
// vanished through optional no-op callbacks.
import { describe, expect, it } from 'vitest';
import {
  createEmbeddedService,
  DISTRIBUTOR_GROUP,
  errorFields,
  jsonLogger,
  MemoryLogger,
  MemoryQueue,
  MemoryRuntime,
  type Queue,
} from '../../src/index.js';

async function until(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('errors that reach no caller are logged', () => {
  it('a dropped batch is logged, once, with its cause', async () => {
    const logger = new MemoryLogger();
    const service = createEmbeddedService({ logger });
    try {
      await service.ready;
      // Only the writer sends here; a body that is not a batch is what a bug would send.
      await service.ports.distributorQueue.send([
        { body: '{"not":"a batch"}', group: DISTRIBUTOR_GROUP, dedupId: 'garbage-1' },
      ]);
      const dropped = () => logger.lines.filter((l) => l.message.includes('dropped an unreadable batch'));
      await until(() => dropped().length > 0);
      // The deployment goes on: a client still gets its writes applied after the dropped batch.
      const zk = await service.connect();
      await zk.create('/after', new Uint8Array([1]));
      expect((await zk.getData('/after')).data).toEqual(new Uint8Array([1]));
      expect(dropped()).toHaveLength(1);
      const [line] = dropped();
      expect(line?.level).toBe('error');
      expect(line?.fields.function).toBe('distributor');
      expect(String(line?.fields.error)).toMatch(/batch/i);
    } finally {
      await service.close();
    }
  });

  it('a failing poll is logged with its cause, and the poller goes on', async () => {
    const logger = new MemoryLogger();
    const inner = new MemoryQueue('jobs');
    let failuresLeft = 1;
    // A queue whose first receive fails as an unreachable service would.
    const flaky: Queue = {
      name: inner.name,
      capabilities: inner.capabilities,
      send: (m) => inner.send(m),
      receive: async (o) => {
        if (failuresLeft-- > 0) throw new Error('connect ECONNREFUSED 127.0.0.1:9324');
        return inner.receive(o);
      },
      ack: (r) => inner.ack(r),
      release: (r) => inner.release(r),
    };
    const runtime = new MemoryRuntime({ logger });
    const handled: string[] = [];
    runtime.bindQueue(
      flaky,
      async (messages) => {
        handled.push(...messages.map((m) => m.body));
        return { failed: [] };
      },
      { functionName: 'worker', batchSize: 10, timeoutMs: 1000 },
    );
    try {
      await inner.send([{ body: 'job-1', group: 'g', dedupId: 'j1' }]);
      await until(() => handled.length > 0);
      expect(handled).toEqual(['job-1']);
      const polls = logger.lines.filter((l) => l.message.startsWith('poll failed'));
      expect(polls).toHaveLength(1);
      expect(polls[0]?.level).toBe('error');
      expect(polls[0]?.fields).toMatchObject({
        function: 'worker',
        queue: 'jobs',
        error: { name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9324' },
      });
    } finally {
      await runtime.close();
    }
  });

  it('a failed scheduled run is logged and the schedule goes on', async () => {
    const logger = new MemoryLogger();
    const runtime = new MemoryRuntime({ logger });
    let runs = 0;
    runtime.schedule('heartbeat', 5, async () => {
      runs++;
      if (runs === 1) throw new Error('system store unavailable');
    });
    try {
      await until(() => runs >= 2);
      const failed = logger.lines.filter((l) => l.message.startsWith('scheduled run failed'));
      expect(failed).toHaveLength(1);
      expect(failed[0]?.fields).toMatchObject({
        function: 'heartbeat',
        error: { message: 'system store unavailable' },
      });
    } finally {
      await runtime.close();
    }
  });
});

describe('jsonLogger', () => {
  it('writes one JSON object per line with level, severity and fields, skipping lines below its level', () => {
    const lines: string[] = [];
    const logger = jsonLogger({
      level: 'warn',
      fields: { service: 'faaskeeper' },
      write: (l) => lines.push(l),
      now: () => 0,
    });
    logger.info('not written');
    logger.warn('poll failed', { function: 'writer', attempt: 2 });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({
      time: '1970-01-01T00:00:00.000Z',
      level: 'warn',
      severity: 'WARN',
      message: 'poll failed',
      service: 'faaskeeper',
      function: 'writer',
      attempt: 2,
    });
  });

  it('spells out an error with its chain of causes, and survives a value JSON cannot hold', () => {
    const lines: string[] = [];
    const logger = jsonLogger({ write: (l) => lines.push(l) });
    const sdk = Object.assign(new Error('ThrottlingException'), { code: 'Throttling' });
    logger.error('commit failed', errorFields(new Error('dynamodb.transact failed', { cause: sdk })));
    const entry = JSON.parse(lines[0] as string) as { error: Record<string, unknown> };
    expect(entry.error.message).toBe('dynamodb.transact failed');
    expect(entry.error.cause).toMatchObject({ message: 'ThrottlingException', code: 'Throttling' });
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.error('odd', { cycle });
    expect(JSON.parse(lines[1] as string)).toMatchObject({ message: 'odd', level: 'error' });
  });
});
