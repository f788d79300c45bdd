// Measures, with the meter, the billable AWS requests of each client operation on the local AWS
// deployment, and prices them (src/pricing.ts). The figures are reported in docs/aws.md.
import { CountingMeter, ManualClock } from '@faaskeeper/core';
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

/** Meter totals per operation, over `N` runs of `op`. */
const perOp = (meter: CountingMeter, op: (i: number) => Promise<unknown>) => meterPerOperation(meter, N, op);

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
      const results = {
        create: await perOp(meter, (i) => zk.create(`/n${i}`, KIB)),
        getData: await perOp(meter, (i) => zk.getData(`/n${i}`)),
        setData: await perOp(meter, (i) => zk.setData(`/n${i}`, KIB)),
        delete: await perOp(meter, (i) => zk.delete(`/n${i}`)),
      };
      const rows = Object.entries(results).map(([op, counts]) => {
        const { total, byKey } = dollarsOf(counts);
        const requests = Object.fromEntries(
          Object.entries(counts).filter(([k]) => k !== METER_KEYS.lambdaGbSeconds),
        );
        const compute = counts[METER_KEYS.lambdaGbSeconds] ?? 0;
        return {
          op,
          requests,
          gbSeconds: compute,
          perMillion: total * 1e6,
          withoutCompute: (total - (byKey[METER_KEYS.lambdaGbSeconds] ?? 0)) * 1e6,
        };
      });
      console.log(JSON.stringify(rows, null, 1));
      // A read is one S3 GET or one strongly consistent DynamoDB read, and nothing else: no function runs on the read path.
      expect(results.getData).toEqual(
        userStore === 's3' ? { [METER_KEYS.s3Get]: 1 } : { [METER_KEYS.dynamodbReadUnits]: 1 },
      );
      // A write reaches the system store and the user store, and invokes both functions.
      // Regression bounds ($ per million at list prices, measured 2026-11-24; create and delete
      // 2026-12-05): a change that adds billable requests to the write path fails here. Children
      // as their own entries (docs/scale.md) added to create the child's index entry (S3: one PUT,
      // +$5/M, 28.8 → 33.7; DynamoDB: one write unit, 15.7 → 16.3) and to delete its tombstone and
      // the removal of both entries (S3: one PUT and two free DELETEs, 26.3 → 31.2; DynamoDB: three
      // write units, 13.2 → 15.1): the price of a create, delete and setData that no longer grow
      // with the parent's children (at 1,000 children a create cost 57.8 write units).
      const bound =
        userStore === 's3'
          ? { getData: 0.4, setData: 22.1, create: 33.7, delete: 31.2 }
          : { getData: 0.125, setData: 13.7, create: 16.3, delete: 15.1 };
      for (const row of rows)
        expect(row.withoutCompute, row.op).toBeLessThanOrEqual(bound[row.op as keyof typeof bound] + 1e-9);
      for (const op of ['create', 'setData', 'delete'] as const) {
        expect(results[op][METER_KEYS.dynamodbWriteUnits]).toBeGreaterThan(0);
        expect(results[op][METER_KEYS.lambdaInvocation]).toBeGreaterThanOrEqual(2);
        expect(results[op][METER_KEYS.sqsRequest]).toBeGreaterThan(0);
      }
    }, 120_000);
  },
);
