/**
 * ZooKeeper's numbers: opcodes (ZooDefs.OpCode), watch event types and states (Watcher.java),
 * error codes (KeeperException.Code), special xids (ClientCnxn), create flags (CreateMode) and
 * watcher types (WatcherType).
 */
import { CreateMode, ErrorCodes, type FaaSKeeperError, isFaaSKeeperError } from '@faaskeeper/core';
import { JuteError } from './jute/io.js';

export const OpCode = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const;

export const Xid = { notification: -1, ping: -2, auth: -4, setWatches: -8 } as const;

export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const;

export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Closed: 7,
  Expired: -112,
} as const;

/** ZooKeeper's error codes; the core's FaaSKeeperError names carry the same numbers. */
export const Err = ErrorCodes;

/** WatcherType of checkWatches/removeWatches. */
export const WatcherType = { Children: 1, Data: 2, Any: 3, Persistent: 4, PersistentRecursive: 5 } as const;

/** AddWatchMode of addWatch. */
export const AddWatchMode = { Persistent: 0, PersistentRecursive: 1 } as const;

/** CreateMode flags on the wire, by their core name. */
const CREATE_FLAGS: Record<number, CreateMode> = {
  0: CreateMode.PERSISTENT,
  1: CreateMode.EPHEMERAL,
  2: CreateMode.PERSISTENT_SEQUENTIAL,
  3: CreateMode.EPHEMERAL_SEQUENTIAL,
  4: CreateMode.CONTAINER,
  5: CreateMode.PERSISTENT_WITH_TTL,
  6: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
};

/** The create mode of wire flags, or undefined for flags ZooKeeper refuses. */
export function createModeOf(flags: number): CreateMode | undefined {
  return CREATE_FLAGS[flags];
}

/** ZooKeeper's error number for anything an operation threw. */
export function errnoOf(error: unknown): number {
  if (isFaaSKeeperError(error)) return (error as FaaSKeeperError).errno;
  if (error instanceof JuteError) return ErrorCodes.MARSHALLINGERROR;
  return ErrorCodes.SYSTEMERROR;
}

const WORDS = [
  'conf',
  'cons',
  'crst',
  'dirs',
  'dump',
  'envi',
  'gtmk',
  'ruok',
  'stmk',
  'srvr',
  'srst',
  'stat',
  'wchc',
  'wchp',
  'wchs',
  'mntr',
  'isro',
] as const;
export type FourLetterWord = (typeof WORDS)[number];

/** The four-letter word these 4 bytes spell, if they spell one ZooKeeper knows. */
export function fourLetterWord(bytes: Uint8Array): FourLetterWord | undefined {
  if (bytes.byteLength < 4) return undefined;
  const word = String.fromCharCode(bytes[0]!, bytes[1]!, bytes[2]!, bytes[3]!);
  return (WORDS as readonly string[]).includes(word) ? (word as FourLetterWord) : undefined;
}
