import {
  type BatchHandler,
  bootstrap,
  type Clock,
  createFunctions,
  errorFields,
  type FunctionSecrets,
  jsonLogger,
  type Logger,
  type LogLevel,
  type Meter,
  noMeter,
  secretsFromEnv,
  systemClock,
} from '@faaskeeper/core';
import { Datastore } from '@google-cloud/datastore';
import { type HttpFunction, http } from '@google-cloud/functions-framework';
import {
  type GcpDeploymentConfig,
  type GcpPorts,
  openGcpPorts,
  resourceNames,
  SUBSCRIPTION_SUFFIX_ENV,
} from '../deployment.js';
import {
  distributorOrderGuard,
  type FunctionSize,
  pushFunction,
  scheduledFunction,
  writerOrderGuard,
} from './handlers.js';

/** The three functions of a deployment, as HTTP functions. */
export interface GcpFunctions {
  /** Behind the writer topic's ordered push subscription. */
  writer: HttpFunction;
  /** Behind the distributor topic's ordered push subscription. */
  distributor: HttpFunction;
  /** Called by Cloud Scheduler. */
  heartbeat: HttpFunction;
}

/** Options of {@link createGcpFunctions}. */
export interface GcpFunctionsOptions {
  /** The Datastore client of the deployment (the distributor's order guard keeps its progress there). */
  datastore: Datastore;
  /** Deployment name (the namespace of the progress record). */
  deployment: string;
  clock?: Clock;
  /** Clock skew allowed between functions. Default 1 s. */
  clockSkewMs?: number;
  /** Cloud Functions' timeout of each function. Default 60 s. */
  timeoutMs?: number;
  meter?: Meter;
  /** Counts invocations, vCPU-seconds and GiB-seconds of the three functions. Default: `meter`. */
  functionMeter?: Meter;
  /** The functions' configured memory and vCPU (what compute is billed for). Default 256 MiB, 0.167 vCPU. */
  functionSize?: FunctionSize;
  onError?: (functionName: string, error: unknown) => void;
  /** Where the functions log what they drop, refuse or retry. Default JSON lines on stderr (Cloud Logging parses them). */
  logger?: Logger;
  /** Test hook: awaited by the distributor between two record writes. */
  betweenDistributorWrites?: (path: string) => Promise<void>;
  /**
   * Wraps the writer's and distributor's core handlers inside the HTTP function (crash injection:
   * what the wrapped handler throws is answered non-2xx, so Pub/Sub pushes the message again).
   */
  wrapHandler?: (functionName: 'writer' | 'distributor', handler: BatchHandler) => BatchHandler;
  /** The deployment's secrets (channel secret, super digest, gateway key). Default: none. */
  secrets?: FunctionSecrets;
}

/**
 * The writer, distributor and heartbeat of a deployment as HTTP Cloud Functions: the core's
 * handlers wrapped by {@link pushFunction} (acknowledge after success, order guards against a
 * redelivery that overtook its predecessor) and {@link scheduledFunction}.
 */
export function createGcpFunctions(ports: GcpPorts, options: GcpFunctionsOptions): GcpFunctions {
  const clock = options.clock ?? systemClock;
  const meter = options.meter ?? noMeter;
  const logger = options.logger ?? jsonLogger();
  const common = {
    clock,
    meter,
    logger,
    functionMeter: options.functionMeter ?? meter,
    timeoutMs: options.timeoutMs ?? 60_000,
    ...(options.functionSize ? { size: options.functionSize } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  };
  const functions = createFunctions(ports, {
    clock,
    logger,
    ...options.secrets,
    ...(options.clockSkewMs === undefined ? {} : { clockSkewMs: options.clockSkewMs }),
    ...(options.wrapHandler === undefined ? {} : { wrapHandler: options.wrapHandler }),
    ...(options.betweenDistributorWrites === undefined
      ? {}
      : { betweenDistributorWrites: options.betweenDistributorWrites }),
  });
  return {
    writer: pushFunction(functions.writer, {
      ...common,
      functionName: 'writer',
      order: writerOrderGuard(ports.systemStore),
    }),
    distributor: pushFunction(functions.distributor, {
      ...common,
      functionName: 'distributor',
      order: distributorOrderGuard({
        datastore: options.datastore,
        namespace: resourceNames(options.deployment).namespace,
        meter,
      }),
    }),
    heartbeat: scheduledFunction(functions.heartbeat, { ...common, functionName: 'heartbeat' }),
  };
}

/**
 * The deployment's configuration from a Cloud Function's environment (what the deployment sets):
 * `FAASKEEPER_DEPLOYMENT`, `GOOGLE_CLOUD_PROJECT`, and `FAASKEEPER_BUCKET` for a Cloud Storage user
 * store, or `FAASKEEPER_PROTECTED_BUCKET` for the protected zone of a Datastore user store, and
 * `FAASKEEPER_SUBSCRIPTION_SUFFIX` (the secret suffix of the fixed subscriptions) where the function
 * pulls one (the heartbeat), and `FAASKEEPER_CHANNEL_GRACE_MS` (how long a channel a session left is
 * kept for its client, {@link GcpDeploymentConfig.channelGraceMs}; unset: 10 minutes) where it is
 * set. Emulator endpoints come from `DATASTORE_EMULATOR_HOST` /
 * `PUBSUB_EMULATOR_HOST` as usual.
 */
export function configFromEnvironment(env: NodeJS.ProcessEnv = process.env): GcpDeploymentConfig {
  const deployment = env.FAASKEEPER_DEPLOYMENT;
  if (!deployment) throw new Error('FAASKEEPER_DEPLOYMENT is not set');
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  const project = projectId === undefined ? {} : { projectId };
  const suffix = env[SUBSCRIPTION_SUFFIX_ENV];
  const grace = env.FAASKEEPER_CHANNEL_GRACE_MS;
  const channelGraceMs = grace ? Number(grace) : undefined;
  if (channelGraceMs !== undefined && !(Number.isSafeInteger(channelGraceMs) && channelGraceMs >= 0))
    throw new Error(`FAASKEEPER_CHANNEL_GRACE_MS is not a number of milliseconds: ${grace}`);
  return {
    deployment,
    datastore: project,
    pubsub: project,
    ...(suffix ? { subscriptionSuffix: suffix } : {}),
    ...(channelGraceMs === undefined ? {} : { channelGraceMs }),
    ...(env.FAASKEEPER_BUCKET
      ? { userStore: { type: 'gcs', bucket: env.FAASKEEPER_BUCKET, storage: project } }
      : env.FAASKEEPER_PROTECTED_BUCKET
        ? {
            userStore: {
              type: 'datastore',
              protectedBucket: { bucket: env.FAASKEEPER_PROTECTED_BUCKET, storage: project },
            },
          }
        : {}),
  };
}

/**
 * The three entry points of an instance, opening the functions with `open` on the first call and
 * reusing them. A failed start-up (ports that cannot be opened, a bootstrap that fails) is logged
 * with its cause and answered 503 with the cause in the body: Pub/Sub pushes the message again, a
 * scheduler call is retried by the next run, and the next invocation tries to start again.
 */
export function lazyGcpFunctions(open: () => Promise<GcpFunctions>, logger: Logger): GcpFunctions {
  let opened: Promise<GcpFunctions> | undefined;
  const functions = () => {
    opened ??= open().catch((error: unknown) => {
      opened = undefined; // the next invocation tries again
      throw error;
    });
    return opened;
  };
  const entry =
    (name: keyof GcpFunctions): HttpFunction =>
    async (req, res) => {
      let fns: GcpFunctions;
      try {
        fns = await functions();
      } catch (error) {
        logger.error('start-up failed: the function could not open the deployment', {
          function: name,
          ...errorFields(error),
        });
        const cause = error instanceof Error ? error.message : String(error);
        res.status(503).send(`start-up failed: ${cause}`); // refused: Pub/Sub pushes again later
        return;
      }
      await fns[name](req, res);
    };
  return { writer: entry('writer'), distributor: entry('distributor'), heartbeat: entry('heartbeat') };
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * Registers `writer`, `distributor` and `heartbeat` with the functions framework (the entry point a
 * Cloud Functions deployment names). The ports open on the first invocation and are reused by later
 * invocations of the same instance. Logs are JSON lines on stderr at `LOG_LEVEL` (default `info`),
 * which Cloud Logging turns into structured entries with their severity.
 */
export function registerGcpFunctions(
  config: GcpDeploymentConfig = configFromEnvironment(),
  options: { logger?: Logger } = {},
): void {
  const level = LOG_LEVELS.find((l) => l === process.env.LOG_LEVEL?.toLowerCase()) ?? 'info';
  const logger = options.logger ?? jsonLogger({ level });
  const functions = lazyGcpFunctions(async () => {
    const ports = await openGcpPorts(config, 'push');
    await bootstrap(ports.systemStore, ports.userStore);
    const datastore =
      config.datastore instanceof Datastore ? config.datastore : new Datastore(config.datastore);
    return createGcpFunctions(ports, {
      datastore,
      deployment: config.deployment,
      logger,
      // Set by the Terraform configuration on the writer and distributor.
      secrets: secretsFromEnv(process.env),
      ...(config.meter ? { meter: config.meter } : {}),
    });
  }, logger);
  for (const name of ['writer', 'distributor', 'heartbeat'] as const) http(name, functions[name]);
}
