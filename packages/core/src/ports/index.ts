export * from './channel.js';
export * from './clock.js';
export * from './errors.js';
export * from './meter.js';
export * from './queue.js';
export * from './runtime.js';
export * from './system-store.js';
export * from './user-store.js';
