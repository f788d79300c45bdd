/**
 * The calibration: what each operation, an idle client and a deployment cost on each provider, as
 * the meter counted them on the local stacks (billable requests by kind) and priced at the
 * providers' dated list prices. `faaskeeper cost --measure` regenerates it; the committed file
 * (calibration.json beside this module) is what `faaskeeper cost` reads otherwise, and a CI test
 * regenerates and compares it so that it cannot go stale.
 */
import committed from './calibration.json' with { type: 'json' };

/** The client operations measured, each at {@link Calibration.sizeBytes} of data where it writes. */
export const OPERATIONS = ['getData', 'exists', 'getChildren', 'create', 'setData', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The command that regenerates the committed file. */
export const REGENERATE_COMMAND = 'faaskeeper cost --measure --write-calibration';

/** What something costs, as the meter counted it. */
export interface MeasuredCost {
  /** Billable units by meter key (requests, bytes, read/write units), averaged per run. */
  readonly requests: Readonly<Record<string, number>>;
  /** Function compute by meter key (GB-seconds, vCPU-seconds): it follows wall time. */
  readonly compute: Readonly<Record<string, number>>;
  /** USD at the provider's list prices, compute included. */
  readonly dollars: number;
  /** The part of {@link dollars} that is function compute. */
  readonly computeDollars: number;
}

/** The writes measured at a batch: each reaches the writer queued with others, one invocation for all. */
export const BATCHED_OPERATIONS = ['create', 'setData', 'delete'] as const;
export type BatchedOperation = (typeof BATCHED_OPERATIONS)[number];

/** The batch size the batched figures are measured at: Lambda's largest for a FIFO queue. */
export const BATCH_SIZE = 10;

/** Writes at a batch from one arrangement of sessions, per write. */
export interface BatchedWrites {
  /** Each write operation at {@link Calibration.sizeBytes}. */
  readonly operations: Readonly<Record<BatchedOperation, MeasuredCost>>;
  /** setData at {@link Calibration.largeSizeBytes}: how a batched write's cost grows with the size. */
  readonly largeSetData: MeasuredCost;
}

/**
 * Writes at batch {@link BatchedCalibration.size}: that many writes queued before the writer polls
 * once and runs them in one invocation (as Lambda's event source mapping hands out a FIFO group's
 * messages under load), per write.
 */
export interface BatchedCalibration {
  /** Writes per writer invocation. */
  readonly size: number;
  /** How the batch was made. */
  readonly description: string;
  /** All writes of the batch from one session (one client pipelining). */
  readonly oneSession: BatchedWrites;
  /** Each write of the batch from a session of its own (many clients): what cannot be shared is paid per write. */
  readonly tenSessions: BatchedWrites;
}

/** The figures of one provider configuration (a user store choice). */
export interface ConfigCalibration {
  readonly provider: 'aws' | 'gcp';
  readonly userStore: string;
  /** How it was run (invocation path, function sizes). */
  readonly description: string;
  /** The provider's request price table this was priced at. */
  readonly prices: { readonly asOf: string; readonly region: string };
  /** Each operation at {@link Calibration.sizeBytes}. */
  readonly operations: Readonly<Record<Operation, MeasuredCost>>;
  /** getData and setData at {@link Calibration.largeSizeBytes}: how the cost grows with the data size. */
  readonly large: { readonly getData: MeasuredCost; readonly setData: MeasuredCost };
  /** What one watch notification adds to the write that fires it (delivering the event to one client). */
  readonly watchNotification: MeasuredCost;
  /** One idle client (connected, no operations) per day: its keep-alive and the heartbeat's work for it. */
  readonly idleClientPerDay: MeasuredCost;
  /** A deployment without clients per day: the scheduled heartbeat. */
  readonly deploymentPerDay: MeasuredCost;
  /** Writes at batch 10, or `null` where the provider never hands the writer a batch ({@link noBatch} says why). */
  readonly batched: BatchedCalibration | null;
  /** Why {@link batched} is `null`; `null` when it was measured. */
  readonly noBatch: string | null;
}

/** The calibration file. */
export interface Calibration {
  /** The day it was measured. */
  readonly measured: string;
  readonly regenerate: string;
  /** The data size of the operations (bytes). */
  readonly sizeBytes: number;
  /** The second size getData and setData were measured at. */
  readonly largeSizeBytes: number;
  /** Runs each operation figure averages over. */
  readonly runs: number;
  /** Real-clock seconds the idle clients were watched for, and how many there were. */
  readonly idleWindowSeconds: number;
  readonly idleClients: number;
  /** Heartbeat runs per day of a deployed stack (the providers' schedulers run it every minute). */
  readonly heartbeatsPerDay: number;
  readonly configs: readonly ConfigCalibration[];
}

/** The user stores of each provider, the deployed default first. */
export const USER_STORES = { aws: ['s3', 'dynamodb'], gcp: ['gcs', 'datastore'] } as const;

/** The committed calibration. */
export function committedCalibration(): Calibration {
  return committed as Calibration;
}

/** The figures of `provider`/`userStore` in `calibration`, or `undefined` when it has none. */
export function configOf(
  calibration: Calibration,
  provider: 'aws' | 'gcp',
  userStore: string,
): ConfigCalibration | undefined {
  return calibration.configs.find((c) => c.provider === provider && c.userStore === userStore);
}
