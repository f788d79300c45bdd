/**
 * A scripted `zkCli.sh` session (Apache ZooKeeper's own shell, Debian's 3.8) against a real ZooKeeper
 * and against the gateway: create in every mode, ls/ls -s/ls -R, get/get -s, set with and without
 * version, stat, delete, deleteall, watches, addWatch/removewatches, getEphemerals, getAllChildrenNumber,
 * whoami, sync and the error messages. The outputs, normalised, must be equal line by line.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keepTranscript, lineDiff } from '../support/normalise.js';
import { describeWithPeers, missingPeers } from '../support/peers.js';
import { type RunningServer, startReferenceZooKeeper, startTestGateway } from '../support/servers.js';
import { normaliseZkCli, runZkCli, type ZkCliTranscript } from '../support/zkcli.js';

const missing = missingPeers(['zookeeper', 'zkcli']);
const describeIfPeers = describeWithPeers(missing, 'the zkCli.sh compatibility tests');

const SCRIPT = readFileSync(new URL('./zkcli/session.zk', import.meta.url), 'utf8');

let zookeeper: RunningServer | undefined;
let reference: ZkCliTranscript;
let referenceCode: number | null;

beforeAll(async () => {
  if (missing !== undefined) return;
  zookeeper = await startReferenceZooKeeper();
  const run = await runZkCli(zookeeper.connectString, SCRIPT);
  keepTranscript('zkcli.zookeeper.txt', run.output);
  reference = normaliseZkCli(run.output);
  referenceCode = run.code;
}, 90_000);

afterAll(async () => {
  await zookeeper?.close();
});

describeIfPeers('zkCli.sh session on Apache ZooKeeper (the reference)', () => {
  it('runs the whole script, printing results, stats and the error messages', () => {
    expect(referenceCode).toBe(0);
    const text = reference.lines.join('\n');
    for (const expected of [
      'Created /cli/a',
      'Node already exists: /cli/a',
      'Node does not exist: /cli/missing/x',
      'version No is not valid : /cli/a',
      'Ephemerals cannot have children: /cli/eph/child',
      'Created /cli/seq-0000000001\nCreated /cli/seq-0000000002\nCreated /cli/seq-0000000003',
      'Created /cli/eseq-0000000005',
      'Node not empty: /cli',
      'ephemeralOwner = S0',
      '[/cli/eph, /cli/eseq-0000000005]',
      'Sync is OK',
      'Node does not exist: /cli/nope',
    ]) {
      expect(text).toContain(expected);
    }
    expect(reference.lines).not.toContain('/cli/tree');
  });

  it('prints the watch events the script sets up, in order', () => {
    expect(reference.events).toEqual([
      'WatchedEvent state:SyncConnected type:None path:null',
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/cli/a',
      'WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/cli',
      'WatchedEvent state:SyncConnected type:NodeCreated path:/cli/newnode',
      'WatchedEvent state:SyncConnected type:NodeCreated path:/cli/b/c',
      'WatchedEvent state:SyncConnected type:NodeDataChanged path:/cli/b/c',
      'WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/cli/b',
      'WatchedEvent state:Closed type:None path:null',
    ]);
  });
});

describeIfPeers('zkCli.sh session on the gateway', () => {
  let gateway: RunningServer | undefined;
  let actual: ZkCliTranscript;
  let code: number | null;

  beforeAll(async () => {
    gateway = await startTestGateway();
    const run = await runZkCli(gateway.connectString, SCRIPT);
    keepTranscript('zkcli.gateway.txt', run.output);
    actual = normaliseZkCli(run.output);
    code = run.code;
  }, 90_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('prints the same output as Apache ZooKeeper, line by line', () => {
    const diff = lineDiff(reference.lines, actual.lines);
    expect(diff, diff.join('\n')).toEqual([]);
    expect(code).toBe(0);
  });

  it('delivers the same watch events in the same order', () => {
    expect(actual.events).toEqual(reference.events);
  });
});
