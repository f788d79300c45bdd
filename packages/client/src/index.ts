/**
 * @faaskeeper/client — the public face of the FaaSKeeper client, and recipes.
 *
 * The client itself (`FaaSKeeperClient`: the request pipeline, consistent reads, watches and
 * liveness) is implemented in `@faaskeeper/core`, under `packages/core/src/client/`, because core
 * constructs clients: the embedded deployment's `connect()` and the local deployments on emulators
 * return one, and core cannot depend on this package without a cycle. This package re-exports it
 * unchanged with its types and errors, so applications depend on one name, and adds the recipes.
 * @packageDocumentation
 */
export {
  type ACL,
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
  generateDigest,
  type Id,
  Ids,
  isFaaSKeeperError,
  type MultiErrorResult,
  type NodeAcl,
  type NodeData,
  type Op,
  type OpResult,
  Perms,
  parseAclText,
  permString,
  type RemoveWatchesOptions,
  type SessionState,
  type Stat,
  type VersionOption,
  type WatchEventType,
  type WatchedEvent,
  type Watcher,
  type WatchOption,
} from '@faaskeeper/core';
