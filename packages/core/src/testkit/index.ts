/**
 * @faaskeeper/core/testkit — contract suites for adapters, fault injection and history checking.
 * @packageDocumentation
 */

export * from '../memory/meter-per-op.js';
export * from './contracts/index.js';
export * from './faults/index.js';
export * from './guarantees/index.js';
export * from './linearizability/index.js';
export * from './require-or-skip.js';
export * from './target.js';
export * from './wait-recording-clock.js';
