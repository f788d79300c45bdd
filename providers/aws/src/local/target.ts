import { settle } from '@faaskeeper/core';
import type { DeploymentTarget } from '@faaskeeper/core/testkit';
import type { UserStoreKind } from '../config.js';
import { createLocalAwsDeployment } from './local-deployment.js';
import type { LocalAwsStack } from './local-stack.js';

/** Real time a step takes to reach the emulators and back (an SQS send, a poll, a DynamoDB write). */
const SETTLE_MS = 5;
/** Long enough that a read or event that must not come would have come over the emulators. */
const QUIET_MS = 500;

/**
 * The local AWS stack as a {@link DeploymentTarget} for the portable suites (the guarantee suite,
 * randomised fault runs): every `deploy` is a fresh deployment (its own tables, bucket and queues,
 * under a fresh random name) on the one running stack `stack()` resolves, and closing it deletes
 * those resources but leaves the stack running. Settling waits a few milliseconds of real time,
 * since the functions and clients wait on the emulators rather than on microtasks.
 */
export function localAwsTarget(
  stack: () => Promise<LocalAwsStack>,
  /** The user store (default: the local deployment's, DynamoDB). */
  userStore?: UserStoreKind,
): DeploymentTarget {
  return {
    name: userStore === undefined ? 'aws (local)' : `aws (local, ${userStore} user store)`,
    deploy: async (options) =>
      createLocalAwsDeployment({
        ...options,
        stack: await stack(),
        ...(userStore === undefined ? {} : { userStore }),
      }),
    settle: async () => {
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      await settle(3);
    },
    quiet: () => new Promise((resolve) => setTimeout(resolve, QUIET_MS)),
    testTimeoutMs: 60_000,
  };
}
