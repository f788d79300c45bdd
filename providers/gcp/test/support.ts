import { afterAll, beforeAll, expect, it } from 'vitest';
import { type LocalGcpStack, missingEmulators, startLocalGcpStack } from '../src/index.js';

/** Why the GCP tests cannot run here (`undefined`: they can), decided at run time. */
export const missing = missingEmulators();

/**
 * Registers GCP tests when the emulators are present; otherwise one test that says what is missing
 * (and fails on CI, where the emulators must be present, so that a suite never silently stops running).
 */
export function whenEmulators(register: (stack: () => LocalGcpStack) => void): void {
  if (missing !== undefined) {
    it('runs the GCP tests on the local emulators', () => {
      console.warn(`GCP tests not run: ${missing}`);
      if (process.env.CI) expect(missing).toBeUndefined();
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
