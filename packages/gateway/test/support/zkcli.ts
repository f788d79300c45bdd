/**
 * Runs Debian's `zkCli.sh` (Apache ZooKeeper's own shell, `org.apache.zookeeper.ZooKeeperMain`) with a
 * script on stdin, and normalises what it prints so two servers' sessions compare line by line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ranks } from './normalise.js';
import { runProcess } from './process.js';

/** Debian's zkCli.sh. */
export const ZKCLI = process.env.ZKCLI ?? '/usr/share/zookeeper/bin/zkCli.sh';

/**
 * Runs `zkCli.sh -server <connectString>` with `script` on stdin; stdout and stderr go to one file so
 * errors ("Node does not exist: …") stay in order with results. Killed by its PID after `timeoutMs`.
 */
export async function runZkCli(
  connectString: string,
  script: string,
  timeoutMs = 60_000,
): Promise<{ output: string; code: number | null }> {
  const logDir = mkdtempSync(join(tmpdir(), 'faaskeeper-zkcli-'));
  try {
    const run = await runProcess(ZKCLI, ['-server', connectString], {
      stdin: script,
      timeoutMs,
      combineOutput: true,
      env: {
        ...process.env,
        // The shell's own log goes to a throw-away directory, not /var/log/zookeeper.
        ZOO_LOG_DIR: logDir,
        CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
      },
    });
    return { output: run.stdout, code: run.code };
  } finally {
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** A zkCli session split into the commands' output and the watch events the shell printed. */
export interface ZkCliTranscript {
  /** Command output, normalised, in order. */
  lines: string[];
  /** `WatchedEvent …` lines in the order the shell printed them (one event thread: deterministic). */
  events: string[];
}

/**
 * Normalises zkCli output: drops the JVM's logging (SLF4J lines), the port in "Connecting to", and the
 * `WATCHER::` banners (events are printed by another thread, so their position among command outputs is
 * a race: they are returned apart); maps zxids to their rank of first appearance, non-zero ephemeral
 * owners to session indices, replaces dates, and sorts bracketed lists whose order ZooKeeper does not
 * define (getEphemerals comes from a hash set).
 */
export function normaliseZkCli(output: string): ZkCliTranscript {
  const zxids = new Ranks('Z');
  const sessions = new Ranks('S');
  const lines: string[] = [];
  const events: string[] = [];
  for (const raw of output.split('\n')) {
    const line = raw.trimEnd();
    if (line === '' || line === 'WATCHER::' || line.startsWith('SLF4J:')) continue;
    if (line.startsWith('WatchedEvent ')) {
      events.push(line);
      continue;
    }
    const normalised = line
      .replace(/^Connecting to .*/, 'Connecting to <server>')
      .replace(/^([cmp]Zxid) = (0x[0-9a-f]+)$/, (_m, field: string, z: string) => `${field} = ${zxids.of(z)}`)
      .replace(/^([cm]time) = .*$/, '$1 = <time>')
      .replace(/^ephemeralOwner = (0x[0-9a-f]+)$/, (_m, owner: string) =>
        owner === '0x0' ? 'ephemeralOwner = none' : `ephemeralOwner = ${sessions.of(owner)}`,
      )
      .replace(/^\[(\/.*)\]$/, (_m, list: string) => `[${list.split(', ').sort().join(', ')}]`);
    lines.push(normalised);
  }
  return { lines, events };
}
