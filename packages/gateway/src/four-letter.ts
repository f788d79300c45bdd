/** The four-letter words, answered in ZooKeeper's text formats (StatCommand, MonitorCommand, ...). */
import type { FourLetterWord } from './codes.js';

/** What the words report. */
export interface ServerFacts {
  version: string;
  host: string;
  port: number;
  connections: { remote: string; queued: number; received: number; sent: number }[];
  received: number;
  sent: number;
  outstanding: number;
  zxid: number;
  nodeCount: () => Promise<number>;
  watchCount: number;
  ephemeralsCount: number;
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  maxClientCnxns: number;
}

/** ZooKeeper's answer to a word; words not served here get its "not in the whitelist" line. */
export async function answerWord(word: FourLetterWord, f: ServerFacts): Promise<string> {
  switch (word) {
    case 'ruok':
      return 'imok';
    case 'isro':
      return 'rw';
    case 'srvr':
    case 'stat': {
      const lines = [`Zookeeper version: ${f.version}`];
      if (word === 'stat') {
        lines.push('Clients:');
        for (const c of f.connections)
          lines.push(
            // ZooKeeper's brief connection line (ServerCnxn.dumpConnectionInfo with brief = true).
            ` /${c.remote}[1](queued=${c.queued},recved=${c.received},sent=${c.sent})`,
          );
        lines.push('');
      }
      lines.push(
        'Latency min/avg/max: 0/0.0/0',
        `Received: ${f.received}`,
        `Sent: ${f.sent}`,
        `Connections: ${f.connections.length}`,
        `Outstanding: ${f.outstanding}`,
        `Zxid: 0x${f.zxid.toString(16)}`,
        'Mode: standalone',
        `Node count: ${await f.nodeCount()}`,
      );
      return `${lines.join('\n')}\n`;
    }
    case 'mntr': {
      const rows: [string, string | number][] = [
        ['zk_version', f.version],
        ['zk_server_state', 'standalone'],
        ['zk_avg_latency', '0.0'],
        ['zk_max_latency', 0],
        ['zk_min_latency', 0],
        ['zk_packets_received', f.received],
        ['zk_packets_sent', f.sent],
        ['zk_num_alive_connections', f.connections.length],
        ['zk_outstanding_requests', f.outstanding],
        ['zk_znode_count', await f.nodeCount()],
        ['zk_watch_count', f.watchCount],
        ['zk_ephemerals_count', f.ephemeralsCount],
        ['zk_approximate_data_size', 0],
        ['zk_open_file_descriptor_count', 0],
        ['zk_max_file_descriptor_count', 0],
      ];
      return rows.map(([k, v]) => `${k}\t${v}\n`).join('');
    }
    case 'conf':
      return [
        `clientPort=${f.port}`,
        `clientPortAddress=${f.host}`,
        'tickTime=2000',
        `maxClientCnxns=${f.maxClientCnxns}`,
        `minSessionTimeout=${f.minSessionTimeoutMs}`,
        `maxSessionTimeout=${f.maxSessionTimeoutMs}`,
        'serverId=0',
        '',
      ].join('\n');
    default:
      return `${word} is not executed because it is not in the whitelist.\n`;
  }
}
