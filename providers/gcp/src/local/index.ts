/**
 * @faaskeeper/gcp/local — the local GCP stack (the Datastore and Pub/Sub emulators of the Google
 * Cloud SDK, and Firebase's Cloud Storage emulator, on 127.0.0.1) and a FaaSKeeper deployment on it,
 * for tests and `faaskeeper dev gcp`.
 * @packageDocumentation
 */
export * from './emulators.js';
export * from './functions-server.js';
export * from './local-deployment.js';
export * from './local-stack.js';
export * from './storage-emulator.js';
export * from './target.js';
