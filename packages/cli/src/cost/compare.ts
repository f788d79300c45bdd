/**
 * Compares a freshly measured calibration with the committed one, so that a change that moves a
 * billable request (or a price table) cannot leave the committed figures stale.
 */
import {
  BATCHED_OPERATIONS,
  type BatchedCalibration,
  type Calibration,
  type MeasuredCost,
} from './calibration.js';
import { configName } from './measure.js';

/**
 * How far a fresh figure may be from the committed one. Requests of an operation are counted on a
 * clock that stands still, so they must be equal — except bytes (Pub/Sub bills message bytes,
 * which move with ids, zxids and timestamps). The idle client is measured on the real clock over a
 * short window (long polls and pings land in it or not), so it gets a wide band; the deployment's
 * heartbeat without sessions is deterministic.
 */
export const TOLERANCE = {
  /** Relative tolerance of byte-billed keys of an operation. */
  bytes: 0.1,
  /** Relative tolerance of the idle client's figures (each key, and the dollars). */
  idle: 0.5,
} as const;

const isBytes = (key: string) => key.endsWith('-bytes');

const within = (fresh: number, committed: number, relative: number) =>
  Math.abs(fresh - committed) <= relative * Math.max(Math.abs(committed), Math.abs(fresh));

/** The differences of `fresh` from `committed` in one figure, as messages. */
function compareCost(
  where: string,
  fresh: MeasuredCost,
  committed: MeasuredCost,
  relative: (key: string) => number,
): string[] {
  const problems: string[] = [];
  for (const key of new Set([...Object.keys(fresh.requests), ...Object.keys(committed.requests)])) {
    const a = fresh.requests[key] ?? 0;
    const b = committed.requests[key] ?? 0;
    if (!within(a, b, relative(key))) problems.push(`${where}: ${key} measured ${a}, committed ${b}`);
  }
  return problems;
}

/**
 * The differences of the batched figures, as exact as the unbatched ones (one batch is a count of
 * requests on a clock that stands still, shared by its writes). A batch measured on one side only
 * is a difference.
 */
function compareBatched(
  name: string,
  fresh: BatchedCalibration | null,
  committed: BatchedCalibration | null,
  relative: (key: string) => number,
): string[] {
  if (fresh === null && committed === null) return [];
  if (fresh === null || committed === null)
    return [
      `${name} batched writes: ${fresh === null ? 'none measured' : `measured at batch ${fresh.size}`}, ${committed === null ? 'none committed' : `committed at batch ${committed.size}`}`,
    ];
  if (fresh.size !== committed.size)
    return [`${name} batched writes: measured at batch ${fresh.size}, committed at batch ${committed.size}`];
  const problems: string[] = [];
  for (const layout of ['oneSession', 'tenSessions'] as const) {
    const where = `${name} batch ${fresh.size} (${layout === 'oneSession' ? 'one session' : 'ten sessions'})`;
    for (const op of BATCHED_OPERATIONS)
      problems.push(
        ...compareCost(
          `${where} ${op}`,
          fresh[layout].operations[op],
          committed[layout].operations[op],
          relative,
        ),
      );
    problems.push(
      ...compareCost(
        `${where} setData (large)`,
        fresh[layout].largeSetData,
        committed[layout].largeSetData,
        relative,
      ),
    );
  }
  return problems;
}

/**
 * Every difference between `fresh` and `committed` beyond {@link TOLERANCE}, as one message each:
 * empty when the committed file still holds. Configurations measured in `fresh` only are compared;
 * one the committed file lacks is a difference.
 */
export function compareCalibrations(fresh: Calibration, committed: Calibration): string[] {
  const problems: string[] = [];
  for (const key of ['sizeBytes', 'largeSizeBytes', 'heartbeatsPerDay'] as const)
    if (fresh[key] !== committed[key])
      problems.push(`${key}: measured ${fresh[key]}, committed ${committed[key]}`);
  for (const config of fresh.configs) {
    const name = configName(config);
    const old = committed.configs.find((c) => configName(c) === name);
    if (old === undefined) {
      problems.push(`${name}: not in the committed calibration`);
      continue;
    }
    if (config.prices.asOf !== old.prices.asOf)
      problems.push(
        `${name}: priced at the ${config.prices.asOf} list prices, committed at ${old.prices.asOf}`,
      );
    const exact = (key: string) => (isBytes(key) ? TOLERANCE.bytes : 0);
    for (const [op, cost] of Object.entries(config.operations))
      problems.push(
        ...compareCost(`${name} ${op}`, cost, old.operations[op as keyof typeof old.operations], exact),
      );
    problems.push(
      ...compareCost(`${name} getData (large)`, config.large.getData, old.large.getData, exact),
      ...compareCost(`${name} setData (large)`, config.large.setData, old.large.setData, exact),
      ...compareCost(`${name} watch notification`, config.watchNotification, old.watchNotification, exact),
      ...compareCost(`${name} deployment per day`, config.deploymentPerDay, old.deploymentPerDay, exact),
      ...compareCost(
        `${name} idle client per day`,
        config.idleClientPerDay,
        old.idleClientPerDay,
        () => TOLERANCE.idle,
      ),
      ...compareBatched(name, config.batched, old.batched, exact),
    );
    const idle = config.idleClientPerDay.dollars - config.idleClientPerDay.computeDollars;
    const oldIdle = old.idleClientPerDay.dollars - old.idleClientPerDay.computeDollars;
    if (!within(idle, oldIdle, TOLERANCE.idle))
      problems.push(
        `${name} idle client per day: $${idle.toPrecision(3)} without compute, committed $${oldIdle.toPrecision(3)}`,
      );
  }
  return problems;
}
