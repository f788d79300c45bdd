import { settle } from '../../memory/manual-clock.js';
import type { ItemKey, TransactOp } from '../../ports/system-store.js';

/**
 * What a contract suite's factory returns besides the port under test: an optional `cleanup`
 * (drop the table, delete the queue) that the suite awaits after every test, pass or fail.
 */
export interface FixtureCleanup {
  cleanup?: () => Promise<void>;
}

/** Runs `body` against a fresh fixture and always cleans it up. */
export async function withFixture<F extends FixtureCleanup>(
  factory: () => Promise<F>,
  body: (fixture: F) => Promise<void>,
): Promise<void> {
  const fixture = await factory();
  try {
    await body(fixture);
  } finally {
    await fixture.cleanup?.();
  }
}

/** Waits `ms` of real time. Only for adapters without an injectable clock (cloud services). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Resolves once `done()` holds, checking after each macrotask turn and every few milliseconds of
 * real time; rejects with `what` after `timeoutMs`. Used to await asynchronous deliveries.
 */
export async function waitUntil(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!done()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await settle(2);
    if (!done()) await sleep(2);
  }
}

/** Index of the first byte where `a` and `b` differ, or -1 when they are equal (also in length). */
export function firstByteDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? -1 : n;
}

/** Deterministic pseudo-random bytes (fixed seed), covering every byte value. */
export function binaryBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    // xorshift32: deterministic and cheap.
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = i < 256 ? i : x & 0xff;
  }
  return out;
}

/** A put op of `value` at `key` on condition `expect`. */
export const put = (key: ItemKey, value: unknown, expect: TransactOp['expect']): TransactOp => ({
  type: 'put',
  ...key,
  value,
  expect,
});
