/**
 * Contract suites for adapters: one `describe…Contract` function per port. An adapter package
 * runs the suite of each port it implements against its own factory; the in-memory adapters run
 * them in `packages/core/test/contracts/memory.test.ts`.
 */
export * from './channel-contract.js';
export * from './queue-contract.js';
export * from './runtime-contract.js';
export type { FixtureCleanup } from './support.js';
export * from './system-store-contract.js';
export * from './user-store-contract.js';
