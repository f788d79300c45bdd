/*
 * Checks of the client's arguments before anything is sent (and the write ops built from them), so a bad call fails at once with
 * BADARGUMENTS (the limits of docs/guarantees.md "Limits": paths, 1 MiB of data, versions, modes and
 * TTLs) instead of costing a round trip through the writer.
 */

import { CreateMode, modeTraits } from '../model/create-mode.js';
import { FaaSKeeperError } from '../model/errors.js';
import { MAX_DATA_BYTES } from '../model/limits.js';
import { validatePath } from '../model/path.js';
import type { ACL, MultiOpRequest, NullDataFlag, RequestOp } from '../protocol/messages.js';
import { SESSION_KEY_BYTES } from '../session/auth.js';
import type { AddWatchMode, ClientOptions, Data, Op, RemoveWatchType, Watcher } from './types.js';

const encoder = new TextEncoder();

/** Node data as bytes: a string is taken as UTF-8, absent data is empty. */
const toBytes = (data: Exclude<Data, null> | undefined): Uint8Array =>
  data === undefined ? new Uint8Array(0) : typeof data === 'string' ? encoder.encode(data) : data;

/**
 * The data of a create or setData as sent: `null` is ZooKeeper's null (empty bytes and the
 * `nullData` flag), anything else is encoded and checked; absent data stays empty bytes, not null.
 * @throws FaaSKeeperError BADARGUMENTS for data that is not bytes, a string or null, or is too big.
 */
export function dataFields(data: Data | undefined, path: string): { data: Uint8Array } & NullDataFlag {
  if (data === null) return { data: new Uint8Array(0), nullData: true };
  // Every UTF-16 code unit encodes to at least one byte: a string longer than the limit is refused
  // before its (possibly huge) encoding is made.
  if (typeof data === 'string' && data.length > MAX_DATA_BYTES)
    throw new FaaSKeeperError(
      'BADARGUMENTS',
      `BADARGUMENTS: data is at least ${data.length} bytes, over the limit of ${MAX_DATA_BYTES}`,
      { path },
    );
  const bytes = toBytes(data);
  checkData(bytes, path);
  return { data: bytes };
}

/** @throws FaaSKeeperError BADARGUMENTS for data that is not bytes or is over {@link MAX_DATA_BYTES}. */
function checkData(data: Uint8Array, path: string): void {
  if (!(data instanceof Uint8Array))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: data must be a Uint8Array, a string or null', {
      path,
    });
  if (data.byteLength > MAX_DATA_BYTES) {
    throw new FaaSKeeperError(
      'BADARGUMENTS',
      `BADARGUMENTS: data is ${data.byteLength} bytes, over the limit of ${MAX_DATA_BYTES}`,
      { path },
    );
  }
}

/** The expected version (-1: any). @throws FaaSKeeperError BADARGUMENTS for anything but an integer ≥ -1. */
export function checkVersion(version: number | undefined, path: string): number {
  const v = version ?? -1;
  if (!Number.isSafeInteger(v) || v < -1)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad version ${String(version)}`, { path });
  return v;
}

/** @throws FaaSKeeperError BADARGUMENTS when `watcher` is not a function. */
export function checkWatcher(watcher: unknown, path: string, what = 'watcher'): asserts watcher is Watcher {
  if (typeof watcher !== 'function')
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: ${what} must be a function`, { path });
}

const REMOVE_WATCH_TYPES: readonly unknown[] = ['data', 'children', 'persistent', 'recursive', 'any'];

/** The watch class an addWatch sets. @throws FaaSKeeperError BADARGUMENTS for a bad path, watcher or mode. */
export function addWatchArguments(
  path: string,
  watcher: Watcher,
  mode: AddWatchMode,
): 'persistent' | 'recursive' {
  validatePath(path);
  checkWatcher(watcher, path);
  if (mode === 'PERSISTENT') return 'persistent';
  if (mode === 'PERSISTENT_RECURSIVE') return 'recursive';
  throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad watch mode ${String(mode)}`, { path });
}

/** The class of watch to remove, `any` by default. @throws FaaSKeeperError BADARGUMENTS for an unknown one. */
export function checkRemoveWatchType(type: RemoveWatchType | undefined, path: string): RemoveWatchType {
  if (type === undefined) return 'any';
  if (!REMOVE_WATCH_TYPES.includes(type))
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad watch type ${String(type)}`, { path });
  return type;
}

/**
 * An ACL as sent: a copy of its entries. The writer judges schemes and ids (INVALIDACL); this
 * refuses at once what ZooKeeper's Java client refuses before sending, an empty list.
 * @throws FaaSKeeperError INVALIDACL for an empty list; BADARGUMENTS for anything but an array.
 */
export function aclArgument(acl: readonly ACL[], path: string): ACL[] {
  if (!Array.isArray(acl))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: acl must be an array of ACL entries', { path });
  if (acl.length === 0) throw new FaaSKeeperError('INVALIDACL', `INVALIDACL: ${path}`, { path });
  return acl.map((e: ACL) => ({ perms: e?.perms, id: { scheme: e?.id?.scheme, id: e?.id?.id } }) as ACL);
}

/** A setData as sent: path, data and version checked. */
export function setDataOp(
  path: string,
  data: Data,
  version: number | undefined,
): Extract<RequestOp, { type: 'setData' }> {
  validatePath(path);
  const fields = dataFields(data, path);
  const v = checkVersion(version, path);
  // Spelled out rather than spread into the middle of a literal: V8 copies such a spread through
  // a generic runtime path, and this is every write's.
  return fields.nullData === true
    ? { type: 'setData', path, data: fields.data, nullData: true, version: v }
    : { type: 'setData', path, data: fields.data, version: v };
}

/** A delete as sent: path and version checked. */
export function deleteOp(path: string, version: number | undefined): Extract<RequestOp, { type: 'delete' }> {
  validatePath(path);
  return { type: 'delete', path, version: checkVersion(version, path) };
}

/** A setACL as sent: path, ACL and version checked. */
export function setACLOp(
  path: string,
  acl: readonly ACL[],
  version: number,
): Extract<RequestOp, { type: 'setACL' }> {
  validatePath(path);
  const entries = aclArgument(acl, path);
  return { type: 'setACL', path, acl: entries, version: checkVersion(version, path) };
}

/** The fields of a create as sent: path checked for its mode, data encoded, mode defaulted. */
export function createFields(
  path: string,
  data: Data | undefined,
  mode: CreateMode | undefined,
  ttlMs: number | undefined,
  acl?: readonly ACL[],
): Omit<Extract<MultiOpRequest, { op: 'create' }>, 'op'> {
  const m = mode ?? CreateMode.PERSISTENT;
  const traits = modeTraits(m, ttlMs);
  validatePath(path, traits.sequential);
  return {
    path,
    ...dataFields(data, path),
    mode: m,
    ...(ttlMs === undefined ? {} : { ttlMs }),
    ...(acl === undefined ? {} : { acl: aclArgument(acl, path) }),
  };
}

/** The ops of a multi as sent, each checked like the single call it stands for. */
export function multiOps(ops: Op[]): MultiOpRequest[] {
  if (!Array.isArray(ops))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: multi takes an array of ops');
  return ops.map((o): MultiOpRequest => {
    switch (o?.op) {
      case 'create':
        return { op: 'create', ...createFields(o.path, o.data, o.mode, o.ttlMs, o.acl) };
      case 'delete':
        validatePath(o.path);
        return { op: 'delete', path: o.path, version: checkVersion(o.version, o.path) };
      case 'setData':
        validatePath(o.path);
        return {
          op: 'setData',
          path: o.path,
          ...dataFields(o.data, o.path),
          version: checkVersion(o.version, o.path),
        };
      case 'check':
        validatePath(o.path);
        return { op: 'check', path: o.path, version: checkVersion(o.version, o.path) };
      default:
        throw new FaaSKeeperError(
          'BADARGUMENTS',
          `BADARGUMENTS: unknown multi op ${JSON.stringify((o as { op?: unknown })?.op)}`,
        );
    }
  });
}

/** The `addAuth` request for `addAuth(scheme, auth)`; bytes are taken as UTF-8. @throws FaaSKeeperError BADARGUMENTS. */
export function authArguments(
  scheme: unknown,
  auth: unknown,
): { type: 'addAuth'; scheme: string; auth: string } {
  if (typeof scheme !== 'string')
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: addAuth needs a scheme');
  if (typeof auth !== 'string' && !(auth instanceof Uint8Array))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: addAuth needs auth as a string or bytes');
  return { type: 'addAuth', scheme, auth: typeof auth === 'string' ? auth : new TextDecoder().decode(auth) };
}

/**
 * The session timeout `connect` opens with, after checking its options.
 * @throws FaaSKeeperError BADARGUMENTS for a bad timeout, a resume without the session's id and
 * key, or a session key of the wrong length.
 */
export function connectArguments(options: ClientOptions): number {
  const timeout = options.sessionTimeoutMs ?? 10_000;
  if (!Number.isSafeInteger(timeout) || timeout <= 0)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: bad sessionTimeoutMs ${timeout}`);
  if (options.resume === true && (options.sessionId === undefined || options.sessionKey === undefined))
    throw new FaaSKeeperError('BADARGUMENTS', 'BADARGUMENTS: resume needs the sessionId and sessionKey');
  if (options.sessionKey !== undefined && options.sessionKey.byteLength !== SESSION_KEY_BYTES)
    throw new FaaSKeeperError('BADARGUMENTS', `BADARGUMENTS: sessionKey must be ${SESSION_KEY_BYTES} bytes`);
  return timeout;
}
