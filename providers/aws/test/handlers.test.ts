// The Lambda handlers on in-memory ports: SQS events in, partial batch responses out, and the
// configuration they read from environment variables. No emulator needed.
import {
  bootstrap,
  decodeMessage,
  encodeMessage,
  encodeSessionKey,
  ManualClock,
  newSessionKey,
  type SessionItem,
  signRequest,
  type WriteRequest,
} from '@faaskeeper/core';
import { describe, expect, it } from 'vitest';
import { configFromEnv, configToEnv } from '../src/config.js';
import {
  createDistributorHandler,
  createHeartbeatHandler,
  createWriterHandler,
} from '../src/handlers/index.js';
import type { SqsEvent } from '../src/handlers/lambda-types.js';
import { memoryAwsPorts, prodConfig } from './memory-ports.js';

function event(bodies: string[]): SqsEvent {
  return {
    Records: bodies.map((body, i) => ({
      messageId: `id-${i}`,
      receiptHandle: `r-${i}`,
      body,
      attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'writer' },
      messageAttributes: {},
      eventSource: 'aws:sqs',
    })),
  };
}

const KEY = newSessionKey();

/** A signed openSession of `session`, as its client sends it. */
const openSession = (session: number): string =>
  signRequest(
    KEY,
    encodeMessage({
      v: 1,
      id: `${session}:1`,
      session,
      seq: 1,
      op: { type: 'openSession', timeoutMs: 10_000, key: encodeSessionKey(KEY) },
    } satisfies WriteRequest),
  );

const config = prodConfig;

describe('Lambda handlers', () => {
  it('the writer answers a malformed message and commits the valid one, failing nothing (no poison blocks the queue)', async () => {
    const p = memoryAwsPorts();
    await bootstrap(p.systemStore, p.userStore);
    const got: string[] = [];
    await p.channel.subscribe(5, (messages) => got.push(...messages));
    const writer = createWriterHandler({ ports: p, config });
    const response = await writer(event(['not json at all', openSession(5)]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect((await p.systemStore.get<SessionItem>({ kind: 'session', id: '5' }))?.value.id).toBe(5);
    // Distributed in the writer's invocation: the reply is on the channel, the distributor queue empty.
    expect(got).toHaveLength(1);
    expect(await p.distributorQueue.receive({ max: 10, visibilityTimeoutMs: 1000 })).toEqual([]);
  });

  it('the distributor applies a batch from its queue and replies on the session channel', async () => {
    const p = memoryAwsPorts();
    await bootstrap(p.systemStore, p.userStore);
    const got: string[] = [];
    await p.channel.subscribe(5, (messages) => got.push(...messages));
    await createWriterHandler({ ports: p, config, distribution: 'queue' })(event([openSession(5)]));
    const [batch] = await p.distributorQueue.receive({ max: 10, visibilityTimeoutMs: 1000 });
    const response = await createDistributorHandler({ ports: p, config })(event([batch!.body]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(got).toHaveLength(1);
    expect(decodeMessage<{ body: { type: string } }>(got[0]!).body.type).toBe('reply');
  });

  it('the heartbeat expires a silent session through the writer queue', async () => {
    const p = memoryAwsPorts();
    const clock = new ManualClock();
    await bootstrap(p.systemStore, p.userStore);
    await createWriterHandler({ ports: p, config, clock })(event([openSession(9)]));
    await clock.advance(10_000 + 500 + 1);
    await createHeartbeatHandler({ ports: p, config, clock })({ source: 'aws.events' });
    const [request] = await p.writerQueue.receive({ max: 10, visibilityTimeoutMs: 1000 });
    expect(decodeMessage<WriteRequest>(request!.body).op).toEqual({ type: 'expireSession', target: 9 });
  });

  it('reads its configuration from environment variables, naming a missing one', () => {
    const env = configToEnv(config);
    expect(env.FAASKEEPER_SYSTEM_TABLE).toBe('faaskeeper-prod-system');
    expect(configFromEnv(env)).toEqual(config);
    const { FAASKEEPER_WRITER_QUEUE_URL: _, ...missing } = env;
    expect(() => configFromEnv(missing)).toThrow('FAASKEEPER_WRITER_QUEUE_URL');
  });
});
