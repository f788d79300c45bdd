// The push invocation path's own guarantees: a pushed message is acknowledged (2xx) only after it
// was handled, and a redelivery that overtook its predecessor (Pub/Sub keeps no order after a nack)
// is refused until the predecessor was applied.
import {
  type BatchHandler,
  CountingMeter,
  encodeMessage,
  encodeSessionKey,
  newSessionKey,
  PROTOCOL_VERSION,
  type ReceivedMessage,
  type SessionItem,
  signRequest,
  TransientError,
  type WriteRequest,
} from '@faaskeeper/core';
import type { HttpFunction } from '@google-cloud/functions-framework';
import { getFunction } from '@google-cloud/functions-framework/testing';
import { describe, expect, it } from 'vitest';
import {
  configFromEnvironment,
  distributorOrderGuard,
  FUNCTION_METER_KEYS,
  meterInvocation,
  type PushEnvelope,
  pushFunction,
  registerGcpFunctions,
  scheduledFunction,
  writerOrderGuard,
} from '../src/functions/index.js';
import { DatastoreSystemStore, DatastoreUserStore, resourceNames } from '../src/index.js';
import { unique, whenEmulators } from './support.js';

let nextId = 1;
function envelope(body: string, group: string): PushEnvelope {
  return {
    message: {
      data: Buffer.from(body, 'utf8').toString('base64'),
      attributes: { group, dedupId: `d${nextId}` },
      messageId: String(nextId++),
    },
    subscription: 'projects/test/subscriptions/s',
  };
}

/** Invokes an HTTP function as the functions framework would, resolving the status it answered. */
async function invoke(fn: HttpFunction, body: PushEnvelope): Promise<number> {
  return new Promise((resolve, reject) => {
    const res = {
      statusCode: 200,
      status(code: number) {
        this.statusCode = code;
        return this;
      },
      end() {
        resolve(this.statusCode);
        return this;
      },
    };
    Promise.resolve((fn as (req: unknown, res: unknown) => unknown)({ body }, res)).catch(reject);
  });
}

/** The key of the sessions these tests put in the store (their requests are signed with it). */
const KEY = newSessionKey();
/** Session `session`'s sync request number `seq`: as sent (signed with KEY), and unsigned (forged). */
function syncRequests(session: number) {
  const unsigned = (seq: number) =>
    encodeMessage({
      v: PROTOCOL_VERSION,
      id: `${session}:${seq}`,
      session,
      seq,
      op: { type: 'sync', path: '/' },
    });
  return { unsigned, request: (seq: number) => signRequest(KEY, unsigned(seq)) };
}
const batch = (n: number) => encodeMessage({ v: PROTOCOL_VERSION, batch: n, zxid: n, epoch: {}, items: [] });

/** Invokes an HTTP function and waits until it returned (its metering included), resolving the status. */
async function complete(fn: HttpFunction, body: unknown): Promise<number> {
  let status = 200;
  const res = {
    status(code: number) {
      status = code;
      return this;
    },
    end() {
      return this;
    },
  };
  await (fn as (req: unknown, res: unknown) => Promise<unknown>)({ body }, res);
  return status;
}

describe('function metering', () => {
  it('bills an invocation as one request and its duration rounded up to 100 ms at the configured size', () => {
    const meter = new CountingMeter();
    const size = { memoryMiB: 512, vcpu: 2 };
    meterInvocation(meter, 0.4, size); // 100 ms billed
    meterInvocation(meter, 100, size); // 100 ms
    meterInvocation(meter, 100.5, size); // 200 ms
    const totals = meter.snapshot();
    expect(totals[FUNCTION_METER_KEYS.invocations]).toBe(3);
    expect(totals[FUNCTION_METER_KEYS.vcpuSeconds]).toBeCloseTo(0.4 * 2, 9);
    expect(totals[FUNCTION_METER_KEYS.gibSeconds]).toBeCloseTo(0.4 * 0.5, 9);
  });

  it('meters every push and scheduled invocation, a refused one included, on the function meter', async () => {
    const meter = new CountingMeter();
    const functionMeter = new CountingMeter();
    let fail = false;
    const fn = pushFunction(
      async () => {
        if (fail) throw new Error('crashed');
        return { failed: [] };
      },
      { functionName: 'writer', timeoutMs: 10_000, meter, functionMeter, size: { memoryMiB: 1024, vcpu: 1 } },
    );
    expect(await complete(fn, envelope('a', 'writer'))).toBe(204);
    fail = true;
    expect(await complete(fn, envelope('b', 'writer'))).toBe(503); // billed all the same
    const heartbeat = scheduledFunction(async () => {}, {
      functionName: 'heartbeat',
      timeoutMs: 10_000,
      functionMeter,
      size: { memoryMiB: 1024, vcpu: 1 },
    });
    expect(await complete(heartbeat, {})).toBe(204);
    const f = functionMeter.snapshot();
    expect(f[FUNCTION_METER_KEYS.invocations]).toBe(3);
    expect(f[FUNCTION_METER_KEYS.vcpuSeconds]).toBeGreaterThanOrEqual(0.3 - 1e-9);
    expect(f[FUNCTION_METER_KEYS.gibSeconds]).toBeGreaterThanOrEqual(0.3 - 1e-9);
    expect(f['pubsub.subscribe-bytes']).toBeUndefined();
    // The deliveries are Pub/Sub's bill (at least 1000 bytes each), on the operations meter.
    expect(meter.snapshot()).toEqual({ 'pubsub.subscribe-bytes': 2000 });
  });
});

whenEmulators((stack) => {
  describe('push functions', () => {
    it('acknowledges only after the handler succeeded; retries transient failures inside the invocation', async () => {
      const seen: ReceivedMessage[] = [];
      let failures = 2;
      const handler: BatchHandler = async (messages) => {
        seen.push(...messages);
        if (failures-- > 0) throw new TransientError('throttled');
        return { failed: [] };
      };
      const fn = pushFunction(handler, { functionName: 'writer', timeoutMs: 10_000 });
      expect(await invoke(fn, envelope('hello', 'writer'))).toBe(204);
      expect(seen.map((m) => m.body)).toEqual(['hello', 'hello', 'hello']);
      expect(seen[0]?.group).toBe('writer'); // from the attribute: push bodies omit the ordering key

      const broken = pushFunction(
        async () => {
          throw new Error('bug');
        },
        { functionName: 'writer', timeoutMs: 10_000 },
      );
      expect(await invoke(broken, envelope('x', 'writer'))).toBe(503);
    });

    it('refuses a distributor batch that overtook its predecessor, and skips one already applied', async () => {
      const applied: number[] = [];
      const handler: BatchHandler = async (messages) => {
        for (const m of messages) applied.push(JSON.parse(m.body).batch);
        return { failed: [] };
      };
      const fn = pushFunction(handler, {
        functionName: 'distributor',
        timeoutMs: 10_000,
        order: distributorOrderGuard({ datastore: stack().datastoreClient, namespace: unique('order') }),
      });
      expect(await invoke(fn, envelope(batch(2), 'distributor'))).toBe(503);
      expect(applied).toEqual([]);
      expect(await invoke(fn, envelope(batch(1), 'distributor'))).toBe(204);
      expect(await invoke(fn, envelope(batch(2), 'distributor'))).toBe(204);
      expect(await invoke(fn, envelope(batch(1), 'distributor'))).toBe(204); // a duplicate: acknowledged
      expect(applied).toEqual([1, 2]);
    });

    it("holds back a client's request that overtook an earlier one of its session", async () => {
      const store = new DatastoreSystemStore({
        datastore: stack().datastoreClient,
        namespace: unique('seq'),
      });
      const session: SessionItem = {
        id: 7,
        timeoutMs: 1000,
        expiresAt: 0,
        lastSeq: 3,
        ephemerals: [],
        watchPaths: [],
        key: encodeSessionKey(KEY),
      };
      await store.transact([{ type: 'put', kind: 'session', id: '7', value: session, expect: 'absent' }]);
      const handled: number[] = [];
      const fn = pushFunction(
        async (messages) => {
          for (const m of messages) handled.push(JSON.parse(m.body).seq);
          return { failed: [] };
        },
        { functionName: 'writer', timeoutMs: 10_000, order: writerOrderGuard(store) },
      );
      const { unsigned, request } = syncRequests(7);
      expect(await invoke(fn, envelope(request(5), 'writer'))).toBe(503);
      // A request forged by another client (not signed with the session's key) does not wait for
      // its seq: the writer drops it, and waiting would let any client stall the ordered queue.
      expect(await invoke(fn, envelope(unsigned(9), 'writer'))).toBe(204);
      expect(await invoke(fn, envelope(signRequest(newSessionKey(), unsigned(10)), 'writer'))).toBe(204);
      expect(await invoke(fn, envelope(request(4), 'writer'))).toBe(204);
      expect(handled).toEqual([9, 10, 4]);
    });

    it("lets a resume and a replaced incarnation's requests through: neither uses up a seq", async () => {
      const store = new DatastoreSystemStore({
        datastore: stack().datastoreClient,
        namespace: unique('inc'),
      });
      const session: SessionItem = {
        id: 8,
        timeoutMs: 1000,
        expiresAt: 0,
        lastSeq: 3,
        ephemerals: [],
        watchPaths: [],
        incarnation: 42,
        key: encodeSessionKey(KEY),
      };
      await store.transact([{ type: 'put', kind: 'session', id: '8', value: session, expect: 'absent' }]);
      const handled: string[] = [];
      const fn = pushFunction(
        async (messages) => {
          for (const m of messages) {
            const r = JSON.parse(m.body) as { seq: number; inc?: number };
            handled.push(`${r.inc ?? 0}:${r.seq}`);
          }
          return { failed: [] };
        },
        { functionName: 'writer', timeoutMs: 10_000, order: writerOrderGuard(store) },
      );
      const request = (seq: number, inc: number | undefined, op: WriteRequest['op']) =>
        signRequest(
          KEY,
          encodeMessage({
            v: PROTOCOL_VERSION,
            id: `8.${inc ?? 0}:${seq}`,
            session: 8,
            seq,
            ...(inc === undefined ? {} : { inc }),
            op,
          }),
        );
      const sync: WriteRequest['op'] = { type: 'sync', path: '/' };
      // The replaced incarnation's request far beyond lastSeq + 1 goes on (the writer refuses it).
      expect(await invoke(fn, envelope(request(9, undefined, sync), 'writer'))).toBe(204);
      // A resume (seq 1, at or below lastSeq) goes on.
      expect(
        await invoke(fn, envelope(request(1, 43, { type: 'resumeSession', incarnation: 43 }), 'writer')),
      ).toBe(204);
      // The current incarnation is still held to lastSeq + 1.
      expect(await invoke(fn, envelope(request(5, 42, sync), 'writer'))).toBe(503);
      expect(await invoke(fn, envelope(request(4, 42, sync), 'writer'))).toBe(204);
      expect(handled).toEqual(['0:9', '43:1', '42:4']);
    });

    it("lets a session's next request through without a store read once its predecessor was applied here; an overtaking one still waits", async () => {
      const meter = new CountingMeter();
      const namespace = unique('known');
      const store = new DatastoreSystemStore({
        datastore: stack().datastoreClient,
        namespace,
        meter,
      });
      // The handler's own reads go unmetered: the meter counts the guard's.
      const writerStore = new DatastoreSystemStore({ datastore: stack().datastoreClient, namespace });
      const session: SessionItem = {
        id: 9,
        timeoutMs: 1000,
        expiresAt: 0,
        lastSeq: 3,
        ephemerals: [],
        watchPaths: [],
        key: encodeSessionKey(KEY),
      };
      await store.transact([{ type: 'put', kind: 'session', id: '9', value: session, expect: 'absent' }]);
      const handled: number[] = [];
      // Uses up each applied seq as the writer does (admit), so the store is what the guard assumes.
      const fn = pushFunction(
        async (messages) => {
          for (const m of messages) {
            const seq = JSON.parse(m.body).seq as number;
            handled.push(seq);
            const item = await writerStore.get<SessionItem>({ kind: 'session', id: '9' });
            if (item !== undefined && seq > item.value.lastSeq)
              await writerStore.transact([
                {
                  type: 'put',
                  kind: 'session',
                  id: '9',
                  value: { ...item.value, lastSeq: seq },
                  expect: item.version,
                },
              ]);
          }
          return { failed: [] };
        },
        { functionName: 'writer', timeoutMs: 10_000, order: writerOrderGuard(store) },
      );
      const { unsigned, request } = syncRequests(9);
      const seeded = meter.totals.get('datastore.entity-reads') ?? 0;
      const guardReads = () => (meter.totals.get('datastore.entity-reads') ?? 0) - seeded;
      expect(await invoke(fn, envelope(request(4), 'writer'))).toBe(204);
      expect(guardReads()).toBe(1);
      expect(await invoke(fn, envelope(request(5), 'writer'))).toBe(204);
      expect(await invoke(fn, envelope(request(6), 'writer'))).toBe(204);
      expect(guardReads()).toBe(1);
      // Beyond lastSeq + 1: read, and held back.
      expect(await invoke(fn, envelope(request(8), 'writer'))).toBe(503);
      expect(guardReads()).toBe(2);
      // A forged request within the bound does not verify against the key: read (and let through,
      // as before; the writer drops it without using a seq).
      expect(await invoke(fn, envelope(unsigned(7), 'writer'))).toBe(204);
      expect(guardReads()).toBe(3);
      expect(await invoke(fn, envelope(request(7), 'writer'))).toBe(204);
      expect(await invoke(fn, envelope(request(8), 'writer'))).toBe(204);
      expect(guardReads()).toBe(3);
      expect(handled).toEqual([4, 5, 6, 7, 7, 8]);
    });

    it('registers writer, distributor and heartbeat for Cloud Functions, opening the deployment on first call', async () => {
      const deployment = unique('entry');
      const config = configFromEnvironment({
        FAASKEEPER_DEPLOYMENT: deployment,
        GOOGLE_CLOUD_PROJECT: stack().projectId,
      });
      expect(config).toEqual({
        deployment,
        datastore: { projectId: stack().projectId },
        pubsub: { projectId: stack().projectId },
      });
      registerGcpFunctions({ ...config, datastore: stack().datastoreClient, pubsub: stack().pubsubClient });
      for (const name of ['writer', 'distributor', 'heartbeat'])
        expect(getFunction(name)).toBeTypeOf('function');
      expect(await invoke(getFunction('heartbeat') as HttpFunction, {})).toBe(204);
      // The first call bootstrapped the deployment: the root exists in its user store.
      const users = new DatastoreUserStore({
        datastore: stack().datastoreClient,
        namespace: resourceNames(deployment).namespace,
      });
      expect(await users.get('/')).toBeDefined();
      expect(() => configFromEnvironment({})).toThrow(/FAASKEEPER_DEPLOYMENT/);
    });
  });
});
