/**
 * @faaskeeper/core — ZooKeeper's data model and guarantees on small ports, with the writer,
 * distributor and heartbeat logic, the client engine (`FaaSKeeperClient`, which
 * `@faaskeeper/client` re-exports for applications), in-memory adapters and the embedded
 * deployment.
 * @packageDocumentation
 */

export { type Measurement, measure, percentile } from './bench/measure.js';
export { type ClientOptions, type ClientTransport, FaaSKeeperClient } from './client/client.js';
export type * from './client/types.js';
export { createDistributor, type DistributorOptions } from './distributor/distributor.js';
export { bootstrap } from './embedded/bootstrap.js';
export { ClientPool } from './embedded/client-pool.js';
export {
  createEmbeddedService,
  type Deployment,
  type DeploymentOptions,
  type EmbeddedPorts,
  type EmbeddedService,
  type EmbeddedServiceOptions,
  type PortWrappers,
} from './embedded/embedded-service.js';
export { Link as ClientLink } from './embedded/link.js';
export { BindingSet } from './memory/binding-set.js';
export { MemoryChannel } from './memory/memory-channel.js';
export { MemoryQueue, type MemoryQueueOptions } from './memory/memory-queue.js';
export { MemoryRuntime, type RuntimeErrorListener } from './memory/memory-runtime.js';
export { MemorySystemStore } from './memory/memory-system-store.js';
export { MemoryUserStore } from './memory/memory-user-store.js';
export { messagesToRetry, type PollQueueOptions, pollQueue } from './memory/poll-queue.js';
export { scheduleOnClock } from './memory/schedule.js';
export * from './model/create-mode.js';
export * from './model/errors.js';
export * from './model/limits.js';
export * from './model/path.js';
export * from './model/stat.js';
export * from './ports/index.js';
export { byteLength, decodeMessage, encodeMessage } from './protocol/codec.js';
export * from './protocol/messages.js';
export { checkRequest } from './protocol/validate.js';
export { createHeartbeat, type HeartbeatOptions } from './session/heartbeat.js';
export { clone } from './util/clone.js';
export {
  createWriter,
  DISTRIBUTOR_GROUP,
  initialWriterState,
  WRITER_GROUP,
  WRITER_STATE_ID,
  type WriterOptions,
} from './writer/writer.js';
