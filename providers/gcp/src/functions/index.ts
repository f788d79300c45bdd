/**
 * @faaskeeper/gcp/functions — the writer, distributor and heartbeat of a FaaSKeeper deployment on
 * GCP as HTTP functions for `@google-cloud/functions-framework`, the push and schedule wrappers
 * around the core's handlers, and the order guards of the push path.
 * @packageDocumentation
 */
export * from './gcp-functions.js';
export * from './handlers.js';
