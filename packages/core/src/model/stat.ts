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
