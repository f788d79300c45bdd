/**
 * kazoo (Debian's python3-kazoo, the Python client ClickHouse Keeper is tested with) runs its recipes
 * with real contention — four KazooClient sessions, one thread each — against a real ZooKeeper and
 * against the gateway. The recipes' guarantees are asserted on both; the parts of the results that
 * do not depend on thread timing must be equal.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertGuarantees, deterministic, type Results, runRecipes } from '../support/kazoo.js';
import { describeWithPeers, missingPeers } from '../support/peers.js';
import { type RunningServer, startReferenceZooKeeper, startTestGateway } from '../support/servers.js';

const missing = missingPeers(['zookeeper', 'kazoo']);
const describeIfPeers = describeWithPeers(missing, 'the kazoo compatibility tests');

let zookeeper: RunningServer | undefined;
let reference: Results;

beforeAll(async () => {
  if (missing !== undefined) return;
  zookeeper = await startReferenceZooKeeper();
  reference = await runRecipes(zookeeper.connectString, '/kazoo', 'zookeeper');
}, 120_000);

afterAll(async () => {
  await zookeeper?.close();
});

describeIfPeers('kazoo recipes on Apache ZooKeeper (the reference)', () => {
  it('keep their guarantees: mutual exclusion, one leader, exact counter, queue order, membership, watches', () => {
    assertGuarantees(reference);
  });
});

describeIfPeers('kazoo recipes on the gateway', () => {
  let gateway: RunningServer | undefined;
  let results: Results;

  beforeAll(async () => {
    gateway = await startTestGateway();
    results = await runRecipes(gateway.connectString, '/kazoo', 'gateway');
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
  });

  it('keep their guarantees: mutual exclusion, one leader, exact counter, queue order, membership, watches', () => {
    assertGuarantees(results);
  });

  it('give the same results as on ZooKeeper wherever they do not depend on thread timing', () => {
    expect(deterministic(results)).toEqual(deterministic(reference));
  });
});
