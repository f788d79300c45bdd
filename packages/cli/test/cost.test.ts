import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BatchedWrites,
  type Calibration,
  type ConfigCalibration,
  committedCalibration,
  configOf,
  type MeasuredCost,
  OPERATIONS,
} from '../src/cost/calibration.js';
import { ratioPlot, ratioSvg } from '../src/cost/chart.js';
import type { CostReport } from '../src/cost/command.js';
import { compareCalibrations, TOLERANCE } from '../src/cost/compare.js';
import { AWS_ENSEMBLE_PRICES, ensemblePerDay, GCP_ENSEMBLE_PRICES } from '../src/cost/ensembles.js';
import {
  breakEven,
  dailyCost,
  dollarsPerRequest,
  logSpace,
  operationDollars,
  ratioSeries,
  type Workload,
} from '../src/cost/model.js';
import { ExitCode, main } from '../src/index.js';
import { memoryStreams } from './helpers.js';

/** A cost of `perMillion` dollars per million, made of `requests`. */
const cost = (dollars: number, requests: Record<string, number> = { 'x.request': 1 }): MeasuredCost => ({
  requests,
  compute: {},
  dollars,
  computeDollars: 0,
});

/** Writes at batch 10 at `setData` dollars per write (1 KiB), `large` at 16 KiB; create and delete $9/M. */
const batchedAt = (setData: number, large: number): BatchedWrites => ({
  operations: { create: cost(9e-6), setData: cost(setData), delete: cost(9e-6) },
  largeSetData: cost(large),
});

/**
 * A calibration with round figures, so that the model's results can be checked by hand: getData
 * $1/M and setData $10/M at 1 KiB, $2/M and $40/M at 16 KiB, a watch notification $1/M, an idle
 * client $0.50 a day, the deployment $0.10 a day; at batch 10 a setData is $3/M ($12/M at 16 KiB)
 * from one session and $6/M ($18/M) from ten.
 */
const config: ConfigCalibration = {
  provider: 'aws',
  userStore: 's3',
  description: 'hand-made',
  prices: { asOf: '2025-06-01', region: 'us-east-1' },
  operations: Object.fromEntries(
    OPERATIONS.map((op) => [op, cost(op === 'setData' ? 10e-6 : 1e-6)]),
  ) as ConfigCalibration['operations'],
  large: { getData: cost(2e-6), setData: cost(40e-6) },
  watchNotification: cost(1e-6),
  idleClientPerDay: cost(0.5),
  deploymentPerDay: cost(0.1),
  batched: {
    size: 10,
    description: 'hand-made',
    oneSession: batchedAt(3e-6, 12e-6),
    tenSessions: batchedAt(6e-6, 18e-6),
  },
  noBatch: null,
};
const calibration: Calibration = {
  measured: '2026-12-04',
  regenerate: 'x',
  sizeBytes: 1024,
  largeSizeBytes: 16384,
  runs: 5,
  idleWindowSeconds: 20,
  idleClients: 2,
  heartbeatsPerDay: 1440,
  configs: [config],
};
const workload: Workload = {
  requestsPerDay: 1e6,
  reads: 0.9,
  sizeBytes: 1024,
  clients: 2,
  watches: 0,
  batch: 1,
};

describe('the cost model (hand-checked figures)', () => {
  it('prices a request mix: 90% reads at $1/M and 10% writes at $10/M are $1.90 per million', () => {
    expect(dollarsPerRequest(calibration, config, workload) * 1e6).toBeCloseTo(1.9, 10);
  });

  it('a write to a watched node costs its notifications: 2 watches make a write $12/M, the mix $2.10/M', () => {
    expect(dollarsPerRequest(calibration, config, { ...workload, watches: 2 }) * 1e6).toBeCloseTo(2.1, 10);
  });

  it('size: linear between the measured sizes, and the smaller size’s cost below it', () => {
    // Half-way from 1 KiB to 16 KiB: getData $1.5/M, setData $25/M.
    const half = operationDollars(calibration, config, 1024 + 7680);
    expect(half.getData * 1e6).toBeCloseTo(1.5, 10);
    expect(half.setData * 1e6).toBeCloseTo(25, 10);
    expect(operationDollars(calibration, config, 100)).toEqual(operationDollars(calibration, config, 1024));
    expect(dollarsPerRequest(calibration, config, { ...workload, sizeBytes: 8704 }) * 1e6).toBeCloseTo(
      3.85,
      10,
    );
  });

  it('a day of 1M requests with 2 idle clients: reads $0.90 + writes $1.00 + clients $1.00 + deployment $0.10', () => {
    const day = dailyCost(calibration, config, workload);
    expect(day.reads).toBeCloseTo(0.9, 10);
    expect(day.writes).toBeCloseTo(1.0, 10);
    expect(day.clients).toBeCloseTo(1.0, 10);
    expect(day.deployment).toBeCloseTo(0.1, 10);
    expect(day.total).toBeCloseTo(3.0, 10);
    expect(day.perMonth).toBeCloseTo(3.0 * (365 / 12), 10);
  });

  it('break-even: ($3.00 − $1.10 fixed) / $1.90 per million = 1M requests a day; never when the fixed part costs more', () => {
    expect(breakEven(calibration, config, workload, 3.0)).toBeCloseTo(1e6, 3);
    // At the break-even the two cost the same.
    expect(dailyCost(calibration, config, workload).total).toBeCloseTo(3.0, 10);
    expect(breakEven(calibration, config, { ...workload, clients: 10 }, 3.0)).toBeUndefined();
  });

  it('an ensemble of 3 × t3.small with 8 GB gp3 each costs 3 × ($0.0208 × 24 + 8 × $0.08 / (365/12)) a day', () => {
    const vm = AWS_ENSEMBLE_PRICES.vms[0];
    expect(vm?.name).toBe('t3.small');
    expect(ensemblePerDay(AWS_ENSEMBLE_PRICES, vm as NonNullable<typeof vm>, 3)).toBeCloseTo(1.5607233, 6);
    expect(GCP_ENSEMBLE_PRICES.vms.map((v) => v.name)).toEqual(['e2-small', 'e2-medium', 'e2-standard-2']);
  });

  it('at batch 10 a write is priced at the batched setData: one session’s with one client, ten sessions’ otherwise', () => {
    // 2 clients: ten sessions' $6/M; the mix 0.9 × $1 + 0.1 × $6 = $1.50/M.
    expect(dollarsPerRequest(calibration, config, { ...workload, batch: 10 }) * 1e6).toBeCloseTo(1.5, 10);
    // 1 client: its writes are one session's, $3/M; the mix $1.20/M.
    expect(dollarsPerRequest(calibration, config, { ...workload, batch: 10, clients: 1 }) * 1e6).toBeCloseTo(
      1.2,
      10,
    );
    // Size: half-way to 16 KiB, ten sessions: $6 + ($18 − $6) / 2 = $12/M; reads unchanged.
    const half = operationDollars(calibration, config, 1024 + 7680, config.batched?.tenSessions);
    expect(half.setData * 1e6).toBeCloseTo(12, 10);
    expect(half.getData * 1e6).toBeCloseTo(1.5, 10);
    // The break-even moves with it: ($3.00 − $1.10) / $1.50 per million.
    expect(breakEven(calibration, config, { ...workload, batch: 10 }, 3.0)).toBeCloseTo(1.9e6 / 1.5, 3);
  });

  it('refuses a batch the calibration has no figures for', () => {
    const gcp: ConfigCalibration = { ...config, provider: 'gcp', batched: null, noBatch: 'push' };
    expect(() => dollarsPerRequest(calibration, gcp, { ...workload, batch: 10 })).toThrow(
      'gcp/s3 has no writes measured at batch 10: push',
    );
    expect(() => dailyCost(calibration, config, { ...workload, batch: 5 })).toThrow(
      'aws/s3 has no writes measured at batch 5: only at batch 10',
    );
  });

  it('the ratio ZooKeeper/FaaSKeeper is 1 at the break-even and falls as requests grow', () => {
    expect(logSpace(1e5, 1e7, 3).map((r) => Math.round(r))).toEqual([1e5, 1e6, 1e7]);
    const [series] = ratioSeries(calibration, config, workload, 3.0, [0.9], [1e5, 1e6, 1e7]);
    const ratios = series?.points.map((p) => p.ratio) ?? [];
    expect(ratios[1]).toBeCloseTo(1, 10);
    expect(ratios[0]).toBeCloseTo(3.0 / (0.19 + 1.1), 10);
    expect(ratios[2]).toBeLessThan(ratios[1] as number);
  });
});

describe('comparing a fresh calibration with the committed one', () => {
  const withConfig = (c: ConfigCalibration): Calibration => ({ ...calibration, configs: [c] });

  it('holds when every request count is equal', () => {
    expect(compareCalibrations(calibration, withConfig({ ...config }))).toEqual([]);
  });

  it('names an operation whose request count moved, and a price table of another date', () => {
    const moved = {
      ...config,
      prices: { asOf: '2026-01-01', region: 'us-east-1' },
      operations: { ...config.operations, setData: cost(10e-6, { 'x.request': 2 }) },
    };
    expect(compareCalibrations(calibration, withConfig(moved))).toEqual([
      'aws/s3: priced at the 2025-06-01 list prices, committed at 2026-01-01',
      'aws/s3 setData: x.request measured 1, committed 2',
    ]);
  });

  it('compares the batch-10 figures exactly, and names a batch measured on one side only', () => {
    const batched = config.batched as NonNullable<ConfigCalibration['batched']>;
    const moved = withConfig({
      ...config,
      batched: {
        ...batched,
        tenSessions: {
          ...batched.tenSessions,
          operations: { ...batched.tenSessions.operations, delete: cost(9e-6, { 'x.request': 1.1 }) },
        },
      },
    });
    expect(compareCalibrations(moved, withConfig(config))).toEqual([
      'aws/s3 batch 10 (ten sessions) delete: x.request measured 1.1, committed 1',
    ]);
    const none = withConfig({ ...config, batched: null, noBatch: 'not measured' });
    expect(compareCalibrations(withConfig(config), none)).toEqual([
      'aws/s3 batched writes: measured at batch 10, none committed',
    ]);
    expect(compareCalibrations(none, none)).toEqual([]);
  });

  it('allows bytes within 10% and an idle client within 50%, not beyond', () => {
    const near = {
      ...config,
      watchNotification: cost(1e-6, { 'pubsub.publish-bytes': 1000 }),
      idleClientPerDay: cost(0.5, { 'x.request': 1 }),
    };
    const fresh = withConfig({
      ...near,
      watchNotification: cost(1e-6, { 'pubsub.publish-bytes': 1000 * (1 + TOLERANCE.bytes * 0.9) }),
      idleClientPerDay: cost(0.6, { 'x.request': 1.4 }),
    });
    expect(compareCalibrations(fresh, withConfig(near))).toEqual([]);
    const far = withConfig({ ...near, idleClientPerDay: cost(2, { 'x.request': 3 }) });
    expect(compareCalibrations(far, withConfig(near))).toEqual([
      'aws/s3 idle client per day: x.request measured 3, committed 1',
      'aws/s3 idle client per day: $2.00 without compute, committed $0.500',
    ]);
  });
});

describe('the chart', () => {
  const series = ratioSeries(calibration, config, workload, 3.0, [0.9, 0.8], logSpace(1e5, 1e7, 21));

  it('is a well-formed SVG document with one line per read fraction', () => {
    const svg = ratioSvg(series, { title: 'a & b', ensemble: '3 × t3.small' });
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(svg) as {
      svg: { polyline: { '@_data-series': string; '@_points': string }[] };
    };
    expect(doc.svg.polyline.map((p) => p['@_data-series'])).toEqual(['90% reads', '80% reads']);
    for (const line of doc.svg.polyline) expect(line['@_points'].split(' ')).toHaveLength(21);
  });

  it('draws in the terminal: both marks, the break-even line and the decades on the x axis', () => {
    const text = ratioPlot(series).join('\n');
    expect(text).toContain('*');
    expect(text).toContain('o');
    expect(text).toMatch(/ 1 \|[-*o]+/);
    expect(text).toMatch(/100K\s+1M\s+10M/);
    expect(text).toContain('* 90% reads   o 80% reads');
  });
});

async function cli(args: string[]) {
  const io = memoryStreams('');
  const code = await main(['cost', ...args], io.streams);
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

describe('faaskeeper cost (the committed calibration)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'faaskeeper-cost-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints each operation’s requests and $/M, the workload per day and month, and the break-even table', async () => {
    const r = await cli([]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(ExitCode.OK);
    // Unbatched: $/M, of it compute, requests; writes also per write at batch 10 (one session, ten).
    for (const row of ['getData', 'watch notification'])
      expect(r.stdout).toMatch(new RegExp(`\\n  ${row} +\\d+\\.\\d\\d +-?\\d+\\.\\d\\d {37}\\S+=`));
    for (const row of ['setData', 'create', 'delete', 'setData \\(16384 bytes\\)'])
      expect(r.stdout).toMatch(
        new RegExp(`\\n  ${row} +\\d+\\.\\d\\d +-?\\d+\\.\\d\\d +\\d+\\.\\d\\d +\\d+\\.\\d\\d  \\S+=`),
      );
    expect(r.stdout).toMatch(/total +\$\d+\.\d\d \/day +\$\d+\.\d\d \/month/);
    for (const vm of ['t3.small', 't3.medium', 't3.large'])
      for (const n of [3, 5, 9]) expect(r.stdout).toContain(`${n} × ${vm}`);
    expect(r.stdout).toContain('* 90% reads   o 80% reads');
  });

  it('the break-even it reports is the model’s, at the committed figures', async () => {
    const r = await cli(['--json', '--user-store', 'dynamodb', '--reads', '0.8', '--clients', '3']);
    expect(r.code).toBe(ExitCode.OK);
    const report = JSON.parse(r.stdout) as CostReport;
    const c = configOf(committedCalibration(), 'aws', 'dynamodb');
    if (c === undefined) throw new Error('the committed calibration lacks aws/dynamodb');
    const w: Workload = {
      requestsPerDay: 1e6,
      reads: 0.8,
      sizeBytes: 1024,
      clients: 3,
      watches: 0,
      batch: 1,
    };
    const vm = AWS_ENSEMBLE_PRICES.vms[0] as (typeof AWS_ENSEMBLE_PRICES.vms)[number];
    const expected = breakEven(committedCalibration(), c, w, ensemblePerDay(AWS_ENSEMBLE_PRICES, vm, 3));
    expect(report.ensembles.rows[0]?.ensemble).toBe('3 × t3.small');
    expect(report.ensembles.rows[0]?.breakEvenRequestsPerDay).toBe(expected ?? null);
    expect(report.workload.perDay.total).toBeCloseTo(dailyCost(committedCalibration(), c, w).total, 12);
    expect(report.chart.series.map((s) => s.reads)).toEqual([0.9, 0.8]);
  });

  it('prints the batch-10 figures of the committed calibration, requests per write by kind', async () => {
    const r = await cli([]);
    const c = configOf(committedCalibration(), 'aws', 'dynamodb');
    if (c?.batched == null) throw new Error('the committed calibration lacks aws/dynamodb at batch 10');
    for (const [layout, writes] of [
      ['1 session', c.batched.oneSession],
      ['10 sessions', c.batched.tenSessions],
    ] as const) {
      const { dollars, requests } = writes.operations.setData;
      const kinds = Object.entries(requests)
        .map(([k, v]) => `${k}=${Number(v.toPrecision(4))}`)
        .join(' ');
      expect(r.stdout).toContain(
        `    ${`setData, ${layout}`.padEnd(36)}${(dollars * 1e6).toFixed(2).padStart(8)}  ${kinds}\n`,
      );
    }
    const { oneSession, tenSessions } = c.batched;
    expect(r.stdout).toMatch(
      new RegExp(
        `\\n  setData +\\d+\\.\\d\\d +-?\\d+\\.\\d\\d +${(oneSession.operations.setData.dollars * 1e6).toFixed(2)} +${(tenSessions.operations.setData.dollars * 1e6).toFixed(2)}  `,
      ),
    );
  });

  it('--batch 10 prices the writes at batch 10 (one client: one session’s), break-even and chart with them', async () => {
    const calibration = committedCalibration();
    const c = configOf(calibration, 'aws', 'dynamodb');
    if (c === undefined) throw new Error('the committed calibration lacks aws/dynamodb');
    const w: Workload = {
      requestsPerDay: 1e6,
      reads: 0.8,
      sizeBytes: 4096,
      clients: 1,
      watches: 0,
      batch: 10,
    };
    const run = async (batch: string) =>
      JSON.parse(
        (await cli(['--json', '--reads', '0.8', '--size', '4096', '--batch', batch])).stdout,
      ) as CostReport;
    const [batched, unbatched] = [await run('10'), await run('1')];
    expect(batched.workload.batch).toBe(10);
    expect(batched.workload.writesPricedAs).toBe('batch 10, one session');
    expect(unbatched.workload.writesPricedAs).toBe('unbatched');
    expect(batched.workload.perDay.total).toBeCloseTo(dailyCost(calibration, c, w).total, 12);
    expect(batched.workload.perDay.writes).toBeLessThan(unbatched.workload.perDay.writes);
    expect(batched.workload.perDay.reads).toBe(unbatched.workload.perDay.reads);
    const vm = AWS_ENSEMBLE_PRICES.vms[0] as (typeof AWS_ENSEMBLE_PRICES.vms)[number];
    expect(batched.ensembles.rows[0]?.breakEvenRequestsPerDay).toBe(
      breakEven(calibration, c, w, ensemblePerDay(AWS_ENSEMBLE_PRICES, vm, 3)) ?? null,
    );
    expect(batched.chart.series[0]?.points[0]?.ratio).toBeGreaterThan(
      unbatched.chart.series[0]?.points[0]?.ratio as number,
    );
    // Ten clients: ten sessions' batches, dearer than one session's.
    const many = JSON.parse(
      (await cli(['--json', '--reads', '0.8', '--size', '4096', '--batch', '10', '--clients', '10'])).stdout,
    ) as CostReport;
    expect(many.workload.writesPricedAs).toBe('batch 10, ten sessions');
    expect(many.workload.dollarsPerMillionRequests).toBeGreaterThan(
      batched.workload.dollarsPerMillionRequests,
    );
  });

  it('on gcp says why there is no batch, and refuses --batch 10 with that reason', async () => {
    const r = await cli(['--provider', 'gcp']);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toContain(
      'no batched writes on GCP: the writer is a function behind a Pub/Sub push subscription',
    );
    const refused = await cli(['--provider', 'gcp', '--batch', '10']);
    expect(refused.code).toBe(ExitCode.USAGE);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(
      /^Error: --batch 10: gcp with the gcs user store has no writes at batch 10: the writer is a function behind a Pub\/Sub push subscription/,
    );
  });

  it('on gcp compares with e2 ensembles and writes the chart with --chart', async () => {
    const file = join(dir, 'ratio.svg');
    const r = await cli([
      '--provider',
      'gcp',
      '--user-store',
      'datastore',
      '--requests-per-day',
      '250K',
      '--chart',
      file,
    ]);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.stdout).toContain('3 × e2-small');
    expect(r.stdout).toContain('250K requests/day');
    expect(r.stdout).toContain(`Chart written to ${file}`);
    expect(XMLValidator.validate(await readFile(file, 'utf8'))).toBe(true);
  });

  it.each([
    [['--reads', '1.5'], '--reads must be a fraction between 0 and 1, not "1.5"'],
    [['--reads', '-0.1'], '--reads must be a fraction between 0 and 1, not "-0.1"'],
    [
      ['--requests-per-day', '-5'],
      '--requests-per-day must be a number ≥ 0 (e.g. 1000000, 1M, 250K), not "-5"',
    ],
    [['--size', '0'], '--size must be an integer ≥ 1, not "0"'],
    [['--clients', '-1'], '--clients must be a number ≥ 0 (e.g. 1000000, 1M, 250K), not "-1"'],
    [['--watches', 'many'], '--watches must be a number ≥ 0 (e.g. 1000000, 1M, 250K), not "many"'],
    [['--provider', 'gcp', '--user-store', 's3'], '--user-store on gcp is one of gcs, datastore, not "s3"'],
    [['--write-calibration', 'x.json'], '--write-calibration needs --measure'],
    [['--batch', '5'], '--batch is 1 or 10: writes were measured unbatched and at batch 10 only, not at "5"'],
  ])('refuses %j as a usage error', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')[0]).toBe(`Error: ${message}`);
  });

  it('refuses an unknown provider as a usage error', async () => {
    const r = await cli(['--provider', 'azure']);
    expect(r.code).toBe(ExitCode.USAGE);
    expect(r.stderr).toContain("argument 'azure' is invalid. Allowed choices are aws, gcp.");
  });
});
