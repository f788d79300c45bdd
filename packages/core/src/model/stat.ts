/**
 * A node's metadata, field for field ZooKeeper's `Stat`. All zxids are safe integers; times are
 * milliseconds since the epoch; `ephemeralOwner` is the owning session's id, or 0.
 */
export interface Stat {
  czxid: number;
  mzxid: number;
  pzxid: number;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  ephemeralOwner: number;
  dataLength: number;
  numChildren: number;
}

/** The Stat of the root before any write. */
export function rootStat(): Stat {
  return {
    czxid: 0,
    mzxid: 0,
    pzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0,
    dataLength: 0,
    numChildren: 0,
  };
}

/**
 * A copy of `s` with its write fields replaced, every field written out: a spread with changed
 * fields takes V8's slow path, and a write makes several Stats.
 */
function statWith(s: Stat, mzxid: number, mtime: number, version: number, dataLength: number): Stat {
  return {
    czxid: s.czxid,
    mzxid,
    pzxid: s.pzxid,
    ctime: s.ctime,
    mtime,
    version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    dataLength,
    numChildren: s.numChildren,
  };
}

/** `s` after a setData at `mzxid`, `mtime` of `dataLength` bytes. */
export const statAfterWrite = (s: Stat, mzxid: number, mtime: number, dataLength: number): Stat =>
  statWith(s, mzxid, mtime, s.version + 1, dataLength);

/** A copy of `s`, field for field. */
export const copyStat = (s: Stat): Stat => statWith(s, s.mzxid, s.mtime, s.version, s.dataLength);
