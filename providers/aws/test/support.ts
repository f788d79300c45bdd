import { randomUUID } from 'node:crypto';
import {
  type DeploymentTarget,
  type GuaranteeArea,
  guaranteeAreas,
  requireOrSkip,
  type SkippableContext,
} from '@faaskeeper/core/testkit';
import { afterAll, beforeEach, describe } from 'vitest';
import { type AwsClients, createAwsClients } from '../src/aws-clients.js';
import type { UserStoreKind } from '../src/config.js';
import { type LocalAwsStack, localAwsStackMissing, startLocalAwsStack } from '../src/local/local-stack.js';
import { localAwsTarget } from '../src/local/target.js';

/**
 * True when the local AWS stack can run here. Elsewhere it skips the test with a message naming
 * what is missing — except on CI, where the emulators are always present and a missing one fails.
 */
export function requireLocalStack(ctx: SkippableContext): boolean {
  return requireOrSkip(ctx, localAwsStackMissing(), 'the local AWS stack');
}

/** The stack of one test file and SDK clients pointed at it. */
export interface StackHandle {
  stack: LocalAwsStack;
  clients: AwsClients;
}

/**
 * One local AWS stack per test file, started on first use and stopped after the file's tests
 * (by PID). Call at the top level of a test file.
 */
export function useLocalStack(): () => Promise<StackHandle> {
  let started: Promise<StackHandle> | undefined;
  afterAll(async () => {
    if (started === undefined) return;
    const handle = await started.catch(() => undefined);
    handle?.clients.destroy();
    await handle?.stack.stop();
  });
  return () => {
    started ??= startLocalAwsStack().then((stack) => ({ stack, clients: createAwsClients(stack.endpoints) }));
    return started;
  };
}

/** A resource name no other test uses (letters, digits and `-`). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 12)}`;
}

/**
 * Runs `areas` of the core's portable guarantee suite on a local AWS stack of this test file (a
 * fresh deployment per test). Each test skips with a message where the emulators cannot run, and
 * fails on CI; once the stack is known to run, the check (which starts a JVM) is not repeated.
 */
export function describeGuaranteesOnLocalStack(
  areas: readonly (GuaranteeArea | ((target: DeploymentTarget) => void))[],
  /** Each user store to run them on (default: the local deployment's, DynamoDB). */
  userStores: readonly (UserStoreKind | undefined)[] = [undefined],
): void {
  const stack = useLocalStack();
  for (const userStore of userStores) describeOn(stack, areas, userStore);
}

function describeOn(
  stack: ReturnType<typeof useLocalStack>,
  areas: readonly (GuaranteeArea | ((target: DeploymentTarget) => void))[],
  userStore: UserStoreKind | undefined,
): void {
  const target = localAwsTarget(async () => (await stack()).stack, userStore);
  describe('guarantees on the local AWS stack', () => {
    let available = false;
    beforeEach((ctx) => {
      if (!available) available = requireLocalStack(ctx);
    });
    for (const area of areas) (typeof area === 'function' ? area : guaranteeAreas[area])(target);
  });
}
