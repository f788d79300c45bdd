import {
  type DeploymentTarget,
  type GuaranteeArea,
  guaranteeAreas,
  requireOrSkip,
} from '@faaskeeper/core/testkit';
import { afterAll, beforeAll, it } from 'vitest';
import {
  type LocalGcpStack,
  localGcpTarget,
  missingEmulators,
  missingStorageEmulator,
  startLocalGcpStack,
} from '../src/local/index.js';

/** Why the GCP tests cannot run here (`undefined`: they can), decided at run time. */
export const missing = missingEmulators();

/**
 * Registers GCP tests when the emulators are present; otherwise one test that says what is missing
 * (and fails on CI, where the emulators must be present, so that a suite never silently stops running).
 */
export function whenEmulators(register: (stack: () => LocalGcpStack) => void): void {
  if (missing !== undefined) {
    it('runs the GCP tests on the local emulators', (ctx) => {
      requireOrSkip(ctx, missing, 'the GCP tests');
    });
    return;
  }
  let stack: LocalGcpStack | undefined;
  beforeAll(async () => {
    stack = await startLocalGcpStack();
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
  }, 30_000);
  register(() => {
    if (stack === undefined) throw new Error('the local GCP stack did not start');
    return stack;
  });
}

let counter = 0;
/** A name unique within this test run (namespaces, topics). */
export function unique(prefix: string): string {
  counter++;
  return `${prefix}-${process.pid}-${counter}`;
}

/**
 * Runs `areas` of the core's portable guarantee suite on a local GCP stack of this test file (a
 * fresh deployment per test): pull invocation with the Datastore user store, or push invocation
 * (the Cloud Functions path) with the Cloud Storage user store — on Firebase's Storage emulator,
 * required on CI; elsewhere without it the push runs use Datastore and one skipped test says so.
 */
export function describeGuaranteesOnLocalStack(
  invocation: 'pull' | 'push',
  areas: readonly (GuaranteeArea | ((target: DeploymentTarget) => void))[],
): void {
  whenEmulators((stack) => {
    const noStorage = invocation === 'push' ? missingStorageEmulator() : undefined;
    if (noStorage !== undefined)
      it('runs the guarantee suite with the Cloud Storage user store', (ctx) => {
        requireOrSkip(ctx, noStorage, 'the GCS guarantee tests');
      });
    const userStore = invocation === 'push' && noStorage === undefined ? 'gcs' : 'datastore';
    const target = localGcpTarget(stack, { invocation, userStore });
    for (const area of areas) (typeof area === 'function' ? area : guaranteeAreas[area])(target);
  });
}
