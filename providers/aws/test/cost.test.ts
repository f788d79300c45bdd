// Measures, with the meter, the billable AWS requests of each client operation on the local AWS
// deployment, and prices them (src/pricing.ts). The figures are reported in docs/aws.md.
import { CountingMeter, type FaaSKeeperClient, generateDigest, ManualClock, Perms } from '@faaskeeper/core';
import { meterPerOperation } from '@faaskeeper/core/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createBatchingAwsDeployment,
  createLocalAwsDeployment,
  HoldableQueue,
  type LocalAwsDeployment,
} from '../src/local/index.js';
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

/**
 * A fresh metered local deployment replacing the shared one: a manual clock and an hour between
 * heartbeats, so that no ping or heartbeat lands among the measured operations, and the
 * distributor's poller held. The writer distributes inline, so nothing reaches the distributor's
 * queue here; left polling, its poller's long poll would run out empty every 20 s, and that
 * billed receive would land in whichever row was being measured then (a test that ran past 20 s
 * after the deployment started, on a slow machine, measured a delete 0.1 SQS request dearer).
 */
async function meteredDeployment(
  userStore: 's3' | 'dynamodb',
): Promise<{ meter: CountingMeter; zk: FaaSKeeperClient }> {
  const meter = new CountingMeter();
  const { stack: s } = await stack();
  await service?.close();
  let distributorQueue: HoldableQueue | undefined;
  service = await createLocalAwsDeployment({
    stack: s,
    meter,
    userStore,
    clock: new ManualClock(),
    heartbeatIntervalMs: 3_600_000,
    wrap: {
      distributorQueue: (q) => {
        distributorQueue = new HoldableQueue(q);
        return distributorQueue;
      },
    },
  });
  // Its long poll under way ends at once, unbilled; it then makes no call until the deployment
  // closes. No server-side wait: no message comes that the emulator could hand the ended poll.
  await distributorQueue?.hold(0);
  return { meter, zk: await service.connect() };
}

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
      const { meter, zk } = await meteredDeployment(userStore);
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
      // write units). The redo-log commit (docs/cost.md: one conditional put of the writer state
      // carrying the batch's item writes, then single-item writes at 1 write unit per KB instead of a
      // transaction at 2), the state stored deflated and no parent read for a setData: DynamoDB
      // setData 10.70 -> 8.08, S3 19.10 -> 16.48. A lone record in place of the watermark (docs/cost.md:
      // a setData's distribution writes one record, stamped `complete`, and no watermark): DynamoDB
      // setData 8.08 -> 7.45 (one write unit), S3 16.48 -> 11.48 (one PUT). A batch committed just
      // now is distributed without reading the watermark (the writer says how far batches are
      // applied): one read unit or S3 GET less per write and per read through the writer. The last
      // record in place of the watermark (docs/cost.md: a create or delete closes with its parent's
      // record): create and delete one write unit (DynamoDB, 10.08 -> 9.45 and 10.70 -> 10.08) or one
      // S3 PUT (27.23 -> 22.23, 26.60 -> 21.60) less; the DynamoDB child tombstone in place of the
      // live entry: delete one write unit less again (10.08 -> 9.45). The parent's child Stat in
      // the writer state (docs/cost.md: a plain create or delete does not rewrite the parent's
      // item): create and delete one write unit less (DynamoDB 9.45 -> 8.83 each, S3 22.23 -> 21.60
      // and 21.60 -> 20.98).
      const bound =
        userStore === 's3'
          ? { getData: 0.4, watchedGetData: 5.98, setData: 11.08, create: 21.6, delete: 20.98 }
          : { getData: 0.125, watchedGetData: 5.7, setData: 7.33, create: 8.83, delete: 8.83 };
      for (const row of rows)
        expect(row.withoutCompute, row.op).toBeLessThanOrEqual(bound[row.op as keyof typeof bound] + 1e-9);
      // The system store's share of a 1 KiB setData, pinned: the writer state put (2 write units:
      // under 2 KB), the node and session items (1 each), and on the DynamoDB user store the record
      // (2) and no watermark (the record, written alone, stands in for it); reads: the state, the
      // session item (the log's sentinel, read once for both) and the node, and the distributor's
      // watermark on neither (the writer tells the distributor how far batches are applied). On S3
      // the record is the one PUT of a setData, and there is no GET.
      expect(results.setData[METER_KEYS.dynamodbWriteUnits], 'setData write units').toBe(
        userStore === 's3' ? 4 : 6,
      );
      if (userStore === 's3') {
        expect(results.setData[METER_KEYS.s3Put], 'setData S3 PUTs').toBe(1);
        expect(results.setData[METER_KEYS.s3Get] ?? 0, 'setData S3 GETs').toBe(0);
      }
      expect(results.setData[METER_KEYS.dynamodbReadUnits], 'setData read units').toBe(3);
      // create and delete, pinned: no watermark (the parent's record closes the distribution) and
      // no parent item (its child Stat goes in the writer state). A create writes the state (2),
      // session (1) and node (1) items, and on DynamoDB the record (2), the parent's record (1) and
      // the child's entry (1); on S3 those three are PUTs. A delete: the state (1: no data),
      // session and node (a delete) items, and on DynamoDB the tombstone and its removal, the
      // parent's record, the entry's tombstone in place of the live entry and its removal (5); on
      // S3 three PUTs and three free DELETEs. Reads: the state, session, node and parent items, and
      // on DynamoDB the parent's record (whose data the distributor keeps; on S3 a GET).
      expect(results.create[METER_KEYS.dynamodbWriteUnits], 'create write units').toBe(
        userStore === 's3' ? 4 : 8,
      );
      expect(results.delete[METER_KEYS.dynamodbWriteUnits], 'delete write units').toBe(
        userStore === 's3' ? 3 : 8,
      );
      for (const op of ['create', 'delete'] as const)
        expect(results[op][METER_KEYS.dynamodbReadUnits], `${op} read units`).toBe(
          userStore === 's3' ? 4 : 5,
        );
      if (userStore === 's3') {
        expect(results.create[METER_KEYS.s3Put], 'create S3 PUTs').toBe(3);
        expect(results.delete[METER_KEYS.s3Put], 'delete S3 PUTs').toBe(3);
      }
      for (const op of ['create', 'setData', 'delete'] as const) {
        expect(results[op][METER_KEYS.dynamodbWriteUnits]).toBeGreaterThan(0);
        // One function runs per write, and six SQS requests (client send, the writer's receive and
        // delete, the channel send, the client's receive and delete).
        expect(results[op][METER_KEYS.lambdaInvocation]).toBe(1);
        expect(results[op][METER_KEYS.sqsRequest]).toBe(6);
      }

      // Ten writes at once: the client sends them in SendMessageBatch calls and the channel
      // carries several replies per message; the writer takes what is queued when it polls (on the
      // patched fauxqs, as on SQS, up to 10 of its group), typically the first write alone and then
      // the other nine. The batch-10 figures (all ten queued before one poll) are the next describe.
      const batched = {
        create: await perOp(meter, (i) => zk.create(`/b${i}`, KIB), 'concurrent'),
        setData: await perOp(meter, (i) => zk.setData(`/b${i}`, KIB), 'concurrent'),
        delete: await perOp(meter, (i) => zk.delete(`/b${i}`), 'concurrent'),
      };
      const batchedRows = priced(batched);
      console.log(JSON.stringify({ userStore, concurrent: N, rows: batchedRows }, null, 1));
      const batchedBound =
        userStore === 's3'
          ? { setData: 15.6, create: 27.3, delete: 26.6 }
          : { setData: 7.64, create: 9.8, delete: 10.5 };
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
      const { meter, zk } = await meteredDeployment(userStore);
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
          ? { protectedGetData: 6.15, protectedGetChildren: 11.15, protectedSetData: 21.08 }
          : { protectedGetData: 5.33, protectedGetChildren: 5.45, protectedSetData: 8.58 };
      for (const row of rows)
        expect(row.withoutCompute, row.op).toBeLessThanOrEqual(bound[row.op as keyof typeof bound] + 1e-9);
    }, 180_000);
  },
);

describe.each(['s3', 'dynamodb'] as const)(
  'cost per write at batch 10 on the local AWS deployment, %s user store',
  (userStore) => {
    it('ten queued writes run in one writer invocation and share its requests', async (ctx) => {
      if (!requireLocalStack(ctx)) return;
      const { stack: s } = await stack();
      const meter = new CountingMeter();
      // The writer's and distributor's pollers held until ten writes are queued (src/local/held-pollers.ts).
      const batching = await createBatchingAwsDeployment({
        stack: s,
        meter,
        userStore,
        clock: new ManualClock(),
        heartbeatIntervalMs: 3_600_000,
      });
      const { deployment } = batching;
      try {
        /**
         * Per-write meter units of `N` writes that are all in the writer queue before the writer
         * polls once, as under load Lambda's event source mapping finds them (it throws unless the
         * writer ran once, with all ten).
         */
        const batchOf = async (op: (i: number) => Promise<unknown>) =>
          (await batching.meterQueued(meter, N, op)).perWrite;

        const one = await deployment.connect();
        const ten = await Promise.all(Array.from({ length: N }, () => deployment.connect()));
        // Settled, then held: from here on the functions poll only when the test lets them. Each
        // session writes once first: the distributor creates a session's channel queue at its first
        // send (one SQS request per session, not per write; the calibration's warm-up batch does
        // the same).
        await one.create('/b', KIB);
        await Promise.all(ten.map((c, i) => c.create(`/tw${i}`)));
        await batching.hold();

        const oneSession = {
          create: await batchOf((i) => one.create(`/o${i}`, KIB)),
          setData: await batchOf((i) => one.setData(`/o${i}`, KIB)),
          delete: await batchOf((i) => one.delete(`/o${i}`)),
        };
        const tenSessions = {
          create: await batchOf((i) => (ten[i] as FaaSKeeperClient).create(`/t${i}`, KIB)),
          setData: await batchOf((i) => (ten[i] as FaaSKeeperClient).setData(`/t${i}`, KIB)),
          delete: await batchOf((i) => (ten[i] as FaaSKeeperClient).delete(`/t${i}`)),
        };
        const rows = { oneSession: priced(oneSession), tenSessions: priced(tenSessions) };
        console.log(JSON.stringify({ userStore, batch: N, rows }, null, 1));

        for (const results of [oneSession, tenSessions])
          for (const op of ['create', 'setData', 'delete'] as const) {
            // The writer ran once for the ten: a tenth of an invocation per write.
            expect(results[op][METER_KEYS.lambdaInvocation]).toBeCloseTo(1 / N, 9);
          }
        // Per write at batch 10, SQS requests: with ten sessions, each sends its request and
        // receives and deletes its reply on its own channel (3 + the writer's channel send), and the
        // writer's receive and delete are shared (0.2); one pipelined session shares those too.
        expect(tenSessions.setData[METER_KEYS.sqsRequest]).toBeCloseTo(4.2, 9);
        expect(oneSession.setData[METER_KEYS.sqsRequest]).toBeLessThanOrEqual(0.7 + 1e-9);
        // Regression bounds ($ per million, requests only, list prices), measured 2026-12-05 with the
        // redo-log commit and 0.05 above (before it: DynamoDB one session setData 5.28, ten 8.27);
        // lowered by the watermark read the distributor no longer makes (shared by the ten), and
        // by the watermark write a batch of one invocation no longer makes (its last record closes
        // it), and on DynamoDB a delete's child tombstone in place of the live entry, and by the
        // parent's item a create or delete no longer writes (its child Stat in the writer state;
        // shared by the batch's writes under one parent, so a few cents).
        // A change that adds billable requests to a batched write fails here.
        const bound =
          userStore === 's3'
            ? {
                oneSession: { setData: 7.04, create: 12.58, delete: 11.96 },
                tenSessions: { setData: 9.46, create: 15.06, delete: 14.39 },
              }
            : {
                oneSession: { setData: 3.29, create: 3.99, delete: 4.0 },
                tenSessions: { setData: 5.71, create: 6.47, delete: 6.42 },
              };
        for (const layout of ['oneSession', 'tenSessions'] as const)
          for (const row of rows[layout])
            expect(row.withoutCompute, `${layout} ${row.op}`).toBeLessThanOrEqual(
              bound[layout][row.op as 'setData' | 'create' | 'delete'] + 1e-9,
            );
      } finally {
        await batching.close();
      }
    }, 180_000);
  },
);
