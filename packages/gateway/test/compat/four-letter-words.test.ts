/**
 * Four-letter words (`ruok`, `isro`, `srvr`, `stat`, `mntr`, `conf`), the commands monitoring tools and
 * health checks send instead of a session handshake, against a real ZooKeeper (whitelist opened by the
 * launcher's `fourLetterWords` option) and against the gateway. Exact answers where ZooKeeper's answer is
 * fixed (`imok`, `rw`); otherwise the same shape: the same keys, numbers where ZooKeeper has numbers.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPeers, missingPeers } from '../support/peers.js';
import { type RunningServer, startReferenceZooKeeper, startTestGateway } from '../support/servers.js';

const missing = missingPeers(['zookeeper']);
const describeIfPeers = describeWithPeers(missing, 'the four-letter-word tests');

const WORDS = ['ruok', 'isro', 'srvr', 'stat', 'mntr', 'conf'] as const;
type Word = (typeof WORDS)[number];

/** Sends a four-letter word and reads until the server closes the connection. */
function ask(connectString: string, word: Word): Promise<string> {
  const [host, port] = connectString.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host ?? '127.0.0.1', port: Number(port) });
    let answer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${word} within 5 s`)));
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(answer));
    socket.once('connect', () => socket.write(word));
  });
}

async function askAll(connectString: string): Promise<Record<Word, string>> {
  const answers: Partial<Record<Word, string>> = {};
  for (const word of WORDS) answers[word] = await ask(connectString, word);
  return answers as Record<Word, string>;
}

/**
 * Lines of the form `key<separator>value` as a map (srvr/stat use `: `, mntr a tab, conf `=`); other
 * lines are ignored.
 */
function keyValues(text: string, separator: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(separator);
    if (at > 0) pairs.set(line.slice(0, at), line.slice(at + separator.length).trim());
  }
  return pairs;
}
const colonPairs = (text: string) => keyValues(text, ': ');

/** The srvr/stat keys every ZooKeeper prints and tools parse. */
const SRVR_KEYS = [
  'Zookeeper version',
  'Latency min/avg/max',
  'Received',
  'Sent',
  'Connections',
  'Outstanding',
  'Zxid',
  'Mode',
  'Node count',
];
/** The mntr keys monitoring integrations (Prometheus exporters, Datadog, Nagios checks) read. */
const MNTR_KEYS = [
  'zk_version',
  'zk_avg_latency',
  'zk_max_latency',
  'zk_min_latency',
  'zk_packets_received',
  'zk_packets_sent',
  'zk_num_alive_connections',
  'zk_outstanding_requests',
  'zk_server_state',
  'zk_znode_count',
  'zk_watch_count',
  'zk_ephemerals_count',
  'zk_approximate_data_size',
];
const CONF_KEYS = ['clientPort', 'tickTime', 'maxClientCnxns', 'minSessionTimeout', 'maxSessionTimeout'];

const isNumber = (v: string | undefined) => v !== undefined && /^-?\d+(\.\d+)?$/.test(v);

let zookeeper: RunningServer | undefined;
let reference: Record<Word, string>;

beforeAll(async () => {
  if (missing !== undefined) return;
  zookeeper = await startReferenceZooKeeper({ fourLetterWords: [...WORDS] });
  reference = await askAll(zookeeper.connectString);
}, 60_000);

afterAll(async () => {
  await zookeeper?.close();
});

/** The assertions both servers must pass; `port` is the server's client port. */
function assertAnswers(answers: Record<Word, string>, port: string): void {
  expect(answers.ruok).toBe('imok');
  expect(answers.isro).toBe('rw');
  for (const word of ['srvr', 'stat'] as const) {
    const pairs = colonPairs(answers[word]);
    for (const key of SRVR_KEYS) expect(pairs.has(key), `${word}: ${key}`).toBe(true);
    expect(pairs.get('Mode')).toBe('standalone');
    expect(pairs.get('Zxid')).toMatch(/^0x[0-9a-f]+$/);
    expect(isNumber(pairs.get('Node count'))).toBe(true);
    expect(pairs.get('Latency min/avg/max')).toMatch(/^\d+(\.\d+)?\/\d+(\.\d+)?\/\d+(\.\d+)?$/);
  }
  // stat also lists the connected clients (this one, at least).
  expect(answers.stat).toMatch(/Clients:\n\s+\/127\.0\.0\.1:\d+\[/);
  const mntr = keyValues(answers.mntr, '\t');
  for (const key of MNTR_KEYS) expect(mntr.has(key), `mntr: ${key}`).toBe(true);
  expect(mntr.get('zk_server_state')).toBe('standalone');
  for (const key of MNTR_KEYS.filter((k) => k !== 'zk_version' && k !== 'zk_server_state')) {
    expect(isNumber(mntr.get(key)), `mntr ${key}=${mntr.get(key)}`).toBe(true);
  }
  const conf = keyValues(answers.conf, '=');
  for (const key of CONF_KEYS) expect(conf.has(key), `conf: ${key}`).toBe(true);
  expect(conf.get('clientPort')).toBe(port);
}

describeIfPeers('four-letter words on Apache ZooKeeper (the reference)', () => {
  it('answers ruok/isro exactly and srvr/stat/mntr/conf with the keys tools read', () => {
    assertAnswers(reference, zookeeper?.connectString.split(':')[1] ?? '');
  });
});

describeIfPeers('four-letter words on the gateway', () => {
  let gateway: RunningServer | undefined;
  let answers: Record<Word, string>;

  beforeAll(async () => {
    gateway = await startTestGateway();
    answers = await askAll(gateway.connectString);
  }, 30_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('answers ruok/isro exactly and srvr/stat/mntr/conf with the keys tools read', () => {
    assertAnswers(answers, gateway?.connectString.split(':')[1] ?? '');
  });

  it('prints the srvr and stat keys in ZooKeeper’s order', () => {
    for (const word of ['srvr', 'stat'] as const) {
      const keys = (text: string) => [...colonPairs(text).keys()].filter((k) => SRVR_KEYS.includes(k));
      expect(keys(answers[word])).toEqual(keys(reference[word]));
    }
  });
});
