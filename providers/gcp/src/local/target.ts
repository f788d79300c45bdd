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
      await settle(3);
    },
    quiet: () => new Promise((resolve) => setTimeout(resolve, QUIET_MS)),
    // A test makes a deployment (topics, subscriptions, bootstrap) and many ~0.2 s writes.
    testTimeoutMs: 60_000,
  };
}
