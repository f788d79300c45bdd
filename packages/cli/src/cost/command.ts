/**
 * `faaskeeper cost`: what each operation costs on a provider (billable requests by kind, dollars per
 * million at dated list prices), what a workload costs per day and month, where it breaks even
 * against ZooKeeper ensembles, and the chart of the ratio ZooKeeper/FaaSKeeper.
 */
import { writeFile } from 'node:fs/promises';
import { type Command, Option } from 'commander';
import { quietAwsSdk } from '../command-options.js';
import type { CliStreams } from '../main.js';
import { MissingPackageError } from '../optional-import.js';
import { ExitCode, UsageError } from '../shell/commands.js';
import {
  BATCH_SIZE,
  type BatchedWrites,
  type Calibration,
  type ConfigCalibration,
  committedCalibration,
  configOf,
  type MeasuredCost,
  OPERATIONS,
  REGENERATE_COMMAND,
  USER_STORES,
} from './calibration.js';
import { ratioPlot, ratioSvg, shortCount } from './chart.js';
import { ENSEMBLE_SIZES, ensemblePerDay, ensemblePrices } from './ensembles.js';
import {
  batchedWrites,
  batchLayout,
  breakEvenTable,
  dailyCost,
  dollarsPerRequest,
  logSpace,
  ratioSeries,
  type Workload,
} from './model.js';

/** The providers the cost model knows. */
export const COST_PROVIDERS = ['aws', 'gcp'] as const;

/** The options of `faaskeeper cost`, as commander parses them (numbers still text). */
export interface CostFlags {
  provider: 'aws' | 'gcp';
  userStore?: string;
  requestsPerDay: string;
  reads: string;
  size: string;
  clients: string;
  watches: string;
  batch: string;
  chart?: string;
  json?: boolean;
  measure?: boolean;
  writeCalibration?: string;
}

/** The chart's read fractions and request range (the paper's figure). */
export const CHART_READS = [0.9, 0.8] as const;
export const CHART_RANGE = [1e5, 1e7] as const;
const CHART_POINTS = 41;

/** Declares `faaskeeper cost` (its options parse to {@link CostFlags}) under the program. */
export function declareCostCommand(program: Command): Command {
  return program
    .command('cost')
    .summary('cost per operation, a workload per day and month, break-even against ZooKeeper ensembles')
    .description(
      `What FaaSKeeper costs on a provider: the billable requests of each operation (by kind) and dollars per million at dated list prices; the same for create, setData and delete at batch ${BATCH_SIZE} (ten writes queued for one writer invocation, from one session and from ten); a workload's cost per day and month (reads are getData, writes setData of --size bytes, --batch writes per writer invocation, each write firing --watches watch notifications, --clients idle clients connected all day, and the deployment's heartbeat); the requests per day at which it costs as much as 3, 5 and 9 ZooKeeper VMs; and the ratio ZooKeeper/FaaSKeeper over 100K-10M requests a day at 90% and 80% reads against 3 of the smallest VMs, drawn here and written with --chart as SVG. The figures come from the committed calibration (measured with the meter on the local stacks); --measure measures them now on the local stacks (minutes), and --write-calibration saves what it measured (the calibration is regenerated with: ${REGENERATE_COMMAND} packages/cli/src/cost/calibration.json).`,
    )
    .addOption(
      new Option('--provider <provider>', 'the cloud provider').choices(COST_PROVIDERS).default('aws'),
    )
    .addOption(
      new Option(
        '--user-store <store>',
        'where node data lives: s3|dynamodb on aws (default dynamodb, as a deployment), gcs|datastore on gcp (default gcs)',
      ),
    )
    .addOption(new Option('--requests-per-day <n>', 'requests a day (1000000, or 1M, 250K)').default('1M'))
    .addOption(
      new Option('--reads <fraction>', 'the fraction of requests that are reads, 0..1').default('0.9'),
    )
    .addOption(new Option('--size <bytes>', 'bytes of data per node read or written').default('1024'))
    .addOption(new Option('--clients <n>', 'clients connected all day').default('1'))
    .addOption(new Option('--watches <n>', 'watch notifications each write fires').default('0'))
    .addOption(
      new Option(
        '--batch <n>',
        `writes per writer invocation: 1, or ${BATCH_SIZE} (measured on AWS, where the writer queue hands out batches; one session's batch with --clients 1, else ten sessions')`,
      ).default('1'),
    )
    .addOption(new Option('--chart <file>', 'also write the chart as SVG to this file'))
    .addOption(new Option('--json', 'print every figure as JSON instead of tables'))
    .addOption(
      new Option('--measure', 'measure on the local stacks now instead of reading the calibration (minutes)'),
    )
    .addOption(
      new Option('--write-calibration <file>', 'with --measure: write the measured calibration (JSON) here'),
    );
}

/** A count with an optional K/M suffix (`250K`, `1.5M`, `1e6`): a number ≥ 0. */
export function parseCount(name: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?(?:e\d+)?)([kKmM]?)$/.exec(text.trim());
  if (m === null)
    throw new UsageError(
      `${name} must be a number ≥ 0 (e.g. 1000000, 1M, 250K), not ${JSON.stringify(text)}`,
    );
  const scale = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6 }[m[2] as string] ?? 1;
  return Number(m[1]) * scale;
}

/** The workload of the flags, checked: a usage error names the first bad option. */
export function workloadOf(flags: CostFlags): Workload {
  const reads = Number(flags.reads);
  if (flags.reads.trim() === '' || !Number.isFinite(reads) || reads < 0 || reads > 1)
    throw new UsageError(`--reads must be a fraction between 0 and 1, not ${JSON.stringify(flags.reads)}`);
  const integer = (name: string, text: string, min: number) => {
    const n = parseCount(name, text);
    if (!Number.isInteger(n) || n < min)
      throw new UsageError(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(text)}`);
    return n;
  };
  // Only 1 and the measured batch size: between them the shared part of a write is not linear in
  // the batch size (what one session shares, ten do not), so other sizes are not estimated.
  const batch = flags.batch.trim();
  if (batch !== '1' && batch !== String(BATCH_SIZE))
    throw new UsageError(
      `--batch is 1 or ${BATCH_SIZE}: writes were measured unbatched and at batch ${BATCH_SIZE} only, not at ${JSON.stringify(flags.batch)}`,
    );
  return {
    requestsPerDay: parseCount('--requests-per-day', flags.requestsPerDay),
    reads,
    sizeBytes: integer('--size', flags.size, 1),
    clients: integer('--clients', flags.clients, 0),
    watches: parseCount('--watches', flags.watches),
    batch: Number(batch),
  };
}

const money = (usd: number) =>
  usd >= 100 ? `$${usd.toFixed(0)}` : usd >= 0.01 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
const requestsText = (requests: Record<string, number>) =>
  Object.entries(requests)
    .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
    .join(' ');
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const pct = (f: number) => `${Number((f * 100).toPrecision(3))}%`;

/** One figure of the per-operation table. */
export interface OperationRow {
  requests: Record<string, number>;
  dollarsPerMillion: number;
  computeDollarsPerMillion: number;
}

/** Everything the command reports, as `--json` prints it. */
export interface CostReport {
  provider: 'aws' | 'gcp';
  userStore: string;
  calibration: { measured: string; description: string; requestPrices: { asOf: string; region: string } };
  sizeBytes: number;
  perOperation: Record<string, OperationRow>;
  /**
   * The writes of {@link perOperation} at a batch, per write, keyed as there: from one session and
   * from ten. `null` where the provider hands its writer no batches ({@link noBatch} says why).
   */
  batched: {
    size: number;
    description: string;
    oneSession: Record<string, OperationRow>;
    tenSessions: Record<string, OperationRow>;
  } | null;
  noBatch: string | null;
  idleClientPerDay: number;
  deploymentPerDay: number;
  workload: Workload & {
    /** The figure its setData are priced at: `unbatched`, or the batch and its sessions. */
    writesPricedAs: string;
    dollarsPerMillionRequests: number;
    perDay: ReturnType<typeof dailyCost>;
  };
  ensembles: {
    asOf: string;
    region: string;
    disk: string;
    rows: { ensemble: string; perDay: number; perMonth: number; breakEvenRequestsPerDay: number | null }[];
  };
  chart: {
    ensemble: string;
    series: { reads: number; points: { requestsPerDay: number; ratio: number }[] }[];
  };
}

/** The report of `config` for the workload `w`. */
export function costReport(calibration: Calibration, config: ConfigCalibration, w: Workload): CostReport {
  const prices = ensemblePrices(config.provider);
  const row = (cost: MeasuredCost): OperationRow => ({
    requests: { ...cost.requests },
    dollarsPerMillion: cost.dollars * 1e6,
    computeDollarsPerMillion: cost.computeDollars * 1e6,
  });
  const smallest = prices.vms[0];
  if (smallest === undefined) throw new Error(`no VM prices for ${config.provider}`);
  const chartEnsembleDay = ensemblePerDay(prices, smallest, 3);
  const largeSetData = `setData (${calibration.largeSizeBytes} bytes)`;
  const batchedRows = (writes: BatchedWrites) => ({
    create: row(writes.operations.create),
    setData: row(writes.operations.setData),
    delete: row(writes.operations.delete),
    [largeSetData]: row(writes.largeSetData),
  });
  // Throws when the workload's batch was not measured here (runCostCommand refuses it first).
  const priced = batchedWrites(config, w);
  return {
    provider: config.provider,
    userStore: config.userStore,
    calibration: {
      measured: calibration.measured,
      description: config.description,
      requestPrices: config.prices,
    },
    sizeBytes: calibration.sizeBytes,
    perOperation: {
      ...Object.fromEntries(OPERATIONS.map((op) => [op, row(config.operations[op])])),
      [`getData (${calibration.largeSizeBytes} bytes)`]: row(config.large.getData),
      [largeSetData]: row(config.large.setData),
      'watch notification': row(config.watchNotification),
    },
    batched:
      config.batched === null
        ? null
        : {
            size: config.batched.size,
            description: config.batched.description,
            oneSession: batchedRows(config.batched.oneSession),
            tenSessions: batchedRows(config.batched.tenSessions),
          },
    noBatch: config.noBatch,
    idleClientPerDay: config.idleClientPerDay.dollars,
    deploymentPerDay: config.deploymentPerDay.dollars,
    workload: {
      ...w,
      writesPricedAs:
        priced === undefined
          ? 'unbatched'
          : `batch ${w.batch}, ${batchLayout(w) === 'oneSession' ? 'one session' : 'ten sessions'}`,
      dollarsPerMillionRequests: dollarsPerRequest(calibration, config, w) * 1e6,
      perDay: dailyCost(calibration, config, w),
    },
    ensembles: {
      asOf: prices.asOf,
      region: prices.region,
      disk: `${prices.disk.gb} GB ${prices.disk.kind} per VM at $${prices.disk.perGbMonth}/GB-month`,
      rows: breakEvenTable(calibration, config, w, prices, ENSEMBLE_SIZES).map((r) => ({
        ensemble: `${r.count} × ${r.vm}`,
        perDay: r.perDay,
        perMonth: r.perMonth,
        breakEvenRequestsPerDay: r.requestsPerDay ?? null,
      })),
    },
    chart: {
      ensemble: `3 × ${smallest.name}`,
      series: ratioSeries(
        calibration,
        config,
        w,
        chartEnsembleDay,
        CHART_READS,
        logSpace(...CHART_RANGE, CHART_POINTS),
      ),
    },
  };
}

/** The report as the tables and plot the command prints. */
export function formatReport(r: CostReport): string[] {
  const w = r.workload;
  const b = r.batched;
  const perMillion = (row: OperationRow | undefined) =>
    (row === undefined ? '' : row.dollarsPerMillion.toFixed(2)).padStart(12);
  const batchHeader =
    b === null ? '' : `${`batch ${b.size}: 1 session`.padStart(22)}${'10 sessions'.padStart(13)}`;
  const out: string[] = [
    `FaaSKeeper on ${r.provider.toUpperCase()}, ${r.userStore} user store`,
    `  calibration measured ${r.calibration.measured}: ${r.calibration.description}`,
    `  request prices of ${r.calibration.requestPrices.asOf} (${r.calibration.requestPrices.region}), list prices without free tiers`,
    '',
    `Per operation (${r.sizeBytes} bytes of data unless stated; $ per million with compute${b === null ? '' : `, unbatched and per write at batch ${b.size}`})`,
    `  ${'operation'.padEnd(24)}${'$/million'.padStart(10)}${'of it compute'.padStart(15)}${batchHeader}  billable requests per operation`,
  ];
  for (const [op, row] of Object.entries(r.perOperation))
    out.push(
      `  ${op.padEnd(24)}${row.dollarsPerMillion.toFixed(2).padStart(10)}${row.computeDollarsPerMillion.toFixed(2).padStart(15)}${
        b === null
          ? ''
          : `${perMillion(b.oneSession[op]).padStart(22)}${perMillion(b.tenSessions[op]).padStart(13)}`
      }  ${requestsText(row.requests)}`,
    );
  if (b === null)
    out.push(`  no batched writes on ${r.provider.toUpperCase()}: ${r.noBatch ?? 'not measured'}`);
  else {
    out.push(
      `  at batch ${b.size}: ${b.description} (reads do not go through the writer: a batch leaves them as they are); billable requests per write:`,
    );
    for (const [layout, rows] of [
      ['1 session', b.oneSession],
      ['10 sessions', b.tenSessions],
    ] as const)
      for (const [op, row] of Object.entries(rows))
        out.push(
          `    ${`${op}, ${layout}`.padEnd(36)}${row.dollarsPerMillion.toFixed(2).padStart(8)}  ${requestsText(row.requests)}`,
        );
  }
  out.push(
    `  idle client: ${money(r.idleClientPerDay)} per day; deployment (scheduled heartbeat, no clients): ${money(r.deploymentPerDay)} per day`,
    '',
    `Workload: ${shortCount(w.requestsPerDay)} requests/day, ${pct(w.reads)} reads (getData) and ${pct(1 - w.reads)} writes (setData) of ${w.sizeBytes} bytes, ${w.writesPricedAs === 'unbatched' ? 'unbatched' : `at ${w.writesPricedAs}`}, ${plural(w.watches, 'watch notification')} per write, ${plural(w.clients, 'client')} connected all day`,
    `  ${'reads'.padEnd(12)}${money(w.perDay.reads).padStart(10)} /day`,
    `  ${'writes'.padEnd(12)}${money(w.perDay.writes).padStart(10)} /day`,
    `  ${'clients'.padEnd(12)}${money(w.perDay.clients).padStart(10)} /day`,
    `  ${'deployment'.padEnd(12)}${money(w.perDay.deployment).padStart(10)} /day`,
    `  ${'total'.padEnd(12)}${money(w.perDay.total).padStart(10)} /day   ${money(w.perDay.perMonth)} /month   ($${w.dollarsPerMillionRequests.toFixed(2)} per million requests of this mix)`,
    '',
    `Break-even against ZooKeeper ensembles (on-demand ${r.ensembles.region}, ${r.ensembles.asOf}; ${r.ensembles.disk})`,
    `  ${'ensemble'.padEnd(20)}${'$/day'.padStart(9)}${'$/month'.padStart(10)}  break-even requests/day at ${pct(w.reads)} reads (FaaSKeeper is cheaper below)`,
  );
  for (const e of r.ensembles.rows)
    out.push(
      `  ${e.ensemble.padEnd(20)}${e.perDay.toFixed(2).padStart(9)}${e.perMonth.toFixed(2).padStart(10)}  ${
        e.breakEvenRequestsPerDay === null
          ? 'never: the idle clients and the deployment alone cost more'
          : shortCount(e.breakEvenRequestsPerDay)
      }`,
    );
  out.push(
    '',
    `Ratio ZooKeeper (${r.chart.ensemble}) / FaaSKeeper, ${shortCount(CHART_RANGE[0])}-${shortCount(CHART_RANGE[1])} requests/day`,
  );
  out.push(...ratioPlot(r.chart.series));
  return out;
}

/** A usage error when the workload's `--batch` was not measured on `config`. */
function refuseUnmeasuredBatch(config: ConfigCalibration, w: Workload): void {
  if (w.batch !== 1 && config.batched?.size !== w.batch)
    throw new UsageError(
      `--batch ${w.batch}: ${config.provider} with the ${config.userStore} user store has no writes at batch ${w.batch}: ${config.noBatch ?? `measured at batch ${config.batched?.size} only`}`,
    );
}

/** Runs `faaskeeper cost`. */
export async function runCostCommand(flags: CostFlags, streams: CliStreams): Promise<ExitCode> {
  const w = workloadOf(flags);
  const stores: readonly string[] = USER_STORES[flags.provider];
  // A deployment's own default: DynamoDB on AWS (cheaper for every operation at small node sizes),
  // Cloud Storage on GCP (its reads are cheaper than Datastore's).
  const userStore = flags.userStore ?? (flags.provider === 'aws' ? 'dynamodb' : (stores[0] as string));
  if (!stores.includes(userStore))
    throw new UsageError(
      `--user-store on ${flags.provider} is one of ${stores.join(', ')}, not ${JSON.stringify(userStore)}`,
    );
  if (flags.writeCalibration !== undefined && flags.measure !== true)
    throw new UsageError('--write-calibration needs --measure');
  let calibration = committedCalibration();
  // Before minutes of measuring: a provider that hands out no batches has none measured either.
  const committedConfig = configOf(calibration, flags.provider, userStore);
  if (committedConfig !== undefined) refuseUnmeasuredBatch(committedConfig, w);
  if (flags.measure === true) {
    // The measurement opens AWS SDK clients on the local stack: no Node-version warning, as in dev.
    quietAwsSdk();
    const { measureCalibration } = await import('./measure.js');
    const only = flags.writeCalibration === undefined ? [`${flags.provider}/${userStore}`] : undefined;
    try {
      calibration = await measureCalibration({
        ...(only === undefined ? {} : { only }),
        progress: (line) => streams.errorOutput.write(`measuring ${line}\n`),
      });
    } catch (error) {
      if (!(error instanceof MissingPackageError)) throw error;
      streams.errorOutput.write(`Error: ${error.message}\n`);
      return ExitCode.FAILED;
    }
    if (flags.writeCalibration !== undefined) {
      await writeFile(flags.writeCalibration, `${JSON.stringify(calibration, null, 2)}\n`);
      streams.errorOutput.write(`calibration written to ${flags.writeCalibration}\n`);
    }
  }
  const config = configOf(calibration, flags.provider, userStore);
  if (config === undefined) {
    streams.errorOutput.write(
      `Error: the calibration has no figures for ${flags.provider} with the ${userStore} user store (measure them with: faaskeeper cost --measure --provider ${flags.provider} --user-store ${userStore})\n`,
    );
    return ExitCode.FAILED;
  }
  refuseUnmeasuredBatch(config, w);
  const report = costReport(calibration, config, w);
  if (flags.chart !== undefined)
    await writeFile(
      flags.chart,
      ratioSvg(report.chart.series, {
        title: `FaaSKeeper (${flags.provider}, ${userStore}) against ${report.chart.ensemble}: cost ratio ZooKeeper / FaaSKeeper`,
        ensemble: report.chart.ensemble,
      }),
    );
  if (flags.json === true) streams.output.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const lines = formatReport(report);
    if (flags.chart !== undefined) lines.push('', `Chart written to ${flags.chart}`);
    streams.output.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}
