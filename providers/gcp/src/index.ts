/**
 * @faaskeeper/gcp — FaaSKeeper on Google Cloud: Datastore, Pub/Sub and Cloud Functions adapters
 * for the core's ports, and a local stack on Google's emulators.
 * @packageDocumentation
 */
export * from './datastore-client.js';
export { DatastoreSystemStore, type DatastoreSystemStoreOptions } from './datastore-system-store.js';
export { DatastoreUserStore, type DatastoreUserStoreOptions } from './datastore-user-store.js';
export * from './deploy/index.js';
export * from './deployment.js';
export { grpcCode, translateError } from './errors.js';
export * from './functions/gcp-functions.js';
export * from './functions/handlers.js';
export { GcsUserStore, type GcsUserStoreOptions } from './gcs-user-store.js';
export * from './local/emulators.js';
export * from './local/functions-server.js';
export * from './local/local-deployment.js';
export * from './local/local-stack.js';
export * from './local/storage-emulator.js';
export * from './local/target.js';
export * from './pricing.js';
export { PubSubChannel, type PubSubChannelOptions } from './pubsub-channel.js';
export {
  closePubSubClients,
  type PubSubClientOption,
  type PubSubClients,
  pubsubClients,
} from './pubsub-client.js';
export { PubSubQueue, type PubSubQueueOptions } from './pubsub-queue.js';
