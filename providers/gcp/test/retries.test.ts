// Who retries what on GCP: a Datastore transaction is retried by the store's loop alone, on its
// clock (its lookups are made with the library's retries off); pulls are never retried by the
// library, because the channel and the core's poller retry them.
import { PortError, TransientError } from '@faaskeeper/core';
import { WaitRecordingClock } from '@faaskeeper/core/testkit';
import { Datastore } from '@google-cloud/datastore';
import { describe, expect, it } from 'vitest';
import { DatastoreSystemStore } from '../src/datastore-system-store.js';
import { type PubSubClients, pull } from '../src/pubsub-client.js';

/**
 * A Datastore whose keys are real (made locally) and whose transactions are fakes: every lookup
 * finds nothing, and each commit throws what `commit` returns (or succeeds on `undefined`).
 */
function fakeDatastore(commit: (n: number) => unknown) {
  const datastore = new Datastore({ projectId: 'retries', apiEndpoint: '127.0.0.1:1' });
  const lookups: unknown[] = [];
  let commits = 0;
  let rollbacks = 0;
  Object.assign(datastore, {
    transaction: () => ({
      run: async () => [],
      get: async (_keys: unknown, options: unknown) => {
        lookups.push(options);
        return [[]];
      },
      save: () => undefined,
      delete: () => undefined,
      commit: async () => {
        const failure = commit(++commits);
        if (failure !== undefined) throw failure;
        return [];
      },
      rollback: async () => {
        rollbacks++;
        return [];
      },
    }),
  });
  return { datastore, lookups, commits: () => commits, rollbacks: () => rollbacks };
}

const grpcError = (code: number, message: string) => Object.assign(new Error(message), { code });
const put = { kind: 'node', id: '/a', type: 'put', value: { n: 1 }, expect: 'any' } as const;

describe('Datastore system store retries', () => {
  it('retries a transaction aborted by contention maxAttempts times on its clock, then gives up', async () => {
    const clock = new WaitRecordingClock();
    const fake = fakeDatastore(() => grpcError(10, 'ABORTED: too much contention'));
    const store = new DatastoreSystemStore({ datastore: fake.datastore, maxAttempts: 4, clock });
    const failure = await store.transact([put]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransientError);
    expect(String(failure)).toMatch(/gave up after 4 attempts \(contention\)/);
    expect(fake.commits()).toBe(4);
    expect(fake.rollbacks()).toBe(4);
    // Three back-offs on the injected clock: 5 ms doubling, each drawn from [½, 1] of it.
    expect(clock.waits).toHaveLength(3);
    clock.waits.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(2.5 * 2 ** i);
      expect(ms).toBeLessThanOrEqual(5 * 2 ** i);
    });
    // The library retried none of the transaction's lookups: the loop above is the only retry.
    expect(fake.lookups).toHaveLength(4);
    for (const options of fake.lookups) expect(options).toEqual({ gaxOptions: { retry: null } });
  });

  it('commits once the contention clears', async () => {
    const clock = new WaitRecordingClock();
    const fake = fakeDatastore((n) => (n <= 2 ? grpcError(10, 'ABORTED') : undefined));
    const store = new DatastoreSystemStore({ datastore: fake.datastore, clock });
    await store.transact([put]);
    expect(fake.commits()).toBe(3);
    expect(clock.waits).toHaveLength(2);
  });

  it('does not retry a failure that is not transient', async () => {
    const clock = new WaitRecordingClock();
    const fake = fakeDatastore(() => grpcError(3, 'INVALID_ARGUMENT: bad entity'));
    const store = new DatastoreSystemStore({ datastore: fake.datastore, clock });
    const failure = await store.transact([put]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PortError);
    expect(failure).not.toBeInstanceOf(TransientError);
    expect(fake.commits()).toBe(1);
    expect(clock.waits).toHaveLength(0);
  });
});

describe('Pub/Sub pull retries', () => {
  it('makes every pull, long or short, with the library retries off', async () => {
    const calls: unknown[] = [];
    const subscriber = {
      pull: (_request: unknown, options: unknown) => {
        calls.push(options);
        return Promise.resolve([{ receivedMessages: [] }]);
      },
    };
    const clients = { subscriber } as unknown as PubSubClients;
    await pull(clients, 'projects/p/subscriptions/s', 10, 0).result;
    await pull(clients, 'projects/p/subscriptions/s', 10, 5000).result;
    expect(calls).toEqual([{ retry: null }, { timeout: 5000, retry: null }]);
  });
});
