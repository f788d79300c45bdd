/**
 * @faaskeeper/gcp — FaaSKeeper on Google Cloud: the Datastore, Cloud Storage and Pub/Sub adapters of
 * the core's ports, and `connect()`. Loading it loads the Google client libraries it needs and
 * nothing else: the Cloud Functions are in `@faaskeeper/gcp/functions`, the local emulator stack in
 * `@faaskeeper/gcp/local`, the Terraform deployment in `@faaskeeper/gcp/deploy`.
 * @packageDocumentation
 */
export {
  ChannelReapRecords,
  type ChannelReapRecordsOptions,
  DEFAULT_CHANNEL_GRACE_MS,
  MAX_REAPS_PER_RUN,
} from './channel-reap.js';
export * from './datastore-client.js';
export { DatastoreSystemStore, type DatastoreSystemStoreOptions } from './datastore-system-store.js';
export { DatastoreUserStore, type DatastoreUserStoreOptions } from './datastore-user-store.js';
export * from './deployment.js';
export { grpcCode, translateError } from './errors.js';
export { GcsUserStore, type GcsUserStoreOptions } from './gcs-user-store.js';
export * from './pricing.js';
export { PubSubChannel, type PubSubChannelOptions } from './pubsub-channel.js';
export {
  closePubSubClients,
  type PubSubClientOption,
  type PubSubClients,
  pubsubClients,
} from './pubsub-client.js';
export { PubSubQueue, type PubSubQueueOptions } from './pubsub-queue.js';
