export * from './checker.js';
export * from './history.js';
export * from './znode-model.js';
