/**
 * Normalising client transcripts so one taken against Apache ZooKeeper and one taken against the gateway
 * can be compared line by line: values that legitimately differ between two servers (zxid numbering,
 * session ids, wall-clock times) are replaced, everything else is kept.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Maps each distinct value to `<prefix><n>`, n counting from 0 in order of first appearance. */
export class Ranks {
  readonly #seen = new Map<string, string>();
  constructor(readonly prefix: string) {}
  of(value: string): string {
    let name = this.#seen.get(value);
    if (name === undefined) {
      name = `${this.prefix}${this.#seen.size}`;
      this.#seen.set(value, name);
    }
    return name;
  }
}

/**
 * A Stat's ctime and mtime as a relation that does not depend on timing: a node never changed has
 * mtime == ctime exactly (`c=m`); after a change, mtime is only not earlier than ctime (`c<=m`), since a
 * setData in the same millisecond as the create leaves them equal on ZooKeeper too.
 */
export function timeRelation(s: {
  czxid: number | bigint | string;
  mzxid: number | bigint | string;
  ctime: number | Date;
  mtime: number | Date;
}): string {
  const c = Number(s.ctime);
  const m = Number(s.mtime);
  if (String(s.czxid) === String(s.mzxid)) return c === m ? 'c=m' : c < m ? 'c<m' : 'c>m';
  return c <= m ? 'c<=m' : 'c>m';
}

/**
 * Normalises the Java program's transcript: `zxid:0x…` becomes `Z<rank>` and `session:0x…` becomes
 * `S<index>`, both by first appearance. Times are already printed as relations (`times=c=m`).
 */
export function normaliseTagged(transcript: string): string[] {
  const zxids = new Ranks('Z');
  const sessions = new Ranks('S');
  return transcript
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line
        .replace(/zxid:0x[0-9a-f]+/g, (z) => zxids.of(z))
        .replace(/session:0x[0-9a-f]+/g, (s) => sessions.of(s)),
    );
}

/** Lines that differ between `expected` and `actual`, as `#<line> expected | actual`, for a readable failure. */
export function lineDiff(expected: readonly string[], actual: readonly string[], limit = 40): string[] {
  const out: string[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length) && out.length < limit; i++) {
    if (expected[i] !== actual[i]) {
      out.push(`#${i + 1}\n  zookeeper: ${expected[i] ?? '<none>'}\n  gateway:   ${actual[i] ?? '<none>'}`);
    }
  }
  return out;
}

/**
 * Writes `text` to `$ZK_TRANSCRIPT_DIR/<name>` when that variable is set (for reading a transcript by hand
 * after a run); does nothing otherwise.
 */
export function keepTranscript(name: string, text: string): void {
  const dir = process.env.ZK_TRANSCRIPT_DIR;
  if (dir === undefined || dir === '') return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), text);
}
