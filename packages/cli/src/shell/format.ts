/**
 * The shell's output in zkCli's words and layouts (Apache ZooKeeper 3.8's `zkCli.sh`): lists as
 * `[a, b]`, stats with Java's date format, watch events as `WATCHER::` blocks and errors as zkCli's
 * sentences (`Node does not exist: /a`). packages/cli/test/zkcli-compare.test.ts checks them line by
 * line against zkCli.sh on Apache ZooKeeper.
 */
import type { FaaSKeeperError, Stat, WatchedEvent } from '@faaskeeper/client';

/**
 * What the shell prints as a watch event: one the service sent, or one ZooKeeper's client makes
 * itself when `removewatches` removes a watch (`PersistentWatchRemoved`, `DataWatchRemoved`, …).
 */
export type ShellEvent = WatchedEvent | { type: string; path: string };

const hex = (n: number) => `0x${n.toString(16)}`;
const pad = (n: number) => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A time as Java's `Date.toString()` prints it (`Fri Dec 04 21:50:00 UTC 2026`), which is what
 * zkCli shows. Always in UTC: Java uses the JVM's time zone and its own zone abbreviations, which
 * Node cannot reproduce for every zone (docs/differences.md).
 */
export function zkDate(ms: number): string {
  const d = new Date(ms);
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ${time} UTC ${d.getUTCFullYear()}`;
}

/** Stat in zkCli's layout (`cZxid = 0x…`, `ctime = Fri Dec 04 …`), one field per line. */
export function formatStat(stat: Stat): string[] {
  return [
    `cZxid = ${hex(stat.czxid)}`,
    `ctime = ${zkDate(stat.ctime)}`,
    `mZxid = ${hex(stat.mzxid)}`,
    `mtime = ${zkDate(stat.mtime)}`,
    `pZxid = ${hex(stat.pzxid)}`,
    `cversion = ${stat.cversion}`,
    `dataVersion = ${stat.version}`,
    `aclVersion = ${stat.aversion}`,
    `ephemeralOwner = ${hex(stat.ephemeralOwner)}`,
    `dataLength = ${stat.dataLength}`,
    `numChildren = ${stat.numChildren}`,
  ];
}

/** A list as zkCli prints it (Java's `List.toString()`): `[a, b]`, `[]` when empty. */
export const formatList = (items: readonly string[]): string => `[${items.join(', ')}]`;

/**
 * A watch event as ZooKeeper's `WatchedEvent.toString()` prints it:
 * `WatchedEvent state:SyncConnected type:NodeDataChanged path:/a`. Events reach the shell only
 * while its session is connected, hence the state.
 */
export function formatEvent(event: ShellEvent): string {
  return `WatchedEvent state:SyncConnected type:${event.type} path:${event.path}`;
}

/** The lines zkCli prints for a watch event: a blank line, `WATCHER::`, a blank line, the event. */
export function eventBlock(event: ShellEvent): string[] {
  return ['', 'WATCHER::', '', formatEvent(event)];
}

/** zkCli's sentence for the errors it words itself (its CliWrapperException); the rest use the code's. */
const SENTENCES: Partial<Record<FaaSKeeperError['code'], string>> = {
  NONODE: 'Node does not exist: ',
  NOCHILDRENFOREPHEMERALS: 'Ephemerals cannot have children: ',
  NODEEXISTS: 'Node already exists: ',
  NOTEMPTY: 'Node not empty: ',
  NOTREADONLY: 'Not a read-only call: ',
  INVALIDACL: 'Acl is not valid : ',
  NOAUTH: 'Insufficient permission : ',
  BADARGUMENTS: 'Arguments are not valid : ',
  BADVERSION: 'version No is not valid : ',
};

/** ZooKeeper's `KeeperException.getCodeMessage`, for `KeeperErrorCode = <message> for <path>`. */
const CODE_MESSAGES: Partial<Record<FaaSKeeperError['code'], string>> = {
  SYSTEMERROR: 'SystemError',
  RUNTIMEINCONSISTENCY: 'RuntimeInconsistency',
  DATAINCONSISTENCY: 'DataInconsistency',
  CONNECTIONLOSS: 'ConnectionLoss',
  MARSHALLINGERROR: 'MarshallingError',
  UNIMPLEMENTED: 'Unimplemented',
  OPERATIONTIMEOUT: 'OperationTimeout',
  APIERROR: 'APIError',
  AUTHFAILED: 'AuthFailed',
  SESSIONEXPIRED: 'Session expired',
  INVALIDCALLBACK: 'Invalid callback',
  SESSIONMOVED: 'Session moved',
  EPHEMERALONLOCALSESSION: 'Ephemeral node on local session',
  NOWATCHER: 'No such watcher',
  REQUESTTIMEOUT: 'Request timeout',
};

/**
 * An error as zkCli prints it: `Node does not exist: /a`, `version No is not valid : /a`, or
 * `KeeperErrorCode = No such watcher for /a`. `path` is the node the command named: zkCli names
 * it, not the node the error is about (`create /a/b` without `/a` is `Node does not exist: /a/b`);
 * the error's own path serves when the command named none. A BADARGUMENTS error adds why in parentheses (zkCli's client would not send
 * such a request at all, or loses its connection over it: docs/differences.md).
 */
export function zkErrorText(error: FaaSKeeperError, path: string | undefined): string {
  const where = path ?? error.path;
  const sentence = SENTENCES[error.code];
  if (sentence !== undefined) {
    const text = `${sentence}${where ?? ''}`;
    if (error.code !== 'BADARGUMENTS') return text;
    // The message may start with the code and end with the path; the sentence has both already.
    let detail = error.message.replace(/^BADARGUMENTS:\s*/, '');
    if (where !== undefined && detail.endsWith(`: ${where}`)) detail = detail.slice(0, -where.length - 2);
    return detail === '' || detail === where ? text : `${text} (${detail})`;
  }
  const message = CODE_MESSAGES[error.code] ?? error.code;
  return `KeeperErrorCode = ${message}${where === undefined ? '' : ` for ${where}`}`;
}
