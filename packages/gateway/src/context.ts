import { rootStat, type Stat } from '@faaskeeper/core';
import type { JStat } from './jute/records.js';
import type { GatewaySession } from './session.js';

/** An authenticated identity of a connection (ZooKeeper's Id). */
export interface AuthId {
  scheme: string;
  id: string;
}

/** What an operation sees of its connection. */
export interface OpContext {
  session: GatewaySession;
  /** The client's IP address. */
  address: string;
  /** The connection's auth ids: `ip:<address>` and whatever auth packets added. */
  authIds: AuthId[];
  /** Sends a watch notification now (setWatches fires some at once). */
  notify(type: number, path: string): void;
}

/** An operation's answer. `close` closes the connection after the reply, with this reason. */
export interface Reply {
  err: number;
  body?: Uint8Array;
  close?: string;
}

/** A core Stat as jute's (zxids and times are longs). */
export function toJStat(s: Stat): JStat {
  return {
    czxid: BigInt(s.czxid),
    mzxid: BigInt(s.mzxid),
    ctime: BigInt(s.ctime),
    mtime: BigInt(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: BigInt(s.ephemeralOwner),
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: BigInt(s.pzxid),
  };
}

/** A Stat of zeros, for a node gone before its stat could be read. */
export const ZERO_STAT: JStat = toJStat(rootStat());
