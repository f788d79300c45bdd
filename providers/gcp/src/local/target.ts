import { settle } from '@faaskeeper/core';
import type { DeploymentTarget } from '@faaskeeper/core/testkit';
import { createLocalGcpDeployment } from './local-deployment.js';
import type { LocalGcpStack } from './local-stack.js';

/** Options of {@link localGcpTarget}. */
export interface LocalGcpTargetOptions {
  /** How the functions are invoked (see `LocalGcpDeploymentOptions.invocation`). Default `'pull'`. */
  invocation?: 'pull' | 'push';
  /** Where node records live. Default `'datastore'`; `'gcs'` needs the stack's Cloud Storage emulator. */
  userStore?: 'datastore' | 'gcs';
}

/** Real time for a step's work to reach its next emulator call (a local gRPC/HTTP round trip is ~1 ms). */
const SETTLE_MS = 5;
/**
 * Real time in which what must not happen would very likely have happened were the guarantee
 * broken: a write through the writer and distributor takes ~0.2 s on the emulators.
 */
const QUIET_MS = 600;

/**
 * One round trip to each emulator the functions and clients wait on (a lookup of a key and of a
 * topic that do not exist, on the stack's own unmetered clients). A test's clock then moves no
 * faster than the emulators answer: when they are slow (a loaded machine, a JVM pause), a step of
 * the manual clock waits as long as a renewal or a heartbeat's pull does, so that a session whose
 * client keeps renewing is not expired by a clock that outran its renewals. Fixed real-time steps
 * alone let a loaded run advance 4 s of session time before a renewal reached Pub/Sub.
 */
async function pace(stack: LocalGcpStack): Promise<void> {
  const key = stack.datastoreClient.key({ namespace: PROBE, path: [PROBE, PROBE] });
  await Promise.all([stack.datastoreClient.get(key), stack.pubsubClient.topic(PROBE).exists()]);
}

/** Names of the pacing probes: a Datastore namespace, kind and key, and a topic, never created. */
const PROBE = 'fk-settle-probe';

/**
 * The local GCP deployment as a `DeploymentTarget` of core's portable suites: every `deploy` makes a
 * fresh deployment (its own Datastore namespace, Pub/Sub topics and, on push, function servers) on
 * the one running stack that `stack` returns (asked at deploy time, so that the stack may start in a
 * `beforeAll` after the suite is registered).
 */
export function localGcpTarget(
  stack: () => LocalGcpStack,
  options: LocalGcpTargetOptions = {},
): DeploymentTarget {
  const invocation = options.invocation ?? 'pull';
  const userStore = options.userStore ?? 'datastore';
  return {
    name: `gcp ${invocation} ${userStore} (local)`,
    deploy: (deploymentOptions) =>
      createLocalGcpDeployment({ ...deploymentOptions, stack: stack(), invocation, userStore }),
    settle: async () => {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      await pace(stack());
      await settle(3);
    },
    quiet: () => new Promise((resolve) => setTimeout(resolve, QUIET_MS)),
    // A test makes a deployment (topics, subscriptions, bootstrap) and many ~0.2 s writes.
    testTimeoutMs: 60_000,
  };
}
