/**
 * @faaskeeper/core — ZooKeeper's data model and guarantees on small ports, with the writer,
 * distributor and heartbeat logic, the client engine (`FaaSKeeperClient`, which
 * `@faaskeeper/client` re-exports for applications), in-memory adapters and the embedded
 * deployment.
 * @packageDocumentation
 */

export { attestAddress } from './acl/attest.js';
export { generateDigest } from './acl/digest.js';
export { Ids, isOpenAcl, Perms, parseAclText, permString } from './acl/model.js';
export { type ClientOptions, type ClientTransport, FaaSKeeperClient } from './client/client.js';
export { LEASE_RENEWAL_SHARE, randomSessionId } from './client/liveness.js';
export type * from './client/types.js';
export { bootstrap } from './deployment/bootstrap.js';
export { ClientPool } from './deployment/client-pool.js';
export type { Deployment, DeploymentOptions, PortWrappers } from './deployment/deployment.js';
export { Link as ClientLink } from './deployment/link.js';
export { createDistributor, type DistributorOptions } from './distributor/distributor.js';
export {
  createEmbeddedService,
  type EmbeddedPorts,
  type EmbeddedService,
  type EmbeddedServiceOptions,
} from './embedded/embedded-service.js';
export {
  createFunctions,
  type FunctionPorts,
  type Functions,
  type FunctionsOptions,
} from './functions/create-functions.js';
export { type FunctionSecrets, SECRET_ENV, secretsFromEnv } from './functions/secrets.js';
export { ManualClock, settle } from './memory/manual-clock.js';
export { MemoryChannel } from './memory/memory-channel.js';
export { MemoryLeaseRenewer } from './memory/memory-lease.js';
export { type LogLine, MemoryLogger } from './memory/memory-logger.js';
export { MemoryQueue, type MemoryQueueOptions } from './memory/memory-queue.js';
export { MemorySystemStore } from './memory/memory-system-store.js';
export { MemoryUserStore } from './memory/memory-user-store.js';
export { meterPerOperation, quietMeter } from './memory/meter-per-op.js';
export type { MemoryStoreOptions, MemoryValues } from './memory/values.js';
export * from './model/create-mode.js';
export * from './model/errors.js';
export * from './model/limits.js';
export * from './model/path.js';
export * from './model/stat.js';
export * from './ports/index.js';
export { byteLength, decodeMessage, encodeMessage } from './protocol/codec.js';
export * from './protocol/messages.js';
export { type Checked, checkRequest, decodeChecked, readNodeRecord } from './protocol/validate.js';
export { BindingSet } from './runtime/binding-set.js';
export { MemoryRuntime, type RuntimeErrorListener } from './runtime/memory-runtime.js';
export { messagesToRetry, type PollQueueOptions, pollQueue } from './runtime/poll-queue.js';
export { type Backoff, backoffDelay, pause, type RetryOptions, retry } from './runtime/retry.js';
export { scheduleOnClock } from './runtime/schedule.js';
export {
  decodeSessionKey,
  derivedSessionKey,
  encodeSessionKey,
  newSessionKey,
  SESSION_KEY_BYTES,
  signRequest,
  splitSignature,
  verifySignature,
} from './session/auth.js';
export { CHANNEL_TAG_CHARS, channelTag } from './session/channel-tag.js';
export { createHeartbeat, type HeartbeatOptions } from './session/heartbeat.js';
export {
  type CoveringGroup,
  coveringGroup,
  type GroupMembership,
  groupLeaseId,
  groupMembership,
  groupOf,
  leaseId,
  leaseIdOf,
  type SignedRenewal,
  signGroupRenewal,
  signRenewal,
  verifiedRenewal,
} from './session/lease.js';
export { GROUP_RENEWAL_SHARE, LeaseGroup, type LeaseGroupOptions } from './session/lease-group.js';
export { LEASE_FOLD_ID, type LeaseFold, QueueLeaseRenewer } from './session/lease-inbox.js';
export { childKey, childrenAt, parseChildKey } from './tree/child-index.js';
export { migrateChildIndex } from './tree/migrate-children.js';
export { clone } from './util/clone.js';
export { mapLimit } from './util/map-limit.js';
export { logEligible } from './writer/redo-log.js';
export {
  createWriter,
  DISTRIBUTOR_GROUP,
  initialWriterState,
  WRITER_GROUP,
  WRITER_STATE_ID,
  type WriterOptions,
} from './writer/writer.js';
