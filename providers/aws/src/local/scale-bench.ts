/**
 * The scale benchmark (`pnpm bench:scale [--quick] [--aws]`): per-operation time and store bytes
 * at growing sizes on the embedded deployment and, with `--aws`, the same on the local AWS stack
 * (DynamoDB Local and fauxqs, started here and stopped by PID) with the billable units of each
 * operation counted by a `CountingMeter`, and the largest stored items per kind after each size
 * (a scan of the DynamoDB tables and a listing of the bucket). The measuring engine is core's
 * (`@faaskeeper/core/bench/scale`); see its doc comment for the fill (multis of many creates).
 *
 * On AWS a multi takes at most 90 creates (a DynamoDB transaction holds 100 items: the creates,
 * the parent and the writer's own item), and the sizes are smaller than the embedded ones: the
 * emulators take milliseconds per request where memory takes microseconds.
 *
 * Options: those of core's scale bench, plus `--aws`, `--aws-only` (skip the embedded run) and
 * `--user-store s3|dynamodb` (default s3). Prints `{ embedded?, aws? }` as JSON on stdout, progress on stderr.
 */
import { pathToFileURL } from 'node:url';
import { type AttributeValue, ScanCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { CountingMeter } from '@faaskeeper/core';
import type { ScaleDimension, ScaleTarget } from '@faaskeeper/core/bench/scale';
import {
  embeddedScaleTarget,
  FULL_SIZES,
  parseScaleArgs,
  QUICK_SIZES,
  scaleReport,
} from '@faaskeeper/core/bench/scale';
import type { AwsClients } from '../aws-clients.js';
import { createAwsClients } from '../aws-clients.js';
import type { UserStoreKind } from '../config.js';
import { connect } from '../connect.js';
import { createLocalAwsDeployment } from './local-deployment.js';
import { type LocalAwsStack, localAwsStackMissing, startLocalAwsStack } from './local-stack.js';

/** Sizes on the local AWS stack. */
const AWS_FULL: Record<ScaleDimension, number[]> = {
  children: [100, 1_000, 5_000],
  watchers: [10, 100, 500],
  sessions: [10, 100, 500],
  nodes: [1_000, 5_000],
};
const AWS_QUICK: Record<ScaleDimension, number[]> = {
  children: [10, 100],
  watchers: [2, 10],
  sessions: [2, 10],
  nodes: [100, 300],
};

/** The size DynamoDB bills an attribute value at: its bytes (names count at the item level). */
function attributeBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) return 3 + itemBytes(v.M);
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + 1 + attributeBytes(x), 0);
  if (v.SS !== undefined) return v.SS.reduce((n, x) => n + Buffer.byteLength(x, 'utf8'), 0);
  return 0;
}

/** An item's size as DynamoDB counts it: attribute names plus values. */
function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, v] of Object.entries(item)) n += Buffer.byteLength(name, 'utf8') + attributeBytes(v);
  return n;
}

/** The `top` largest of `sizes` per kind, as `{ kind: [{ key, bytes }] }`. */
function largest(entries: { kind: string; key: string; bytes: number }[], top = 3) {
  const out: Record<string, { key: string; bytes: number }[]> = {};
  for (const e of entries) {
    const list = out[e.kind] ?? [];
    list.push({ key: e.key, bytes: e.bytes });
    out[e.kind] = list;
  }
  for (const list of Object.values(out)) list.sort((a, b) => b.bytes - a.bytes).splice(top);
  return out;
}

/** Every item of a table, with its kind (`kindOf`), key and size. */
async function scanTable(
  clients: AwsClients,
  table: string,
  kindOf: (item: Record<string, AttributeValue>) => { kind: string; key: string },
) {
  const entries: { kind: string; key: string; bytes: number }[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await clients.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) entries.push({ ...kindOf(item), bytes: itemBytes(item) });
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return entries;
}

/** Every object of the bucket, with its size; the kind is the first segment of its key. */
async function listBucket(clients: AwsClients, bucket: string) {
  const entries: { kind: string; key: string; bytes: number }[] = [];
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? [])
      entries.push({ kind: `s3:${(o.Key ?? '').split('/')[0]}`, key: o.Key ?? '', bytes: o.Size ?? 0 });
    token = page.NextContinuationToken;
  } while (token !== undefined);
  return entries;
}

/** The local AWS deployment as a scale target, metered, with the largest items after each size. */
export function localAwsScaleTarget(stack: LocalAwsStack, userStore: UserStoreKind): ScaleTarget {
  return {
    name: `local AWS (${userStore} user store)`,
    fillBatch: 90,
    fillInFlight: 2,
    // Thousands of sessions at 16 at a time queued hundreds of the functions' SDK calls on their
    // 50 sockets and timed out (OPERATIONTIMEOUT after 30 s) on a machine shared with other jobs:
    // fewer at once, and a step that times out is tried again after a back-off.
    setupInFlight: 8,
    setupAttempts: 5,
    async start(wrap) {
      const meter = new CountingMeter();
      const deployment = await createLocalAwsDeployment({
        stack,
        meter,
        userStore,
        wrap,
        // No pings, heartbeats or expiries in a measurement: only the operations are metered. Real
        // time, not a ManualClock: the poller's and the clients' retry back-offs wait on the clock,
        // and with many sessions connecting at once some do.
        sessionTimeoutMs: 3_600_000,
        heartbeatIntervalMs: 3_600_000,
      });
      const clients = createAwsClients(stack.endpoints);
      const { config } = deployment;
      return {
        deployment,
        meter,
        connect: () => connect({ ...deployment.connectOptions, meter, sessionTimeoutMs: 3_600_000 }),
        async inspect() {
          const entries = await scanTable(clients, config.systemTable, (item) => ({
            kind: `system:${item.pk?.S ?? '?'}`,
            key: item.sk?.S ?? '?',
          }));
          if (config.userTable !== undefined)
            entries.push(
              ...(await scanTable(clients, config.userTable, (item) => ({
                kind: 'user:record',
                key: item.path?.S ?? '?',
              }))),
            );
          entries.push(...(await listBucket(clients, config.bucket)));
          return largest(entries);
        },
        async close() {
          clients.destroy();
          await deployment.close();
        },
      };
    },
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--user-store');
  const userStore = (at >= 0 ? argv.splice(at, 2)[1] : 's3') as UserStoreKind;
  // `--aws-only`: the local AWS stack without the embedded run before it.
  const awsOnly = argv.includes('--aws-only');
  if (awsOnly) argv.splice(argv.indexOf('--aws-only'), 1, '--aws');
  const aws = argv.includes('--aws');
  let embeddedOptions: ReturnType<typeof parseScaleArgs>;
  let awsOptions: ReturnType<typeof parseScaleArgs>;
  try {
    if (userStore !== 's3' && userStore !== 'dynamodb')
      throw new Error('--user-store must be s3 or dynamodb');
    embeddedOptions = parseScaleArgs(argv, { full: FULL_SIZES, quick: QUICK_SIZES });
    // Fewer timed runs on the emulators unless asked: each write takes tens of milliseconds there.
    awsOptions = parseScaleArgs(argv.some((a) => a === '--ops') ? argv : [...argv, '--ops', '10'], {
      full: AWS_FULL,
      quick: AWS_QUICK,
    });
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    console.error(
      'usage: pnpm bench:scale [--quick] [--aws | --aws-only] [--user-store s3|dynamodb] [--ops N] [--children 1000,10000] [--watchers …] [--sessions …] [--nodes …]',
    );
    process.exit(2);
  }
  if (aws) {
    const missing = localAwsStackMissing();
    if (missing !== undefined) {
      console.error(`the local AWS stack cannot run here: ${missing}`);
      process.exit(2);
    }
  }
  const embedded = awsOnly ? undefined : await scaleReport(embeddedScaleTarget, embeddedOptions);
  if (!aws) {
    console.log(JSON.stringify({ embedded }, null, 2));
    return;
  }
  const stack = await startLocalAwsStack();
  // Ctrl-C must not leave the emulators running.
  const stop = () => {
    void stack.stop().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const onAws = await scaleReport(localAwsScaleTarget(stack, userStore), awsOptions);
    console.log(JSON.stringify({ embedded, aws: onAws }, null, 2));
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await stack.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
