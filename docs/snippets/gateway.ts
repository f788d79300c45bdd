/**
 * docs/gateway.md's sample: a gateway in a test, on a free port, serving a fresh embedded
 * deployment. `run()` starts it, asks it `ruok` as a monitor would, and stops it;
 * packages/cli/test/docs-snippets.test.ts calls it.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
// #region imports
import { startGateway } from '@faaskeeper/gateway';

// #endregion imports

/** ZooKeeper's four-letter word `word`, answered on a fresh connection to `port`. */
function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let answer = '';
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write(word));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Runs the page's sample. */
export async function run(): Promise<void> {
  // #region start
  const gw = await startGateway({ port: 0, log: () => {} }); // any free port; a fresh embedded deployment
  // ... ZooKeeper clients connect to gw.connectString ('127.0.0.1:<port>') ...
  // #endregion start
  assert.equal(await fourLetterWord(gw.port, 'ruok'), 'imok');
  // #region stop
  await gw.close(); // closes every session (their ephemeral nodes go), then the server
  // #endregion stop
}
