/**
 * @faaskeeper/client — the ZooKeeper-style client of a FaaSKeeper deployment, and recipes.
 *
 * The client's protocol engine lives in `@faaskeeper/core` (the embedded deployment's
 * `connect()` returns one, and core cannot depend on this package without a cycle); this package
 * is what applications import: the client, its types and errors, and the recipes.
 * @packageDocumentation
 */
export {
  type AddWatchMode,
  type ClientOptions,
  type ClientTransport,
  CreateMode,
  type CreateOptions,
  type Data,
  type ErrorCode,
  ErrorCodes,
  FaaSKeeperClient,
  FaaSKeeperError,
  isFaaSKeeperError,
  type MultiErrorResult,
  type Op,
  type OpResult,
  type SessionState,
  type Stat,
  type VersionOption,
  type WatchEventType,
  type WatchedEvent,
  type Watcher,
  type WatchOption,
} from '@faaskeeper/core';
