/**
 * Apache ZooKeeper's own Java client (3.8, the one Curator, Kafka and HBase use) runs one scenario over
 * every 3.5–3.9 operation against a real ZooKeeper and against the gateway; the normalised transcripts
 * must be equal line by line. ZooKeeper's transcript is also checked on its own, so the reference run
 * proves what the comparison relies on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type CompiledJava, compileJava, type JavaRun, runJava } from '../support/java-client.js';
import { keepTranscript, lineDiff, normaliseTagged } from '../support/normalise.js';
import { describeWithPeers, missingPeers } from '../support/peers.js';
import { type RunningServer, startReferenceZooKeeper, startTestGateway } from '../support/servers.js';

const missing = missingPeers(['zookeeper', 'javac']);
const describeIfPeers = describeWithPeers(missing, 'the Java client compatibility tests');

let compiled: CompiledJava;
let zookeeper: RunningServer | undefined;
let reference: JavaRun;
let expected: string[];

beforeAll(async () => {
  if (missing !== undefined) return;
  compiled = compileJava(['ZkCompat.java', 'CutProxy.java']);
  zookeeper = await startReferenceZooKeeper();
  reference = await runJava(compiled, 'ZkCompat', ['scenario', zookeeper.connectString]);
  expected = normaliseTagged(reference.stdout);
  keepTranscript('java-scenario.zookeeper.txt', `${reference.stdout}\n--- stderr ---\n${reference.stderr}`);
}, 90_000);

afterAll(async () => {
  await zookeeper?.close();
});

/** The line of `transcript` that starts with `prefix`. */
function lineOf(transcript: readonly string[], prefix: string): string {
  const found = transcript.find((l) => l.startsWith(prefix));
  expect(found, `no line starting with '${prefix}'`).toBeDefined();
  return found ?? '';
}

describeIfPeers('Java client scenario on Apache ZooKeeper (the reference)', () => {
  it('runs to the end without a client-side failure', () => {
    expect(reference.stderr).not.toMatch(/FATAL|Exception in thread/);
    expect(expected.some((l) => l.startsWith('FATAL'))).toBe(false);
    expect(reference.code).toBe(0);
  });

  it('creates in every mode, hides container/TTL owners and names sequential nodes by creations, not cversion', () => {
    expect(lineOf(expected, 'create /compat PERSISTENT')).toBe('create /compat PERSISTENT -> /compat');
    expect(lineOf(expected, 'create /compat again')).toBe('create /compat again -> err=NODEEXISTS');
    expect(lineOf(expected, 'create /missing/child')).toBe('create /missing/child -> err=NONODE');
    expect(lineOf(expected, 'create /compat/e/child')).toContain('err=NOCHILDRENFOREPHEMERALS');
    expect(expected.filter((l) => l.startsWith('create /compat/p/seq- PERSISTENT_SEQUENTIAL'))).toEqual([
      'create /compat/p/seq- PERSISTENT_SEQUENTIAL -> /compat/p/seq-0000000000',
      'create /compat/p/seq- PERSISTENT_SEQUENTIAL -> /compat/p/seq-0000000001',
      'create /compat/p/seq- PERSISTENT_SEQUENTIAL -> /compat/p/seq-0000000002',
    ]);
    expect(lineOf(expected, 'create2 /compat/e EPHEMERAL')).toContain('owner=S0');
    // ZooKeeper keeps a container/TTL marker in the stored ephemeralOwner but shows clients 0.
    expect(lineOf(expected, 'create2 /compat/c CONTAINER')).toContain('owner=none');
    expect(lineOf(expected, 'exists /compat/ttl')).toContain('owner=none');
    // Three sequential creates and a create+delete of another child: cversion is 5, yet the next
    // suffix is 4 (ZooKeeper's suffix counts creations under the parent; a delete bumps only cversion).
    expect(lineOf(expected, 'exists /compat/q before')).toContain('cversion=5');
    expect(lineOf(expected, 'create /compat/q/n- PERSISTENT_SEQUENTIAL (4th)')).toMatch(
      /-> \/compat\/q\/n-0000000004$/,
    );
    expect(lineOf(expected, 'exists /compat/q after')).toContain('cversion=6');
  });

  it('keeps null data apart from empty data (a -1 length on the wire, not 0)', () => {
    expect(lineOf(expected, 'getData /compat/nulldata')).toBe('getData /compat/nulldata -> null');
    expect(lineOf(expected, 'getData /compat/empty ->')).toBe("getData /compat/empty -> ''");
    expect(lineOf(expected, 'getData /compat/empty after setData null')).toMatch(/-> null$/);
  });

  it('fires one-shot and persistent watches, and multi rolls back with per-op results', () => {
    const text = expected.join('\n');
    expect(text).toContain('B setData /compat/p -> ');
    expect(text).toMatch(/B setData \/compat\/p -> [^\n]*\n {2}A event NodeDataChanged \/compat\/p\n/);
    expect(text).toMatch(
      /B create \/compat\/w -> \/compat\/w\n {2}A event NodeCreated \/compat\/w\n {2}A event NodeChildrenChanged \/compat\n/,
    );
    expect(lineOf(expected, 'A multi rollback (check fails)')).toBe(
      'A multi rollback (check fails) -> err=BADVERSION results=[error(OK), error(OK), error(BADVERSION), error(RUNTIMEINCONSISTENCY)]',
    );
    expect(lineOf(expected, 'exists /compat/r1 after rollback')).toBe(
      'exists /compat/r1 after rollback -> null',
    );
    expect(text).toMatch(
      /B create \/compat\/rw\/a\/b -> \/compat\/rw\/a\/b\n {2}A recursive NodeCreated \/compat\/rw\/a\/b\n/,
    );
    // A persistent (non-recursive) watch sees its node's children change, but not changes below them.
    expect(text).toMatch(
      /B create \/compat\/pw\/a -> \/compat\/pw\/a\n {2}A persistent NodeChildrenChanged \/compat\/pw\nB setData \/compat\/pw\/a [^\n]*\nB setData/,
    );
    expect(text).toMatch(
      /B create \/compat\/rw\/c \(recursive watch removed\) -> \/compat\/rw\/c\nA removeAllWatches/,
    );
  });

  it('re-registers watches on reconnect and fires the missed ones in data, exist, child order; persistent watches do not replay', () => {
    const text = expected.join('\n');
    expect(text).toContain(
      [
        '  R state Disconnected',
        '  R state SyncConnected',
        '  R event NodeDataChanged /compat/rc',
        '  R event NodeCreated /compat/rc-new',
        '  R event NodeChildrenChanged /compat/rc',
        'R reconnected to its session: true',
      ].join('\n'),
    );
    expect(lineOf(expected, 'R exists /compat/rc-eph')).toContain('owner=S');
    expect(text).toMatch(
      /R's persistent watch survived\) -> [^\n]*\n {2}R persistent NodeDataChanged \/compat\/rc2\n/,
    );
  });

  it('lets a second handle resume a session with its id and password, and refuses a wrong password', () => {
    expect(expected).toContain('Wrong password handle expired: true');
    expect(lineOf(expected, 'C connected to A')).toMatch(/^C connected to A's session: true/);
    expect(lineOf(expected, 'C getEphemerals /compat')).toBe(
      'C getEphemerals /compat -> [/compat/e, /compat/p/eseq-0000000003]',
    );
    expect(expected).toContain("A's handle expired after C closed the session: true");
    expect(lineOf(expected, 'B exists /compat/e')).toBe('B exists /compat/e -> null');
  });
});

describeIfPeers('Java client scenario on the gateway', () => {
  let gateway: RunningServer | undefined;
  let run: JavaRun;

  beforeAll(async () => {
    gateway = await startTestGateway();
    run = await runJava(compiled, 'ZkCompat', ['scenario', gateway.connectString]);
    keepTranscript('java-scenario.gateway.txt', `${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }, 90_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('gives the same normalised transcript as Apache ZooKeeper, line by line', () => {
    const actual = normaliseTagged(run.stdout);
    const diff = lineDiff(expected, actual);
    expect(diff, `${diff.join('\n')}\n--- java stderr (tail) ---\n${run.stderr.slice(-2000)}`).toEqual([]);
    expect(run.code).toBe(0);
  });
});
