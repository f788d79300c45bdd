/**
 * The cost model: a workload's dollars per day on FaaSKeeper from the calibration, against a
 * ZooKeeper ensemble's, the break-even request rate, and the ratio the paper plots.
 *
 * A workload is `requestsPerDay` requests, a `reads` fraction of them getData and the rest setData,
 * on nodes of `sizeBytes`; each write fires `watches` watch notifications; `clients` clients stay
 * connected all day. Size enters through getData and setData measured at two sizes: their cost is
 * taken as linear in the size between (and beyond) them, and as the smaller size's below it (every
 * store bills a minimum unit). The clients' cost is their idle cost: their operations are the
 * requests. Every figure is linear in the request rate, so the break-even has a closed form.
 *
 * Writes arrive one per writer invocation (`batch` 1) or in batches of 10, the only batch size
 * measured (`batch` 10, where the provider hands its writer batches: AWS). A batched setData is the
 * measured figure of one session writing the ten when the workload has one client, and of ten
 * sessions writing one each otherwise: with 2 to 9 clients a batch mixes fewer sessions and costs
 * between the two, so the figure is an upper bound. A watch notification is priced as measured
 * unbatched.
 */
import type { BatchedWrites, Calibration, ConfigCalibration } from './calibration.js';
import { DAYS_PER_MONTH, type EnsemblePrices, ensemblePerDay, type VmPrice } from './ensembles.js';

/** The workload the model prices. */
export interface Workload {
  readonly requestsPerDay: number;
  /** Fraction of the requests that are reads, 0..1. */
  readonly reads: number;
  readonly sizeBytes: number;
  readonly clients: number;
  /** Watch notifications each write fires. */
  readonly watches: number;
  /** Writes per writer invocation: 1, or the batch size the calibration measured (10). */
  readonly batch: number;
}

/**
 * Whose batches the workload's writes are: one session's when the workload has exactly one client
 * (its writes are that session's), else ten sessions' (the dearer).
 */
export const batchLayout = (w: Workload): 'oneSession' | 'tenSessions' =>
  w.clients === 1 ? 'oneSession' : 'tenSessions';

/**
 * The batched writes the workload's setData are priced at ({@link batchLayout}), or `undefined`
 * unbatched. Throws when the calibration has no batch of that size.
 */
export function batchedWrites(config: ConfigCalibration, w: Workload): BatchedWrites | undefined {
  if (w.batch === 1) return undefined;
  if (config.batched === null || config.batched.size !== w.batch)
    throw new Error(
      `${config.provider}/${config.userStore} has no writes measured at batch ${w.batch}: ${config.noBatch ?? `only at batch ${config.batched?.size}`}`,
    );
  return config.batched[batchLayout(w)];
}

/**
 * USD of one getData and one setData of `sizeBytes`, interpolated between the two measured sizes;
 * the setData at a batch when `batched` (its writes) is given.
 */
export function operationDollars(
  calibration: Calibration,
  config: ConfigCalibration,
  sizeBytes: number,
  batched?: BatchedWrites,
): { getData: number; setData: number } {
  const small = calibration.sizeBytes;
  const span = calibration.largeSizeBytes - small;
  const t = (Math.max(sizeBytes, small) - small) / span;
  const at = (a: number, b: number) => a + (b - a) * t;
  return {
    getData: at(config.operations.getData.dollars, config.large.getData.dollars),
    setData:
      batched === undefined
        ? at(config.operations.setData.dollars, config.large.setData.dollars)
        : at(batched.operations.setData.dollars, batched.largeSetData.dollars),
  };
}

/** {@link operationDollars} of the workload: its size, its writes at its batch. */
const workloadDollars = (calibration: Calibration, config: ConfigCalibration, w: Workload) =>
  operationDollars(calibration, config, w.sizeBytes, batchedWrites(config, w));

/** USD per request of the workload's mix (reads, writes and their notifications). */
export function dollarsPerRequest(calibration: Calibration, config: ConfigCalibration, w: Workload): number {
  const { getData, setData } = workloadDollars(calibration, config, w);
  const write = setData + w.watches * config.watchNotification.dollars;
  return w.reads * getData + (1 - w.reads) * write;
}

/** What the workload costs on FaaSKeeper per day, by part. */
export interface DailyCost {
  reads: number;
  writes: number;
  /** The clients' idle cost. */
  clients: number;
  /** The deployment's own (heartbeat). */
  deployment: number;
  total: number;
  perMonth: number;
}

/** The workload's dollars per day and per month (365/12 days) on FaaSKeeper. */
export function dailyCost(calibration: Calibration, config: ConfigCalibration, w: Workload): DailyCost {
  const { getData, setData } = workloadDollars(calibration, config, w);
  const reads = w.requestsPerDay * w.reads * getData;
  const writes = w.requestsPerDay * (1 - w.reads) * (setData + w.watches * config.watchNotification.dollars);
  const clients = w.clients * config.idleClientPerDay.dollars;
  const deployment = config.deploymentPerDay.dollars;
  const total = reads + writes + clients + deployment;
  return { reads, writes, clients, deployment, total, perMonth: total * DAYS_PER_MONTH };
}

/**
 * Requests per day at which FaaSKeeper costs as much as an ensemble costing `ensembleDay` per day:
 * below it FaaSKeeper is cheaper. `undefined` when FaaSKeeper's fixed part (deployment and idle
 * clients) alone costs more than the ensemble.
 */
export function breakEven(
  calibration: Calibration,
  config: ConfigCalibration,
  w: Workload,
  ensembleDay: number,
): number | undefined {
  const fixed = config.deploymentPerDay.dollars + w.clients * config.idleClientPerDay.dollars;
  if (fixed >= ensembleDay) return undefined;
  return (ensembleDay - fixed) / dollarsPerRequest(calibration, config, w);
}

/** One row of the break-even table: an ensemble of `count` × `vm`. */
export interface BreakEvenRow {
  vm: string;
  count: number;
  perDay: number;
  perMonth: number;
  /** Requests per day; `undefined`: never (FaaSKeeper's fixed cost alone is higher). */
  requestsPerDay: number | undefined;
}

/** The break-even of the workload's mix against every ensemble of the provider. */
export function breakEvenTable(
  calibration: Calibration,
  config: ConfigCalibration,
  w: Workload,
  prices: EnsemblePrices,
  sizes: readonly number[],
): BreakEvenRow[] {
  return prices.vms.flatMap((vm: VmPrice) =>
    sizes.map((count) => {
      const perDay = ensemblePerDay(prices, vm, count);
      return {
        vm: vm.name,
        count,
        perDay,
        perMonth: perDay * DAYS_PER_MONTH,
        requestsPerDay: breakEven(calibration, config, w, perDay),
      };
    }),
  );
}

/** `count` request rates evenly spaced on a log scale from `from` to `to` (both included). */
export function logSpace(from: number, to: number, count: number): number[] {
  const a = Math.log10(from);
  const b = Math.log10(to);
  return Array.from({ length: count }, (_, i) => 10 ** (a + ((b - a) * i) / (count - 1)));
}

/** A series of the chart: ZooKeeper's cost over FaaSKeeper's at each rate, for one read fraction. */
export interface RatioSeries {
  reads: number;
  points: { requestsPerDay: number; ratio: number }[];
}

/** The ratio ZooKeeper/FaaSKeeper over `rates` for each read fraction (above 1: FaaSKeeper is cheaper). */
export function ratioSeries(
  calibration: Calibration,
  config: ConfigCalibration,
  w: Workload,
  ensembleDay: number,
  readFractions: readonly number[],
  rates: readonly number[],
): RatioSeries[] {
  return readFractions.map((reads) => ({
    reads,
    points: rates.map((requestsPerDay) => ({
      requestsPerDay,
      ratio: ensembleDay / dailyCost(calibration, config, { ...w, reads, requestsPerDay }).total,
    })),
  }));
}
