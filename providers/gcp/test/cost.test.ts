// What one operation costs on GCP: every billable operation the adapters make (clients and
// functions alike) and the functions' invocations and compute are counted on one meter, priced with
// the dated list prices (src/pricing.ts), and pinned: a change that adds a billable request to an
// operation fails here. The figures are reported in the README's cost section.
import { CountingMeter, generateDigest, ManualClock, Perms } from '@faaskeeper/core';
import { meterPerOperation } from '@faaskeeper/core/testkit';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FUNCTION_SIZE, FUNCTION_METER_KEYS } from '../src/functions/index.js';
import { gcpCostOf } from '../src/index.js';
import { createLocalGcpDeployment, missingStorageEmulator } from '../src/local/index.js';
import { whenEmulators } from './support.js';

/** Runs of each operation measured (the row is their average). */
const N = 3;
const KIB = new Uint8Array(1024).fill(7);
const OPS = ['getData', 'setData (1 KiB)', 'create (1 KiB)', 'delete'] as const;
type Op = (typeof OPS)[number];
type Config = { invocation: 'pull' | 'push'; userStore: 'datastore' | 'gcs' };

/** Keys priced by the byte: the sizes of messages move with ids and zxids, so they get a tolerance. */
const BYTE_KEYS = ['pubsub.publish-bytes', 'pubsub.subscribe-bytes'];
/** Compute keys: they follow wall time, so they are bounded below (100 ms per invocation), not pinned. */
const COMPUTE_KEYS: string[] = [FUNCTION_METER_KEYS.vcpuSeconds, FUNCTION_METER_KEYS.gibSeconds];

/**
 * Billable requests per operation, as measured (2026-12-05, the writer distributing inline: one
 * invocation and two publishes per write; before, 2026-11-24: two and three, and on the push path
 * the distributor's progress read and write per batch). The writer's commit reads the writer state
 * only, not the node and session items again (docs/cost.md, "A writer commit on Datastore reads the
 * writer state only"), and the push path's order guard reads no session item for a request whose
 * predecessor it saw applied (2026-12-05: setData 7 → 4 reads on push, 6 → 4 on pull). Since children are their own entries (docs/scale.md) a
 * create also writes the child's index entry (one entity write, or one Class A upload), and a delete
 * writes its tombstone and then removes both entries (one write and two deletes, or one upload and
 * two free deletes): the price of writes that no longer rewrite the parent's child list. A setData
 * reads no parent item (one entity read less); the redo-log commit (docs/cost.md) writes the same
 * entities as the transaction did, which Datastore bills per entity, not per byte. A setData's
 * distribution writes its one record `complete` in place of the watermark (docs/cost.md, "A lone
 * record in place of the watermark"): one entity write, or one Class A upload, less. A batch the
 * writer committed just now is distributed without reading the watermark (the writer tells how far
 * batches are applied): one entity read, or one Class B read, less per write and per read through
 * the writer. A create or delete closes its distribution with the parent's record in place of the
 * watermark (docs/cost.md, "The last record in place of the watermark"): one entity write, or one
 * Class A upload, less. A create or delete keeps its parent's child Stat in the writer state
 * (docs/cost.md, "The parent's child Stat in the writer state"): the parent's entity is neither
 * written nor read in the commit's transaction, one entity write and one entity read less.
 */
const EXPECTED: Record<string, Record<Op, Record<string, number>>> = {
  'pull/datastore': {
    getData: { 'datastore.entity-reads': 1 },
    'setData (1 KiB)': {
      'datastore.entity-reads': 4,
      'datastore.entity-writes': 4,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    'create (1 KiB)': {
      'datastore.entity-reads': 6,
      'datastore.entity-writes': 6,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    delete: {
      'datastore.entity-deletes': 4,
      'datastore.entity-reads': 6,
      'datastore.entity-writes': 5,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
  },
  'push/datastore': {
    getData: { 'datastore.entity-reads': 1 },
    'setData (1 KiB)': {
      'datastore.entity-reads': 4,
      'datastore.entity-writes': 4,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    'create (1 KiB)': {
      'datastore.entity-reads': 6,
      'datastore.entity-writes': 6,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    delete: {
      'datastore.entity-deletes': 4,
      'datastore.entity-reads': 6,
      'datastore.entity-writes': 5,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
  },
  'push/gcs': {
    getData: { 'gcs.class-b': 1 },
    'setData (1 KiB)': {
      'datastore.entity-reads': 4,
      'datastore.entity-writes': 3,
      'functions.invocations': 1,
      'gcs.class-a': 1,
      'pubsub.publish-requests': 2,
    },
    'create (1 KiB)': {
      'datastore.entity-reads': 5,
      'datastore.entity-writes': 3,
      'functions.invocations': 1,
      'gcs.class-a': 3,
      'gcs.class-b': 1,
      'pubsub.publish-requests': 2,
    },
    delete: {
      'datastore.entity-deletes': 1,
      'datastore.entity-reads': 5,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'gcs.class-a': 3,
      'gcs.class-b': 1,
      'gcs.free': 3,
      'pubsub.publish-requests': 2,
    },
  },
};

/**
 * Billable requests of a read of a node without world READ (measured 2026-12-05): the stub's
 * direct read, the request and its answer through the writer, which runs once and distributes the
 * answer inline (the record from the protected zone; for getChildren, a listing of its entries).
 */
const PROTECTED_EXPECTED: Record<string, Record<string, Record<string, number>>> = {
  'push/datastore': {
    'protected getData': {
      'datastore.entity-reads': 8,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    'protected getChildren': {
      'datastore.entity-reads': 9,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
  },
  'pull/datastore': {
    'protected getData': {
      'datastore.entity-reads': 8,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
    'protected getChildren': {
      'datastore.entity-reads': 9,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'pubsub.publish-requests': 2,
    },
  },
  'push/gcs': {
    'protected getData': {
      'datastore.entity-reads': 5,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'gcs.class-b': 3,
      'pubsub.publish-requests': 2,
    },
    'protected getChildren': {
      'datastore.entity-reads': 5,
      'datastore.entity-writes': 2,
      'functions.invocations': 1,
      'gcs.class-a': 1,
      'gcs.class-b': 3,
      'pubsub.publish-requests': 2,
    },
  },
};

/** Meter totals per operation, over `N` runs of `op`. */
const perOp = (meter: CountingMeter, op: (i: number) => Promise<unknown>) => meterPerOperation(meter, N, op);

const pick = (counts: Record<string, number>, keep: (key: string) => boolean) =>
  Object.fromEntries(Object.entries(counts).filter(([k]) => keep(k)));

whenEmulators((stack) => {
  const configurations: Config[] = [
    { invocation: 'push', userStore: 'datastore' },
    { invocation: 'pull', userStore: 'datastore' },
  ];
  if (missingStorageEmulator() === undefined) configurations.push({ invocation: 'push', userStore: 'gcs' });
  /** A metered deployment on a clock that does not move: no pings or heartbeats among the operations. */
  const metered = async ({ invocation, userStore }: Config) => {
    const meter = new CountingMeter();
    const d = await createLocalGcpDeployment({
      stack: stack(),
      invocation,
      userStore,
      meter,
      clock: new ManualClock(),
    });
    return { meter, d };
  };
  for (const { invocation, userStore } of configurations) {
    const name = `${invocation}/${userStore}`;
    describe(`cost per operation (${invocation} invocation, ${userStore} user store)`, () => {
      it('a read is one store read and nothing else; each write makes exactly the pinned billable requests and one function invocation', async () => {
        const { meter, d } = await metered({ invocation, userStore });
        try {
          const zk = await d.connect();
          await zk.create('/parent');
          for (let i = 0; i < N; i++) await zk.create(`/parent/r${i}`, KIB);
          const results: Record<Op, Record<string, number>> = {
            getData: await perOp(meter, (i) => zk.getData(`/parent/r${i}`)),
            'setData (1 KiB)': await perOp(meter, (i) => zk.setData(`/parent/r${i}`, KIB)),
            'create (1 KiB)': await perOp(meter, (i) => zk.create(`/parent/n${i}`, KIB)),
            delete: await perOp(meter, (i) => zk.delete(`/parent/n${i}`)),
          };
          const rows = OPS.map((op) => {
            const counts = results[op];
            const { total, compute } = gcpCostOf(counts);
            return {
              path: name,
              op,
              requests: pick(counts, (k) => !COMPUTE_KEYS.includes(k)),
              vcpuSeconds: counts[FUNCTION_METER_KEYS.vcpuSeconds] ?? 0,
              gibSeconds: counts[FUNCTION_METER_KEYS.gibSeconds] ?? 0,
              perMillion: Math.round(total * 1e6 * 100) / 100,
              computePerMillion: Math.round(compute * 1e6 * 100) / 100,
            };
          });
          console.log(JSON.stringify(rows, null, 1));
          console.table(
            rows.map((r) => ({
              path: r.path,
              op: r.op,
              requests: Object.entries(r.requests)
                .map(([k, v]) => `${k}=${v}`)
                .join(' '),
              'vCPU-s': r.vcpuSeconds.toFixed(4),
              'GiB-s': r.gibSeconds.toFixed(4),
              '$/M': r.perMillion.toFixed(2),
              'compute $/M': r.computePerMillion.toFixed(2),
            })),
          );
          for (const op of OPS) {
            const counts = results[op];
            // Every request-like key exactly as pinned (an added request fails here).
            expect(
              pick(counts, (k) => !BYTE_KEYS.includes(k) && !COMPUTE_KEYS.includes(k)),
              `${name} ${op}`,
            ).toEqual(EXPECTED[name]?.[op]);
            // Writes: two messages (client → writer, which distributes → channel), each under 2000 bytes.
            for (const key of BYTE_KEYS)
              if (op === 'getData') expect(counts[key]).toBeUndefined();
              else expect(counts[key], `${name} ${op} ${key}`).toBeLessThanOrEqual(2 * 2000);
            // Compute: each invocation is billed at least 100 ms at the configured size.
            const invocations = counts[FUNCTION_METER_KEYS.invocations] ?? 0;
            expect(counts[FUNCTION_METER_KEYS.vcpuSeconds] ?? 0).toBeGreaterThanOrEqual(
              invocations * 0.1 * DEFAULT_FUNCTION_SIZE.vcpu - 1e-9,
            );
            expect(counts[FUNCTION_METER_KEYS.gibSeconds] ?? 0).toBeGreaterThanOrEqual(
              (invocations * 0.1 * DEFAULT_FUNCTION_SIZE.memoryMiB) / 1024 - 1e-9,
            );
          }
        } finally {
          await d.close();
        }
      }, 90_000);

      it('a read of a node without world READ is its stub read, then one writer run that distributes the answer', async () => {
        const { meter, d } = await metered({ invocation, userStore });
        try {
          const zk = await d.connect();
          await zk.addAuth('digest', 'owner:pw');
          const owner = { perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
          await zk.create('/p', '', { acl: [owner] });
          for (let i = 0; i < N; i++) await zk.create(`/p/r${i}`, KIB, { acl: [owner] });
          const results = {
            getData: await perOp(meter, (i) => zk.getData(`/p/r${i}`)),
            getChildren: await perOp(meter, () => zk.getChildren('/p')),
          };
          const rows = Object.entries(results).map(([op, counts]) => ({
            path: name,
            op: `protected ${op}`,
            requests: pick(counts, (k) => !COMPUTE_KEYS.includes(k) && !BYTE_KEYS.includes(k)),
            perMillion: Math.round(gcpCostOf(counts).total * 1e6 * 100) / 100,
          }));
          console.log(JSON.stringify(rows, null, 1));
          for (const row of rows)
            expect(row.requests, `${name} ${row.op}`).toEqual(PROTECTED_EXPECTED[name]?.[row.op]);
        } finally {
          await d.close();
        }
      }, 90_000);
    });
  }

  describe('cost at batch 10 (push invocation, datastore user store)', () => {
    it('ten setData sent at once still run ten writer invocations: push sends each message as its own request', async () => {
      const { meter, d } = await metered({ invocation: 'push', userStore: 'datastore' });
      try {
        const zk = await d.connect();
        const ten = 10;
        for (let i = 0; i < ten; i++) await zk.create(`/b${i}`, KIB);
        const counts = await meterPerOperation(meter, ten, (i) => zk.setData(`/b${i}`, KIB), 'concurrent');
        const { total } = gcpCostOf(counts);
        console.log(
          JSON.stringify({
            path: 'push/datastore',
            op: 'setData (1 KiB), ten at once',
            counts,
            perMillion: total * 1e6,
          }),
        );
        // One invocation per write whatever queued up: on GCP a batch of ten costs ten writes
        // (docs/cost.md "Batching"). The client's publishes do go out together: fewer requests.
        expect(counts[FUNCTION_METER_KEYS.invocations]).toBe(1);
        expect(counts['pubsub.publish-requests'] ?? 0).toBeLessThan(2);
      } finally {
        await d.close();
      }
    }, 90_000);
  });
});
