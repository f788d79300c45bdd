/**
 * Runs Debian's `zkCli.sh` (Apache ZooKeeper's own shell, `org.apache.zookeeper.ZooKeeperMain`) with a
 * script on stdin, and normalises what it prints so two servers' sessions compare line by line.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ranks } from './normalise.js';

/** Debian's zkCli.sh. */
export const ZKCLI = process.env.ZKCLI ?? '/usr/share/zookeeper/bin/zkCli.sh';

/**
 * Runs `zkCli.sh -server <connectString>` with `script` on stdin; stdout and stderr go to one file so
 * errors ("Node does not exist: …") stay in order with results. Killed by its PID after `timeoutMs`.
 */
export function runZkCli(
  connectString: string,
  script: string,
  timeoutMs = 60_000,
): Promise<{ output: string; code: number | null }> {
  const dir = mkdtempSync(join(tmpdir(), 'faaskeeper-zkcli-'));
  const outFile = join(dir, 'out.txt');
  const fd = openSync(outFile, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(ZKCLI, ['-server', connectString], {
      stdio: ['pipe', fd, fd],
      env: {
        ...process.env,
        // The shell's own log goes to a throw-away directory, not /var/log/zookeeper.
        ZOO_LOG_DIR: dir,
        CLIENT_JVMFLAGS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC',
      },
    });
    closeSync(fd);
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      const output = readFileSync(outFile, 'utf8');
      rmSync(dir, { recursive: true, force: true });
      resolve({ output, code });
    });
    // stdin is a pipe (stdio[0]), so it exists; the check is for the type only.
    if (child.stdin === null) throw new Error('zkCli.sh has no stdin pipe');
    child.stdin.end(script);
  });
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
