/** The part of a test context {@link requireOrSkip} uses (vitest's `TestContext` has it). */
export interface SkippableContext {
  skip(note?: string): void;
}

/** Whether the process runs on CI: `CI` is set to anything but an empty string, `false` or `0`. */
export function onCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * Lets a test that needs something from the machine (emulators, a JVM, terraform) run only where it
 * is there. `missing` says what is not (`undefined`: nothing, the test runs and this returns true).
 * Elsewhere the test is skipped with that reason — a skip, reported as one, never a pass. On CI,
 * where everything a suite needs is installed, a missing piece is a broken runner rather than a
 * reason to stop testing, so this throws and the test fails.
 * @param what What needs it, for the messages (`the local AWS stack`, `the GcsUserStore contract`).
 * @returns true when the test can run; false after `ctx.skip` (which in vitest also stops the test).
 * @throws Error on CI when something is missing.
 */
export function requireOrSkip(
  ctx: SkippableContext,
  missing: string | undefined,
  what = 'this test',
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (missing === undefined) return true;
  if (onCi(env)) throw new Error(`${what} cannot run on CI: ${missing}`);
  ctx.skip(`${what} not run: ${missing}`);
  return false;
}
