// Who retries what on AWS: the SDK retries throttling, 5xx and network failures (3 attempts, set
// explicitly); the adapters' loops, on the injected clock, retry only what the SDK does not
// (transaction conflicts, unprocessed BatchGetItem keys). No failure is retried by both.
import {
  BatchGetItemCommand,
  type DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TransientError } from '@faaskeeper/core';
import { WaitRecordingClock } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { createAwsClients, dynamoDbClientOf, SDK_MAX_ATTEMPTS } from '../src/aws-clients.js';
import { DynamoDbSystemStore } from '../src/dynamodb-system-store.js';

/** A DynamoDB client that answers each command with `answer` (a thrown value is thrown). */
function fakeDynamoDb(answer: (command: unknown) => unknown): { client: DynamoDBClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      sent.push(command);
      return answer(command);
    },
  } as unknown as DynamoDBClient;
  return { client, sent };
}

/** An SDK service exception as the DynamoDB client throws it. */
function awsError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(name), { name, $metadata: { httpStatusCode: 400 }, ...fields });
}

const twoPuts = [
  { kind: 'node', id: '/a', type: 'put', value: { n: 1 }, expect: 'any' },
  { kind: 'node', id: '/b', type: 'put', value: { n: 2 }, expect: 'any' },
] as const;

describe('DynamoDB system store retries', () => {
  it('retries a transaction cancelled by a conflict conflictRetries times on its clock, then surfaces it', async () => {
    const clock = new WaitRecordingClock();
    const { client, sent } = fakeDynamoDb(() => {
      throw awsError('TransactionCanceledException', {
        CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
      });
    });
    const store = new DynamoDbSystemStore({ client, table: 't', conflictRetries: 3, clock });
    const failure = await store.transact([...twoPuts]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransientError);
    expect(String(failure)).toMatch(/TransactionConflict/);
    expect(sent.filter((c) => c instanceof TransactWriteItemsCommand)).toHaveLength(4);
    // Three back-offs on the injected clock, doubling from 5–10 ms, jittered.
    expect(clock.waits).toHaveLength(3);
    clock.waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(5 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(10 * 2 ** i);
    });
  });

  it('commits a transaction once the conflict clears', async () => {
    const clock = new WaitRecordingClock();
    let calls = 0;
    const { client } = fakeDynamoDb(() => {
      calls++;
      if (calls <= 2)
        throw awsError('TransactionCanceledException', {
          CancellationReasons: [{ Code: 'None' }, { Code: 'TransactionConflict' }],
        });
      return {};
    });
    const store = new DynamoDbSystemStore({ client, table: 't', clock });
    await store.transact([...twoPuts]);
    expect(calls).toBe(3);
    expect(clock.waits).toHaveLength(2);
  });

  it('retries a single write that conflicted with a transaction (TransactionConflictException)', async () => {
    const clock = new WaitRecordingClock();
    let calls = 0;
    const { client } = fakeDynamoDb((command) => {
      expect(command).toBeInstanceOf(UpdateItemCommand);
      calls++;
      if (calls === 1) throw awsError('TransactionConflictException');
      return {};
    });
    const store = new DynamoDbSystemStore({ client, table: 't', clock });
    await store.transact([twoPuts[0]]);
    expect(calls).toBe(2);
    expect(clock.waits).toHaveLength(1);
  });

  it('does not retry throttling the SDK already retried: one call, then TransientError', async () => {
    const clock = new WaitRecordingClock();
    const { client, sent } = fakeDynamoDb(() => {
      throw awsError('ThrottlingException', { $metadata: { httpStatusCode: 400 } });
    });
    const store = new DynamoDbSystemStore({ client, table: 't', clock });
    await expect(store.transact([...twoPuts])).rejects.toBeInstanceOf(TransientError);
    expect(sent).toHaveLength(1);
    expect(clock.waits).toHaveLength(0);
  });

  it('asks again for keys BatchGetItem left unprocessed, with back-off on its clock', async () => {
    const clock = new WaitRecordingClock();
    const item = (id: string) => ({
      pk: { S: 'node' },
      sk: { S: id },
      version: { N: '1' },
      value: { S: '1' },
    });
    let calls = 0;
    const { client } = fakeDynamoDb((command) => {
      expect(command).toBeInstanceOf(BatchGetItemCommand);
      calls++;
      const keys = (command as BatchGetItemCommand).input.RequestItems?.t?.Keys ?? [];
      // The first answer serves one key and leaves the rest unprocessed.
      if (calls === 1)
        return { Responses: { t: [item('/a')] }, UnprocessedKeys: { t: { Keys: keys.slice(1) } } };
      return { Responses: { t: keys.map((k) => item(k.sk?.S ?? '')) } };
    });
    const store = new DynamoDbSystemStore({ client, table: 't', clock });
    const found = await store.getMany([
      { kind: 'node', id: '/a' },
      { kind: 'node', id: '/b' },
    ]);
    expect(found.map((f) => f?.id)).toEqual(['/a', '/b']);
    expect(calls).toBe(2);
    expect(clock.waits).toEqual([10]);
  });

  it('gives up on keys still unprocessed after 10 requests', async () => {
    const clock = new WaitRecordingClock();
    const { client, sent } = fakeDynamoDb((command) => ({
      Responses: { t: [] },
      UnprocessedKeys: { t: { Keys: (command as BatchGetItemCommand).input.RequestItems?.t?.Keys } },
    }));
    const store = new DynamoDbSystemStore({ client, table: 't', clock });
    await expect(store.getMany([{ kind: 'node', id: '/a' }])).rejects.toThrow(/unprocessed/);
    expect(sent).toHaveLength(10);
    expect(clock.waits).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560]);
  });
});

describe('AWS SDK retry settings', () => {
  it("every client the provider builds makes the chosen number of attempts; a caller's config may set its own", async () => {
    const clients = createAwsClients({ region: 'us-east-1', dynamodb: 'http://127.0.0.1:1' });
    try {
      for (const client of [clients.dynamodb, clients.s3, clients.sqs]) {
        expect(await client.config.maxAttempts()).toBe(SDK_MAX_ATTEMPTS);
      }
    } finally {
      clients.destroy();
    }
    const own = dynamoDbClientOf({ config: { region: 'us-east-1', maxAttempts: 1 } });
    expect(await own.config.maxAttempts()).toBe(1);
    own.destroy();
  });
});
