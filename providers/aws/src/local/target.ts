import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { settle } from '@faaskeeper/core';
import type { DeploymentTarget } from '@faaskeeper/core/testkit';
import { type AwsClients, createAwsClients } from '../aws-clients.js';
import type { UserStoreKind } from '../config.js';
import { createLocalAwsDeployment } from './local-deployment.js';
import type { LocalAwsStack } from './local-stack.js';

/** Real time a step takes to reach the emulators and back (an SQS send, a poll, a DynamoDB write). */
const SETTLE_MS = 5;
/** Long enough that a read or event that must not come would have come over the emulators. */
const QUIET_MS = 500;

/** Name of the pacing probes' table and queue, never created. */
const PROBE = 'faaskeeper-settle-probe';
/** The probes' clients, one set per stack (their idle keep-alive sockets do not hold the process). */
const probes = new WeakMap<LocalAwsStack, AwsClients>();

/**
 * One round trip to each emulator the functions and clients wait on (a table and a queue that do
 * not exist, asked for on clients of the probe's own, unmetered). A test's clock then moves no faster
 * than the emulators answer: when they are slow (a loaded machine, a JVM pause), a step of the
 * manual clock waits as long as a lease renewal does, so that a session whose client keeps renewing
 * is not expired by a clock that outran its renewals (emulator-stalls.test.ts).
 */
async function pace(stack: LocalAwsStack): Promise<void> {
  const clients = probes.get(stack) ?? createAwsClients(stack.endpoints);
  probes.set(stack, clients);
  const answered = () => undefined; // "no such table / queue" is the answer
  await Promise.all([
    clients.dynamodb.send(new DescribeTableCommand({ TableName: PROBE })).then(answered, answered),
    clients.sqs.send(new GetQueueUrlCommand({ QueueName: PROBE })).then(answered, answered),
  ]);
}

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
      await pace(await stack());
      await settle(3);
    },
    quiet: () => new Promise((resolve) => setTimeout(resolve, QUIET_MS)),
    testTimeoutMs: 60_000,
  };
}
