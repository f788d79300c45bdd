// Measures, with the meter, the billable AWS requests of each client operation on the local AWS
// deployment, and prices them (src/pricing.ts). The figures are reported in docs/aws.md.
import { CountingMeter, generateDigest, ManualClock, Perms } from '@faaskeeper/core';
import { meterPerOperation } from '@faaskeeper/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalAwsDeployment, type LocalAwsDeployment } from '../src/local/index.js';
import { METER_KEYS } from '../src/meter.js';
import { dollarsOf } from '../src/pricing.js';
import { requireLocalStack, useLocalStack } from './support.js';

const stack = useLocalStack();
const N = 10;
const KIB = new Uint8Array(1024).fill(42);

let service: LocalAwsDeployment | undefined;
afterAll(async () => {
  await service?.close();
});

/** Meter totals per operation, over `N` runs of `op`, one after another or all at once. */
const perOp = (
  meter: CountingMeter,
  op: (i: number) => Promise<unknown>,
  mode: 'sequential' | 'concurrent' = 'sequential',
) => meterPerOperation(meter, N, op, mode);

type Row = {
  op: string;
  requests: Record<string, number>;
  gbSeconds: number;
  perMillion: number;
  withoutCompute: number;
};

function priced(results: Record<string, Record<string, number>>): Row[] {
  return Object.entries(results).map(([op, counts]) => {
    const { total, byKey } = dollarsOf(counts);
    const requests = Object.fromEntries(
      Object.entries(counts).filter(([k]) => k !== METER_KEYS.lambdaGbSeconds),
    );
    return {
      op,
      requests,
      gbSeconds: counts[METER_KEYS.lambdaGbSeconds] ?? 0,
      perMillion: total * 1e6,
      withoutCompute: (total - (byKey[METER_KEYS.lambdaGbSeconds] ?? 0)) * 1e6,
    };
  });
}

describe.each(['s3', 'dynamodb'] as const)(
  'cost per operation on the local AWS deployment, %s user store',
  (userStore) => {
    it('meters billable requests per getData, setData (1 KiB), create and delete', async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const meter = new CountingMeter();
      const { stack: s } = await stack();
      // A manual clock: no pings and no heartbeat runs in the measurement, only the operations.
      await service?.close();
      service = await createLocalAwsDeployment({
        stack: s,
        meter,
        userStore,
        clock: new ManualClock(),
        heartbeatIntervalMs: 3_600_000,
      });
      const zk = await service.connect();
      // Nodes that the watched reads watch and nothing changes: a watch on /n… would fire on its
      // setData, and the setData figure would include a notification (an owed marker per watcher).
      // Under a parent of their own, so that the root's child list is what it was.
      await zk.create('/w');
      for (let i = 0; i < N; i++) await zk.create(`/w/${i}`);
      const results = {
        create: await perOp(meter, (i) => zk.create(`/n${i}`, KIB)),
        getData: await perOp(meter, (i) => zk.getData(`/n${i}`)),
        // A read through the writer and distributor (here: with a watch), the path a read of a node
        // without world READ takes (measured below).
        watchedGetData: await perOp(meter, (i) => zk.getData(`/w/${i}`, { watch: () => {} })),
        setData: await perOp(meter, (i) => zk.setData(`/n${i}`, KIB)),
        delete: await perOp(meter, (i) => zk.delete(`/n${i}`)),
      };
      const rows = priced(results);
      console.log(JSON.stringify(rows, null, 1));
      // A read is one S3 GET or one strongly consistent DynamoDB read, and nothing else: no function runs on the read path.
      expect(results.getData).toEqual(
        userStore === 's3' ? { [METER_KEYS.s3Get]: 1 } : { [METER_KEYS.dynamodbReadUnits]: 1 },
      );
      // A write reaches the system store and the user store in one writer invocation (inline
      // distribution, docs/cost.md). Regression bounds ($ per million at list prices, measured
      // 2026-12-05): a change that adds billable requests to the write path fails here. Before inline
      // distribution and raw bytes in the writer state: S3 setData 22.05, DynamoDB 13.65. Children as
      // their own entries (docs/scale.md) add to create the child's index entry (S3: one PUT, +$5/M;
      // DynamoDB: one write unit) and to delete its tombstone and the removal of both entries (S3:
      // one PUT and two free DELETEs; DynamoDB: three write units): the price of a create, delete and
      // setData that no longer grow with the parent's children (at 1,000 children a create cost 57.8
      // write units).
      const bound =
        userStore === 's3'
          ? { getData: 0.4, watchedGetData: 8.3, setData: 19.2, create: 30.8, delete: 29.6 }
          : { getData: 0.125, watchedGetData: 7.8, setData: 10.8, create: 13.4, delete: 13.4 };
      for (const row of rows)
        expect(row.withoutCompute, row.op).toBeLessThanOrEqual(bound[row.op as keyof typeof bound] + 1e-9);
      for (const op of ['create', 'setData', 'delete'] as const) {
        expect(results[op][METER_KEYS.dynamodbWriteUnits]).toBeGreaterThan(0);
        // One function runs per write, and six SQS requests (client send, the writer's receive and
        // delete, the channel send, the client's receive and delete).
        expect(results[op][METER_KEYS.lambdaInvocation]).toBe(1);
        expect(results[op][METER_KEYS.sqsRequest]).toBe(6);
      }

      // Ten writes at once: the client sends them in SendMessageBatch calls and the channel
      // carries several replies per message. The writer still takes them one by one here: fauxqs
      // hands out at most one message of a group per receive (EMULATORS.md), where Lambda's event
      // source mapping takes up to 10 (docs/cost.md: what a batch shares).
      const batched = {
        create: await perOp(meter, (i) => zk.create(`/b${i}`, KIB), 'concurrent'),
        setData: await perOp(meter, (i) => zk.setData(`/b${i}`, KIB), 'concurrent'),
        delete: await perOp(meter, (i) => zk.delete(`/b${i}`), 'concurrent'),
      };
      const batchedRows = priced(batched);
      console.log(JSON.stringify({ userStore, concurrent: N, rows: batchedRows }, null, 1));
      const batchedBound =
        userStore === 's3'
          ? { setData: 18.9, create: 30.6, delete: 29.4 }
          : { setData: 10.5, create: 13.2, delete: 13.2 };
      for (const row of batchedRows) {
        expect(row.withoutCompute, `${row.op}, ${N} at once`).toBeLessThanOrEqual(
          batchedBound[row.op as keyof typeof batchedBound] + 1e-9,
        );
        const unbatched = rows.find((r) => r.op === row.op)!;
        expect(row.withoutCompute, `${row.op}: concurrent writes share requests`).toBeLessThan(
          unbatched.withoutCompute,
        );
      }
    }, 180_000);

    it("meters a read of a node without world READ: the stub's direct read, then the writer and distributor", async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const meter = new CountingMeter();
      const { stack: s } = await stack();
      await service?.close();
      service = await createLocalAwsDeployment({
        stack: s,
        meter,
        userStore,
        clock: new ManualClock(),
        heartbeatIntervalMs: 3_600_000,
      });
      const zk = await service.connect();
      await zk.addAuth('digest', 'owner:pw');
      const owner = { perms: Perms.ALL, id: { scheme: 'digest', id: generateDigest('owner:pw') } };
      await zk.create('/p', '', { acl: [owner] });
      for (let i = 0; i < N; i++) await zk.create(`/p/${i}`, KIB, { acl: [owner] });
      const results = {
        protectedGetData: await perOp(meter, (i) => zk.getData(`/p/${i}`)),
        protectedGetChildren: await perOp(meter, () => zk.getChildren('/p')),
        protectedSetData: await perOp(meter, (i) => zk.setData(`/p/${i}`, KIB)),
      };
      const rows = priced(results);
      console.log(JSON.stringify({ userStore, protected: rows }, null, 1));
      for (const op of ['protectedGetData', 'protectedGetChildren'] as const) {
        // The stub (one read), then one writer run that distributes the answer inline.
        expect(results[op][METER_KEYS.lambdaInvocation], op).toBe(1);
        expect(
          results[op][userStore === 's3' ? METER_KEYS.s3Get : METER_KEYS.dynamodbReadUnits],
        ).toBeGreaterThan(0);
      }
      // Regression bounds ($ per million without compute, measured 2026-12-05), against $0.40 (S3)
      // and $0.125 (DynamoDB) for a direct read. getChildren adds the distributor's listing of the
      // protected zone (S3: one LIST); a setData writes the record and its stub (S3: one more PUT,
      // $5/M; DynamoDB: one more write unit per KiB).
      const bound =
        userStore === 's3'
          ? { protectedGetData: 7.8, protectedGetChildren: 12.8, protectedSetData: 24.1 }
          : { protectedGetData: 6.7, protectedGetChildren: 6.83, protectedSetData: 11.33 };
      for (const row of rows)
        expect(row.withoutCompute, row.op).toBeLessThanOrEqual(bound[row.op as keyof typeof bound] + 1e-9);
    }, 180_000);
  },
);
