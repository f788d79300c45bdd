import { rootStat, type Stat } from '@faaskeeper/core';
import { Err } from './codes.js';
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
  /**
   * Runs `step` right after the reply of the request whose operation is starting is written.
   * Only in the synchronous start of an operation (ops.ts); false (nothing attached) otherwise.
   */
  afterReply(step: () => void): boolean;
}

/** An operation's answer. `close` closes the connection after the reply, with this reason. */
export interface Reply {
  err: number;
  body?: Uint8Array;
  /**
   * Instead of `body`, for the hot paths (getData, setData, exists): the whole reply frame, its
   * first {@link REPLY_HEADER_BYTES} bytes left for the connection to fill in (length, xid, zxid,
   * err), so that the body is not copied into a second buffer. Only with `err` OK.
   */
  frame?: Buffer;
  close?: string;
}

/** A reply frame's length prefix and ReplyHeader (xid, zxid, err). */
export const REPLY_HEADER_BYTES = 20;

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

/** Bytes of jute's Stat record: 6 longs and 5 ints. */
const STAT_BYTES = 68;

/**
 * Writes `v` as a jute long at `at`: two 32-bit words, with no BigInt made (six a Stat, on the
 * hot path of every write's reply). Zxids, times and session ids are safe integers; anything else
 * takes the BigInt path, which wraps it to 64 bits as before.
 */
export function writeLong(out: Buffer, v: number, at: number): void {
  if (!Number.isSafeInteger(v)) {
    out.writeBigInt64BE(BigInt.asIntN(64, BigInt(v)), at);
    return;
  }
  const high = Math.floor(v / 0x1_0000_0000);
  out.writeInt32BE(high, at);
  out.writeUInt32BE(v - high * 0x1_0000_0000, at + 4);
}

/** Writes `s` as jute's Stat record at `at` (ints wrap to 32 bits, as JuteWriter writes them). */
function writeStat(out: Buffer, at: number, s: Stat): void {
  writeLong(out, s.czxid, at);
  writeLong(out, s.mzxid, at + 8);
  writeLong(out, s.ctime, at + 16);
  writeLong(out, s.mtime, at + 24);
  out.writeInt32BE(s.version | 0, at + 32);
  out.writeInt32BE(s.cversion | 0, at + 36);
  out.writeInt32BE(s.aversion | 0, at + 40);
  writeLong(out, s.ephemeralOwner, at + 44);
  out.writeInt32BE(s.dataLength | 0, at + 52);
  out.writeInt32BE(s.numChildren | 0, at + 56);
  writeLong(out, s.pzxid, at + 60);
}

/**
 * A successful reply whose body is a StatResponse (the hot path of setData and exists), as a frame
 * ({@link Reply.frame}): the bytes `encode(StatResponse, { stat: toJStat(s) })` makes, after the header's room.
 */
export function statReply(s: Stat): Reply {
  const frame = Buffer.allocUnsafe(REPLY_HEADER_BYTES + STAT_BYTES);
  writeStat(frame, REPLY_HEADER_BYTES, s);
  return { err: Err.OK, frame };
}

/**
 * A successful getData reply (the data, -1 for null, then the Stat: the bytes
 * `encode(GetDataResponse, ...)` makes), as a frame ({@link Reply.frame}).
 */
export function getDataReply(data: Uint8Array | null, s: Stat): Reply {
  const n = data === null ? 0 : data.byteLength;
  const frame = Buffer.allocUnsafe(REPLY_HEADER_BYTES + 4 + n + STAT_BYTES);
  writeGetDataResponse(frame, REPLY_HEADER_BYTES, data, s);
  return { err: Err.OK, frame };
}

function writeGetDataResponse(out: Buffer, at: number, data: Uint8Array | null, s: Stat): void {
  const n = data === null ? 0 : data.byteLength;
  out.writeInt32BE(data === null ? -1 : n, at);
  if (data !== null) out.set(data, at + 4);
  writeStat(out, at + 4 + n, s);
}

/** A Stat of zeros, for a node gone before its stat could be read. */
export const ZERO_STAT: JStat = toJStat(rootStat());
