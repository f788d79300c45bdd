/**
 * The same script through Apache ZooKeeper's `zkCli.sh` (Debian's 3.8) against Apache ZooKeeper, and
 * through `faaskeeper shell` on the embedded deployment: the outputs must be equal line by line after
 * normalising only what docs/differences.md lists (zxid numbering, session ids, times, the version
 * text, zkCli's start-up banner and its connection events).
 */
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keepTranscript, lineDiff } from '../../gateway/test/support/normalise.js';
import { describeWithPeers, missingPeers } from '../../gateway/test/support/peers.js';
import { startReferenceZooKeeper } from '../../gateway/test/support/servers.js';
import { normaliseZkCli, runZkCli, type ZkCliTranscript } from '../../gateway/test/support/zkcli.js';
import { ExitCode, main } from '../src/index.js';

const missing = missingPeers(['zookeeper', 'zkcli']);
const describeIfPeers = describeWithPeers(missing, 'the zkCli.sh comparison of the shell');

const SCRIPT = readFileSync(new URL('./zkcli/compare.zk', import.meta.url), 'utf8');

/**
 * Java's `Date.toString()`, the format zkCli prints ctime and mtime in: in the JVM's time zone
 * for zkCli, always in UTC for the shell (docs/differences.md).
 */
const javaDate = (zone: string) =>
  new RegExp(
    `^[cm]time = (Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} \\d{2} \\d{2}:\\d{2}:\\d{2} ${zone} \\d{4}$`,
  );

/** zkCli's start-up lines, which `faaskeeper shell` reading a script does not print. */
const BANNER = new Set(['Connecting to <server>', 'Welcome to ZooKeeper!', 'JLine support is disabled']);

interface Transcript extends ZkCliTranscript {
  /** The ctime/mtime lines as printed, before normalising. */
  dates: string[];
}

/**
 * {@link normaliseZkCli}, then what docs/differences.md lists beyond it: the banner, the version
 * text, and the connection events (`type:None`) zkCli's default watcher prints.
 */
function normalise(output: string): Transcript {
  const { lines, events } = normaliseZkCli(output);
  return {
    lines: lines
      .filter((line) => !BANNER.has(line))
      .map((line) => line.replace(/^ZooKeeper CLI version: .*/, 'ZooKeeper CLI version: <version>')),
    events: events.filter((event) => !event.includes(' type:None ')),
    dates: output.split('\n').filter((line) => /^[cm]time = /.test(line)),
  };
}

/** Runs `faaskeeper shell` with `script` on stdin; stdout and stderr in one text, in order. */
async function runFaaSKeeperShell(script: string): Promise<{ output: string; code: ExitCode }> {
  const combined = new PassThrough();
  let output = '';
  combined.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const code = await main(['shell'], {
    input: Readable.from([script]),
    output: combined,
    errorOutput: combined,
  });
  return { output, code };
}

let reference: Transcript;
let referenceCode: number | null;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  if (missing !== undefined) return;
  const zookeeper = await startReferenceZooKeeper();
  close = zookeeper.close;
  const run = await runZkCli(zookeeper.connectString, SCRIPT);
  keepTranscript('shell-compare.zookeeper.txt', run.output);
  reference = normalise(run.output);
  referenceCode = run.code;
}, 90_000);

afterAll(async () => {
  await close?.();
});

describeIfPeers('faaskeeper shell against zkCli.sh on Apache ZooKeeper', () => {
  let actual: Transcript;
  let code: ExitCode;

  beforeAll(async () => {
    const run = await runFaaSKeeperShell(SCRIPT);
    keepTranscript('shell-compare.faaskeeper.txt', run.output);
    actual = normalise(run.output);
    code = run.code;
  });

  it('the reference ran the whole script and printed what the script is meant to show', () => {
    const text = reference.lines.join('\n');
    for (const expected of [
      'Node already exists: /cmp/a',
      'Node does not exist: /cmp/missing/x',
      'null',
      '[a, empty]',
      'version No is not valid : /cmp/a',
      'Ephemerals cannot have children: /cmp/eph/child',
      'KeeperErrorCode = No such watcher for /cmp/b',
      "'world,'anyone\n: cdrwa",
      "'digest,'bob:ikIaKsbtGweaHnb/jKn7OHqbunM=\n: cdrwa\n'world,'anyone\n: r",
      'Acl is not valid : /acl2',
      'Insufficient permission : /acl1',
      '/cmp/tree\n/cmp/tree/x\n/cmp/tree/y\n/cmp/tree/x/z',
      '[config, quota]',
      'Sync is OK',
      'printwatches is off',
      'ZooKeeper CLI version: <version>',
    ])
      expect(text).toContain(expected);
    expect(reference.events.length).toBeGreaterThan(5);
  });

  it('prints the same output as zkCli.sh on Apache ZooKeeper, line by line', () => {
    // lineDiff labels the second side "gateway" (its first user); here it is the shell.
    const diff = lineDiff(reference.lines, actual.lines).map((d) =>
      d.replace('\n  gateway:   ', '\n  shell:     '),
    );
    expect(diff, diff.join('\n')).toEqual([]);
  });

  it('prints the same watch events, in WATCHER:: blocks, in the same order', () => {
    expect(actual.events).toEqual(reference.events);
    expect(actual.events.length).toBeGreaterThan(5);
  });

  it('prints ctime and mtime in the date format of zkCli', () => {
    expect(actual.dates.length).toBeGreaterThan(5);
    for (const line of reference.dates) expect(line).toMatch(javaDate('\\S+'));
    for (const line of actual.dates) expect(line).toMatch(javaDate('UTC'));
  });

  it('ends with exit code 1 because commands failed, where zkCli.sh ends with the last command', () => {
    // zkCli.sh exits with the outcome of its last command (quit: 0); the shell with the worst.
    expect(referenceCode).toBe(0);
    expect(code).toBe(ExitCode.FAILED);
  });
});
